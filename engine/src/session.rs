//! Sessions: the DataFusion session every query runs in, with the tables,
//! UDFs and views registered, and read-only query planning.

use super::*;
use datafusion::arrow::array::{Array, AsArray};
use datafusion::optimizer::{Optimizer, OptimizerRule};
use maintained::{Restriction, ViewReads};

/// The statements a query may be: no DDL, DML or `SET`.
pub fn read_only() -> SQLOptions {
    SQLOptions::new()
        .with_allow_ddl(false)
        .with_allow_dml(false)
        .with_allow_statements(false)
}

/// How a session is opened for one reader.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SessionOptions {
    /// Report time of the views, microseconds since the epoch (UTC);
    /// `None`: `report.now` from the configuration, else the wall clock.
    pub now: Option<i64>,
    /// Whether every phone and email comes out masked, for a reader who may
    /// not see contact details.
    pub masked: bool,
    /// Most bytes of the shared memory pool one query may hold (see
    /// [`cap_query_memory`]); `None`: the shared pool's limit only.
    pub memory_cap: Option<usize>,
    /// Whether maintained views are computed from their SQL rather than
    /// read from their current rows (as they are anyway when `now` is set).
    pub recompute: bool,
}

/// Finds the rows a refresh recomputes in one of the engine's tables (see
/// [`provider::IndexLookup`]).
type FindRows =
    fn(&Engine, &Restriction, &SchemaRef) -> datafusion::error::Result<Option<Vec<RecordBatch>>>;

/// The engine a table's closure holds weakly.
fn upgrade(weak: &std::sync::Weak<Engine>) -> datafusion::error::Result<Arc<Engine>> {
    weak.upgrade()
        .ok_or_else(|| DataFusionError::Execution("the engine has been closed".into()))
}

fn external(e: Error) -> DataFusionError {
    DataFusionError::External(Box::new(e))
}

impl Engine {
    /// The current rows of `orders` of the keys a refresh recomputes, when
    /// they are customers (`mcid`) or orders (`channel`, `order_id`).
    fn orders_of_keys(
        &self,
        restriction: &Restriction,
        schema: &SchemaRef,
    ) -> datafusion::error::Result<Option<Vec<RecordBatch>>> {
        let store = self.read();
        let mut orders: Vec<u32> =
            if let Some(keys) = restriction.keys_as(&["mcid".to_string()], schema)? {
                let mcids = keys[0].as_string::<i32>();
                let mcids: Vec<&str> = mcids.iter().flatten().collect();
                self.order_changes
                    .orders_of(&store, &mcids)
                    .map_err(external)?
            } else if let Some(keys) =
                restriction.keys_as(&["channel".to_string(), "order_id".to_string()], schema)?
            {
                let (channels, ids) = (keys[0].as_string::<i32>(), keys[1].as_string::<i32>());
                (0..channels.len())
                    .filter_map(|i| store.order_number(channels.value(i), ids.value(i)))
                    .collect()
            } else {
                return Ok(None);
            };
        // Keys come once per change that touched them.
        orders.sort_unstable();
        orders.dedup();
        Ok(Some(vec![store.current_rows(&orders).map_err(external)?]))
    }

    /// A table derived from the store, rebuilt only when data changed.
    pub(super) fn derived(
        &self,
        name: &'static str,
        build: fn(&OrderStore) -> Result<Vec<RecordBatch>>,
    ) -> datafusion::error::Result<Vec<RecordBatch>> {
        let generation = self.generation.load(Ordering::SeqCst);
        if let Some((g, rows)) = self
            .derived
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(name)
            && *g == generation
        {
            return Ok(rows.as_ref().clone());
        }
        let rows =
            Arc::new(build(&self.read()).map_err(|e| DataFusionError::External(Box::new(e)))?);
        self.derived
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(name, (generation, rows.clone()));
        Ok(rows.as_ref().clone())
    }

    /// A new session with every table, UDF and view registered, reporting
    /// at the configured clock (`report.now`, else the wall clock).
    pub fn session(self: &Arc<Self>) -> Result<SessionContext> {
        self.session_at(None)
    }

    /// The report time a session uses: `now` if given, else `report.now`
    /// from the configuration, else the wall clock.
    pub fn report_now(&self, now: Option<i64>) -> i64 {
        now.or(self.config.report_now)
            .unwrap_or_else(|| chrono::Utc::now().timestamp_micros())
    }

    /// A new session whose views report as of `now` (microseconds since the
    /// epoch, UTC): for tests and back-dated reports. Sessions share the
    /// tables and views planned once at open; only the clock is their own.
    pub fn session_at(self: &Arc<Self>, now: Option<i64>) -> Result<SessionContext> {
        self.session_with(SessionOptions {
            now,
            ..SessionOptions::default()
        })
    }

