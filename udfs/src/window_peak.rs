//! `window_peak(times, window_seconds, min_count) -> struct`: the busiest
//! stretch of a list of event times.
//!
//! "Three orders inside any 90 days" written as SQL is a self-join of every
//! order with every earlier order of the same customer; over millions of
//! orders that join is large and, in DataFusion 55, panics inside a
//! repartition. Sorting each customer's times and sliding two pointers over
//! them answers the same question in one pass.

use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, Int64Array, StructArray, TimestampMicrosecondArray,
};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, Fields, Int64Type, TimestampMicrosecondType};
use datafusion::common::{Result, exec_err, plan_err};
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};
use datafusion_macros::user_doc;

use crate::strings::utc_micros;

/// The busiest window of a set of event times.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WindowPeak {
    /// The most events inside any window of the given length.
    pub peak: i64,
    /// The first event time at which the window ending there held at least
    /// `min_count` events; `None` if none did.
    pub reached_at: Option<i64>,
}

/// Slides a window of `window` (same unit as `times`, both ends included)
/// over `times` (any order): windows end at each event time, and count
/// every event at that time. A negative `window` counts as 0: the window
/// ending at an event always holds it.
pub fn window_peak(times: &mut [i64], window: i64, min_count: i64) -> WindowPeak {
    let window = window.max(0);
    times.sort_unstable();
    let mut peak = 0i64;
    let mut reached_at = None;
    let mut start = 0;
    let mut end = 0;
    while end < times.len() {
        let at = times[end];
        // The window ending at `at` holds every event at `at`.
        while end + 1 < times.len() && times[end + 1] == at {
            end += 1;
        }
        while at - times[start] > window {
            start += 1;
        }
        let count = (end - start + 1) as i64;
        peak = peak.max(count);
        if reached_at.is_none() && count >= min_count {
            reached_at = Some(at);
        }
        end += 1;
    }
    WindowPeak { peak, reached_at }
}

#[user_doc(
    doc_section(label = "Other Functions"),
    description = "Over a list of event times (e.g. `array_agg(ordered_at)` per customer): `peak`, the most events inside any window of `window_seconds` (both ends included), and `reached_at`, the first event time at which the window ending there held at least `min_count` events (NULL if never). NULL times are ignored; a NULL list, window or count gives NULL (and NULL fields); a negative window is an error.",
    syntax_example = "window_peak(times, window_seconds, min_count)",
    sql_example = r#"```sql
