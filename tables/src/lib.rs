//! Input table contracts: the columns each ingestible table takes, their
//! types and constraints, and the Arrow schema they are stored in.

use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};

/// How a column's text is parsed and stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnType {
    /// UTF-8 text, stored as given (an empty field is NULL).
    Text,
    /// Text that must be one of a fixed set (case-insensitive), stored lower-case.
    Enum(&'static [&'static str]),
    /// RFC 3339 with an offset, stored as a UTC microsecond timestamp.
    Timestamp,
    /// A decimal amount with at most two places, stored as `Decimal128(12, 2)`.
    Money,
    /// A signed 64-bit integer.
    Int,
    /// `true`/`false` (also `1`/`0`, `yes`/`no`).
    Bool,
}

impl ColumnType {
    /// The Arrow type the column is stored as.
    pub fn data_type(self) -> DataType {
        match self {
            ColumnType::Text | ColumnType::Enum(_) => DataType::Utf8,
            ColumnType::Timestamp => timestamp_type(),
            ColumnType::Money => DataType::Decimal128(12, 2),
            ColumnType::Int => DataType::Int64,
            ColumnType::Bool => DataType::Boolean,
        }
    }
}

/// The timestamp type of every stored time: microseconds, UTC.
pub fn timestamp_type() -> DataType {
    DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
}

/// One column of an input table.
#[derive(Debug, Clone, Copy)]
pub struct ColumnDef {
    /// Column name, exactly as in the contract.
    pub name: &'static str,
    /// Type and parsing rule.
    pub ty: ColumnType,
    /// Whether a row without a value is rejected.
    pub required: bool,
}

const fn col(name: &'static str, ty: ColumnType) -> ColumnDef {
    ColumnDef {
        name,
        ty,
        required: false,
    }
}

const fn req(name: &'static str, ty: ColumnType) -> ColumnDef {
    ColumnDef {
        name,
        ty,
        required: true,
    }
}

/// An ingestible table.
#[derive(Debug)]
pub struct TableDef {
    /// Table name, as in `POST /v1/ingest/{name}`.
    pub name: &'static str,
    /// Columns in storage order.
    pub columns: &'static [ColumnDef],
    /// `(column, other, value)`: `column` is required when `other` is `value`.
    pub required_when: &'static [(&'static str, &'static str, &'static str)],
}

impl TableDef {
    const fn new(name: &'static str, columns: &'static [ColumnDef]) -> Self {
        Self {
            name,
            columns,
            required_when: &[],
        }
    }

    /// The Arrow schema rows of this table are stored in.
    pub fn schema(&self) -> SchemaRef {
        self.schema_with([])
    }

    /// The table's schema with `extra` columns after its own (what the
    /// engine adds on storing a row: `arrived_at`, a version, an MCID).
    pub fn schema_with(&self, extra: impl IntoIterator<Item = Field>) -> SchemaRef {
        let fields: Vec<Field> = self
            .columns
            .iter()
            .map(|c| Field::new(c.name, c.ty.data_type(), !c.required))
            .chain(extra)
            .collect();
        Arc::new(Schema::new(fields))
    }

    /// Position of a column by name.
    pub fn position(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.name == name)
    }
}

/// Order statuses, in lifecycle order.
pub const ORDER_STATUSES: &[&str] = &[
    "created",
    "paid",
    "shipped",
    "signed",
    "refunded",
    "cancelled",
];

/// The `orders` input contract.
pub static ORDERS: TableDef = TableDef::new(
    "orders",
    &[
        req("order_id", ColumnType::Text),
        req("channel", ColumnType::Text),
        req("ordered_at", ColumnType::Timestamp),
        col("account_id", ColumnType::Text),
        col("phone", ColumnType::Text),
        col("email", ColumnType::Text),
        col("wechat_unionid", ColumnType::Text),
        col("device_id", ColumnType::Text),
        col("amount", ColumnType::Money),
        col("status", ColumnType::Enum(ORDER_STATUSES)),
        col("ship_city", ColumnType::Text),
        col("ship_address", ColumnType::Text),
        col("ip", ColumnType::Text),
        col("coupon", ColumnType::Text),
    ],
);

