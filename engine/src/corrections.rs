//! Corrections of identity made by people: checked against those in
//! force, recorded in `identity_corrections` (durable like any recorded
//! table, so a correction is never reported done before it is kept), then
//! put in force in the identity graph. At open, the corrections in force
//! are read back from the table, so they outlive restarts, checkpoints and
//! a change of `[identity]` settings.

use std::collections::HashSet;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, Int64Array, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Int64Type};
use ordergraph_udfs::{IdentityKind, mcid_of, parse_mcid};

use super::*;
use crate::identity::{
    Constraints, Correction, ERASURE_NUMBERS, IdentityConfig, RawIdentity, Slot, extract,
};

/// What a person asks to correct.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CorrectionRequest {
    /// These orders of customer `mcid`, and those of its orders that
    /// carry these identifiers (`kind`, value, channel of an account),
    /// are someone else's.
    Split {
        mcid: String,
        orders: Vec<(String, String)>,
        identifiers: Vec<(IdentityKind, String, Option<String>)>,
    },
    /// These customers are one person.
    Merge { mcids: Vec<String> },
    /// This value must never link anyone (`channel` scopes an account).
    Unlink {
        kind: IdentityKind,
        value: String,
        channel: Option<String>,
    },
    /// This value is one person's, however many others it is seen with.
    Link {
        kind: IdentityKind,
        value: String,
        channel: Option<String>,
    },
}

/// Who asks, and why: kept with the correction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CorrectionNote {
    pub actor: String,
    pub role: String,
    pub reason: String,
    pub ticket: Option<String>,
}

/// What a correction came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Corrected {
    /// Its number (for an undo, the undo's own).
    pub correction_id: i64,
    /// Whether the same correction was already in force (or already
    /// undone), so nothing new was recorded.
    pub already: bool,
    /// The customers of the orders it names, now.
    pub mcids: Vec<String>,
}

/// One row of `identity_corrections`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Row {
    id: i64,
    action: String,
    mcid: Option<String>,
    orders: Option<String>,
    kept: Option<String>,
    kind: Option<String>,
    identifier: Option<String>,
    undoes: Option<i64>,
}

impl Row {
    /// Whether two rows ask for the same thing.
    fn same_ask(&self, other: &Row) -> bool {
        (
            &self.action,
            &self.orders,
            &self.kept,
            &self.kind,
            &self.identifier,
        ) == (
            &other.action,
            &other.orders,
            &other.kept,
            &other.kind,
            &other.identifier,
        )
    }

    /// The correction the row records (an undo records none).
    fn correction(&self) -> Result<Option<Correction>> {
        let keys = |text: &Option<String>| -> Result<Vec<u64>> {
            Ok(order_list(text.as_deref().unwrap_or("[]"))?
                .iter()
                .map(|(channel, order_id)| OrderStore::order_key(channel, order_id))
                .collect())
        };
        // None once the value was erased: the correction holds no more.
        let identifier = || -> Option<u64> {
            let kind = self.kind.as_deref().and_then(IdentityKind::parse)?;
            ordergraph_udfs::identity_key(kind, self.identifier.as_deref()?)
        };
        Ok(Some(match self.action.as_str() {
            "split" => Correction::Split {
                moved: keys(&self.orders)?,
                kept: keys(&self.kept)?,
            },
            "merge" => Correction::Merge {
                orders: keys(&self.orders)?,
            },
            "unlink" => match identifier() {
                Some(key) => Correction::Unlink { key },
                None => return Ok(None),
            },
            "link" => match identifier() {
                Some(key) => Correction::Link { key },
                None => return Ok(None),
            },
            _ => return Ok(None),
        }))
    }
}

/// Orders as `identity_corrections` keeps them: a JSON array of
/// `[channel, order_id]` pairs.
pub(crate) fn order_list(text: &str) -> Result<Vec<(String, String)>> {
    serde_json::from_str(text).map_err(|e| Error::Invalid(format!("an order list: {e}")))
}

pub(crate) fn order_list_text(orders: &[(String, String)]) -> String {
    serde_json::to_string(orders).expect("strings serialize")
}

