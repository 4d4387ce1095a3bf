//! The identity graph: which orders belong to which customer, and why.
//!
//! Orders are dense numbers handed out by the order store. Identifiers are
//! interned by their xxh3 [`identity_key`](ordergraph_udfs::identity_key)
//! into dense numbers with postings (the orders carrying them). Orders linked
//! by any usable identifier form a *component*; each component is resolved
//! into customers by the resolver (`identity/resolve.rs`), which refuses links that
//! would join two people. A batch only re-resolves the components it touches,
//! so the cost of an increment is proportional to the batch, and because
//! resolution reads event time and status, never arrival order, the partition
//! is the same however the orders arrived.
//!
//! MCIDs: a new customer's MCID is the key of its earliest identifier; an
//! existing customer keeps its MCID while it still holds that anchor. When
//! customers merge, the one with the earliest order keeps its MCID and the
//! other is retired into the alias list, so no MCID ever handed out dead-ends.

// FxHash: keys here are already xxh3 hashes or dense numbers, and SipHash
// would add a second full hash to every lookup of a resolution.
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use ordergraph_udfs::Region;
use smallvec::SmallVec;
use xxhash_rust::xxh3::xxh3_64_with_seed;

mod apply;
mod cluster;
mod companions;
mod components;
mod corrections;
mod direct;
mod extract;
mod forget;
mod input;
mod mcid;
mod nodes;
mod persist;
mod postings;
mod refused;
mod resolve;

use crate::key_index::{KeyIndex, prefetch_lines};
use apply::*;
use cluster::*;
pub use companions::SharedReason;
use components::*;
pub use corrections::{Conflict, Constraints, Correction, ERASURE_NUMBERS};
use direct::*;
use extract::hold;
pub use extract::{
    Blocklist, RawIdentity, Refusal, Slot, Span, city_key, extract, extract_order, is_landline,
    phone_signature, place_key,
};
pub use input::{IdentityColumns, OrderInput, OrderInputs};
use mcid::*;
use nodes::*;
pub use ordergraph_udfs::IdentityKind;
use postings::Postings;
pub use refused::RefusedValue;
use refused::{RefusedNotes, RefusedValues};
use resolve::{IdentFacts, LocalOrder};

/// The version of the resolution rules: a checkpoint's graph resolved under
/// other rules is resolved again. Raise it with any change to what links or
/// splits orders, normalization included.
pub const RULES_VERSION: u32 = 14;

/// "No identifier / no component" in dense-number arrays.
pub(crate) const NONE: u32 = u32::MAX;

/// Tuning of identity resolution.
#[derive(Debug, Clone)]
pub struct IdentityConfig {
    /// Region assumed for phones written without a country code.
    pub region: Region,
    /// Values that never link.
    pub blocklist: Blocklist,
    /// An identifier seen with more distinct unionIDs or emails than this
    /// is shared by several people. One person has one unionID, and one or
    /// two emails; a value between two people (a couple's phone, a
    /// recycled number) is told apart in time by resolution, so only a
    /// third one proves a crowd. Phones are not counted: the phone on an
    /// order is often the recipient's, and a sender's account carries many.
    pub max_companions: usize,
    /// An identifier seen with more distinct channel accounts than this is
    /// shared: one person keeps an account or two per channel (a few more to
    /// claim new-customer coupons again); a relay number or a shop's phone
    /// typed for walk-in buyers gathers a crowd of them.
    pub max_accounts: usize,
    /// Quiet time after which an identifier may pass to another person (a
    /// recycled phone), microseconds.
    pub handover_gap: i64,
    /// Channels whose orders are keyed in by a store clerk (a dealer's
    /// till). The phone on such an order may be the buyer's, the shop's own
    /// or one the clerk types for every walk-in: it joins the order to the
    /// customer who uses that phone on other channels, and never makes a
    /// customer by itself.
    pub store_channels: Vec<String>,
}

