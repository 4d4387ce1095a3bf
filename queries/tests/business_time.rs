//! `[report] timezone` decides where the views cut months: the same event
//! falls in June in Beijing and in May in UTC.

use datafusion::arrow::array::AsArray;
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::DataType;
use ordergraph_engine::{Engine, Format};

async fn month_of_an_event_at_1630_utc_on_31_may(timezone: Option<&str>) -> String {
    let dir = tempfile::tempdir().unwrap();
    if let Some(zone) = timezone {
        std::fs::write(
            dir.path().join("ordergraph.toml"),
            format!("[report]\ntimezone = \"{zone}\"\n"),
        )
        .unwrap();
    }
    let engine = Engine::open(dir.path(), vec![ordergraph_queries::hook()]).unwrap();
    engine
        .ingest(
            "status_events",
            Format::Csv,
            "e.csv",
            "channel,order_id,system,status_code,updated_at,confirmed_at,operator\n\
             jd,F,platform,paid,2026-05-31T16:30:00Z,,bot\n"
                .into(),
        )
        .unwrap();
    let batches = engine
        .query("SELECT month FROM drift_rate_monthly")
        .await
        .unwrap()
        .collect()
        .await
        .unwrap();
    let month = cast(batches[0].column(0), &DataType::Utf8).unwrap();
    month.as_string::<i32>().value(0).to_string()
}

#[tokio::test]
async fn the_configured_zone_cuts_the_months() {
    assert_eq!(
        month_of_an_event_at_1630_utc_on_31_may(None).await,
        "2026-06"
    );
    assert_eq!(
        month_of_an_event_at_1630_utc_on_31_may(Some("Asia/Shanghai")).await,
        "2026-06"
    );
    assert_eq!(
        month_of_an_event_at_1630_utc_on_31_may(Some("UTC")).await,
        "2026-05"
    );
    assert_eq!(
        month_of_an_event_at_1630_utc_on_31_may(Some("-05:00")).await,
        "2026-05"
    );
}

#[test]
fn an_unknown_zone_stops_the_engine_from_opening() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("ordergraph.toml"),
        "[report]\ntimezone = \"Mars/Olympus_Mons\"\n",
    )
    .unwrap();
    let Err(error) = Engine::open(dir.path(), vec![ordergraph_queries::hook()]) else {
        panic!("an unknown zone is refused");
    };
    let error = error.to_string();
    assert!(
        error.contains("report.timezone") && error.contains("Mars"),
        "{error}"
    );
}
