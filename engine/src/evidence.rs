//! The identity tables: `order_identifiers` (every identifier of every
//! order, and whether it linked), `shared_identifiers` and `mcid_aliases`,
//! built from the order store and its graph.

use std::collections::HashMap;
use std::sync::Arc;

use datafusion::arrow::array::{
    ArrayRef, AsArray, BooleanBuilder, RecordBatch, StringBuilder, TimestampMicrosecondBuilder,
    UInt64Builder,
};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimestampMicrosecondType};
use ordergraph_udfs::{IdentityKind, mcid_of};

use crate::Result;
use crate::identity::{
    Edge, IdentityColumns, IdentityGraph, RefusedValue, SharedReason, Slot, extract,
};
use crate::store::OrderStore;
use crate::table::{orders_col as c, timestamp_type};

/// Schema of `order_identifiers`.
pub(crate) fn order_identifiers_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("channel", DataType::Utf8, false),
        Field::new("order_id", DataType::Utf8, false),
        Field::new("mcid", DataType::Utf8, false),
        Field::new("ordered_at", timestamp_type(), false),
        Field::new("kind", DataType::Utf8, false),
        Field::new("value", DataType::Utf8, false),
        Field::new("used", DataType::Boolean, false),
        Field::new("rule", DataType::Utf8, false),
        Field::new("detail", DataType::Utf8, false),
    ]))
}

/// Schema of `shared_identifiers`.
pub(crate) fn shared_identifiers_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("kind", DataType::Utf8, false),
        Field::new("value", DataType::Utf8, false),
        Field::new("reason", DataType::Utf8, false),
        Field::new("detail", DataType::Utf8, false),
        Field::new("orders", DataType::UInt64, false),
        Field::new("first_seen", timestamp_type(), false),
        Field::new("last_seen", timestamp_type(), false),
    ]))
}

/// Schema of `mcid_aliases`.
pub(crate) fn mcid_aliases_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("old_mcid", DataType::Utf8, false),
        Field::new("new_mcid", DataType::Utf8, false),
        Field::new("at", timestamp_type(), false),
        Field::new("reason", DataType::Utf8, false),
        Field::new("kind", DataType::Utf8, true),
        Field::new("value", DataType::Utf8, true),
        Field::new("detail", DataType::Utf8, false),
    ]))
}

/// An identifier kind as a support agent names it.
fn kind_noun(kind: IdentityKind) -> &'static str {
    match kind {
        IdentityKind::Unionid => "WeChat user (unionID)",
        IdentityKind::Phone => "phone number",
        IdentityKind::Email => "email address",
        IdentityKind::Device => "device",
        IdentityKind::Account => "channel account",
    }
}

/// Why an MCID was retired, in words.
fn alias_detail(reason: &str, via: Option<IdentityKind>, correction: Option<u64>) -> String {
    let by = |what: &str| {
        let number = correction.map_or(String::new(), |c| format!(" {c}"));
        format!("{what} by correction{number} (see identity_corrections)")
    };
    match (reason, via) {
        ("manual_merge", _) => by("merged with the customer it points to"),
        ("manual_split", _) => by("split into the customers its orders went to"),
        ("merge", Some(kind)) => format!(
            "an order carried this customer's {} too: one person, so the newer MCID now points to the older",
            kind_noun(kind)
        ),
        ("merge", None) => {
            "orders of both customers turned out to be one person's: the newer MCID now points to the older".into()
        }
        (_, Some(kind)) => format!(
            "the {} that held this customer together turned out to be shared by several people or passed from one to another: its orders went to the customers they belong to",
            kind_noun(kind)
        ),
        (_, None) => {
            "the customer turned out to be several people: its orders went to the customers they belong to".into()
        }
    }
}

fn split_detail(kind: IdentityKind) -> &'static str {
    match kind {
        IdentityKind::Phone => {
            "number held by several customers over time (recycled or reassigned): each order stays with the holder at its time"
        }
        IdentityKind::Device => {
            "device used by several people (shared or family device): links nobody"
        }
        _ => "would join customers holding different unionIDs or emails: kept apart",
    }
}

fn refusal_detail(why: crate::identity::Refusal) -> &'static str {
    use crate::identity::Refusal::*;
    match why {
        Masked => "digits hidden by the platform",
        Virtual => "platform privacy relay number, reused for other buyers",
        Placeholder => "placeholder value typed to fill a form",
        Blocklisted => "on the configured blocklist",
        Role => "a department's shared mailbox: colleagues order with it",
        Invalid => "not a valid value of its kind",
    }
}

