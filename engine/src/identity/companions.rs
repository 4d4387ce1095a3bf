//! Companions: the other identifiers an identifier is seen with. Too many
//! of one kind (unionIDs, emails, accounts of one channel) mark it shared
//! by several people, and then it links no orders.

use super::*;

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
    /// A person marked it as linking nobody (a correction).
    Corrected,
}

impl std::fmt::Display for SharedReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let SharedReason::Companions { kind, count } = *self else {
            return write!(
                f,
                "marked by a person as not telling people apart, so it links no orders"
            );
        };
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

pub(super) const COMPANION_KIND_SHIFT: u32 = 61;

/// A companion identifier's key as an identifier's companions hold it.
pub(super) fn tag_companion(slot: usize, key: u64) -> u64 {
    (key >> 3) | (slot as u64) << COMPANION_KIND_SHIFT
}

/// The tag of one of an identifier's companions: its kind's slot.
pub(super) fn tag_of(companion: u64) -> u64 {
    companion >> COMPANION_KIND_SHIFT
}

/// Companions of `tag` in an identifier's companions.
pub(super) fn tagged_count(companions: &[u64], tag: u64) -> usize {
    companions.iter().filter(|&&c| tag_of(c) == tag).count()
}

impl IdentityGraph {
    /// Counts, for each identifier of an order, the distinct other
    /// identifiers it has been seen with, and marks it shared when one
    /// person could not account for them.
    pub(super) fn note_companions(
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
    pub(super) fn count_companions(&mut self, id: u32, idents: &[u32; 5]) -> Option<SharedReason> {
        let own_kind = self.idents[id as usize].kind;
        // A person said it is one person's, whatever it is seen with.
        if self.constraints.personal(self.idents[id as usize].key) {
            return None;
        }
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
    pub(super) fn mark_shared(
        &mut self,
        id: u32,
        reason: Option<SharedReason>,
        rebuild: &mut HashSet<u32>,
        marked: &mut HashSet<u32>,
    ) {
        marked.insert(id);
        self.restated.push(id);
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
    pub(super) fn recount_companions(
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

    pub(super) fn usable(&self, id: u32) -> bool {
        usable(&self.shared_bits, id)
    }
}
