//! Aggregates over each group's rows in key order, with a grouped
//! accumulator: `array_agg_by(value, key)`, the values as a list in key
//! order (`array_agg(value ORDER BY key, value)`), and `first_by(value,
//! key)` and `last_by(value, key)`, the value of the row with the smallest
//! or the greatest key (as `row_number() OVER (PARTITION BY .. ORDER BY key)
//! = 1` picks a row).
//!
//! DataFusion computes an ordered `array_agg` with one accumulator per
//! group, fed a slice of rows per group and batch, and a `row_number()`
//! window with state per partition; over hundreds of thousands of small
//! groups either costs microseconds a row (see apache/datafusion#25199).
//! These accumulators keep each input batch once with a `(group, row)` pair
//! per row, as DataFusion's own unordered `array_agg` does, and sort each
//! group's rows by the comparable row encoding of `(key, value)` only when
//! the results are built.

use std::sync::{Arc, OnceLock};

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, ListArray, UInt32Array, new_empty_array,
};
use datafusion::arrow::buffer::{NullBuffer, OffsetBuffer, ScalarBuffer};
use datafusion::arrow::compute::{SortOptions, interleave, take};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::arrow::row::{RowConverter, SortField};
use datafusion::common::{Result, ScalarValue, plan_err};
use datafusion::logical_expr::DocSection;
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::{
    Accumulator, AggregateUDFImpl, Documentation, EmitTo, GroupsAccumulator, Signature, Volatility,
};
use datafusion_macros::user_doc;

#[user_doc(
    doc_section(label = "General Functions"),
    description = "The group's values as a list in ascending `key` order (NULL keys last; equal keys by value), as `array_agg(value ORDER BY key, value)`. NULL values are kept; a group without rows (every row filtered out) gives NULL.",
    syntax_example = "array_agg_by(value, key)",
    sql_example = r#"```sql
> select refund_id, array_agg_by(node, position) from refund_template_nodes group by refund_id;
```"#,
    argument(name = "value", description = "The values to collect."),
    argument(name = "key", description = "The sort key of each value.")
)]
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct ArrayAggByFunc {
    signature: Signature,
}

impl Default for ArrayAggByFunc {
    fn default() -> Self {
        Self::new()
    }
}

impl ArrayAggByFunc {
    /// An `array_agg_by` taking a value and a key of any types.
    pub fn new() -> Self {
        Self {
            signature: Signature::any(2, Volatility::Immutable),
        }
    }
}

fn list_of(item: &DataType) -> DataType {
    DataType::List(Arc::new(Field::new_list_field(item.clone(), true)))
}

impl AggregateUDFImpl for ArrayAggByFunc {
    fn name(&self) -> &str {
        "array_agg_by"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, args: &[DataType]) -> Result<DataType> {
        match args {
            [value, _] => Ok(list_of(value)),
            _ => plan_err!("array_agg_by takes a value and a key"),
        }
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        state_fields(args)
    }

    fn accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        Ok(Box::new(OneGroup(Groups::new(&args, false)?)))
    }

    fn groups_accumulator_supported(&self, _args: AccumulatorArgs) -> bool {
        true
    }

    fn create_groups_accumulator(
        &self,
        args: AccumulatorArgs,
    ) -> Result<Box<dyn GroupsAccumulator>> {
        Ok(Box::new(Groups::new(&args, false)?))
    }

    fn documentation(&self) -> Option<&Documentation> {
        self.doc()
    }
}

/// Which row of its group `first_by` and `last_by` pick.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum End {
    /// The smallest `(key, value)`.
    First,
    /// The greatest `(key, value)`.
    Last,
}

/// `first_by(value, key)` and `last_by(value, key)`: the value of the
/// group's row with the smallest or the greatest key.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct PickByFunc {
    signature: Signature,
    end: End,
}

impl PickByFunc {
    /// `first_by`: the row with the smallest key, as `row_number() OVER
    /// (.. ORDER BY key) = 1` picks one.
    pub fn first() -> Self {
        Self {
            signature: Signature::any(2, Volatility::Immutable),
            end: End::First,
        }
    }

    /// `last_by`: the row with the greatest key, as `row_number() OVER (..
    /// ORDER BY key DESC) = 1` picks one.
    pub fn last() -> Self {
        Self {
            end: End::Last,
            ..Self::first()
        }
    }
}

