//! Holds that hold: an order a fraud rule holds (`order_risk.held`) is
//! recorded in `holds_placed` when the server first sees it, waits in the
//! review queue (`order_holds`) until a reviewer releases or confirms it,
//! and meanwhile cannot be force-synced to shipped.

use std::sync::Arc;
use std::time::Duration;

use ordergraph_engine::{Engine, SessionOptions};
use serde_json::Value;
use tokio::sync::watch;

use crate::encode::{Encoding, encode};

/// How often `serve` records new holds; the review queue and the
/// force-sync check see a new hold at once either way.
pub const RECORD_INTERVAL: Duration = Duration::from_secs(30);

/// Holds `order_risk` places that are not recorded yet.
const NEW_HOLDS: &str = "SELECT r.channel, r.order_id, r.rule, r.detail \
     FROM order_risk r \
     LEFT JOIN holds_placed p \
       ON p.channel = r.channel AND p.order_id = r.order_id AND p.rule = r.rule \
     WHERE r.held AND p.order_id IS NULL";

/// Records the holds placed since the last call; how many.
pub(crate) async fn record_new(engine: &Arc<Engine>) -> anyhow::Result<usize> {
    let frame = engine
        .query_with(NEW_HOLDS, SessionOptions::default())
        .await?;
    let schema = frame.schema().inner().clone();
    let batches = frame.collect().await?;
    if batches.iter().all(|b| b.num_rows() == 0) {
        return Ok(0);
    }
    let rows: Vec<Value> = serde_json::from_slice(&encode(Encoding::Json, &schema, &batches)?)?;
    Ok(crate::record(engine, "holds_placed", &rows).await?)
}

/// Records new holds every [`RECORD_INTERVAL`] until `stopped`.
pub async fn record_periodically(engine: Arc<Engine>, mut stopped: watch::Receiver<bool>) {
    loop {
        match record_new(&engine).await {
            Ok(0) => {}
            Ok(placed) => tracing::info!(placed, "orders held for review"),
            Err(error) => tracing::warn!(error = format!("{error:#}"), "recording holds failed"),
        }
        tokio::select! {
            _ = stopped.changed() => return,
            _ = tokio::time::sleep(RECORD_INTERVAL) => {}
        }
    }
}
