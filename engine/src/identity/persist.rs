//! Saving and loading the identity graph for checkpoints, so a restart
//! loads the resolved graph instead of resolving every order again.
//! Scratch state (BFS stamps, changed orders, restated identifiers) is not saved; the
//! identifier index is rebuilt from the identifiers.

use super::*;
use crate::codec::{DecodeResult, Reader, Writer};

/// Format version of the encoded graph; bump on any layout change.
const VERSION: u8 = 7;

/// The reasons an MCID is retired, by their code in the encoding.
const ALIAS_REASONS: [&str; 4] = ["merge", "split", "manual_merge", "manual_split"];

const REFUSALS: [Refusal; 6] = [
    Refusal::Masked,
    Refusal::Virtual,
    Refusal::Placeholder,
    Refusal::Blocklisted,
    Refusal::Invalid,
    Refusal::Role,
];

fn kind_code(kind: IdentityKind) -> u8 {
    IdentityKind::ALL
        .iter()
        .position(|k| *k == kind)
        .expect("every kind is in ALL") as u8
}

fn kind_of(code: u8) -> DecodeResult<IdentityKind> {
    IdentityKind::ALL
        .get(code as usize)
        .copied()
        .ok_or_else(|| format!("bad identifier kind {code}"))
}

impl IdentityGraph {
    /// Appends the graph to `w`.
    pub(crate) fn encode(&self, w: &mut Writer) {
        w.u8(VERSION);
        w.len(self.idents.len());
        for (id, n) in self.idents.iter().enumerate() {
            w.u8(kind_code(n.kind));
            w.u64(n.key);
            w.str(&self.values[id]);
            match &n.postings {
                Postings::Small(v) => {
                    w.u8(0);
                    w.u32s(v);
                }
                Postings::Large(b) => {
                    w.u8(1);
                    w.bitmap(b);
                }
            }
            w.u64s(&n.companions);
            match self.shared_reasons.get(&(id as u32)) {
                None => w.u8(0),
                Some(&SharedReason::Companions { kind, count }) => {
                    w.u8(1);
                    w.u8(kind_code(kind));
                    w.len(count);
                }
                Some(SharedReason::Corrected) => w.u8(2),
            }
            w.i64(n.first_seen);
            w.i64(n.last_seen);
        }
        w.len(self.orders.len());
        for o in &self.orders {
            w.bool(o.is_some());
            if let Some(o) = o {
                w.u64(o.key);
                w.i64(o.at);
                w.bool(o.valid);
                w.bool(o.in_store);
                w.u32(o.phone_sig);
                w.u32(o.place);
                w.u32(o.city);
                for id in o.idents {
                    w.u32(id);
                }
            }
        }
        w.u32s(&self.comp_of);
        w.len(self.comps.len());
        for c in &self.comps {
            w.u32s(c);
        }
        w.u32s(&self.free_comps);
        w.u64s(&self.mcid);
        w.len(self.live.len());
        for (mcid, live) in &self.live {
            w.u64(*mcid);
            w.u32(live.orders);
            w.u64(live.anchor);
        }
        w.len(self.aliases.len());
        for a in &self.aliases {
            w.u64(a.old);
            w.u64(a.new);
            w.i64(a.at);
            w.u8(ALIAS_REASONS
                .iter()
                .position(|r| *r == a.reason)
                .expect("every reason is listed") as u8);
            match &a.via {
                Some((kind, value)) => {
                    w.bool(true);
                    w.u8(kind_code(*kind));
                    w.str(value);
                }
                None => w.bool(false),
            }
            w.bool(a.correction.is_some());
            w.u64(a.correction.unwrap_or(0));
        }
        w.len(self.alias_of.len());
        for (old, new) in &self.alias_of {
            w.u64(*old);
            w.u64(*new);
        }
        w.len(self.refused.len());
        for r in self.refused.iter() {
            w.u8(kind_code(r.kind));
            w.str(&r.value);
            w.u8(REFUSALS.iter().position(|x| *x == r.why).expect("listed") as u8);
            w.bitmap(&r.orders.to_bitmap());
            w.i64(r.first_seen);
            w.i64(r.last_seen);
        }
        self.constraints.encode(w);
    }

