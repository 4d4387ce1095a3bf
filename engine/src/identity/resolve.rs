//! Resolution of one connected component into customers.
//!
//! The component's orders are taken in event time (`ordered_at`, then the
//! order's own key: never arrival order), and linked stage by stage, from the
//! strongest identifier kind to the weakest, by a union-find whose clusters
//! carry a profile of their exclusive identifiers. A link that would put two
//! different unionIDs or two different emails into one customer is always
//! refused: those are two people, whatever the timing.
//!
//! Within a stage, an identifier's orders are walked in time with an
//! "owner": the customer of its most recent valid (paid, shipped, signed)
//! order. An order that conflicts with the owner and is itself valid takes
//! the identifier over from then on, which is how a recycled phone's earlier
//! orders stay with the earlier owner (see `Walk::link`).

use ordergraph_udfs::IdentityKind;
use smallvec::SmallVec;

use super::{Constraints, NONE};

/// One order as resolution sees it (the caller sorts orders by event time).
/// `idents` holds an identifier number per [`IdentityKind`] slot, [`NONE`]
/// where absent or refused.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LocalOrder {
    /// `ordered_at`, microseconds.
    pub(crate) at: i64,
    pub(crate) valid: bool,
    /// Keyed in by a store clerk: its phone may not be the buyer's.
    pub(crate) in_store: bool,
    /// Where a store order ships ([`super::extract::place_key`]), 0 if
    /// nowhere or not a store order.
    pub(crate) place: u32,
    /// Where it ships ([`super::extract::city_key`]), 0 if unknown.
    pub(crate) city: u32,
    /// Visible digits of the phone (masked or not), 0 if none.
    pub(crate) phone_sig: u32,
    pub(crate) idents: [u32; 5],
}

/// What resolution needs to know about an identifier.
#[derive(Debug, Clone, Copy)]
pub(crate) struct IdentFacts {
    pub(crate) key: u64,
    /// The channel an account belongs to: two accounts of one channel on one
    /// device suggest two people.
    pub(crate) scope: u64,
    /// A phone that belongs to a household or an office (a landline).
    pub(crate) household: bool,
}

#[derive(Debug, Default, Clone)]
struct Profile {
    unionids: Ids,
    emails: Ids,
    /// Tags of corrections on its orders (see [`Constraints`]).
    tags: Ids,
}

/// A set of identifiers that is almost always empty or one: kept inline so
/// that resolving a component does not allocate per order.
#[derive(Debug, Default, Clone)]
enum Ids {
    #[default]
    None,
    One(u32),
    Many(Vec<u32>),
}

impl Ids {
    fn of(id: u32) -> Self {
        if id == NONE { Ids::None } else { Ids::One(id) }
    }

    fn as_slice(&self) -> &[u32] {
        match self {
            Ids::None => &[],
            Ids::One(id) => std::slice::from_ref(id),
            Ids::Many(v) => v,
        }
    }

    fn absorb(&mut self, other: Ids) {
        for &id in other.as_slice() {
            if self.as_slice().contains(&id) {
                continue;
            }
            *self = match std::mem::take(self) {
                Ids::None => Ids::One(id),
                Ids::One(a) => Ids::Many(vec![a, id]),
                Ids::Many(mut v) => {
                    v.push(id);
                    Ids::Many(v)
                }
            };
        }
    }
}

fn disjoint(a: &[u32], b: &[u32]) -> bool {
    !a.is_empty() && !b.is_empty() && !a.iter().any(|x| b.contains(x))
}

impl Profile {
    /// Two different unionIDs or two different emails are two people, and
    /// so are orders a correction set apart. Accounts are not exclusive:
    /// one person opens several accounts on one channel to claim
    /// new-customer coupons again.
    fn conflicts_with(&self, other: &Profile, constraints: &Constraints) -> bool {
        disjoint(self.unionids.as_slice(), other.unionids.as_slice())
            || disjoint(self.emails.as_slice(), other.emails.as_slice())
            || constraints.sets_apart(self.tags.as_slice(), other.tags.as_slice())
    }

