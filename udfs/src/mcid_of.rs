//! `mcid_of(key) -> text`: the printable master customer id of an identity
//! key: `MC` and 13 Crockford base-32 digits, fixed width so MCIDs sort and
//! compare as text.

use datafusion::arrow::array::{Array, AsArray, StringViewBuilder};
use datafusion::arrow::datatypes::{DataType, UInt64Type};
use datafusion::common::utils::take_function_args;
use datafusion::common::{Result, ScalarValue, internal_err};
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};
use datafusion_macros::user_doc;
use std::sync::Arc;

/// Crockford's alphabet: no I, L, O or U, so an MCID read aloud or typed by
/// a support agent is not mistaken for another.
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// Length of an MCID in bytes.
pub const MCID_LEN: usize = 15;

/// Kernel: the MCID of a key, written into a fixed buffer.
pub fn mcid_bytes(key: u64) -> [u8; MCID_LEN] {
    let mut out = [0u8; MCID_LEN];
    out[0] = b'M';
    out[1] = b'C';
    // 13 digits carry 65 bits: the key, then one zero bit of padding.
    let padded = (key as u128) << 1;
    for i in 0..13 {
        out[2 + i] = ALPHABET[((padded >> (5 * (12 - i))) & 31) as usize];
    }
    out
}

/// Kernel: an MCID's bytes as text.
pub fn mcid_str(bytes: &[u8; MCID_LEN]) -> &str {
    std::str::from_utf8(bytes).expect("MCIDs are ASCII by construction")
}

/// Kernel: the MCID of a key as a `String`.
pub fn mcid_of(key: u64) -> String {
    mcid_str(&mcid_bytes(key)).to_owned()
}

/// Parses an MCID back into its key (case-insensitive, Crockford aliases
/// `O`->0, `I`/`L`->1 accepted). `None` if it is not an MCID.
pub fn parse_mcid(text: &str) -> Option<u64> {
    let t = text.trim().as_bytes();
    if t.len() != MCID_LEN || !t[..2].eq_ignore_ascii_case(b"MC") {
        return None;
    }
    let mut padded: u128 = 0;
    for &c in &t[2..] {
        let c = match c.to_ascii_uppercase() {
            b'O' => b'0',
            b'I' | b'L' => b'1',
            c => c,
        };
        let digit = ALPHABET.iter().position(|&a| a == c)? as u128;
        padded = (padded << 5) | digit;
    }
    (padded & 1 == 0).then_some((padded >> 1) as u64)
}

#[user_doc(
    doc_section(label = "Identity Functions"),
    description = "Formats a UInt64 identity key as a printable master customer id (MCID): `MC` followed by 13 Crockford base-32 digits.",
    syntax_example = "mcid_of(key)",
    sql_example = r#"```sql
> select mcid_of(identity_key('unionid', 'o6_bmjrPTlm6_2sgVt7hMZOPfL2M'));
```"#,
    argument(
        name = "key",
        description = "A UInt64 key, as returned by `identity_key`."
    )
)]
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct McidOfFunc {
    signature: Signature,
}

impl Default for McidOfFunc {
    fn default() -> Self {
        Self::new()
    }
}

impl McidOfFunc {
    /// An `mcid_of` taking a UInt64: smaller unsigned integers widen to it,
    /// signed ones (an SQL integer literal is Int64) need a cast.
    pub fn new() -> Self {
        Self {
            signature: Signature::exact(vec![DataType::UInt64], Volatility::Immutable),
        }
    }
}

impl ScalarUDFImpl for McidOfFunc {
    fn name(&self) -> &str {
        "mcid_of"
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
        match arg {
            ColumnarValue::Scalar(ScalarValue::UInt64(v)) => {
                Ok(ColumnarValue::Scalar(ScalarValue::Utf8View(v.map(mcid_of))))
            }
            ColumnarValue::Scalar(ScalarValue::Null) => {
                Ok(ColumnarValue::Scalar(ScalarValue::Utf8View(None)))
            }
            ColumnarValue::Array(a) if a.data_type() == &DataType::UInt64 => {
                let keys = a.as_primitive::<UInt64Type>();
                let mut out = StringViewBuilder::with_capacity(keys.len());
                for k in keys.iter() {
                    match k {
                        Some(k) => out.append_value(mcid_str(&mcid_bytes(k))),
                        None => out.append_null(),
                    }
                }
                Ok(ColumnarValue::Array(Arc::new(out.finish())))
            }
            other => internal_err!("mcid_of: signature admitted {:?}", other.data_type()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_is_fixed_width() {
        for key in [
            0,
            1,
            31,
            32,
            u64::MAX,
            0x8000_0000_0000_0000,
            0x0123_4567_89ab_cdef,
        ] {
            let m = mcid_of(key);
            assert_eq!(m.len(), MCID_LEN);
            assert!(m.starts_with("MC"));
            assert_eq!(parse_mcid(&m), Some(key), "{m}");
            assert_eq!(parse_mcid(&m.to_lowercase()), Some(key));
        }
        assert_ne!(mcid_of(1), mcid_of(2));
        assert_eq!(parse_mcid("MC"), None);
        assert_eq!(parse_mcid("XX0000000000000"), None);
        assert_eq!(parse_mcid("MCU000000000000"), None);
    }

    #[test]
    fn order_of_keys_is_order_of_mcids() {
        let mut keys = [5u64, 1 << 40, u64::MAX, 0, 77];
        let mut mcids: Vec<_> = keys.iter().map(|&k| mcid_of(k)).collect();
        keys.sort();
        mcids.sort();
        assert_eq!(mcids, keys.iter().map(|&k| mcid_of(k)).collect::<Vec<_>>());
    }
}
