//! Postings: the set of orders that carry one identifier.
//!
//! Almost every identifier is on a handful of orders, where a roaring bitmap
//! would cost a heap container per identifier; a small sorted vector, inline
//! up to six orders, is kept until it grows past [`SMALL_LIMIT`], then a
//! roaring bitmap takes over (heavy buyers, and shared identifiers before
//! they are detected).

use std::borrow::Cow;

use roaring::RoaringBitmap;

use crate::key_index::prefetch_lines;
use smallvec::SmallVec;

/// Past this many orders a vector becomes a bitmap. A heavy buyer's
/// account (a hundred orders) stays a vector: reading its first order or
/// walking it is one cache miss off the node, where the bitmap is three
/// (box, containers, array) and iterates slower.
const SMALL_LIMIT: usize = 128;

/// Orders carrying one identifier, as dense order numbers.
#[derive(Debug, Clone)]
pub(crate) enum Postings {
    Small(SmallVec<[u32; 6]>),
    Large(Box<RoaringBitmap>),
}

impl Default for Postings {
    fn default() -> Self {
        Postings::Small(SmallVec::new())
    }
}

impl Postings {
    /// Adds an order; false if it was there.
    pub(crate) fn insert(&mut self, order: u32) -> bool {
        match self {
            Postings::Small(v) => {
                // A new order comes after all others: no search.
                if v.last().is_some_and(|&last| last < order) {
                    v.push(order);
                } else {
                    let Err(at) = v.binary_search(&order) else {
                        return false;
                    };
                    v.insert(at, order);
                }
                if v.len() > SMALL_LIMIT {
                    *self = Postings::Large(Box::new(v.iter().copied().collect()));
                }
                true
            }
            Postings::Large(b) => insert_into(b, order),
        }
    }

    pub(crate) fn remove(&mut self, order: u32) {
        match self {
            Postings::Small(v) => {
                if let Ok(at) = v.binary_search(&order) {
                    v.remove(at);
                }
            }
            Postings::Large(b) => {
                b.remove(order);
            }
        }
    }

    /// Starts loading where the first order is read and the next new order
    /// goes, when that is off the node: the ends of a spilled vector, or
    /// the bitmap.
    pub(crate) fn prefetch_ends(&self) {
        match self {
            Postings::Small(v) if v.spilled() => {
                if let (Some(first), Some(last)) = (v.first(), v.last()) {
                    prefetch_lines(first);
                    prefetch_lines(last);
                }
            }
            Postings::Small(_) => {}
            Postings::Large(b) => prefetch_lines(&**b),
        }
    }

    /// Prefetches what walking the orders starts with: calls `each` with
    /// every order when they are inline in the node, or loads the first
    /// line of the vector or bitmap they are kept in.
    pub(crate) fn prefetch_orders(&self, mut each: impl FnMut(u32)) {
        match self {
            Postings::Small(v) if v.spilled() => {
                if let Some(first) = v.first() {
                    prefetch_lines(first);
                }
            }
            Postings::Small(v) => v.iter().for_each(|&o| each(o)),
            Postings::Large(b) => prefetch_lines(&**b),
        }
    }

    /// The orders of a bitmap, kept as a vector if they are few.
    pub(crate) fn from_bitmap(bitmap: RoaringBitmap) -> Self {
        if bitmap.len() as usize > SMALL_LIMIT {
            Postings::Large(Box::new(bitmap))
        } else {
            Postings::Small(bitmap.iter().collect())
        }
    }

    /// The orders as a bitmap, the form checkpoints store them in.
    pub(crate) fn to_bitmap(&self) -> Cow<'_, RoaringBitmap> {
        match self {
            Postings::Small(v) => Cow::Owned(v.iter().copied().collect()),
            Postings::Large(b) => Cow::Borrowed(b),
        }
    }

    /// The lowest order.
    pub(crate) fn first(&self) -> Option<u32> {
        match self {
            Postings::Small(v) => v.first().copied(),
            Postings::Large(b) => b.min(),
        }
    }

    pub(crate) fn len(&self) -> usize {
        match self {
            Postings::Small(v) => v.len(),
            Postings::Large(b) => b.len() as usize,
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.first().is_none()
    }

    pub(crate) fn iter(&self) -> Iter<'_> {
        match self {
            Postings::Small(v) => Iter::Small(v.iter().copied()),
            Postings::Large(b) => Iter::Large(b.iter()),
        }
    }
}

/// Adds an order to a bitmap; false if it was there. A new order comes after
/// all others and is appended to the last container, where `insert` would
/// search the containers and then the container, a cache miss at each step.
pub(crate) fn insert_into(bitmap: &mut RoaringBitmap, order: u32) -> bool {
    match bitmap.append(std::iter::once(order)) {
        Ok(appended) => appended == 1,
        Err(_) => bitmap.insert(order),
    }
}

/// The orders of [`Postings`], ascending.
pub(crate) enum Iter<'a> {
    Small(std::iter::Copied<std::slice::Iter<'a, u32>>),
    Large(roaring::bitmap::Iter<'a>),
}

impl Iterator for Iter<'_> {
    type Item = u32;

    fn next(&mut self) -> Option<u32> {
        match self {
            Iter::Small(it) => it.next(),
            Iter::Large(it) => it.next(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_into_a_bitmap_and_stays_a_set() {
        let n = SMALL_LIMIT as u32 + 10;
        let mut p = Postings::default();
        for o in (0..n).rev() {
            p.insert(o);
            p.insert(o);
        }
        assert!(matches!(p, Postings::Large(_)));
        assert_eq!(p.len(), n as usize);
        assert_eq!(p.iter().next(), Some(0));
        p.remove(0);
        assert_eq!(p.iter().next(), Some(1));
        assert_eq!(p.iter().count(), n as usize - 1);
        assert!(p.insert(n), "appended");
        assert!(!p.insert(n));
        assert!(p.insert(0), "inserted before the others");
        assert!(p.iter().eq(0..=n));
    }

    #[test]
    fn small_postings_append_and_insert_in_order() {
        let mut p = Postings::default();
        for o in [5, 9, 7, 9, 1] {
            p.insert(o);
        }
        assert!(p.iter().eq([1, 5, 7, 9]));
    }
}
