//! Splitting work over the cores: one helper thread per core but the
//! caller's, started once, while the calling thread does a share itself.
//!
//! Starting and joining a thread per step cost 67 us on the 2-core machine
//! we measure on (110 us for two at once), and an increment of 10,000
//! orders started seven: about 0.4 ms of its 20.

use std::ops::Range;
use std::sync::OnceLock;

use rayon_core::ThreadPool;

/// The helpers; `None` on one core, or if their threads could not start.
fn helpers() -> Option<&'static ThreadPool> {
    static HELPERS: OnceLock<Option<ThreadPool>> = OnceLock::new();
    HELPERS
        .get_or_init(|| {
            let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
            (cores > 1)
                .then(|| {
                    rayon_core::ThreadPoolBuilder::new()
                        .num_threads(cores - 1)
                        .thread_name(|i| format!("ordergraph-helper-{i}"))
                        // A task spawned on its own panicking would abort
                        // the process; its owner notices it is missing.
                        .panic_handler(|_| tracing::error!("a helper task panicked"))
                        .build()
                        .ok()
                })
                .flatten()
        })
        .as_ref()
}

/// Runs `task` on a helper thread, or on a thread of its own when there
/// are no helpers. For work that the caller waits for by other means.
pub(crate) fn spawn(task: impl FnOnce() + Send + 'static) -> std::io::Result<()> {
    match helpers() {
        Some(pool) => {
            pool.spawn(task);
            Ok(())
        }
        None => std::thread::Builder::new().spawn(task).map(drop),
    }
}

/// Maps each of `items`, the first on the calling thread and the rest on
/// the helpers, and returns the results in order.
pub(crate) fn map_each<T: Send, R: Send>(items: Vec<T>, map: impl Fn(T) -> R + Sync) -> Vec<R> {
    let Some(pool) = helpers().filter(|_| items.len() > 1) else {
        return items.into_iter().map(map).collect();
    };
    let map = &map;
    let mut results: Vec<Option<R>> = items.iter().map(|_| None).collect();
    pool.in_place_scope(|scope| {
        let mut items = items.into_iter();
        let (first, rest) = results.split_first_mut().expect("two items or more");
        let own = items.next().expect("two items or more");
        for (item, result) in items.zip(rest) {
            scope.spawn(move |_| *result = Some(map(item)));
        }
        *first = Some(map(own));
    });
    results
        .into_iter()
        .map(|r| r.expect("every item was mapped"))
        .collect()
}

/// Maps the indexes `0..len` in equal parts, one per core, and
/// concatenates the parts' results in order. With fewer than `min` items,
/// or one core, it maps them on the calling thread: handing parts out
/// would cost more than it saves.
pub(crate) fn map_ranges<R: Send>(
    len: usize,
    min: usize,
    map: impl Fn(Range<usize>) -> Vec<R> + Sync,
) -> Vec<R> {
    let threads = helpers().map_or(1, |pool| pool.current_num_threads() + 1);
    if threads < 2 || len < min.max(2) {
        return map(0..len);
    }
    let step = len.div_ceil(threads);
    let ranges: Vec<Range<usize>> = (0..len)
        .step_by(step)
        .map(|start| start..(start + step).min(len))
        .collect();
    let parts = map_each(ranges, map);
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

/// Runs `a` on the calling thread and `b` on a helper, when `worth` it and
/// there is one.
pub(crate) fn both<A: Send, B: Send>(
    worth: bool,
    a: impl FnOnce() -> A + Send,
    b: impl FnOnce() -> B + Send,
) -> (A, B) {
    let Some(pool) = helpers().filter(|_| worth) else {
        return (a(), b());
    };
    let mut from_b = None;
    let from_a = pool.in_place_scope(|scope| {
        scope.spawn(|_| from_b = Some(b()));
        a()
    });
    (from_a, from_b.expect("the scope waited for b"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_come_back_in_order() {
        let squares = map_ranges(10_001, 2, |range| range.map(|i| i * i).collect());
        assert_eq!(squares, (0..10_001).map(|i| i * i).collect::<Vec<_>>());
        assert_eq!(map_each(vec![3, 1, 2], |x| x * 10), [30, 10, 20]);
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
        // The helpers still work afterwards.
        assert_eq!(both(true, || 1, || 2), (1, 2));
    }
}
