//! Erasure of a person's personal information on their request (PIPL
//! art. 47): the phone, email, unionID, device id, account, ship address
//! and IP of every order and order version of one customer, and the rows of
//! other tables that carry those values, leave the engine, its log and its
//! checkpoints. Order keys, times, amounts, statuses, items and refunds
//! stay for accounting, and the MCID stays as a tombstone (`customers.
//! erased_at`), holding its orders.
//!
//! An erasure is recorded in `erasure_steps` (step `requested`) before
//! anything is erased, so one cut short (a crash) is finished at the next
//! open. It then:
//! 1. pins the MCID to its earliest order and keeps the orders one
//!    customer (a constraint, like a merge);
//! 2. ingests a new version of each order without the personal columns,
//!    which every derived table and maintained view follows as it follows
//!    any update;
//! 3. blanks those columns in the older versions, drops or blanks the
//!    rows of other tables carrying an erased value, and makes the graph
//!    forget the values no order carries any more;
//! 4. writes a checkpoint, which removes the log files and the older
//!    checkpoints that still held the values, and records step
//!    `completed`.
//!
//! A later order carrying an erased value starts a new customer: the
//! tombstone's orders carry nothing to link to. An erased order sent again
//! (a connector replaying its history) is taken in without its personal
//! columns.

use std::collections::HashSet;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, BooleanArray, RecordBatch};
use datafusion::arrow::compute::{cast, filter_record_batch, not, nullif, or};
use datafusion::arrow::datatypes::DataType;
use ordergraph_udfs::{IdentityKind, mcid_of, parse_mcid};

use super::*;
use crate::corrections::{normal_form, order_list, order_list_text};
use crate::identity::IdentityConfig;

/// The columns of `orders` that hold personal information.
pub(crate) const PERSONAL: [&str; 7] = [
    "account_id",
    "phone",
    "email",
    "wechat_unionid",
    "device_id",
    "ship_address",
    "ip",
];

/// A recorded erasure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Erasure {
    pub(crate) mcid: String,
    pub(crate) request_id: String,
    pub(crate) orders: Vec<(String, String)>,
}

/// What an erasure came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Erased {
    /// The tombstone MCID.
    pub mcid: String,
    /// Whether the customer was erased before, so nothing new was done.
    pub already: bool,
    /// The orders whose personal information is gone.
    pub orders: usize,
}

/// The personal values of the orders erased: as written (per column) and
/// as normalized identifiers.
#[derive(Debug)]
struct Values {
    config: IdentityConfig,
    raw: HashMap<&'static str, HashSet<String>>,
    /// `(channel, account_id)` as written.
    accounts: HashSet<(String, String)>,
    normalized: HashSet<String>,
}

impl Values {
    /// Whether a value of `column` (of a row of `channel`) is erased.
    fn erased(&self, column: &str, value: &str, channel: Option<&str>) -> bool {
        if column == "account_id" {
            return match channel {
                Some(c) => self.accounts.contains(&(c.to_string(), value.to_string())),
                None => self.raw.get(column).is_some_and(|v| v.contains(value)),
            };
        }
        if self.raw.get(column).is_some_and(|v| v.contains(value)) {
            return true;
        }
        let kind = match column {
            "phone" => IdentityKind::Phone,
            "email" => IdentityKind::Email,
            "wechat_unionid" => IdentityKind::Unionid,
            "device_id" => IdentityKind::Device,
            // An identifier's value as a correction names it.
            "value" => return self.normalized.contains(value),
            _ => return false,
        };
        normal_form(&self.config, kind, value, None).is_some_and(|n| self.normalized.contains(&n))
    }
}

