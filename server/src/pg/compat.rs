//! The PostgreSQL functions and settings that drivers and BI tools ask for
//! and datafusion-postgres's pg_catalog does not provide: `version()`,
//! `to_regtype`, `pg_get_serial_sequence`, `current_setting`,
//! `json_build_object`, and the
//! settings ordergraph fixes (read only, read committed, UTF8, 16.6).

use std::sync::Arc;

use datafusion::arrow::array::{Array, AsArray, StringArray};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{ScalarValue, exec_err};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, TypeSignature,
    Volatility, create_udf,
};
use datafusion::prelude::SessionContext;

use crate::pg::SERVER_VERSION;

/// Text values as a function's result: a scalar when every argument was
/// one (a constant folds), else an array.
fn text_result(
    values: StringArray,
    args: &[ColumnarValue],
) -> datafusion::error::Result<ColumnarValue> {
    if args.iter().all(|a| matches!(a, ColumnarValue::Scalar(_))) {
        return Ok(ColumnarValue::Scalar(ScalarValue::try_from_array(
            &values, 0,
        )?));
    }
    Ok(ColumnarValue::Array(Arc::new(values)))
}

/// Registers every function here in a Postgres session.
pub(crate) fn register(session: &SessionContext) {
    session.register_udf(version_udf());
    session.register_udf(to_regtype_udf());
    session.register_udf(no_serial_sequence_udf());
    session.register_udf(ScalarUDF::new_from_impl(CurrentSetting::new()));
    session.register_udf(ScalarUDF::new_from_impl(JsonBuildObject::new()));
    session.register_udf(like_escape_udf());
    session.register_udf(collation_is_visible_udf());
    session.register_udf(ScalarUDF::new_from_impl(Format::new()));
    session.register_udf(udt_name_udf());
    session.register_udf(no_comment_udf("col_description", 2));
    session.register_udf(no_comment_udf("obj_description", 2));
}

/// `col_description(table, column)` / `obj_description(object, catalog)`:
/// NULL, as nothing in ordergraph has a comment.
fn no_comment_udf(name: &'static str, arity: usize) -> ScalarUDF {
    ScalarUDF::new_from_impl(NoComment {
        name,
        signature: Signature::any(arity, Volatility::Stable),
    })
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct NoComment {
    name: &'static str,
    signature: Signature,
}

impl ScalarUDFImpl for NoComment {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _: &[DataType]) -> datafusion::error::Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(
        &self,
        args: ScalarFunctionArgs,
    ) -> datafusion::error::Result<ColumnarValue> {
        Ok(ColumnarValue::Array(
            datafusion::arrow::array::new_null_array(&DataType::Utf8, args.number_rows),
        ))
    }
}

/// `pg_udt_name(data_type)`: the PostgreSQL type name (`udt_name` of
/// information_schema.columns) of an Arrow type as DataFusion's
/// information_schema writes it, as the Postgres protocol sends it.
fn udt_name_udf() -> ScalarUDF {
    fn udt(arrow: &str) -> &'static str {
        let base = arrow.split('(').next().unwrap_or(arrow);
        match base {
            "Utf8" | "LargeUtf8" | "Utf8View" => "text",
            "Int64" | "UInt64" | "UInt32" => "int8",
            "Int32" | "UInt16" => "int4",
            "Int16" | "Int8" | "UInt8" => "int2",
            "Float64" => "float8",
            "Float32" | "Float16" => "float4",
            "Boolean" => "bool",
            "Decimal128" | "Decimal256" => "numeric",
            "Timestamp"
                if arrow.contains("Some(") || arrow.contains("UTC") || arrow.contains('+') =>
            {
                "timestamptz"
            }
            "Timestamp" => "timestamp",
            "Date32" | "Date64" => "date",
            "List" | "LargeList" | "ListView" if arrow.contains("Utf8") => "_text",
            "Binary" | "LargeBinary" | "BinaryView" => "bytea",
            _ => "text",
        }
    }
    create_udf(
        "pg_udt_name",
        vec![DataType::Utf8],
        DataType::Utf8,
        Volatility::Immutable,
        Arc::new(|args: &[ColumnarValue]| {
            let arrays = ColumnarValue::values_to_arrays(args)?;
            let types = arrays[0].as_string::<i32>();
            let out: StringArray = types.iter().map(|t| t.map(udt)).collect();
            text_result(out, args)
        }),
    )
}

