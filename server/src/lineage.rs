//! The lineage of one customer: the customer–order graph around one MCID
//! that support needs to answer "what has this person bought from us,
//! anywhere" in one look. The summary, every identifier with the evidence
//! that linked or refused it, every order across channels with its items,
//! refunds and their lifecycle nodes, status drift, risk flags and
//! snapshots, the MCIDs merged into it, and the corrections people made
//! to it. A retired MCID answers with
//! the one that absorbed it.
//!
//! [`Lineage::of`] runs the queries that fill it; the HTTP API answers it
//! as JSON, and [`pdf`] draws it for a support agent to send.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::http::routes::literal;
use crate::http::routes::sql::{rows, rows_as};
use crate::http::{ApiError, AppState};

pub(crate) mod pdf;

/// A row of a view, by column name.
pub(crate) type Row = Map<String, Value>;

/// The customer–order graph around one MCID.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Lineage {
    /// The live MCID.
    pub mcid: String,
    /// The MCID asked for: `mcid`, or one merged into it.
    pub requested_mcid: String,
    /// Whether the MCID asked for was merged into another.
    pub retired: bool,
    /// Whether phones and emails are masked.
    #[serde(default)]
    pub masked: bool,
    /// The customer's row of `customers`; null if it has none.
    pub summary: Value,
    /// Each identifier with its evidence (`identity_evidence`).
    pub identifiers: Vec<Value>,
    /// The MCIDs merged into this one (`mcid_aliases`).
    pub merged_mcids: Vec<Value>,
    /// The corrections in force that shaped it (`identity_corrections`):
    /// who made them and why.
    #[serde(default)]
    pub corrections: Vec<Value>,
    /// The customer's orders, oldest first.
    pub orders: Vec<Order>,
}

/// One order of a lineage: its row of `orders` and what belongs to it.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Order {
    #[serde(flatten)]
    pub row: Row,
    /// `order_lines` with the product names.
    pub items: Vec<Value>,
    pub refunds: Vec<Refund>,
    /// Its row of `status_consistency`; null if it has none.
    pub status_sync: Value,
    /// `order_risk` flags.
    pub risk: Vec<Value>,
    /// `order_snapshots`, by stage.
    pub snapshots: Vec<Value>,
}

/// One refund request of an order, with its lifecycle nodes.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Refund {
    #[serde(flatten)]
    pub row: Row,
    /// `refund_node_dwell`, in order.
    pub nodes: Vec<Value>,
}

/// A column of a row by name; null where there is none.
fn column<'a>(row: &'a Row, name: &str) -> &'a Value {
    row.get(name).unwrap_or(&Value::Null)
}

impl std::ops::Index<&str> for Order {
    type Output = Value;
    fn index(&self, name: &str) -> &Value {
        column(&self.row, name)
    }
}

impl std::ops::Index<&str> for Refund {
    type Output = Value;
    fn index(&self, name: &str) -> &Value {
        column(&self.row, name)
    }
}

/// Hops followed through `mcid_aliases` before giving up (a merge chain
/// is short; a cycle would be a bug, not a reason to loop).
const MAX_ALIAS_HOPS: usize = 16;

/// The live MCID for `mcid`: itself, or where merges took it.
async fn surviving(state: &AppState, mcid: &str) -> Result<Option<String>, ApiError> {
    let mut current = mcid.to_string();
    for _ in 0..MAX_ALIAS_HOPS {
        let live = rows(
            state,
            &format!(
                "SELECT 1 AS live FROM customers WHERE mcid = {}",
                literal(&current)
            ),
        )
        .await?;
        if !live.is_empty() {
            return Ok(Some(current));
        }
        let moved = rows(
            state,
            &format!(
                "SELECT new_mcid FROM mcid_aliases WHERE old_mcid = {} ORDER BY at DESC LIMIT 1",
                literal(&current)
            ),
        )
        .await?;
        match moved.first().and_then(|r| r["new_mcid"].as_str()) {
            Some(next) => current = next.to_string(),
            None => return Ok(None),
        }
    }
    Ok(None)
}