/// Rows of `order_identifiers` of every current order.
pub(crate) fn order_identifiers(store: &OrderStore) -> Result<Vec<RecordBatch>> {
    store
        .current_batches()?
        .iter()
        .map(|batch| identifier_rows(store, batch))
        .collect()
}

/// Rows of `order_identifiers`, one per identifier value of each order of
/// `batch` (current versions, with `mcid`, as `orders` has them).
pub(crate) fn identifier_rows(store: &OrderStore, batch: &RecordBatch) -> Result<RecordBatch> {
    let graph = store.graph();
    let config = graph.config();
    let s = |i: usize| batch.column(i).as_string::<i32>();
    let (ids, channels, mcids) = (
        s(c::ORDER_ID),
        s(c::CHANNEL),
        batch.column(batch.num_columns() - 1).as_string::<i32>(),
    );
    let at = batch
        .column(c::ORDERED_AT)
        .as_primitive::<TimestampMicrosecondType>();
    let columns = IdentityColumns::of(batch).expect("orders carry identifier columns");
    let mut b = Builders::default();
    for row in 0..batch.num_rows() {
        let raw = columns.row(row);
        let order = store.order_number(channels.value(row), ids.value(row));
        let edges: HashMap<IdentityKind, Edge> = order
            .map(|o| graph.order_identifiers(o).map(|(k, _, e)| (k, e)).collect())
            .unwrap_or_default();
        for (slot, value) in extract(&raw, config.region, &config.blocklist)
            .into_iter()
            .enumerate()
        {
            let kind = IdentityKind::ALL[slot];
            let (value, used, rule, detail): (String, bool, &str, String) = match value {
                Slot::Empty => continue,
                Slot::Id { value, .. } => match edges.get(&kind) {
                    Some(Edge::Linked) | None => {
                        (value, true, "linked", "links this customer's orders".into())
                    }
                    Some(Edge::Split) => (value, true, "split", split_detail(kind).into()),
                    Some(Edge::Shared) => (
                        value,
                        false,
                        "shared",
                        "shared by several people: links no orders (see shared_identifiers)".into(),
                    ),
                },
                Slot::Refused { value, why } => {
                    (value, false, why.as_str(), refusal_detail(why).into())
                }
            };
            b.channel.append_value(channels.value(row));
            b.order_id.append_value(ids.value(row));
            b.mcid.append_value(mcids.value(row));
            b.at.append_value(at.value(row));
            b.kind.append_value(kind.as_str());
            b.value.append_value(value);
            b.used.append_value(used);
            b.rule.append_value(rule);
            b.detail.append_value(detail);
        }
        // The corrections holding the order: no identifier, so never
        // `used`; `value` is the correction's number.
        for (correction, split, note) in order
            .map(|o| graph.order_corrections(o))
            .unwrap_or_default()
        {
            let (rule, what) = if split {
                ("manual_split", "set apart from the rest of a customer")
            } else {
                ("manual_merge", "made one customer with other orders")
            };
            b.channel.append_value(channels.value(row));
            b.order_id.append_value(ids.value(row));
            b.mcid.append_value(mcids.value(row));
            b.at.append_value(at.value(row));
            b.kind.append_value(CORRECTION_KIND);
            b.value.append_value(correction.to_string());
            b.used.append_value(false);
            b.rule.append_value(rule);
            b.detail.append_value(format!(
                "{what} by correction {correction} ({note}; see identity_corrections)"
            ));
        }
    }
    b.finish()
}

/// The `kind` of the rows of `order_identifiers` that name a correction.
pub(crate) const CORRECTION_KIND: &str = "correction";

#[derive(Default)]
struct Builders {
    channel: StringBuilder,
    order_id: StringBuilder,
    mcid: StringBuilder,
    at: TimestampMicrosecondBuilder,
    kind: StringBuilder,
    value: StringBuilder,
    used: BooleanBuilder,
    rule: StringBuilder,
    detail: StringBuilder,
}

impl Builders {
    fn finish(mut self) -> Result<RecordBatch> {
        let columns: Vec<ArrayRef> = vec![
            Arc::new(self.channel.finish()),
            Arc::new(self.order_id.finish()),
            Arc::new(self.mcid.finish()),
            Arc::new(self.at.finish().with_timezone("UTC")),
            Arc::new(self.kind.finish()),
            Arc::new(self.value.finish()),
            Arc::new(self.used.finish()),
            Arc::new(self.rule.finish()),
            Arc::new(self.detail.finish()),
        ];
        Ok(RecordBatch::try_new(order_identifiers_schema(), columns)?)
    }
}