    fn absorb(&mut self, other: Profile) {
        self.unionids.absorb(other.unionids);
        self.emails.absorb(other.emails);
        self.tags.absorb(other.tags);
    }
}

struct UnionFind<'a> {
    parent: &'a mut Vec<u32>,
    profile: &'a mut Vec<Profile>,
    constraints: &'a Constraints,
}

impl UnionFind<'_> {
    fn find(&mut self, mut x: u32) -> u32 {
        while self.parent[x as usize] != x {
            let p = self.parent[x as usize];
            self.parent[x as usize] = self.parent[p as usize];
            x = p;
        }
        x
    }

    /// Joins the clusters of `a` and `b`; the earlier order's root survives,
    /// so roots never depend on processing order within a stage.
    fn union(&mut self, a: u32, b: u32) {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra == rb {
            return;
        }
        let (keep, gone) = (ra.min(rb), ra.max(rb));
        self.parent[gone as usize] = keep;
        let moved = std::mem::take(&mut self.profile[gone as usize]);
        self.profile[keep as usize].absorb(moved);
    }

    fn conflict(&mut self, a: u32, b: u32) -> bool {
        let (ra, rb) = (self.find(a), self.find(b));
        ra != rb
            && self.profile[ra as usize]
                .conflicts_with(&self.profile[rb as usize], self.constraints)
    }
}

/// Resolves components one after another, reusing its buffers: most
/// components are a handful of orders, where allocating would cost more
/// than the work.
#[derive(Debug, Default)]
pub(crate) struct Resolver {
    parent: Vec<u32>,
    profile: Vec<Profile>,
    pairs: Vec<(u32, u32)>,
    members: Vec<u32>,
    /// (kind slot, identifier key, range of `members`, identifier), in
    /// processing order.
    groups: Vec<(usize, u64, std::ops::Range<usize>, u32)>,
    labels: Vec<u32>,
    /// `(phone signature, ordered_at, order)` of every order showing a
    /// mainland mobile, masked or not, sorted.
    sightings: Vec<(u32, i64, u32)>,
    /// Buffers of the identifier walks.
    scratch: WalkScratch,
}

