//! Orders as the identity graph takes them in: each order's event time,
//! status and channel, and its identifiers' values in one text; and the
//! reader of a batch's identifier columns they are built from.

use datafusion::arrow::array::{Array, AsArray, RecordBatch, StringArray};

use super::*;

/// One order, as the identity graph needs it; its identifiers go with it
/// into [`OrderInputs::push`].
#[derive(Debug, Clone, Copy)]
pub struct OrderInput {
    /// Dense order number from the order store.
    pub order: u32,
    /// A key of the order's content identity (`channel`, `order_id`): breaks
    /// ties in event time independently of arrival.
    pub key: u64,
    /// `ordered_at`, microseconds since the epoch.
    pub at: i64,
    /// Paid, shipped or signed: the order shows who holds an identifier.
    pub valid: bool,
    /// [`phone_signature`] of the raw phone, if any.
    pub phone_sig: Option<u32>,
    /// Keyed in by a store clerk ([`IdentityConfig::in_store`]).
    pub in_store: bool,
    /// For a store order, [`extract::place_key`] of its ship address; 0
    /// when it has none or is not a store order.
    pub place: u32,
    /// [`extract::city_key`] of its ship city; 0 when it has none.
    pub city: u32,
}

/// Orders for [`IdentityGraph::apply`], their identifier values in one
/// text. A bulk load holds millions of values: one allocation each, all
/// freed after the apply, would leave glibc's allocator millions of small
/// free chunks to consolidate at the next larger request, which the next
/// increment would pay for.
#[derive(Debug, Default)]
pub struct OrderInputs {
    pub(super) orders: Vec<(OrderInput, [Slot<Span>; 5])>,
    pub(super) text: String,
}

impl OrderInputs {
    /// Room for `orders` orders.
    pub fn with_capacity(orders: usize) -> Self {
        Self {
            orders: Vec::with_capacity(orders),
            // About 40 bytes of identifiers per order.
            text: String::with_capacity(orders * 40),
        }
    }

    /// Adds an order and its identifiers by [`IdentityKind`] slot.
    pub fn push(&mut self, input: OrderInput, slots: [Slot; 5]) {
        let held = slots.map(|slot| slot.map_value(|value| hold(&mut self.text, &value)));
        self.orders.push((input, held));
    }

    /// Adds an order, normalizing its raw identifiers straight into these
    /// inputs' text ([`extract_order`]); `input.phone_sig` is set from the
    /// raw phone.
    pub fn push_raw(
        &mut self,
        mut input: OrderInput,
        raw: &RawIdentity<'_>,
        region: Region,
        blocklist: &Blocklist,
    ) {
        let (slots, phone_sig) = extract_order(raw, region, blocklist, &mut self.text);
        input.phone_sig = phone_sig;
        self.orders.push((input, slots));
    }

    /// Takes in another's orders after these.
    pub fn append(&mut self, other: OrderInputs) {
        let offset = self.text.len();
        self.text.push_str(&other.text);
        self.orders.extend(
            other
                .orders
                .into_iter()
                .map(|(input, held)| (input, held.map(|h| h.map_value(|v| v.moved(offset))))),
        );
    }

    /// Number of orders.
    pub fn len(&self) -> usize {
        self.orders.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.orders.is_empty()
    }

    /// Renumbers the orders by `number`, which gives each order's new
    /// number from its current one, and drops those it gives [`NONE`].
    pub(crate) fn renumber(&mut self, number: impl Fn(u32) -> u32) {
        self.orders.retain_mut(|(input, _)| {
            input.order = number(input.order);
            input.order != NONE
        });
    }

    /// The orders' numbers, in order.
    #[cfg(test)]
    pub(crate) fn order_numbers(&self) -> Vec<u32> {
        self.orders.iter().map(|(input, _)| input.order).collect()
    }

    pub(super) fn text(&self, span: Span) -> &str {
        span.of(&self.text)
    }
}

/// The identifier columns of a batch of orders (`channel`, `account_id`,
/// `phone`, `email`, `wechat_unionid`, `device_id`, found by name), read
/// row by row as [`RawIdentity`] borrowed from the arrays: no copies.
#[derive(Debug, Clone, Copy)]
pub struct IdentityColumns<'a> {
    channel: &'a StringArray,
    account_id: &'a StringArray,
    phone: &'a StringArray,
    email: &'a StringArray,
    wechat_unionid: &'a StringArray,
    device_id: &'a StringArray,
}

impl<'a> IdentityColumns<'a> {
    /// The columns of `batch`; `None` if one is missing or not `Utf8`.
    pub fn of(batch: &'a RecordBatch) -> Option<Self> {
        let s = |name: &str| batch.column_by_name(name)?.as_string_opt::<i32>();
        Some(Self {
            channel: s("channel")?,
            account_id: s("account_id")?,
            phone: s("phone")?,
            email: s("email")?,
            wechat_unionid: s("wechat_unionid")?,
            device_id: s("device_id")?,
        })
    }

    /// Row `row`'s identifier fields.
    pub fn row(&self, row: usize) -> RawIdentity<'a> {
        let opt = |a: &'a StringArray| a.is_valid(row).then(|| a.value(row));
        RawIdentity {
            channel: self.channel.value(row),
            account_id: opt(self.account_id),
            phone: opt(self.phone),
            email: opt(self.email),
            wechat_unionid: opt(self.wechat_unionid),
            device_id: opt(self.device_id),
        }
    }
}
