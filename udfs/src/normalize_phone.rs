//! `normalize_phone(text [, default_region]) -> text`: E.164 for a person's
//! phone, NULL for everything that is not one.

use std::sync::Arc;

use datafusion::arrow::array::StringViewBuilder;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::types::logical_string;
use datafusion::common::{Result, ScalarValue, exec_err};
use datafusion::logical_expr::{
    Coercion, ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDFImpl, Signature,
    TypeSignature, TypeSignatureClass, Volatility,
};
use datafusion_macros::user_doc;
use rlibphonenumber::enums::Region;

use crate::phone::{DEFAULT_REGION, normalize_phone, parse_region};
use crate::strings::{for_each_str, map_strings, scalar_str};

#[user_doc(
    doc_section(label = "Identity Functions"),
    description = "Normalizes a phone number to E.164. Accepts spaces, dashes, brackets, `+86`/`86`/`0086` prefixes, full-width digits and trailing text. Returns NULL for masked numbers (`138****5678`), platform privacy numbers with an extension (`13800138000-1234`), placeholders (`13800000000`) and anything invalid; `phone_kind` tells which.",
    syntax_example = "normalize_phone(phone [, default_region])",
    sql_example = r#"```sql
> select normalize_phone('+86 138-1234-5678'), normalize_phone('5404 6490', 'HK');
+8613812345678 | +85254046490
```"#,
    standard_argument(name = "phone", prefix = "String"),
    argument(
        name = "default_region",
        description = "ISO 3166 region for numbers written without a country code. Default `CN`."
    )
)]
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct NormalizePhoneFunc {
    signature: Signature,
}

impl Default for NormalizePhoneFunc {
    fn default() -> Self {
        Self::new()
    }
}

/// The signature of `f(text)` or `f(text, region text)`.
pub(crate) fn phone_signature() -> Signature {
    let s = || Coercion::new_exact(TypeSignatureClass::Native(logical_string()));
    Signature::one_of(
        vec![
            TypeSignature::Coercible(vec![s()]),
            TypeSignature::Coercible(vec![s(), s()]),
        ],
        Volatility::Immutable,
    )
}

/// Resolves the optional region argument, which must be a constant.
pub(crate) fn region_arg(name: &str, args: &[ColumnarValue]) -> Result<Region> {
    let Some(arg) = args.get(1) else {
        return Ok(DEFAULT_REGION);
    };
    let ColumnarValue::Scalar(s) = arg else {
        return exec_err!("{name}: default_region must be a constant such as 'CN'");
    };
    match scalar_str(s)? {
        None => Ok(DEFAULT_REGION),
        Some(code) => match parse_region(code) {
            Some(r) => Ok(r),
            None => exec_err!(
                "{name}: unknown region '{code}', expected an ISO 3166 code such as 'CN' or 'HK'"
            ),
        },
    }
}

impl NormalizePhoneFunc {
    /// A `normalize_phone` taking one or two strings.
    pub fn new() -> Self {
        Self {
            signature: phone_signature(),
        }
    }
}

impl ScalarUDFImpl for NormalizePhoneFunc {
    fn name(&self) -> &str {
        "normalize_phone"
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
        let region = region_arg(self.name(), &args.args)?;
        match &args.args[0] {
            ColumnarValue::Array(a) => {
                // E.164 values are at most 16 bytes, so each fits inline in the view.
                let mut out = StringViewBuilder::with_capacity(a.len());
                for_each_str(a, |v| {
                    match v.and_then(|raw| normalize_phone(raw, region)) {
                        Some(e) => out.append_value(e.as_str()),
                        None => out.append_null(),
                    }
                })?;
                Ok(ColumnarValue::Array(Arc::new(out.finish())))
            }
            scalar @ ColumnarValue::Scalar(ScalarValue::Null) => {
                map_strings(scalar, |_| None::<String>)
            }
            scalar => map_strings(scalar, |raw| {
                normalize_phone(raw, region).map(|e| e.as_str().to_string())
            }),
        }
    }
}
