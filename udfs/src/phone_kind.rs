//! `phone_kind(text [, default_region]) -> text`: what a raw phone string is.

use datafusion::arrow::datatypes::DataType;
use datafusion::common::Result;
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDFImpl, Signature,
};
use datafusion_macros::user_doc;

use crate::normalize_phone::{phone_signature, region_arg};
use crate::phone::classify_phone;
use crate::strings::map_strings;

#[user_doc(
    doc_section(label = "Identity Functions"),
    description = "Classifies a raw phone string as `mobile`, `landline`, `masked` (digits hidden by the platform), `virtual` (a privacy relay number with an extension), `placeholder` (a number typed to fill a form, such as `13800000000`) or `invalid`. NULL or blank input returns NULL.",
    syntax_example = "phone_kind(phone [, default_region])",
    sql_example = r#"```sql
> select phone_kind('138****5678'), phone_kind('13800138000-1234'), phone_kind('13800000000');
masked | virtual | placeholder
```"#,
    standard_argument(name = "phone", prefix = "String"),
    argument(
        name = "default_region",
        description = "ISO 3166 region for numbers written without a country code. Default `CN`."
    )
)]
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct PhoneKindFunc {
    signature: Signature,
}

impl Default for PhoneKindFunc {
    fn default() -> Self {
        Self::new()
    }
}

impl PhoneKindFunc {
    /// A `phone_kind` taking one or two strings.
    pub fn new() -> Self {
        Self {
            signature: phone_signature(),
        }
    }
}

impl ScalarUDFImpl for PhoneKindFunc {
    fn name(&self) -> &str {
        "phone_kind"
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
        map_strings(&args.args[0], |raw| {
            classify_phone(raw, region).map(|c| c.kind.as_str())
        })
    }
}
