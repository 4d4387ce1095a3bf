//! Corrections: people's decisions about who is who, which resolution
//! treats as evidence stronger than any rule.
//!
//! A correction names orders by key (`channel`, `order_id` hashed as the
//! store hashes them) and identifiers by their identity key, never by the
//! graph's dense numbers, so it means the same whenever its orders arrive.
//! The corrections in force reduce to [`Constraints`]:
//! - *tags* on orders. The orders of a *linked* tag are one person, joined
//!   before any rule runs (a merge, or either side of a split);
//! - pairs of tags that are two people: a customer never holds orders of
//!   both (a split's two sides);
//! - identifiers that never link (unlinked) and identifiers that are never
//!   found shared (personal).

use super::*;
use crate::codec::{DecodeResult, Reader, Writer};

/// One decision about who is who.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Correction {
    /// The `moved` orders are one person, and the `kept` orders (the rest
    /// of the customer when it was split) another.
    Split { moved: Vec<u64>, kept: Vec<u64> },
    /// The orders are one person.
    Merge { orders: Vec<u64> },
    /// The identifier (by identity key) links nobody.
    Unlink { key: u64 },
    /// The identifier is one person's: it is never found shared.
    Link { key: u64 },
}

/// Why a correction cannot stand beside one in force.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Conflict {
    /// The correction refused.
    pub correction: u64,
    /// The correction in force it contradicts.
    pub with: u64,
    pub why: &'static str,
}

/// The numbers erasures take among corrections: past any correction's.
pub const ERASURE_NUMBERS: u64 = 1 << 62;

/// A tag on orders, from one correction.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Tag {
    /// Whether its orders are one person.
    linked: bool,
    orders: Vec<u64>,
    correction: u64,
}

/// The corrections in force, as resolution reads them (see the module
/// docs).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Constraints {
    tags: Vec<Tag>,
    /// Pairs of tags that are two people, the lower tag first, sorted.
    apart: Vec<(u32, u32)>,
    unlinked: Vec<u64>,
    personal: Vec<u64>,
    /// The tags of each tagged order key.
    tags_of_key: HashMap<u64, SmallVec<[u32; 2]>>,
}

impl Constraints {
    /// The constraints of `corrections` (numbered, in the order they were
    /// made), or the first that contradicts those before it.
    pub fn build(corrections: &[(u64, Correction)]) -> Result<Self, Conflict> {
        let mut c = Constraints::default();
        let mut unlinked_by: HashMap<u64, u64> = HashMap::default();
        let mut personal_by: HashMap<u64, u64> = HashMap::default();
        for (id, correction) in corrections {
            let id = *id;
            match correction {
                Correction::Split { moved, kept } => {
                    let a = c.tag(true, moved, id);
                    let b = c.tag(true, kept, id);
                    c.apart.push((a, b));
                }
                Correction::Merge { orders } => {
                    c.tag(true, orders, id);
                }
                Correction::Unlink { key } => {
                    if let Some(&with) = personal_by.get(key) {
                        return Err(Conflict {
                            correction: id,
                            with,
                            why: "the identifier was marked personal",
                        });
                    }
                    unlinked_by.entry(*key).or_insert(id);
                }
                Correction::Link { key } => {
                    if let Some(&with) = unlinked_by.get(key) {
                        return Err(Conflict {
                            correction: id,
                            with,
                            why: "the identifier was marked never to link",
                        });
                    }
                    personal_by.entry(*key).or_insert(id);
                }
            }
            if let Some(with) = c.contradiction(id) {
                return Err(Conflict {
                    correction: id,
                    with,
                    why: "it puts orders that were split apart into one customer",
                });
            }
        }
        c.apart.sort_unstable();
        c.apart.dedup();
        c.unlinked = unlinked_by.into_keys().collect();
        c.unlinked.sort_unstable();
        c.personal = personal_by.into_keys().collect();
        c.personal.sort_unstable();
        Ok(c)
    }

    fn tag(&mut self, linked: bool, orders: &[u64], correction: u64) -> u32 {
        let t = self.tags.len() as u32;
        let mut orders = orders.to_vec();
        orders.sort_unstable();
        orders.dedup();
        for &key in &orders {
            self.tags_of_key.entry(key).or_default().push(t);
        }
        self.tags.push(Tag {
            linked,
            orders,
            correction,
        });
        t
    }

