//! Kafka sources (`[[sources.kafka]]`): each partition of each topic is
//! read by one task, and what it reads is ingested with the partition's
//! next offset in the same durable write (see
//! [`ordergraph_engine::positions`]). A restart resumes from the stored
//! offsets, so a crash loses nothing and takes nothing in twice. Offsets are
//! ordergraph's own, under the source's `group`, never committed to the
//! broker.
//!
//! A message that cannot be taken in (it does not decode, or breaks a
//! table's rule) is recorded in `source_rejects` with its topic, partition,
//! offset and error, and the partition goes on. A task waits for each
//! commit before it fetches again, so a busy engine slows the consumers
//! down instead of filling memory.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use bytes::Bytes;
use datafusion::arrow::array::RecordBatch;
use ordergraph_engine::{Engine, Format, Positions, decode, table};
use rskafka::client::error::{Error as KafkaError, ProtocolError};
use rskafka::client::partition::{OffsetAt, UnknownTopicHandling};
use rskafka::client::{Client, ClientBuilder};
use rskafka::record::RecordAndOffset;
use serde::Deserialize;
use serde_json::json;
use tokio::sync::watch;

/// The most a fetch asks for, per partition.
const FETCH_BYTES: i32 = 4 << 20;
/// How long a fetch waits at the broker for new messages.
const FETCH_WAIT_MS: i32 = 500;
/// How often the topics are listed again, for partitions added later.
const DISCOVER_EVERY: Duration = Duration::from_secs(30);
/// The longest wait between attempts after an error.
const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// The most of a rejected message kept in `source_rejects`.
const REJECT_VALUE_CHARS: usize = 4_096;

/// `[[sources.kafka]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KafkaSettings {
    /// Bootstrap brokers, `host:port`.
    pub brokers: Vec<String>,
    /// Topics to read, every partition of each.
    pub topics: Vec<String>,
    /// The table the rows go to (`orders` or an input table).
    pub table: String,
    /// How a message's value is written.
    #[serde(default)]
    pub format: MessageFormat,
    /// Names the stored offsets: a new group reads every topic from its
    /// start.
    pub group: String,
}

/// How a message's value holds rows.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum MessageFormat {
    /// One JSON object per line (one or more lines per message).
    #[default]
    Ndjson,
    /// CSV with its header line, then one or more rows.
    Csv,
    /// One JSON array of objects.
    JsonArray,
}

/// Checks the sources before anything starts.
pub fn check(sources: &[KafkaSettings]) -> anyhow::Result<()> {
    let mut groups = BTreeSet::new();
    for source in sources {
        if source.brokers.is_empty() || source.topics.is_empty() {
            bail!("[[sources.kafka]] needs brokers and topics");
        }
        if table::table(&source.table).is_none() {
            bail!(
                "[[sources.kafka]] table '{}' is not an ingestible table",
                source.table
            );
        }
        if source.group.is_empty() || source.group.contains('/') {
            bail!("[[sources.kafka]] group must be set, without '/'");
        }
        for topic in &source.topics {
            if !groups.insert((source.group.clone(), topic.clone())) {
                bail!(
                    "[[sources.kafka]] topic '{topic}' is read twice in group '{}'",
                    source.group
                );
            }
        }
    }
    Ok(())
}

/// The position key of a partition.
fn position_key(group: &str, topic: &str, partition: i32) -> String {
    format!("kafka/{group}/{topic}/{partition}")
}

/// Starts reading every source; the tasks end when `stop` turns true.
pub fn spawn(
    engine: Arc<Engine>,
    sources: &[KafkaSettings],
    stop: watch::Receiver<bool>,
) -> Vec<tokio::task::JoinHandle<()>> {
    sources
        .iter()
        .map(|source| {
            tokio::spawn(discover(
                engine.clone(),
                Arc::new(source.clone()),
                stop.clone(),
            ))
        })
        .collect()
}