impl Resolver {
    /// Resolves a component. `orders` must be sorted by event time, ties
    /// broken by order key; `tags` holds `(position, tag)` of the
    /// corrections' tags on them, by position. Returns, per order, the
    /// position of the earliest order of its customer.
    pub(crate) fn resolve(
        &mut self,
        orders: &[LocalOrder],
        tags: &[(u32, u32)],
        constraints: &Constraints,
        facts: &impl Fn(u32) -> IdentFacts,
        handover_gap: i64,
    ) -> &[u32] {
        let n = orders.len();
        self.parent.clear();
        self.parent.extend(0..n as u32);
        self.profile.clear();
        self.profile.extend(orders.iter().map(initial_profile));
        for &(at, tag) in tags {
            self.profile[at as usize].tags.absorb(Ids::One(tag));
        }
        // Orders of each identifier, in event time: sorting (identifier,
        // order) pairs groups them without a hash map per component.
        let pairs = &mut self.pairs;
        pairs.clear();
        for (i, o) in orders.iter().enumerate() {
            pairs.extend(
                o.idents
                    .iter()
                    .filter(|&&id| id != NONE)
                    .map(|&id| (id, i as u32)),
            );
        }
        pairs.sort_unstable();
        self.members.clear();
        self.members.extend(pairs.iter().map(|p| p.1));
        let groups = &mut self.groups;
        groups.clear();
        let mut start = 0;
        while start < pairs.len() {
            let id = pairs[start].0;
            let end = start + pairs[start..].iter().take_while(|p| p.0 == id).count();
            let slot = orders[pairs[start].1 as usize]
                .idents
                .iter()
                .position(|&x| x == id)
                .unwrap_or(0);
            groups.push((slot, facts(id).key, start..end, id));
            start = end;
        }
        groups.sort_unstable_by_key(|g| (g.0, g.1));
        let members = &self.members;
        let of_kind = |kind: IdentityKind| {
            groups
                .iter()
                .filter(move |g| g.0 == kind as usize)
                .map(|g| (g.3, &members[g.2.clone()]))
        };
        let mut uf = UnionFind {
            parent: &mut self.parent,
            profile: &mut self.profile,
            constraints,
        };

        // What a person said is one person is, before any rule.
        let mut linked: Vec<(u32, u32)> = tags
            .iter()
            .filter(|&&(_, tag)| constraints.linked(tag))
            .map(|&(at, tag)| (tag, at))
            .collect();
        linked.sort_unstable();
        for group in linked.chunk_by(|a, b| a.0 == b.0) {
            for &(_, at) in &group[1..] {
                uf.union(group[0].1, at);
            }
        }
        // A unionID is one person: its orders join unconditionally.
        for (_, group) in of_kind(IdentityKind::Unionid) {
            for &o in &group[1..] {
                uf.union(group[0], o);
            }
        }
        self.sightings.clear();
        self.sightings.extend(
            orders
                .iter()
                .enumerate()
                .filter(|(_, o)| o.phone_sig != 0)
                .map(|(i, o)| (o.phone_sig, o.at, i as u32)),
        );
        self.sightings.sort_unstable();
        let walk = Walk {
            orders,
            handover_gap,
            facts,
            sightings: &self.sightings,
        };
        for kind in [IdentityKind::Account, IdentityKind::Email] {
            for (_, group) in of_kind(kind) {
                walk.link(&mut uf, group, |_| false, false, &mut self.scratch);
            }
        }
        // A landline seen with two people's exclusive identifiers, or with
        // two accounts of one channel, is a household's or an office's: it
        // links nobody, for whoever orders without an account or email
        // there may be any of them.
        for (id, group) in of_kind(IdentityKind::Phone) {
            if facts(id).household && profile_of(group, orders, facts).several_people() {
                continue;
            }
            // A store clerk may type the shop's own number, or one number
            // for every walk-in: a phone on a store order is not known to
            // be the buyer's.
            let in_store = |o: u32| orders[o as usize].in_store;
            walk.link(&mut uf, group, in_store, true, &mut self.scratch);
        }
        // A device seen with two people's exclusive identifiers, or with
        // two holders apart, is shared (a family iPad): it links only the
        // holders tied to one another by a phone they both used on it.
        for (_, group) in of_kind(IdentityKind::Device) {
            let profile = profile_of(group, orders, facts);
            if !profile.ambiguous() {
                walk.link(&mut uf, group, |_| false, false, &mut self.scratch);
                continue;
            }
            // The device's orders by part, each part's in event time.
            let parts = profile.tied_parts();
            let mut by_part: Vec<(usize, u32)> = group
                .iter()
                .filter_map(|&m| Some((parts[profile.holder_index(&orders[m as usize])?], m)))
                .collect();
            by_part.sort_by_key(|&(part, _)| part);
            for part in by_part.chunk_by(|a, b| a.0 == b.0) {
                let members: Vec<u32> = part.iter().map(|&(_, m)| m).collect();
                walk.link(&mut uf, &members, |_| false, false, &mut self.scratch);
            }
        }
        self.labels.clear();
        for i in 0..n as u32 {
            let root = uf.find(i);
            self.labels.push(root);
        }
        &self.labels
    }
}

fn initial_profile(o: &LocalOrder) -> Profile {
    Profile {
        unionids: Ids::of(o.idents[IdentityKind::Unionid as usize]),
        emails: Ids::of(o.idents[IdentityKind::Email as usize]),
        tags: Ids::None,
    }
}

/// How an identifier's orders are walked in time.
struct Walk<'a, F> {
    orders: &'a [LocalOrder],
    handover_gap: i64,
    facts: &'a F,
    /// See [`Resolver::sightings`].
    sightings: &'a [(u32, i64, u32)],
}

