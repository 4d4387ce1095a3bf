//! Export of a [`Dataset`]: the canonical Arrow schema, record batches, and
//! the CSV, NDJSON, Parquet and ground-truth writers, plus the field writers
//! the operational tables ([`crate::ops`]) share.
//!
//! Text formats are written by hand rather than through arrow's writers so
//! that `ordered_at` keeps the local `+08:00` offset and `amount` keeps two
//! decimals exactly as the channels export them.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::sync::{Arc, LazyLock};

use chrono::SecondsFormat;
use datafusion::arrow::array::{
    ArrayRef, Decimal128Builder, StringBuilder, TimestampMicrosecondBuilder,
};
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::basic::{Compression, ZstdLevel};
use datafusion::parquet::file::properties::WriterProperties;

use ordergraph_tables::ORDERS;

use crate::{Dataset, Error, OrderRow, Result};

static SCHEMA: LazyLock<SchemaRef> = LazyLock::new(|| ORDERS.schema());

/// Column names of the orders contract, in order.
fn columns() -> impl Iterator<Item = &'static str> {
    ORDERS.columns.iter().map(|c| c.name)
}

/// A field value as written to text formats.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value<'a> {
    Str(&'a str),
    Owned(String),
    /// Fen (CNY cents), written with two decimals.
    Amount(i64),
    Int(i64),
    /// Unix seconds, written as RFC 3339 in the given UTC offset (seconds).
    Time(i64, i32),
    Bool(bool),
    Null,
}

fn opt(v: &Option<String>) -> Value<'_> {
    v.as_deref().map_or(Value::Null, Value::Str)
}

/// The row's values in the order of the orders contract's columns.
fn values(r: &OrderRow) -> [Value<'_>; 14] {
    [
        Value::Str(&r.order_id),
        Value::Str(r.channel),
        Value::Owned(r.ordered_at.to_rfc3339_opts(SecondsFormat::Secs, false)),
        opt(&r.account_id),
        opt(&r.phone),
        opt(&r.email),
        opt(&r.wechat_unionid),
        opt(&r.device_id),
        Value::Amount(r.amount_cents),
        Value::Str(r.status),
        opt(&r.ship_city),
        opt(&r.ship_address),
        opt(&r.ip),
        opt(&r.coupon),
    ]
}

