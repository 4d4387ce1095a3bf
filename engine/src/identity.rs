//! The identity graph: which orders belong to which customer, and why.
//!
//! Orders are dense numbers handed out by the order store. Identifiers are
//! interned by their xxh3 [`identity_key`](ordergraph_udfs::identity_key)
//! into dense numbers with postings (the orders carrying them). Orders linked
//! by any usable identifier form a *component*; each component is resolved
//! into customers by [`resolve`](resolve::Resolver::resolve), which refuses links that
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

mod extract;
mod persist;
mod postings;
mod refused;
mod resolve;

use crate::key_index::{KeyIndex, prefetch_lines};
use extract::hold;
pub use extract::{
    Blocklist, RawIdentity, Refusal, Slot, Span, extract, extract_order, phone_signature, place_key,
};
pub use ordergraph_udfs::IdentityKind;
use postings::Postings;
use refused::{RefusedNotes, RefusedValues};
use resolve::{IdentFacts, LocalOrder};

/// The version of the resolution rules: a checkpoint's graph resolved under
/// other rules is resolved again. Raise it with any change to what links or
/// splits orders, normalization included.
pub const RULES_VERSION: u32 = 8;

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
}

/// Orders for [`IdentityGraph::apply`], their identifier values in one
/// text. A bulk load holds millions of values: one allocation each, all
/// freed after the apply, would leave glibc's allocator millions of small
/// free chunks to consolidate at the next larger request, which the next
/// increment would pay for.
#[derive(Debug, Default)]
pub struct OrderInputs {
    orders: Vec<(OrderInput, [Slot<Span>; 5])>,
    text: String,
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

    fn text(&self, span: Span) -> &str {
        span.of(&self.text)
    }
}

/// Why an identifier was judged shared by several people.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SharedReason {
    /// Seen with more distinct identifiers of `kind` than one person has.
    Companions {
        /// The companion kind that crossed the limit.
        kind: IdentityKind,
        /// How many were seen (counting stops past the limit).
        count: usize,
    },
}

impl std::fmt::Display for SharedReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let SharedReason::Companions { kind, count } = *self;
        let others = match kind {
            IdentityKind::Unionid => "WeChat users (unionIDs)",
            IdentityKind::Email => "email addresses",
            IdentityKind::Phone => "phone numbers",
            IdentityKind::Account => "channel accounts",
            IdentityKind::Device => "devices",
        };
        write!(
            f,
            "used with {count} or more different {others}: several people share it, so it links no orders"
        )
    }
}

/// What applying an order reads and writes of one of its identifiers: two
/// cache lines, aligned so that they are exactly two. The first holds what
/// judging, components and clustering read (key, kind, scope, postings);
/// the second, what only applying does (companions, last seen). The value
/// and why a shared one is shared are read only to report them, and live
/// apart (`IdentityGraph::values`, `IdentityGraph::shared_reasons`).
#[derive(Debug)]
#[repr(C, align(64))]
struct IdentNode {
    key: u64,
    postings: Postings,
    first_seen: i64,
    /// The apply that last added an order to the postings: a second order
    /// of the same batch marks it shared within the batch
    /// (`BatchNotes::shared`).
    added_in: u32,
    /// An account's channel, numbered in `IdentityGraph::scopes`, so that
    /// clustering compares accounts' channels without reading their
    /// values; [`SCOPE_UNLISTED`] past the list's end. For a phone,
    /// [`SCOPE_LANDLINE`] or 0; 0 for other kinds.
    scope: u16,
    kind: IdentityKind,
    /// Whether it is shared (see `IdentityGraph::shared_reasons`).
    shared: bool,
    // The second line.
    last_seen: i64,
    /// Distinct companion keys, tagged with their kind's slot in the top 3
    /// bits (see [`tag_companion`]); bounded: a kind stops being counted
    /// once past its limit.
    companions: SmallVec<[u64; 5]>,
}

const _: () = assert!(std::mem::size_of::<IdentNode>() == 128);
const _: () = assert!(std::mem::offset_of!(IdentNode, last_seen) == 64);
const _: () = assert!(std::mem::size_of::<Option<OrderNode>>() == 64);

/// [`IdentNode::scope`] of an account whose channel came after
/// `u16::MAX - 1` others: its scope is hashed from its value.
const SCOPE_UNLISTED: u16 = u16::MAX;

/// [`IdentNode::scope`] of a fixed-line phone.
const SCOPE_LANDLINE: u16 = 1;

/// An order as the graph sees it: one cache line.
#[derive(Debug, Clone, Copy)]
#[repr(align(64))]
struct OrderNode {
    key: u64,
    at: i64,
    valid: bool,
    in_store: bool,
    phone_sig: u32,
    place: u32,
    idents: [u32; 5],
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
    /// `merge` or `split`.
    pub reason: &'static str,
    /// The identifier that joined the two customers (a merge), or that no
    /// longer holds the old one together (a split): its kind and value.
    pub via: Option<(IdentityKind, Box<str>)>,
}

/// A value refused as an identifier, with the orders that carried it.
#[derive(Debug, Clone)]
pub struct RefusedValue {
    /// The identifier kind.
    pub kind: IdentityKind,
    /// The normalized (or trimmed raw) value.
    pub value: String,
    /// Why it was refused.
    pub why: Refusal,
    /// Orders carrying it. Most refused values are a relay number on one
    /// order: postings keep those without a heap allocation.
    pub(crate) orders: Postings,
    /// Earliest `ordered_at` seen.
    pub first_seen: i64,
    /// Latest `ordered_at` seen.
    pub last_seen: i64,
}

impl RefusedValue {
    /// How many orders carry the value.
    pub fn order_count(&self) -> u64 {
        self.orders.len() as u64
    }
}

/// A new order joining a customer without re-resolving.
#[derive(Debug, Clone, Copy)]
struct DirectJoin {
    comp: u32,
    mcid: u64,
    /// Slots of its identifiers that other orders of the batch brought too.
    batch_links: u8,
}

/// Below this many orders judged to join directly, one thread adds them
/// and counts them on their customers.
const PARALLEL_JOINS: usize = 2_000;

/// What [`IdentityGraph::add_joiners`] reads on both threads.
struct Joiners<'a> {
    orders: &'a [u32],
    joins: &'a [Option<DirectJoin>],
    nodes: &'a [Option<OrderNode>],
    shared: &'a Bits,
}

impl Joiners<'_> {
    /// Adds the orders joining the components numbered from `first`, whose
    /// lists and facts `comps` and `facts` are; returns their positions.
    fn take(&self, first: usize, comps: &mut [Vec<u32>], facts: &mut [CompFacts]) -> Vec<usize> {
        let end = first + comps.len();
        let mine = |k: usize| {
            let c = self.joins.get(k).copied().flatten()?.comp as usize;
            (first..end).contains(&c).then(|| c - first)
        };
        let usable = |id: u32| if usable(self.shared, id) { id } else { NONE };
        let mut taken = Vec::new();
        for (k, &o) in self.orders.iter().enumerate() {
            // The component's list and facts are cache misses: ask for them
            // a few orders ahead, then for the list's end.
            if let Some(c) = mine(k + PREFETCH_AHEAD / 2) {
                prefetch_lines(&comps[c]);
                prefetch_lines(&facts[c]);
            }
            if let Some(c) = mine(k + PREFETCH_AHEAD / 4)
                && let Some(last) = comps[c].last()
            {
                prefetch_lines(last);
            }
            let Some(c) = mine(k) else {
                continue;
            };
            let node = self.nodes[o as usize].expect("a judged order exists");
            let unionid = usable(node.idents[IdentityKind::Unionid as usize]);
            let email = usable(node.idents[IdentityKind::Email as usize]);
            if facts[c].takes(&node, unionid, email) {
                comps[c].push(o);
                facts[c].add(&node);
                taken.push(k);
            }
        }
        taken
    }
}

