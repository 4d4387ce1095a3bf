//! Property tests of decoding hostile input. Any bytes, in any of the three
//! formats, give batches or a located error, never a panic. Rows built from
//! good and bad values are accepted exactly when every value is good, and
//! otherwise fail at the first bad value's line and column, whether sent as
//! CSV or NDJSON. Damaged Parquet files are refused cleanly. `fuzz/` runs
//! [`decode`] under libFuzzer for longer, with a memory limit.

use proptest::prelude::*;

use super::*;
use crate::table::ORDERS;

/// One field of a generated row, and whether the contract accepts it.
#[derive(Debug, Clone)]
struct Field {
    text: Option<String>,
    good: bool,
}

fn good(text: impl Into<String>) -> Field {
    Field {
        text: Some(text.into()),
        good: true,
    }
}

fn bad(text: impl Into<String>) -> Field {
    Field {
        text: Some(text.into()),
        good: false,
    }
}

fn timestamp() -> impl Strategy<Value = String> {
    (
        2000..2031u32,
        1..13u32,
        1..29u32,
        0..24u32,
        0..60u32,
        0..60u32,
        prop::sample::select(vec!["+08:00", "Z", "-05:30", "+00:00"]),
        prop::sample::select(vec!["T", " "]),
    )
        .prop_map(|(y, mo, d, h, mi, s, off, sep)| {
            format!("{y:04}-{mo:02}-{d:02}{sep}{h:02}:{mi:02}:{s:02}{off}")
        })
}

/// Good and bad values for the column at `position` of `orders`.
fn field(position: usize) -> BoxedStrategy<Field> {
    let column = &ORDERS.columns[position];
    let empty = Field {
        text: None,
        good: !column.required,
    };
    let values = match column.ty {
        ColumnType::Timestamp => prop_oneof![
            4 => timestamp().prop_map(good),
            1 => "[a-z]{1,9}".prop_map(bad),
            1 => "20[0-9]{2}-1[3-9]-0[1-9]T10:00:00Z".prop_map(bad),
            1 => "2026-01-1[0-9]T10:00:00".prop_map(bad),
        ]
        .boxed(),
        ColumnType::Money => prop_oneof![
            4 => "-?[0-9]{1,9}(\\.[0-9]{1,2})?".prop_map(good),
            1 => "[0-9]{1,5}\\.[0-9]{3,5}".prop_map(bad),
            1 => "[a-z¥,]{1,6}".prop_map(bad),
        ]
        .boxed(),
        ColumnType::Enum(allowed) => prop_oneof![
            4 => (prop::sample::select(allowed.to_vec()), any::<bool>())
                .prop_map(|(s, upper)| good(if upper { s.to_uppercase() } else { s.to_string() })),
            1 => "[a-z]{1,9}"
                .prop_filter("not a status", move |s| !allowed.contains(&s.as_str()))
                .prop_map(bad),
        ]
        .boxed(),
        _ if column.required => "[A-Za-z0-9_一-龥][A-Za-z0-9_ 一-龥,\"]{0,11}"
            .prop_map(good)
            .boxed(),
        _ => "[^\r\n]{0,12}".prop_map(good).boxed(),
    };
    prop_oneof![4 => values, 1 => Just(empty)].boxed()
}

fn row() -> impl Strategy<Value = Vec<Field>> {
    (0..ORDERS.columns.len()).map(field).collect::<Vec<_>>()
}

/// The rows as CSV with the standard header (quoted by the csv crate).
fn to_csv(rows: &[Vec<Field>]) -> Bytes {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(ORDERS.columns.iter().map(|c| c.name))
        .unwrap();
    for row in rows {
        w.write_record(row.iter().map(|f| f.text.as_deref().unwrap_or("")))
            .unwrap();
    }
    Bytes::from(w.into_inner().unwrap())
}