/// The rows of `identity_corrections`, by number.
fn rows_of(batches: &[RecordBatch]) -> Vec<Row> {
    let mut rows = Vec::new();
    for b in batches {
        let text = |name: &str| -> &StringArray {
            b.column_by_name(name)
                .expect("a column of identity_corrections")
                .as_string::<i32>()
        };
        let int = |name: &str| -> &Int64Array {
            b.column_by_name(name)
                .expect("a column of identity_corrections")
                .as_primitive::<Int64Type>()
        };
        let opt = |a: &StringArray, i: usize| a.is_valid(i).then(|| a.value(i).to_string());
        let (mcid, orders, kept) = (text("mcid"), text("orders"), text("kept"));
        let (kind, identifier, undoes) = (text("kind"), text("value"), int("undoes"));
        let (id, action) = (int("correction_id"), b.column_by_name("action"));
        let action = action.expect("an action column");
        let action = datafusion::arrow::compute::cast(action, &DataType::Utf8)
            .expect("an enum column reads as text");
        let action = action.as_string::<i32>();
        for i in 0..b.num_rows() {
            rows.push(Row {
                id: id.value(i),
                action: action.value(i).to_string(),
                mcid: opt(mcid, i),
                orders: opt(orders, i),
                kept: opt(kept, i),
                kind: opt(kind, i),
                identifier: opt(identifier, i),
                undoes: undoes.is_valid(i).then(|| undoes.value(i)),
            });
        }
    }
    rows.sort_by_key(|r| r.id);
    rows
}

/// The rows not undone, and whether row `id` was undone.
fn in_force(rows: &[Row]) -> Vec<&Row> {
    let undone: HashSet<i64> = rows.iter().filter_map(|r| r.undoes).collect();
    rows.iter()
        .filter(|r| r.action != "undo" && !undone.contains(&r.id))
        .collect()
}

/// Whether `row` is the split `request` asks for: of the same customer,
/// moving the same orders.
fn same_split(row: &Row, request: &CorrectionRequest) -> bool {
    let CorrectionRequest::Split {
        mcid,
        orders,
        identifiers,
    } = request
    else {
        return false;
    };
    let mut asked = orders.clone();
    asked.sort();
    asked.dedup();
    row.action == "split"
        && identifiers.is_empty()
        && parse_mcid(mcid).map(mcid_of).as_ref() == row.mcid.as_ref()
        && row.orders.as_deref().map(order_list).and_then(|o| o.ok()) == Some(asked)
}

impl Engine {
    /// The constraints of `rows` (corrections in force) and of the
    /// erasures: an erased customer's orders stay one (its tombstone).
    fn constraints_of(&self, rows: &[&Row]) -> Result<Constraints> {
        let mut corrections = Vec::with_capacity(rows.len());
        for r in rows {
            if let Some(c) = r.correction()? {
                corrections.push((r.id as u64, c));
            }
        }
        for (k, erased) in self.erased().0.into_iter().enumerate() {
            let orders = erased.orders.iter();
            corrections.push((
                ERASURE_NUMBERS + k as u64,
                Correction::Merge {
                    orders: orders.map(|(c, o)| OrderStore::order_key(c, o)).collect(),
                },
            ));
        }
        Constraints::build(&corrections).map_err(|c| Error::Conflict {
            with: c.with as i64,
            why: c.why,
        })
    }
}

impl Engine {
    fn correction_rows(&self) -> Vec<Row> {
        let table = self.inputs[table::IDENTITY_CORRECTIONS.name]
            .read()
            .unwrap_or_else(|e| e.into_inner());
        rows_of(&table.batches())
    }

    /// Records a correction and puts it in force. A request the same as
    /// one in force records nothing and says so; one that contradicts one
    /// in force is refused ([`Error::Conflict`]).
    pub fn correct(&self, request: CorrectionRequest, note: CorrectionNote) -> Result<Corrected> {
        let _one_at_a_time = self.correcting.lock().unwrap_or_else(|e| e.into_inner());
        let rows = self.correction_rows();
        let id = rows.last().map_or(1, |r| r.id + 1);
        let force = in_force(&rows);
        // A split sent again names orders no longer the customer's.
        if let Some(same) = force.iter().find(|r| same_split(r, &request)) {
            return Ok(Corrected {
                correction_id: same.id,
                already: true,
                mcids: self.mcids_named(same),
            });
        }
        let row = self.row_for(id, &request)?;
        if let Some(same) = force.iter().find(|r| r.same_ask(&row)) {
            return Ok(Corrected {
                correction_id: same.id,
                already: true,
                mcids: self.mcids_named(same),
            });
        }
        let mut next = force.clone();
        next.push(&row);
        let constraints = self.constraints_of(&next)?;
        self.record_correction(&row, &note)?;
        self.enforce(constraints, id);
        Ok(Corrected {
            correction_id: id,
            already: false,
            mcids: self.mcids_named(&row),
        })
    }

