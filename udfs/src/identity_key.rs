//! `identity_key(kind, value) -> UInt64`: the xxh3 key of a normalized
//! identifier, with each kind hashed under its own seed so that equal text of
//! different kinds never collides into one identity.

use std::sync::Arc;
use std::sync::LazyLock;

use datafusion::arrow::array::{ArrayRef, UInt64Builder};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::types::logical_string;
use datafusion::common::utils::take_function_args;
use datafusion::common::{Result, ScalarValue, exec_err};
use datafusion::logical_expr::{
    Coercion, ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDFImpl, Signature,
    TypeSignatureClass, Volatility,
};
use datafusion_macros::user_doc;
use xxhash_rust::xxh3::{xxh3_64, xxh3_64_with_seed};

use crate::strings::{for_each_str, scalar_str};

/// The kinds of identifier that can tie orders to a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum IdentityKind {
    /// WeChat unionID: one per person across a brand's WeChat apps.
    Unionid,
    /// A phone in E.164.
    Phone,
    /// A normalized email address.
    Email,
    /// An advertising device id (IDFA/GAID).
    Device,
    /// A buyer account, scoped by channel: `tmall:tb_1234`.
    Account,
}

impl IdentityKind {
    /// Every kind, in the order used for tie-breaking.
    pub const ALL: [IdentityKind; 5] = [
        IdentityKind::Unionid,
        IdentityKind::Phone,
        IdentityKind::Email,
        IdentityKind::Device,
        IdentityKind::Account,
    ];

    /// The SQL name of the kind.
    pub fn as_str(self) -> &'static str {
        match self {
            IdentityKind::Unionid => "unionid",
            IdentityKind::Phone => "phone",
            IdentityKind::Email => "email",
            IdentityKind::Device => "device",
            IdentityKind::Account => "account",
        }
    }

    /// Parses a kind name (case-insensitive).
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str().eq_ignore_ascii_case(name.trim()))
    }

    fn seed(self) -> u64 {
        // Seeds derive from the kind's name, so they are fixed by the names
        // above: changing a name would change every MCID.
        static SEEDS: LazyLock<[u64; 5]> =
            LazyLock::new(|| IdentityKind::ALL.map(|k| xxh3_64(k.as_str().as_bytes())));
        SEEDS[self as usize]
    }
}

/// Kernel: the key of an already-normalized value; `None` for blank values,
/// which must never share one key.
pub fn identity_key(kind: IdentityKind, normalized: &str) -> Option<u64> {
    (!normalized.is_empty()).then(|| xxh3_64_with_seed(normalized.as_bytes(), kind.seed()))
}

#[user_doc(
    doc_section(label = "Identity Functions"),
    description = "Hashes a normalized identifier with xxh3 into a UInt64 key. Kinds are hashed apart: `unionid`, `phone`, `email`, `device`, `account`. NULL or empty values return NULL; an unknown kind is an error.",
    syntax_example = "identity_key(kind, normalized_value)",
    sql_example = r#"```sql
> select mcid_of(identity_key('phone', normalize_phone('138-1234-5678')));
```"#,
    argument(
        name = "kind",
        description = "One of `unionid`, `phone`, `email`, `device`, `account`."
    ),
    argument(
        name = "normalized_value",
        description = "The identifier, already normalized."
    )
)]
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct IdentityKeyFunc {
    signature: Signature,
}

impl Default for IdentityKeyFunc {
    fn default() -> Self {
        Self::new()
    }
}

impl IdentityKeyFunc {
    /// An `identity_key` taking two strings of any type.
    pub fn new() -> Self {
        let s = || Coercion::new_exact(TypeSignatureClass::Native(logical_string()));
        Self {
            signature: Signature::coercible(vec![s(), s()], Volatility::Immutable),
        }
    }
}

fn parse_kind(name: &str) -> Result<IdentityKind> {
    match IdentityKind::parse(name) {
        Some(k) => Ok(k),
        None => exec_err!(
            "identity_key: unknown kind '{name}', expected one of unionid, phone, email, device, account"
        ),
    }
}

impl ScalarUDFImpl for IdentityKeyFunc {
    fn name(&self) -> &str {
        "identity_key"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::UInt64)
    }

    fn documentation(&self) -> Option<&Documentation> {
        self.doc()
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let rows = args.number_rows;
        let [kind, value] = take_function_args(self.name(), args.args)?;
        let key = |kind: Option<&str>, value: Option<&str>| -> Result<Option<u64>> {
            match (kind, value) {
                (Some(k), Some(v)) => Ok(identity_key(parse_kind(k)?, v)),
                _ => Ok(None),
            }
        };
        match (&kind, &value) {
            (ColumnarValue::Scalar(k), ColumnarValue::Scalar(v)) => Ok(ColumnarValue::Scalar(
                ScalarValue::UInt64(key(scalar_str(k)?, scalar_str(v)?)?),
            )),
            _ => {
                let kinds = kind.to_array(rows)?;
                let values = value.to_array(rows)?;
                let mut kind_names = Vec::with_capacity(rows);
                for_each_str(&kinds, |k| kind_names.push(k.map(str::to_owned)))?;
                let mut out = UInt64Builder::with_capacity(rows);
                let mut error = None;
                let mut row = 0;
                for_each_str(&values, |v| {
                    match key(kind_names[row].as_deref(), v) {
                        Ok(k) => out.append_option(k),
                        Err(e) => {
                            error.get_or_insert(e);
                            out.append_null();
                        }
                    }
                    row += 1;
                })?;
                if let Some(e) = error {
                    return Err(e);
                }
                Ok(ColumnarValue::Array(Arc::new(out.finish()) as ArrayRef))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_are_kept_apart_and_blank_has_no_key() {
        let v = "13812345678";
        let keys: Vec<_> = IdentityKind::ALL
            .iter()
            .map(|&k| identity_key(k, v).unwrap())
            .collect();
        for (i, a) in keys.iter().enumerate() {
            for b in &keys[i + 1..] {
                assert_ne!(a, b);
            }
        }
        assert_eq!(identity_key(IdentityKind::Phone, ""), None);
        assert_eq!(
            identity_key(IdentityKind::Phone, v),
            identity_key(IdentityKind::Phone, v)
        );
    }

    #[test]
    fn kind_names_parse() {
        assert_eq!(IdentityKind::parse(" Phone "), Some(IdentityKind::Phone));
        assert_eq!(IdentityKind::parse("phones"), None);
    }
}
