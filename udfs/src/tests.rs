//! Arrow- and SQL-level tests of the UDF wrappers: NULLs, blanks, non-ASCII
//! text and every string encoding, as DataFusion's own `string/lower.rs` does.

use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, LargeStringArray, ListArray, StringArray, StringViewArray,
    UInt64Array,
};
use datafusion::arrow::datatypes::{DataType, Field, Int64Type, TimestampMicrosecondType};
use datafusion::common::config::ConfigOptions;
use datafusion::common::{Result, ScalarValue};
use datafusion::logical_expr::{ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl};
use datafusion::prelude::SessionContext;

use super::*;

fn invoke(f: &dyn ScalarUDFImpl, args: Vec<ColumnarValue>, rows: usize) -> Result<ColumnarValue> {
    let arg_fields = args
        .iter()
        .map(|a| Arc::new(Field::new("a", a.data_type(), true)))
        .collect();
    let return_type = f.return_type(&args.iter().map(|a| a.data_type()).collect::<Vec<_>>())?;
    f.invoke_with_args(ScalarFunctionArgs {
        args,
        arg_fields,
        number_rows: rows,
        return_field: Arc::new(Field::new("r", return_type, true)),
        config_options: Arc::new(ConfigOptions::default()),
    })
}

/// The same strings in each of Arrow's three string encodings.
fn encodings(values: &[Option<&str>]) -> Vec<ArrayRef> {
    vec![
        Arc::new(StringArray::from(values.to_vec())),
        Arc::new(LargeStringArray::from(values.to_vec())),
        Arc::new(StringViewArray::from(values.to_vec())),
    ]
}

fn strings_out(v: ColumnarValue) -> Vec<Option<String>> {
    let ColumnarValue::Array(a) = v else {
        panic!("expected an array")
    };
    assert_eq!(a.data_type(), &DataType::Utf8View);
    a.as_string_view()
        .iter()
        .map(|s| s.map(str::to_string))
        .collect()
}

fn check_string_udf(f: &dyn ScalarUDFImpl, cases: &[(Option<&str>, Option<&str>)]) {
    let inputs: Vec<_> = cases.iter().map(|c| c.0).collect();
    let want: Vec<_> = cases.iter().map(|c| c.1.map(str::to_string)).collect();
    for array in encodings(&inputs) {
        let got = strings_out(
            invoke(f, vec![ColumnarValue::Array(array.clone())], inputs.len()).unwrap(),
        );
        assert_eq!(got, want, "{} over {}", f.name(), array.data_type());
    }
}

#[test]
fn normalize_phone_over_arrays() {
    check_string_udf(
        &NormalizePhoneFunc::new(),
        &[
            (None, None),
            (Some(""), None),
            (Some("１３８１２３４５６７８"), Some("+8613812345678")),
            (Some("+852 5404 6490"), Some("+85254046490")),
            (Some("138****5678"), None),
            (Some("13800138000-1234"), None),
            (Some("手机号"), None),
        ],
    );
}

#[test]
fn phone_kind_over_arrays() {
    check_string_udf(
        &PhoneKindFunc::new(),
        &[
            (None, None),
            (Some(""), None),
            (Some("138 1234 5678"), Some("mobile")),
            (Some("138****5678"), Some("masked")),
            (Some("13800138000转1234"), Some("virtual")),
            (Some("13800000000"), Some("placeholder")),
            (Some("010-12345678"), Some("landline")),
            (Some("电话"), Some("invalid")),
        ],
    );
}

#[test]
fn normalize_email_over_arrays() {
    check_string_udf(
        &NormalizeEmailFunc::new(),
        &[
            (None, None),
            (Some(""), None),
            (Some(" A@QQ.COM"), Some("a@qq.com")),
            (Some("张三@qq.com"), None),
        ],
    );
}

#[test]
fn normalize_device_id_over_arrays() {
    check_string_udf(
        &NormalizeDeviceIdFunc::new(),
        &[
            (None, None),
            (Some(""), None),
            (Some(ZERO_DEVICE_ID), None),
            (
                Some("6D92078A82464BA4AE5B76104861E7DC"),
                Some("6d92078a-8246-4ba4-ae5b-76104861e7dc"),
            ),
            (Some("设备"), None),
        ],
    );
}

#[test]
fn scalars_stay_scalars() {
    let out = invoke(
        &NormalizePhoneFunc::new(),
        vec![
            ColumnarValue::Scalar(ScalarValue::Utf8(Some("5404 6490".into()))),
            ColumnarValue::Scalar(ScalarValue::Utf8(Some("HK".into()))),
        ],
        1,
    )
    .unwrap();
    let ColumnarValue::Scalar(ScalarValue::Utf8View(Some(v))) = out else {
        panic!("expected a scalar, got {out:?}")
    };
    assert_eq!(v, "+85254046490");
    let null = invoke(
        &NormalizeEmailFunc::new(),
        vec![ColumnarValue::Scalar(ScalarValue::Utf8(None))],
        1,
    )
    .unwrap();
    assert!(matches!(
        null,
        ColumnarValue::Scalar(ScalarValue::Utf8View(None))
    ));
}