/// `pg_collation_is_visible(oid)`: true, as ordergraph has one schema
/// search path and only the default collations.
fn collation_is_visible_udf() -> ScalarUDF {
    create_udf(
        "pg_collation_is_visible",
        vec![DataType::Int64],
        DataType::Boolean,
        Volatility::Stable,
        Arc::new(|args: &[ColumnarValue]| {
            let rows = ColumnarValue::values_to_arrays(args)?[0].len();
            if matches!(args[0], ColumnarValue::Scalar(_)) {
                return Ok(ColumnarValue::Scalar(ScalarValue::Boolean(Some(true))));
            }
            Ok(ColumnarValue::Array(Arc::new(
                datafusion::arrow::array::BooleanArray::from(vec![true; rows]),
            )))
        }),
    )
}

/// `pg_like_escape(pattern, escape)`: a LIKE pattern written with another
/// escape character, for the backslash (see [`crate::pg::rewrite`]).
fn like_escape_udf() -> ScalarUDF {
    create_udf(
        "pg_like_escape",
        vec![DataType::Utf8, DataType::Utf8],
        DataType::Utf8,
        Volatility::Immutable,
        Arc::new(|args: &[ColumnarValue]| {
            let arrays = ColumnarValue::values_to_arrays(args)?;
            let (patterns, escapes) = (arrays[0].as_string::<i32>(), arrays[1].as_string::<i32>());
            let out: StringArray = (0..patterns.len())
                .map(|i| {
                    if patterns.is_null(i) {
                        return None;
                    }
                    let escape = escapes
                        .is_valid(i)
                        .then(|| escapes.value(i).chars().next())
                        .flatten();
                    Some(match escape {
                        Some(e) => crate::pg::rewrite::like_with_backslash(patterns.value(i), e),
                        None => patterns.value(i).to_string(),
                    })
                })
                .collect();
            text_result(out, args)
        }),
    )
}

/// `version()` as PostgreSQL words it: SQLAlchemy and others parse it.
pub(crate) fn version_udf() -> datafusion::logical_expr::ScalarUDF {
    let text = format!(
        "PostgreSQL {SERVER_VERSION} (ordergraph {} on Apache DataFusion {})",
        env!("CARGO_PKG_VERSION"),
        datafusion::DATAFUSION_VERSION
    );
    create_udf(
        "version",
        vec![],
        DataType::Utf8,
        Volatility::Immutable,
        Arc::new(move |_| Ok(ColumnarValue::Scalar(ScalarValue::Utf8(Some(text.clone()))))),
    )
}

/// `to_regtype(name)`: the OID of a built-in type by name, NULL for a type
/// that does not exist here (drivers probe for extension types such as
/// hstore this way: psycopg, so SQLAlchemy).
pub(crate) fn to_regtype_udf() -> datafusion::logical_expr::ScalarUDF {
    const TYPES: &[(&str, i64)] = &[
        ("bool", 16),
        ("boolean", 16),
        ("bytea", 17),
        ("int8", 20),
        ("bigint", 20),
        ("int2", 21),
        ("smallint", 21),
        ("int4", 23),
        ("integer", 23),
        ("text", 25),
        ("oid", 26),
        ("json", 114),
        ("float4", 700),
        ("real", 700),
        ("float8", 701),
        ("double precision", 701),
        ("varchar", 1043),
        ("character varying", 1043),
        ("date", 1082),
        ("time", 1083),
        ("timestamp", 1114),
        ("timestamptz", 1184),
        ("timestamp with time zone", 1184),
        ("interval", 1186),
        ("numeric", 1700),
        ("uuid", 2950),
        ("jsonb", 3802),
    ];
    create_udf(
        "to_regtype",
        vec![DataType::Utf8],
        DataType::Int64,
        Volatility::Immutable,
        Arc::new(|args: &[ColumnarValue]| {
            let names = args[0].to_array(1)?;
            let names = datafusion::arrow::compute::cast(&names, &DataType::Utf8)?;
            let names = datafusion::arrow::array::AsArray::as_string::<i32>(&names);
            let oids: datafusion::arrow::array::Int64Array = names
                .iter()
                .map(|name| {
                    let name = name?
                        .trim()
                        .trim_start_matches("pg_catalog.")
                        .to_lowercase();
                    TYPES.iter().find(|(n, _)| *n == name).map(|(_, oid)| *oid)
                })
                .collect();
            Ok(ColumnarValue::Array(Arc::new(oids)))
        }),
    )
}

