//! `mask_phone(text)` and `mask_email(text)`: contact details as a
//! restricted reader sees them (`138****5678`, `z***@qq.com`). The engine
//! applies them to every phone and email column of the tables such a
//! reader's session scans, so no query shape reaches the clear value.

use datafusion::arrow::datatypes::DataType;
use datafusion::common::Result;
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};
use datafusion_macros::user_doc;
use unicode_normalization::UnicodeNormalization;

use crate::strings::map_strings;

/// A phone number with all but its first three and last four national
/// digits hidden: `+86 138-1234-5678` -> `138****5678`. China's country
/// code is dropped; other countries' stay among the first three digits.
/// Fewer than eight digits show nothing (`****`), unless the platform
/// masked the number already (`138****5678` shows no more than the mask
/// would): that stays as it is, but for China's country code, which is
/// dropped here too (`+86 138****5678` -> `138****5678`).
pub fn mask_phone(raw: &str) -> String {
    let digits: String = raw.nfkc().filter(char::is_ascii_digit).collect();
    if raw.contains('*') {
        if digits.len() <= 7 {
            return raw.trim().to_string();
        }
        let visible = ["0086", "86"].iter().find_map(|cc| {
            digits
                .strip_prefix(cc)
                .filter(|rest| rest.len() == 7 && rest.starts_with('1'))
        });
        if let Some(visible) = visible {
            return format!("{}****{}", &visible[..3], &visible[3..]);
        }
    }
    let national = ["0086", "86"]
        .iter()
        .find_map(|cc| {
            digits
                .strip_prefix(cc)
                .filter(|rest| rest.len() == 11 && rest.starts_with('1'))
        })
        .unwrap_or(&digits);
    if national.len() < 8 {
        return "****".to_string();
    }
    format!("{}****{}", &national[..3], &national[national.len() - 4..])
}

/// An email with its local part hidden but the first character:
/// `Zhang.San@QQ.com` -> `z***@qq.com`. Text without an `@` shows nothing.
pub fn mask_email(raw: &str) -> String {
    let lower = raw.trim().to_lowercase();
    match lower.rsplit_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}***@{domain}")
        }
        None => "***".to_string(),
    }
}

#[user_doc(
    doc_section(label = "Identity Functions"),
    description = "Hides a phone number but for its first three and last four national digits (`138****5678`); China's country code is dropped, numbers under eight digits become `****`, and a number the platform masked already (`138****5678`) stays as it is but for China's country code. NULL stays NULL.",
    syntax_example = "mask_phone(phone)",
    sql_example = r#"```sql
> select mask_phone('+86 138-1234-5678');
138****5678
```"#,
    standard_argument(name = "phone", prefix = "String")
)]
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct MaskPhoneFunc {
    signature: Signature,
}

impl Default for MaskPhoneFunc {
    fn default() -> Self {
        Self::new()
    }
}

impl MaskPhoneFunc {
    /// A `mask_phone` of one string.
    pub fn new() -> Self {
        Self {
            signature: Signature::string(1, Volatility::Immutable),
        }
    }
}

impl ScalarUDFImpl for MaskPhoneFunc {
    fn name(&self) -> &str {
        "mask_phone"
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
        map_strings(&args.args[0], |raw| Some(mask_phone(raw)))
    }
}

#[user_doc(
    doc_section(label = "Identity Functions"),
    description = "Hides an email's local part but for its first character, lower-cased (`z***@qq.com`); text without `@` becomes `***`. NULL stays NULL.",
    syntax_example = "mask_email(email)",
    sql_example = r#"```sql
> select mask_email('Zhang.San@QQ.com');
z***@qq.com
```"#,
    standard_argument(name = "email", prefix = "String")
)]
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct MaskEmailFunc {
    signature: Signature,
}

impl Default for MaskEmailFunc {
    fn default() -> Self {
        Self::new()
    }
}

impl MaskEmailFunc {
    /// A `mask_email` of one string.
    pub fn new() -> Self {
        Self {
            signature: Signature::string(1, Volatility::Immutable),
        }
    }
}

impl ScalarUDFImpl for MaskEmailFunc {
    fn name(&self) -> &str {
        "mask_email"
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
        map_strings(&args.args[0], |raw| Some(mask_email(raw)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones_keep_three_and_four_digits() {
        for raw in [
            "13812345678",
            "+86 138-1234-5678",
            "0086 138 1234 5678",
            "＋８６１３８１２３４５６７８",
            "+8613812345678",
        ] {
            assert_eq!(mask_phone(raw), "138****5678", "{raw}");
        }
        assert_eq!(mask_phone("+852 5404 6490"), "852****6490");
        assert_eq!(
            mask_phone(" 138****5678"),
            "138****5678",
            "masked by the platform"
        );
        assert_eq!(
            mask_phone("13812345678*"),
            "138****5678",
            "a star does not unmask"
        );
        for raw in ["+86 138****5678", "0086 138****5678", "+86-138-****-5678"] {
            assert_eq!(
                mask_phone(raw),
                "138****5678",
                "{raw}: China's code dropped"
            );
        }
        assert_eq!(
            mask_phone("8613812345678*"),
            "138****5678",
            "eleven digits after the code are masked as usual"
        );
        assert_eq!(mask_phone("12345"), "****");
        assert_eq!(mask_phone(""), "****");
    }

    #[test]
    fn emails_keep_first_character_and_domain() {
        assert_eq!(mask_email(" Zhang.San@QQ.com "), "z***@qq.com");
        assert_eq!(mask_email("a@b@c.com"), "a***@c.com");
        assert_eq!(mask_email("no-at-sign"), "***");
        assert_eq!(mask_email("@qq.com"), "***@qq.com");
    }
}
