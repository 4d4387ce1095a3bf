//! Splitting read-only work over the cores.

/// Maps `items` in equal parts, one per core, and concatenates the parts'
/// results in order. With fewer than `min` items, or one core, it maps
/// them on the calling thread: starting threads would cost more than it
/// saves.
pub(crate) fn map_parts<T: Sync, R: Send>(
    items: &[T],
    min: usize,
    map: impl Fn(&[T]) -> Vec<R> + Sync,
) -> Vec<R> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    if threads < 2 || items.len() < min.max(2) {
        return map(items);
    }
    let map = &map;
    std::thread::scope(|scope| {
        let handles: Vec<_> = items
            .chunks(items.len().div_ceil(threads))
            .map(|part| scope.spawn(move || map(part)))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    })
}
