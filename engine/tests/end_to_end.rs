//! Engine end to end: ingest through SQL, upserts, bad input, restarts.

use datafusion::arrow::array::AsArray;
use datafusion::arrow::util::pretty::pretty_format_batches;

use std::sync::Arc;

use bytes::Bytes;
use ordergraph_engine::*;

const HEADER: &str = "order_id,channel,ordered_at,account_id,phone,email,wechat_unionid,device_id,amount,status,ship_city,ship_address,ip,coupon\n";

fn ingest_csv(engine: &Engine, rows: &str) -> Result<IngestReport> {
    engine.ingest(
        "orders",
        Format::Csv,
        "test.csv",
        Bytes::from(format!("{HEADER}{rows}")),
    )
}

async fn strings(engine: &Arc<Engine>, sql: &str) -> Vec<String> {
    let batches = engine.query(sql).await.unwrap().collect().await.unwrap();
    let text = pretty_format_batches(&batches).unwrap().to_string();
    text.lines()
        .skip(3)
        .filter(|l| !l.starts_with('+'))
        .map(|l| {
            l.split('|')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join(",")
        })
        .collect()
}

#[tokio::test]
async fn ingest_upserts_and_every_order_gets_an_mcid() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::open(dir.path(), vec![]).unwrap();
    let first = ingest_csv(
        &engine,
        "1,tmall,2026-01-01T10:00:00+08:00,tb_1,138****5678,,,,10.00,created,,,,\n\
         1,jd,2026-01-01T11:00:00+08:00,jd_9,,,,,20.00,paid,,,,\n\
         2,shopify,2026-01-02T10:00:00+08:00,,+86 138-1234-5678,Li@QQ.com,,,30.00,paid,,,,\n\
         3,dealer,2026-01-03T10:00:00+08:00,,13812345678,,,,40.00,signed,,,,\n",
    )
    .unwrap();
    assert_eq!((first.inserted, first.updated, first.unchanged), (4, 0, 0));
    // The same order again changes nothing; a new status is a new version.
    let again = ingest_csv(
        &engine,
        "1,tmall,2026-01-01T10:00:00+08:00,tb_1,138****5678,,,,10.00,created,,,,\n\
         1,tmall,2026-01-01T10:00:00+08:00,tb_1,138****5678,,,,10.00,paid,,,,\n",
    )
    .unwrap();
    assert_eq!((again.inserted, again.updated, again.unchanged), (0, 1, 1));
    assert_eq!(
        strings(&engine, "select count(*) from orders").await,
        vec!["4"]
    );
    assert_eq!(
        strings(&engine, "select status from orders where channel='tmall'").await,
        vec!["paid"]
    );
    assert_eq!(
        strings(&engine, "select channel, version, status from order_versions where order_id='1' order by channel, version").await,
        vec!["jd,1,paid", "tmall,1,created", "tmall,2,paid"]
    );
    // shopify:2 and dealer:3 share a phone; everyone else is apart.
    assert_eq!(
        strings(&engine, "select count(distinct mcid) from orders").await,
        vec!["3"]
    );
    assert_eq!(
        strings(
            &engine,
            "select count(distinct mcid) from orders where order_id in ('2','3')"
        )
        .await,
        vec!["1"]
    );
    let evidence = strings(
        &engine,
        "select kind, value, rule from order_identifiers where order_id='2' order by kind",
    )
    .await;
    assert_eq!(
        evidence,
        vec!["email,li@qq.com,linked", "phone,+8613812345678,linked"]
    );
    let masked = strings(
        &engine,
        "select rule from order_identifiers where channel='tmall' and kind='phone'",
    )
    .await;
    assert_eq!(masked, vec!["masked"]);
}