impl<F: Fn(u32) -> IdentFacts> Walk<'_, F> {
    /// Walks one identifier's orders in time, joining each to the customer
    /// that holds the identifier then (its *owner*). Two customers whose
    /// exclusive identifiers differ (two unionIDs, two emails) are two
    /// people and never join through it, however close in time:
    /// - an order of another person takes the identifier over if it is
    ///   valid (paid, shipped, signed): a couple sharing a phone hands it
    ///   back and forth, and each order without an exclusive identifier goes
    ///   with the holder of the moment;
    /// - after the owner left the identifier unused for `handover_gap` (a
    ///   carrier reassigns a number only after a quiet period), later
    ///   orders are `held` back, not joined. If the owner shows up again
    ///   through other identifiers, or nobody else does, they are the
    ///   owner's. If another person takes the identifier over, the held
    ///   orders are split at the longest silence among them (where the
    ///   number changed hands): those before it are the owner's, those
    ///   after it the new holder's, whose first orders often carry nothing
    ///   but the number. A number the owner keeps showing masked
    ///   (`138****5678` on a platform that hides it) from an account it
    ///   used the number with is in use then: a carrier reassigns only a
    ///   number its holder stopped using.
    ///   For an identifier that is `reassigned` (a carrier
    ///   gives a phone number up to someone else), an order after the quiet
    ///   time placed from another account of a channel on which the owner
    ///   used the number from its own account is another life too, and
    ///   takes it over as a conflicting order would (the number's new
    ///   holder on the same platforms); so is one shipping to a city the
    ///   owner never shipped to with the number, placed from an account
    ///   the owner never used with it, when the owner never uses the
    ///   number again (the new holder on other platforms, elsewhere; one
    ///   who lives in two cities keeps coming back to the number);
    /// - a `weak` order (one where someone else may have typed the value)
    ///   goes with the owner of its moment but is no sign of who holds the
    ///   identifier: it never takes it over nor keeps it in use. Where
    ///   nobody holds it, weak orders join only those shipping to the same
    ///   place: the value and the address together are one buyer's.
    fn link(
        &self,
        uf: &mut UnionFind<'_>,
        members: &[u32],
        weak: impl Fn(u32) -> bool,
        reassigned: bool,
        scratch: &mut WalkScratch,
    ) {
        let orders = self.orders;
        let WalkScratch {
            held,
            places,
            accounts,
            cities,
        } = scratch;
        held.clear();
        accounts.clear();
        cities.clear();
        let Some(first) = members.iter().position(|&m| !weak(m)) else {
            link_by_place(uf, members, orders, places);
            return;
        };
        let mut owner = members[first];
        let mut owner_last = orders[owner as usize].at;
        let sightings = if reassigned {
            self.sightings_of(orders[owner as usize].phone_sig)
        } else {
            &[]
        };
        self.note_life(accounts, cities, owner);
        // Weak orders before the first holder's go with that holder.
        give(uf, owner, &members[..first]);
        for (j, &o) in members.iter().enumerate().skip(first + 1) {
            let order = &orders[o as usize];
            if held.is_empty() {
                owner_last = self.last_seen(uf, owner, accounts, sightings, owner_last, order.at);
            }
            let quiet = !held.is_empty() || order.at - owner_last >= self.handover_gap;
            let conflict = uf.conflict(owner, o)
                || (reassigned
                    && quiet
                    && !weak(o)
                    && uf.find(o) != uf.find(owner)
                    && (self.another_life(accounts, o)
                        || (self.elsewhere(accounts, cities, o)
                            && !returns(uf, owner, &members[j + 1..]))));
            if held.is_empty() && !conflict {
                if !quiet {
                    uf.union(owner, o);
                    self.note_life(accounts, cities, o);
                    if !weak(o) {
                        owner_last = order.at;
                    }
                } else {
                    held.push(o);
                }
            } else if !held.is_empty() && uf.find(o) == uf.find(owner) {
                // The owner is back: what was held was the owner's.
                give(uf, owner, held);
                held.clear();
                owner_last = order.at;
            } else if !conflict {
                held.push(o);
            } else if !weak(o) && (order.valid || !orders[owner as usize].valid) {
                // Another person takes it over.
                let handover = longest_silence(held, orders, owner_last, order.at);
                give(uf, owner, &held[..handover]);
                for &h in &held[handover..] {
                    if !uf.conflict(o, h) {
                        uf.union(o, h);
                    } else if !uf.conflict(owner, h) {
                        uf.union(owner, h);
                    }
                }
                held.clear();
                accounts.clear();
                cities.clear();
                self.note_life(accounts, cities, o);
                (owner, owner_last) = (o, order.at);
            }
        }
        give(uf, owner, held);
        held.clear();
    }

    /// The orders showing the phone signature `sig` (none for 0), in time.
    fn sightings_of(&self, sig: u32) -> &[(u32, i64, u32)] {
        if sig == 0 {
            return &[];
        }
        let start = self.sightings.partition_point(|s| s.0 < sig);
        let end = self.sightings.partition_point(|s| s.0 <= sig);
        &self.sightings[start..end]
    }

    /// When the owner last showed the number before `before`, from its
    /// `sightings` (one signature's, in time), if later than `since`: on an
    /// order of the owner's customer placed from an account the owner used
    /// the number with (`accounts`), where the platform shows it masked.
    fn last_seen(
        &self,
        uf: &mut UnionFind<'_>,
        owner: u32,
        accounts: &[(u64, u32)],
        sightings: &[(u32, i64, u32)],
        since: i64,
        before: i64,
    ) -> i64 {
        let root = uf.find(owner);
        let until = sightings.partition_point(|s| s.1 < before);
        sightings[..until]
            .iter()
            .rev()
            .take_while(|s| s.1 > since)
            .find(|s| {
                let account = self.orders[s.2 as usize].idents[IdentityKind::Account as usize];
                account != NONE
                    && accounts.iter().any(|&(_, a)| a == account)
                    && uf.find(s.2) == root
            })
            .map_or(since, |s| s.1)
    }

    /// Notes the account (and its channel) an order of the owner's was
    /// placed from, and the city it shipped to.
    fn note_life(&self, accounts: &mut Vec<(u64, u32)>, cities: &mut Vec<u32>, o: u32) {
        let order = &self.orders[o as usize];
        let account = order.idents[IdentityKind::Account as usize];
        if account != NONE && !accounts.iter().any(|&(_, a)| a == account) {
            accounts.push(((self.facts)(account).scope, account));
        }
        if order.city != 0 && !cities.contains(&order.city) {
            cities.push(order.city);
        }
    }

    /// Whether an order ships to a city the owner never shipped to with
    /// the identifier (`cities`), from no account the owner used with it.
    fn elsewhere(&self, accounts: &[(u64, u32)], cities: &[u32], o: u32) -> bool {
        let order = &self.orders[o as usize];
        let account = order.idents[IdentityKind::Account as usize];
        order.city != 0
            && !cities.is_empty()
            && !cities.contains(&order.city)
            && (account == NONE || !accounts.iter().any(|&(_, a)| a == account))
    }

    /// Whether an order comes from another account of a channel on which
    /// the owner used the identifier from its own (`accounts`).
    fn another_life(&self, accounts: &[(u64, u32)], o: u32) -> bool {
        let account = self.orders[o as usize].idents[IdentityKind::Account as usize];
        if account == NONE || accounts.iter().any(|&(_, a)| a == account) {
            return false;
        }
        let scope = (self.facts)(account).scope;
        accounts.iter().any(|&(s, _)| s == scope)
    }
}

