//! MCIDs: choosing each customer's MCID so that it is stable across
//! increments, and retiring the ones merges and splits replace.

use super::*;

#[derive(Debug, Clone, Copy)]
pub(super) struct LiveMcid {
    pub(super) orders: u32,
    /// The apply that last kept or gave this MCID (`IdentityGraph::applies`):
    /// a customer whose anchor became shared may fall into several
    /// components, all still carrying the anchor, and only one of them
    /// keeps its MCID. Here rather than in a set of the apply's own: the
    /// live entry is read anyway, and such a set would be a cache miss per
    /// customer on a bulk load.
    pub(super) claimed_in: u32,
    pub(super) anchor: u64,
}

// The claim mark fills what would be padding, so the live map of a bulk
// load is no larger for it.
const _: () = assert!(std::mem::size_of::<LiveMcid>() == 16);

impl LiveMcid {
    pub(super) fn new(anchor: u64) -> Self {
        LiveMcid {
            orders: 0,
            claimed_in: 0,
            anchor,
        }
    }
}

impl IdentityGraph {
    /// Gives each cluster (members in event time, clusters by their earliest
    /// order) an MCID, keeping existing ones where the anchor stays.
    pub(super) fn assign_mcids<'c>(
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
                let reason = match (targets.len() == 1, self.correcting.is_some()) {
                    (true, false) => "merge",
                    (false, false) => "split",
                    (true, true) => "manual_merge",
                    (false, true) => "manual_split",
                };
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
                    correction: self.correcting,
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
    pub(super) fn bridge(&self, moved: &[u32]) -> Option<u32> {
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
    pub(super) fn choice(&self, cluster: &[u32], seen: &mut HashSet<u64>) -> Choice {
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
    pub(super) fn choose_mcid(&self, cluster: &[u32], choice: &Choice) -> (u64, u64) {
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
    pub(super) fn natural_anchor(&self, cluster: &[u32]) -> u64 {
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
}
