//! Taking a batch of orders in: interning their identifiers, updating
//! postings and companions, and noting what judging and resolving the
//! batch will need.

use super::*;

/// What the apply loop notes about a batch's identifiers for judging its
/// new orders, while their nodes are in cache.
#[derive(Debug, Default)]
pub(super) struct BatchNotes {
    /// Orders to resolve: the new ones, and those whose identifiers changed.
    pub(super) dirty: Vec<u32>,
    /// Per order of `dirty`: the lowest other order on each of its
    /// identifiers when it was added, [`NONE`] if none.
    pub(super) firsts: Vec<[u32; 5]>,
    /// Per order of `dirty`: a bit per slot whose identifier was shared
    /// when the order was added. With `marked` and `unsettled` it says
    /// whether an identifier is usable without reading `shared_bits`, a
    /// miss at every order by the time orders are judged.
    pub(super) shared_slots: Vec<u8>,
    /// Identifiers found shared, or no longer shared, during this apply.
    pub(super) marked: HashSet<u32>,
    /// Identifiers that two or more orders of the batch added.
    pub(super) shared: HashSet<u32>,
    /// Refused values met, filed after the loop.
    pub(super) refused: RefusedNotes,
    /// Orders resolved before this apply.
    pub(super) known: usize,
    /// Identifiers whose postings changed other than by new orders being
    /// added at the end (a re-sent order dropped or gained them): their
    /// noted first orders may be stale, so judging reads the postings.
    pub(super) unsettled: HashSet<u32>,
}

impl BatchNotes {
    /// Whether new orders are judged for joining directly, after the loop,
    /// with `dirty` orders to resolve. Most orders of an increment are a
    /// known customer buying again. A bulk load (orders to resolve at
    /// least half as many as those resolved before) has few, and would
    /// only pay for looking.
    pub(super) fn judges(dirty: usize, known: usize) -> bool {
        dirty * 2 < known
    }

    /// Whether the batch's new orders may yet be judged: `dirty` only
    /// grows, so once too large it stays so.
    pub(super) fn may_judge(&self) -> bool {
        Self::judges(self.dirty.len(), self.known)
    }
}

/// How many orders ahead of the one being applied its successors' index
/// slots are prefetched (their nodes at half the distance, the postings the
/// nodes point to at a quarter): far enough for a miss to arrive, near
/// enough not to be evicted before use.
pub(super) const PREFETCH_AHEAD: usize = 16;

impl IdentityGraph {
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
        self.next_apply();
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
        for c in &rebuild {
            reresolve.remove(c);
        }
        self.dissolve(rebuild, &mut dirty);
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
        stats.retired += self.resolve_components(&touched, arrived_at);
        stats
    }

    /// Numbers a new apply (see [`LiveMcid::claimed_in`]).
    pub(super) fn next_apply(&mut self) {
        if self.applies == u32::MAX {
            // Numbering starts over: no MCID is claimed in the next apply 1.
            self.live.values_mut().for_each(|l| l.claimed_in = 0);
        }
        self.applies = self.applies.wrapping_add(1).max(1);
    }

    /// Applies the `i`th order of `inputs`.
    pub(super) fn apply_order(
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
            city: input.city,
            idents,
        };
        let previous = self.orders[o];
        let dirty = &mut notes.dirty;
        let dirtied_before = dirty.len();
        match previous {
            Some(old) if old.idents == idents => {
                if (old.at, old.valid, old.phone_sig, old.place, old.city)
                    != (node.at, node.valid, node.phone_sig, node.place, node.city)
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
                    self.restated.push(id);
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
            None => {
                dirty.push(input.order);
                self.tag_order(input.order, input.key);
            }
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

    pub(super) fn prefetch_index(&self, slots: &[Slot<Span>; 5]) {
        for slot in slots {
            if let Slot::Id { key, .. } = slot {
                self.index.prefetch(*key);
            }
        }
    }

    /// Prefetches the nodes of an order's known identifiers; their index
    /// slots were asked for earlier.
    pub(super) fn prefetch_idents(&self, slots: &[Slot<Span>; 5]) {
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
    pub(super) fn prefetch_postings(&self, slots: &[Slot<Span>; 5]) {
        for slot in slots {
            if let Slot::Id { key, .. } = slot
                && let Some(id) = self.index.get(*key)
            {
                self.idents[id as usize].postings.prefetch_ends();
            }
        }
    }

    pub(super) fn intern<'v>(
        &mut self,
        kind: IdentityKind,
        key: u64,
        value: impl FnOnce() -> &'v str,
    ) -> u32 {
        if let Some(id) = self.index.get(key) {
            // A value forgotten (erased) and now seen again.
            if self.idents[id as usize].key != key {
                self.idents[id as usize].key = key;
                self.values[id as usize] = value().into();
            }
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
        if self.constraints.unlinked(key) {
            self.idents[id as usize].shared = true;
            self.shared_bits.insert(id);
            self.shared_reasons.insert(id, SharedReason::Corrected);
        }
        id
    }

    /// The [`IdentNode::scope`] of a new identifier.
    pub(super) fn scope_number(&mut self, kind: IdentityKind, value: &str) -> u16 {
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
}