> select window_peak(array_agg(ordered_at), 90 * 86400, 3) from orders group by mcid;
```"#,
    argument(name = "times", description = "List of timestamps."),
    argument(name = "window_seconds", description = "Window length in seconds."),
    argument(
        name = "min_count",
        description = "Events a window must hold for `reached_at`."
    )
)]
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct WindowPeakFunc {
    signature: Signature,
}

impl Default for WindowPeakFunc {
    fn default() -> Self {
        Self::new()
    }
}

impl WindowPeakFunc {
    /// A `window_peak` over a list of timestamps and two integers.
    pub fn new() -> Self {
        Self {
            signature: Signature::any(3, Volatility::Immutable),
        }
    }
}

fn peak_fields() -> Fields {
    Fields::from(vec![
        // Nullable so that a NULL result reads as NULL through field access
        // too: `get_field` returns a child column without its parent's nulls.
        Field::new("peak", DataType::Int64, true),
        Field::new("reached_at", utc_micros(), true),
    ])
}

impl ScalarUDFImpl for WindowPeakFunc {
    fn name(&self) -> &str {
        "window_peak"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, args: &[DataType]) -> Result<DataType> {
        let is_int = |t: &DataType| t.is_integer() || t.is_null();
        match (&args[0], &args[1], &args[2]) {
            (DataType::List(item), w, k)
                if matches!(item.data_type(), DataType::Timestamp(_, _) | DataType::Null)
                    && is_int(w)
                    && is_int(k) =>
            {
                Ok(DataType::Struct(peak_fields()))
            }
            (t, w, k) => plan_err!(
                "window_peak expects (list of timestamps, integer, integer), got ({t}, {w}, {k})"
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
        let values = cast(lists.values(), &utc_micros())?;
        let values = values.as_primitive::<TimestampMicrosecondType>();
        let int_arg = |i: usize| -> Result<ArrayRef> {
            Ok(cast(&args.args[i].to_array(rows)?, &DataType::Int64)?)
        };
        let (windows, mins) = (int_arg(1)?, int_arg(2)?);
        let (windows, mins) = (
            windows.as_primitive::<Int64Type>(),
            mins.as_primitive::<Int64Type>(),
        );

        let mut peaks = Vec::with_capacity(rows);
        let mut reached = Vec::with_capacity(rows);
        let mut nulls = Vec::with_capacity(rows);
        let mut times = Vec::new();
        for row in 0..rows {
            if lists.is_null(row) || windows.is_null(row) || mins.is_null(row) {
                peaks.push(None);
                reached.push(None);
                nulls.push(false);
                continue;
            }
            if windows.value(row) < 0 {
                return exec_err!(
                    "window_peak: window_seconds {} must not be negative",
                    windows.value(row)
                );
            }
            let Some(window) = windows.value(row).checked_mul(1_000_000) else {
                return exec_err!(
                    "window_peak: window_seconds {} is too large",
                    windows.value(row)
                );
            };
            times.clear();
            let offsets = lists.value_offsets();
            let range = offsets[row] as usize..offsets[row + 1] as usize;
            times.extend(
                range
                    .filter(|&i| values.is_valid(i))
                    .map(|i| values.value(i)),
            );
            let peak = window_peak(&mut times, window, mins.value(row));
            peaks.push(Some(peak.peak));
            reached.push(peak.reached_at);
            nulls.push(true);
        }
        let columns: Vec<ArrayRef> = vec![
            Arc::new(Int64Array::from(peaks)),
            Arc::new(TimestampMicrosecondArray::from(reached).with_timezone("UTC")),
        ];
        let out = StructArray::try_new(peak_fields(), columns, Some(nulls.into()))?;
        Ok(ColumnarValue::Array(Arc::new(out)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 86_400;

    #[test]
    fn empty_and_single() {
        assert_eq!(
            window_peak(&mut [], 90 * DAY, 3),
            WindowPeak {
                peak: 0,
                reached_at: None
            }
        );
        assert_eq!(
            window_peak(&mut [5], 90 * DAY, 1),
            WindowPeak {
                peak: 1,
                reached_at: Some(5)
            }
        );
    }

    #[test]
    fn window_ends_are_inclusive() {
        // Exactly 90 days from first to third: inside.
        let mut times = [0, 40 * DAY, 90 * DAY];
        assert_eq!(
            window_peak(&mut times, 90 * DAY, 3).reached_at,
            Some(90 * DAY)
        );
        // One second more: never three at once.
        let mut times = [0, 40 * DAY, 90 * DAY + 1];
        assert_eq!(
            window_peak(&mut times, 90 * DAY, 3),
            WindowPeak {
                peak: 2,
                reached_at: None
            }
        );
    }

    #[test]
    fn a_negative_window_counts_as_zero() {
        // Each window still holds the events at its own end.
        let mut times = [6, 5, 5];
        assert_eq!(
            window_peak(&mut times, -DAY, 2),
            WindowPeak {
                peak: 2,
                reached_at: Some(5)
            }
        );
    }

    #[test]
    fn unsorted_input_and_ties() {
        // Two orders at the same instant both count for the window ending there.
        let mut times = [
            200 * DAY,
            10 * DAY,
            10 * DAY,
            300 * DAY,
            250 * DAY,
            260 * DAY,
        ];
        assert_eq!(
            window_peak(&mut times, 90 * DAY, 2),
            WindowPeak {
                peak: 3,
                reached_at: Some(10 * DAY)
            }
        );
        let mut times = [
            200 * DAY,
            10 * DAY,
            10 * DAY,
            300 * DAY,
            250 * DAY,
            260 * DAY,
        ];
        assert_eq!(
            window_peak(&mut times, 90 * DAY, 3).reached_at,
            Some(260 * DAY)
        );
        assert_eq!(window_peak(&mut times, 90 * DAY, 4).reached_at, None);
    }
}
