//! Components: orders linked by any usable identifier. A batch's orders
//! find theirs by searching from their identifiers; components merge as
//! identifiers join them.

use super::*;

/// "Several identifiers" in [`CompFacts`].
pub(super) const MANY: u32 = NONE - 1;

/// What is known of a component without reading its orders. All of it is
/// a function of the members, kept exact (not merely a bound) so that a live
/// graph and one loaded from a checkpoint, which recomputes it, decide alike.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct CompFacts {
    /// The latest order's `(ordered_at, key)`: whether a new order comes
    /// after the whole component.
    pub(super) latest: (i64, u64),
    /// The unionID and the email its orders carry, usable or not (which
    /// only makes the check stricter): [`NONE`] if none, [`MANY`] if
    /// several.
    pub(super) unionid: u32,
    pub(super) email: u32,
    /// Whether all its orders have one MCID (are one customer).
    pub(super) one_customer: bool,
}

impl CompFacts {
    pub(super) const EMPTY: CompFacts = CompFacts {
        latest: (i64::MIN, 0),
        unionid: NONE,
        email: NONE,
        one_customer: false,
    };

    /// Takes in an order.
    pub(super) fn add(&mut self, order: &OrderNode) {
        let idents = &order.idents;
        self.latest = self.latest.max((order.at, order.key));
        self.unionid = either(self.unionid, idents[IdentityKind::Unionid as usize]);
        self.email = either(self.email, idents[IdentityKind::Email as usize]);
    }

    pub(super) fn absorb(&mut self, other: CompFacts) {
        self.latest = self.latest.max(other.latest);
        self.unionid = either(self.unionid, other.unionid);
        self.email = either(self.email, other.email);
    }

    /// Whether an order with this unionID and email (usable ones, else
    /// [`NONE`]) leaves the component with at most one of each.
    pub(super) fn admits(&self, unionid: u32, email: u32) -> bool {
        let fits = |have: u32, id: u32| have != MANY && (id == NONE || have == NONE || have == id);
        fits(self.unionid, unionid) && fits(self.email, email)
    }

    /// Whether a new order with this usable unionID and email can join the
    /// component directly as far as the component goes: it comes after
    /// all of it, and [`Self::admits`] its unionID and email. These are
    /// the conditions that orders joining before it can change.
    pub(super) fn takes(&self, node: &OrderNode, unionid: u32, email: u32) -> bool {
        self.latest < (node.at, node.key) && self.admits(unionid, email)
    }
}

/// One identifier of a kind from two sides: [`NONE`], the one, or [`MANY`].
pub(super) fn either(a: u32, b: u32) -> u32 {
    match (a, b) {
        (a, NONE) => a,
        (NONE, b) => b,
        (a, b) if a == b => a,
        _ => MANY,
    }
}

impl IdentityGraph {
    /// Finds the components of orders that have none, absorbing the existing
    /// components they connect to. Returns the components touched.
    pub(super) fn recomponent(&mut self, dirty: &[u32]) -> Bits {
        // A bit per component, not a hash set: a bulk load inserts a
        // component for every order, and a set's slots would be cache misses.
        // A new component takes a freed number or the next one.
        let mut touched = Bits::with_capacity(self.comps.len() + dirty.len());
        let mut stack = Vec::new();
        let mut reached = Vec::new();
        // Linked tags already followed: their orders are in a component.
        let mut tags_seen: HashSet<u32> = HashSet::default();
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
                // What links `x` to other orders: its usable identifiers,
                // and the corrections that make its orders one person.
                let tags: SmallVec<[u32; 2]> = if self.tags_of.is_empty() {
                    SmallVec::new()
                } else {
                    let tags = self.tags_of.get(&x).into_iter().flatten();
                    tags.filter(|&&t| self.constraints.linked(t) && !tags_seen.contains(&t))
                        .copied()
                        .collect()
                };
                let links = node
                    .idents
                    .into_iter()
                    .map(Ok)
                    .chain(tags.into_iter().map(Err));
                for link in links {
                    reached.clear();
                    match link {
                        Ok(id) => {
                            if !self.usable(id) || self.ident_stamp[id as usize] == self.round {
                                continue;
                            }
                            self.ident_stamp[id as usize] = self.round;
                            reached.extend(self.idents[id as usize].postings.iter());
                        }
                        Err(tag) => {
                            if !tags_seen.insert(tag) {
                                continue;
                            }
                            reached.extend_from_slice(&self.tag_orders[tag as usize]);
                        }
                    }
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
    pub(super) fn prefetch_component_search(&self, dirty: &[u32], i: usize) {
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

    pub(super) fn new_comp(&mut self, order: u32) -> u32 {
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
    pub(super) fn recompute_latest(&mut self, c: u32) {
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
    pub(super) fn add_member(&mut self, c: u32, o: u32) {
        self.comp_of[o as usize] = c;
        self.comps[c as usize].push(o);
        let n = self.orders[o as usize].expect("a component member is an order");
        self.comp_facts[c as usize].add(&n);
    }

    /// Merges two components, relabelling the smaller; returns the survivor.
    pub(super) fn merge_comps(&mut self, a: u32, b: u32) -> u32 {
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

    pub(super) fn facts(&self, id: u32) -> IdentFacts {
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
}