#[tokio::test]
async fn a_bad_row_rejects_the_request_and_keeps_earlier_data() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::open(dir.path(), vec![]).unwrap();
    ingest_csv(
        &engine,
        "1,tmall,2026-01-01T10:00:00+08:00,,,,,,10.00,paid,,,,\n",
    )
    .unwrap();
    let err = ingest_csv(
        &engine,
        "2,tmall,2026-01-01T10:00:00+08:00,,,,,,10.00,paid,,,,\n3,tmall,not-a-time,,,,,,10.00,paid,,,,\n",
    )
    .unwrap_err();
    assert!(err.is_user_error());
    assert!(
        err.to_string().contains("line 3, column ordered_at"),
        "{err}"
    );
    assert_eq!(
        strings(&engine, "select order_id from orders").await,
        vec!["1"]
    );
}

/// A write the log cannot take fails with the operating system's reason
/// (here a directory where the log file goes; on a full disk, "No space
/// left on device"), and keeps what was accepted before it.
#[tokio::test]
async fn a_failed_log_write_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::open(dir.path(), vec![]).unwrap();
    ingest_csv(
        &engine,
        "1,tmall,2026-01-01T10:00:00+08:00,,,,,,10.00,paid,,,,\n",
    )
    .unwrap();
    let log = dir.path().join("orders/log");
    let next = std::fs::read_dir(&log).unwrap().count() + 1;
    std::fs::create_dir(log.join(format!("{next:020}.tmp"))).unwrap();
    let err = ingest_csv(
        &engine,
        "2,tmall,2026-01-01T10:00:00+08:00,,,,,,10.00,paid,,,,\n",
    )
    .unwrap_err();
    let mut chain = err.to_string();
    let mut cause = std::error::Error::source(&err);
    while let Some(c) = cause {
        chain = format!("{chain}: {c}");
        cause = c.source();
    }
    assert!(chain.contains(&format!("{next:020}.arrow")), "{chain}");
    assert!(chain.contains("Is a directory"), "{chain}");
    assert_eq!(
        strings(&engine, "select order_id from orders").await,
        vec!["1"]
    );
}

#[tokio::test]
async fn data_and_mcids_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let before = {
        let engine = Engine::open(dir.path(), vec![]).unwrap();
        ingest_csv(
            &engine,
            "1,shopify,2026-01-01T10:00:00+08:00,,,a@qq.com,,,10.00,paid,,,,\n",
        )
        .unwrap();
        ingest_csv(
            &engine,
            "2,shopify,2026-01-02T10:00:00+08:00,,13812345678,,,,10.00,paid,,,,\n",
        )
        .unwrap();
        ingest_csv(
            &engine,
            "3,shopify,2026-01-03T10:00:00+08:00,,13812345678,A@qq.com,,,10.00,paid,,,,\n",
        )
        .unwrap();
        let rows = strings(
            &engine,
            "select order_id, mcid from orders order by order_id",
        )
        .await;
        let aliases = strings(
            &engine,
            "select old_mcid, new_mcid, reason from mcid_aliases",
        )
        .await;
        assert_eq!(aliases.len(), 1, "orders 1 and 2 merged through order 3");
        (rows, aliases)
    };
    let engine = Engine::open(dir.path(), vec![]).unwrap();
    assert_eq!(
        strings(
            &engine,
            "select order_id, mcid from orders order by order_id"
        )
        .await,
        before.0
    );
    assert_eq!(
        strings(
            &engine,
            "select old_mcid, new_mcid, reason from mcid_aliases"
        )
        .await,
        before.1
    );
    assert_eq!(engine.customer_count(), 1);
}

