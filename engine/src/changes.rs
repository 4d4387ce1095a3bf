//! What commits changed in the orders and their customers, followed by
//! watermark for the state kept beside the store: the maintained views'
//! pending keys, each customer's orders, and `order_identifiers`, kept by
//! customer from the identity graph.
//!
//! An order's rows of `order_identifiers` say whether each of its
//! identifiers linked (`used`, `rule`), which depends on the customers of
//! every order carrying it. So a commit restates the rows of every customer
//! that holds an order which is new, re-sent or moved to another customer,
//! or that shares a linking identifier with one; and of every order of an
//! identifier found shared, no longer shared, or left by a re-sent order.
//! Only those customers' orders are read again.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use datafusion::arrow::array::{ArrayRef, RecordBatch, StringArray, StringBuilder};
use datafusion::arrow::compute::concat_batches;
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use ordergraph_udfs::{mcid_bytes, mcid_of, mcid_str, parse_mcid};
use rustc_hash::{FxHashMap, FxHashSet};
use smallvec::SmallVec;

use crate::Result;
use crate::evidence;
use crate::identity::{IdentityKind, RefusedValue};
use crate::maintained::{KeyRows, KeySet, MaintainedStatus, Materialized};
use crate::store::OrderStore;

/// Column of `mcid` in `order_identifiers`.
const MCID_COLUMN: usize = 2;

#[derive(Debug, Default)]
pub(crate) struct Changes {
    state: Mutex<State>,
}

struct State {
    started: bool,
    /// Versions read so far.
    versions: usize,
    /// Each order's MCID key as last read; 0 for none.
    mcids: Vec<u64>,
    /// Restated identifiers read so far.
    restated: usize,
    /// Each customer's orders.
    members: FxHashMap<u64, SmallVec<[u32; 2]>>,
    /// `order_identifiers` by `mcid`.
    identifiers: KeptTable,
    /// Refused values' notes read so far.
    refused: usize,
    /// Orders whose corrections changed, read so far.
    retagged: usize,
    /// `shared_identifiers` by `(kind, value)`.
    shared: KeptTable,
    /// Whether the maintained views collect changes (see
    /// [`Changes::take_for_views`]).
    views_follow: bool,
    /// Changes of `orders` / `order_versions` the views have not taken.
    unread_orders: Vec<RecordBatch>,
    /// Changes of `order_identifiers` the views have not taken.
    unread_identifiers: Vec<RecordBatch>,
}

impl Default for State {
    fn default() -> Self {
        Self {
            started: false,
            versions: 0,
            mcids: Vec::new(),
            restated: 0,
            retagged: 0,
            members: FxHashMap::default(),
            identifiers: KeptTable::new(
                "order_identifiers",
                evidence::order_identifiers_schema(),
                vec![MCID_COLUMN],
                evidence::order_identifiers,
            ),
            refused: 0,
            shared: KeptTable::new(
                "shared_identifiers",
                evidence::shared_identifiers_schema(),
                vec![0, 1],
                evidence::shared_identifiers,
            ),
            views_follow: false,
            unread_orders: Vec::new(),
            unread_identifiers: Vec::new(),
        }
    }
}

/// An identity table kept from the graph: its rows from its first read on,
/// and its builds, updates and the last one's duration.
struct KeptTable {
    name: &'static str,
    schema: SchemaRef,
    key: Vec<usize>,
    /// The whole table, from the store.
    build: fn(&OrderStore) -> crate::Result<Vec<RecordBatch>>,
    rows: Option<Materialized>,
    builds: u64,
    updates: u64,
    last_ms: f64,
}

impl KeptTable {
    fn new(
        name: &'static str,
        schema: SchemaRef,
        key: Vec<usize>,
        build: fn(&OrderStore) -> crate::Result<Vec<RecordBatch>>,
    ) -> Self {
        Self {
            name,
            schema,
            key,
            build,
            rows: None,
            builds: 0,
            updates: 0,
            last_ms: 0.0,
        }
    }

    fn key_rows(&self) -> Result<KeyRows> {
        Ok(KeyRows::new(&self.schema, self.key.clone())?)
    }