impl Engine {
    /// The erasures requested, oldest first, and the MCIDs of those
    /// completed.
    pub(crate) fn erased(&self) -> (Vec<Erasure>, HashSet<String>) {
        let table = self.inputs[table::ERASURE_STEPS.name]
            .read()
            .unwrap_or_else(|e| e.into_inner());
        let mut requested = Vec::new();
        let mut completed = HashSet::new();
        for b in table.batches() {
            let text = |name: &str| {
                let column = b.column_by_name(name)?;
                let column = cast(column, &DataType::Utf8).ok()?;
                Some(column.as_string::<i32>().clone())
            };
            let (Some(mcid), Some(request), Some(step), Some(orders)) = (
                text("mcid"),
                text("request_id"),
                text("step"),
                text("orders"),
            ) else {
                continue;
            };
            for i in 0..b.num_rows() {
                let mcid = mcid.value(i).to_string();
                if step.value(i) == "completed" {
                    completed.insert(mcid);
                } else {
                    requested.push(Erasure {
                        mcid,
                        request_id: request.value(i).to_string(),
                        orders: order_list(orders.value(i)).unwrap_or_default(),
                    });
                }
            }
        }
        (requested, completed)
    }

    /// Erases the personal information of customer `mcid` (see the module
    /// docs); `request_id` and `note` are recorded with it. Erasing a
    /// customer erased before does nothing and says so.
    pub fn erase(&self, mcid: &str, request_id: &str, note: CorrectionNote) -> Result<Erased> {
        let _one_at_a_time = self.correcting.lock().unwrap_or_else(|e| e.into_inner());
        let (m, orders) = {
            let store = self.read();
            let graph = store.graph();
            let m = parse_mcid(mcid)
                .and_then(|m| graph.current_mcid(m))
                .ok_or_else(|| Error::NotFound(format!("no customer {mcid}")))?;
            (m, store.orders_of_customer(m))
        };
        let tombstone = mcid_of(m);
        if let Some(done) = self.erased().0.into_iter().find(|e| e.mcid == tombstone) {
            return Ok(Erased {
                mcid: tombstone,
                already: true,
                orders: done.orders.len(),
            });
        }
        self.record_step(&tombstone, request_id, Some((&orders, &note)))?;
        self.note_erased(&orders);
        self.carry_out(&[(m, orders.clone())])?;
        self.checkpoint()?;
        self.record_step(&tombstone, request_id, None)?;
        tracing::info!(mcid = %tombstone, orders = orders.len(), "customer erased");
        Ok(Erased {
            mcid: tombstone,
            already: false,
            orders: orders.len(),
        })
    }

    /// Finishes, at open, any erasure cut short: requested, not completed.
    pub(crate) fn finish_erasures(&self) -> Result<()> {
        let (requested, completed) = self.erased();
        for e in &requested {
            self.note_erased(&e.orders);
        }
        let todo: Vec<(u64, &Erasure)> = {
            let store = self.read();
            requested
                .iter()
                .filter(|e| !completed.contains(&e.mcid))
                .filter_map(|e| Some((store.graph().current_mcid(parse_mcid(&e.mcid)?)?, e)))
                .collect()
        };
        if todo.is_empty() {
            return Ok(());
        }
        let customers: Vec<(u64, Vec<(String, String)>)> =
            todo.iter().map(|(m, e)| (*m, e.orders.clone())).collect();
        self.carry_out(&customers)?;
        self.checkpoint()?;
        for (_, e) in &todo {
            self.record_step(&e.mcid, &e.request_id, None)?;
        }
        tracing::info!(customers = todo.len(), "erasures cut short finished");
        Ok(())
    }

    fn note_erased(&self, orders: &[(String, String)]) {
        let mut erased = self
            .erased_orders
            .write()
            .unwrap_or_else(|e| e.into_inner());
        erased.extend(orders.iter().map(|(c, o)| OrderStore::order_key(c, o)));
    }

