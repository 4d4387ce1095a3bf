//! Forgetting a person's identifiers when their personal information is
//! erased: the values no order carries any more leave the graph, and the
//! erased customer keeps its MCID as a tombstone.

use super::*;

impl IdentityGraph {
    /// Keeps `mcid` with its orders once they carry no identifier: its
    /// anchor becomes the key of its earliest order, which no rule moves.
    pub fn pin_mcid(&mut self, mcid: u64) {
        let earliest = (0..self.mcid.len())
            .filter(|&o| self.mcid[o] == mcid)
            .filter_map(|o| self.orders[o].map(|n| (n.at, n.key)))
            .min();
        if let (Some((_, key)), Some(live)) = (earliest, self.live.get_mut(&mcid)) {
            live.anchor = key;
        }
    }

    /// Forgets what no order carries any more: the value (and key) of
    /// every identifier without orders, the erased `orders` among refused
    /// values' orders (a value left without orders is forgotten), and the
    /// `values` named by MCID aliases. Returns how many values it forgot.
    pub fn forget(&mut self, orders: &[u32], values: &std::collections::HashSet<String>) -> usize {
        let mut forgotten = 0;
        for id in 0..self.idents.len() {
            let node = &mut self.idents[id];
            if node.postings.is_empty() && !self.values[id].is_empty() {
                self.values[id] = "".into();
                // Not the value's key: the value cannot be found from it.
                node.key = xxh3_64_with_seed(&(id as u64).to_le_bytes(), FORGOTTEN_SEED);
                forgotten += 1;
            }
        }
        forgotten += self.refused.forget(orders);
        for alias in &mut self.aliases {
            if alias
                .via
                .as_ref()
                .is_some_and(|(_, v)| values.contains(&**v))
            {
                alias.via = None;
            }
        }
        forgotten
    }
}

/// Seeds the keys of forgotten identifiers.
const FORGOTTEN_SEED: u64 = 0x666f_7267_6f74;
