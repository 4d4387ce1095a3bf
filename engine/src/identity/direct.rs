//! Direct joins: a known customer's new order joins its customer without
//! re-resolving the component, when nothing about it could change the
//! partition.

use super::*;

/// A new order joining a customer without re-resolving.
#[derive(Debug, Clone, Copy)]
pub(super) struct DirectJoin {
    pub(super) comp: u32,
    pub(super) mcid: u64,
    /// Slots of its identifiers that other orders of the batch brought too.
    pub(super) batch_links: u8,
}

/// Below this many orders judged to join directly, one thread adds them
/// and counts them on their customers.
pub(super) const PARALLEL_JOINS: usize = 2_000;

/// What [`IdentityGraph::add_joiners`] reads on both threads.
pub(super) struct Joiners<'a> {
    pub(super) orders: &'a [u32],
    pub(super) joins: &'a [Option<DirectJoin>],
    pub(super) nodes: &'a [Option<OrderNode>],
    pub(super) shared: &'a Bits,
}

impl Joiners<'_> {
    /// Adds the orders joining the components numbered from `first`, whose
    /// lists and facts `comps` and `facts` are; returns their positions.
    pub(super) fn take(
        &self,
        first: usize,
        comps: &mut [Vec<u32>],
        facts: &mut [CompFacts],
    ) -> Vec<usize> {
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

impl IdentityGraph {
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
    ///   landline, nor placed from an account never seen before, nor
    ///   shipping to a city its phone's other orders did not.
    ///
    /// Orders of this batch not yet resolved are left out: one that is
    /// resolved later, sharing an identifier with this one, re-resolves
    /// this customer's component whole; one that joins directly too must
    /// join the same customer (see [`Self::drop_diverging_joins`]).
    pub(super) fn joins_as_latest(
        &self,
        o: u32,
        k: usize,
        notes: &BatchNotes,
        reresolve: &HashSet<u32>,
    ) -> Option<DirectJoin> {
        // A corrected order is resolved with its component.
        if self.mcid[o as usize] != 0 || self.tags_of.contains_key(&o) {
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
        // A phone's order shipping to a city its other orders did not may
        // be the number's new holder (see `resolve::Walk::link`).
        if phone != NONE
            && node.city != 0
            && self.idents[phone as usize].postings.iter().any(|p| {
                p != o
                    && self.orders[p as usize].is_some_and(|n| n.city != 0 && n.city != node.city)
            })
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
    pub(super) fn drop_diverging_joins(&self, orders: &[u32], joins: &mut [Option<DirectJoin>]) {
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
    pub(super) fn usable_in_batch(
        &self,
        id: u32,
        slot: usize,
        notes: &BatchNotes,
        k: usize,
    ) -> bool {
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
    pub(super) fn direct_joins(
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
    pub(super) fn local_order(&self, o: u32) -> LocalOrder {
        let n = self.orders[o as usize].expect("a resolved order exists");
        LocalOrder {
            at: n.at,
            valid: n.valid,
            in_store: n.in_store,
            phone_sig: n.phone_sig,
            place: n.place,
            city: n.city,
            idents: n.idents.map(|id| if self.usable(id) { id } else { NONE }),
        }
    }

    /// Adds the orders judged to join a customer directly (see
    /// [`Self::joins_as_latest`]) to it. Returns the others, and the MCID
    /// each joined, whose order count the caller raises.
    pub(super) fn join_customers(
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
    pub(super) fn add_joiners(
        &mut self,
        orders: &[u32],
        joins: &[Option<DirectJoin>],
    ) -> Vec<bool> {
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
}