/// What the apply loop notes about a batch's identifiers for judging its
/// new orders, while their nodes are in cache.
#[derive(Debug, Default)]
struct BatchNotes {
    /// Orders to resolve: the new ones, and those whose identifiers changed.
    dirty: Vec<u32>,
    /// Per order of `dirty`: the lowest other order on each of its
    /// identifiers when it was added, [`NONE`] if none.
    firsts: Vec<[u32; 5]>,
    /// Per order of `dirty`: a bit per slot whose identifier was shared
    /// when the order was added. With `marked` and `unsettled` it says
    /// whether an identifier is usable without reading `shared_bits`, a
    /// miss at every order by the time orders are judged.
    shared_slots: Vec<u8>,
    /// Identifiers found shared, or no longer shared, during this apply.
    marked: HashSet<u32>,
    /// Identifiers that two or more orders of the batch added.
    shared: HashSet<u32>,
    /// Refused values met, filed after the loop.
    refused: RefusedNotes,
    /// Orders resolved before this apply.
    known: usize,
    /// Identifiers whose postings changed other than by new orders being
    /// added at the end (a re-sent order dropped or gained them): their
    /// noted first orders may be stale, so judging reads the postings.
    unsettled: HashSet<u32>,
}

impl BatchNotes {
    /// Whether new orders are judged for joining directly, after the loop,
    /// with `dirty` orders to resolve. Most orders of an increment are a
    /// known customer buying again. A bulk load (orders to resolve at
    /// least half as many as those resolved before) has few, and would
    /// only pay for looking.
    fn judges(dirty: usize, known: usize) -> bool {
        dirty * 2 < known
    }

    /// Whether the batch's new orders may yet be judged: `dirty` only
    /// grows, so once too large it stays so.
    fn may_judge(&self) -> bool {
        Self::judges(self.dirty.len(), self.known)
    }
}

#[derive(Debug, Clone, Copy)]
struct LiveMcid {
    orders: u32,
    /// The apply that last kept or gave this MCID (`IdentityGraph::applies`):
    /// a customer whose anchor became shared may fall into several
    /// components, all still carrying the anchor, and only one of them
    /// keeps its MCID. Here rather than in a set of the apply's own: the
    /// live entry is read anyway, and such a set would be a cache miss per
    /// customer on a bulk load.
    claimed_in: u32,
    anchor: u64,
}

// The claim mark fills what would be padding, so the live map of a bulk
// load is no larger for it.
const _: () = assert!(std::mem::size_of::<LiveMcid>() == 16);

impl LiveMcid {
    fn new(anchor: u64) -> Self {
        LiveMcid {
            orders: 0,
            claimed_in: 0,
            anchor,
        }
    }
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
}

/// "Several identifiers" in [`CompFacts`].
const MANY: u32 = NONE - 1;

/// What is known of a component without reading its orders. All of it is
/// a function of the members, kept exact (not merely a bound) so that a live
/// graph and one loaded from a checkpoint, which recomputes it, decide alike.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct CompFacts {
    /// The latest order's `(ordered_at, key)`: whether a new order comes
    /// after the whole component.
    latest: (i64, u64),
    /// The unionID and the email its orders carry, usable or not (which
    /// only makes the check stricter): [`NONE`] if none, [`MANY`] if
    /// several.
    unionid: u32,
    email: u32,
    /// Whether all its orders have one MCID (are one customer).
    one_customer: bool,
}

impl CompFacts {
    const EMPTY: CompFacts = CompFacts {
        latest: (i64::MIN, 0),
        unionid: NONE,
        email: NONE,
        one_customer: false,
    };

    /// Takes in an order.
    fn add(&mut self, order: &OrderNode) {
        let idents = &order.idents;
        self.latest = self.latest.max((order.at, order.key));
        self.unionid = either(self.unionid, idents[IdentityKind::Unionid as usize]);
        self.email = either(self.email, idents[IdentityKind::Email as usize]);
    }

    fn absorb(&mut self, other: CompFacts) {
        self.latest = self.latest.max(other.latest);
        self.unionid = either(self.unionid, other.unionid);
        self.email = either(self.email, other.email);
    }

    /// Whether an order with this unionID and email (usable ones, else
    /// [`NONE`]) leaves the component with at most one of each.
    fn admits(&self, unionid: u32, email: u32) -> bool {
        let fits = |have: u32, id: u32| have != MANY && (id == NONE || have == NONE || have == id);
        fits(self.unionid, unionid) && fits(self.email, email)
    }

    /// Whether a new order with this usable unionID and email can join the
    /// component directly as far as the component goes: it comes after
    /// all of it, and [`Self::admits`] its unionID and email. These are
    /// the conditions that orders joining before it can change.
    fn takes(&self, node: &OrderNode, unionid: u32, email: u32) -> bool {
        self.latest < (node.at, node.key) && self.admits(unionid, email)
    }
}

/// One identifier of a kind from two sides: [`NONE`], the one, or [`MANY`].
fn either(a: u32, b: u32) -> u32 {
    match (a, b) {
        (a, NONE) => a,
        (NONE, b) => b,
        (a, b) if a == b => a,
        _ => MANY,
    }
}

/// Whether an identifier links orders: there is one, and it is not among
/// the `shared` ones.
fn usable(shared: &Bits, id: u32) -> bool {
    id != NONE && !shared.contains(id)
}

/// A set of numbers (identifiers, components), one bit each.
#[derive(Debug, Default)]
struct Bits(Vec<u64>);

impl Bits {
    /// Room for numbers below `n` without growing.
    fn with_capacity(n: usize) -> Self {
        Bits(vec![0; n.div_ceil(64)])
    }

    /// The numbers held, in ascending order.
    fn iter(&self) -> impl Iterator<Item = u32> + '_ {
        self.0.iter().enumerate().flat_map(|(w, &word)| {
            let mut rest = word;
            std::iter::from_fn(move || {
                (rest != 0).then(|| {
                    let bit = rest.trailing_zeros();
                    rest &= rest - 1;
                    (w * 64) as u32 + bit
                })
            })
        })
    }

    fn insert(&mut self, id: u32) {
        let word = id as usize / 64;
        if word >= self.0.len() {
            self.0.resize(word + 1, 0);
        }
        self.0[word] |= 1 << (id % 64);
    }

    fn remove(&mut self, id: u32) {
        if let Some(word) = self.0.get_mut(id as usize / 64) {
            *word &= !(1 << (id % 64));
        }
    }

    fn contains(&self, id: u32) -> bool {
        self.0
            .get(id as usize / 64)
            .is_some_and(|w| w & (1 << (id % 64)) != 0)
    }
}

const COMPANION_KIND_SHIFT: u32 = 61;

/// A companion identifier's key as an identifier's companions hold it.
fn tag_companion(slot: usize, key: u64) -> u64 {
    (key >> 3) | (slot as u64) << COMPANION_KIND_SHIFT
}

/// The tag of one of an identifier's companions: its kind's slot.
fn tag_of(companion: u64) -> u64 {
    companion >> COMPANION_KIND_SHIFT
}

/// Companions of `tag` in an identifier's companions.
fn tagged_count(companions: &[u64], tag: u64) -> usize {
    companions.iter().filter(|&&c| tag_of(c) == tag).count()
}

/// How many orders ahead of the one being applied its successors' index
/// slots are prefetched (their nodes at half the distance, the postings the
/// nodes point to at a quarter): far enough for a miss to arrive, near
/// enough not to be evicted before use.
const PREFETCH_AHEAD: usize = 16;