    /// Whether some pair of tags apart has orders that linked tags make
    /// one person; if so, the other correction involved than `latest`
    /// (the one that set the pair apart, or the latest that linked them).
    fn contradiction(&self, latest: u64) -> Option<u64> {
        let mut uf: HashMap<u64, u64> = HashMap::default();
        fn find(uf: &mut HashMap<u64, u64>, mut x: u64) -> u64 {
            while let Some(&p) = uf.get(&x).filter(|&&p| p != x) {
                x = p;
            }
            x
        }
        // Per linked set's root, the corrections that linked into it.
        let mut linked_by: HashMap<u64, Vec<u64>> = HashMap::default();
        for tag in self.tags.iter().filter(|t| t.linked) {
            let Some(&first) = tag.orders.first() else {
                continue;
            };
            let root = find(&mut uf, first);
            for &o in &tag.orders[1..] {
                let other = find(&mut uf, o);
                if other != root {
                    let by = linked_by.remove(&other).unwrap_or_default();
                    uf.insert(other, root);
                    linked_by.entry(root).or_default().extend(by);
                }
            }
            linked_by.entry(root).or_default().push(tag.correction);
        }
        for &(a, b) in &self.apart {
            let roots: HashSet<u64> = self.tags[a as usize]
                .orders
                .iter()
                .map(|&o| find(&mut uf, o))
                .collect();
            for &o in &self.tags[b as usize].orders {
                let root = find(&mut uf, o);
                if roots.contains(&root) || self.tags[a as usize].orders.binary_search(&o).is_ok() {
                    let split = self.tags[a as usize].correction;
                    if split != latest {
                        return Some(split);
                    }
                    // The latest other correction that linked them.
                    let by = linked_by.get(&root).into_iter().flatten();
                    return Some(by.filter(|&&c| c != latest).max().copied().unwrap_or(split));
                }
            }
        }
        None
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.tags.is_empty() && self.unlinked.is_empty() && self.personal.is_empty()
    }

    /// How many tags there are.
    pub(super) fn tags(&self) -> usize {
        self.tags.len()
    }

    /// The tags of an order, by key.
    pub(super) fn tags_of(&self, key: u64) -> &[u32] {
        self.tags_of_key.get(&key).map_or(&[], |t| t.as_slice())
    }

    /// Whether a tag's orders are one person.
    pub(super) fn linked(&self, tag: u32) -> bool {
        self.tags[tag as usize].linked
    }

    /// Whether two tags' orders are two people.
    pub(super) fn apart(&self, a: u32, b: u32) -> bool {
        self.apart.binary_search(&(a.min(b), a.max(b))).is_ok()
    }

    /// Whether any order of one tag set and any of the other are two people.
    pub(super) fn sets_apart(&self, a: &[u32], b: &[u32]) -> bool {
        a.iter().any(|&x| b.iter().any(|&y| self.apart(x, y)))
    }

    pub(super) fn unlinked(&self, key: u64) -> bool {
        self.unlinked.binary_search(&key).is_ok()
    }

    pub(super) fn personal(&self, key: u64) -> bool {
        self.personal.binary_search(&key).is_ok()
    }

    /// The order keys any tag holds, and the identifier keys set either
    /// way: what a change of corrections may move.
    fn reach(
        &self,
    ) -> (
        impl Iterator<Item = u64> + '_,
        impl Iterator<Item = u64> + '_,
    ) {
        (
            self.tags_of_key.keys().copied(),
            self.unlinked.iter().chain(&self.personal).copied(),
        )
    }

    pub(super) fn encode(&self, w: &mut Writer) {
        w.len(self.tags.len());
        for t in &self.tags {
            w.bool(t.linked);
            w.u64s(&t.orders);
            w.u64(t.correction);
        }
        w.len(self.apart.len());
        for &(a, b) in &self.apart {
            w.u32(a);
            w.u32(b);
        }
        w.u64s(&self.unlinked);
        w.u64s(&self.personal);
    }

    pub(super) fn decode(r: &mut Reader<'_>) -> DecodeResult<Self> {
        let mut c = Constraints::default();
        for _ in 0..r.len(1)? {
            let linked = r.bool()?;
            let orders = r.u64s()?;
            let correction = r.u64()?;
            c.tag(linked, &orders, correction);
        }
        for _ in 0..r.len(8)? {
            let (a, b) = (r.u32()?, r.u32()?);
            if a.max(b) as usize >= c.tags.len() {
                return Err(format!("tags {a} and {b} apart, of {}", c.tags.len()));
            }
            c.apart.push((a, b));
        }
        c.unlinked = r.u64s()?;
        c.personal = r.u64s()?;
        Ok(c)
    }
}

impl IdentityGraph {
    /// The corrections in force.
    pub fn constraints(&self) -> &Constraints {
        &self.constraints
    }

