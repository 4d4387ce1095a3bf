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
//! `array_agg_by` keeps each input batch once with a `(group, row)` pair per
//! row, as DataFusion's own unordered `array_agg` does, and sorts each
//! group's rows by the comparable row encoding of `(key, value)` only when
//! the results are built. `first_by` and `last_by` keep only each group's
//! best row so far, compared in the same encoding.

use std::sync::{Arc, OnceLock};

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, ListArray, UInt32Array, new_empty_array,
};
use datafusion::arrow::buffer::{NullBuffer, OffsetBuffer, ScalarBuffer};
use datafusion::arrow::compute::{SortOptions, interleave, take};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::arrow::row::{RowConverter, Rows, SortField};
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
        Ok(Box::new(OneGroup::new(Groups::new(&args)?, &args)?))
    }

    fn groups_accumulator_supported(&self, _args: AccumulatorArgs) -> bool {
        true
    }

    fn create_groups_accumulator(
        &self,
        args: AccumulatorArgs,
    ) -> Result<Box<dyn GroupsAccumulator>> {
        Ok(Box::new(Groups::new(&args)?))
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
        Ok(Box::new(OneGroup::new(Best::new(&args, self.end)?, &args)?))
    }

    fn groups_accumulator_supported(&self, _args: AccumulatorArgs) -> bool {
        true
    }

    fn create_groups_accumulator(
        &self,
        args: AccumulatorArgs,
    ) -> Result<Box<dyn GroupsAccumulator>> {
        Ok(Box::new(Best::new(&args, self.end)?))
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

/// Each row as its own group, for both aggregates: one-element lists, NULL
/// where filtered.
fn convert_to_state(
    values: &[ArrayRef],
    opt_filter: Option<&BooleanArray>,
) -> Result<Vec<ArrayRef>> {
    let offsets = OffsetBuffer::from_repeated_length(1, values[0].len());
    let nulls = opt_filter
        .map(|f| NullBuffer::from_iter((0..f.len()).map(|row| f.is_valid(row) && f.value(row))));
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

/// The rows of every group: each input batch's value and key columns, and
/// a `(group, row)` pair per row kept.
#[derive(Debug)]
struct Groups {
    value_type: DataType,
    key_type: DataType,
    batches: Vec<(ArrayRef, ArrayRef)>,
    entries: Vec<Vec<(u32, u32)>>,
    groups: usize,
}

impl Groups {
    fn new(args: &AccumulatorArgs) -> Result<Self> {
        let [value, key] = args.expr_fields else {
            return plan_err!("{} takes a value and a key", args.name);
        };
        Ok(Self {
            value_type: value.data_type().clone(),
            key_type: key.data_type().clone(),
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
        let converter = order_converter(&self.key_type, &self.value_type)?;
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
        convert_to_state(values, opt_filter)
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

/// `first_by` and `last_by`: of each group, only the row first or last in
/// `(key, value)` order so far, compared as encoded rows. Its state is that
/// row as a one-element list of each (the lists `array_agg_by` keeps).
#[derive(Debug)]
struct Best {
    end: End,
    value_type: DataType,
    key_type: DataType,
    converter: RowConverter,
    /// Batches holding a group's best row: values, keys, and `(key,
    /// value)` encoded.
    batches: Vec<(ArrayRef, ArrayRef, Rows)>,
    /// Each group's best row as `(batch, row)`; `NONE` before its first.
    best: Vec<(u32, u32)>,
}

/// A group without a row yet.
const NONE: (u32, u32) = (u32::MAX, u32::MAX);

impl Best {
    fn new(args: &AccumulatorArgs, end: End) -> Result<Self> {
        let [value, key] = args.expr_fields else {
            return plan_err!("{} takes a value and a key", args.name);
        };
        let (value_type, key_type) = (value.data_type().clone(), key.data_type().clone());
        Ok(Self {
            end,
            converter: order_converter(&key_type, &value_type)?,
            value_type,
            key_type,
            batches: Vec::new(),
            best: Vec::new(),
        })
    }

    /// Offers `(group, row)` candidates of `value` and `key`; rows with a
    /// NULL key are not candidates. The batch is kept if a group's best
    /// row is now in it.
    fn offer(
        &mut self,
        value: &ArrayRef,
        key: &ArrayRef,
        candidates: impl Iterator<Item = (usize, usize)>,
        total_num_groups: usize,
    ) -> Result<()> {
        self.best.resize(total_num_groups, NONE);
        let rows = self
            .converter
            .convert_columns(&[Arc::clone(key), Arc::clone(value)])?;
        let batch = self.batches.len() as u32;
        let mut taken = false;
        for (g, row) in candidates {
            if key.is_null(row) {
                continue;
            }
            let (b, r) = self.best[g];
            let better = b == u32::MAX || {
                let held = if b == batch {
                    &rows
                } else {
                    &self.batches[b as usize].2
                };
                let order = rows.row(row).cmp(&held.row(r as usize));
                match self.end {
                    End::First => order.is_lt(),
                    End::Last => order.is_gt(),
                }
            };
            if better {
                self.best[g] = (batch, row as u32);
                taken = true;
            }
        }
        if taken {
            self.batches
                .push((Arc::clone(value), Arc::clone(key), rows));
        }
        Ok(())
    }

    /// The values of the `emit` groups' best rows (and with `keys`, their
    /// keys), one per group that has one, and which groups have one; later
    /// groups are renumbered from 0.
    fn emit(
        &mut self,
        emit: EmitTo,
        keys: bool,
    ) -> Result<(ArrayRef, Option<ArrayRef>, NullBuffer)> {
        let best = emit.take_needed(&mut self.best);
        let valid = NullBuffer::from_iter(best.iter().map(|&b| b != NONE));
        let picks: Vec<(usize, usize)> = best
            .iter()
            .filter(|&&b| b != NONE)
            .map(|&(b, r)| (b as usize, r as usize))
            .collect();
        let values = self.gather(&picks, false)?;
        let keys = keys.then(|| self.gather(&picks, true)).transpose()?;
        if self.best.is_empty() {
            self.batches.clear();
        }
        Ok((values, keys, valid))
    }

    /// The values (or with `keys`, the keys) of `picks`.
    fn gather(&self, picks: &[(usize, usize)], keys: bool) -> Result<ArrayRef> {
        if picks.is_empty() {
            let data_type = if keys {
                &self.key_type
            } else {
                &self.value_type
            };
            return Ok(new_empty_array(data_type));
        }
        let columns: Vec<&dyn Array> = self
            .batches
            .iter()
            .map(|(v, k, _)| if keys { k.as_ref() } else { v.as_ref() })
            .collect();
        Ok(interleave(&columns, picks)?)
    }
}

/// Compares `(key, value)` pairs as `array_agg_by` orders them: ascending,
/// NULLs last.
fn order_converter(key_type: &DataType, value_type: &DataType) -> Result<RowConverter> {
    let nulls_last = SortOptions {
        descending: false,
        nulls_first: false,
    };
    Ok(RowConverter::new(vec![
        SortField::new_with_options(key_type.clone(), nulls_last),
        SortField::new_with_options(value_type.clone(), nulls_last),
    ])?)
}

/// `items` (one per group that has one) as a list per group, NULL where
/// `valid` says a group has none.
fn one_element_lists(items: ArrayRef, valid: &NullBuffer) -> ListArray {
    let lengths = valid.iter().map(usize::from);
    ListArray::new(
        Arc::new(Field::new_list_field(items.data_type().clone(), true)),
        OffsetBuffer::from_lengths(lengths),
        items,
        Some(valid.clone()),
    )
}

impl GroupsAccumulator for Best {
    fn update_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        opt_filter: Option<&BooleanArray>,
        total_num_groups: usize,
    ) -> Result<()> {
        let candidates = group_indices
            .iter()
            .enumerate()
            .filter(|&(row, _)| opt_filter.is_none_or(|f| f.is_valid(row) && f.value(row)))
            .map(|(row, &g)| (g, row));
        self.offer(&values[0], &values[1], candidates, total_num_groups)
    }

    fn evaluate(&mut self, emit_to: EmitTo) -> Result<ArrayRef> {
        let (values, _, valid) = self.emit(emit_to, false)?;
        if values.len() == valid.len() {
            return Ok(values);
        }
        // Spread over the groups, NULL for a group without a row.
        let mut next = 0;
        let at = UInt32Array::from_iter(valid.iter().map(|has| {
            has.then(|| {
                next += 1;
                next - 1
            })
        }));
        Ok(take(&values, &at, None)?)
    }

    fn state(&mut self, emit_to: EmitTo) -> Result<Vec<ArrayRef>> {
        let (values, keys, valid) = self.emit(emit_to, true)?;
        let keys = keys.expect("keys were asked for");
        Ok(vec![
            Arc::new(one_element_lists(values, &valid)),
            Arc::new(one_element_lists(keys, &valid)),
        ])
    }

    fn merge_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        total_num_groups: usize,
    ) -> Result<()> {
        let (lists, keys) = (values[0].as_list::<i32>(), values[1].as_list::<i32>());
        let offsets = lists.value_offsets();
        let candidates = group_indices
            .iter()
            .enumerate()
            .filter(|&(row, _)| lists.is_valid(row))
            .flat_map(|(row, &g)| {
                (offsets[row] as usize..offsets[row + 1] as usize).map(move |i| (g, i))
            });
        self.offer(lists.values(), keys.values(), candidates, total_num_groups)
    }

    /// Each row as its own group: one-element lists, NULL where filtered.
    fn convert_to_state(
        &self,
        values: &[ArrayRef],
        opt_filter: Option<&BooleanArray>,
    ) -> Result<Vec<ArrayRef>> {
        convert_to_state(values, opt_filter)
    }

    fn size(&self) -> usize {
        self.batches
            .iter()
            .map(|(v, k, rows)| v.get_array_memory_size() + k.get_array_memory_size() + rows.size())
            .sum::<usize>()
            + self.best.capacity() * size_of::<(u32, u32)>()
    }
}

/// How the one group's result is read from its state's value list.
trait OneGroupResult: GroupsAccumulator + std::fmt::Debug + Sync {
    fn result(&self, values: &ListArray) -> Result<ScalarValue>;
}

impl OneGroupResult for Groups {
    fn result(&self, values: &ListArray) -> Result<ScalarValue> {
        ScalarValue::try_from_array(values, 0)
    }
}

impl OneGroupResult for Best {
    fn result(&self, values: &ListArray) -> Result<ScalarValue> {
        if values.is_null(0) {
            return ScalarValue::try_from(&self.value_type);
        }
        ScalarValue::try_from_array(values.values(), values.value_offsets()[0] as usize)
    }
}

/// A grouped accumulator used for one group: the accumulator DataFusion
/// asks for outside `GROUP BY`.
#[derive(Debug)]
struct OneGroup<G>(G);

impl<G: OneGroupResult> OneGroup<G> {
    /// `accumulator` holding the one group, empty.
    fn new(mut accumulator: G, args: &AccumulatorArgs) -> Result<Self> {
        let empty: Vec<ArrayRef> = args
            .expr_fields
            .iter()
            .map(|f| new_empty_array(f.data_type()))
            .collect();
        accumulator.update_batch(&empty, &[], None, 1)?;
        Ok(Self(accumulator))
    }

    /// The group's state, kept for later rows and calls (a window evaluates
    /// after every row).
    fn state_lists(&mut self) -> Result<Vec<ArrayRef>> {
        let state = self.0.state(EmitTo::All)?;
        self.0.merge_batch(&state, &[0], 1)?;
        Ok(state)
    }
}

impl<G: OneGroupResult + 'static> Accumulator for OneGroup<G> {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        let groups = vec![0; values[0].len()];
        self.0.update_batch(values, &groups, None, 1)
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        let state = self.state_lists()?;
        self.0.result(state[0].as_list::<i32>())
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        self.state_lists()?
            .iter()
            .map(|list| ScalarValue::try_from_array(list, 0))
            .collect()
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        let groups = vec![0; states[0].len()];
        self.0.merge_batch(states, &groups, 1)
    }

    fn size(&self) -> usize {
        size_of::<Self>() + self.0.size()
    }
}

#[cfg(test)]
mod tests {
    use datafusion::arrow::array::{Int64Array, RecordBatch, StringArray};
    use datafusion::arrow::datatypes::Schema;
    use datafusion::arrow::util::pretty::pretty_format_batches;
    use datafusion::datasource::MemTable;
    use datafusion::logical_expr::AggregateUDF;
    use datafusion::prelude::{SessionConfig, SessionContext};

    use super::*;

    /// Rows over many small groups, in batches and partitions, with equal
    /// keys, NULL keys and NULL values, as a table `t(g, k, v)`.
    fn context(rows: i64, groups: i64) -> SessionContext {
        let schema = Arc::new(Schema::new(vec![
            Field::new("g", DataType::Int64, false),
            Field::new("k", DataType::Int64, true),
            Field::new("v", DataType::Utf8, true),
        ]));
        let batch = |from: i64, to: i64| {
            let mix = |i: i64| (i.wrapping_mul(2_654_435_761)) % 1_000_003;
            let g = Int64Array::from_iter_values((from..to).map(|i| mix(i) % groups));
            let k = Int64Array::from_iter(
                (from..to).map(|i| (mix(i + 7) % 11 != 0).then(|| mix(i + 3) % 5)),
            );
            let v = StringArray::from_iter(
                (from..to).map(|i| (mix(i + 5) % 13 != 0).then(|| format!("v{}", mix(i + 1) % 9))),
            );
            RecordBatch::try_new(schema.clone(), vec![Arc::new(g), Arc::new(k), Arc::new(v)])
                .unwrap()
        };
        let partitions: Vec<Vec<RecordBatch>> = (0..2)
            .map(|p| {
                (0..rows / 2)
                    .step_by(4096)
                    .map(|at| {
                        let from = p * rows / 2 + at;
                        batch(from, (from + 4096).min((p + 1) * rows / 2))
                    })
                    .collect()
            })
            .collect();
        // A low probe threshold, so the partial aggregation also passes rows
        // on as states (`convert_to_state`).
        let config = SessionConfig::new().with_target_partitions(2).set_usize(
            "datafusion.execution.skip_partial_aggregation_probe_rows_threshold",
            1000,
        );
        let ctx = SessionContext::new_with_config(config);
        ctx.register_table(
            "t",
            Arc::new(MemTable::try_new(schema, partitions).unwrap()),
        )
        .unwrap();
        ctx.register_udaf(AggregateUDF::from(PickByFunc::first()));
        ctx.register_udaf(AggregateUDF::from(PickByFunc::last()));
        ctx
    }

    async fn sorted(ctx: &SessionContext, sql: &str) -> String {
        let batches = ctx.sql(sql).await.unwrap().collect().await.unwrap();
        pretty_format_batches(&batches).unwrap().to_string()
    }

    #[tokio::test]
    async fn first_by_and_last_by_pick_the_rows_row_number_picks() {
        for (rows, groups) in [(200_000, 60_000), (50_000, 7)] {
            let ctx = context(rows, groups);
            for (pick, order) in [
                ("first_by", "k ASC, v ASC NULLS LAST"),
                ("last_by", "k DESC, v DESC NULLS FIRST"),
            ] {
                let ours = sorted(
                    &ctx,
                    &format!(
                        "SELECT g, {pick}(v, k) AS v, {pick}(v, k) FILTER (WHERE g % 3 = 0) AS f \
                         FROM t GROUP BY g ORDER BY g"
                    ),
                )
                .await;
                let windows = sorted(
                    &ctx,
                    &format!(
                        "WITH ranked AS ( \
                             SELECT g, v, row_number() OVER (PARTITION BY g ORDER BY {order}) AS n \
                             FROM t WHERE k IS NOT NULL) \
                         SELECT a.g, r.v, CASE WHEN a.g % 3 = 0 THEN r.v END AS f \
                         FROM (SELECT DISTINCT g FROM t) a \
                         LEFT JOIN ranked r ON r.g = a.g AND r.n = 1 ORDER BY a.g"
                    ),
                )
                .await;
                assert!(
                    ours == windows,
                    "{pick} over {rows} rows in {groups} groups differs"
                );
            }
            // Without GROUP BY, and as a window.
            let one = sorted(
                &ctx,
                "SELECT first_by(v, k) AS a, last_by(v, k) AS b FROM t WHERE g = 3",
            )
            .await;
            let windows = sorted(
                &ctx,
                "SELECT (SELECT v FROM t WHERE g = 3 AND k IS NOT NULL \
                         ORDER BY k, v NULLS LAST LIMIT 1) AS a, \
                        (SELECT v FROM t WHERE g = 3 AND k IS NOT NULL \
                         ORDER BY k DESC, v DESC NULLS FIRST LIMIT 1) AS b",
            )
            .await;
            assert_eq!(one, windows);
        }
    }
}