/// Customers found in some components, component after component.
#[derive(Debug, Default)]
struct Clusters {
    /// Orders, cluster after cluster.
    members: Vec<u32>,
    /// End in `members` of each cluster.
    ends: Vec<u32>,
    /// End in `ends` of each component.
    components: Vec<u32>,
    /// Per cluster, what choosing its MCID reads of the graph.
    choices: Vec<Choice>,
}

/// What choosing a cluster's MCID reads of the graph, found while
/// clustering (on several threads): assigning, on one, then only checks
/// it against the MCIDs claimed so far (see [`IdentityGraph::choose_mcid`]).
#[derive(Debug, Clone, Default)]
struct Choice {
    /// `(mcid, anchor)` of the live MCIDs of its orders whose anchor it
    /// holds, by their earliest order (in event time, then MCID).
    keep: SmallVec<[(u64, u64); 1]>,
    /// Its natural anchor (see [`IdentityGraph::natural_anchor`]).
    anchor: u64,
}

impl Clusters {
    /// The clusters of the `k`th component, with their choices.
    fn component(&self, k: usize) -> impl Iterator<Item = (&[u32], &Choice)> + Clone {
        let first = if k == 0 {
            0
        } else {
            self.components[k - 1] as usize
        };
        (first..self.components[k] as usize).map(move |i| (self.cluster(i), &self.choices[i]))
    }

    /// The `i`th cluster's orders.
    fn cluster(&self, i: usize) -> &[u32] {
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        &self.members[start..self.ends[i] as usize]
    }
}

/// Buffers reused from one component to the next.
#[derive(Debug, Default)]
struct ClusterScratch {
    /// `(ordered_at, order key, order)` of the component's orders.
    timed: Vec<(i64, u64, u32)>,
    local: Vec<LocalOrder>,
    resolver: resolve::Resolver,
    cluster_of: Vec<u32>,
    sizes: Vec<u32>,
    /// MCIDs seen in a cluster.
    seen: HashSet<u64>,
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

    /// [`Self::apply`] to `orders` orders that come in chunks, as they are
    /// normalized: each chunk is taken in as soon as it comes.
    pub fn apply_chunks(
        &mut self,
        orders: usize,
        chunks: impl IntoIterator<Item = OrderInputs>,
        arrived_at: i64,
    ) -> ApplyStats {
        let mut stats = ApplyStats {
            orders,
            ..Default::default()
        };
        let known = self.orders.len();
        self.idents.reserve(orders * 2);
        self.ident_stamp.reserve(orders * 2);
        self.index.reserve(orders * 2);
        // Order nodes are aligned to a cache line, which the system
        // allocator cannot grow in place: each growth copies them all.
        // Room for every order of the batch (some are only updates) is
        // one growth at most.
        self.orders.reserve(orders);
        self.comp_of.reserve(orders);
        self.mcid.reserve(orders);
        let mut rebuild: HashSet<u32> = HashSet::default();
        let mut reresolve: HashSet<u32> = HashSet::default();
        if self.applies == u32::MAX {
            // Numbering starts over: no MCID is claimed in the next apply 1.
            self.live.values_mut().for_each(|l| l.claimed_in = 0);
        }
        self.applies = self.applies.wrapping_add(1).max(1);
        let mut notes = BatchNotes {
            dirty: Vec::with_capacity(orders),
            known,
            ..Default::default()
        };
        for inputs in chunks {
            let orders = &inputs.orders;
            for i in 0..orders.len() {
                // Each order's identifiers are cache misses (index slot,
                // then node) on a large graph: ask for them a few orders
                // ahead.
                if let Some((_, ahead)) = orders.get(i + PREFETCH_AHEAD) {
                    self.prefetch_index(ahead);
                }
                if let Some((_, near)) = orders.get(i + PREFETCH_AHEAD / 2) {
                    self.prefetch_idents(near);
                }
                if let Some((_, next)) = orders.get(i + PREFETCH_AHEAD / 4) {
                    self.prefetch_postings(next);
                }
                self.apply_order(
                    &inputs,
                    i,
                    &mut notes,
                    &mut rebuild,
                    &mut reresolve,
                    &mut stats,
                );
            }
        }
        let mut dirty = std::mem::take(&mut notes.dirty);
        for c in rebuild {
            if self.comps[c as usize].is_empty() {
                continue;
            }
            for o in std::mem::take(&mut self.comps[c as usize]) {
                self.comp_of[o as usize] = NONE;
                dirty.push(o);
            }
            self.comp_facts[c as usize] = CompFacts::EMPTY;
            self.free_comps.push(c);
            reresolve.remove(&c);
        }
        let mut joined = Vec::new();
        if BatchNotes::judges(dirty.len(), known) {
            let mut joins = self.direct_joins(&dirty, &notes, &reresolve);
            self.drop_diverging_joins(&dirty, &mut joins);
            (dirty, joined) = self.join_customers(&dirty, &joins);
            stats.joined = joined.len();
        }
        // The joined customers' order counts and the refused values are
        // misses in large maps, and finding components reads neither: file
        // them meanwhile.
        let mut live = std::mem::take(&mut self.live);
        let mut refused = std::mem::take(&mut self.refused);
        let refused_notes = std::mem::take(&mut notes.refused);
        let (mut touched, (live, refused)) = crate::parallel::both(
            joined.len() + refused_notes.len() >= PARALLEL_JOINS,
            || self.recomponent(&dirty),
            move || {
                for mcid in &joined {
                    if let Some(live) = live.get_mut(mcid) {
                        live.orders += 1;
                    }
                }
                refused_notes.file(&mut refused);
                (live, refused)
            },
        );
        (self.live, self.refused) = (live, refused);
        for c in reresolve {
            touched.insert(c);
        }
        let touched: Vec<u32> = touched
            .iter()
            .filter(|&c| !self.comps[c as usize].is_empty())
            .collect();
        stats.components = touched.len();
        // Most touched components of a bulk load are new customers.
        self.live.reserve(touched.len());
        let mut comps = touched.iter();
        for part in self.cluster_components(&touched) {
            for k in 0..part.components.len() {
                let c = *comps.next().expect("one clustering per touched component");
                let clusters = part.component(k);
                self.comp_facts[c as usize].one_customer = clusters.clone().count() == 1;
                stats.retired += self.assign_mcids(clusters, arrived_at);
            }
        }
        stats
    }