/// Column positions in [`ORDERS`], tied to the list above.
pub mod orders_col {
    #![allow(missing_docs)]
    pub const ORDER_ID: usize = 0;
    pub const CHANNEL: usize = 1;
    pub const ORDERED_AT: usize = 2;
    pub const ACCOUNT_ID: usize = 3;
    pub const PHONE: usize = 4;
    pub const EMAIL: usize = 5;
    pub const WECHAT_UNIONID: usize = 6;
    pub const DEVICE_ID: usize = 7;
    pub const AMOUNT: usize = 8;
    pub const STATUS: usize = 9;
    pub const SHIP_CITY: usize = 10;
    pub const SHIP_ADDRESS: usize = 11;
    pub const IP: usize = 12;
    pub const COUPON: usize = 13;
}

/// Systems that report an order's status.
pub const SYSTEMS: &[&str] = &["platform", "erp", "wms", "crm"];

use ColumnType::{Bool, Enum, Int, Money, Text, Timestamp};

/// `order_lines`: what each order contains.
pub static ORDER_LINES: TableDef = TableDef::new(
    "order_lines",
    &[
        req("channel", Text),
        req("order_id", Text),
        req("sku", Text),
        col("qty", Int),
        col("unit_price", Money),
    ],
);

/// `status_events`: each system's report of an order's status.
pub static STATUS_EVENTS: TableDef = TableDef::new(
    "status_events",
    &[
        req("channel", Text),
        req("order_id", Text),
        req("system", Enum(SYSTEMS)),
        req("status_code", Text),
        req("updated_at", Timestamp),
        col("confirmed_at", Timestamp),
        col("operator", Text),
    ],
);

/// `system_owners`: who answers for drift on each system.
pub static SYSTEM_OWNERS: TableDef = TableDef::new(
    "system_owners",
    &[req("system", Enum(SYSTEMS)), req("owner", Text)],
);

/// `refunds`: refund applications.
pub static REFUNDS: TableDef = TableDef::new(
    "refunds",
    &[
        req("refund_id", Text),
        req("channel", Text),
        req("order_id", Text),
        req("requested_at", Timestamp),
        col("amount", Money),
        col("reason", Text),
        col("sku_category", Text),
        col("member_level", Text),
        col("cross_border", Bool),
    ],
);

/// Actions on a refund lifecycle node.
pub const REFUND_ACTIONS: &[&str] = &[
    "enter", "approve", "reject", "skip", "manual", "escalate", "complete",
];

/// `refund_events`: what happened at each node of each refund.
pub static REFUND_EVENTS: TableDef = TableDef {
    name: "refund_events",
    columns: &[
        req("refund_id", Text),
        req("node", Text),
        req("action", Enum(REFUND_ACTIONS)),
        col("actor", Text),
        col("actor_role", Text),
        req("at", Timestamp),
        col("note", Text),
    ],
    // A skipped node must say why.
    required_when: &[("note", "action", "skip")],
};

/// `inventory`: available stock per sku and warehouse, as of a time.
pub static INVENTORY: TableDef = TableDef::new(
    "inventory",
    &[
        req("sku", Text),
        req("warehouse", Text),
        req("available", Int),
        req("as_of", Timestamp),
    ],
);

/// `inbound`: purchase orders on their way.
pub static INBOUND: TableDef = TableDef::new(
    "inbound",
    &[
        req("po_id", Text),
        req("sku", Text),
        req("warehouse", Text),
        req("qty", Int),
        req("expected_at", Timestamp),
    ],
);

/// `suppliers`: who supplies each sku, and how fast.
pub static SUPPLIERS: TableDef = TableDef::new(
    "suppliers",
    &[
        req("sku", Text),
        req("supplier", Text),
        col("backup_supplier", Text),
        col("lead_time_days", Int),
        col("min_order_qty", Int),
    ],
);

