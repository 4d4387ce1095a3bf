//! `status_episodes(events) -> list<struct>`: replays one order's status
//! events from several systems in time order and returns every episode in
//! which the systems disagreed.
//!
//! The same replay written as SQL takes eight `last_value(...) IGNORE NULLS`
//! windows and four more partitioned by order; over millions of orders
//! DataFusion's window operators spend minutes and gigabytes on it, while
//! this kernel is one pass over each order's events (collected with
//! `array_agg`, which has a grouped accumulator).

use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, ListArray, StringBuilder, StructArray, TimestampMicrosecondArray,
};
use datafusion::arrow::buffer::OffsetBuffer;
use datafusion::arrow::datatypes::{DataType, Field, Fields};
use datafusion::common::{Result, plan_err};
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};
use datafusion_macros::user_doc;

use crate::strings::{struct_field, utc_micros};

/// The systems whose statuses are compared, in the order that decides
/// which pair of a disagreement is reported first.
pub const STATUS_SYSTEMS: [&str; 4] = ["platform", "erp", "wms", "crm"];

/// One status report: `system` indexes [`STATUS_SYSTEMS`], `at` is in
/// microseconds since the epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatusEvent<'a> {
    pub at: i64,
    pub system: usize,
    pub status: &'a str,
}

/// What one system says at a moment: its status and when it got it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SystemStatus<'a> {
    pub system: usize,
    pub status: &'a str,
    pub at: i64,
}

/// A stretch of time in which at least two systems disagreed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Episode<'a> {
    /// The first moment two reporting systems disagreed.
    pub started_at: i64,
    /// The first moment after it at which all reporting systems agreed;
    /// `None` while they still disagree.
    pub repaired_at: Option<i64>,
    /// At the episode's last disagreeing moment: the first system (in
    /// [`STATUS_SYSTEMS`] order) that has a status, and the first one after
    /// it whose status differs.
    pub a: SystemStatus<'a>,
    pub b: SystemStatus<'a>,
}

/// The disagreement at one moment: the first system with a status and the
/// first later system saying something else; `None` when all that have a
/// status agree. (If the first one agreed with every other, all would.)
fn disagreement<'a>(
    state: &[Option<(&'a str, i64)>; 4],
) -> Option<(SystemStatus<'a>, SystemStatus<'a>)> {
    let (first, &(status, at)) = state
        .iter()
        .enumerate()
        .find_map(|(i, s)| s.as_ref().map(|s| (i, s)))?;
    let (second, &(other, other_at)) = state
        .iter()
        .enumerate()
        .skip(first + 1)
        .find_map(|(i, s)| s.as_ref().filter(|(st, _)| *st != status).map(|s| (i, s)))?;
    Some((
        SystemStatus {
            system: first,
            status,
            at,
        },
        SystemStatus {
            system: second,
            status: other,
            at: other_at,
        },
    ))
}

/// Replays `events` (any order) and returns the disagreement episodes in
/// time order. Events at the same instant are applied together before the
/// systems are compared, so a simultaneous change is never a disagreement;
/// two reports of one system at one instant resolve to the smaller status
/// (as `status_consistency` picks them), so the answer does not depend on
/// arrival order.
pub fn status_episodes<'a>(events: &mut [StatusEvent<'a>]) -> Vec<Episode<'a>> {
    // The last event applied wins: the smaller status goes last.
    events.sort_unstable_by(|x, y| {
        (x.at, x.system)
            .cmp(&(y.at, y.system))
            .then_with(|| y.status.cmp(x.status))
    });
    let mut state: [Option<(&str, i64)>; 4] = [None; 4];
    let mut episodes = Vec::new();
    let mut open: Option<Episode> = None;
    let mut i = 0;
    while i < events.len() {
        let at = events[i].at;
        while i < events.len() && events[i].at == at {
            let e = events[i];
            state[e.system] = Some((e.status, e.at));
            i += 1;
        }
        match (disagreement(&state), open.as_mut()) {
            (Some((a, b)), Some(episode)) => {
                episode.a = a;
                episode.b = b;
            }
            (Some((a, b)), None) => {
                open = Some(Episode {
                    started_at: at,
                    repaired_at: None,
                    a,
                    b,
                })
            }
            (None, Some(_)) => {
                let mut episode = open.take().expect("matched Some");
                episode.repaired_at = Some(at);
                episodes.push(episode);
            }
            (None, None) => {}
        }
    }
    episodes.extend(open);
    episodes
}

