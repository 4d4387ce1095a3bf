//! `normalize_email(text) -> text`: trimmed, lower-cased, syntactically valid
//! address, one spelling per mailbox, or NULL.

use std::borrow::Cow;

use datafusion::arrow::datatypes::DataType;
use datafusion::common::Result;
use datafusion::common::types::logical_string;
use datafusion::common::utils::take_function_args;
use datafusion::logical_expr::{
    Coercion, ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDFImpl, Signature,
    TypeSignatureClass, Volatility,
};
use datafusion_macros::user_doc;
use unicode_normalization::UnicodeNormalization;

use crate::strings::map_strings;

#[user_doc(
    doc_section(label = "Identity Functions"),
    description = "Normalizes an email address to one spelling per mailbox: NFKC-folds, trims and lower-cases it, drops a `+tag` sub-address, and for Gmail drops the dots of the mailbox name (`Zhang.San+shop@googlemail.com` is `zhangsan@gmail.com`). NULL, blank or syntactically invalid input returns NULL.",
    syntax_example = "normalize_email(email)",
    sql_example = r#"```sql
> select normalize_email('  Zhang.San@QQ.com ');
zhang.san@qq.com
```"#,
    standard_argument(name = "email", prefix = "String")
)]
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct NormalizeEmailFunc {
    signature: Signature,
}

impl Default for NormalizeEmailFunc {
    fn default() -> Self {
        Self::new()
    }
}

impl NormalizeEmailFunc {
    /// A `normalize_email` taking any string type.
    pub fn new() -> Self {
        let s = Coercion::new_exact(TypeSignatureClass::Native(logical_string()));
        Self {
            signature: Signature::coercible(vec![s], Volatility::Immutable),
        }
    }
}

impl ScalarUDFImpl for NormalizeEmailFunc {
    fn name(&self) -> &str {
        "normalize_email"
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
        map_strings(&arg, normalize_email)
    }
}

/// Kernel: the normalized address, or `None` if `raw` is not a valid address.
///
/// Validation follows the dot-atom form of RFC 5322 that real mailboxes use:
/// no quoted local parts, no IP-literal domains, a domain with a dot and an
/// alphabetic top-level label.
pub fn normalize_email(raw: &str) -> Option<String> {
    let mut out = String::new();
    write_normalized_email(raw, &mut out).then_some(out)
}

/// [`normalize_email`] appending the address to `out`, which it leaves as
/// it was if `raw` is not a valid address: ingest writes every order's
/// values into one buffer rather than allocating each.
pub fn write_normalized_email(raw: &str, out: &mut String) -> bool {
    let folded: Cow<'_, str> = if raw.is_ascii() {
        Cow::Borrowed(raw)
    } else {
        Cow::Owned(raw.nfkc().collect())
    };
    let trimmed = folded.trim();
    let trimmed = trimmed.strip_prefix("mailto:").unwrap_or(trimmed);
    let Some((local, domain)) = trimmed.rsplit_once('@') else {
        return false;
    };
    if trimmed.len() > 254 || !valid_local(local) || !valid_domain(domain) {
        return false;
    }
    let start = out.len();
    // A `+tag` sub-address reaches the same mailbox (RFC 5233).
    let local = match local.split_once('+') {
        Some((mailbox, _)) if valid_local(mailbox) => mailbox,
        _ => local,
    };
    let domain_start = start + local.len() + 1;
    out.push_str(local);
    out.push('@');
    out.push_str(domain);
    out[start..].make_ascii_lowercase();
    // Gmail ignores dots in the mailbox name and answers at both domains.
    let gmail = matches!(&out[domain_start..], "gmail.com" | "googlemail.com");
    if gmail {
        out.truncate(domain_start - 1);
        let mailbox: String = out[start..].chars().filter(|&c| c != '.').collect();
        out.truncate(start);
        out.push_str(&mailbox);
        out.push_str("@gmail.com");
    }
    true
}

fn valid_local(local: &str) -> bool {
    const SPECIAL: &[u8] = b"!#$%&'*+/=?^_`{|}~-.";
    !local.is_empty()
        && local.len() <= 64
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || SPECIAL.contains(&c))
}

fn valid_domain(domain: &str) -> bool {
    let tld = domain.rsplit('.').next().unwrap_or_default();
    domain.contains('.')
        && domain.len() <= 253
        && tld.len() >= 2
        && tld.bytes().all(|c| c.is_ascii_alphabetic())
        && domain.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_case_space_and_width() {
        assert_eq!(
            normalize_email("  Zhang.San@QQ.com ").as_deref(),
            Some("zhang.san@qq.com")
        );
        assert_eq!(
            normalize_email("ＡＢＣ＠163.COM").as_deref(),
            Some("abc@163.com")
        );
        assert_eq!(
            normalize_email("mailto:a.b+tag@gmail.com").as_deref(),
            Some("ab@gmail.com")
        );
        assert_eq!(
            normalize_email("Zhang.San+shop@GoogleMail.com").as_deref(),
            Some("zhangsan@gmail.com")
        );
        assert_eq!(
            normalize_email("zhang.san+618@qq.com").as_deref(),
            Some("zhang.san@qq.com")
        );
        assert_eq!(
            normalize_email("+618@qq.com").as_deref(),
            Some("+618@qq.com")
        );
        assert_eq!(
            normalize_email("li_si-01@sub.example.com.cn").as_deref(),
            Some("li_si-01@sub.example.com.cn")
        );
    }

    #[test]
    fn writing_appends_a_valid_address_and_nothing_else() {
        let mut out = String::from("a:");
        assert!(write_normalized_email(" B@QQ.com", &mut out));
        assert!(!write_normalized_email("Not An Address", &mut out));
        assert_eq!(out, "a:b@qq.com");
    }

    #[test]
    fn rejects_invalid_addresses() {
        for raw in [
            "",
            " ",
            "abc",
            "@qq.com",
            "a@",
            "a@qq",
            "a@@qq.com",
            "a b@qq.com",
            ".a@qq.com",
            "a.@qq.com",
            "a..b@qq.com",
            "a@-qq.com",
            "a@qq-.com",
            "a@qq..com",
            "a@qq.c0m",
            "a@qq.c",
            "张三@qq.com",
            "a@[127.0.0.1]",
        ] {
            assert_eq!(normalize_email(raw), None, "{raw:?}");
        }
        assert_eq!(normalize_email(&format!("{}@qq.com", "a".repeat(65))), None);
    }
}