    /// `inputs` (orders) with the personal columns of erased orders
    /// blanked.
    pub(crate) fn strip_erased(&self, inputs: Vec<RecordBatch>) -> Result<Vec<RecordBatch>> {
        let erased = self.erased_orders.read().unwrap_or_else(|e| e.into_inner());
        if erased.is_empty() {
            return Ok(inputs);
        }
        inputs
            .into_iter()
            .map(|batch| {
                let schema = batch.schema();
                let text = |name: &str| -> Result<_> {
                    Ok(batch
                        .column(schema.index_of(name)?)
                        .as_string::<i32>()
                        .clone())
                };
                let (channels, ids) = (text("channel")?, text("order_id")?);
                let hit: BooleanArray = (0..batch.num_rows())
                    .map(|r| {
                        let key = OrderStore::order_key(channels.value(r), ids.value(r));
                        Some(erased.contains(&key))
                    })
                    .collect();
                if hit.true_count() == 0 {
                    return Ok(batch);
                }
                let mut columns = batch.columns().to_vec();
                for name in PERSONAL {
                    let i = schema.index_of(name)?;
                    columns[i] = nullif(&columns[i], &hit)?;
                }
                Ok(RecordBatch::try_new(schema, columns)?)
            })
            .collect()
    }

    /// Records a step of erasing `mcid`: `requested`, with the orders and
    /// who asked why, or `completed`.
    fn record_step(
        &self,
        mcid: &str,
        request_id: &str,
        requested: Option<(&[(String, String)], &CorrectionNote)>,
    ) -> Result<()> {
        let row = match requested {
            Some((orders, note)) => serde_json::json!({
                "mcid": mcid,
                "request_id": request_id,
                "step": "requested",
                "orders": order_list_text(orders),
                "reason": note.reason,
                "actor": note.actor,
                "role": note.role,
            }),
            None => serde_json::json!({
                "mcid": mcid,
                "request_id": request_id,
                "step": "completed",
                "actor": "ordergraph",
                "role": "system",
            }),
        };
        let mut ndjson = serde_json::to_vec(&row).expect("JSON values serialize");
        ndjson.push(b'\n');
        self.record(table::ERASURE_STEPS.name, ndjson.into())?;
        Ok(())
    }

    /// Steps 1 to 3 of the module docs for customers `(mcid, orders)`.
    fn carry_out(&self, customers: &[(u64, Vec<(String, String)>)]) -> Result<()> {
        // 1. The tombstones hold their orders and MCIDs.
        {
            let mut store = self.store.write().unwrap_or_else(|e| e.into_inner());
            for &(m, _) in customers {
                store.pin_mcid(m);
            }
        }
        self.enforce(self.constraints_recorded()?, 0);
        let (numbers, values) = {
            let store = self.read();
            let numbers: HashSet<u32> = customers
                .iter()
                .flat_map(|(_, orders)| orders)
                .filter_map(|(c, o)| store.order_number(c, o))
                .collect();
            (numbers.clone(), self.values_of(&store, &numbers)?)
        };
        // 2. A version without them.
        let current = {
            let store = self.read();
            let list: Vec<u32> = numbers.iter().copied().collect();
            store.current_rows(&list)?
        };
        let blank = blanked(&current)?;
        if blank.num_rows() > 0 {
            self.ingest_batches(table::ORDERS.name, vec![blank])?;
        }
        // 3. Older versions, other tables, the graph.
        {
            let _writers = self.ingest.lock().unwrap_or_else(|e| e.into_inner());
            let mut store = self.store.write().unwrap_or_else(|e| e.into_inner());
            store.redact_versions(&numbers, &PERSONAL)?;
            let list: Vec<u32> = numbers.iter().copied().collect();
            store.forget(&list, &values.normalized);
            drop(store);
            for (name, input) in &self.inputs {
                let mut input = input.write().unwrap_or_else(|e| e.into_inner());
                let def = table::stored_table(name).expect("inputs are tables");
                input.redact(|batch| self.redact_rows(def, batch, &values))?;
            }
        }
        // Rows changed in place: the derived tables are built again.
        self.order_changes.rebuild_kept();
        self.maintained.rebuild_all(self);
        self.generation.fetch_add(1, Ordering::SeqCst);
        self.committed();
        Ok(())
    }