/// Whether `owner`'s customer places any of the `later` orders.
fn returns(uf: &mut UnionFind<'_>, owner: u32, later: &[u32]) -> bool {
    let root = uf.find(owner);
    later.iter().any(|&m| uf.find(m) == root)
}

/// Buffers of [`Walk::link`], kept across components.
#[derive(Debug, Default)]
struct WalkScratch {
    held: Vec<u32>,
    places: Vec<(u32, u32)>,
    /// The owner's accounts seen in the walk, with their channels.
    accounts: Vec<(u64, u32)>,
    /// The cities the owner's orders in the walk shipped to.
    cities: Vec<u32>,
}

/// Joins the orders that ship to one place, where they do not conflict.
fn link_by_place(
    uf: &mut UnionFind<'_>,
    members: &[u32],
    orders: &[LocalOrder],
    places: &mut Vec<(u32, u32)>,
) {
    places.clear();
    places.extend(
        members
            .iter()
            .map(|&m| (orders[m as usize].place, m))
            .filter(|p| p.0 != 0),
    );
    places.sort_unstable();
    for pair in places.windows(2) {
        if pair[0].0 == pair[1].0 && !uf.conflict(pair[0].1, pair[1].1) {
            uf.union(pair[0].1, pair[1].1);
        }
    }
}

