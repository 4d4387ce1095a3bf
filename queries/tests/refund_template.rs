//! The refund template's generated view, from a template file in a real
//! data directory: conditions select refunds, disabled nodes apply to none,
//! and a condition naming an unknown column stops the engine from opening.

use std::sync::Arc;

use datafusion::arrow::array::AsArray;
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::DataType;
use ordergraph_engine::{Engine, Format, TEMPLATE_FILE};

/// The one text value `sql` returns.
async fn text(engine: &Arc<Engine>, sql: &str) -> String {
    let batches = engine.query(sql).await.unwrap().collect().await.unwrap();
    let column = cast(batches[0].column(0), &DataType::Utf8).unwrap();
    column.as_string::<i32>().value(0).to_string()
}

#[tokio::test]
async fn the_template_applies_its_conditions_to_each_refund_as_last_sent() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join(TEMPLATE_FILE),
        "[[node]]\nname = \"apply\"\ntimeout_hours = 24\napprover_role = \"customer_service\"\n\
         [[node]]\nname = \"director_review\"\ntimeout_hours = 8\napprover_role = \"director\"\n\
         condition = \"amount >= 1000 AND member_level <> '钻石'\"\n\
         [[node]]\nname = \"audit\"\nenabled = false\ntimeout_hours = 8\napprover_role = \"audit\"\n",
    )
    .unwrap();
    let engine = Engine::open(dir.path(), vec![ordergraph_queries::hook()]).unwrap();
    let refunds = |rows: &str| {
        format!(
            "refund_id,channel,order_id,requested_at,amount,reason,sku_category,member_level,cross_border\n{rows}"
        )
    };
    // R2 is first sent at 1,000 and then corrected to 999.99: the latest
    // arrival is the refund.
    for rows in [
        "R1,jd,1,2026-01-01T00:00:00Z,1000.00,,,金卡,\n\
         R2,jd,2,2026-01-01T00:00:00Z,1000.00,,,金卡,\n\
         R3,jd,3,2026-01-01T00:00:00Z,5000.00,,,钻石,\n\
         R4,jd,4,2026-01-01T00:00:00Z,,,,,\n",
        "R2,jd,2,2026-01-01T00:00:00Z,999.99,,,金卡,\n",
    ] {
        engine
            .ingest("refunds", Format::Csv, "r.csv", refunds(rows).into())
            .unwrap();
    }
    assert_eq!(
        text(
            &engine,
            "SELECT string_agg(refund_id || ':' || node, ' ' ORDER BY refund_id, position) \
             FROM refund_template_nodes"
        )
        .await,
        "R1:apply R1:director_review R2:apply R3:apply R4:apply"
    );
    assert_eq!(
        text(
            &engine,
            "SELECT string_agg(position || ':' || node || ':' || enabled, ' ' ORDER BY position) \
             FROM refund_nodes"
        )
        .await,
        "1:apply:true 2:director_review:true 3:audit:false"
    );
    drop(engine);
    std::fs::write(
        dir.path().join(TEMPLATE_FILE),
        "[[node]]\nname = \"apply\"\ntimeout_hours = 24\napprover_role = \"cs\"\ncondition = \"vip_level > 3\"\n",
    )
    .unwrap();
    let err = Engine::open(dir.path(), vec![ordergraph_queries::hook()])
        .unwrap_err()
        .to_string();
    assert!(
        err.contains(TEMPLATE_FILE) && err.contains("vip_level"),
        "{err}"
    );
}