    /// The personal values of `orders`, in every version.
    fn values_of(&self, store: &OrderStore, orders: &HashSet<u32>) -> Result<Values> {
        let mut values = Values {
            config: store.graph().config().clone(),
            raw: HashMap::new(),
            accounts: HashSet::new(),
            normalized: HashSet::new(),
        };
        for column in PERSONAL {
            let seen: HashSet<String> = store.version_values(orders, column)?.into_iter().collect();
            values.raw.insert(column, seen);
        }
        values.accounts = store
            .version_pairs(orders, "channel", "account_id")?
            .into_iter()
            .collect();
        let graph = store.graph();
        for &o in orders {
            for id in graph.identifiers_of_order(o) {
                values.normalized.insert(graph.identifier(id).1.to_string());
            }
        }
        // The versions' values as ingest normalizes them: the graph holds
        // only the current versions'.
        let kinds = [
            ("phone", IdentityKind::Phone),
            ("email", IdentityKind::Email),
            ("wechat_unionid", IdentityKind::Unionid),
            ("device_id", IdentityKind::Device),
        ];
        for (column, kind) in kinds {
            for raw in &values.raw[column] {
                if let Some(n) = normal_form(&values.config, kind, raw, None) {
                    values.normalized.insert(n);
                }
            }
        }
        for (channel, account) in &values.accounts {
            if let Some(n) = normal_form(
                &values.config,
                IdentityKind::Account,
                account,
                Some(channel),
            ) {
                values.normalized.insert(n);
            }
        }
        Ok(values)
    }

    /// `batch` of table `def` without the erased values: a row whose
    /// required column holds one goes, a nullable column holding one is
    /// blanked. `None` if nothing in it is erased.
    fn redact_rows(
        &self,
        def: &table::TableDef,
        batch: &RecordBatch,
        values: &Values,
    ) -> Result<Option<RecordBatch>> {
        let channels = batch
            .column_by_name("channel")
            .and_then(|c| c.as_string_opt::<i32>().cloned());
        let mut drop_rows: Option<BooleanArray> = None;
        let mut columns: Vec<ArrayRef> = batch.columns().to_vec();
        let mut changed = false;
        for (i, column) in def.columns.iter().enumerate() {
            if !PERSONAL.contains(&column.name) && column.name != "value" {
                continue;
            }
            let Some(text) = batch.column(i).as_string_opt::<i32>() else {
                continue;
            };
            let hit: BooleanArray = (0..text.len())
                .map(|r| {
                    Some(
                        text.is_valid(r)
                            && values.erased(
                                column.name,
                                text.value(r),
                                channels.as_ref().map(|c| c.value(r)),
                            ),
                    )
                })
                .collect();
            if hit.true_count() == 0 {
                continue;
            }
            changed = true;
            if column.required {
                drop_rows = Some(match drop_rows {
                    Some(d) => or(&d, &hit)?,
                    None => hit,
                });
            } else {
                columns[i] = nullif(&columns[i], &hit)?;
            }
        }
        if !changed {
            return Ok(None);
        }
        let blanked = RecordBatch::try_new(batch.schema(), columns)?;
        Ok(Some(match drop_rows {
            Some(d) => filter_record_batch(&blanked, &not(&d)?)?,
            None => blanked,
        }))
    }
}

/// The rows of `current` (orders with `mcid`) that still carry personal
/// information, in the `orders` contract, with it blanked.
fn blanked(current: &RecordBatch) -> Result<RecordBatch> {
    let input = current.project(&(0..table::ORDERS.columns.len()).collect::<Vec<_>>())?;
    let schema = input.schema();
    let mut carrying = BooleanArray::from(vec![false; input.num_rows()]);
    let mut columns = input.columns().to_vec();
    for name in PERSONAL {
        let i = schema.index_of(name)?;
        let present: BooleanArray = (0..input.num_rows())
            .map(|r| Some(columns[i].is_valid(r)))
            .collect();
        carrying = or(&carrying, &present)?;
        let all = BooleanArray::from(vec![true; input.num_rows()]);
        columns[i] = nullif(&columns[i], &all)?;
    }
    let blank = RecordBatch::try_new(schema, columns)?;
    Ok(filter_record_batch(&blank, &carrying)?)
}