/// Joins the `held` orders that do not conflict with it to `owner`'s
/// customer.
fn give(uf: &mut UnionFind<'_>, owner: u32, held: &[u32]) {
    for &h in held {
        if !uf.conflict(owner, h) {
            uf.union(owner, h);
        }
    }
}

/// Where the longest silence between the owner's last order, the held
/// orders and the order taking over (`taken_at`) ends: the position of the
/// held order that follows it, or past them all when the number changed
/// hands only just before it was taken over (the latest, on a tie).
fn longest_silence(held: &[u32], orders: &[LocalOrder], owner_last: i64, taken_at: i64) -> usize {
    let mut before = owner_last;
    let mut best = (i64::MIN, 0);
    let times = held
        .iter()
        .map(|&h| orders[h as usize].at)
        .chain([taken_at]);
    for (k, at) in times.enumerate() {
        best = best.max((at - before, k));
        before = at;
    }
    best.1
}

/// What decides whether a device's (or a landline's) orders link through
/// it, folded over them one at a time (see [`Resolver::resolve`]): a new
/// order is judged against a device without collecting its orders.
#[derive(Debug, Default, Clone)]
pub(crate) struct DeviceProfile {
    /// The phone signatures seen: none (0), one, or [`NONE`] for several.
    sig: u32,
    /// Whether some order has no phone signature.
    unsigned: bool,
    /// The unionIDs and emails seen (usable ones).
    unionid: Seen,
    email: Seen,
    /// Who ordered on the device (by account, else unionID, else email),
    /// with the account's scope and the phone signatures seen with each.
    holders: SmallVec<[Holder; 4]>,
    /// Whether two distinct accounts share a scope.
    scope_clash: bool,
}

/// One who ordered on a device: an account, or a unionID or email where
/// the order has no account.
#[derive(Debug, Clone)]
struct Holder {
    id: u32,
    /// An account's channel; `None` for a unionID or an email.
    scope: Option<u64>,
    sigs: SmallVec<[u32; 4]>,
    /// Orders placed on the device.
    orders: u32,
}

impl Holder {
    /// Whether two holders are two people: each used with its own phones,
    /// none seen with both (a family iPad's members order with their own
    /// numbers); or two accounts of one channel, one of them never seen
    /// with a phone. A holder seen with more than two numbers ships to
    /// others (gifts, resale): its numbers are its recipients' and tell
    /// nothing about who holds it.
    fn apart(&self, other: &Holder) -> bool {
        let (a, b) = (&self.sigs, &other.sigs);
        if a.is_empty() || b.is_empty() {
            self.scope.is_some() && self.scope == other.scope
        } else {
            a.len() <= 2 && b.len() <= 2 && !a.iter().any(|s| b.contains(s))
        }
    }
}

/// The identifiers of one kind seen on a device: none, one, or several.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum Seen {
    #[default]
    None,
    One(u32),
    Several,
}

impl Seen {
    fn add(&mut self, id: u32) {
        *self = match *self {
            _ if id == NONE => return,
            Seen::None => Seen::One(id),
            Seen::One(a) if a == id => return,
            _ => Seen::Several,
        };
    }
}

impl DeviceProfile {
    /// Takes in one more of the device's orders.
    pub(crate) fn add(&mut self, order: &LocalOrder, facts: &impl Fn(u32) -> IdentFacts) {
        match order.phone_sig {
            0 => self.unsigned = true,
            s if self.sig == 0 => self.sig = s,
            s if self.sig != s => self.sig = NONE,
            _ => {}
        }
        let ids = &order.idents;
        self.unionid.add(ids[IdentityKind::Unionid as usize]);
        self.email.add(ids[IdentityKind::Email as usize]);
        let account = ids[IdentityKind::Account as usize];
        let Some(holder) = holder_id(order) else {
            return;
        };
        let k = match self.holders.iter().position(|h| h.id == holder) {
            Some(k) => k,
            None => {
                let scope = (holder == account).then(|| facts(account).scope);
                self.scope_clash |=
                    scope.is_some() && self.holders.iter().any(|h| h.scope == scope);
                self.holders.push(Holder {
                    id: holder,
                    scope,
                    sigs: SmallVec::new(),
                    orders: 0,
                });
                self.holders.len() - 1
            }
        };
        self.holders[k].orders += 1;
        let sigs = &mut self.holders[k].sigs;
        if order.phone_sig != 0 && !sigs.contains(&order.phone_sig) {
            sigs.push(order.phone_sig);
        }
    }