/// `pg_get_serial_sequence(table, column)`: always NULL, as no column here
/// is backed by a sequence (SQLAlchemy asks while reflecting columns).
pub(crate) fn no_serial_sequence_udf() -> datafusion::logical_expr::ScalarUDF {
    create_udf(
        "pg_get_serial_sequence",
        vec![DataType::Utf8, DataType::Utf8],
        DataType::Utf8,
        Volatility::Immutable,
        Arc::new(|_| Ok(ColumnarValue::Scalar(ScalarValue::Utf8(None)))),
    )
}

/// Settings whose value ordergraph fixes, in PostgreSQL's wording (tools
/// compare these strings), by name (lower case, words joined by one space:
/// `transaction isolation level`): `SHOW` and `current_setting` answer
/// them; other `SHOW`s go to datafusion-postgres (client settings such as
/// `DateStyle`, `TimeZone`).
pub(crate) fn fixed_setting(name: &str) -> Option<(&'static str, String)> {
    let (name, value) = match name {
        "transaction isolation level" | "transaction_isolation" => {
            ("transaction_isolation", "read committed")
        }
        "default_transaction_isolation" => ("default_transaction_isolation", "read committed"),
        // Every session is read-only, and says so.
        "transaction_read_only" => ("transaction_read_only", "on"),
        "default_transaction_read_only" => ("default_transaction_read_only", "on"),
        "server_version" => ("server_version", SERVER_VERSION),
        "server_version_num" => return Some(("server_version_num", server_version_num())),
        "standard_conforming_strings" => ("standard_conforming_strings", "on"),
        "server_encoding" => ("server_encoding", "UTF8"),
        "client_encoding" => ("client_encoding", "UTF8"),
        "integer_datetimes" => ("integer_datetimes", "on"),
        "max_identifier_length" => ("max_identifier_length", "63"),
        _ => return None,
    };
    Some((name, value.to_string()))
}

/// [`SERVER_VERSION`] as PostgreSQL's `server_version_num` (16.6 -> 160006).
fn server_version_num() -> String {
    let mut parts = SERVER_VERSION
        .split('.')
        .map(|p| p.parse::<u32>().unwrap_or(0));
    let major = parts.next().unwrap_or(0);
    let minor = parts.next().unwrap_or(0);
    (major * 10_000 + minor).to_string()
}

/// Settings a client may change in its own session (datafusion-postgres
/// keeps those), as every session starts: `current_setting` answers these
/// defaults, not a connection's own `SET`.
fn session_default(name: &str) -> Option<&'static str> {
    Some(match name {
        "search_path" => "\"$user\", public",
        "datestyle" => "ISO, MDY",
        "intervalstyle" => "postgres",
        "timezone" => "UTC",
        "application_name" => "",
        "extra_float_digits" => "1",
        "bytea_output" => "hex",
        "lc_collate" | "lc_ctype" => "C",
        "is_superuser" => "off",
        "statement_timeout" | "lock_timeout" => "0",
        _ => return None,
    })
}

/// `current_setting(name [, missing_ok])`: what `SHOW name` answers, as
/// text. An unknown name is an error, as in PostgreSQL, unless `missing_ok`
/// is true (then NULL). Drivers read `server_version_num` and `search_path`
/// this way.
#[derive(Debug, PartialEq, Eq, Hash)]
struct CurrentSetting {
    signature: Signature,
}

impl CurrentSetting {
    fn new() -> Self {
        Self {
            signature: Signature::one_of(
                vec![
                    TypeSignature::Exact(vec![DataType::Utf8]),
                    TypeSignature::Exact(vec![DataType::Utf8, DataType::Boolean]),
                ],
                Volatility::Stable,
            ),
        }
    }
}

impl ScalarUDFImpl for CurrentSetting {
    fn name(&self) -> &str {
        "current_setting"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _: &[DataType]) -> datafusion::error::Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(
        &self,
        args: ScalarFunctionArgs,
    ) -> datafusion::error::Result<ColumnarValue> {
        let rows = args.number_rows;
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let names = arrays[0].as_string::<i32>();
        let missing_ok = arrays.get(1).map(|a| a.as_boolean());
        let mut values = Vec::with_capacity(rows);
        for i in 0..names.len() {
            if names.is_null(i) {
                values.push(None);
                continue;
            }
            let name = names.value(i).trim().to_lowercase();
            let value = fixed_setting(&name)
                .map(|(_, v)| v)
                .or_else(|| session_default(&name).map(str::to_string));
            match value {
                Some(v) => values.push(Some(v)),
                None if missing_ok.is_some_and(|m| m.is_valid(i) && m.value(i)) => {
                    values.push(None)
                }
                None => return exec_err!("unrecognized configuration parameter \"{name}\""),
            }
        }
        let values: StringArray = values.into_iter().collect();
        text_result(values, &args.args)
    }
}