#[tokio::test]
async fn queries_are_read_only() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::open(dir.path(), vec![]).unwrap();
    for sql in [
        "create table t(a int)",
        "insert into orders (order_id) values ('x')",
        "set datafusion.execution.batch_size = 1",
        "drop table orders",
    ] {
        let err = engine.query(sql).await.unwrap_err();
        assert!(err.is_user_error(), "{sql}: {err}");
    }
    let err = engine.query("select nope from orders").await.unwrap_err();
    assert!(err.is_user_error());
    let batches = engine
        .query("show functions like 'normalize_phone'")
        .await
        .unwrap()
        .collect()
        .await
        .unwrap();
    assert!(batches.iter().map(|b| b.num_rows()).sum::<usize>() > 0);
    let names = engine.query("select table_name from information_schema.tables where table_schema='public' order by 1").await.unwrap().collect().await.unwrap();
    let names: Vec<String> = names
        .iter()
        .flat_map(|b| {
            b.column(0)
                .as_string::<i32>()
                .iter()
                .map(|s| s.unwrap().to_string())
                .collect::<Vec<_>>()
        })
        .collect();
    for table in [
        "mcid_aliases",
        "order_identifiers",
        "order_versions",
        "orders",
        "shared_identifiers",
    ] {
        assert!(names.iter().any(|n| n == table), "{table} in {names:?}");
    }
    for def in table::tables() {
        assert!(
            names.iter().any(|n| n == def.name),
            "{} in {names:?}",
            def.name
        );
    }
}

#[tokio::test]
async fn unknown_table_and_torn_log_file() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::open(dir.path(), vec![]).unwrap();
    let err = engine
        .ingest("customers", Format::Csv, "x", Bytes::from_static(b"a\n1\n"))
        .unwrap_err();
    assert!(matches!(err, Error::UnknownTable(_)) && err.is_user_error());
    ingest_csv(
        &engine,
        "1,shopify,2026-01-01T10:00:00+08:00,,,,,,10.00,paid,,,,\n",
    )
    .unwrap();
    drop(engine);
    // An unfinished write (never acknowledged) is dropped at start-up.
    std::fs::write(
        dir.path().join("orders/log/00000000000000000002.tmp"),
        b"partial",
    )
    .unwrap();
    let engine = Engine::open(dir.path(), vec![]).unwrap();
    assert_eq!(engine.order_count(), 1);
    drop(engine);
    // A corrupt acknowledged file stops start-up with its name.
    std::fs::write(
        dir.path().join("orders/log/00000000000000000002.arrow"),
        b"garbage",
    )
    .unwrap();
    let err = Engine::open(dir.path(), vec![]).unwrap_err();
    assert!(
        err.to_string().contains("00000000000000000002.arrow"),
        "{err}"
    );
}

#[tokio::test]
async fn input_tables_ingest_idempotently_and_check_their_rules() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::open(dir.path(), vec![]).unwrap();
    let events = "refund_id,node,action,actor,actor_role,at,note\n\
                  R1,apply,enter,bot,system,2026-01-01T10:00:00+08:00,\n\
                  R1,risk_review,skip,li,group_lead,2026-01-01T11:00:00+08:00,low amount\n";
    let first = engine
        .ingest("refund_events", Format::Csv, "e.csv", Bytes::from(events))
        .unwrap();
    assert_eq!((first.inserted, first.unchanged), (2, 0));
    let again = engine
        .ingest("refund_events", Format::Csv, "e.csv", Bytes::from(events))
        .unwrap();
    assert_eq!((again.inserted, again.unchanged), (0, 2));
    let bad = "refund_id,node,action,actor,actor_role,at,note\nR2,risk_review,skip,li,group_lead,2026-01-01T11:00:00+08:00,\n";
    let err = engine
        .ingest("refund_events", Format::Csv, "e.csv", Bytes::from(bad))
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("line 2, column note: a value is required when action is skip"),
        "{err}"
    );
    let bad = "system,owner\nmainframe,ops\n";
    let err = engine
        .ingest("system_owners", Format::Csv, "o.csv", Bytes::from(bad))
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("not one of platform, erp, wms, crm"),
        "{err}"
    );
    drop(engine);
    let engine = Engine::open(dir.path(), vec![]).unwrap();
    assert_eq!(
        strings(
            &engine,
            "select node, action from refund_events order by at"
        )
        .await,
        vec!["apply,enter", "risk_review,skip"]
    );
}