    /// Applies the `i`th order of `inputs`.
    fn apply_order(
        &mut self,
        inputs: &OrderInputs,
        i: usize,
        notes: &mut BatchNotes,
        rebuild: &mut HashSet<u32>,
        reresolve: &mut HashSet<u32>,
        stats: &mut ApplyStats,
    ) {
        let (input, slots) = &inputs.orders[i];
        let o = input.order as usize;
        if self.orders.len() <= o {
            self.orders.resize(o + 1, None);
            self.comp_of.resize(o + 1, NONE);
            self.mcid.resize(o + 1, 0);
        }
        let mut idents = [NONE; 5];
        for (slot, held) in slots.iter().enumerate() {
            let kind = IdentityKind::ALL[slot];
            match *held {
                // The text is read only when needed: it was written by the
                // normalizing thread, and is a miss from this one.
                Slot::Id { key, value } => {
                    idents[slot] = self.intern(kind, key, || inputs.text(value))
                }
                // Masked and invalid values are per-order noise, not shared
                // values: they are explained per order in
                // `identity_evidence` instead.
                Slot::Refused { value, why }
                    if !matches!(why, Refusal::Masked | Refusal::Invalid) =>
                {
                    notes
                        .refused
                        .push(kind, inputs.text(value), why, input.order, input.at)
                }
                Slot::Refused { .. } => {}
                Slot::Empty => {}
            }
        }
        let node = OrderNode {
            key: input.key,
            at: input.at,
            valid: input.valid,
            in_store: input.in_store,
            phone_sig: input.phone_sig.unwrap_or(0),
            place: input.place,
            idents,
        };
        let previous = self.orders[o];
        let dirty = &mut notes.dirty;
        let dirtied_before = dirty.len();
        match previous {
            Some(old) if old.idents == idents => {
                if (old.at, old.valid, old.phone_sig, old.place)
                    != (node.at, node.valid, node.phone_sig, node.place)
                    && self.comp_of[o] != NONE
                {
                    reresolve.insert(self.comp_of[o]);
                }
            }
            Some(old) => {
                for &id in old
                    .idents
                    .iter()
                    .filter(|&&id| id != NONE && !idents.contains(&id))
                {
                    self.idents[id as usize].postings.remove(input.order);
                    notes.unsettled.insert(id);
                }
                notes
                    .unsettled
                    .extend(idents.iter().filter(|&&id| id != NONE));
                if self.comp_of[o] != NONE {
                    rebuild.insert(self.comp_of[o]);
                }
                dirty.push(input.order);
            }
            None => dirty.push(input.order),
        }
        // A version with other identifiers takes back what the old one
        // brought to its identifiers' companions.
        let mut recount: SmallVec<[u32; 10]> = SmallVec::new();
        if let Some(old) = previous
            && old.idents != idents
        {
            recount.extend(
                old.idents
                    .iter()
                    .chain(&idents)
                    .copied()
                    .filter(|&id| id != NONE),
            );
            recount.sort_unstable();
            recount.dedup();
            notes.unsettled.extend(recount.iter().copied());
        }
        let judged = previous.is_none();
        let retimed = previous.is_some_and(|p| p.at != node.at) && self.comp_of[o] != NONE;
        self.orders[o] = Some(node);
        if retimed {
            self.recompute_latest(self.comp_of[o]);
        }
        let applies = self.applies;
        let judging = notes.may_judge();
        let mut firsts = [NONE; 5];
        let mut shared_slots = 0u8;
        for (slot, &id) in idents.iter().enumerate().filter(|(_, id)| **id != NONE) {
            let ident = &mut self.idents[id as usize];
            if ident.shared {
                shared_slots |= 1 << slot;
            }
            // A new order is the highest yet: the lowest stays first. A
            // shared identifier links nothing and is not judged.
            if judged && !ident.shared {
                firsts[slot] = ident.postings.first().unwrap_or(NONE);
            }
            if ident.postings.insert(input.order) {
                // Only judging reads it, and a batch with too many orders
                // to resolve is not judged (`BatchNotes::judges`): a bulk
                // load would note most of its identifiers.
                if ident.added_in == applies && judging {
                    notes.shared.insert(id);
                }
                ident.added_in = applies;
            }
            ident.first_seen = ident.first_seen.min(input.at);
            ident.last_seen = ident.last_seen.max(input.at);
        }
        if notes.dirty.len() > dirtied_before {
            notes.firsts.push(firsts);
            notes.shared_slots.push(shared_slots);
        }
        if recount.is_empty() {
            self.note_companions(&idents, rebuild, &mut notes.marked, stats);
        } else {
            for id in recount {
                self.recount_companions(id, rebuild, &mut notes.marked, stats);
            }
        }
    }

    fn prefetch_index(&self, slots: &[Slot<Span>; 5]) {
        for slot in slots {
            if let Slot::Id { key, .. } = slot {
                self.index.prefetch(*key);
            }
        }
    }

    /// Prefetches the nodes of an order's known identifiers; their index
    /// slots were asked for earlier.
    fn prefetch_idents(&self, slots: &[Slot<Span>; 5]) {
        for slot in slots {
            if let Slot::Id { key, .. } = slot
                && let Some(id) = self.index.get(*key)
            {
                prefetch_lines(&self.idents[id as usize]);
            }
        }
    }

    /// Prefetches where the postings of an order's known identifiers grow,
    /// when off their nodes; the nodes were asked for earlier.
    fn prefetch_postings(&self, slots: &[Slot<Span>; 5]) {
        for slot in slots {
            if let Slot::Id { key, .. } = slot
                && let Some(id) = self.index.get(*key)
            {
                self.idents[id as usize].postings.prefetch_ends();
            }
        }
    }

