//! `normalize_device_id(text) -> text`: canonical lower-case UUID for an
//! IDFA/GAID, NULL for the all-zero id and malformed ids.

use datafusion::arrow::datatypes::DataType;
use datafusion::common::Result;
use datafusion::common::types::logical_string;
use datafusion::common::utils::take_function_args;
use datafusion::logical_expr::{
    Coercion, ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDFImpl, Signature,
    TypeSignatureClass, Volatility,
};
use datafusion_macros::user_doc;

use crate::strings::map_strings;

#[user_doc(
    doc_section(label = "Identity Functions"),
    description = "Normalizes an advertising device id (IDFA or GAID) to a lower-case 8-4-4-4-12 UUID. Returns NULL for the all-zero id that devices report when ad tracking is off, for the all-F id, and for anything that is not a UUID.",
    syntax_example = "normalize_device_id(device_id)",
    sql_example = r#"```sql
> select normalize_device_id('{6D92078A-8246-4BA4-AE5B-76104861E7DC}');
6d92078a-8246-4ba4-ae5b-76104861e7dc
```"#,
    standard_argument(name = "device_id", prefix = "String")
)]
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct NormalizeDeviceIdFunc {
    signature: Signature,
}

impl Default for NormalizeDeviceIdFunc {
    fn default() -> Self {
        Self::new()
    }
}

impl NormalizeDeviceIdFunc {
    /// A `normalize_device_id` taking any string type.
    pub fn new() -> Self {
        let s = Coercion::new_exact(TypeSignatureClass::Native(logical_string()));
        Self {
            signature: Signature::coercible(vec![s], Volatility::Immutable),
        }
    }
}

impl ScalarUDFImpl for NormalizeDeviceIdFunc {
    fn name(&self) -> &str {
        "normalize_device_id"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8View)
    }

    fn documentation(&self) -> Option<&Documentation> {
        self.doc()
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let [arg] = take_function_args(self.name(), args.args)?;
        map_strings(&arg, |raw| match classify_device_id(raw) {
            DeviceId::Valid(id) => Some(id),
            DeviceId::Blank | DeviceId::Placeholder | DeviceId::Malformed => None,
        })
    }
}

/// What a raw device id is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeviceId {
    /// Empty or whitespace.
    Blank,
    /// A UUID, canonical form.
    Valid(String),
    /// The all-zero (ad tracking off) or all-F id: shared by millions of devices.
    Placeholder,
    /// Not a UUID.
    Malformed,
}

/// The canonical all-zero advertising id, as reported in `shared_identifiers`.
pub const ZERO_DEVICE_ID: &str = "00000000-0000-0000-0000-000000000000";

/// Kernel: accepts 32 hex digits with or without dashes in the 8-4-4-4-12
/// places, optionally in braces or with a `urn:uuid:` prefix.
pub fn classify_device_id(raw: &str) -> DeviceId {
    let s = raw.trim();
    if s.is_empty() {
        return DeviceId::Blank;
    }
    let s = s.strip_prefix("urn:uuid:").unwrap_or(s);
    let s = s
        .strip_prefix('{')
        .and_then(|s| s.strip_suffix('}'))
        .unwrap_or(s);
    let b = s.as_bytes();
    let dashed = b.len() == 36 && [8, 13, 18, 23].iter().all(|&i| b[i] == b'-');
    if !(dashed || b.len() == 32) {
        return DeviceId::Malformed;
    }
    let mut hex = [0u8; 32];
    let mut n = 0;
    for (i, &c) in b.iter().enumerate() {
        if dashed && [8, 13, 18, 23].contains(&i) {
            continue;
        }
        if !c.is_ascii_hexdigit() {
            return DeviceId::Malformed;
        }
        hex[n] = c.to_ascii_lowercase();
        n += 1;
    }
    if hex.iter().all(|&c| c == b'0') || hex.iter().all(|&c| c == b'f') {
        return DeviceId::Placeholder;
    }
    let mut out = String::with_capacity(36);
    for (i, &c) in hex.iter().enumerate() {
        if [8, 12, 16, 20].contains(&i) {
            out.push('-');
        }
        out.push(c as char);
    }
    DeviceId::Valid(out)
}

/// Kernel: the canonical id, or `None`.
pub fn normalize_device_id(raw: &str) -> Option<String> {
    match classify_device_id(raw) {
        DeviceId::Valid(id) => Some(id),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonicalizes_uuids() {
        let want = Some("6d92078a-8246-4ba4-ae5b-76104861e7dc".to_string());
        for raw in [
            "6D92078A-8246-4BA4-AE5B-76104861E7DC",
            "6d92078a82464ba4ae5b76104861e7dc",
            " {6d92078a-8246-4ba4-ae5b-76104861e7dc} ",
            "urn:uuid:6d92078a-8246-4ba4-ae5b-76104861e7dc",
        ] {
            assert_eq!(normalize_device_id(raw), want, "{raw}");
        }
    }

    #[test]
    fn zero_and_malformed_ids_are_null() {
        assert_eq!(classify_device_id(ZERO_DEVICE_ID), DeviceId::Placeholder);
        assert_eq!(
            classify_device_id("00000000000000000000000000000000"),
            DeviceId::Placeholder
        );
        assert_eq!(
            classify_device_id("FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF"),
            DeviceId::Placeholder
        );
        for raw in [
            "",
            "  ",
            "abc",
            "6d92078a-8246-4ba4-ae5b-76104861e7d",
            "6d92078a-8246-4ba4-ae5b-76104861e7dg",
            "6d92078a8-246-4ba4-ae5b-76104861e7dc",
            "６d92078a-8246-4ba4-ae5b-76104861e7dc",
        ] {
            assert_eq!(normalize_device_id(raw), None, "{raw:?}");
        }
    }
}