#[tokio::test]
async fn report_clock_is_settable_per_query_and_by_configuration() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::open(dir.path(), vec![]).unwrap();
    let at = decode::parse_timestamp("2026-03-01T00:00:00Z").unwrap();
    let df = engine
        .query_at(
            "select now, drift_tolerance_seconds from report_config",
            Some(at),
        )
        .await
        .unwrap();
    let batches = df.collect().await.unwrap();
    let text = pretty_format_batches(&batches).unwrap().to_string();
    assert!(
        text.contains("2026-03-01T00:00:00Z") && text.contains("| 3 "),
        "{text}"
    );
    drop(engine);
    std::fs::write(
        dir.path().join(CONFIG_FILE),
        "[report]\nnow = \"2025-12-31T16:00:00Z\"\ndrift_tolerance_seconds = 5\n",
    )
    .unwrap();
    let engine = Engine::open(dir.path(), vec![]).unwrap();
    assert_eq!(
        strings(
            &engine,
            "select now, drift_tolerance_seconds from report_config"
        )
        .await,
        vec!["2025-12-31T16:00:00Z,5"]
    );
    drop(engine);
    std::fs::write(
        dir.path().join(CONFIG_FILE),
        "[report]\nnow = \"yesterday\"\n",
    )
    .unwrap();
    let err = Engine::open(dir.path(), vec![]).unwrap_err();
    assert!(err.to_string().contains("report.now"), "{err}");
}