    /// The rows, the whole table built on first use.
    fn rows(&mut self, store: &OrderStore) -> Result<&Materialized> {
        if self.rows.is_none() {
            let started = Instant::now();
            let whole = (self.build)(store)?;
            self.rows = Some(Materialized::new(
                self.schema.clone(),
                self.key_rows()?,
                &whole,
            )?);
            self.builds += 1;
            self.last_ms = started.elapsed().as_secs_f64() * 1e3;
        }
        Ok(self.rows.as_ref().expect("just built"))
    }

    /// Replaces the rows of the keys given as key columns by `fresh`, once
    /// built.
    fn replace(
        &mut self,
        keys: &[ArrayRef],
        fresh: impl FnOnce() -> Result<RecordBatch>,
    ) -> Result<()> {
        if self.rows.is_none() {
            return Ok(());
        }
        let started = Instant::now();
        let touched: KeySet = KeyRows::set(&self.key_rows()?.keys(keys)?);
        let rows = self.rows.as_mut().expect("built");
        rows.replace(&touched, &[fresh()?])?;
        self.updates += 1;
        self.last_ms = started.elapsed().as_secs_f64() * 1e3;
        Ok(())
    }

    fn status(&self, extra_bytes: usize) -> MaintainedStatus {
        let rows = self.rows.as_ref();
        MaintainedStatus {
            name: self.name.into(),
            key: self
                .key
                .iter()
                .map(|&k| self.schema.field(k).name().clone())
                .collect(),
            view: false,
            rows: rows.map(Materialized::rows),
            bytes: rows.map_or(0, Materialized::memory) + extra_bytes,
            released: false,
            builds: self.builds,
            updates: self.updates,
            last_refresh_ms: self.last_ms,
            last_plan_ms: 0.0,
        }
    }
}

impl std::fmt::Debug for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("State")
            .field("versions", &self.versions)
            .finish_non_exhaustive()
    }
}

/// What the maintained views learn from one collection: rows of
/// `(channel, order_id, mcid)` touched in `orders` and `order_versions`,
/// and in `order_identifiers`; an MCID that changed comes with both.
#[derive(Debug, Default)]
pub(crate) struct OrderChanges {
    pub(crate) orders: Option<RecordBatch>,
    pub(crate) identifiers: Option<RecordBatch>,
}

impl Changes {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The changes since the last call. The first call only starts
    /// following: the views are built whole first.
    pub(crate) fn take_for_views(&self, store: &OrderStore) -> Result<OrderChanges> {
        let mut state = self.lock();
        state.sync(store)?;
        if !state.views_follow {
            state.views_follow = true;
            return Ok(OrderChanges::default());
        }
        let concat = |batches: Vec<RecordBatch>| -> Result<Option<RecordBatch>> {
            Ok(match batches.first() {
                None => None,
                Some(first) => Some(concat_batches(&first.schema(), &batches)?),
            })
        };
        Ok(OrderChanges {
            orders: concat(std::mem::take(&mut state.unread_orders))?,
            identifiers: concat(std::mem::take(&mut state.unread_identifiers))?,
        })
    }

    /// The current orders (dense numbers) of the customers given by MCID.
    pub(crate) fn orders_of(&self, store: &OrderStore, mcids: &[&str]) -> Result<Vec<u32>> {
        let mut state = self.lock();
        state.sync(store)?;
        Ok(mcids
            .iter()
            .filter_map(|m| parse_mcid(m))
            .filter_map(|m| state.members.get(&m))
            .flatten()
            .copied()
            .collect())
    }

    /// Rows of `order_identifiers`: of the customers whose MCIDs `mcids`
    /// holds, or all.
    pub(crate) fn identifiers(
        &self,
        store: &OrderStore,
        mcids: Option<&ArrayRef>,
    ) -> Result<Vec<RecordBatch>> {
        let mut state = self.lock();
        state.sync(store)?;
        let rows = state.identifiers.rows(store)?;
        Ok(match mcids {
            Some(mcids) => rows.lookup(std::slice::from_ref(mcids))?,
            None => rows.snapshot().to_vec(),
        })
    }

