//! Splitting read-only work over the cores.

use std::ops::Range;

/// Maps the indexes `0..len` in equal parts, one per core, and
/// concatenates the parts' results in order. With fewer than `min` items,
/// or one core, it maps them on the calling thread: starting threads would
/// cost more than it saves.
pub(crate) fn map_ranges<R: Send>(
    len: usize,
    min: usize,
    map: impl Fn(Range<usize>) -> Vec<R> + Sync,
) -> Vec<R> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    if threads < 2 || len < min.max(2) {
        return map(0..len);
    }
    let map = &map;
    let step = len.div_ceil(threads);
    let parts: Vec<Vec<R>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..len)
            .step_by(step)
            .map(|start| scope.spawn(move || map(start..(start + step).min(len))))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    });
    // The first part grows once to the full length and takes the others;
    // collecting into a new vector grew it by doubling and copied it.
    let mut parts = parts.into_iter();
    let mut all = parts.next().unwrap_or_default();
    let rest: Vec<Vec<R>> = parts.collect();
    all.reserve(rest.iter().map(Vec::len).sum());
    for part in rest {
        all.extend(part);
    }
    all
}

/// Runs `a` and `b`, `b` on a thread of its own when `worth` it and there
/// are two cores.
pub(crate) fn both<A: Send, B: Send>(
    worth: bool,
    a: impl FnOnce() -> A + Send,
    b: impl FnOnce() -> B + Send,
) -> (A, B) {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    if !worth || threads < 2 {
        return (a(), b());
    }
    std::thread::scope(|scope| {
        let b = scope.spawn(b);
        let a = a();
        (a, b.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_come_back_in_order() {
        let squares = map_ranges(10_001, 2, |range| range.map(|i| i * i).collect());
        assert_eq!(squares, (0..10_001).map(|i| i * i).collect::<Vec<_>>());
        assert_eq!(both(true, || "a", || 2), ("a", 2));
    }

    #[test]
    fn a_part_that_panics_panics_the_caller() {
        let caught = std::panic::catch_unwind(|| {
            map_ranges(1_000, 2, |range| {
                // The last part: a helper's, or on one core the caller's only.
                assert!(range.end < 1_000, "the last part fails");
                range.collect::<Vec<_>>()
            })
        });
        assert!(caught.is_err());
    }
}