    /// A new session opened as `options` say: its report clock, whether
    /// every phone and email is masked (`138****5678`, `z***@qq.com`) in
    /// every table and view, and its queries' memory cap.
    pub fn session_with(self: &Arc<Self>, options: SessionOptions) -> Result<SessionContext> {
        let base = if options.masked {
            &self.restricted_base
        } else {
            &self.base
        };
        let base = base
            .get()
            .expect("the base sessions are built at open")
            .clone();
        // Its own pool in front of the shared one, for a per-query cap.
        let mut state = memory::with_own_pool(base, &self.runtime)?;
        state
            .config_mut()
            .options_mut()
            .extensions
            .insert(report::ReportClock::at(self.report_now(options.now)));
        state.config_mut().set_extension(Arc::new(ViewReads {
            recompute: options.recompute || options.now.is_some(),
        }));
        let ctx = SessionContext::new_with_state(state);
        cap_query_memory(&ctx, options.memory_cap);
        Ok(ctx)
    }

    /// `state` with a memory pool of its own in front of the shared one, so
    /// that [`cap_query_memory`] can cap its queries: for a session that
    /// outlives one query (a Postgres connection's).
    pub fn with_own_memory(&self, state: SessionState) -> Result<SessionState> {
        Ok(memory::with_own_pool(state, &self.runtime)?)
    }

    /// Sets the report clock of a session that outlives one query (a
    /// Postgres connection): each statement then reports as of its own start.
    pub fn restamp_clock(&self, session: &SessionContext, now: Option<i64>) {
        let state = session.state_ref();
        let mut state = state.write();
        let config = state.config_mut();
        config
            .options_mut()
            .extensions
            .insert(report::ReportClock::at(self.report_now(now)));
        config.set_extension(Arc::new(ViewReads {
            recompute: now.is_some(),
        }));
    }