    /// Puts `constraints` in force: resolves again the customers of every
    /// order and identifier that the old or the new ones name.
    /// `arrived_at` stamps the aliases of MCIDs retired, whose reason is
    /// `manual_merge` or `manual_split`, naming `correction` (the one made
    /// or undone).
    pub fn set_constraints(
        &mut self,
        constraints: Constraints,
        correction: u64,
        arrived_at: i64,
    ) -> ApplyStats {
        if constraints == self.constraints {
            return ApplyStats::default();
        }
        let old = std::mem::replace(&mut self.constraints, constraints);
        self.next_apply();
        let mut rebuild: HashSet<u32> = HashSet::default();
        let mut marked: HashSet<u32> = HashSet::default();
        let mut stats = ApplyStats::default();
        let (old_orders, old_idents) = old.reach();
        let (new_orders, new_idents) = self.constraints.reach();
        let order_keys: HashSet<u64> = old_orders.chain(new_orders).collect();
        let ident_keys: Vec<u64> = old_idents.chain(new_idents).collect();
        self.tags_of.clear();
        self.tag_orders = vec![Vec::new(); self.constraints.tags.len()];
        for o in 0..self.orders.len() as u32 {
            let Some(node) = self.orders[o as usize] else {
                continue;
            };
            if order_keys.contains(&node.key) {
                self.retagged.push(o);
                self.tag_order(o, node.key);
                if self.comp_of[o as usize] != NONE {
                    rebuild.insert(self.comp_of[o as usize]);
                }
            }
        }
        for key in ident_keys {
            let Some(id) = self.index.get(key) else {
                continue;
            };
            self.restate_by_constraints(id, &mut rebuild, &mut marked, &mut stats);
        }
        let mut dirty = Vec::new();
        self.dissolve(rebuild, &mut dirty);
        let touched: Vec<u32> = self
            .recomponent(&dirty)
            .iter()
            .filter(|&c| !self.comps[c as usize].is_empty())
            .collect();
        stats.orders = dirty.len();
        stats.components = touched.len();
        self.correcting = Some(correction);
        stats.retired = self.resolve_components(&touched, arrived_at);
        self.correcting = None;
        stats
    }

    /// The orders whose corrections changed since `seen` were read, moving
    /// `seen` on: their evidence reads differently even where no MCID
    /// moved.
    pub(crate) fn retagged_orders(&self, seen: &mut usize) -> &[u32] {
        let from = (*seen).min(self.retagged.len());
        *seen = self.retagged.len();
        &self.retagged[from..]
    }

    /// Sets who made each correction and why (by number), as the evidence
    /// tells it.
    pub fn set_correction_notes(&mut self, notes: HashMap<u64, String>) {
        self.correction_notes = notes;
    }

    /// The corrections in force that hold order `o` (erasures aside): the
    /// number, whether it split the order's customer (else merged it), and
    /// who made it and why.
    pub(crate) fn order_corrections(&self, o: u32) -> Vec<(u64, bool, &str)> {
        let Some(tags) = self.tags_of.get(&o) else {
            return Vec::new();
        };
        tags.iter()
            .filter_map(|&t| {
                let tag = &self.constraints.tags[t as usize];
                let split = self
                    .constraints
                    .apart
                    .iter()
                    .any(|&(a, b)| a == t || b == t);
                let note = self.correction_notes.get(&tag.correction);
                (tag.correction < ERASURE_NUMBERS)
                    .then(|| (tag.correction, split, note.map_or("", String::as_str)))
            })
            .collect()
    }

    /// Notes the tags of an order with key `key` (which has none yet).
    pub(super) fn tag_order(&mut self, o: u32, key: u64) {
        if self.tag_orders.is_empty() {
            return;
        }
        let tags = self.constraints.tags_of(key);
        if tags.is_empty() {
            return;
        }
        for &t in tags {
            self.tag_orders[t as usize].push(o);
        }
        self.tags_of.insert(o, tags.into());
    }

    /// Marks an identifier shared or not as the corrections and its
    /// companions say now.
    fn restate_by_constraints(
        &mut self,
        id: u32,
        rebuild: &mut HashSet<u32>,
        marked: &mut HashSet<u32>,
        stats: &mut ApplyStats,
    ) {
        let key = self.idents[id as usize].key;
        let was = self.shared_reasons.get(&id).copied();
        if self.constraints.unlinked(key) {
            if was != Some(SharedReason::Corrected) {
                self.mark_shared(id, Some(SharedReason::Corrected), rebuild, marked);
            }
            return;
        }
        if was.is_some() {
            self.mark_shared(id, None, rebuild, marked);
        }
        self.recount_companions(id, rebuild, marked, stats);
    }

    /// Takes the orders of components `rebuild` out of them, into `dirty`.
    pub(super) fn dissolve(&mut self, rebuild: HashSet<u32>, dirty: &mut Vec<u32>) {
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
        }
    }

    /// Resolves components `touched` into customers and gives them MCIDs;
    /// returns how many MCIDs were retired.
    pub(super) fn resolve_components(&mut self, touched: &[u32], arrived_at: i64) -> usize {
        let mut retired = 0;
        let mut comps = touched.iter();
        for part in self.cluster_components(touched) {
            for k in 0..part.components.len() {
                let c = *comps.next().expect("one clustering per touched component");
                let clusters = part.component(k);
                self.comp_facts[c as usize].one_customer = clusters.clone().count() == 1;
                retired += self.assign_mcids(clusters, arrived_at);
            }
        }
        retired
    }

    /// The tags of a component's orders for resolution: `(position, tag)`
    /// for the orders at `positions` of `local` numbering.
    pub(super) fn local_tags(&self, timed: &[(i64, u64, u32)], out: &mut Vec<(u32, u32)>) {
        out.clear();
        if self.tags_of.is_empty() {
            return;
        }
        for (i, &(_, _, o)) in timed.iter().enumerate() {
            if let Some(tags) = self.tags_of.get(&o) {
                out.extend(tags.iter().map(|&t| (i as u32, t)));
            }
        }
    }
}