fn pick_by_doc(end: End) -> &'static Documentation {
    static DOCS: OnceLock<[Documentation; 2]> = OnceLock::new();
    let docs = DOCS.get_or_init(|| {
        [End::First, End::Last].map(|end| {
            let (name, which, order) = match end {
                End::First => ("first_by", "smallest", "key"),
                End::Last => ("last_by", "greatest", "key DESC"),
            };
            Documentation::builder(
                DocSection {
                    include: true,
                    label: "General Functions",
                    description: None,
                },
                format!(
                    "The value of the group's row with the {which} `key` (of rows with equal keys, \
                     the {which} value), as `row_number() OVER (PARTITION BY .. ORDER BY {order}) = 1` \
                     picks a row. Rows with a NULL key are skipped; a group without other rows \
                     gives NULL. A struct value carries a whole row: \
                     `{name}(named_struct('a', a, 'b', b), arrived_at)['a']`."
                ),
                format!("{name}(value, key)"),
            )
            .with_sql_example(format!(
                "```sql\n> select refund_id, {name}(amount, arrived_at) from refunds group by refund_id;\n```"
            ))
            .with_argument("value", "The value to return.")
            .with_argument("key", format!("The key that picks the row: the {which} wins."))
            .build()
        })
    });
    &docs[end as usize]
}

impl AggregateUDFImpl for PickByFunc {
    fn name(&self) -> &str {
        match self.end {
            End::First => "first_by",
            End::Last => "last_by",
        }
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, args: &[DataType]) -> Result<DataType> {
        match args {
            [value, _] => Ok(value.clone()),
            _ => plan_err!("{} takes a value and a key", self.name()),
        }
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        state_fields(args)
    }

    fn accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        Ok(Box::new(OneGroup(Pick(
            Groups::new(&args, true)?,
            self.end,
        ))))
    }

    fn groups_accumulator_supported(&self, _args: AccumulatorArgs) -> bool {
        true
    }

    fn create_groups_accumulator(
        &self,
        args: AccumulatorArgs,
    ) -> Result<Box<dyn GroupsAccumulator>> {
        Ok(Box::new(Pick(Groups::new(&args, true)?, self.end)))
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(pick_by_doc(self.end))
    }
}

/// Both aggregates keep their rows as the same two lists per group.
fn state_fields(args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
    let [value, key] = args.input_fields else {
        return plan_err!("{} takes a value and a key", args.name);
    };
    Ok(vec![
        Arc::new(Field::new("values", list_of(value.data_type()), true)),
        Arc::new(Field::new("keys", list_of(key.data_type()), true)),
    ])
}

/// The rows of every group: each input batch's value and key columns, and
/// a `(group, row)` pair per row kept.
#[derive(Debug)]
struct Groups {
    value_type: DataType,
    key_type: DataType,
    /// Rows with a NULL key are not kept (`first_by`, `last_by`).
    skip_null_keys: bool,
    batches: Vec<(ArrayRef, ArrayRef)>,
    entries: Vec<Vec<(u32, u32)>>,
    groups: usize,
}

impl Groups {
    fn new(args: &AccumulatorArgs, skip_null_keys: bool) -> Result<Self> {
        let [value, key] = args.expr_fields else {
            return plan_err!("{} takes a value and a key", args.name);
        };
        Ok(Self {
            value_type: value.data_type().clone(),
            key_type: key.data_type().clone(),
            skip_null_keys,
            batches: Vec::new(),
            entries: Vec::new(),
            groups: 0,
        })
    }

    fn keep(&mut self, value: &ArrayRef, key: &ArrayRef, entries: Vec<(u32, u32)>) {
        if !entries.is_empty() {
            self.batches.push((Arc::clone(value), Arc::clone(key)));
            self.entries.push(entries);
        }
    }