    fn intern<'v>(&mut self, kind: IdentityKind, key: u64, value: impl FnOnce() -> &'v str) -> u32 {
        if let Some(id) = self.index.get(key) {
            return id;
        }
        let value = value();
        let id = self.idents.len() as u32;
        let scope = self.scope_number(kind, value);
        self.idents.push(IdentNode {
            kind,
            shared: false,
            key,
            postings: Postings::default(),
            companions: SmallVec::new(),
            first_seen: i64::MAX,
            last_seen: i64::MIN,
            added_in: 0,
            scope,
        });
        self.values.push(value.into());
        self.ident_stamp.push(0);
        self.index.insert(key, id);
        id
    }

    /// The [`IdentNode::scope`] of a new identifier.
    fn scope_number(&mut self, kind: IdentityKind, value: &str) -> u16 {
        match kind {
            IdentityKind::Account => {}
            IdentityKind::Phone if extract::is_landline(value) => return SCOPE_LANDLINE,
            _ => return 0,
        }
        let channel = extract::account_channel(value);
        if let Some(n) = self.scopes.iter().position(|c| &**c == channel) {
            return n as u16;
        }
        if self.scopes.len() == SCOPE_UNLISTED as usize {
            return SCOPE_UNLISTED;
        }
        self.scopes.push(channel.into());
        (self.scopes.len() - 1) as u16
    }

    /// Counts, for each identifier of an order, the distinct other
    /// identifiers it has been seen with, and marks it shared when one
    /// person could not account for them.
    fn note_companions(
        &mut self,
        idents: &[u32; 5],
        rebuild: &mut HashSet<u32>,
        marked: &mut HashSet<u32>,
        stats: &mut ApplyStats,
    ) {
        for &id in idents.iter().filter(|&&id| id != NONE) {
            // The node is in cache here; the shared bits may not be.
            if self.idents[id as usize].shared {
                continue;
            }
            if let Some(reason) = self.count_companions(id, idents) {
                self.mark_shared(id, Some(reason), rebuild, marked);
                stats.newly_shared += 1;
            }
        }
    }

    /// Counts an order's other identifiers as companions of `id`; says why
    /// if that makes `id` shared. Only identifiers that tell people apart
    /// count (see [`IdentityConfig::companion_limit`]): how many orders,
    /// ship addresses or devices a value has is never evidence that
    /// several people use it.
    fn count_companions(&mut self, id: u32, idents: &[u32; 5]) -> Option<SharedReason> {
        let own_kind = self.idents[id as usize].kind;
        let mut became_shared = None;
        for (slot, &other) in idents.iter().enumerate() {
            let kind = IdentityKind::ALL[slot];
            let Some(limit) = self.config.companion_limit(own_kind, kind) else {
                continue;
            };
            if other == NONE || other == id {
                continue;
            }
            let tagged = tag_companion(slot, self.idents[other as usize].key);
            let node = &mut self.idents[id as usize];
            let same_kind = tagged_count(&node.companions, slot as u64);
            if same_kind <= limit && !node.companions.contains(&tagged) {
                node.companions.push(tagged);
                if same_kind + 1 > limit {
                    became_shared = Some(SharedReason::Companions {
                        kind,
                        count: same_kind + 1,
                    });
                }
            }
        }
        became_shared
    }

    /// Marks an identifier shared (or no longer shared when `reason` is
    /// `None`) and rebuilds the components of its orders, which it stops
    /// (or starts) linking.
    fn mark_shared(
        &mut self,
        id: u32,
        reason: Option<SharedReason>,
        rebuild: &mut HashSet<u32>,
        marked: &mut HashSet<u32>,
    ) {
        marked.insert(id);
        let node = &mut self.idents[id as usize];
        node.shared = reason.is_some();
        match reason {
            Some(reason) => {
                self.shared_bits.insert(id);
                self.shared_reasons.insert(id, reason);
            }
            None => {
                self.shared_bits.remove(id);
                self.shared_reasons.remove(&id);
            }
        }
        for o in node.postings.iter() {
            let c = self.comp_of[o as usize];
            if c != NONE {
                rebuild.insert(c);
            }
        }
    }

    /// Counts an identifier's companions again from the orders now carrying
    /// it, after one of them was re-sent with other identifiers: what its
    /// old version brought no longer counts, so the
    /// identifier is shared exactly when the current versions make it so,
    /// as if they had arrived alone.
    fn recount_companions(
        &mut self,
        id: u32,
        rebuild: &mut HashSet<u32>,
        marked: &mut HashSet<u32>,
        stats: &mut ApplyStats,
    ) {
        let was = self.shared_reasons.get(&id).copied();
        let node = &mut self.idents[id as usize];
        node.companions.clear();
        let orders: Vec<u32> = node.postings.iter().collect();
        let mut now = None;
        for o in orders {
            let order = self.orders[o as usize].expect("a posted order exists");
            // Counting stops once shared, as it does order by order.
            now = self.count_companions(id, &order.idents);
            if now.is_some() {
                break;
            }
        }
        match (was, now) {
            (None, Some(reason)) => {
                self.mark_shared(id, Some(reason), rebuild, marked);
                stats.newly_shared += 1;
            }
            (Some(_), None) => self.mark_shared(id, None, rebuild, marked),
            // Still shared: the reason first found stands.
            _ => {}
        }
    }

    fn usable(&self, id: u32) -> bool {
        usable(&self.shared_bits, id)
    }

    /// The customer a new order joins without re-resolving, when
    /// re-resolving would only add it to that customer and change nothing
    /// else. That holds when:
    /// - it is new (never resolved), and later (in event time, then key)
    ///   than every order of that component, so it comes last in every
    ///   identifier's walk and every earlier decision is made as before;
    /// - every usable identifier it carries is on no resolved order, or on
    ///   resolved orders of one customer only, the same for all;
    /// - the component carries at most one unionID and one email, with the
    ///   order's own among them. Then no two parts of that customer (the
    ///   new order included) ever conflict: its links join it, and the
    ///   parts it may bring together earlier than a full resolution would
    ///   are parts of one customer, whose merged profile turns no later
    ///   conflict check (with that customer or any other) either way;
    /// - if it links by its device, the device links with it as without it;
    /// - it is not a store order linking by its phone, nor linking by a
    ///   landline, nor placed from an account never seen before.
    ///
    /// Orders of this batch not yet resolved are left out: one that is
    /// resolved later, sharing an identifier with this one, re-resolves
    /// this customer's component whole; one that joins directly too must
    /// join the same customer (see [`Self::drop_diverging_joins`]).
    fn joins_as_latest(
        &self,
        o: u32,
        k: usize,
        notes: &BatchNotes,
        reresolve: &HashSet<u32>,
    ) -> Option<DirectJoin> {
        if self.mcid[o as usize] != 0 {
            return None;
        }
        let firsts = notes.firsts.get(k)?;
        let node = self.orders[o as usize]?;
        let usable: [u32; 5] = std::array::from_fn(|slot| {
            let id = node.idents[slot];
            if self.usable_in_batch(id, slot, notes, k) {
                id
            } else {
                NONE
            }
        });
        // A store order's phone joins it to the phone's holder elsewhere at
        // its time, which re-resolving the component finds.
        // A landline's orders are judged together (see `Resolver::resolve`).
        let phone = usable[IdentityKind::Phone as usize];
        if phone != NONE && (node.in_store || self.facts(phone).household) {
            return None;
        }
        let mut target = None;
        let mut device = None;
        let mut batch_links = 0u8;
        for (slot, &id) in usable.iter().enumerate() {
            if id == NONE {
                continue;
            }
            if notes.shared.contains(&id) {
                batch_links |= 1 << slot;
            }
            // Only the first other order is read. If it is unresolved (new
            // in this batch, or of a component being rebuilt), skipping the
            // identifier is safe even if resolved orders follow: an old
            // order never joins directly, and a new one that does not goes
            // through `recomponent`, which reaches this order's component
            // and re-resolves it whole. The first other is the one noted
            // when the order was added unless the postings changed since
            // other than by later new orders, which come after it.
            let first = if notes.unsettled.contains(&id) {
                self.idents[id as usize].postings.iter().find(|&p| p != o)
            } else {
                Some(firsts[slot]).filter(|&f| f != NONE)
            };
            let Some(first) = first else {
                continue;
            };
            let here = (self.comp_of[first as usize], self.mcid[first as usize]);
            if here.0 == NONE {
                continue;
            }
            if here.1 == 0 || target.is_some_and(|t| t != here) {
                return None;
            }
            // The resolved orders of a usable identifier are all in one
            // component (a change of usability or postings rebuilds it): in
            // a one-customer component they are that customer. Otherwise
            // one MCID means one customer, so comparing MCIDs suffices.
            if !self.comp_facts[here.0 as usize].one_customer
                && self.idents[id as usize]
                    .postings
                    .iter()
                    .any(|p| p != o && self.mcid[p as usize] != here.1)
            {
                return None;
            }
            target = Some(here);
            if slot == IdentityKind::Device as usize {
                device = Some(id);
            }
        }
        let (comp, mcid) = target?;
        let (unionid, email) = (
            usable[IdentityKind::Unionid as usize],
            usable[IdentityKind::Email as usize],
        );
        if reresolve.contains(&comp) || !self.comp_facts[comp as usize].takes(&node, unionid, email)
        {
            return None;
        }
        // An account seen for the first time may be another life behind a
        // number gone quiet (see `resolve::Walk::link`).
        let account = usable[IdentityKind::Account as usize];
        if account != NONE
            && !self.idents[account as usize]
                .postings
                .iter()
                .any(|p| p != o && self.mcid[p as usize] != 0)
        {
            return None;
        }
        if let Some(id) = device {
            // The device must link its orders before this one and after.
            let facts = |id| self.facts(id);
            let mut profile = resolve::DeviceProfile::default();
            for p in self.idents[id as usize].postings.iter().filter(|&p| p != o) {
                profile.add(&self.local_order(p), &facts);
            }
            if profile.ambiguous() {
                return None;
            }
            profile.add(&self.local_order(o), &facts);
            if profile.ambiguous() {
                return None;
            }
        }
        Some(DirectJoin {
            comp,
            mcid,
            batch_links,
        })
    }

    /// Orders of one batch that share an identifier and would all join
    /// directly must join one customer: none of them re-resolves the
    /// components, so nothing else would bring those customers together.
    /// Where they would not, none of them joins directly.
    fn drop_diverging_joins(&self, orders: &[u32], joins: &mut [Option<DirectJoin>]) {
        let shared = |o: u32, links: u8| {
            let idents = self.orders[o as usize]
                .expect("a judged order exists")
                .idents;
            (0..5)
                .filter(move |slot| links & (1 << slot) != 0)
                .map(move |slot| idents[slot])
        };
        // Per identifier shared in the batch: the customer its joining
        // orders go to, `None` once two of them disagree.
        let mut goes_to: HashMap<u32, Option<u64>> = HashMap::default();
        for (&o, join) in orders.iter().zip(joins.iter()) {
            let Some(j) = join.filter(|j| j.batch_links != 0) else {
                continue;
            };
            for id in shared(o, j.batch_links) {
                let to = goes_to.entry(id).or_insert(Some(j.mcid));
                if *to != Some(j.mcid) {
                    *to = None;
                }
            }
        }
        for (&o, join) in orders.iter().zip(joins.iter_mut()) {
            if let Some(j) = *join
                && shared(o, j.batch_links).any(|id| goes_to[&id].is_none())
            {
                *join = None;
            }
        }
    }

    /// [`Self::usable`] for an identifier of the `k`th order of the batch's
    /// `dirty`, from what the apply loop noted: it is usable unless it was
    /// shared when the order was added, or changed since.
    fn usable_in_batch(&self, id: u32, slot: usize, notes: &BatchNotes, k: usize) -> bool {
        if id == NONE {
            return false;
        }
        if notes.marked.contains(&id) || notes.unsettled.contains(&id) {
            return self.usable(id);
        }
        notes
            .shared_slots
            .get(k)
            .is_some_and(|s| s & (1 << slot) == 0)
    }

    /// [`Self::joins_as_latest`] for each order, judged on the graph as it
    /// is before any of them joins, on several threads when there are many.
    /// Joining one changes only its component's latest order and profile,
    /// which `still_joins` checks again for the next.
    fn direct_joins(
        &self,
        orders: &[u32],
        notes: &BatchNotes,
        reresolve: &HashSet<u32>,
    ) -> Vec<Option<DirectJoin>> {
        // The first others' components and customers are cache misses:
        // ask for them a few orders ahead, then for the components' facts.
        let prefetch_owners = |k: usize| {
            for &f in notes.firsts.get(k).into_iter().flatten() {
                if f != NONE {
                    prefetch_lines(&self.comp_of[f as usize]);
                    prefetch_lines(&self.mcid[f as usize]);
                }
            }
        };
        let prefetch_facts = |k: usize| {
            for &f in notes.firsts.get(k).into_iter().flatten() {
                if let Some(&c) = self.comp_of.get(f as usize)
                    && c != NONE
                {
                    prefetch_lines(&self.comp_facts[c as usize]);
                }
            }
        };
        // An order that links by its device reads every order of the
        // device: ask for the device's node, then for those orders.
        let device_of = |k: usize| {
            let o = *orders.get(k)?;
            let slot = IdentityKind::Device as usize;
            let id = self.orders[o as usize]?.idents[slot];
            self.usable_in_batch(id, slot, notes, k).then_some(id)
        };
        let prefetch_device = |k: usize| {
            if let Some(id) = device_of(k) {
                prefetch_lines(&self.idents[id as usize]);
            }
        };
        let prefetch_device_orders = |k: usize| {
            if let Some(id) = device_of(k)
                && let Postings::Small(members) = &self.idents[id as usize].postings
            {
                for &p in members {
                    prefetch_lines(&self.orders[p as usize]);
                }
            }
        };
        crate::parallel::map_ranges(orders.len(), 2_000, |range| {
            range
                .map(|k| {
                    prefetch_owners(k + PREFETCH_AHEAD / 2);
                    prefetch_device(k + PREFETCH_AHEAD / 2);
                    prefetch_facts(k + PREFETCH_AHEAD / 4);
                    prefetch_device_orders(k + PREFETCH_AHEAD / 4);
                    self.joins_as_latest(orders[k], k, notes, reresolve)
                })
                .collect()
        })
    }

    /// An order as resolution sees it: shared identifiers link nothing.
    fn local_order(&self, o: u32) -> LocalOrder {
        let n = self.orders[o as usize].expect("a resolved order exists");
        LocalOrder {
            at: n.at,
            valid: n.valid,
            in_store: n.in_store,
            phone_sig: n.phone_sig,
            place: n.place,
            idents: n.idents.map(|id| if self.usable(id) { id } else { NONE }),
        }
    }

    /// Adds the orders judged to join a customer directly (see
    /// [`Self::joins_as_latest`]) to it. Returns the others, and the MCID
    /// each joined, whose order count the caller raises.
    fn join_customers(
        &mut self,
        orders: &[u32],
        joins: &[Option<DirectJoin>],
    ) -> (Vec<u32>, Vec<u64>) {
        let taken = self.add_joiners(orders, joins);
        let mut rest = Vec::new();
        let mut joined = Vec::with_capacity(orders.len());
        for (k, &o) in orders.iter().enumerate() {
            match joins[k] {
                Some(j) if taken[k] => {
                    self.comp_of[o as usize] = j.comp;
                    self.mcid[o as usize] = j.mcid;
                    self.changed.push(o);
                    joined.push(j.mcid);
                }
                _ => rest.push(o),
            }
        }
        (rest, joined)
    }

    /// Puts each order judged to join directly in its component's list and
    /// facts if the component still takes it (an order of this batch that
    /// joined before may be later, or have brought a unionID or email), and
    /// says which it put. Components are independent of each other: the
    /// lower and the upper half of their numbers go to two threads, each
    /// taking its orders in batch order, so that their misses (a list, its
    /// end, the facts) overlap.
    fn add_joiners(&mut self, orders: &[u32], joins: &[Option<DirectJoin>]) -> Vec<bool> {
        let mid = self.comps.len() / 2;
        let (comps_low, comps_high) = self.comps.split_at_mut(mid);
        let (facts_low, facts_high) = self.comp_facts.split_at_mut(mid);
        let joiners = Joiners {
            orders,
            joins,
            nodes: &self.orders,
            shared: &self.shared_bits,
        };
        let (low, high) = crate::parallel::both(
            orders.len() >= PARALLEL_JOINS,
            || joiners.take(0, comps_low, facts_low),
            || joiners.take(mid, comps_high, facts_high),
        );
        let mut taken = vec![false; orders.len()];
        for k in low.into_iter().chain(high) {
            taken[k] = true;
        }
        taken
    }

    /// Finds the components of orders that have none, absorbing the existing
    /// components they connect to. Returns the components touched.
    fn recomponent(&mut self, dirty: &[u32]) -> Bits {
        // A bit per component, not a hash set: a bulk load inserts a
        // component for every order, and a set's slots would be cache misses.
        // A new component takes a freed number or the next one.
        let mut touched = Bits::with_capacity(self.comps.len() + dirty.len());
        let mut stack = Vec::new();
        let mut reached = Vec::new();
        for (i, &start) in dirty.iter().enumerate() {
            self.prefetch_component_search(dirty, i);
            let c = self.comp_of[start as usize];
            if c != NONE {
                touched.insert(c);
                continue;
            }
            let mut c = self.new_comp(start);
            self.round = self.round.wrapping_add(1).max(1);
            stack.push(start);
            while let Some(x) = stack.pop() {
                let Some(node) = self.orders[x as usize] else {
                    continue;
                };
                for id in node.idents {
                    if !self.usable(id) || self.ident_stamp[id as usize] == self.round {
                        continue;
                    }
                    self.ident_stamp[id as usize] = self.round;
                    reached.clear();
                    reached.extend(self.idents[id as usize].postings.iter());
                    // Ask for the reached orders all at once, not one
                    // miss after another.
                    for &y in &reached {
                        prefetch_lines(&self.comp_of[y as usize]);
                        prefetch_lines(&self.orders[y as usize]);
                    }
                    for &y in &reached {
                        match self.comp_of[y as usize] {
                            NONE => {
                                self.add_member(c, y);
                                stack.push(y);
                            }
                            cy if cy != c => c = self.merge_comps(c, cy),
                            _ => {}
                        }
                    }
                }
            }
            touched.insert(c);
        }
        touched
    }

    /// Prefetches, a few starts ahead of `dirty[i]`, what searching from a
    /// start without a component reads, a step at a time so that each step
    /// finds in cache what it reads to find the next: the order's node and
    /// component slot; then its identifiers' stamps and first node lines;
    /// then the nodes and component slots of the orders they carry.
    fn prefetch_component_search(&self, dirty: &[u32], i: usize) {
        if let Some(&o) = dirty.get(i + PREFETCH_AHEAD) {
            prefetch_lines(&self.orders[o as usize]);
            prefetch_lines(&self.comp_of[o as usize]);
        }
        let unplaced = |k: usize| {
            let o = *dirty.get(k)? as usize;
            (self.comp_of[o] == NONE).then_some(self.orders[o]?)
        };
        if let Some(node) = unplaced(i + PREFETCH_AHEAD / 2) {
            for id in node.idents.into_iter().filter(|&id| id != NONE) {
                prefetch_lines(&self.ident_stamp[id as usize]);
                // The key opens the node's first line, all that searching
                // reads.
                prefetch_lines(&self.idents[id as usize].key);
            }
        }
        if let Some(node) = unplaced(i + PREFETCH_AHEAD / 4) {
            for id in node.idents.into_iter().filter(|&id| id != NONE) {
                let ident = &self.idents[id as usize];
                if !ident.shared {
                    ident.postings.prefetch_orders(|y| {
                        prefetch_lines(&self.comp_of[y as usize]);
                        prefetch_lines(&self.orders[y as usize]);
                    });
                }
            }
        }
    }

    fn new_comp(&mut self, order: u32) -> u32 {
        let c = match self.free_comps.pop() {
            Some(c) => c,
            None => {
                self.comps.push(Vec::new());
                self.comp_facts.push(CompFacts::EMPTY);
                (self.comps.len() - 1) as u32
            }
        };
        self.add_member(c, order);
        c
    }

    /// Recomputes a component's latest order, after one moved in time.
    fn recompute_latest(&mut self, c: u32) {
        let latest = self.comps[c as usize]
            .iter()
            .map(|&q| {
                let n = self.orders[q as usize].expect("a component member is an order");
                (n.at, n.key)
            })
            .fold(CompFacts::EMPTY.latest, Ord::max);
        self.comp_facts[c as usize].latest = latest;
    }

    /// Puts an order in a component.
    fn add_member(&mut self, c: u32, o: u32) {
        self.comp_of[o as usize] = c;
        self.comps[c as usize].push(o);
        let n = self.orders[o as usize].expect("a component member is an order");
        self.comp_facts[c as usize].add(&n);
    }

    /// Merges two components, relabelling the smaller; returns the survivor.
    fn merge_comps(&mut self, a: u32, b: u32) -> u32 {
        let (big, small) = if self.comps[a as usize].len() >= self.comps[b as usize].len() {
            (a, b)
        } else {
            (b, a)
        };
        let moved = std::mem::take(&mut self.comps[small as usize]);
        for &o in &moved {
            self.comp_of[o as usize] = big;
        }
        self.comps[big as usize].extend(moved);
        let small_facts = std::mem::replace(&mut self.comp_facts[small as usize], CompFacts::EMPTY);
        self.comp_facts[big as usize].absorb(small_facts);
        self.free_comps.push(small);
        big
    }

    fn facts(&self, id: u32) -> IdentFacts {
        let node = &self.idents[id as usize];
        IdentFacts {
            key: node.key,
            scope: match (node.kind, node.scope) {
                // The top bit keeps a hash apart from every listed number.
                (IdentityKind::Account, SCOPE_UNLISTED) => {
                    extract::account_scope(&self.values[id as usize]) | 1 << 63
                }
                (_, number) => u64::from(number),
            },
            household: node.kind == IdentityKind::Phone && node.scope == SCOPE_LANDLINE,
        }
    }

    /// Splits the touched components into customers, on several threads
    /// when there are many: clustering only reads the graph. The clusters
    /// come back in the order of `touched`.
    fn cluster_components(&self, touched: &[u32]) -> Vec<Clusters> {
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        let orders: usize = touched.iter().map(|&c| self.comps[c as usize].len()).sum();
        let cluster_all = |part: &[u32]| {
            let mut scratch = ClusterScratch::default();
            let mut out = Clusters::default();
            for (i, &c) in part.iter().enumerate() {
                // A component's list, then its first order and that order's
                // MCID, are misses: ask for them a few components ahead.
                if let Some(&ahead) = part.get(i + PREFETCH_AHEAD / 2) {
                    prefetch_lines(&self.comps[ahead as usize]);
                }
                if let Some(&near) = part.get(i + PREFETCH_AHEAD / 4)
                    && let Some(&o) = self.comps[near as usize].first()
                {
                    prefetch_lines(&self.orders[o as usize]);
                    prefetch_lines(&self.mcid[o as usize]);
                }
                self.cluster_component(c, &mut scratch, &mut out);
            }
            out
        };
        // Below this, starting threads costs more than it saves.
        if threads < 2 || orders < 4_000 {
            return vec![cluster_all(touched)];
        }
        // Parts of about equal order counts, in `touched` order.
        let share = orders.div_ceil(threads);
        let mut parts = Vec::with_capacity(threads);
        let (mut start, mut filled) = (0, 0);
        for (i, &c) in touched.iter().enumerate() {
            filled += self.comps[c as usize].len();
            if filled >= share {
                parts.push(&touched[start..=i]);
                (start, filled) = (i + 1, 0);
            }
        }
        if start < touched.len() {
            parts.push(&touched[start..]);
        }
        std::thread::scope(|scope| {
            let handles: Vec<_> = parts
                .into_iter()
                .map(|part| scope.spawn(move || cluster_all(part)))
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("clustering does not panic"))
                .collect()
        })
    }

    /// Resolves one component into customers, appended to `out`: each
    /// cluster's orders in event time, clusters by their earliest order.
    fn cluster_component(&self, c: u32, scratch: &mut ClusterScratch, out: &mut Clusters) {
        let comp = &self.comps[c as usize];
        if let [only] = comp.as_slice() {
            out.members.push(*only);
            out.ends.push(out.members.len() as u32);
            out.components.push(out.ends.len() as u32);
            out.choices.push(self.choice(&[*only], &mut scratch.seen));
            return;
        }
        let timed = &mut scratch.timed;
        timed.clear();
        timed.extend(comp.iter().map(|&o| {
            let n = self.orders[o as usize].expect("component member is an order");
            (n.at, n.key, o)
        }));
        timed.sort_unstable();
        scratch.local.clear();
        scratch
            .local
            .extend(timed.iter().map(|&(_, _, o)| self.local_order(o)));
        let labels = scratch.resolver.resolve(
            &scratch.local,
            &|id| self.facts(id),
            self.config.handover_gap,
        );
        // Labels are positions of each customer's earliest order: number the
        // clusters by first appearance, count them, then place the members.
        let n = labels.len();
        let cluster_of = &mut scratch.cluster_of;
        cluster_of.clear();
        cluster_of.resize(n, u32::MAX);
        let sizes = &mut scratch.sizes;
        sizes.clear();
        for &label in labels {
            let slot = &mut cluster_of[label as usize];
            if *slot == u32::MAX {
                *slot = sizes.len() as u32;
                sizes.push(0);
            }
            sizes[*slot as usize] += 1;
        }
        let base = out.members.len();
        let mut end = base as u32;
        for size in sizes.iter_mut() {
            let start = end;
            end += *size;
            out.ends.push(end);
            // From here on: where the cluster's next member goes.
            *size = start;
        }
        out.components.push(out.ends.len() as u32);
        out.members.resize(end as usize, 0);
        for (i, &label) in labels.iter().enumerate() {
            let at = &mut sizes[cluster_of[label as usize] as usize];
            out.members[*at as usize] = timed[i].2;
            *at += 1;
        }
        for i in out.choices.len()..out.ends.len() {
            let choice = self.choice(out.cluster(i), &mut scratch.seen);
            out.choices.push(choice);
        }
    }

    /// Gives each cluster (members in event time, clusters by their earliest
    /// order) an MCID, keeping existing ones where the anchor stays.
    fn assign_mcids<'c>(
        &mut self,
        clusters: impl Iterator<Item = (&'c [u32], &'c Choice)> + Clone,
        arrived_at: i64,
    ) -> usize {
        let mut chosen = Vec::new();
        for (cluster, choice) in clusters.clone() {
            let (m, anchor) = self.choose_mcid(cluster, choice);
            let applies = self.applies;
            self.live
                .entry(m)
                .or_insert_with(|| LiveMcid::new(anchor))
                .claimed_in = applies;
            chosen.push((m, anchor));
        }
        // Where each old MCID's orders went, and which moved, to retire
        // the ones left empty.
        let mut moved_to: HashMap<u64, (Vec<u64>, Vec<u32>)> = HashMap::default();
        for ((cluster, _), &(new, anchor)) in clusters.zip(&chosen) {
            for &o in cluster {
                let old = self.mcid[o as usize];
                if old == new {
                    continue;
                }
                if old != 0 {
                    let (targets, moved) = moved_to.entry(old).or_default();
                    if !targets.contains(&new) {
                        targets.push(new);
                    }
                    moved.push(o);
                    if let Some(l) = self.live.get_mut(&old) {
                        l.orders -= 1;
                    }
                }
                self.mcid[o as usize] = new;
                self.changed.push(o);
                self.live
                    .entry(new)
                    .or_insert_with(|| LiveMcid::new(anchor))
                    .orders += 1;
            }
        }
        let mut retired = 0;
        let mut olds: Vec<_> = moved_to.into_iter().collect();
        olds.sort_unstable();
        for (old, (targets, moved)) in olds {
            if self.live.get(&old).is_some_and(|l| l.orders == 0) {
                self.live.remove(&old);
                let reason = if targets.len() == 1 { "merge" } else { "split" };
                let via = self.bridge(&moved).map(|id| {
                    let id = id as usize;
                    (self.idents[id].kind, self.values[id].clone())
                });
                self.alias_of.insert(old, targets[0]);
                self.aliases.push(Alias {
                    old,
                    new: targets[0],
                    at: arrived_at,
                    reason,
                    via,
                });
                retired += 1;
            }
        }
        retired
    }

    /// The identifier behind a retired MCID, given the orders that left
    /// it: one of theirs that is also on an order with another MCID now and
    /// that did not leave it with them. After a merge, that is what joined
    /// the two customers; after a split, what held the old one together
    /// and no longer does. Read only when an MCID is retired.
    fn bridge(&self, moved: &[u32]) -> Option<u32> {
        let moved_set: HashSet<u32> = moved.iter().copied().collect();
        for &o in moved {
            let Some(node) = self.orders[o as usize] else {
                continue;
            };
            for id in node.idents.into_iter().filter(|&id| id != NONE) {
                let mine = self.mcid[o as usize];
                let across = self.idents[id as usize].postings.iter().any(|other| {
                    let theirs = self.mcid[other as usize];
                    if moved_set.contains(&other) {
                        theirs != mine
                    } else {
                        theirs == mine
                    }
                });
                if across {
                    return Some(id);
                }
            }
        }
        None
    }

    /// What [`Self::choose_mcid`] needs to know of a cluster (members in
    /// event time) besides the MCIDs claimed before it. It reads only what
    /// assigning MCIDs leaves as it is for clusters not yet assigned: their
    /// orders' MCIDs, and those MCIDs' anchors, live while orders carry them.
    fn choice(&self, cluster: &[u32], seen: &mut HashSet<u64>) -> Choice {
        let holds = |anchor: u64| {
            cluster.iter().any(|&o| {
                let n = self.orders[o as usize].expect("cluster member is an order");
                n.key == anchor
                    || n.idents
                        .iter()
                        .any(|&id| id != NONE && self.idents[id as usize].key == anchor)
            })
        };
        // Members are in event time, so a first sighting is the earliest.
        seen.clear();
        let mut candidates: SmallVec<[(i64, u64, u64); 1]> = SmallVec::new();
        for &o in cluster {
            let m = self.mcid[o as usize];
            if m != 0
                && seen.insert(m)
                && let Some(live) = self.live.get(&m)
            {
                let at = self.orders[o as usize].map_or(i64::MAX, |n| n.at);
                candidates.push((at, m, live.anchor));
            }
        }
        candidates.sort_unstable();
        Choice {
            keep: candidates
                .into_iter()
                .filter(|c| holds(c.2))
                .map(|(_, m, anchor)| (m, anchor))
                .collect(),
            anchor: self.natural_anchor(cluster),
        }
    }

    /// Returns `(mcid, anchor)` for a cluster: the oldest existing customer
    /// whose anchor is here keeps its MCID, unless a cluster before this
    /// one claimed it; otherwise the MCID comes from the natural anchor.
    fn choose_mcid(&self, cluster: &[u32], choice: &Choice) -> (u64, u64) {
        let claimed = |m: &u64| {
            self.live
                .get(m)
                .is_some_and(|l| l.claimed_in == self.applies)
        };
        if let Some(&kept) = choice.keep.iter().find(|(m, _)| !claimed(m)) {
            return kept;
        }
        let anchor = choice.anchor;
        let mut m = anchor.max(1);
        let old_here = |m: u64| cluster.iter().any(|&o| self.mcid[o as usize] == m);
        // Taken: claimed in this apply, or live with none of its orders here.
        let taken = |m: u64| {
            self.live
                .get(&m)
                .is_some_and(|l| l.claimed_in == self.applies || !old_here(m))
        };
        while taken(m) {
            // The anchor's MCID is taken (a recycled phone's earlier owner):
            // derive another from it and the earliest order, still stable.
            let first = self.orders[cluster[0] as usize].map_or(0, |n| n.key);
            m = xxh3_64_with_seed(&m.to_le_bytes(), first).max(1);
        }
        (m, anchor)
    }

    /// The key of the cluster's earliest identifier (by event time, then
    /// kind, then key), or of its earliest order if it has none.
    fn natural_anchor(&self, cluster: &[u32]) -> u64 {
        for &o in cluster {
            let n = self.orders[o as usize].expect("cluster member is an order");
            let best = n
                .idents
                .iter()
                .filter(|&&id| self.usable(id))
                .map(|&id| self.idents[id as usize].key)
                .next();
            if let Some(key) = best {
                return key;
            }
        }
        let first = self.orders[cluster[0] as usize].map_or(0, |n| n.key);
        xxh3_64_with_seed(&first.to_le_bytes(), 0x4d43_4944)
    }

    /// Orders whose MCID changed since the last call.
    pub fn take_changed(&mut self) -> Vec<u32> {
        std::mem::take(&mut self.changed)
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
        ids.into_iter().map(|id| {
            let n = &self.idents[id as usize];
            (
                n.kind,
                &*self.values[id as usize],
                self.shared_reasons[&id],
                n.postings.len(),
                n.first_seen,
                n.last_seen,
            )
        })
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