    /// Every row of `shared_identifiers`.
    pub(crate) fn shared_identifiers(&self, store: &OrderStore) -> Result<Vec<RecordBatch>> {
        let mut state = self.lock();
        state.sync(store)?;
        Ok(state.shared.rows(store)?.snapshot().to_vec())
    }

    /// Drops the kept tables, to be built again at their next read: after
    /// values were erased in place, which no change follows.
    pub(crate) fn rebuild_kept(&self) {
        let mut state = self.lock();
        state.identifiers.rows = None;
        state.shared.rows = None;
    }

    /// How `order_identifiers` and `shared_identifiers` stand, as the
    /// maintained views report themselves; the former's memory includes
    /// each customer's list of orders.
    pub(crate) fn status(&self) -> [MaintainedStatus; 2] {
        let state = self.lock();
        let members = state.members.capacity()
            * (std::mem::size_of::<u64>() + std::mem::size_of::<SmallVec<[u32; 2]>>() + 1)
            + state.mcids.capacity() * std::mem::size_of::<u64>();
        [state.identifiers.status(members), state.shared.status(0)]
    }
}

impl State {
    /// Reads what was committed since the last call.
    fn sync(&mut self, store: &OrderStore) -> Result<()> {
        let graph = store.graph();
        let now = graph.mcids();
        if !self.started {
            store.orders_since(&mut self.versions);
            graph.restated_identifiers(&mut self.restated);
            graph.retagged_orders(&mut self.retagged);
            graph.refused_since(&mut self.refused).for_each(drop);
            self.mcids = now.to_vec();
            for (o, &m) in now.iter().enumerate() {
                if m != 0 {
                    self.members.entry(m).or_default().push(o as u32);
                }
            }
            self.started = true;
            return Ok(());
        }
        let arrived = store.orders_since(&mut self.versions);
        let restated = graph.restated_identifiers(&mut self.restated).to_vec();
        let retagged = graph.retagged_orders(&mut self.retagged).to_vec();
        let mut moved: Vec<(u32, u64)> = Vec::new();
        for (o, (before, &after)) in self.mcids.iter_mut().zip(now).enumerate() {
            if *before != after {
                moved.push((o as u32, *before));
                *before = after;
            }
        }
        let known = self.mcids.len();
        if let Some(new) = now.get(known..) {
            self.mcids.extend_from_slice(new);
            moved.extend((known..now.len()).map(|o| (o as u32, 0)));
        }
        for &(o, before) in &moved {
            if let Some(orders) = self.members.get_mut(&before) {
                orders.retain(|p| *p != o);
                if orders.is_empty() {
                    self.members.remove(&before);
                }
            }
            let after = now[o as usize];
            if after != 0 {
                self.members.entry(after).or_default().push(o);
            }
        }
        if arrived.is_empty() && moved.is_empty() && restated.is_empty() && retagged.is_empty() {
            return Ok(());
        }
        self.restate_shared(store, &arrived, &restated)?;
        if self.views_follow {
            self.unread_orders
                .push(order_changes(store, &arrived, &moved)?);
        }
        if !self.views_follow && self.identifiers.rows.is_none() {
            return Ok(());
        }
        // The customers whose identifier rows may read differently.
        let mut touched: FxHashSet<u64> = FxHashSet::default();
        for &o in arrived.iter().chain(moved.iter().map(|(o, _)| o)) {
            touched.extend(graph.orders_linked_with(o).map(|p| now[p as usize]));
            touched.insert(now[o as usize]);
        }
        touched.extend(moved.iter().map(|&(_, before)| before));
        for &id in &restated {
            touched.extend(graph.orders_of_identifier(id).map(|p| now[p as usize]));
        }
        touched.extend(retagged.iter().map(|&o| now[o as usize]));
        touched.remove(&0);
        let orders: Vec<u32> = touched
            .iter()
            .filter_map(|m| self.members.get(m))
            .flatten()
            .copied()
            .collect();
        let current = store.current_rows(&orders)?;
        let keys: ArrayRef = Arc::new(StringArray::from_iter_values(
            touched.iter().map(|&m| mcid_of(m)),
        ));
        self.identifiers
            .replace(&[keys], || evidence::identifier_rows(store, &current))?;
        if self.views_follow {
            // Every order whose rows may have changed: the touched
            // customers' orders now, and those that left them.
            let left: Vec<(u32, u64)> = moved.into_iter().filter(|(_, b)| *b != 0).collect();
            let mut batch = order_changes(store, &[], &left)?;
            let project = |b: &RecordBatch| -> Result<RecordBatch> {
                let schema = b.schema();
                let at = |name: &str| schema.index_of(name);
                Ok(b.project(&[at("channel")?, at("order_id")?, at("mcid")?])?)
            };
            let now_rows = project(&current)?;
            batch = concat_batches(
                &order_changes_schema(),
                &[
                    batch,
                    RecordBatch::try_new(order_changes_schema(), now_rows.columns().to_vec())?,
                ],
            )?;
            self.unread_identifiers.push(batch);
        }
        Ok(())
    }
}