    /// Takes correction `id` back: what it moved is resolved by the rules
    /// and the other corrections again. Undoing one already undone records
    /// nothing.
    pub fn undo_correction(&self, id: i64, note: CorrectionNote) -> Result<Corrected> {
        let _one_at_a_time = self.correcting.lock().unwrap_or_else(|e| e.into_inner());
        let rows = self.correction_rows();
        let target = rows
            .iter()
            .find(|r| r.id == id && r.action != "undo")
            .ok_or_else(|| Error::NotFound(format!("no correction {id}")))?;
        if let Some(undo) = rows.iter().find(|r| r.undoes == Some(id)) {
            return Ok(Corrected {
                correction_id: undo.id,
                already: true,
                mcids: self.mcids_named(target),
            });
        }
        let undo = Row {
            id: rows.last().map_or(1, |r| r.id + 1),
            action: "undo".into(),
            mcid: None,
            orders: None,
            kept: None,
            kind: None,
            identifier: None,
            undoes: Some(id),
        };
        let force: Vec<&Row> = in_force(&rows).into_iter().filter(|r| r.id != id).collect();
        let constraints = self.constraints_of(&force)?;
        self.record_correction(&undo, &note)?;
        self.enforce(constraints, undo.id);
        Ok(Corrected {
            correction_id: undo.id,
            already: false,
            mcids: self.mcids_named(target),
        })
    }

    /// The corrections in force that name an order of customer `mcid`, or
    /// an identifier one of its orders carries, by number.
    pub fn corrections_of(&self, mcid: &str) -> Vec<i64> {
        let rows = self.correction_rows();
        in_force(&rows)
            .into_iter()
            .filter(|r| self.mcids_named(r).iter().any(|m| m == mcid))
            .map(|r| r.id)
            .collect()
    }

    /// The constraints of the corrections in force and the erasures.
    pub(crate) fn constraints_recorded(&self) -> Result<Constraints> {
        self.constraints_of(&in_force(&self.correction_rows()))
    }

    /// Puts the corrections recorded in force, as at open.
    pub(crate) fn enforce_recorded(&self) -> Result<()> {
        let rows = self.correction_rows();
        let constraints = self.constraints_of(&in_force(&rows)).map_err(|e| {
            Error::corrupt(
                &self.dir.join(table::IDENTITY_CORRECTIONS.name),
                format!("the corrections recorded contradict one another: {e}"),
            )
        })?;
        let latest = rows.last().map_or(0, |r| r.id);
        self.enforce(constraints, latest);
        Ok(())
    }

    pub(crate) fn enforce(&self, constraints: Constraints, correction: i64) {
        let at = chrono::Utc::now().timestamp_micros();
        let notes = self.correction_notes();
        let stats = self
            .store
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .set_constraints(constraints, notes, correction as u64, at);
        if stats != Default::default() {
            self.generation.fetch_add(1, Ordering::SeqCst);
            self.committed();
        }
    }

    /// Who made each correction recorded and why, by number:
    /// `"<actor>: <reason> (ticket <ticket>)"`.
    fn correction_notes(&self) -> rustc_hash::FxHashMap<u64, String> {
        let table = self.inputs[table::IDENTITY_CORRECTIONS.name]
            .read()
            .unwrap_or_else(|e| e.into_inner());
        let mut notes = rustc_hash::FxHashMap::default();
        for b in table.batches() {
            let text = |name: &str| b.column_by_name(name).map(|c| c.as_string::<i32>().clone());
            let (Some(id), Some(actor), Some(reason), Some(ticket)) = (
                b.column_by_name("correction_id"),
                text("actor"),
                text("reason"),
                text("ticket"),
            ) else {
                continue;
            };
            let id = id.as_primitive::<Int64Type>();
            for i in 0..b.num_rows() {
                let mut note = format!("{}: {}", actor.value(i), reason.value(i));
                if ticket.is_valid(i) {
                    note.push_str(&format!(" (ticket {})", ticket.value(i)));
                }
                notes.insert(id.value(i) as u64, note);
            }
        }
        notes
    }