#[tokio::test]
async fn dropped_files_are_ingested_once_and_bad_ones_quarantined() {
    use ordergraph_engine::source::{DirectorySource, FileOutcome};
    let dir = tempfile::tempdir().unwrap();
    let (data, inbox) = (dir.path().join("data"), dir.path().join("inbox"));
    let engine = Engine::open(&data, vec![]).unwrap();
    let mut source = DirectorySource::open(engine.clone(), &inbox).unwrap();
    let orders = inbox.join("orders");
    std::fs::create_dir_all(&orders).unwrap();
    let good = format!("{HEADER}1,tmall,2026-01-01T10:00:00+08:00,,13812345678,,,,1.00,paid,,,,\n");
    std::fs::write(orders.join("a.csv"), &good).unwrap();
    std::fs::write(
        orders.join("b.csv"),
        format!("{HEADER}2,tmall,2026-01-01T10:00:00+08:00,,,,,,1.001,paid,,,,\n"),
    )
    .unwrap();
    std::fs::write(orders.join("c.csv.tmp"), &good).unwrap();
    std::fs::write(orders.join("d.txt"), &good).unwrap();

    let outcomes = source.scan().unwrap();
    assert_eq!(outcomes.len(), 3, "{outcomes:?}");
    assert!(matches!(&outcomes[0], FileOutcome::Ingested { report, .. } if report.inserted == 1));
    let errors: Vec<&str> = outcomes[1..]
        .iter()
        .map(|o| match o {
            FileOutcome::Quarantined { error, .. } => error.as_str(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert!(errors[0].contains("line 2, column amount"), "{}", errors[0]);
    assert!(
        errors[1].contains("cannot tell the format"),
        "{}",
        errors[1]
    );
    let note = std::fs::read_to_string(orders.join("quarantine/b.csv.error.txt")).unwrap();
    assert!(note.contains("b.csv: line 2, column amount"), "{note}");
    let mut quarantined: Vec<String> = std::fs::read_dir(orders.join("quarantine"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    quarantined.sort();
    assert_eq!(
        quarantined,
        ["b.csv", "b.csv.error.txt", "d.txt", "d.txt.error.txt"],
        "the notes are written whole, with no temporary file left"
    );
    assert!(orders.join("done/a.csv").exists());
    assert!(orders.join("c.csv.tmp").exists(), "unfinished files wait");
    assert!(source.scan().unwrap().is_empty());

    // The process died after recording a.csv but before moving it: it is
    // found again, recognised, and not ingested again, also after a restart.
    std::fs::write(orders.join("a-again.csv"), &good).unwrap();
    drop(source);
    drop(engine);
    let engine = Engine::open(&data, vec![]).unwrap();
    let mut source = DirectorySource::open(engine.clone(), &inbox).unwrap();
    let outcomes = source.scan().unwrap();
    assert!(
        matches!(&outcomes[..], [FileOutcome::AlreadyIngested { .. }]),
        "{outcomes:?}"
    );
    assert!(orders.join("done/a-again.csv").exists());
    assert_eq!(
        strings(&engine, "select count(*) from orders").await,
        vec!["1"]
    );

    // Input tables are watched too.
    std::fs::create_dir_all(inbox.join("warehouses")).unwrap();
    std::fs::write(
        inbox.join("warehouses/w.csv"),
        "warehouse,orders_per_hour\nWH-SH,100\n",
    )
    .unwrap();
    assert_eq!(source.scan().unwrap().len(), 1);
    assert_eq!(
        strings(&engine, "select warehouse from warehouses").await,
        vec!["WH-SH"]
    );
}

/// Every order's MCID and every alias, as text, for comparing engines.
async fn identity_state(engine: &Arc<Engine>) -> (Vec<String>, Vec<String>) {
    (
        strings(
            engine,
            "select channel, order_id, mcid, status from orders order by channel, order_id",
        )
        .await,
        strings(
            engine,
            "select old_mcid, new_mcid, reason from mcid_aliases order by old_mcid, new_mcid",
        )
        .await,
    )
}

#[tokio::test]
async fn a_checkpoint_restores_the_same_state_and_compacts_the_log() {
    use ordergraph_datasets::{GenConfig, generate};
    let dataset = generate(&GenConfig {
        customers: 400,
        orders: 3_000,
        ..GenConfig::default()
    });
    let batches = dataset.to_record_batches(500).unwrap();
    let (first, rest) = batches.split_at(4);
    let dir = tempfile::tempdir().unwrap();
    let reference_dir = tempfile::tempdir().unwrap();
    let engine = Engine::open(dir.path(), vec![]).unwrap();
    let reference = Engine::open(reference_dir.path(), vec![]).unwrap();
    for b in first {
        engine.ingest_batches("orders", vec![b.clone()]).unwrap();
        reference.ingest_batches("orders", vec![b.clone()]).unwrap();
    }
    let owners = "system,owner\nwms,仓储物流部\n";
    for e in [&engine, &reference] {
        e.ingest("system_owners", Format::Csv, "o.csv", Bytes::from(owners))
            .unwrap();
    }
    let before = identity_state(&engine).await;
    let report = engine.checkpoint().unwrap();
    assert_eq!(report.orders, 2_000);
    let logs = |table: &str| {
        std::fs::read_dir(dir.path().join(table).join("log"))
            .unwrap()
            .count()
    };
    assert_eq!(
        (logs("orders"), logs("system_owners")),
        (0, 0),
        "the log is compacted"
    );
    drop(engine);

    let engine = Engine::open(dir.path(), vec![]).unwrap();
    assert_eq!(identity_state(&engine).await, before);
    // Later ingests, checkpointed or not, end where a never-checkpointed
    // engine ends.
    for (i, b) in rest.iter().enumerate() {
        engine.ingest_batches("orders", vec![b.clone()]).unwrap();
        reference.ingest_batches("orders", vec![b.clone()]).unwrap();
        if i == 0 {
            engine.checkpoint().unwrap();
        }
    }
    assert_eq!(
        identity_state(&engine).await,
        identity_state(&reference).await
    );
    drop(engine);
    let engine = Engine::open(dir.path(), vec![]).unwrap();
    assert_eq!(
        identity_state(&engine).await,
        identity_state(&reference).await
    );
    assert_eq!(
        strings(&engine, "select count(*) from order_versions").await,
        strings(&reference, "select count(*) from order_versions").await
    );
    assert_eq!(
        strings(&engine, "select owner from system_owners").await,
        vec!["仓储物流部"]
    );
    drop(engine);

    // A checkpoint left half-written is removed; a current one that cannot
    // be read stops start-up with its name.
    let unfinished = dir.path().join("checkpoint/tmp-000000000099");
    std::fs::create_dir_all(&unfinished).unwrap();
    std::fs::write(unfinished.join("orders.parquet"), b"garbage").unwrap();
    let engine = Engine::open(dir.path(), vec![]).unwrap();
    assert!(!unfinished.exists());
    drop(engine);
    let current = std::fs::read_to_string(dir.path().join("checkpoint/CURRENT")).unwrap();
    let state = dir
        .path()
        .join("checkpoint")
        .join(current.trim())
        .join("orders.state");
    let bytes = std::fs::read(&state).unwrap();
    std::fs::write(&state, &bytes[..bytes.len() / 2]).unwrap();
    let err = Engine::open(dir.path(), vec![]).unwrap_err().to_string();
    assert!(err.contains("is corrupt") && err.contains("cp-"), "{err}");
    std::fs::write(&state, &bytes).unwrap();

    // Another identity configuration: the checkpoint's orders are resolved
    // again under it, and nothing is lost.
    std::fs::write(
        dir.path().join(CONFIG_FILE),
        "[identity]\nmax_companions = 4\n",
    )
    .unwrap();
    let engine = Engine::open(dir.path(), vec![]).unwrap();
    assert_eq!(
        strings(&engine, "select count(*) from orders").await,
        vec!["3000"]
    );
}

/// Compaction run again and again while writers ingest orders and status
/// events: every checkpoint it writes restarts to the state a
/// never-compacted engine reaches.
#[tokio::test]
async fn compaction_never_stops_writers_and_restarts_to_the_same_state() {
    use ordergraph_datasets::{GenConfig, generate};
    let dataset = generate(&GenConfig {
        customers: 300,
        orders: 2_400,
        ..GenConfig::default()
    });
    let batches = dataset.to_record_batches(200).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let reference_dir = tempfile::tempdir().unwrap();
    let engine = Engine::open(dir.path(), vec![]).unwrap();
    let reference = Engine::open(reference_dir.path(), vec![]).unwrap();
    let status = |i: usize| {
        Bytes::from(format!(
            "channel,order_id,system,status_code,updated_at\ntmall,o{i},wms,shipped,2026-01-01T10:00:00+08:00\n"
        ))
    };
    for (i, b) in batches[..2].iter().enumerate() {
        for e in [&engine, &reference] {
            e.ingest_batches("orders", vec![b.clone()]).unwrap();
            e.ingest("status_events", Format::Csv, "s.csv", status(i))
                .unwrap();
        }
    }

    let writing = engine.clone();
    let rest = batches[2..].to_vec();
    let writer = std::thread::spawn(move || {
        for (i, b) in rest.into_iter().enumerate() {
            writing.ingest_batches("orders", vec![b]).unwrap();
            writing
                .ingest("status_events", Format::Csv, "s.csv", status(i + 2))
                .unwrap();
        }
    });
    // At least one compaction, however the threads are scheduled.
    let mut compactions = 0;
    loop {
        engine.compact().unwrap();
        compactions += 1;
        if writer.is_finished() {
            break;
        }
    }
    writer.join().unwrap();
    for (i, b) in batches[2..].iter().enumerate() {
        reference.ingest_batches("orders", vec![b.clone()]).unwrap();
        reference
            .ingest("status_events", Format::Csv, "s.csv", status(i + 2))
            .unwrap();
    }
    assert!(compactions > 0);
    let expected = identity_state(&reference).await;
    assert_eq!(identity_state(&engine).await, expected);
    drop(engine);
    let engine = Engine::open(dir.path(), vec![]).unwrap();
    assert_eq!(identity_state(&engine).await, expected);
    for sql in [
        "select count(*) from order_versions",
        "select count(*) from status_events",
    ] {
        assert_eq!(strings(&engine, sql).await, strings(&reference, sql).await);
    }
}

#[test]
fn one_engine_per_data_directory() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::open(dir.path(), vec![]).unwrap();
    let err = Engine::open(dir.path(), vec![]).unwrap_err().to_string();
    assert!(
        err.contains("in use by another ordergraph process"),
        "{err}"
    );
    drop(engine);
    Engine::open(dir.path(), vec![]).unwrap();
}

#[tokio::test]
async fn key_lookups_answer_like_a_scan() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::open(dir.path(), vec![]).unwrap();
    ingest_csv(
        &engine,
        "1,tmall,2026-01-01T10:00:00+08:00,,13812345678,,,,1.00,paid,,,,\n\
         1,jd,2026-01-01T10:00:00+08:00,,13812345678,,,,2.00,paid,,,,\n\
         2,jd,2026-01-02T10:00:00+08:00,,13912345678,,,,3.00,signed,,,,\n",
    )
    .unwrap();
    let scan: Vec<String> = strings(
        &engine,
        "select channel, order_id, amount, mcid from orders order by channel, order_id",
    )
    .await;
    for (sql, expected) in [
        (
            "select channel, order_id, amount, mcid from orders where channel = 'jd' and order_id = '1'",
            vec![scan[0].clone()],
        ),
        (
            "select channel, order_id, amount, mcid from orders where '1' = order_id and channel = 'tmall'",
            vec![scan[2].clone()],
        ),
        (
            "select channel, order_id, amount, mcid from orders where order_id = '1' order by channel",
            vec![scan[0].clone(), scan[2].clone()],
        ),
        (
            "select channel, order_id, amount, mcid from orders where channel = 'jd' and order_id = '1' and channel = 'tmall'",
            vec![],
        ),
        (
            "select channel, order_id, amount, mcid from orders where channel = 'jd' and order_id = '404'",
            vec![],
        ),
        (
            "select channel, order_id, amount, mcid from orders where channel = 'jd' and order_id = '2' and status = 'signed'",
            vec![scan[1].clone()],
        ),
    ] {
        assert_eq!(strings(&engine, sql).await, expected, "{sql}");
    }
}

#[tokio::test]
async fn concurrent_requests_committed_together_each_get_their_own_report() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::open(dir.path(), vec![]).unwrap();
    let statuses = ["created", "paid", "shipped", "signed"];
    let reports: Vec<IngestReport> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..8)
            .map(|t| {
                let engine = &engine;
                s.spawn(move || {
                    (0..25)
                        .map(|n| {
                            // Threads write the same 100 orders, so requests
                            // in one group update each other's orders.
                            let rows: String = (0..10)
                                .map(|k| {
                                    let id = (t * 7 + n * 3 + k) % 100;
                                    let status = statuses[(t + n + k) % 4];
                                    format!("o{id},tmall,2026-01-01T10:00:00+08:00,,,,,,1.00,{status},,,,\n")
                                })
                                .collect();
                            ingest_csv(engine, &rows).unwrap()
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    let total = |f: fn(&IngestReport) -> usize| reports.iter().map(f).sum::<usize>();
    assert_eq!(total(|r| r.rows), 8 * 25 * 10);
    assert_eq!(total(|r| r.inserted), 100, "each order is inserted once");
    assert!(
        reports
            .iter()
            .all(|r| r.rows == 10 && r.inserted + r.updated + r.unchanged == 10)
    );
    let versions = strings(&engine, "select count(*) from order_versions").await;
    let expected = total(|r| r.inserted) + total(|r| r.updated);
    assert_eq!(versions, vec![expected.to_string()]);
    assert_eq!(engine.order_count(), 100);
}

/// A data directory checkpointed before a table existed (an upgrade adds
/// `products`, `writeback_acks`, ...) opens with that table empty.
#[test]
fn a_checkpoint_from_before_a_table_existed_still_opens() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::open(dir.path(), vec![]).unwrap();
    ingest_csv(
        &engine,
        "1,shopify,2026-01-01T10:00:00+08:00,,,,,,10.00,paid,,,,\n",
    )
    .unwrap();
    engine.checkpoint().unwrap();
    drop(engine);
    // Make the checkpoint look older: no products in it.
    let checkpoint = std::fs::read_dir(dir.path().join("checkpoint"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.join("manifest.json").exists())
        .expect("a checkpoint");
    std::fs::remove_file(checkpoint.join("products.parquet")).unwrap();
    let manifest = checkpoint.join("manifest.json");
    let mut json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&manifest).unwrap()).unwrap();
    json["logs"].as_object_mut().unwrap().remove("products");
    std::fs::write(&manifest, json.to_string()).unwrap();

    let engine = Engine::open(dir.path(), vec![]).unwrap();
    assert_eq!(engine.order_count(), 1);
    let report = engine
        .ingest(
            "products",
            Format::Csv,
            "p.csv",
            Bytes::from("sku,name,category\nSKU-1,绿茶,食品\n"),
        )
        .unwrap();
    assert_eq!(report.inserted, 1);
}

/// Source positions are stored with the rows they delivered and come back
/// after a restart, from the log and after a checkpoint from its file; a
/// commit that changes nothing advances them too.
#[tokio::test]
async fn source_positions_are_stored_with_their_rows() {
    let dir = tempfile::tempdir().unwrap();
    let at = |pairs: &[(&str, i64)]| -> Positions {
        pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
    };
    let orders = |rows: &str| {
        decode::decode(
            &table::ORDERS,
            Format::Csv,
            "m",
            Bytes::from(format!("{HEADER}{rows}")),
        )
        .unwrap()
    };
    let events = "refund_id,node,action,actor,actor_role,at,note\n\
                  R1,apply,enter,bot,system,2026-01-01T10:00:00+08:00,\n";
    let row = "A1,shopify,2026-01-15T10:23:45+08:00,,13812345678,,,,199.00,paid,上海,,,\n";
    {
        let engine = Engine::open(dir.path(), vec![]).unwrap();
        assert!(engine.source_positions().is_empty());
        engine
            .ingest_batches_at("orders", orders(row), at(&[("k/orders/0", 5)]))
            .unwrap();
        let refund_def = table::table("refund_events").unwrap();
        let refund = decode::decode(refund_def, Format::Csv, "m", Bytes::from(events)).unwrap();
        engine
            .ingest_batches_at("refund_events", refund, at(&[("k/refunds/0", 3)]))
            .unwrap();
        // The same order again: nothing is written, the position moves.
        let report = engine
            .ingest_batches_at("orders", orders(row), at(&[("k/orders/0", 6)]))
            .unwrap();
        assert_eq!(report.unchanged, 1);
        assert_eq!(
            engine.source_positions(),
            at(&[("k/orders/0", 6), ("k/refunds/0", 3)])
        );
    }
    // From the log alone: the unchanged commit wrote nothing.
    let engine = Engine::open(dir.path(), vec![]).unwrap();
    assert_eq!(
        engine.source_positions(),
        at(&[("k/orders/0", 5), ("k/refunds/0", 3)])
    );
    let row2 = "A2,shopify,2026-01-16T10:23:45+08:00,,13812345679,,,,99.00,paid,上海,,,\n";
    engine
        .ingest_batches_at("orders", orders(row2), at(&[("k/orders/1", 9)]))
        .unwrap();
    engine.checkpoint().unwrap();
    drop(engine);
    let engine = Engine::open(dir.path(), vec![]).unwrap();
    assert_eq!(
        engine.source_positions(),
        at(&[("k/orders/0", 5), ("k/orders/1", 9), ("k/refunds/0", 3)])
    );
    assert_eq!(engine.order_count(), 2);
}