/// `purchase_confirmations`: suppliers confirming purchase requests.
pub static PURCHASE_CONFIRMATIONS: TableDef = TableDef::new(
    "purchase_confirmations",
    &[
        req("request_id", Text),
        req("supplier", Text),
        req("confirmed_at", Timestamp),
    ],
);

/// `accounts`: when buyer accounts were registered.
pub static ACCOUNTS: TableDef = TableDef::new(
    "accounts",
    &[
        req("channel", Text),
        req("account_id", Text),
        req("created_at", Timestamp),
    ],
);

/// `browse_events`: buyer browsing, for the new-account risk rule.
pub static BROWSE_EVENTS: TableDef = TableDef::new(
    "browse_events",
    &[
        req("channel", Text),
        req("account_id", Text),
        req("at", Timestamp),
    ],
);

/// `credentials`: platform API credentials and their refreshes.
pub static CREDENTIALS: TableDef = TableDef::new(
    "credentials",
    &[
        req("platform", Text),
        req("shop", Text),
        req("name", Text),
        req("expires_at", Timestamp),
        col("last_refresh_at", Timestamp),
        col("last_refresh_ok", Bool),
    ],
);

/// `wms_queue`: orders waiting in a warehouse queue.
pub static WMS_QUEUE: TableDef = TableDef::new(
    "wms_queue",
    &[
        req("channel", Text),
        req("order_id", Text),
        req("warehouse", Text),
        req("enqueued_at", Timestamp),
    ],
);

/// `warehouses`: throughput of each warehouse.
pub static WAREHOUSES: TableDef = TableDef::new(
    "warehouses",
    &[req("warehouse", Text), req("orders_per_hour", Int)],
);

/// `products`: the catalog, so a lineage shows what was bought, not a SKU.
pub static PRODUCTS: TableDef = TableDef::new(
    "products",
    &[req("sku", Text), req("name", Text), col("category", Text)],
);

/// Email deliverability states.
pub const EMAIL_STATES: &[&str] = &["bounced", "disabled", "ok"];

/// `email_status`: deliverability of customers' emails.
pub static EMAIL_STATUS: TableDef = TableDef::new(
    "email_status",
    &[
        req("email", Text),
        req("status", Enum(EMAIL_STATES)),
        req("at", Timestamp),
    ],
);

/// Every ingestible table: `orders`, then the append-only input tables.
pub fn tables() -> [&'static TableDef; 17] {
    [
        &ORDERS,
        &ORDER_LINES,
        &STATUS_EVENTS,
        &SYSTEM_OWNERS,
        &REFUNDS,
        &REFUND_EVENTS,
        &INVENTORY,
        &INBOUND,
        &SUPPLIERS,
        &PURCHASE_CONFIRMATIONS,
        &ACCOUNTS,
        &BROWSE_EVENTS,
        &CREDENTIALS,
        &WMS_QUEUE,
        &WAREHOUSES,
        &EMAIL_STATUS,
        &PRODUCTS,
    ]
}

/// Looks up an ingestible table by name.
pub fn table(name: &str) -> Option<&'static TableDef> {
    tables().into_iter().find(|t| t.name == name)
}

/// How a connector or person acted through the API; `arrived_at` is when.
const ACTOR: [ColumnDef; 2] = [req("actor", Text), col("role", Text)];

/// `writeback_acks`: a connector confirming that it wrote an order's MCID
/// into the platform's order note.
pub static WRITEBACK_ACKS: TableDef = TableDef::new(
    "writeback_acks",
    &[
        req("channel", Text),
        req("order_id", Text),
        req("mcid", Text),
        ACTOR[0],
        ACTOR[1],
    ],
);

/// `sync_commands`: "make every system show this status", with the
/// shipping evidence it was given or waived, who asked and why.
pub static SYNC_COMMANDS: TableDef = TableDef::new(
    "sync_commands",
    &[
        req("command_id", Text),
        req("channel", Text),
        req("order_id", Text),
        req("status", Enum(ORDER_STATUSES)),
        col("tracking_no", Text),
        col("wms_outbound_id", Text),
        col("crm_delivery_node", Text),
        col("waived", Text),
        req("reason", Text),
        ACTOR[0],
        ACTOR[1],
    ],
);