#[user_doc(
    doc_section(label = "Status Functions"),
    description = "Replays one order's status events (a list of structs with fields `system`, `status` and `at`, as collected by `array_agg(named_struct('system', system, 'status', status, 'at', updated_at))`) in time order and returns the episodes in which the systems platform, erp, wms and crm disagreed: a list of structs `started_at`, `repaired_at` (NULL while still disagreeing), `system_a`, `status_a`, `at_a`, `system_b`, `status_b`, `at_b`, where at the episode's last disagreeing moment `system_a` is the first system (in that order) with a status, `system_b` the first after it saying something else, and `at_*` when each got its status. Events of other systems, or without a status or time, are ignored; events at one instant apply together, and of one system's reports at one instant the smallest status counts.",
    syntax_example = "status_episodes(events)",
    sql_example = r#"```sql
> select unnest(status_episodes(array_agg(named_struct('system', system, 'status', lower(trim(status_code)), 'at', updated_at)))) from status_events group by channel, order_id;
```"#,
    argument(
        name = "events",
        description = "List of structs with a string `system`, a string `status` and a timestamp `at`."
    )
)]
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct StatusEpisodesFunc {
    signature: Signature,
}

impl Default for StatusEpisodesFunc {
    fn default() -> Self {
        Self::new()
    }
}

impl StatusEpisodesFunc {
    /// A `status_episodes` taking one list of event structs.
    pub fn new() -> Self {
        Self {
            signature: Signature::any(1, Volatility::Immutable),
        }
    }
}

/// The fields of one returned episode.
fn episode_fields() -> Fields {
    let ts = utc_micros();
    Fields::from(vec![
        Field::new("started_at", ts.clone(), false),
        Field::new("repaired_at", ts.clone(), true),
        Field::new("system_a", DataType::Utf8, false),
        Field::new("status_a", DataType::Utf8, false),
        Field::new("at_a", ts.clone(), false),
        Field::new("system_b", DataType::Utf8, false),
        Field::new("status_b", DataType::Utf8, false),
        Field::new("at_b", ts, false),
    ])
}

fn episode_item() -> Arc<Field> {
    Arc::new(Field::new_list_field(
        DataType::Struct(episode_fields()),
        true,
    ))
}

/// The `system`, `status` and `at` columns of the event structs, as Utf8,
/// Utf8 and microsecond timestamps.
fn event_columns(events: &StructArray) -> Result<(ArrayRef, ArrayRef, ArrayRef)> {
    let column =
        |name, to: &DataType| struct_field(events, name, to, "status_episodes: the event struct");
    Ok((
        column("system", &DataType::Utf8)?,
        column("status", &DataType::Utf8)?,
        column("at", &utc_micros())?,
    ))
}

impl ScalarUDFImpl for StatusEpisodesFunc {
    fn name(&self) -> &str {
        "status_episodes"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, args: &[DataType]) -> Result<DataType> {
        match &args[0] {
            DataType::List(item) if matches!(item.data_type(), DataType::Struct(_)) => {
                Ok(DataType::List(episode_item()))
            }
            other => plan_err!(
                "status_episodes expects a list of structs (system, status, at), got {other}"
            ),
        }
    }

    fn documentation(&self) -> Option<&Documentation> {
        self.doc()
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let rows = args.number_rows;
        let lists = args.args[0].to_array(rows)?;
        let lists = lists.as_list::<i32>();
        let (systems, statuses, ats) = event_columns(lists.values().as_struct())?;
        let (systems, statuses) = (systems.as_string::<i32>(), statuses.as_string::<i32>());
        let ats = ats.as_primitive::<datafusion::arrow::datatypes::TimestampMicrosecondType>();

        let mut out = EpisodeColumns::default();
        let mut offsets = Vec::with_capacity(rows + 1);
        offsets.push(0i32);
        let mut events = Vec::new();
        for row in 0..lists.len() {
            events.clear();
            if lists.is_valid(row) {
                let range =
                    lists.value_offsets()[row] as usize..lists.value_offsets()[row + 1] as usize;
                for i in range {
                    if systems.is_null(i) || statuses.is_null(i) || ats.is_null(i) {
                        continue;
                    }
                    let Some(system) = STATUS_SYSTEMS.iter().position(|s| *s == systems.value(i))
                    else {
                        continue;
                    };
                    events.push(StatusEvent {
                        at: ats.value(i),
                        system,
                        status: statuses.value(i),
                    });
                }
            }
            for episode in status_episodes(&mut events) {
                out.push(&episode);
            }
            offsets.push(i32::try_from(out.len).expect("fewer than 2^31 episodes per batch"));
        }
        let list = ListArray::try_new(
            episode_item(),
            OffsetBuffer::new(offsets.into()),
            Arc::new(out.finish()),
            lists.nulls().cloned(),
        )?;
        Ok(ColumnarValue::Array(Arc::new(list)))
    }
}

/// Column builders for the returned episodes.
#[derive(Default)]
struct EpisodeColumns {
    len: usize,
    started_at: Vec<i64>,
    repaired_at: Vec<Option<i64>>,
    system_a: StringBuilder,
    status_a: StringBuilder,
    at_a: Vec<i64>,
    system_b: StringBuilder,
    status_b: StringBuilder,
    at_b: Vec<i64>,
}

impl EpisodeColumns {
    fn push(&mut self, e: &Episode) {
        self.len += 1;
        self.started_at.push(e.started_at);
        self.repaired_at.push(e.repaired_at);
        self.system_a.append_value(STATUS_SYSTEMS[e.a.system]);
        self.status_a.append_value(e.a.status);
        self.at_a.push(e.a.at);
        self.system_b.append_value(STATUS_SYSTEMS[e.b.system]);
        self.status_b.append_value(e.b.status);
        self.at_b.push(e.b.at);
    }

    fn finish(mut self) -> StructArray {
        let ts = |values: Vec<i64>| -> ArrayRef {
            Arc::new(TimestampMicrosecondArray::from(values).with_timezone("UTC"))
        };
        let columns: Vec<ArrayRef> = vec![
            ts(self.started_at),
            Arc::new(TimestampMicrosecondArray::from(self.repaired_at).with_timezone("UTC")),
            Arc::new(self.system_a.finish()),
            Arc::new(self.status_a.finish()),
            ts(self.at_a),
            Arc::new(self.system_b.finish()),
            Arc::new(self.status_b.finish()),
            ts(self.at_b),
        ];
        StructArray::new(episode_fields(), columns, None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(at: i64, system: &str, status: &'static str) -> StatusEvent<'static> {
        let system = STATUS_SYSTEMS.iter().position(|s| *s == system).unwrap();
        StatusEvent { at, system, status }
    }

    fn summary(events: &mut [StatusEvent]) -> Vec<(i64, Option<i64>, String)> {
        status_episodes(events)
            .iter()
            .map(|e| {
                let side = |s: &SystemStatus| {
                    format!("{}:{}@{}", STATUS_SYSTEMS[s.system], s.status, s.at)
                };
                (
                    e.started_at,
                    e.repaired_at,
                    format!("{} {}", side(&e.a), side(&e.b)),
                )
            })
            .collect()
    }

    #[test]
    fn no_events_or_one_system_is_never_a_disagreement() {
        assert!(status_episodes(&mut []).is_empty());
        let mut one = [ev(1, "erp", "paid"), ev(2, "erp", "shipped")];
        assert!(status_episodes(&mut one).is_empty());
    }

    #[test]
    fn episode_runs_from_first_disagreement_to_all_agreeing() {
        let mut events = [
            ev(30, "wms", "shipped"),
            ev(0, "platform", "paid"),
            ev(0, "wms", "paid"),
            ev(10, "platform", "shipped"),
            ev(20, "erp", "shipped"),
        ];
        // At 10 platform is ahead of wms; erp joining at 20 agrees with the
        // platform, so the pair reported stays platform vs wms until 30.
        assert_eq!(
            summary(&mut events),
            vec![(10, Some(30), "platform:shipped@10 wms:paid@0".to_string())]
        );
    }

    #[test]
    fn simultaneous_changes_are_applied_together() {
        let mut events = [
            ev(0, "platform", "paid"),
            ev(0, "erp", "paid"),
            ev(5, "erp", "shipped"),
            ev(5, "platform", "shipped"),
        ];
        assert!(status_episodes(&mut events).is_empty());
    }

    #[test]
    fn open_and_repeated_episodes() {
        let mut events = [
            ev(0, "platform", "paid"),
            ev(1, "crm", "created"),
            ev(2, "crm", "paid"),
            ev(3, "platform", "signed"),
        ];
        assert_eq!(
            summary(&mut events),
            vec![
                (1, Some(2), "platform:paid@0 crm:created@1".to_string()),
                (3, None, "platform:signed@3 crm:paid@2".to_string()),
            ]
        );
    }

    #[test]
    fn one_system_reporting_twice_at_once_is_deterministic() {
        let mut a = [
            ev(0, "erp", "paid"),
            ev(0, "erp", "shipped"),
            ev(0, "wms", "paid"),
        ];
        let mut b = [
            ev(0, "wms", "paid"),
            ev(0, "erp", "shipped"),
            ev(0, "erp", "paid"),
        ];
        assert_eq!(summary(&mut a), summary(&mut b));
        assert!(
            summary(&mut a).is_empty(),
            "erp's smaller status, paid, agrees with wms"
        );
    }
}
