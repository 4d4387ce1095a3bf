//! The table a maintained view is read through: its current rows, or its
//! SQL for a session that recomputes.

use std::sync::{Arc, Weak};

use async_trait::async_trait;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::{Session, TableProvider};
use datafusion::common::DataFusionError;
use datafusion::error::Result;
use datafusion::logical_expr::{Expr, TableProviderFilterPushDown, TableType};
use datafusion::physical_plan::ExecutionPlan;

use super::{Maintained, MaintainedView, Restriction, ViewReads};
use crate::provider::{equality_literal, scan_batches};

pub(super) struct MaintainedTable {
    view: Arc<MaintainedView>,
    maintained: Weak<Maintained>,
}

impl MaintainedTable {
    pub(super) fn new(view: Arc<MaintainedView>, maintained: Weak<Maintained>) -> Self {
        Self { view, maintained }
    }

    pub(super) fn view(&self) -> &Arc<MaintainedView> {
        &self.view
    }
}

impl std::fmt::Debug for MaintainedTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MaintainedTable")
            .field("view", &self.view.name)
            .finish()
    }
}

#[async_trait]
impl TableProvider for MaintainedTable {
    fn schema(&self) -> SchemaRef {
        self.view.schema.clone()
    }

    fn table_type(&self) -> TableType {
        TableType::View
    }

    fn supports_filters_pushdown(
        &self,
        filters: &[&Expr],
    ) -> Result<Vec<TableProviderFilterPushDown>> {
        // A recomputing scan pushes them into the view's SQL; a scan of the
        // current rows leaves them to the filter above it.
        Ok(vec![TableProviderFilterPushDown::Inexact; filters.len()])
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let recompute = state
            .config()
            .get_extension::<ViewReads>()
            .is_some_and(|r| r.recompute);
        if recompute || self.view.is_released() {
            return self.view.view.scan(state, projection, filters, limit).await;
        }
        let maintained = self
            .maintained
            .upgrade()
            .ok_or_else(|| DataFusionError::Execution("the engine has been closed".into()))?;
        let engine = maintained.engine()?;
        self.view.bring_up_to_date(&engine, &maintained).await?;
        // `key = 'value'` for every key column: the key's rows alone.
        let key: Option<Vec<&str>> = self
            .view
            .key
            .iter()
            .map(|k| filters.iter().find_map(|f| equality_literal(f, k)))
            .collect();
        let restriction = state.config().get_extension::<Restriction>();
        // A refresh restricted by this view's own key reads its keys' rows.
        let restricted_keys = match &restriction {
            Some(r) => r.keys_as(&self.view.key, &self.view.schema)?,
            None => None,
        };
        // Rows found by the restriction's own keys need no further cut.
        let found = match (key, restricted_keys) {
            (Some(key), _) => self.view.lookup(&key)?.map(|rows| (rows, false)),
            (None, Some(keys)) => self.view.lookup_keys(&keys)?.map(|rows| (rows, true)),
            (None, None) => self.view.snapshot().map(|rows| (rows.to_vec(), false)),
        };
        let Some((rows, cut)) = found else {
            // Released since it was brought up to date.
            return self.view.view.scan(state, projection, filters, limit).await;
        };
        let rows = match restriction {
            Some(r) if !cut => r.apply(&self.view.schema, rows)?,
            _ => rows,
        };
        scan_batches(state, &self.view.schema, &rows, projection)
    }
}