/// What a connector did with a sync command on one system.
pub const SYNC_OUTCOMES: &[&str] = &["applied", "failed"];

/// `sync_acks`: a connector reporting a sync command applied (or failed)
/// on one system.
pub static SYNC_ACKS: TableDef = TableDef::new(
    "sync_acks",
    &[
        req("command_id", Text),
        req("system", Enum(SYSTEMS)),
        req("outcome", Enum(SYNC_OUTCOMES)),
        col("detail", Text),
        ACTOR[0],
        ACTOR[1],
    ],
);

/// How an alert key changed: it appeared, is still there after the repeat
/// interval, or is gone.
pub const ALERT_TRANSITIONS: &[&str] = &["firing", "repeat", "resolved"];

/// `alert_notifications`: the outbox of alerts, one row per notification
/// and target, recorded before anything is sent. `target` is NULL when
/// nothing is to be sent (no route for it, or a resolution of an alert
/// that sends none): the row still records the key's state. `fired_at` is
/// when the key's episode began; `notification_id` is the idempotency key
/// every message carries.
pub static ALERT_NOTIFICATIONS: TableDef = TableDef::new(
    "alert_notifications",
    &[
        req("notification_id", Text),
        req("alert", Text),
        req("alert_key", Text),
        req("transition", Enum(ALERT_TRANSITIONS)),
        req("severity", Text),
        req("title", Text),
        col("message", Text),
        col("route", Text),
        col("target", Text),
        req("fired_at", Timestamp),
    ],
);

/// What one delivery attempt came to.
pub const ALERT_OUTCOMES: &[&str] = &["sent", "failed", "gave_up"];

/// `alert_attempts`: every attempt to deliver a notification to a target,
/// recorded when it ends.
pub static ALERT_ATTEMPTS: TableDef = TableDef::new(
    "alert_attempts",
    &[
        req("notification_id", Text),
        req("target", Text),
        req("attempt", Int),
        req("outcome", Enum(ALERT_OUTCOMES)),
        col("error", Text),
    ],
);

/// `alert_silences`: keys that notify nobody until `ends_at`. A NULL
/// `alert` silences every alert, a NULL `alert_key` every key of the alert,
/// a key ending in `*` every key starting with the rest. The latest row of
/// a `silence_id` wins: ending a silence early records it again with
/// `ends_at` now.
pub static ALERT_SILENCES: TableDef = TableDef::new(
    "alert_silences",
    &[
        req("silence_id", Text),
        col("alert", Text),
        col("alert_key", Text),
        req("ends_at", Timestamp),
        req("reason", Text),
        ACTOR[0],
        ACTOR[1],
    ],
);

/// `holds_placed`: orders a fraud rule held (`order_risk.held`), recorded
/// by the server when it first sees them, so a hold outlives the data that
/// raised it.
pub static HOLDS_PLACED: TableDef = TableDef::new(
    "holds_placed",
    &[
        req("channel", Text),
        req("order_id", Text),
        req("rule", Text),
        col("detail", Text),
    ],
);

/// How a held order is decided: released to ship, or confirmed as fraud.
pub const HOLD_DECISIONS_KINDS: &[&str] = &["release", "confirm"];

/// `hold_decisions`: a reviewer's decision on a held order (every rule that
/// holds it), with a note; the latest decision stands.
pub static HOLD_DECISIONS: TableDef = TableDef::new(
    "hold_decisions",
    &[
        req("channel", Text),
        req("order_id", Text),
        req("decision", Enum(HOLD_DECISIONS_KINDS)),
        col("note", Text),
        ACTOR[0],
        ACTOR[1],
    ],
);

/// What a correction of identity does (see `identity_corrections`).
pub const CORRECTION_ACTIONS: &[&str] = &["split", "merge", "unlink", "link", "undo"];

