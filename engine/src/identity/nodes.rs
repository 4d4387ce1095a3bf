//! The graph's two node kinds, an identifier and an order, laid out in
//! cache lines, and the bit set that marks shared identifiers.

use super::*;

/// What applying an order reads and writes of one of its identifiers: two
/// cache lines, aligned so that they are exactly two. The first holds what
/// judging, components and clustering read (key, kind, scope, postings);
/// the second, what only applying does (companions, last seen). The value
/// and why a shared one is shared are read only to report them, and live
/// apart (`IdentityGraph::values`, `IdentityGraph::shared_reasons`).
#[derive(Debug)]
#[repr(C, align(64))]
pub(super) struct IdentNode {
    pub(super) key: u64,
    pub(super) postings: Postings,
    pub(super) first_seen: i64,
    /// The apply that last added an order to the postings: a second order
    /// of the same batch marks it shared within the batch
    /// (`BatchNotes::shared`).
    pub(super) added_in: u32,
    /// An account's channel, numbered in `IdentityGraph::scopes`, so that
    /// clustering compares accounts' channels without reading their
    /// values; [`SCOPE_UNLISTED`] past the list's end. For a phone,
    /// [`SCOPE_LANDLINE`] or 0; 0 for other kinds.
    pub(super) scope: u16,
    pub(super) kind: IdentityKind,
    /// Whether it is shared (see `IdentityGraph::shared_reasons`).
    pub(super) shared: bool,
    // The second line.
    pub(super) last_seen: i64,
    /// Distinct companion keys, tagged with their kind's slot in the top 3
    /// bits (see [`tag_companion`]); bounded: a kind stops being counted
    /// once past its limit.
    pub(super) companions: SmallVec<[u64; 5]>,
}

const _: () = assert!(std::mem::size_of::<IdentNode>() == 128);
const _: () = assert!(std::mem::offset_of!(IdentNode, last_seen) == 64);
const _: () = assert!(std::mem::size_of::<Option<OrderNode>>() == 64);

/// [`IdentNode::scope`] of an account whose channel came after
/// `u16::MAX - 1` others: its scope is hashed from its value.
pub(super) const SCOPE_UNLISTED: u16 = u16::MAX;

/// [`IdentNode::scope`] of a fixed-line phone.
pub(super) const SCOPE_LANDLINE: u16 = 1;

/// An order as the graph sees it: one cache line.
#[derive(Debug, Clone, Copy)]
#[repr(align(64))]
pub(super) struct OrderNode {
    pub(super) key: u64,
    pub(super) at: i64,
    pub(super) valid: bool,
    pub(super) in_store: bool,
    pub(super) phone_sig: u32,
    pub(super) place: u32,
    pub(super) city: u32,
    pub(super) idents: [u32; 5],
}

/// Whether an identifier links orders: there is one, and it is not among
/// the `shared` ones.
pub(super) fn usable(shared: &Bits, id: u32) -> bool {
    id != NONE && !shared.contains(id)
}

/// A set of numbers (identifiers, components), one bit each.
#[derive(Debug, Default)]
pub(super) struct Bits(Vec<u64>);

impl Bits {
    /// Room for numbers below `n` without growing.
    pub(super) fn with_capacity(n: usize) -> Self {
        Bits(vec![0; n.div_ceil(64)])
    }

    /// The numbers held, in ascending order.
    pub(super) fn iter(&self) -> impl Iterator<Item = u32> + '_ {
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

    pub(super) fn insert(&mut self, id: u32) {
        let word = id as usize / 64;
        if word >= self.0.len() {
            self.0.resize(word + 1, 0);
        }
        self.0[word] |= 1 << (id % 64);
    }

    pub(super) fn remove(&mut self, id: u32) {
        if let Some(word) = self.0.get_mut(id as usize / 64) {
            *word &= !(1 << (id % 64));
        }
    }

    pub(super) fn contains(&self, id: u32) -> bool {
        self.0
            .get(id as usize / 64)
            .is_some_and(|w| w & (1 << (id % 64)) != 0)
    }
}