/// A row of `shared_identifiers`.
type SharedRow = (String, String, String, String, u64, i64, i64);

/// Rows of `shared_identifiers`: values found shared by many people, and
/// values refused by rule (placeholders, blocklist, relay numbers).
pub(crate) fn shared_identifiers(store: &OrderStore) -> Result<Vec<RecordBatch>> {
    let graph = store.graph();
    let mut rows: Vec<SharedRow> = graph.shared_identifiers().map(shared_row).collect();
    rows.extend(graph.refused_values().map(refused_row));
    rows.sort();
    Ok(vec![shared_batch(rows)?])
}

/// The rows of `shared_identifiers` of the identifiers `ids` (none for
/// one not shared) and of the refused values `refused`.
pub(crate) fn shared_identifier_rows<'a>(
    graph: &'a IdentityGraph,
    ids: impl IntoIterator<Item = u32>,
    refused: impl IntoIterator<Item = &'a RefusedValue>,
) -> Result<RecordBatch> {
    let mut rows: Vec<SharedRow> = ids
        .into_iter()
        .filter_map(|id| graph.shared_identifier(id))
        .map(shared_row)
        .collect();
    rows.extend(refused.into_iter().map(refused_row));
    shared_batch(rows)
}

fn shared_row(
    (kind, value, reason, orders, first, last): (IdentityKind, &str, SharedReason, usize, i64, i64),
) -> SharedRow {
    (
        kind.as_str().to_string(),
        value.to_string(),
        "shared".to_string(),
        reason.to_string(),
        orders as u64,
        first,
        last,
    )
}

fn refused_row(r: &RefusedValue) -> SharedRow {
    (
        r.kind.as_str().to_string(),
        r.value.clone(),
        r.why.as_str().to_string(),
        refusal_detail(r.why).to_string(),
        r.order_count(),
        r.first_seen,
        r.last_seen,
    )
}

fn shared_batch(rows: Vec<SharedRow>) -> Result<RecordBatch> {
    let mut kind = StringBuilder::new();
    let mut value = StringBuilder::new();
    let mut reason = StringBuilder::new();
    let mut detail = StringBuilder::new();
    let mut orders = UInt64Builder::new();
    let mut first = TimestampMicrosecondBuilder::new();
    let mut last = TimestampMicrosecondBuilder::new();
    for r in rows {
        kind.append_value(r.0);
        value.append_value(r.1);
        reason.append_value(r.2);
        detail.append_value(r.3);
        orders.append_value(r.4);
        first.append_value(r.5);
        last.append_value(r.6);
    }
    let columns: Vec<ArrayRef> = vec![
        Arc::new(kind.finish()),
        Arc::new(value.finish()),
        Arc::new(reason.finish()),
        Arc::new(detail.finish()),
        Arc::new(orders.finish()),
        Arc::new(first.finish().with_timezone("UTC")),
        Arc::new(last.finish().with_timezone("UTC")),
    ];
    Ok(RecordBatch::try_new(shared_identifiers_schema(), columns)?)
}

/// Rows of `mcid_aliases`.
pub(crate) fn mcid_aliases(store: &OrderStore) -> Result<Vec<RecordBatch>> {
    let mut old = StringBuilder::new();
    let mut new = StringBuilder::new();
    let mut at = TimestampMicrosecondBuilder::new();
    let mut reason = StringBuilder::new();
    let mut kind = StringBuilder::new();
    let mut value = StringBuilder::new();
    let mut detail = StringBuilder::new();
    for a in store.graph().aliases() {
        old.append_value(mcid_of(a.old));
        new.append_value(mcid_of(a.new));
        at.append_value(a.at);
        reason.append_value(a.reason);
        kind.append_option(a.via.as_ref().map(|(k, _)| k.as_str()));
        value.append_option(a.via.as_ref().map(|(_, v)| &**v));
        detail.append_value(alias_detail(
            a.reason,
            a.via.as_ref().map(|v| v.0),
            a.correction,
        ));
    }
    let columns: Vec<ArrayRef> = vec![
        Arc::new(old.finish()),
        Arc::new(new.finish()),
        Arc::new(at.finish().with_timezone("UTC")),
        Arc::new(reason.finish()),
        Arc::new(kind.finish()),
        Arc::new(value.finish()),
        Arc::new(detail.finish()),
    ];
    Ok(vec![RecordBatch::try_new(mcid_aliases_schema(), columns)?])
}