#[test]
fn identity_key_over_arrays_never_hashes_blank() {
    let values: ArrayRef = Arc::new(StringArray::from(vec![Some("a@qq.com"), None, Some("")]));
    let out = invoke(
        &IdentityKeyFunc::new(),
        vec![
            ColumnarValue::Scalar(ScalarValue::Utf8(Some("email".into()))),
            ColumnarValue::Array(values),
        ],
        3,
    )
    .unwrap();
    let ColumnarValue::Array(a) = out else {
        panic!()
    };
    let keys = a.as_any().downcast_ref::<UInt64Array>().unwrap();
    assert_eq!(
        keys.value(0),
        identity_key(IdentityKind::Email, "a@qq.com").unwrap()
    );
    assert!(keys.is_null(1) && keys.is_null(2));
}

#[test]
fn identity_key_rejects_unknown_kind() {
    let err = invoke(
        &IdentityKeyFunc::new(),
        vec![
            ColumnarValue::Scalar(ScalarValue::Utf8(Some("fax".into()))),
            ColumnarValue::Scalar(ScalarValue::Utf8(Some("1".into()))),
        ],
        1,
    )
    .unwrap_err();
    assert!(err.to_string().contains("unknown kind 'fax'"), "{err}");
}

#[test]
fn window_peak_refuses_a_negative_window_and_a_null_result_has_null_fields() {
    let times: ArrayRef = Arc::new(ListArray::from_iter_primitive::<
        TimestampMicrosecondType,
        _,
        _,
    >(vec![Some(vec![Some(0), Some(1_000_000)])]));
    let call = |window: Option<i64>| {
        invoke(
            &WindowPeakFunc::new(),
            vec![
                ColumnarValue::Array(times.clone()),
                ColumnarValue::Scalar(ScalarValue::Int64(window)),
                ColumnarValue::Scalar(ScalarValue::Int64(Some(1))),
            ],
            1,
        )
    };
    let err = call(Some(-1)).unwrap_err();
    assert!(err.to_string().contains("must not be negative"), "{err}");

    // `get_field` reads a child column as it is, so a NULL result must be
    // NULL in its fields as well.
    let ColumnarValue::Array(null) = call(None).unwrap() else {
        panic!("expected an array")
    };
    let null = null.as_struct();
    assert!(null.is_null(0));
    assert!(null.column_by_name("peak").unwrap().is_null(0));
    assert!(null.column_by_name("reached_at").unwrap().is_null(0));

    let ColumnarValue::Array(out) = call(Some(1)).unwrap() else {
        panic!("expected an array")
    };
    let peak = out.as_struct().column_by_name("peak").unwrap().clone();
    assert_eq!(peak.as_primitive::<Int64Type>().value(0), 2);
}

async fn sql_strings(ctx: &SessionContext, sql: &str) -> Vec<Option<String>> {
    let batches = ctx.sql(sql).await.unwrap().collect().await.unwrap();
    let mut out = vec![];
    for b in batches {
        let col = datafusion::arrow::compute::cast(b.column(0), &DataType::Utf8).unwrap();
        out.extend(col.as_string::<i32>().iter().map(|s| s.map(str::to_string)));
    }
    out
}

fn session() -> SessionContext {
    let ctx = SessionContext::new_with_config(
        datafusion::prelude::SessionConfig::new().with_information_schema(true),
    );
    for f in all() {
        ctx.register_udf(f.as_ref().clone());
    }
    ctx
}

#[tokio::test]
async fn functions_work_in_sql_and_are_listed() {
    let ctx = session();
    let got = sql_strings(
        &ctx,
        "select mcid_of(identity_key('phone', normalize_phone(p))) from (values ('+86 138-1234-5678'), ('13812345678'), (null), ('138****5678')) t(p)",
    )
    .await;
    let key = identity_key(IdentityKind::Phone, "+8613812345678").unwrap();
    assert_eq!(
        got,
        vec![Some(mcid_of(key)), Some(mcid_of(key)), None, None]
    );

    let listed = sql_strings(&ctx, "select routine_name from information_schema.routines where routine_name in ('normalize_phone','phone_kind','normalize_email','normalize_device_id','identity_key','mcid_of') order by 1").await;
    assert_eq!(listed.len(), 6, "{listed:?}");
    let shown = sql_strings(&ctx, "show functions like 'normalize_phone'").await;
    assert!(!shown.is_empty());
}

#[tokio::test]
async fn region_must_be_known_and_constant() {
    let ctx = session();
    let err = ctx
        .sql("select normalize_phone('5404 6490', 'XX')")
        .await
        .unwrap()
        .collect()
        .await
        .unwrap_err();
    assert!(err.to_string().contains("unknown region 'XX'"), "{err}");
    let err = ctx
        .sql("select normalize_phone(p, r) from (values ('5404 6490', 'HK')) t(p, r)")
        .await
        .unwrap()
        .collect()
        .await
        .unwrap_err();
    assert!(err.to_string().contains("must be a constant"), "{err}");
}