/// `json_build_object(key, value, ...)`: a JSON object as text. SQLAlchemy
/// builds the identity and collation of each column with it while
/// reflecting a table. Keys come out sorted, where PostgreSQL keeps their
/// order; the readers here look keys up by name.
#[derive(Debug, PartialEq, Eq, Hash)]
struct JsonBuildObject {
    signature: Signature,
}

impl JsonBuildObject {
    fn new() -> Self {
        Self {
            signature: Signature::variadic_any(Volatility::Immutable),
        }
    }
}

/// One value of an Arrow array as JSON: booleans and numbers as such,
/// NULL as null, anything else as its text.
fn json_value(array: &dyn Array, row: usize) -> datafusion::error::Result<serde_json::Value> {
    use datafusion::arrow::datatypes::DataType as T;
    if array.is_null(row) {
        return Ok(serde_json::Value::Null);
    }
    let scalar = ScalarValue::try_from_array(array, row)?;
    Ok(match array.data_type() {
        T::Boolean => serde_json::Value::Bool(matches!(scalar, ScalarValue::Boolean(Some(true)))),
        T::Int8 | T::Int16 | T::Int32 | T::Int64 | T::UInt8 | T::UInt16 | T::UInt32 | T::UInt64 => {
            match scalar.cast_to(&T::Int64)? {
                ScalarValue::Int64(Some(n)) => n.into(),
                _ => serde_json::Value::Null,
            }
        }
        T::Float32 | T::Float64 => match scalar.cast_to(&T::Float64)? {
            ScalarValue::Float64(Some(f)) => serde_json::Number::from_f64(f)
                .map_or(serde_json::Value::Null, serde_json::Value::Number),
            _ => serde_json::Value::Null,
        },
        _ => match scalar.cast_to(&T::Utf8)? {
            ScalarValue::Utf8(Some(text)) => serde_json::Value::String(text),
            _ => serde_json::Value::Null,
        },
    })
}

impl ScalarUDFImpl for JsonBuildObject {
    fn name(&self) -> &str {
        "json_build_object"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _: &[DataType]) -> datafusion::error::Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(
        &self,
        args: ScalarFunctionArgs,
    ) -> datafusion::error::Result<ColumnarValue> {
        if !args.args.len().is_multiple_of(2) {
            return exec_err!("json_build_object: the arguments must alternate keys and values");
        }
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let rows = arrays.first().map_or(1, |a| a.len());
        let mut out = Vec::with_capacity(rows);
        for row in 0..rows {
            let mut object = serde_json::Map::new();
            for pair in arrays.chunks(2) {
                let key = match json_value(pair[0].as_ref(), row)? {
                    serde_json::Value::Null => {
                        return exec_err!("json_build_object: a key may not be NULL");
                    }
                    serde_json::Value::String(s) => s,
                    other => other.to_string(),
                };
                object.insert(key, json_value(pair[1].as_ref(), row)?);
            }
            out.push(serde_json::Value::Object(object).to_string());
        }
        let values = StringArray::from(out);
        text_result(values, &args.args)
    }
}

/// `format(template, args...)`, PostgreSQL's: `%s` the argument as text
/// (NULL as nothing), `%I` quoted as an identifier where needed, `%L` as a
/// literal (NULL as `NULL`), `%%` a percent sign. Metabase builds
/// qualified table names with it while syncing fields.
#[derive(Debug, PartialEq, Eq, Hash)]
struct Format {
    signature: Signature,
}

impl Format {
    fn new() -> Self {
        Self {
            signature: Signature::variadic_any(Volatility::Immutable),
        }
    }
}

/// `text` as an identifier: bare if lower-case letters, digits and
/// underscores (not starting with a digit), else double-quoted.
fn quote_ident(text: &str) -> String {
    let plain = text
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && text
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if plain {
        text.to_string()
    } else {
        format!("\"{}\"", text.replace('"', "\"\""))
    }
}