    /// Whether the orders taken in show two people behind the device: two
    /// unionIDs, two emails, or two holders apart ([`Holder::apart`];
    /// masked phones count, as `138****5678` and `139****1234` are two
    /// numbers). Different phones alone are no sign of two people, as the
    /// phone on an order is often the recipient's; one person's several
    /// accounts (new-customer coupons claimed again) share their owner's
    /// phone.
    pub(crate) fn ambiguous(&self) -> bool {
        // One phone behind every order: one person, however many accounts.
        if self.sig != 0 && self.sig != NONE && !self.unsigned {
            return false;
        }
        [self.unionid, self.email].contains(&Seen::Several)
            || self
                .holders
                .iter()
                .enumerate()
                .any(|(k, a)| self.holders[k + 1..].iter().any(|b| a.apart(b)))
    }

    /// Which part of the device each holder belongs to, by position in
    /// the holders: the holders are taken from the busiest down (then in
    /// event time), and each joins the first part that holds a holder it
    /// shares a phone signature with and none it is apart from; otherwise
    /// it starts a part of its own. One person's many accounts on a device
    /// (a reseller's, a coupon hunter's) ship to the same numbers and come
    /// together; a family's members, each with their own number, stay
    /// apart, and so does a holder with nothing in common with the others.
    pub(crate) fn tied_parts(&self) -> SmallVec<[usize; 4]> {
        let mut by_size: SmallVec<[usize; 4]> = (0..self.holders.len()).collect();
        by_size.sort_by_key(|&k| std::cmp::Reverse(self.holders[k].orders));
        let mut part = SmallVec::from_elem(usize::MAX, self.holders.len());
        let mut parts = 0;
        for (rank, &k) in by_size.iter().enumerate() {
            let h = &self.holders[k];
            let joins = (0..parts).find(|&p| {
                let members = by_size[..rank]
                    .iter()
                    .filter(|&&m| part[m] == p)
                    .map(|&m| &self.holders[m]);
                members.clone().all(|other| !h.apart(other))
                    && members
                        .flat_map(|other| &other.sigs)
                        .any(|s| h.sigs.contains(s))
            });
            part[k] = joins.unwrap_or_else(|| {
                parts += 1;
                parts - 1
            });
        }
        part
    }

    /// The position of an order's holder among the device's holders.
    fn holder_index(&self, order: &LocalOrder) -> Option<usize> {
        let id = holder_id(order)?;
        self.holders.iter().position(|h| h.id == id)
    }

    /// Whether the orders taken in carry two unionIDs, two emails or two
    /// accounts of one channel.
    fn several_people(&self) -> bool {
        [self.unionid, self.email].contains(&Seen::Several) || self.scope_clash
    }
}

/// Who placed an order on a device: its account, else its unionID, else
/// its email.
fn holder_id(order: &LocalOrder) -> Option<u32> {
    [
        IdentityKind::Account,
        IdentityKind::Unionid,
        IdentityKind::Email,
    ]
    .map(|kind| order.idents[kind as usize])
    .into_iter()
    .find(|&id| id != NONE)
}

/// The profile of an identifier's orders (`members`), taken in one by one.
fn profile_of(
    members: &[u32],
    orders: &[LocalOrder],
    facts: &impl Fn(u32) -> IdentFacts,
) -> DeviceProfile {
    let mut profile = DeviceProfile::default();
    for &m in members {
        profile.add(&orders[m as usize], facts);
    }
    profile
}