/// Connects, then starts a reader for each partition of the source's topics,
/// looking again now and then for partitions added since.
async fn discover(
    engine: Arc<Engine>,
    source: Arc<KafkaSettings>,
    mut stop: watch::Receiver<bool>,
) {
    let mut backoff = Backoff::default();
    let client = loop {
        match ClientBuilder::new(source.brokers.clone()).build().await {
            Ok(client) => break Arc::new(client),
            Err(e) => {
                tracing::warn!(brokers = ?source.brokers, error = %e, "cannot reach the Kafka brokers; trying again");
                if backoff.wait(&mut stop).await {
                    return;
                }
            }
        }
    };
    let mut readers = BTreeMap::new();
    loop {
        match client.list_topics().await {
            Ok(topics) => {
                for topic in &source.topics {
                    match topics.iter().find(|t| &t.name == topic) {
                        Some(found) => {
                            for &partition in &found.partitions {
                                readers
                                    .entry((topic.clone(), partition))
                                    .or_insert_with(|| {
                                        tokio::spawn(read_partition(
                                            engine.clone(),
                                            client.clone(),
                                            source.clone(),
                                            topic.clone(),
                                            partition,
                                            stop.clone(),
                                        ))
                                    });
                            }
                        }
                        None => tracing::warn!(topic, "Kafka topic not found; looking again"),
                    }
                }
            }
            Err(e) => tracing::warn!(error = %e, "listing Kafka topics failed; trying again"),
        }
        tokio::select! {
            _ = tokio::time::sleep(DISCOVER_EVERY) => {}
            _ = stop.wait_for(|s| *s) => break,
        }
    }
    for (_, reader) in readers {
        let _ = reader.await;
    }
}

/// Reads one partition from its stored offset on, for good.
async fn read_partition(
    engine: Arc<Engine>,
    client: Arc<Client>,
    source: Arc<KafkaSettings>,
    topic: String,
    partition: i32,
    mut stop: watch::Receiver<bool>,
) {
    let key = position_key(&source.group, &topic, partition);
    let labels = [
        ("group", source.group.clone()),
        ("topic", topic.clone()),
        ("partition", partition.to_string()),
    ];
    let mut backoff = Backoff::default();
    let partition_client = loop {
        match client
            .partition_client(topic.clone(), partition, UnknownTopicHandling::Retry)
            .await
        {
            Ok(c) => break c,
            Err(e) => {
                tracing::warn!(topic, partition, error = %e, "cannot reach the partition's leader; trying again");
                if backoff.wait(&mut stop).await {
                    return;
                }
            }
        }
    };
    let mut next = engine.source_positions().get(&key).copied();
    tracing::info!(topic, partition, offset = ?next, "reading Kafka partition");
    loop {
        if *stop.borrow() {
            return;
        }
        let offset = match next {
            Some(offset) => offset,
            None => match partition_client.get_offset(OffsetAt::Earliest).await {
                Ok(offset) => offset,
                Err(e) => {
                    tracing::warn!(topic, partition, error = %e, "cannot read the partition's first offset");
                    if backoff.wait(&mut stop).await {
                        return;
                    }
                    continue;
                }
            },
        };
        let fetched = tokio::select! {
            fetched = partition_client.fetch_records(offset, 1..FETCH_BYTES, FETCH_WAIT_MS) => fetched,
            _ = stop.wait_for(|s| *s) => return,
        };
        let (records, high_watermark) = match fetched {
            Ok(fetched) => fetched,
            Err(KafkaError::ServerError {
                protocol_error: ProtocolError::OffsetOutOfRange,
                ..
            }) => {
                // Retention removed messages not read yet: they are gone.
                let earliest = partition_client.get_offset(OffsetAt::Earliest).await;
                tracing::error!(topic, partition, offset, earliest = ?earliest.as_ref().ok(), "Kafka offset out of range: messages removed by retention before they were read are skipped");
                metrics::counter!("ordergraph_source_skipped_total", &labels).increment(1);
                next = earliest.ok().filter(|&e| e > offset);
                if next.is_none() && backoff.wait(&mut stop).await {
                    return;
                }
                continue;
            }
            Err(e) => {
                tracing::warn!(topic, partition, error = %e, "Kafka fetch failed; trying again");
                if backoff.wait(&mut stop).await {
                    return;
                }
                continue;
            }
        };
        let records: Vec<_> = records.into_iter().filter(|r| r.offset >= offset).collect();
        let end = records.last().map_or(offset, |r| r.offset + 1);
        metrics::gauge!("ordergraph_source_lag_messages", &labels)
            .set((high_watermark - end).max(0) as f64);
        if records.is_empty() {
            next = Some(offset);
            continue;
        }
        let taken = {
            let (engine, source, topic) = (engine.clone(), source.clone(), topic.clone());
            tokio::task::spawn_blocking(move || {
                take_in(&engine, &source, &topic, partition, &records, end)
            })
            .await
        };
        match taken {
            Ok(Ok(rejected)) => {
                backoff = Backoff::default();
                metrics::counter!("ordergraph_source_messages_total", &labels)
                    .increment((end - offset) as u64);
                if rejected > 0 {
                    metrics::counter!("ordergraph_source_rejects_total", &labels)
                        .increment(rejected as u64);
                }
                next = Some(end);
            }
            Ok(Err(e)) => {
                // The engine could not store them (disk, shutdown): the
                // same messages are read again.
                tracing::error!(topic, partition, error = %e, "taking in Kafka messages failed; reading them again");
                if backoff.wait(&mut stop).await {
                    return;
                }
            }
            Err(e) => std::panic::resume_unwind(e.into_panic()),
        }
    }
}