    /// Reads a graph written by [`IdentityGraph::encode`], to be used with
    /// `config` (the configuration it was built with).
    pub(crate) fn decode(r: &mut Reader<'_>, config: IdentityConfig) -> DecodeResult<Self> {
        let version = r.u8()?;
        // Format 6 had no corrections.
        if version != VERSION && version != 6 {
            return Err(format!("graph format {version}, expected {VERSION}"));
        }
        let mut g = IdentityGraph::new(config);
        let n = r.len(1)?;
        g.idents.reserve(n);
        g.values.reserve(n);
        g.index.reserve(n);
        for id in 0..n {
            let kind = kind_of(r.u8()?)?;
            let key = r.u64()?;
            let value = r.str()?.into_boxed_str();
            let postings = match r.u8()? {
                0 => Postings::Small(r.u32s()?.into()),
                1 => Postings::Large(Box::new(r.bitmap()?)),
                t => return Err(format!("bad postings tag {t}")),
            };
            let companions: SmallVec<[u64; 5]> = r.u64s()?.into();
            let shared = match r.u8()? {
                0 => None,
                1 => Some(SharedReason::Companions {
                    kind: kind_of(r.u8()?)?,
                    count: r.u64()? as usize,
                }),
                2 => Some(SharedReason::Corrected),
                t => return Err(format!("bad shared tag {t}")),
            };
            let scope = g.scope_number(kind, &value);
            if let Some(reason) = shared {
                g.shared_reasons.insert(id as u32, reason);
                g.shared_bits.insert(id as u32);
            }
            g.idents.push(IdentNode {
                kind,
                shared: shared.is_some(),
                key,
                postings,
                companions,
                first_seen: r.i64()?,
                last_seen: r.i64()?,
                added_in: 0,
                scope,
            });
            g.values.push(value);
            g.index.insert(key, id as u32);
        }
        g.ident_stamp = vec![0; n];
        let n = r.len(1)?;
        g.orders.reserve(n);
        for _ in 0..n {
            if !r.bool()? {
                g.orders.push(None);
                continue;
            }
            let (key, at, valid, in_store, phone_sig, place, city) = (
                r.u64()?,
                r.i64()?,
                r.bool()?,
                r.bool()?,
                r.u32()?,
                r.u32()?,
                r.u32()?,
            );
            let mut idents = [NONE; 5];
            for id in &mut idents {
                *id = r.u32()?;
            }
            g.orders.push(Some(OrderNode {
                key,
                at,
                valid,
                in_store,
                phone_sig,
                place,
                city,
                idents,
            }));
        }
        g.comp_of = r.u32s()?;
        let n = r.len(8)?;
        g.comps = (0..n).map(|_| r.u32s()).collect::<DecodeResult<_>>()?;
        g.free_comps = r.u32s()?;
        g.mcid = r.u64s()?;
        let n = r.len(20)?;
        for _ in 0..n {
            let mcid = r.u64()?;
            let orders = r.u32()?;
            let anchor = r.u64()?;
            g.live.insert(
                mcid,
                LiveMcid {
                    orders,
                    ..LiveMcid::new(anchor)
                },
            );
        }
        let n = r.len(25)?;
        for _ in 0..n {
            let (old, new, at) = (r.u64()?, r.u64()?, r.i64()?);
            let code = if version == 6 {
                r.bool()? as u8
            } else {
                r.u8()?
            };
            let reason = *ALIAS_REASONS.get(code as usize).ok_or("bad alias reason")?;
            let via = if r.bool()? {
                Some((kind_of(r.u8()?)?, r.str()?.into_boxed_str()))
            } else {
                None
            };
            let correction = match version {
                6 => None,
                _ => {
                    let (has, correction) = (r.bool()?, r.u64()?);
                    has.then_some(correction)
                }
            };
            g.aliases.push(Alias {
                old,
                new,
                at,
                reason,
                via,
                correction,
            });
        }
        let n = r.len(16)?;
        for _ in 0..n {
            let old = r.u64()?;
            g.alias_of.insert(old, r.u64()?);
        }
        let n = r.len(1)?;
        for _ in 0..n {
            let kind = kind_of(r.u8()?)?;
            let value = r.str()?;
            let why = *REFUSALS.get(r.u8()? as usize).ok_or("bad refusal code")?;
            let orders = Postings::from_bitmap(r.bitmap()?);
            let (first_seen, last_seen) = (r.i64()?, r.i64()?);
            g.refused.restore(RefusedValue {
                kind,
                value,
                why,
                orders,
                first_seen,
                last_seen,
            });
        }
        if version > 6 {
            g.constraints = Constraints::decode(r)?;
        }
        g.tag_orders = vec![Vec::new(); g.constraints.tags()];
        for o in 0..g.orders.len() as u32 {
            if let Some(node) = g.orders[o as usize] {
                g.tag_order(o, node.key);
            }
        }
        let orders = g.orders.len();
        if g.comp_of.len() != orders || g.mcid.len() != orders {
            return Err("order vectors disagree in length".into());
        }
        g.comp_facts = g
            .comps
            .iter()
            .map(|members| {
                let mut facts = CompFacts::EMPTY;
                for &o in members {
                    match g.orders.get(o as usize).copied().flatten() {
                        Some(n) => facts.add(&n),
                        None => return Err(format!("component member {o} is not an order")),
                    }
                }
                let mcid = |o: &u32| g.mcid[*o as usize];
                let first = members.first().map(mcid);
                facts.one_customer = members.iter().all(|o| Some(mcid(o)) == first);
                Ok(facts)
            })
            .collect::<DecodeResult<_>>()?;
        Ok(g)
    }
}