impl State {
    /// Replaces the rows of `shared_identifiers` that the orders `arrived`
    /// and the identifiers `restated` may have changed: their shared
    /// identifiers' and refused values' counts and times, and identifiers
    /// found shared or no longer shared.
    fn restate_shared(
        &mut self,
        store: &OrderStore,
        arrived: &[u32],
        restated: &[u32],
    ) -> Result<()> {
        let graph = store.graph();
        let refused = graph.refused_since(&mut self.refused);
        if self.shared.rows.is_none() {
            refused.for_each(drop);
            return Ok(());
        }
        let mut ids: Vec<u32> = arrived
            .iter()
            .flat_map(|&o| graph.identifiers_of_order(o))
            .filter(|&id| graph.shared_identifier(id).is_some())
            .chain(restated.iter().copied())
            .collect();
        ids.sort_unstable();
        ids.dedup();
        let mut values: FxHashMap<(IdentityKind, &str), &RefusedValue> = FxHashMap::default();
        for r in refused {
            values.insert((r.kind, &r.value), r);
        }
        let (kinds, texts): (Vec<&str>, Vec<&str>) = ids
            .iter()
            .map(|&id| graph.identifier(id))
            .chain(values.keys().copied())
            .map(|(kind, value)| (kind.as_str(), value))
            .unzip();
        let keys: [ArrayRef; 2] = [
            Arc::new(StringArray::from(kinds)),
            Arc::new(StringArray::from(texts)),
        ];
        self.shared.replace(&keys, || {
            evidence::shared_identifier_rows(graph, ids, values.into_values())
        })?;
        Ok(())
    }
}

/// The schema of changed orders: `(channel, order_id, mcid)`.
fn order_changes_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("channel", DataType::Utf8, false),
        Field::new("order_id", DataType::Utf8, false),
        Field::new("mcid", DataType::Utf8, false),
    ]))
}

/// Rows of [`order_changes_schema`]: each order of `arrived` with its MCID
/// now, and each order of `moved` with the MCID it had (unless none) and
/// the one it has now.
fn order_changes(store: &OrderStore, arrived: &[u32], moved: &[(u32, u64)]) -> Result<RecordBatch> {
    let now = store.graph().mcids();
    let mut channel = StringBuilder::new();
    let mut order_id = StringBuilder::new();
    let mut mcid = StringBuilder::new();
    let mut push = |o: u32, key: u64| {
        if let Some((ch, id)) = store.order_key_of(o) {
            channel.append_value(ch);
            order_id.append_value(id);
            mcid.append_value(mcid_str(&mcid_bytes(key)));
        }
    };
    for &o in arrived {
        push(o, now[o as usize]);
    }
    for &(o, before) in moved {
        if before != 0 {
            push(o, before);
        }
        push(o, now[o as usize]);
    }
    let columns: Vec<ArrayRef> = vec![
        Arc::new(channel.finish()),
        Arc::new(order_id.finish()),
        Arc::new(mcid.finish()),
    ];
    Ok(RecordBatch::try_new(order_changes_schema(), columns)?)
}