    /// The first `emit` groups' values and keys as two lists per group,
    /// each list in `(key, value)` order; the rows of later groups stay,
    /// renumbered from 0.
    fn emit(&mut self, emit: usize) -> Result<(ListArray, ListArray)> {
        // Counting sort of the rows into group order.
        let mut offsets = vec![0u32; emit + 1];
        for &(g, _) in self.entries.iter().flatten() {
            if (g as usize) < emit {
                offsets[g as usize + 1] += 1;
            }
        }
        for g in 0..emit {
            offsets[g + 1] += offsets[g];
        }
        let mut at = offsets.clone();
        let mut picks = vec![(0usize, 0usize); offsets[emit] as usize];
        for (batch, entries) in self.entries.iter().enumerate() {
            for &(g, row) in entries {
                if (g as usize) < emit {
                    picks[at[g as usize] as usize] = (batch, row as usize);
                    at[g as usize] += 1;
                }
            }
        }
        let (values, keys) = if picks.is_empty() {
            (
                new_empty_array(&self.value_type),
                new_empty_array(&self.key_type),
            )
        } else {
            let values: Vec<&dyn Array> = self.batches.iter().map(|(v, _)| v.as_ref()).collect();
            let keys: Vec<&dyn Array> = self.batches.iter().map(|(_, k)| k.as_ref()).collect();
            (interleave(&values, &picks)?, interleave(&keys, &picks)?)
        };

        // Each group's rows in (key, value) order, compared as encoded rows.
        let nulls_last = SortOptions {
            descending: false,
            nulls_first: false,
        };
        let converter = RowConverter::new(vec![
            SortField::new_with_options(self.key_type.clone(), nulls_last),
            SortField::new_with_options(self.value_type.clone(), nulls_last),
        ])?;
        let rows = converter.convert_columns(&[Arc::clone(&keys), Arc::clone(&values)])?;
        let mut order: Vec<u32> = (0..picks.len() as u32).collect();
        for g in 0..emit {
            let group = &mut order[offsets[g] as usize..offsets[g + 1] as usize];
            if group.len() > 1 {
                group.sort_unstable_by(|&a, &b| rows.row(a as usize).cmp(&rows.row(b as usize)));
            }
        }
        let order = UInt32Array::from(order);
        let (values, keys) = (take(&values, &order, None)?, take(&keys, &order, None)?);

        let nulls = NullBuffer::from_iter((0..emit).map(|g| offsets[g + 1] > offsets[g]));
        let offsets = OffsetBuffer::new(ScalarBuffer::from(
            offsets.iter().map(|&o| o as i32).collect::<Vec<_>>(),
        ));
        let list = |item: ArrayRef, data_type: &DataType| {
            ListArray::new(
                Arc::new(Field::new_list_field(data_type.clone(), true)),
                offsets.clone(),
                item,
                Some(nulls.clone()),
            )
        };
        let lists = (list(values, &self.value_type), list(keys, &self.key_type));

        // Later groups keep their rows, renumbered.
        let emit = emit as u32;
        let kept: Vec<_> = std::mem::take(&mut self.batches)
            .into_iter()
            .zip(std::mem::take(&mut self.entries))
            .filter_map(|(batch, entries)| {
                let entries: Vec<_> = entries
                    .into_iter()
                    .filter(|&(g, _)| g >= emit)
                    .map(|(g, row)| (g - emit, row))
                    .collect();
                (!entries.is_empty()).then_some((batch, entries))
            })
            .collect();
        (self.batches, self.entries) = kept.into_iter().unzip();
        self.groups = self.groups.saturating_sub(emit as usize);
        Ok(lists)
    }

    fn emit_count(&self, emit_to: EmitTo) -> usize {
        match emit_to {
            EmitTo::All => self.groups,
            EmitTo::First(n) => n,
        }
    }
}

impl GroupsAccumulator for Groups {
    fn update_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        opt_filter: Option<&BooleanArray>,
        total_num_groups: usize,
    ) -> Result<()> {
        self.groups = self.groups.max(total_num_groups);
        let entries = group_indices
            .iter()
            .enumerate()
            .filter(|&(row, _)| opt_filter.is_none_or(|f| f.is_valid(row) && f.value(row)))
            .filter(|&(row, _)| !self.skip_null_keys || values[1].is_valid(row))
            .map(|(row, &g)| (g as u32, row as u32))
            .collect();
        self.keep(&values[0], &values[1], entries);
        Ok(())
    }

    fn evaluate(&mut self, emit_to: EmitTo) -> Result<ArrayRef> {
        let (values, _) = self.emit(self.emit_count(emit_to))?;
        Ok(Arc::new(values))
    }

    fn state(&mut self, emit_to: EmitTo) -> Result<Vec<ArrayRef>> {
        let (values, keys) = self.emit(self.emit_count(emit_to))?;
        Ok(vec![Arc::new(values), Arc::new(keys)])
    }

    fn merge_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        total_num_groups: usize,
    ) -> Result<()> {
        self.groups = self.groups.max(total_num_groups);
        let (lists, keys) = (values[0].as_list::<i32>(), values[1].as_list::<i32>());
        let offsets = lists.value_offsets();
        let entries = group_indices
            .iter()
            .enumerate()
            .filter(|&(row, _)| lists.is_valid(row))
            .flat_map(|(row, &g)| {
                (offsets[row] as u32..offsets[row + 1] as u32).map(move |i| (g as u32, i))
            })
            .collect();
        self.keep(lists.values(), keys.values(), entries);
        Ok(())
    }

    /// Each row as its own group: one-element lists, NULL where filtered.
    fn convert_to_state(
        &self,
        values: &[ArrayRef],
        opt_filter: Option<&BooleanArray>,
    ) -> Result<Vec<ArrayRef>> {
        let offsets = OffsetBuffer::from_repeated_length(1, values[0].len());
        let nulls = opt_filter.map(|f| {
            NullBuffer::from_iter((0..f.len()).map(|row| f.is_valid(row) && f.value(row)))
        });
        let list = |item: &ArrayRef| -> ArrayRef {
            Arc::new(ListArray::new(
                Arc::new(Field::new_list_field(item.data_type().clone(), true)),
                offsets.clone(),
                Arc::clone(item),
                nulls.clone(),
            ))
        };
        Ok(vec![list(&values[0]), list(&values[1])])
    }

    fn size(&self) -> usize {
        self.batches
            .iter()
            .map(|(v, k)| v.get_array_memory_size() + k.get_array_memory_size())
            .sum::<usize>()
            + self
                .entries
                .iter()
                .map(|e| e.capacity() * size_of::<(u32, u32)>())
                .sum::<usize>()
    }
}