/// Ingests the rows of `records` with the partition's next offset `end`;
/// messages that cannot be taken in go to `source_rejects`. Returns how
/// many were rejected.
fn take_in(
    engine: &Engine,
    source: &KafkaSettings,
    topic: &str,
    partition: i32,
    records: &[RecordAndOffset],
    end: i64,
) -> anyhow::Result<usize> {
    let def = table::table(&source.table).context("the source's table")?;
    let positions: Positions = [(position_key(&source.group, topic, partition), end)].into();
    let mut rows: Vec<(i64, Vec<RecordBatch>)> = Vec::new();
    let mut rejects = Vec::new();
    for r in records {
        let Some(value) = &r.record.value else {
            continue;
        };
        let name = format!("{topic}/{partition}@{}", r.offset);
        match decode_message(def, source.format, &name, value) {
            Ok(batches) => rows.push((r.offset, batches)),
            Err(error) => rejects.push(reject(source, topic, partition, r.offset, &error, value)),
        }
    }
    // Whole, or message by message to find the ones a table rule refuses.
    let all: Vec<RecordBatch> = rows.iter().flat_map(|(_, b)| b.clone()).collect();
    let whole = if all.is_empty() {
        Ok(())
    } else if rejects.is_empty() {
        return engine
            .ingest_batches_at(&source.table, all, positions)
            .map(|_| 0)
            .map_err(Into::into);
    } else {
        engine
            .ingest_batches_at(&source.table, all, Positions::new())
            .map(|_| ())
    };
    if let Err(e) = whole {
        if !is_input_error(&e) {
            return Err(e.into());
        }
        for (offset, batches) in rows {
            if let Err(e) = engine.ingest_batches_at(&source.table, batches, Positions::new()) {
                if !is_input_error(&e) {
                    return Err(e.into());
                }
                let value = records
                    .iter()
                    .find(|r| r.offset == offset)
                    .and_then(|r| r.record.value.as_deref())
                    .unwrap_or_default();
                rejects.push(reject(
                    source,
                    topic,
                    partition,
                    offset,
                    &e.to_string(),
                    value,
                ));
            }
        }
    }
    // The rows are stored; the rejects carry the partition's offset. A
    // crash in between reads the messages again: the rows come back
    // unchanged, and the rejects are recorded once.
    let mut ndjson = Vec::new();
    for row in &rejects {
        serde_json::to_writer(&mut ndjson, row).expect("JSON values serialize");
        ndjson.push(b'\n');
    }
    if rejects.is_empty() {
        // Only rows refused one by one could get here with none: store the
        // offset with nothing else.
        engine.ingest_batches_at(&source.table, Vec::new(), positions)?;
    } else {
        for row in &rejects {
            tracing::warn!(
                topic,
                partition,
                offset = row["message_offset"].as_i64(),
                error = row["error"].as_str(),
                "Kafka message rejected"
            );
        }
        engine.record_at("source_rejects", Bytes::from(ndjson), positions)?;
    }
    Ok(rejects.len())
}