    fn record_correction(&self, row: &Row, note: &CorrectionNote) -> Result<()> {
        let def = &table::IDENTITY_CORRECTIONS;
        let schema = def.schema();
        let text = |v: Option<&str>| -> ArrayRef { Arc::new(StringArray::from(vec![v])) };
        let columns: Vec<ArrayRef> = schema
            .fields()
            .iter()
            .map(|f| match f.name().as_str() {
                "correction_id" => Arc::new(Int64Array::from(vec![row.id])) as ArrayRef,
                "undoes" => Arc::new(Int64Array::from(vec![row.undoes])),
                "action" => text(Some(&row.action)),
                "mcid" => text(row.mcid.as_deref()),
                "orders" => text(row.orders.as_deref()),
                "kept" => text(row.kept.as_deref()),
                "kind" => text(row.kind.as_deref()),
                "value" => text(row.identifier.as_deref()),
                "reason" => text(Some(&note.reason)),
                "ticket" => text(note.ticket.as_deref()),
                "actor" => text(Some(&note.actor)),
                "role" => text(Some(&note.role)),
                other => unreachable!("identity_corrections has no column {other}"),
            })
            .collect();
        let columns = columns
            .into_iter()
            .zip(schema.fields())
            .map(|(c, f)| datafusion::arrow::compute::cast(&c, f.data_type()))
            .collect::<std::result::Result<Vec<_>, _>>()?;
        let batch = RecordBatch::try_new(schema, columns)?;
        self.append(&self.inputs[def.name], vec![batch], &Positions::new())?;
        Ok(())
    }

    /// The row recording `request`, checked against the data.
    fn row_for(&self, id: i64, request: &CorrectionRequest) -> Result<Row> {
        let blank = Row {
            id,
            action: String::new(),
            mcid: None,
            orders: None,
            kept: None,
            kind: None,
            identifier: None,
            undoes: None,
        };
        let store = self.read();
        let graph = store.graph();
        let erased: HashSet<String> = self.erased().0.into_iter().map(|e| e.mcid).collect();
        let customer = |mcid: &str| -> Result<u64> {
            let m = parse_mcid(mcid)
                .and_then(|m| graph.current_mcid(m))
                .ok_or_else(|| Error::NotFound(format!("no customer {mcid}")))?;
            if erased.contains(&mcid_of(m)) {
                return Err(Error::Invalid(format!(
                    "customer {} was erased: its orders belong to nobody known",
                    mcid_of(m)
                )));
            }
            Ok(m)
        };
        let orders_of = |m: u64| store.orders_of_customer(m);
        Ok(match request {
            CorrectionRequest::Split {
                mcid,
                orders,
                identifiers,
            } => {
                let m = customer(mcid)?;
                let mut moved = orders.clone();
                for (kind, value, channel) in identifiers {
                    let value = self.normalized(*kind, value, channel.as_deref())?;
                    let carrying: Vec<u32> = graph
                        .orders_with(*kind, &value)
                        .into_iter()
                        .filter(|&o| graph.mcid_of_order(o) == Some(m))
                        .collect();
                    if carrying.is_empty() {
                        return Err(Error::Invalid(format!(
                            "no order of customer {} carries {} {value}",
                            mcid_of(m),
                            kind.as_str()
                        )));
                    }
                    moved.extend(carrying.into_iter().filter_map(|o| store.order_key_of(o)));
                }
                if moved.is_empty() {
                    return Err(Error::Invalid("a split moves at least one order".into()));
                }
                let all = orders_of(m);
                moved.sort();
                moved.dedup();
                if let Some((channel, order_id)) = moved.iter().find(|o| !all.contains(o)) {
                    return Err(Error::Invalid(format!(
                        "order {channel}:{order_id} is not customer {}'s",
                        mcid_of(m)
                    )));
                }
                let kept: Vec<(String, String)> =
                    all.into_iter().filter(|o| !moved.contains(o)).collect();
                if kept.is_empty() {
                    return Err(Error::Invalid(format!(
                        "the split would move every order of customer {}",
                        mcid_of(m)
                    )));
                }
                Row {
                    action: "split".into(),
                    mcid: Some(mcid_of(m)),
                    orders: Some(order_list_text(&moved)),
                    kept: Some(order_list_text(&kept)),
                    ..blank
                }
            }
            CorrectionRequest::Merge { mcids } => {
                let mut live = mcids
                    .iter()
                    .map(|m| customer(m))
                    .collect::<Result<Vec<u64>>>()?;
                live.sort_unstable();
                live.dedup();
                if live.len() < 2 {
                    return Err(Error::Invalid(
                        "a merge names at least two different customers".into(),
                    ));
                }
                let mut orders: Vec<(String, String)> =
                    live.iter().flat_map(|&m| orders_of(m)).collect();
                orders.sort();
                Row {
                    action: "merge".into(),
                    mcid: Some(
                        live.iter()
                            .map(|&m| mcid_of(m))
                            .collect::<Vec<_>>()
                            .join(","),
                    ),
                    orders: Some(order_list_text(&orders)),
                    ..blank
                }
            }
            CorrectionRequest::Unlink {
                kind,
                value,
                channel,
            }
            | CorrectionRequest::Link {
                kind,
                value,
                channel,
            } => {
                let unlink = matches!(request, CorrectionRequest::Unlink { .. });
                let normalized = self.normalized(*kind, value, channel.as_deref())?;
                Row {
                    action: if unlink { "unlink" } else { "link" }.into(),
                    kind: Some(kind.as_str().into()),
                    identifier: Some(normalized),
                    ..blank
                }
            }
        })
    }

