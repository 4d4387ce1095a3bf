//! Per-query memory caps inside the one shared memory pool.
//!
//! Every session draws on the engine's shared pool (`[limits]
//! memory_limit_mib`), which bounds all queries together. A session also
//! gets a [`QueryPool`] of its own in front of it, so one query (a role's
//! `query_memory_mib`) can be held to less than the whole pool: each byte
//! is counted against the query's cap first and then against the shared
//! pool, so the global bound still holds.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use datafusion::error::{DataFusionError, Result};
use datafusion::execution::memory_pool::{
    MemoryConsumer, MemoryLimit, MemoryPool, MemoryReservation,
};
use datafusion::execution::runtime_env::{RuntimeEnv, RuntimeEnvBuilder};
use datafusion::execution::{SessionState, SessionStateBuilder};
use datafusion::prelude::SessionContext;

/// How a refusal by a query's own cap begins, so that it can be told from
/// the shared pool running out (the first is the query's fault, the second
/// the server's load).
pub const QUERY_CAP_EXCEEDED: &str = "query memory cap exceeded";

/// One session's share of the shared pool, capped at `cap` bytes.
#[derive(Debug)]
pub struct QueryPool {
    shared: Arc<dyn MemoryPool>,
    /// `usize::MAX` when the session has no cap of its own.
    cap: AtomicUsize,
    used: AtomicUsize,
}

impl QueryPool {
    fn new(shared: Arc<dyn MemoryPool>) -> Self {
        Self {
            shared,
            cap: AtomicUsize::new(usize::MAX),
            used: AtomicUsize::new(0),
        }
    }

    /// Sets the cap for the session's next queries (`None`: only the shared
    /// pool bounds them).
    pub fn set_cap(&self, cap: Option<usize>) {
        self.cap.store(cap.unwrap_or(usize::MAX), Ordering::Relaxed);
    }

    /// Counts `additional` bytes against the cap, or refuses them.
    fn take(&self, additional: usize) -> Result<()> {
        let cap = self.cap.load(Ordering::Relaxed);
        self.used
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |used| {
                used.checked_add(additional).filter(|&total| total <= cap)
            })
            .map(|_| ())
            .map_err(|used| {
                DataFusionError::ResourcesExhausted(format!(
                    "{QUERY_CAP_EXCEEDED}: the query holds {} MiB and asked for {} MiB more, \
                     its cap is {} MiB",
                    used >> 20,
                    additional.div_ceil(1 << 20),
                    cap >> 20
                ))
            })
    }

    fn give_back(&self, bytes: usize) {
        self.used.fetch_sub(bytes, Ordering::AcqRel);
    }
}

impl fmt::Display for QueryPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "QueryPool(used: {}, over {})",
            self.reserved(),
            self.shared
        )
    }
}

impl MemoryPool for QueryPool {
    fn name(&self) -> &str {
        "QueryPool"
    }

    fn register(&self, consumer: &MemoryConsumer) {
        self.shared.register(consumer);
    }

    fn unregister(&self, consumer: &MemoryConsumer) {
        self.shared.unregister(consumer);
    }

    fn grow(&self, reservation: &MemoryReservation, additional: usize) {
        // Infallible by contract: counted even beyond the cap.
        self.used.fetch_add(additional, Ordering::AcqRel);
        self.shared.grow(reservation, additional);
    }

    fn shrink(&self, reservation: &MemoryReservation, shrink: usize) {
        self.give_back(shrink);
        self.shared.shrink(reservation, shrink);
    }

    fn try_grow(&self, reservation: &MemoryReservation, additional: usize) -> Result<()> {
        self.take(additional)?;
        self.shared
            .try_grow(reservation, additional)
            .inspect_err(|_| self.give_back(additional))
    }

    fn reserved(&self) -> usize {
        self.used.load(Ordering::Acquire)
    }

    fn memory_limit(&self) -> MemoryLimit {
        match self.cap.load(Ordering::Relaxed) {
            usize::MAX => self.shared.memory_limit(),
            cap => MemoryLimit::Finite(cap),
        }
    }
}

/// `state` with a [`QueryPool`] of its own in front of `shared`'s pool;
/// the disk manager and caches stay shared.
pub(crate) fn with_own_pool(state: SessionState, shared: &RuntimeEnv) -> Result<SessionState> {
    let pool = Arc::new(QueryPool::new(shared.memory_pool.clone()));
    let runtime = RuntimeEnvBuilder::from_runtime_env(shared)
        .with_memory_pool(pool)
        .build_arc()?;
    Ok(SessionStateBuilder::new_from_existing(state)
        .with_runtime_env(runtime)
        .build())
}

/// Caps the memory each of `session`'s queries may hold (`None`: only the
/// shared pool bounds them). A session runs one query at a time where this
/// is used (a Postgres connection, an HTTP or Flight request), so the cap
/// is per query. Returns false for a session not made by the engine.
pub fn cap_query_memory(session: &SessionContext, cap: Option<usize>) -> bool {
    let runtime = session.runtime_env();
    let pool: &dyn std::any::Any = runtime.memory_pool.as_ref();
    match pool.downcast_ref::<QueryPool>() {
        Some(pool) => {
            pool.set_cap(cap);
            true
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::execution::memory_pool::GreedyMemoryPool;

    fn pools(shared_bytes: usize, cap: Option<usize>) -> (Arc<dyn MemoryPool>, Arc<QueryPool>) {
        let shared: Arc<dyn MemoryPool> = Arc::new(GreedyMemoryPool::new(shared_bytes));
        let query = Arc::new(QueryPool::new(shared.clone()));
        query.set_cap(cap);
        (shared, query)
    }

    #[test]
    fn a_query_is_held_to_its_cap_and_counted_in_the_shared_pool() {
        let (shared, query) = pools(1000, Some(100));
        let pool: Arc<dyn MemoryPool> = query.clone();
        let r = MemoryConsumer::new("sort").register(&pool);
        r.try_grow(60).unwrap();
        assert_eq!(shared.reserved(), 60);
        let err = r.try_grow(41).unwrap_err().to_string();
        assert!(err.contains(QUERY_CAP_EXCEEDED), "{err}");
        // The refused bytes were not kept anywhere.
        assert_eq!((query.reserved(), shared.reserved()), (60, 60));
        r.shrink(60);
        r.try_grow(100).unwrap();
        drop(r);
        assert_eq!((query.reserved(), shared.reserved()), (0, 0));
    }

    #[test]
    fn the_shared_pool_still_bounds_queries_under_their_caps() {
        let (shared, query) = pools(100, Some(1000));
        let pool: Arc<dyn MemoryPool> = query.clone();
        let r = MemoryConsumer::new("join").register(&pool);
        r.try_grow(80).unwrap();
        let err = r.try_grow(30).unwrap_err().to_string();
        assert!(!err.contains(QUERY_CAP_EXCEEDED), "{err}");
        assert_eq!((query.reserved(), shared.reserved()), (80, 80));
    }

    #[test]
    fn without_a_cap_only_the_shared_pool_counts() {
        let (_, query) = pools(1 << 20, None);
        let pool: Arc<dyn MemoryPool> = query.clone();
        let r = MemoryConsumer::new("agg").register(&pool);
        r.try_grow(1 << 20).unwrap();
        assert!(matches!(query.memory_limit(), MemoryLimit::Finite(n) if n == 1 << 20));
    }
}