/// The template filled in, or why not.
fn format_row(template: &str, args: &[Option<String>]) -> Result<String, String> {
    let mut out = String::with_capacity(template.len());
    let mut next = args.iter();
    let mut chars = template.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let spec = chars.next().ok_or("unterminated format() type specifier")?;
        if spec == '%' {
            out.push('%');
            continue;
        }
        let arg = next.next().ok_or("too few arguments for format()")?;
        match (spec, arg) {
            ('s', Some(v)) => out.push_str(v),
            ('s', None) => {}
            ('I', Some(v)) => out.push_str(&quote_ident(v)),
            ('I', None) => {
                return Err("null values cannot be formatted as an SQL identifier".into());
            }
            ('L', Some(v)) => out.push_str(&format!("'{}'", v.replace('\'', "''"))),
            ('L', None) => out.push_str("NULL"),
            (other, _) => return Err(format!("unrecognized format() type specifier \"{other}\"")),
        }
    }
    Ok(out)
}

impl ScalarUDFImpl for Format {
    fn name(&self) -> &str {
        "format"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _: &[DataType]) -> datafusion::error::Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(
        &self,
        args: ScalarFunctionArgs,
    ) -> datafusion::error::Result<ColumnarValue> {
        let arrays: Vec<_> = ColumnarValue::values_to_arrays(&args.args)?
            .iter()
            .map(|a| datafusion::arrow::compute::cast(a, &DataType::Utf8))
            .collect::<Result<_, _>>()?;
        let Some((template, rest)) = arrays.split_first() else {
            return exec_err!("format() needs a template");
        };
        let template = template.as_string::<i32>();
        let rest: Vec<_> = rest.iter().map(|a| a.as_string::<i32>()).collect();
        let mut out = Vec::with_capacity(template.len());
        for row in 0..template.len() {
            if template.is_null(row) {
                out.push(None);
                continue;
            }
            let values: Vec<Option<String>> = rest
                .iter()
                .map(|a| a.is_valid(row).then(|| a.value(row).to_string()))
                .collect();
            match format_row(template.value(row), &values) {
                Ok(text) => out.push(Some(text)),
                Err(e) => return exec_err!("{e}"),
            }
        }
        let values = StringArray::from(out);
        text_result(values, &args.args)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn one(sql: &str) -> datafusion::error::Result<Option<String>> {
        let session = SessionContext::new();
        register(&session);
        let batches = session.sql(sql).await?.collect().await?;
        let column = batches[0].column(0);
        let column = datafusion::arrow::compute::cast(column, &DataType::Utf8)?;
        let values = column.as_string::<i32>();
        Ok(values.is_valid(0).then(|| values.value(0).to_string()))
    }

    #[tokio::test]
    async fn current_setting_answers_as_show_does() {
        let got = |sql: &'static str| async move { one(sql).await.unwrap() };
        assert_eq!(
            got("SELECT current_setting('server_version_num')")
                .await
                .as_deref(),
            Some("160006")
        );
        assert_eq!(
            got("SELECT current_setting('Server_Version')")
                .await
                .as_deref(),
            Some("16.6")
        );
        assert_eq!(
            got("SELECT current_setting('transaction_read_only')")
                .await
                .as_deref(),
            Some("on")
        );
        assert_eq!(
            got("SELECT current_setting('search_path')")
                .await
                .as_deref(),
            Some("\"$user\", public")
        );
        assert_eq!(
            got("SELECT current_setting('no_such_thing', true)").await,
            None
        );
        let error = one("SELECT current_setting('no_such_thing')")
            .await
            .unwrap_err();
        assert!(
            error
                .to_string()
                .contains("unrecognized configuration parameter"),
            "{error}"
        );
        // Over a column, as catalog queries call it.
        let n = got(
            "SELECT count(*) FROM (VALUES ('server_encoding'), ('client_encoding')) t(n) \
                     WHERE current_setting(n) = 'UTF8'",
        )
        .await;
        assert_eq!(n.as_deref(), Some("2"));
    }

    #[tokio::test]
    async fn format_fills_in_text_identifiers_and_literals() {
        let got = one("SELECT format('%I.%I = %L (%s%%)', 'public', 'Orders', 'it''s', NULL)")
            .await
            .unwrap();
        assert_eq!(got.as_deref(), Some(r#"public."Orders" = 'it''s' (%)"#));
        let error = one("SELECT format('%s %s', 'one')").await.unwrap_err();
        assert!(error.to_string().contains("too few arguments"), "{error}");
    }

    #[tokio::test]
    async fn json_build_object_builds_json_text() {
        let got =
            one("SELECT json_build_object('always', true, 'start', 1, 'name', 'C', 'none', NULL)")
                .await
                .unwrap();
        assert_eq!(
            got.as_deref(),
            Some(r#"{"always":true,"name":"C","none":null,"start":1}"#)
        );
        let error = one("SELECT json_build_object('odd')").await.unwrap_err();
        assert!(error.to_string().contains("alternate"), "{error}");
    }
}