/// The rows of one message.
fn decode_message(
    def: &table::TableDef,
    format: MessageFormat,
    name: &str,
    value: &[u8],
) -> Result<Vec<RecordBatch>, String> {
    let decoded = match format {
        MessageFormat::Ndjson => {
            decode::decode(def, Format::Ndjson, name, Bytes::copy_from_slice(value))
        }
        MessageFormat::Csv => decode::decode(def, Format::Csv, name, Bytes::copy_from_slice(value)),
        MessageFormat::JsonArray => {
            let rows: Vec<serde_json::Map<String, serde_json::Value>> =
                serde_json::from_slice(value)
                    .map_err(|e| format!("{name}: not a JSON array of objects: {e}"))?;
            let mut ndjson = Vec::new();
            for row in rows {
                serde_json::to_writer(&mut ndjson, &row).expect("JSON values serialize");
                ndjson.push(b'\n');
            }
            decode::decode(def, Format::Ndjson, name, Bytes::from(ndjson))
        }
    };
    decoded.map_err(|e| e.to_string())
}

/// A `source_rejects` row.
fn reject(
    source: &KafkaSettings,
    topic: &str,
    partition: i32,
    offset: i64,
    error: &str,
    value: &[u8],
) -> serde_json::Value {
    let value: String = String::from_utf8_lossy(value)
        .chars()
        .take(REJECT_VALUE_CHARS)
        .collect();
    json!({
        "source": source.group,
        "topic": topic,
        "partition_id": partition,
        "message_offset": offset,
        "error": error,
        "value": value,
    })
}

/// Whether an ingest failed on its input (a table rule), not on the engine.
fn is_input_error(e: &ordergraph_engine::Error) -> bool {
    matches!(e, ordergraph_engine::Error::Decode(_))
}

/// Waits between attempts: 1 s, doubling up to [`MAX_BACKOFF`].
#[derive(Debug, Default)]
struct Backoff {
    attempts: u32,
}

impl Backoff {
    /// Waits; true if `stop` turned true meanwhile.
    async fn wait(&mut self, stop: &mut watch::Receiver<bool>) -> bool {
        let wait = Duration::from_secs(1 << self.attempts.min(5)).min(MAX_BACKOFF);
        self.attempts += 1;
        let stopped = tokio::select! {
            _ = tokio::time::sleep(wait) => false,
            _ = stop.wait_for(|s| *s) => true,
        };
        stopped || *stop.borrow()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_message_format_gives_rows_or_a_named_error() {
        let def = table::table("system_owners").unwrap();
        let object = |i: usize| json!({"system": "erp", "owner": format!("owner{i}")});
        let rows = |batches: Vec<RecordBatch>| batches.iter().map(|b| b.num_rows()).sum::<usize>();
        let array = json!([object(1), object(2)]).to_string();
        let decoded = decode_message(def, MessageFormat::JsonArray, "t/0@1", array.as_bytes());
        assert_eq!(rows(decoded.unwrap()), 2);
        let ndjson = format!("{}\n{}\n", object(1), object(2));
        let decoded = decode_message(def, MessageFormat::Ndjson, "t/0@2", ndjson.as_bytes());
        assert_eq!(rows(decoded.unwrap()), 2);
        let csv = "system,owner\nwms,li\n";
        let decoded = decode_message(def, MessageFormat::Csv, "t/0@3", csv.as_bytes());
        assert_eq!(rows(decoded.unwrap()), 1);
        let error = decode_message(def, MessageFormat::JsonArray, "t/0@4", b"{}").unwrap_err();
        assert!(error.starts_with("t/0@4: not a JSON array"), "{error}");
        let error = decode_message(def, MessageFormat::Ndjson, "t/0@5", b"nope").unwrap_err();
        assert!(error.starts_with("t/0@5: line 1"), "{error}");
    }

    #[test]
    fn sources_are_checked_before_start() {
        let source = |table: &str, group: &str| KafkaSettings {
            brokers: vec!["127.0.0.1:9092".into()],
            topics: vec!["orders".into()],
            table: table.into(),
            format: MessageFormat::Ndjson,
            group: group.into(),
        };
        assert!(check(&[source("orders", "shop")]).is_ok());
        assert!(check(&[source("no_such_table", "shop")]).is_err());
        assert!(check(&[source("orders", "a/b")]).is_err());
        assert!(check(&[source("orders", "shop"), source("refund_events", "shop")]).is_err());
        assert!(check(&[source("orders", "shop"), source("refund_events", "other")]).is_ok());
    }
}