    /// The session state every query starts from: UDFs, tables and views.
    /// Tables hold the engine weakly, so the engine can be dropped.
    /// With `restricted`, phone and email columns come out masked.
    pub(super) fn base_state(self: &Arc<Self>, restricted: bool) -> Result<SessionState> {
        let mut config = SessionConfig::new()
            .with_information_schema(true)
            .with_target_partitions(self.config.target_partitions)
            .with_default_catalog_and_schema("ordergraph", "public")
            // For the view that applies the template to refunds (`queries/`).
            .with_extension(Arc::new(self.refund_template.clone()));
        // DataFusion 55 can plan an aggregate's input with a column
        // nullable where the logical plan has it not null (a view's
        // coalesce, planned as a CASE, over an empty result: every column
        // of `order_risk` counted on data with no risky order), and then
        // refuses the query. A nullable physical column is only the more
        // careful of the two, so the check is skipped.
        config
            .options_mut()
            .execution
            .skip_physical_aggregate_schema_check = true;
        // Views are maintained for readers who see contact details; a
        // restricted reader's are computed from the masked tables.
        let config = if restricted {
            config
        } else {
            self.maintained.attach(Arc::downgrade(self));
            config.with_extension(self.maintained.clone())
        };
        // `report_config`'s row is inlined before any other rule runs.
        let mut rules: Vec<Arc<dyn OptimizerRule + Send + Sync>> = vec![Arc::new(
            report::InlineReportConfig::new(self.config.report.clone(), self.config.report_now),
        )];
        rules.extend(Optimizer::new().rules);
        let mut state = SessionStateBuilder::new()
            .with_config(config)
            .with_runtime_env(self.runtime.clone())
            .with_default_features()
            .with_optimizer_rules(rules)
            .build();
        ordergraph_udfs::register(&mut state, &self.config.report.timezone)?;
        let ctx = SessionContext::new_with_state(state);
        let shown = |name: &str, table: Arc<dyn datafusion::catalog::TableProvider>| {
            if restricted {
                mask::restricted(name, table)
            } else {
                Ok(table)
            }
        };
        let weak = Arc::downgrade(self);
        let rows = |read: fn(&Engine) -> datafusion::error::Result<Vec<RecordBatch>>| -> Rows {
            let weak = weak.clone();
            Arc::new(move |_| read(upgrade(&weak)?.as_ref()))
        };
        let indexed = |find: FindRows| -> provider::IndexLookup {
            let weak = weak.clone();
            Arc::new(move |restriction, schema| find(upgrade(&weak)?.as_ref(), restriction, schema))
        };
        let tables: [(&str, SchemaRef, Rows, Option<provider::IndexLookup>); 5] = [
            (
                "orders",
                store::orders_schema(),
                rows(|e| e.read().current_batches().map_err(external)),
                Some(indexed(Engine::orders_of_keys)),
            ),
            (
                "order_versions",
                store::versions_schema(),
                rows(|e| Ok(e.read().version_batches())),
                Some(indexed(|e, restriction, schema| {
                    // Append-only, like the input tables.
                    let Some((columns, wanted)) = restriction.wanted(schema)? else {
                        return Ok(None);
                    };
                    let versions = e.read().version_batches();
                    let mut indexes = e.version_indexes.lock().unwrap_or_else(|e| e.into_inner());
                    maintained::RowIndex::find(&mut indexes, &columns)
                        .rows_with(&versions, &wanted)
                        .map(Some)
                })),
            ),
            (
                "order_identifiers",
                evidence::order_identifiers_schema(),
                rows(|e| {
                    e.order_changes
                        .identifiers(&e.read(), None)
                        .map_err(external)
                }),
                Some(indexed(|e, restriction, schema| {
                    let Some(keys) = restriction.keys_as(&["mcid".to_string()], schema)? else {
                        return Ok(None);
                    };
                    e.order_changes
                        .identifiers(&e.read(), Some(&keys[0]))
                        .map(Some)
                        .map_err(external)
                })),
            ),
            (
                "shared_identifiers",
                evidence::shared_identifiers_schema(),
                rows(|e| {
                    e.order_changes
                        .shared_identifiers(&e.read())
                        .map_err(external)
                }),
                None,
            ),
            (
                "mcid_aliases",
                evidence::mcid_aliases_schema(),
                rows(|e| e.derived("mcid_aliases", evidence::mcid_aliases)),
                None,
            ),
        ];
        for (name, schema, rows, index) in tables {
            let mut table = SnapshotTable::new(schema, rows);
            if let Some(index) = index {
                table = table.with_index(index);
            }
            if name == "orders" {
                let weak = weak.clone();
                table = table.with_key_lookup(Arc::new(move |channel, order_id| {
                    upgrade(&weak)?
                        .read()
                        .current_row(channel, order_id)
                        .map_err(external)
                }));
            }
            ctx.register_table(name, shown(name, Arc::new(table))?)?;
        }
        // The one row of thresholds, at the clock of the scanning session.
        let settings = self.config.report.clone();
        let default_now = self.config.report_now;
        let report_rows: Rows = Arc::new(move |session| {
            // As `report::InlineReportConfig` reads it when it plans.
            let now = report::ReportClock::now_of(
                session.config().options(),
                default_now,
                session.execution_props().query_execution_start_time,
            )
            .unwrap_or_else(|| chrono::Utc::now().timestamp_micros());
            Ok(vec![report::report_config_row(&settings, now)?])
        });
        ctx.register_table(
            "report_config",
            Arc::new(SnapshotTable::new(
                report::report_config_schema(),
                report_rows,
            )),
        )?;
        for &name in self.inputs.keys() {
            let weak = weak.clone();
            let schema =
                append::stored_schema(table::stored_table(name).expect("inputs are tables"));
            let rows: Rows = Arc::new(move |_| {
                Ok(upgrade(&weak)?.inputs[name]
                    .read()
                    .unwrap_or_else(|e| e.into_inner())
                    .batches())
            });
            let weak = Arc::downgrade(self);
            let indexed: provider::IndexLookup = Arc::new(move |restriction, schema| {
                let Some((columns, wanted)) = restriction.wanted(schema)? else {
                    return Ok(None);
                };
                upgrade(&weak)?.inputs[name]
                    .read()
                    .unwrap_or_else(|e| e.into_inner())
                    .rows_with(&columns, &wanted)
                    .map(Some)
            });
            let table = SnapshotTable::new(schema, rows).with_index(indexed);
            ctx.register_table(name, shown(name, Arc::new(table))?)?;
        }
        let template = refund::refund_nodes_batch(&self.refund_template)?;
        let template_rows: Rows = Arc::new(move |_| Ok(vec![template.clone()]));
        ctx.register_table(
            "refund_nodes",
            Arc::new(SnapshotTable::new(
                refund::refund_nodes_schema(),
                template_rows,
            )),
        )?;
        for hook in &self.hooks {
            hook(&ctx)?;
        }
        Ok(ctx.state())
    }

    /// Plans a read-only query: DDL, DML and `SET` are refused.
    pub async fn query(self: &Arc<Self>, sql: &str) -> Result<DataFrame> {
        self.query_at(sql, None).await
    }

    /// [`Engine::query`] with views reporting as of `now`.
    pub async fn query_at(self: &Arc<Self>, sql: &str, now: Option<i64>) -> Result<DataFrame> {
        self.query_with(
            sql,
            SessionOptions {
                now,
                ..SessionOptions::default()
            },
        )
        .await
    }

    /// [`Engine::query`] in a session opened as `options` say (see
    /// [`Engine::session_with`]).
    pub async fn query_with(
        self: &Arc<Self>,
        sql: &str,
        options: SessionOptions,
    ) -> Result<DataFrame> {
        let ctx = self.session_with(options)?;
        Ok(ctx.sql_with_options(sql, read_only()).await?)
    }
}