/// Writes an RFC 3339 time with seconds and a numeric offset, as chrono's
/// `to_rfc3339_opts(SecondsFormat::Secs, false)` does, without allocating:
/// the operational tables write tens of millions of them.
pub(crate) fn write_time(w: &mut impl Write, unix: i64, offset: i32) -> std::io::Result<()> {
    let local = unix + offset as i64;
    let (days, secs) = (local.div_euclid(86_400), local.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    if !(0..=9999).contains(&y) {
        // Outside four-digit years defer to chrono's spelling.
        let t = chrono::DateTime::from_timestamp(unix, 0)
            .ok_or_else(|| std::io::Error::other("timestamp out of range"))?
            .with_timezone(
                &chrono::FixedOffset::east_opt(offset)
                    .ok_or_else(|| std::io::Error::other("offset out of range"))?,
            );
        return w.write_all(t.to_rfc3339_opts(SecondsFormat::Secs, false).as_bytes());
    }
    let (sign, off) = if offset < 0 {
        (b'-', -offset)
    } else {
        (b'+', offset)
    };
    let two = |v: i64| [b'0' + (v / 10) as u8, b'0' + (v % 10) as u8];
    let mut buf = [0u8; 25];
    buf[..4].copy_from_slice(&[
        b'0' + (y / 1000) as u8,
        b'0' + (y / 100 % 10) as u8,
        b'0' + (y / 10 % 10) as u8,
        b'0' + (y % 10) as u8,
    ]);
    buf[4] = b'-';
    buf[5..7].copy_from_slice(&two(m as i64));
    buf[7] = b'-';
    buf[8..10].copy_from_slice(&two(d as i64));
    buf[10] = b'T';
    buf[11..13].copy_from_slice(&two(secs / 3600));
    buf[13] = b':';
    buf[14..16].copy_from_slice(&two(secs / 60 % 60));
    buf[16] = b':';
    buf[17..19].copy_from_slice(&two(secs % 60));
    buf[19] = sign;
    buf[20..22].copy_from_slice(&two(off as i64 / 3600));
    buf[22] = b':';
    buf[23..25].copy_from_slice(&two(off as i64 / 60 % 60));
    w.write_all(&buf)
}

/// Proleptic Gregorian `(year, month, day)` of a day count since 1970-01-01
/// (Howard Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

fn write_amount(w: &mut impl Write, cents: i64) -> std::io::Result<()> {
    let sign = if cents < 0 { "-" } else { "" };
    let abs = cents.unsigned_abs();
    write!(w, "{sign}{}.{:02}", abs / 100, abs % 100)
}

/// Writes one CSV field, quoting when a reader could otherwise misread it
/// (separators, quotes, line breaks, or significant edge whitespace).
fn write_csv_field(w: &mut impl Write, s: &str) -> std::io::Result<()> {
    // A byte scan: the special characters are ASCII, and decoding chars
    // was the writers' hottest loop.
    let needs_quotes = s.bytes().any(|b| matches!(b, b',' | b'"' | b'\n' | b'\r'))
        || s.starts_with(char::is_whitespace)
        || s.ends_with(char::is_whitespace);
    if !needs_quotes {
        return w.write_all(s.as_bytes());
    }
    w.write_all(b"\"")?;
    let mut rest = s;
    while let Some(pos) = rest.find('"') {
        w.write_all(&rest.as_bytes()[..=pos])?;
        w.write_all(b"\"")?;
        rest = &rest[pos + 1..];
    }
    w.write_all(rest.as_bytes())?;
    w.write_all(b"\"")
}

fn write_json_string(w: &mut impl Write, s: &str) -> std::io::Result<()> {
    w.write_all(b"\"")?;
    let mut start = 0;
    for (i, c) in s.char_indices() {
        let escape: Option<&str> = match c {
            '"' => Some("\\\""),
            '\\' => Some("\\\\"),
            '\n' => Some("\\n"),
            '\r' => Some("\\r"),
            '\t' => Some("\\t"),
            c if (c as u32) < 0x20 => None,
            _ => continue,
        };
        w.write_all(&s.as_bytes()[start..i])?;
        match escape {
            Some(e) => w.write_all(e.as_bytes())?,
            None => write!(w, "\\u{:04x}", c as u32)?,
        }
        start = i + c.len_utf8();
    }
    w.write_all(&s.as_bytes()[start..])?;
    w.write_all(b"\"")
}

/// Writes one value as a CSV field; NULL is the empty field.
pub(crate) fn write_csv_value(w: &mut impl Write, v: &Value<'_>) -> std::io::Result<()> {
    match v {
        Value::Str(s) => write_csv_field(w, s),
        Value::Owned(s) => write_csv_field(w, s),
        Value::Amount(c) => write_amount(w, *c),
        Value::Int(i) => write!(w, "{i}"),
        Value::Time(t, offset) => write_time(w, *t, *offset),
        Value::Bool(b) => w.write_all(if *b { b"true" } else { b"false" }),
        Value::Null => Ok(()),
    }
}

pub(crate) fn create(path: &Path) -> Result<BufWriter<File>> {
    Ok(BufWriter::with_capacity(1 << 20, File::create(path)?))
}

impl Dataset {
    /// The canonical orders schema shared by every export.
    pub fn orders_schema() -> SchemaRef {
        Arc::clone(&SCHEMA)
    }

    /// The orders as record batches of at most `batch_size` rows.
    pub fn to_record_batches(&self, batch_size: usize) -> Result<Vec<RecordBatch>> {
        if batch_size == 0 {
            return Err(Error::InvalidArgument("batch_size must be positive".into()));
        }
        self.rows.chunks(batch_size).map(Self::batch).collect()
    }

    fn batch(rows: &[OrderRow]) -> Result<RecordBatch> {
        let n = rows.len();
        let strings = |f: &dyn Fn(&OrderRow) -> Option<&str>| -> ArrayRef {
            let bytes = rows.iter().map(|r| f(r).map_or(0, str::len)).sum();
            let mut b = StringBuilder::with_capacity(n, bytes);
            for r in rows {
                b.append_option(f(r));
            }
            Arc::new(b.finish())
        };
        let mut ts = TimestampMicrosecondBuilder::with_capacity(n);
        let mut amount = Decimal128Builder::with_capacity(n);
        for r in rows {
            ts.append_value(r.ordered_at.timestamp_micros());
            amount.append_value(r.amount_cents as i128);
        }
        let columns: Vec<ArrayRef> = vec![
            strings(&|r| Some(&r.order_id)),
            strings(&|r| Some(r.channel)),
            Arc::new(ts.finish().with_timezone("UTC")),
            strings(&|r| r.account_id.as_deref()),
            strings(&|r| r.phone.as_deref()),
            strings(&|r| r.email.as_deref()),
            strings(&|r| r.wechat_unionid.as_deref()),
            strings(&|r| r.device_id.as_deref()),
            Arc::new(amount.finish().with_precision_and_scale(12, 2)?),
            strings(&|r| Some(r.status)),
            strings(&|r| r.ship_city.as_deref()),
            strings(&|r| r.ship_address.as_deref()),
            strings(&|r| r.ip.as_deref()),
            strings(&|r| r.coupon.as_deref()),
        ];
        Ok(RecordBatch::try_new(Self::orders_schema(), columns)?)
    }

    /// Writes the orders as CSV with a header row; NULL is an empty field.
    pub fn write_csv(&self, path: &Path) -> Result<()> {
        let mut w = create(path)?;
        w.write_all(columns().collect::<Vec<_>>().join(",").as_bytes())?;
        w.write_all(b"\n")?;
        for row in &self.rows {
            for (i, v) in values(row).iter().enumerate() {
                if i > 0 {
                    w.write_all(b",")?;
                }
                write_csv_value(&mut w, v)?;
            }
            w.write_all(b"\n")?;
        }
        w.flush()?;
        Ok(())
    }

    /// Writes the orders as newline-delimited JSON; NULL fields are omitted
    /// and `amount` is a JSON number with two decimals.
    pub fn write_ndjson(&self, path: &Path) -> Result<()> {
        let mut w = create(path)?;
        for row in &self.rows {
            w.write_all(b"{")?;
            let mut first = true;
            for (name, v) in columns().zip(values(row).iter()) {
                if matches!(v, Value::Null) {
                    continue;
                }
                if !first {
                    w.write_all(b",")?;
                }
                first = false;
                write!(w, "\"{name}\":")?;
                match v {
                    Value::Str(s) => write_json_string(&mut w, s)?,
                    Value::Owned(s) => write_json_string(&mut w, s)?,
                    Value::Amount(c) => write_amount(&mut w, *c)?,
                    Value::Int(i) => write!(w, "{i}")?,
                    Value::Time(t, offset) => {
                        w.write_all(b"\"")?;
                        write_time(&mut w, *t, *offset)?;
                        w.write_all(b"\"")?;
                    }
                    Value::Bool(b) => write!(w, "{b}")?,
                    Value::Null => {}
                }
            }
            w.write_all(b"}\n")?;
        }
        w.flush()?;
        Ok(())
    }

    /// Writes the orders as a zstd-compressed Parquet file.
    pub fn write_parquet(&self, path: &Path) -> Result<()> {
        let props = WriterProperties::builder()
            .set_compression(Compression::ZSTD(ZstdLevel::default()))
            .build();
        let file = File::create(path)?;
        let mut writer = ArrowWriter::try_new(file, Self::orders_schema(), Some(props))?;
        // Batches bound the builders' memory; row groups stay at the writer's
        // default size regardless.
        for start in (0..self.rows.len()).step_by(64 * 1024) {
            let end = (start + 64 * 1024).min(self.rows.len());
            writer.write(&Self::batch(&self.rows[start..end])?)?;
        }
        writer.close()?;
        Ok(())
    }

    /// Writes the ground truth as CSV `channel,order_id,person,trap`.
    pub fn write_truth(&self, path: &Path) -> Result<()> {
        let mut w = create(path)?;
        w.write_all(b"channel,order_id,person,trap\n")?;
        for row in &self.rows {
            write_csv_field(&mut w, row.channel)?;
            w.write_all(b",")?;
            write_csv_field(&mut w, &row.order_id)?;
            writeln!(w, ",{},{}", row.person, row.trap.unwrap_or(""))?;
        }
        w.flush()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{GenConfig, generate};
    use datafusion::arrow::array::{Array, AsArray};
    use datafusion::arrow::csv::ReaderBuilder;
    use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

    fn small() -> Dataset {
        generate(&GenConfig {
            customers: 800,
            orders: 3_000,
            seed: 11,
            ..GenConfig::default()
        })
    }

    #[test]
    fn csv_field_quoting() {
        let mut out = Vec::new();
        for s in [
            "plain",
            "a,b",
            "say \"hi\"",
            " padded ",
            "line\nbreak",
            "上海市",
        ] {
            write_csv_field(&mut out, s).unwrap();
            out.push(b'|');
        }
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "plain|\"a,b\"|\"say \"\"hi\"\"\"|\" padded \"|\"line\nbreak\"|上海市|"
        );
        let mut out = Vec::new();
        write_json_string(&mut out, "a\"b\\c\u{1}é").unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "\"a\\\"b\\\\c\\u0001é\"");
        let mut out = Vec::new();
        write_amount(&mut out, 19_900).unwrap();
        write_amount(&mut out, 5).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "199.000.05");
    }

    #[test]
    fn times_match_chrono() {
        // Across leap days, century rules, both offset signs and epoch
        // edges, the hand-written formatter spells times as chrono does.
        let offsets = [8 * 3600, 0, -(5 * 3600 + 30 * 60), 14 * 3600];
        let mut t: i64 = -2_208_988_800; // 1900-01-01T00:00:00Z
        while t < 4_102_444_800 {
            for offset in offsets {
                let mut out = Vec::new();
                write_time(&mut out, t, offset).unwrap();
                let expected = chrono::DateTime::from_timestamp(t, 0)
                    .unwrap()
                    .with_timezone(&chrono::FixedOffset::east_opt(offset).unwrap())
                    .to_rfc3339_opts(SecondsFormat::Secs, false);
                assert_eq!(String::from_utf8(out).unwrap(), expected);
            }
            t += 86_399 * 13 + 7;
        }
        let mut out = Vec::new();
        write_csv_value(&mut out, &Value::Time(1_768_443_825, 8 * 3600)).unwrap();
        for v in [
            Value::Int(-3),
            Value::Bool(true),
            Value::Null,
            Value::Amount(199),
        ] {
            out.push(b'|');
            write_csv_value(&mut out, &v).unwrap();
        }
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "2026-01-15T10:23:45+08:00|-3|true||1.99"
        );
    }

    #[test]
    fn batches_match_rows() {
        let d = small();
        let batches = d.to_record_batches(1000).unwrap();
        assert_eq!(batches.len(), 3);
        assert_eq!(
            batches.iter().map(|b| b.num_rows()).sum::<usize>(),
            d.rows.len()
        );
        assert_eq!(batches[0].schema(), Dataset::orders_schema());
        assert!(d.to_record_batches(0).is_err());
        // Text writers zip values with the contract's columns: one each.
        assert_eq!(values(&d.rows[0]).len(), ORDERS.columns.len());
    }

    #[test]
    fn files_round_trip() {
        let d = small();
        let dir = tempfile::tempdir().unwrap();
        let (csv, json, pq, truth) = (
            dir.path().join("orders.csv"),
            dir.path().join("orders.ndjson"),
            dir.path().join("orders.parquet"),
            dir.path().join("truth.csv"),
        );
        d.write_csv(&csv).unwrap();
        d.write_ndjson(&json).unwrap();
        d.write_parquet(&pq).unwrap();
        d.write_truth(&truth).unwrap();

        // CSV parses back under the canonical schema to the same values.
        let reader = ReaderBuilder::new(Dataset::orders_schema())
            .with_header(true)
            .with_batch_size(1 << 20)
            .build(File::open(&csv).unwrap())
            .unwrap();
        let from_csv: Vec<RecordBatch> = reader.collect::<Result<_, _>>().unwrap();
        let expected = d.to_record_batches(1 << 20).unwrap();
        assert_eq!(from_csv.len(), 1);
        for (col, field) in Dataset::orders_schema().fields().iter().enumerate() {
            assert_eq!(
                from_csv[0].column(col).as_ref(),
                expected[0].column(col).as_ref(),
                "column {}",
                field.name()
            );
        }
        let first_line = std::fs::read_to_string(&csv).unwrap();
        let second = first_line.lines().nth(1).unwrap();
        assert!(second.contains("+08:00"), "{second}");

        // NDJSON also parses back under the canonical schema.
        let json_reader = datafusion::arrow::json::ReaderBuilder::new(Dataset::orders_schema())
            .with_batch_size(1 << 20)
            .build(std::io::BufReader::new(File::open(&json).unwrap()))
            .unwrap();
        let from_json: Vec<RecordBatch> = json_reader.collect::<Result<_, _>>().unwrap();
        assert_eq!(from_json[0].num_rows(), d.rows.len());
        assert_eq!(
            from_json[0].column(8).as_ref(),
            expected[0].column(8).as_ref()
        );
        assert_eq!(
            from_json[0].column(2).as_ref(),
            expected[0].column(2).as_ref()
        );
        assert_eq!(
            from_json[0].column(4).as_ref(),
            expected[0].column(4).as_ref()
        );

        let pq_rows: usize = ParquetRecordBatchReaderBuilder::try_new(File::open(&pq).unwrap())
            .unwrap()
            .build()
            .unwrap()
            .map(|b| b.unwrap().num_rows())
            .sum();
        assert_eq!(pq_rows, d.rows.len());

        let t = crate::Truth::read_csv(&truth).unwrap();
        assert_eq!(t.len(), d.rows.len());
        let amounts = expected[0]
            .column(8)
            .as_primitive::<datafusion::arrow::datatypes::Decimal128Type>();
        assert_eq!(amounts.null_count(), 0);
    }
}