/// `(channel, order_id)` of a row, as a map key.
fn order_key(row: &Value) -> (String, String) {
    let text = |k: &str| row[k].as_str().unwrap_or_default().to_string();
    (text("channel"), text("order_id"))
}

/// Groups rows by their order, dropping the key columns.
fn by_order(rows: Vec<Value>) -> BTreeMap<(String, String), Vec<Value>> {
    let mut grouped: BTreeMap<_, Vec<Value>> = BTreeMap::new();
    for mut row in rows {
        let key = order_key(&row);
        if let Value::Object(fields) = &mut row {
            fields.remove("channel");
            fields.remove("order_id");
        }
        grouped.entry(key).or_default().push(row);
    }
    grouped
}

impl Lineage {
    /// The lineage of `requested` (an MCID as typed, upper-cased) or of
    /// the MCID it was merged into; `None` if there is no such customer.
    /// With `masked`, phones and emails come out masked.
    pub(crate) async fn of(
        state: &AppState,
        requested: &str,
        masked: bool,
    ) -> Result<Option<Lineage>, ApiError> {
        let Some(mcid) = surviving(state, requested).await? else {
            return Ok(None);
        };
        let m = literal(&mcid);
        let summary = rows(state, &format!("SELECT * FROM customers WHERE mcid = {m}")).await?;
        let identifiers = rows_as(
            state,
            &format!(
                "SELECT kind, value, decision, rule, detail, first_seen, last_seen, orders, order_keys \
                 FROM identity_evidence WHERE mcid = {m} ORDER BY kind, value"
            ),
            masked,
        )
        .await?;
        let merged_mcids = rows(
            state,
            &format!(
                "SELECT old_mcid, at, reason FROM mcid_aliases WHERE new_mcid = {m} ORDER BY at, old_mcid"
            ),
        )
        .await?;
        let ids: Vec<String> = state
            .engine
            .corrections_of(&mcid)
            .iter()
            .map(i64::to_string)
            .collect();
        let corrections = if ids.is_empty() {
            Vec::new()
        } else {
            rows_as(
                state,
                &format!(
                    "SELECT correction_id, CAST(action AS VARCHAR) AS action, kind, value, reason, \
                     ticket, actor, role, arrived_at AS at FROM identity_corrections \
                     WHERE correction_id IN ({}) ORDER BY correction_id",
                    ids.join(", ")
                ),
                masked,
            )
            .await?
        };
        let orders = rows_as(
            state,
            &format!(
                "SELECT channel, order_id, ordered_at, account_id, amount, status, coupon, ship_city, \
                 ship_address FROM orders WHERE mcid = {m} ORDER BY ordered_at, channel, order_id"
            ),
            masked,
        )
        .await?;
        Ok(Some(Lineage {
            requested_mcid: requested.to_string(),
            retired: requested != mcid,
            mcid,
            masked,
            summary: summary.into_iter().next().unwrap_or(Value::Null),
            identifiers,
            merged_mcids,
            corrections,
            orders: orders_with_their_records(state, orders).await?,
        }))
    }
}

/// A filter on `x.channel, x.order_id` that holds for exactly `orders`.
///
/// The order keys are literals: a filter on the grouping keys of a view
/// reaches below its aggregates, where a join with the customer's orders
/// would make it compute every order first. `order_id IN (...)` is what
/// reaches below (one hashed list, where a disjunction per order is slow to
/// plan for a heavy buyer); the second list makes it exact, as order ids
/// repeat across channels.
fn only(orders: &[Value]) -> String {
    if orders.is_empty() {
        return "FALSE".to_string();
    }
    let keys: Vec<(String, String)> = orders.iter().map(order_key).collect();
    let mut ids: Vec<String> = keys.iter().map(|(_, id)| literal(id)).collect();
    ids.sort_unstable();
    ids.dedup();
    let pairs: Vec<String> = keys
        .iter()
        .map(|(channel, id)| literal(&format!("{channel}\u{1f}{id}")))
        .collect();
    format!(
        "x.order_id IN ({}) AND concat(x.channel, chr(31), x.order_id) IN ({})",
        ids.join(", "),
        pairs.join(", ")
    )
}