impl IdentityConfig {
    /// How many distinct identifiers of kind `companion` an identifier of
    /// kind `kind` may be seen with before it is shared; `None` when they
    /// are not counted. A unionID is one person by definition and is never
    /// shared; devices are not evidence of anything but a household.
    pub fn companion_limit(&self, kind: IdentityKind, companion: IdentityKind) -> Option<usize> {
        match (kind, companion) {
            (IdentityKind::Unionid, _) | (_, IdentityKind::Device | IdentityKind::Phone) => None,
            (_, IdentityKind::Account) => Some(self.max_accounts),
            _ => Some(self.max_companions),
        }
    }

    /// Whether orders of `channel` are keyed in by a store clerk.
    pub fn in_store(&self, channel: &str) -> bool {
        self.store_channels.iter().any(|c| c == channel)
    }
}

impl Default for IdentityConfig {
    fn default() -> Self {
        Self {
            region: Region::CN,
            blocklist: Blocklist::default(),
            max_companions: 2,
            max_accounts: 8,
            handover_gap: 30 * 86_400_000_000,
            store_channels: vec!["dealer".into(), "offline".into(), "store".into()],
        }
    }
}

/// A retired MCID and the one that replaced it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alias {
    /// The retired MCID key.
    pub old: u64,
    /// The MCID key that took its orders.
    pub new: u64,
    /// Arrival time of the batch that retired it, microseconds.
    pub at: i64,
    /// `merge` or `split`; `manual_merge` or `manual_split` when a
    /// correction moved its orders.
    pub reason: &'static str,
    /// The identifier that joined the two customers (a merge), or that no
    /// longer holds the old one together (a split): its kind and value.
    pub via: Option<(IdentityKind, Box<str>)>,
    /// The correction made or undone that moved its orders.
    pub correction: Option<u64>,
}

/// What one [`IdentityGraph::apply`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ApplyStats {
    /// Orders applied.
    pub orders: usize,
    /// Components re-resolved.
    pub components: usize,
    /// MCIDs retired by merges or splits.
    pub retired: usize,
    /// Identifiers newly found shared.
    pub newly_shared: usize,
    /// New orders that joined a known customer without re-resolving.
    pub joined: usize,
}

/// An identifier's linking evidence, for `identity_evidence`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Edge {
    /// All orders carrying it belong to this customer.
    Linked,
    /// Its orders are split among several customers (a recycled phone, a
    /// family device, a conflict between two people's identifiers).
    Split,
    /// It is shared by many people and links nothing.
    Shared,
}

/// The identity graph. See the module docs.
#[derive(Debug, Default)]
pub struct IdentityGraph {
    config: IdentityConfig,
    index: KeyIndex,
    idents: Vec<IdentNode>,
    /// Per identifier, its normalized value.
    values: Vec<Box<str>>,
    /// Why each shared identifier is shared.
    shared_reasons: HashMap<u32, SharedReason>,
    orders: Vec<Option<OrderNode>>,
    comp_of: Vec<u32>,
    comps: Vec<Vec<u32>>,
    /// Per component, what an increment needs to judge a returning
    /// customer's order without reading the component.
    comp_facts: Vec<CompFacts>,
    free_comps: Vec<u32>,
    mcid: Vec<u64>,
    live: HashMap<u64, LiveMcid>,
    aliases: Vec<Alias>,
    alias_of: HashMap<u64, u64>,
    /// Values refused as identifiers, with their orders.
    refused: RefusedValues,
    /// Orders whose MCID changed since the last [`IdentityGraph::take_changed`].
    changed: Vec<u32>,
    /// Identifiers whose orders link differently other than by gaining a
    /// new order: found shared or no longer shared, or left by a re-sent
    /// order. Append-only, read by watermark (see
    /// [`IdentityGraph::restated_identifiers`]).
    restated: Vec<u32>,
    /// Scratch: the BFS round that last expanded each identifier.
    ident_stamp: Vec<u32>,
    /// The identifiers found shared: a copy of `IdentNode::shared` for
    /// [`Self::usable`], which resolution asks of every identifier of every
    /// order it reads. At most 400 KiB (at 3.4M identifiers), it stays in
    /// cache where the nodes would not.
    shared_bits: Bits,
    round: u32,
    /// Applies so far (wrapping, never 0), for `IdentNode::added_in`.
    applies: u32,
    /// The channels of accounts, in order of first sight: `IdentNode::scope`
    /// numbers them.
    scopes: Vec<Box<str>>,
    /// The corrections in force.
    constraints: Constraints,
    /// The tags of the orders the corrections name (see
    /// [`Constraints`]), and each tag's orders.
    tags_of: HashMap<u32, SmallVec<[u32; 2]>>,
    tag_orders: Vec<Vec<u32>>,
    /// The correction being put in force or undone, while it is.
    correcting: Option<u64>,
    /// Orders whose corrections changed, append-only, read by watermark
    /// (see [`IdentityGraph::retagged_orders`]).
    retagged: Vec<u32>,
    /// Who made each correction in force and why, for the evidence; set
    /// with the constraints, not saved.
    correction_notes: HashMap<u64, String>,
}

