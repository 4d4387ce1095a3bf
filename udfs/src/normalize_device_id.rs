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
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceId {
    /// Empty or whitespace.
    Blank,
    /// A UUID, canonical form.
    Valid(DeviceUuid),
    /// The all-zero (ad tracking off) or all-F id: shared by millions of devices.
    Placeholder,
    /// Not a UUID.
    Malformed,
}

/// A canonical lower-case 8-4-4-4-12 UUID held inline, so that classifying
/// millions of device ids does not allocate.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct DeviceUuid([u8; 36]);

impl DeviceUuid {
    /// The id as text, e.g. `6d92078a-8246-4ba4-ae5b-76104861e7dc`.
    pub fn as_str(&self) -> &str {
        // Only lower-case hex digits and dashes are ever written.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

impl AsRef<str> for DeviceUuid {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl std::fmt::Debug for DeviceUuid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The canonical all-zero advertising id, as reported in `shared_identifiers`.
pub const ZERO_DEVICE_ID: &str = "00000000-0000-0000-0000-000000000000";

/// Where the 32 hex digits of a canonical id go: around the dashes at 8,
/// 13, 18 and 23.
const HEX_AT: [usize; 32] = {
    let mut at = [0; 32];
    let (mut j, mut o) = (0, 0);
    while j < 32 {
        if o == 8 || o == 13 || o == 18 || o == 23 {
            o += 1;
        }
        at[j] = o;
        (j, o) = (j + 1, o + 1);
    }
    at
};

/// Each byte as a lower-case hex digit, 0 if it is none.
const LOWER_HEX: [u8; 256] = {
    let mut table = [0; 256];
    let mut b = 0;
    while b < 256 {
        table[b] = match b as u8 {
            c @ (b'0'..=b'9' | b'a'..=b'f') => c,
            c @ b'A'..=b'F' => c + (b'a' - b'A'),
            _ => 0,
        };
        b += 1;
    }
    table
};

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
    let mut out = [b'-'; 36];
    for (j, &o) in HEX_AT.iter().enumerate() {
        let digit = LOWER_HEX[b[if dashed { o } else { j }] as usize];
        if digit == 0 {
            return DeviceId::Malformed;
        }
        out[o] = digit;
    }
    if out == *ZERO_DEVICE_ID.as_bytes() || out.iter().all(|&c| c == b'f' || c == b'-') {
        return DeviceId::Placeholder;
    }
    DeviceId::Valid(DeviceUuid(out))
}

/// Kernel: the canonical id, or `None`.
pub fn normalize_device_id(raw: &str) -> Option<String> {
    match classify_device_id(raw) {
        DeviceId::Valid(id) => Some(id.as_str().to_string()),
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
