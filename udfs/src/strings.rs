//! Shared plumbing for UDFs that map one string column to another: every
//! string encoding in, `Utf8View` out, scalars kept scalar.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, StringViewBuilder, StructArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Result, ScalarValue, exec_err, internal_err};
use datafusion::logical_expr::ColumnarValue;

/// The string in a scalar of any string type (`None` for NULL).
pub(crate) fn scalar_str(value: &ScalarValue) -> Result<Option<&str>> {
    match value {
        ScalarValue::Utf8(v) | ScalarValue::LargeUtf8(v) | ScalarValue::Utf8View(v) => {
            Ok(v.as_deref())
        }
        ScalarValue::Null => Ok(None),
        other => internal_err!("signature admitted non-string {}", other.data_type()),
    }
}

/// Calls `f` with each row of a string array (`None` for NULL), in order.
pub(crate) fn for_each_str(array: &ArrayRef, mut f: impl FnMut(Option<&str>)) -> Result<()> {
    match array.data_type() {
        DataType::Utf8 => array.as_string::<i32>().iter().for_each(&mut f),
        DataType::LargeUtf8 => array.as_string::<i64>().iter().for_each(&mut f),
        DataType::Utf8View => array.as_string_view().iter().for_each(&mut f),
        DataType::Null => (0..array.len()).for_each(|_| f(None)),
        t => return exec_err!("expected a string column, got {t}"),
    }
    Ok(())
}

/// Maps a string argument through `f`, which returns the output text or
/// `None` for NULL. A scalar stays a scalar, computed once.
pub(crate) fn map_strings<R: AsRef<str>>(
    arg: &ColumnarValue,
    f: impl Fn(&str) -> Option<R>,
) -> Result<ColumnarValue> {
    match arg {
        ColumnarValue::Scalar(s) => {
            let out = scalar_str(s)?.and_then(&f).map(|r| r.as_ref().to_string());
            Ok(ColumnarValue::Scalar(ScalarValue::Utf8View(out)))
        }
        ColumnarValue::Array(a) => {
            let mut builder = StringViewBuilder::with_capacity(a.len());
            for_each_str(a, |v| match v.and_then(&f) {
                Some(r) => builder.append_value(r.as_ref()),
                None => builder.append_null(),
            })?;
            Ok(ColumnarValue::Array(Arc::new(builder.finish())))
        }
    }
}

/// The timestamp type ordergraph stores: microseconds, UTC. UDFs that take
/// times cast to it, and those that return times return it.
pub(crate) fn utc_micros() -> DataType {
    DataType::Timestamp(
        datafusion::arrow::datatypes::TimeUnit::Microsecond,
        Some("UTC".into()),
    )
}

/// Field `name` of the structs a UDF was given, cast to `to`; when they
/// lack it, the error "`what` has no field `name`".
pub(crate) fn struct_field(
    structs: &StructArray,
    name: &str,
    to: &DataType,
    what: &str,
) -> Result<ArrayRef> {
    match structs.column_by_name(name) {
        Some(c) => Ok(cast(c, to)?),
        None => exec_err!("{what} has no field `{name}`"),
    }
}