/// Each order row with its items, refunds, status drift, risk flags and
/// snapshots.
async fn orders_with_their_records(
    state: &AppState,
    orders: Vec<Value>,
) -> Result<Vec<Order>, ApiError> {
    let mine = only(&orders);
    let per_order = |select: &str, from: &str, order: &str| {
        format!("SELECT x.channel, x.order_id, {select} FROM {from} WHERE {mine} ORDER BY {order}")
    };
    let mut items = by_order(
        rows(
            state,
            &per_order(
                "x.sku, p.name, p.category, x.qty, x.unit_price",
                "order_lines x LEFT JOIN product_catalog p ON p.sku = x.sku",
                "x.sku",
            ),
        )
        .await?,
    );
    let mut refunds = refunds(state, &mine, &per_order).await?;
    let mut drift = by_order(
        rows(
            state,
            &per_order(
                "x.consistent, x.max_skew_seconds, x.drift, x.platform_status, x.erp_status, \
                 x.wms_status, x.crm_status",
                "status_consistency x",
                "x.channel, x.order_id",
            ),
        )
        .await?,
    );
    // Sorted here: DataFusion 55.2 fails to plan this join of order_risk
    // (a UNION) under an ORDER BY ("does not satisfy order requirements").
    let mut risk_rows = rows(
        state,
        &format!(
            "SELECT x.channel, x.order_id, x.rule, x.detail, x.held FROM order_risk x WHERE {mine}"
        ),
    )
    .await?;
    risk_rows.sort_by(|a, b| a["rule"].as_str().cmp(&b["rule"].as_str()));
    let mut risk = by_order(risk_rows);
    let mut snapshots = by_order(
        rows(
            state,
            &per_order(
                "x.stage, x.version, x.status, x.amount, x.coupon, x.arrived_at, x.amount_change, \
                 x.coupon_changed",
                "order_snapshots x",
                "x.stage_order",
            ),
        )
        .await?,
    );
    Ok(orders
        .into_iter()
        .map(|order| {
            let key = order_key(&order);
            Order {
                row: fields(order),
                items: items.remove(&key).unwrap_or_default(),
                refunds: refunds.remove(&key).unwrap_or_default(),
                status_sync: drift
                    .remove(&key)
                    .and_then(|mut v| v.pop())
                    .unwrap_or(Value::Null),
                risk: risk.remove(&key).unwrap_or_default(),
                snapshots: snapshots.remove(&key).unwrap_or_default(),
            }
        })
        .collect())
}

/// The refund requests of the orders `mine` selects, with their lifecycle
/// nodes, by order.
async fn refunds(
    state: &AppState,
    mine: &str,
    per_order: &impl Fn(&str, &str, &str) -> String,
) -> Result<BTreeMap<(String, String), Vec<Refund>>, ApiError> {
    let requests = rows(
        state,
        &per_order(
            "x.refund_id, x.requested_at, x.amount, x.reason, x.cross_border",
            "refund_requests x",
            "x.requested_at, x.refund_id",
        ),
    )
    .await?;
    let mut nodes: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for mut node in rows(
        state,
        &format!(
            "SELECT n.refund_id, n.node, n.position, n.entered_at, n.left_at, n.dwell_hours, \
             n.open, n.outcome, n.note, n.decided_by, n.rejections, n.escalations \
             FROM refund_node_dwell n JOIN refund_requests x ON x.refund_id = n.refund_id \
             WHERE {mine} ORDER BY n.refund_id, n.position"
        ),
    )
    .await?
    {
        let id = node["refund_id"].as_str().unwrap_or_default().to_string();
        if let Value::Object(fields) = &mut node {
            fields.remove("refund_id");
        }
        nodes.entry(id).or_default().push(node);
    }
    Ok(by_order(requests)
        .into_iter()
        .map(|(key, requests)| {
            let refunds = requests
                .into_iter()
                .map(|request| {
                    let id = request["refund_id"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string();
                    Refund {
                        row: fields(request),
                        nodes: nodes.remove(&id).unwrap_or_default(),
                    }
                })
                .collect();
            (key, refunds)
        })
        .collect())
}

/// The columns of a JSON row.
fn fields(row: Value) -> Row {
    match row {
        Value::Object(fields) => fields,
        _ => Row::new(),
    }
}
