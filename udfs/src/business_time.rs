//! `business_time(ts)`: the same instant in the business time zone
//! (`[report] timezone`, `Asia/Shanghai` by default), so that `date_trunc`
//! and `to_char` cut days, weeks and months where the business does: an
//! order at 00:30 Beijing time on 1 June belongs to June.

use std::sync::Arc;

use datafusion::arrow::array::timezone::Tz;
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, TimeUnit};
use datafusion::common::Result;
use datafusion::common::utils::take_function_args;
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};
use datafusion_macros::user_doc;

/// Whether `zone` names a time zone: an IANA name (`Asia/Shanghai`) or an
/// offset (`+08:00`).
pub fn check_zone(zone: &str) -> std::result::Result<(), String> {
    zone.parse::<Tz>()
        .map(|_| ())
        .map_err(|e| format!("'{zone}' is not a time zone (an IANA name such as Asia/Shanghai, or an offset such as +08:00): {e}"))
}

#[user_doc(
    doc_section(label = "Time Functions"),
    description = "The same instant as a timestamp in the business time zone (`[report] timezone`), so that `date_trunc` and `to_char` cut days, weeks and months in local time.",
    syntax_example = "business_time(ts)",
    sql_example = r#"```sql
> select to_char(business_time(TIMESTAMP '2026-05-31T16:30:00Z'), '%Y-%m');
2026-06
```"#,
    argument(name = "ts", description = "A timestamp.")
)]
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct BusinessTimeFunc {
    zone: Arc<str>,
    signature: Signature,
}

impl BusinessTimeFunc {
    /// The function for `zone` (see [`check_zone`]).
    pub fn new(zone: &str) -> Self {
        Self {
            zone: zone.into(),
            signature: Signature::exact(
                vec![DataType::Timestamp(
                    TimeUnit::Microsecond,
                    Some("UTC".into()),
                )],
                Volatility::Immutable,
            ),
        }
    }

    fn local(&self) -> DataType {
        DataType::Timestamp(TimeUnit::Microsecond, Some(self.zone.clone()))
    }
}

impl ScalarUDFImpl for BusinessTimeFunc {
    fn name(&self) -> &str {
        "business_time"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(self.local())
    }

    fn documentation(&self) -> Option<&Documentation> {
        self.doc()
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let [arg] = take_function_args(self.name(), args.args)?;
        // The instant is unchanged: only the zone it is read in.
        Ok(match arg {
            ColumnarValue::Array(a) => ColumnarValue::Array(cast(&a, &self.local())?),
            ColumnarValue::Scalar(s) => ColumnarValue::Scalar(s.cast_to(&self.local())?),
        })
    }
}