impl IdentityGraph {
    /// An empty graph.
    pub fn new(config: IdentityConfig) -> Self {
        Self {
            config,
            ..Default::default()
        }
    }

    /// The configuration in use.
    pub fn config(&self) -> &IdentityConfig {
        &self.config
    }

    /// Applies new or changed orders; `arrived_at` stamps any MCID aliases.
    pub fn apply(&mut self, inputs: OrderInputs, arrived_at: i64) -> ApplyStats {
        self.apply_chunks(inputs.len(), [inputs], arrived_at)
    }

    /// Orders whose MCID changed since the last call.
    pub fn take_changed(&mut self) -> Vec<u32> {
        std::mem::take(&mut self.changed)
    }

    /// The identifiers restated since `seen` were read, moving `seen` on:
    /// those whose orders' linking evidence may have changed although no
    /// order of theirs is new or moved to another customer.
    pub(crate) fn restated_identifiers(&self, seen: &mut usize) -> &[u32] {
        let from = (*seen).min(self.restated.len());
        *seen = self.restated.len();
        &self.restated[from..]
    }

    /// The orders sharing an identifier that is not shared with `order`
    /// (`order` among them, once per identifier): their linking evidence
    /// (linked, or split among customers) moves with `order`'s customer.
    pub(crate) fn orders_linked_with(&self, order: u32) -> impl Iterator<Item = u32> + '_ {
        let node = self.orders.get(order as usize).copied().flatten();
        node.into_iter()
            .flat_map(|n| n.idents)
            .filter(|&id| id != NONE && !self.idents[id as usize].shared)
            .flat_map(|id| self.idents[id as usize].postings.iter())
    }

    /// The orders carrying identifier `id`.
    pub(crate) fn orders_of_identifier(&self, id: u32) -> impl Iterator<Item = u32> + '_ {
        self.idents[id as usize].postings.iter()
    }

    /// The current MCID key of an order.
    pub fn mcid_of_order(&self, order: u32) -> Option<u64> {
        self.mcid.get(order as usize).copied().filter(|&m| m != 0)
    }

    /// MCID keys of orders `0..n`, 0 where unknown: for attaching `mcid` to scans.
    pub fn mcids(&self) -> &[u64] {
        &self.mcid
    }

    /// Follows aliases to the live MCID; `None` if never handed out.
    pub fn current_mcid(&self, mut mcid: u64) -> Option<u64> {
        for _ in 0..=self.aliases.len() {
            if self.live.contains_key(&mcid) {
                return Some(mcid);
            }
            mcid = *self.alias_of.get(&mcid)?;
        }
        None
    }

    /// The orders carrying an identifier (a normalized value).
    pub fn orders_with(&self, kind: IdentityKind, value: &str) -> Vec<u32> {
        let id = ordergraph_udfs::identity_key(kind, value).and_then(|k| self.index.get(k));
        id.into_iter()
            .flat_map(|id| self.idents[id as usize].postings.iter())
            .collect()
    }

    /// Every retired MCID, in retirement order.
    pub fn aliases(&self) -> &[Alias] {
        &self.aliases
    }

    /// Values refused as identifiers by rule (placeholders, blocklist, relay numbers).
    pub fn refused_values(&self) -> impl Iterator<Item = &RefusedValue> {
        self.refused.iter()
    }

    /// Identifiers found shared: `(kind, value, reason, orders, first, last)`.
    pub fn shared_identifiers(
        &self,
    ) -> impl Iterator<Item = (IdentityKind, &str, SharedReason, usize, i64, i64)> {
        let mut ids: Vec<u32> = self.shared_reasons.keys().copied().collect();
        ids.sort_unstable();
        ids.into_iter().filter_map(|id| self.shared_identifier(id))
    }

    /// Identifier `id` if it is shared: `(kind, value, reason, orders,
    /// first, last)`.
    pub(crate) fn shared_identifier(
        &self,
        id: u32,
    ) -> Option<(IdentityKind, &str, SharedReason, usize, i64, i64)> {
        let reason = *self.shared_reasons.get(&id)?;
        let n = &self.idents[id as usize];
        Some((
            n.kind,
            &*self.values[id as usize],
            reason,
            n.postings.len(),
            n.first_seen,
            n.last_seen,
        ))
    }

    /// `(kind, value)` of identifier `id`.
    pub(crate) fn identifier(&self, id: u32) -> (IdentityKind, &str) {
        (self.idents[id as usize].kind, &self.values[id as usize])
    }

    /// The identifiers an order carries (refused values aside).
    pub(crate) fn identifiers_of_order(&self, order: u32) -> impl Iterator<Item = u32> + '_ {
        let node = self.orders.get(order as usize).copied().flatten();
        node.into_iter()
            .flat_map(|n| n.idents)
            .filter(|&id| id != NONE)
    }

    /// The refused values noted since `seen` notes were read, moving
    /// `seen` on: those whose orders or times in `shared_identifiers` may
    /// have changed.
    pub(crate) fn refused_since(&self, seen: &mut usize) -> impl Iterator<Item = &RefusedValue> {
        self.refused.noted_since(seen)
    }

    /// Identifiers of an order: `(kind, value, edge)`, for evidence.
    pub fn order_identifiers(
        &self,
        order: u32,
    ) -> impl Iterator<Item = (IdentityKind, &str, Edge)> {
        let node = self.orders.get(order as usize).copied().flatten();
        node.into_iter().flat_map(move |n| {
            n.idents
                .into_iter()
                .filter(|&id| id != NONE)
                .map(move |id| {
                    let ident = &self.idents[id as usize];
                    let edge = if ident.shared {
                        Edge::Shared
                    } else {
                        let mine = self.mcid[order as usize];
                        if ident.postings.iter().all(|p| self.mcid[p as usize] == mine) {
                            Edge::Linked
                        } else {
                            Edge::Split
                        }
                    };
                    (ident.kind, &*self.values[id as usize], edge)
                })
        })
    }

    /// Orders in the largest component: the most work one increment can cost.
    pub fn largest_component(&self) -> usize {
        self.comps.iter().map(Vec::len).max().unwrap_or(0)
    }

    /// Number of live customers.
    pub fn customers(&self) -> usize {
        self.live.len()
    }

    /// Number of orders known.
    pub fn orders(&self) -> usize {
        self.orders.iter().filter(|o| o.is_some()).count()
    }
}

#[cfg(test)]
mod tests;