    /// A value normalized as ingest does (see [`normalize`]).
    pub(crate) fn normalized(
        &self,
        kind: IdentityKind,
        value: &str,
        channel: Option<&str>,
    ) -> Result<String> {
        let config = self.read().graph().config().clone();
        normalize(&config, kind, value, channel)
    }

    /// The customers now of the orders a row names, or of its identifier.
    fn mcids_named(&self, row: &Row) -> Vec<String> {
        let store = self.read();
        let graph = store.graph();
        let mut mcids: Vec<u64> = Vec::new();
        for list in [&row.orders, &row.kept].into_iter().flatten() {
            for (channel, order_id) in order_list(list).unwrap_or_default() {
                if let Some(m) = store
                    .order_number(&channel, &order_id)
                    .and_then(|o| graph.mcid_of_order(o))
                {
                    mcids.push(m);
                }
            }
        }
        if let (Some(kind), Some(value)) = (&row.kind, &row.identifier)
            && let Some(kind) = IdentityKind::parse(kind)
        {
            let orders = graph.orders_with(kind, value).into_iter();
            mcids.extend(orders.filter_map(|o| graph.mcid_of_order(o)));
        }
        mcids.sort_unstable();
        mcids.dedup();
        mcids.into_iter().map(mcid_of).collect()
    }
}

/// A value normalized as ingest does; an error if ingest refuses it
/// anyway (a placeholder, a masked or relay number, a blocklisted value),
/// which no correction changes.
pub(crate) fn normalize(
    config: &IdentityConfig,
    kind: IdentityKind,
    value: &str,
    channel: Option<&str>,
) -> Result<String> {
    let channel = match (kind, channel) {
        (IdentityKind::Account, None) => {
            return Err(Error::Invalid("an account needs its channel".into()));
        }
        (_, channel) => channel.unwrap_or_default(),
    };
    let raw = raw_identity(kind, value, channel);
    match extract(&raw, config.region, &config.blocklist)[kind_slot(kind)].clone() {
        Slot::Id { value, .. } => Ok(value),
        Slot::Refused { value, why } => Err(Error::Invalid(format!(
            "{} {value} never links anyone: it is refused as {} by the rules of ingest",
            kind.as_str(),
            why.as_str()
        ))),
        Slot::Empty => Err(Error::Invalid(format!("no {} given", kind.as_str()))),
    }
}

/// A value as ingest writes it down, used or refused: `None` if empty.
pub(crate) fn normal_form(
    config: &IdentityConfig,
    kind: IdentityKind,
    value: &str,
    channel: Option<&str>,
) -> Option<String> {
    match normalize(config, kind, value, channel) {
        Ok(value) => Some(value),
        Err(_) => {
            let raw = raw_identity(kind, value, channel.unwrap_or_default());
            match extract(&raw, config.region, &config.blocklist)[kind_slot(kind)].clone() {
                Slot::Refused { value, .. } => Some(value),
                _ => None,
            }
        }
    }
}

fn kind_slot(kind: IdentityKind) -> usize {
    IdentityKind::ALL
        .iter()
        .position(|k| *k == kind)
        .expect("every kind is in ALL")
}

/// An order's identity with only `value` of `kind`.
fn raw_identity<'a>(kind: IdentityKind, value: &'a str, channel: &'a str) -> RawIdentity<'a> {
    let mut raw = RawIdentity {
        channel,
        account_id: None,
        phone: None,
        email: None,
        wechat_unionid: None,
        device_id: None,
    };
    let field = match kind {
        IdentityKind::Account => &mut raw.account_id,
        IdentityKind::Phone => &mut raw.phone,
        IdentityKind::Email => &mut raw.email,
        IdentityKind::Unionid => &mut raw.wechat_unionid,
        IdentityKind::Device => &mut raw.device_id,
    };
    *field = Some(value);
    raw
}
