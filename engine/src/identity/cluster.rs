//! Splitting components into customers, on several threads.

use super::*;

/// Customers found in some components, component after component.
#[derive(Debug, Default)]
pub(super) struct Clusters {
    /// Orders, cluster after cluster.
    pub(super) members: Vec<u32>,
    /// End in `members` of each cluster.
    pub(super) ends: Vec<u32>,
    /// End in `ends` of each component.
    pub(super) components: Vec<u32>,
    /// Per cluster, what choosing its MCID reads of the graph.
    pub(super) choices: Vec<Choice>,
}

/// What choosing a cluster's MCID reads of the graph, found while
/// clustering (on several threads): assigning, on one, then only checks
/// it against the MCIDs claimed so far (see [`IdentityGraph::choose_mcid`]).
#[derive(Debug, Clone, Default)]
pub(super) struct Choice {
    /// `(mcid, anchor)` of the live MCIDs of its orders whose anchor it
    /// holds, by their earliest order (in event time, then MCID).
    pub(super) keep: SmallVec<[(u64, u64); 1]>,
    /// Its natural anchor (see [`IdentityGraph::natural_anchor`]).
    pub(super) anchor: u64,
}

impl Clusters {
    /// The clusters of the `k`th component, with their choices.
    pub(super) fn component(&self, k: usize) -> impl Iterator<Item = (&[u32], &Choice)> + Clone {
        let first = if k == 0 {
            0
        } else {
            self.components[k - 1] as usize
        };
        (first..self.components[k] as usize).map(move |i| (self.cluster(i), &self.choices[i]))
    }

    /// The `i`th cluster's orders.
    pub(super) fn cluster(&self, i: usize) -> &[u32] {
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        &self.members[start..self.ends[i] as usize]
    }
}

/// Buffers reused from one component to the next.
#[derive(Debug, Default)]
pub(super) struct ClusterScratch {
    /// `(ordered_at, order key, order)` of the component's orders.
    pub(super) timed: Vec<(i64, u64, u32)>,
    pub(super) local: Vec<LocalOrder>,
    /// `(position in local, tag)` of corrections' tags.
    pub(super) tags: Vec<(u32, u32)>,
    pub(super) resolver: resolve::Resolver,
    pub(super) cluster_of: Vec<u32>,
    pub(super) sizes: Vec<u32>,
    /// MCIDs seen in a cluster.
    pub(super) seen: HashSet<u64>,
}

impl IdentityGraph {
    /// Splits the touched components into customers, on several threads
    /// when there are many: clustering only reads the graph. The clusters
    /// come back in the order of `touched`.
    pub(super) fn cluster_components(&self, touched: &[u32]) -> Vec<Clusters> {
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
    pub(super) fn cluster_component(
        &self,
        c: u32,
        scratch: &mut ClusterScratch,
        out: &mut Clusters,
    ) {
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
        self.local_tags(timed, &mut scratch.tags);
        let labels = scratch.resolver.resolve(
            &scratch.local,
            &scratch.tags,
            &self.constraints,
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
}