/// The rows as NDJSON; an empty field is left out or written as null.
fn to_ndjson(rows: &[Vec<Field>]) -> Bytes {
    let mut out = String::new();
    for (r, row) in rows.iter().enumerate() {
        let mut object = serde_json::Map::new();
        for (i, f) in row.iter().enumerate() {
            let name = ORDERS.columns[i].name.to_string();
            match &f.text {
                Some(t) => object.insert(name, serde_json::Value::String(t.clone())),
                None if (r + i) % 2 == 0 => object.insert(name, serde_json::Value::Null),
                None => None,
            };
        }
        out.push_str(&serde_json::Value::Object(object).to_string());
        out.push('\n');
    }
    Bytes::from(out)
}

/// Where decoding must stop: the first row with a bad value (0-based) and
/// that value's column, or `None` if every value is good.
fn first_bad(rows: &[Vec<Field>]) -> Option<(usize, &'static str)> {
    rows.iter().enumerate().find_map(|(r, row)| {
        let c = row.iter().position(|f| !f.good)?;
        Some((r, ORDERS.columns[c].name))
    })
}

fn rows_of(batches: &[RecordBatch]) -> usize {
    batches.iter().map(RecordBatch::num_rows).sum()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    #[test]
    fn any_bytes_decode_or_fail_with_a_place(data in prop::collection::vec(any::<u8>(), 0..600)) {
        for format in [Format::Csv, Format::Ndjson, Format::Parquet] {
            if let Err(e) = decode(&ORDERS, format, "fuzz", Bytes::from(data.clone())) {
                prop_assert!(!e.reason.is_empty());
                prop_assert!(e.to_string().starts_with("fuzz: line "), "{}", e);
            }
        }
    }

    #[test]
    fn csv_and_ndjson_accept_exactly_the_good_rows(rows in prop::collection::vec(row(), 1..12)) {
        let expected = first_bad(&rows);
        for (format, data) in [(Format::Csv, to_csv(&rows)), (Format::Ndjson, to_ndjson(&rows))] {
            // A CSV header is line 1, so its rows start at line 2.
            let first_line = if format == Format::Csv { 2 } else { 1 };
            match (decode(&ORDERS, format, "rows", data), expected) {
                (Ok(batches), None) => prop_assert_eq!(rows_of(&batches), rows.len()),
                (Err(e), Some((row, column))) => {
                    prop_assert_eq!(e.line, (row + first_line) as u64, "{:?}: {}", format, e);
                    prop_assert_eq!(e.column.as_deref(), Some(column), "{:?}: {}", format, e);
                }
                (Ok(_), Some(bad)) => prop_assert!(false, "{:?} accepted a bad value at {:?}", format, bad),
                (Err(e), None) => prop_assert!(false, "{:?} refused good rows: {}", format, e),
            }
        }
    }

    #[test]
    fn damaged_parquet_is_refused_cleanly(
        rows in prop::collection::vec(row(), 1..6),
        damage in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
        cut in any::<prop::sample::Index>(),
    ) {
        let good_rows: Vec<Vec<Field>> = rows.into_iter().filter(|r| r.iter().all(|f| f.good)).collect();
        prop_assume!(!good_rows.is_empty());
        let batches = decode(&ORDERS, Format::Csv, "rows", to_csv(&good_rows)).unwrap();
        let mut file = Vec::new();
        let mut writer = datafusion::parquet::arrow::ArrowWriter::try_new(&mut file, batches[0].schema(), None).unwrap();
        for b in &batches {
            writer.write(b).unwrap();
        }
        writer.close().unwrap();
        let intact = decode(&ORDERS, Format::Parquet, "x.parquet", Bytes::from(file.clone())).unwrap();
        prop_assert_eq!(&intact, &batches);
        let mut damaged = file.clone();
        for (at, byte) in &damage {
            let i = at.index(damaged.len());
            damaged[i] ^= byte | 1;
        }
        let _ = decode(&ORDERS, Format::Parquet, "x.parquet", Bytes::from(damaged));
        let truncated = file[..cut.index(file.len())].to_vec();
        prop_assert!(decode(&ORDERS, Format::Parquet, "x.parquet", Bytes::from(truncated)).is_err());
    }
}