/// `identity_corrections`: a person's decision about who is who, which
/// identity resolution follows over any rule. `split` sets `orders` (of
/// customer `mcid`) apart from `kept`, the rest of it then; `merge` makes
/// `orders` (those of the customers `mcid` lists, comma-separated) one
/// person; `unlink` makes an identifier (`kind`, and `value` normalized;
/// masked for readers who may not see contacts) link nobody, `link` makes
/// it one person's; `undo` takes
/// correction `undoes` back. Orders are a JSON array of `[channel,
/// order_id]` pairs.
pub static IDENTITY_CORRECTIONS: TableDef = TableDef::new(
    "identity_corrections",
    &[
        req("correction_id", Int),
        req("action", Enum(CORRECTION_ACTIONS)),
        col("mcid", Text),
        col("orders", Text),
        col("kept", Text),
        col("kind", Text),
        col("value", Text),
        col("undoes", Int),
        req("reason", Text),
        col("ticket", Text),
        ACTOR[0],
        ACTOR[1],
    ],
);

/// The steps of an erasure (see `erasure_steps`).
pub const ERASURE_STEPS_KINDS: &[&str] = &["requested", "completed"];

/// `erasure_steps`: the erasures of customers' personal information, as
/// they happen: `requested` (recorded before anything is erased, with the
/// request's id, `reason` and the orders, a JSON array of `[channel,
/// order_id]` pairs) and `completed` (once nothing on disk holds the
/// values). The view `erasures` has one row per erasure.
pub static ERASURE_STEPS: TableDef = TableDef::new(
    "erasure_steps",
    &[
        req("mcid", Text),
        req("request_id", Text),
        req("step", Enum(ERASURE_STEPS_KINDS)),
        col("orders", Text),
        col("reason", Text),
        ACTOR[0],
        ACTOR[1],
    ],
);

/// Tables written by the server (API actions: write-back, force-sync,
/// silences, hold decisions; the alert outbox; holds placed), never by
/// ingest: an action cannot be forged by posting rows.
/// `source_rejects`: a message of a Kafka source that could not be taken
/// in, with where it was and why; the partition goes on past it.
pub static SOURCE_REJECTS: TableDef = TableDef::new(
    "source_rejects",
    &[
        req("source", Text),
        req("topic", Text),
        req("partition_id", Int),
        req("message_offset", Int),
        req("error", Text),
        col("value", Text),
    ],
);

pub fn recorded_tables() -> [&'static TableDef; 11] {
    [
        &WRITEBACK_ACKS,
        &SYNC_COMMANDS,
        &SYNC_ACKS,
        &ALERT_NOTIFICATIONS,
        &ALERT_ATTEMPTS,
        &ALERT_SILENCES,
        &HOLDS_PLACED,
        &HOLD_DECISIONS,
        &SOURCE_REJECTS,
        &IDENTITY_CORRECTIONS,
        &ERASURE_STEPS,
    ]
}

/// Looks up a stored table, ingestible or recorded, by name.
pub fn stored_table(name: &str) -> Option<&'static TableDef> {
    tables()
        .into_iter()
        .chain(recorded_tables())
        .find(|t| t.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orders_column_positions_match_the_contract() {
        use orders_col::*;
        for (pos, name) in [
            (ORDER_ID, "order_id"),
            (CHANNEL, "channel"),
            (ORDERED_AT, "ordered_at"),
            (ACCOUNT_ID, "account_id"),
            (PHONE, "phone"),
            (EMAIL, "email"),
            (WECHAT_UNIONID, "wechat_unionid"),
            (DEVICE_ID, "device_id"),
            (AMOUNT, "amount"),
            (STATUS, "status"),
            (SHIP_CITY, "ship_city"),
            (SHIP_ADDRESS, "ship_address"),
            (IP, "ip"),
            (COUPON, "coupon"),
        ] {
            assert_eq!(ORDERS.position(name), Some(pos));
        }
        assert_eq!(ORDERS.schema().fields().len(), 14);
    }
}