/// `first_by` and `last_by`: the first or the last of each group's rows in
/// `(key, value)` order.
#[derive(Debug)]
struct Pick(Groups, End);

impl Pick {
    fn pick(&self, values: &ListArray) -> Result<ArrayRef> {
        let offsets = values.value_offsets();
        let rows = UInt32Array::from_iter((0..values.len()).map(|g| {
            values.is_valid(g).then(|| match self.1 {
                End::First => offsets[g] as u32,
                End::Last => offsets[g + 1] as u32 - 1,
            })
        }));
        Ok(take(values.values(), &rows, None)?)
    }
}

impl GroupsAccumulator for Pick {
    fn update_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        opt_filter: Option<&BooleanArray>,
        total_num_groups: usize,
    ) -> Result<()> {
        self.0
            .update_batch(values, group_indices, opt_filter, total_num_groups)
    }

    fn evaluate(&mut self, emit_to: EmitTo) -> Result<ArrayRef> {
        let (values, _) = self.0.emit(self.0.emit_count(emit_to))?;
        self.pick(&values)
    }

    fn state(&mut self, emit_to: EmitTo) -> Result<Vec<ArrayRef>> {
        self.0.state(emit_to)
    }

    fn merge_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        total_num_groups: usize,
    ) -> Result<()> {
        self.0.merge_batch(values, group_indices, total_num_groups)
    }

    fn convert_to_state(
        &self,
        values: &[ArrayRef],
        opt_filter: Option<&BooleanArray>,
    ) -> Result<Vec<ArrayRef>> {
        self.0.convert_to_state(values, opt_filter)
    }

    fn size(&self) -> usize {
        self.0.size()
    }
}

/// The rows of one group and how its result is read from its sorted list.
trait OneGroupResult: GroupsAccumulator + std::fmt::Debug + Sync {
    fn groups(&mut self) -> &mut Groups;
    fn result(&self, values: &ListArray) -> Result<ScalarValue>;
}

impl OneGroupResult for Groups {
    fn groups(&mut self) -> &mut Groups {
        self
    }

    fn result(&self, values: &ListArray) -> Result<ScalarValue> {
        ScalarValue::try_from_array(values, 0)
    }
}

impl OneGroupResult for Pick {
    fn groups(&mut self) -> &mut Groups {
        &mut self.0
    }

    fn result(&self, values: &ListArray) -> Result<ScalarValue> {
        ScalarValue::try_from_array(&self.pick(values)?, 0)
    }
}

/// The same rows for one group: the accumulator DataFusion asks for
/// outside `GROUP BY`.
#[derive(Debug)]
struct OneGroup<G>(G);

impl<G: OneGroupResult> OneGroup<G> {
    /// The group's lists, its rows kept for later rows and calls (a window
    /// evaluates after every row).
    fn lists(&mut self) -> Result<(ListArray, ListArray)> {
        let groups = self.0.groups();
        groups.groups = 1;
        let (values, keys) = groups.emit(1)?;
        let entries = (0..values.values().len() as u32).map(|i| (0, i)).collect();
        groups.keep(values.values(), keys.values(), entries);
        groups.groups = 1;
        Ok((values, keys))
    }
}

impl<G: OneGroupResult + 'static> Accumulator for OneGroup<G> {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        let groups = vec![0; values[0].len()];
        self.0.update_batch(values, &groups, None, 1)
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        let (values, _) = self.lists()?;
        self.0.result(&values)
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        let (values, keys) = self.lists()?;
        Ok(vec![
            ScalarValue::try_from_array(&values, 0)?,
            ScalarValue::try_from_array(&keys, 0)?,
        ])
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        let groups = vec![0; states[0].len()];
        self.0.merge_batch(states, &groups, 1)
    }

    fn size(&self) -> usize {
        size_of::<Self>() + self.0.size()
    }
}
