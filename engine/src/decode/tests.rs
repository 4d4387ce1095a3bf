//! Decoding: good input in every format, and bad input located precisely.

use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::datatypes::{Decimal128Type, TimestampMicrosecondType};

use super::*;
use crate::table::ORDERS;

const HEADER: &str = "order_id,channel,ordered_at,account_id,phone,email,wechat_unionid,device_id,amount,status,ship_city,ship_address,ip,coupon";

fn csv(body: &str) -> DResult<Vec<RecordBatch>> {
    decode(
        &ORDERS,
        Format::Csv,
        "orders.csv",
        Bytes::from(format!("{HEADER}\n{body}")),
    )
}

#[test]
fn csv_empty_fields_are_null_and_values_are_typed() {
    let batches =
        csv("A1,tmall,2026-01-15T10:23:45+08:00,tb_1,,,,,199.5,PAID,上海,\"浦东新区, 张江路\",,\n")
            .unwrap();
    let b = &batches[0];
    assert_eq!(b.num_rows(), 1);
    let at = b
        .column(2)
        .as_primitive::<TimestampMicrosecondType>()
        .value(0);
    assert_eq!(
        at,
        DateTime::parse_from_rfc3339("2026-01-15T02:23:45Z")
            .unwrap()
            .timestamp_micros()
    );
    assert_eq!(b.column(8).as_primitive::<Decimal128Type>().value(0), 19950);
    assert_eq!(b.column(9).as_string::<i32>().value(0), "paid");
    assert_eq!(b.column(11).as_string::<i32>().value(0), "浦东新区, 张江路");
    assert!(b.column(4).is_null(0) && b.column(13).is_null(0));
}

#[test]
fn csv_header_may_omit_optional_columns_in_any_order() {
    let data = "channel,order_id,ordered_at\njd,9,2026-01-15 10:23:45+08:00\n";
    let batches = decode(&ORDERS, Format::Csv, "x.csv", Bytes::from(data)).unwrap();
    assert_eq!(batches[0].column(0).as_string::<i32>().value(0), "9");
    assert!(batches[0].column(8).is_null(0));
}

#[test]
fn csv_errors_name_line_column_and_reason() {
    let err = csv("A1,tmall,2026-01-15T10:23:45+08:00,,,,,,1.00,paid,,,,\nA2,tmall,2026-01-15T10:23:45+08:00,,,,,,12.345,paid,,,,\n").unwrap_err();
    assert_eq!((err.line, err.column.as_deref()), (3, Some("amount")));
    assert!(err.reason.contains("two decimals"), "{err}");
    assert_eq!(
        err.to_string(),
        "orders.csv: line 3, column amount: '12.345' is not an amount with at most two decimals"
    );

    let err = csv("A1,tmall,2026-01-15T10:23:45,,,,,,1.00,paid,,,,\n").unwrap_err();
    assert_eq!(err.column.as_deref(), Some("ordered_at"));
    assert!(err.reason.contains("no UTC offset"), "{err}");

    let err = csv("A1,tmall,2026-01-15T10:23:45+08:00,,,,,,1.00,lost,,,,\n").unwrap_err();
    assert!(err.reason.contains("not one of created, paid"), "{err}");

    let err = csv("A1,tmall,2026-01-15T10:23:45+08:00\n").unwrap_err();
    assert_eq!(err.line, 2);
    assert!(err.reason.contains("expected 14 fields, found 3"), "{err}");

    let err = csv(",tmall,2026-01-15T10:23:45+08:00,,,,,,,,,,,\n").unwrap_err();
    assert_eq!(
        (err.column.as_deref(), err.reason.as_str()),
        (Some("order_id"), "a value is required")
    );

    let err = decode(
        &ORDERS,
        Format::Csv,
        "x.csv",
        Bytes::from("order_id,channel,ordered_at,colour\n"),
    )
    .unwrap_err();
    assert!(err.reason.contains("unknown column 'colour'"), "{err}");
    let err = decode(
        &ORDERS,
        Format::Csv,
        "x.csv",
        Bytes::from("order_id,channel\n"),
    )
    .unwrap_err();
    assert!(err.reason.contains("'ordered_at' is missing"), "{err}");
}

#[test]
fn ndjson_missing_and_null_are_null() {
    let data = concat!(
        "{\"order_id\":\"A1\",\"channel\":\"pdd\",\"ordered_at\":\"2026-01-15T10:23:45+08:00\",\"amount\":12.5,\"phone\":null}\n",
        "\n",
        "{\"order_id\":\"A2\",\"channel\":\"pdd\",\"ordered_at\":\"2026-01-15T10:23:45Z\",\"amount\":\"7\"}\n",
    );
    let batches = decode(&ORDERS, Format::Ndjson, "body", Bytes::from(data)).unwrap();
    let b = &batches[0];
    assert_eq!(b.num_rows(), 2);
    assert_eq!(
        b.column(8).as_primitive::<Decimal128Type>().values(),
        &[1250, 700]
    );
    assert!(b.column(4).is_null(0) && b.column(5).is_null(1));
}

#[test]
fn ndjson_errors_name_the_line() {
    let data = "{\"order_id\":\"A1\",\"channel\":\"pdd\",\"ordered_at\":\"2026-01-15T10:23:45+08:00\"}\n{\"order_id\": \"A2\", \"channel\": \n";
    let err = decode(&ORDERS, Format::Ndjson, "body", Bytes::from(data)).unwrap_err();
    assert_eq!(err.line, 2);
    assert!(err.reason.starts_with("invalid JSON"), "{err}");
    let data = "{\"order_id\":\"A1\",\"channel\":\"pdd\",\"ordered_at\":\"2026-01-15T10:23:45+08:00\",\"amount\":[1]}\n";
    let err = decode(&ORDERS, Format::Ndjson, "body", Bytes::from(data)).unwrap_err();
    assert_eq!(err.column.as_deref(), Some("amount"));
}

#[test]
fn parquet_round_trips_through_the_same_rules() {
    let batches =
        csv("A1,tmall,2026-01-15T10:23:45+08:00,tb_1,13812345678,,,,199.50,paid,上海,,,\n")
            .unwrap();
    let mut buf = Vec::new();
    let mut w =
        datafusion::parquet::arrow::ArrowWriter::try_new(&mut buf, batches[0].schema(), None)
            .unwrap();
    w.write(&batches[0]).unwrap();
    w.close().unwrap();
    let back = decode(&ORDERS, Format::Parquet, "x.parquet", Bytes::from(buf)).unwrap();
    assert_eq!(back, batches);
    let err = decode(
        &ORDERS,
        Format::Parquet,
        "x.parquet",
        Bytes::from_static(b"PAR1 not really"),
    )
    .unwrap_err();
    assert!(err.reason.contains("not a readable Parquet file"), "{err}");
}

#[test]
fn money_and_time_parsers() {
    assert_eq!(parse_money("0.1"), Ok(10));
    assert_eq!(parse_money("-3"), Ok(-300));
    assert_eq!(parse_money(".5"), Ok(50));
    assert!(parse_money("1e3").is_err() && parse_money("").is_err() && parse_money("¥5").is_err());
    assert!(parse_money("99999999999").is_err());
    assert_eq!(
        parse_timestamp("2026-01-15T10:23:45.5+08:00"),
        Ok(parse_timestamp("2026-01-15T02:23:45.500Z").unwrap())
    );
    assert!(
        parse_timestamp("yesterday")
            .unwrap_err()
            .contains("not an RFC 3339")
    );
}
