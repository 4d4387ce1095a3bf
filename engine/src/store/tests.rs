use super::*;
use crate::decode::{Format, decode};

fn batch(rows: &str) -> Vec<RecordBatch> {
    let csv = format!("order_id,channel,ordered_at\n{rows}");
    decode(&ORDERS, Format::Csv, "t", bytes::Bytes::from(csv)).unwrap()
}

/// Customers of every order: `(channel, order_id)` sets, one per MCID.
fn partition(store: &OrderStore) -> Vec<Vec<(String, String)>> {
    let mut by: HashMap<u64, Vec<(String, String)>> = HashMap::default();
    for order in 0..store.len() as u32 {
        let mcid = store
            .graph()
            .mcid_of_order(order)
            .expect("every order has an MCID");
        by.entry(mcid)
            .or_default()
            .push(store.order_key_of(order).unwrap());
    }
    let mut parts: Vec<_> = by.into_values().collect();
    for p in &mut parts {
        p.sort();
    }
    parts.sort();
    parts
}

#[test]
fn orders_arriving_in_time_order_resolve_as_all_at_once() {
    use ordergraph_datasets::{GenConfig, generate};
    let dataset = generate(&GenConfig {
        customers: 1_500,
        orders: 6_000,
        seed: 3,
        ..GenConfig::default()
    });
    let mut rows = dataset.rows.clone();
    rows.sort_by_key(|r| r.ordered_at);
    let in_time = ordergraph_datasets::Dataset { rows }
        .to_record_batches(50)
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut at_once = OrderStore::open(dir.path(), IdentityConfig::default()).unwrap();
    let prepared = at_once.prepare(in_time.clone(), 0).unwrap();
    at_once.apply(prepared);
    let dir = tempfile::tempdir().unwrap();
    let mut streamed = OrderStore::open(dir.path(), IdentityConfig::default()).unwrap();
    let mut joined = 0;
    for (i, batch) in in_time.into_iter().enumerate() {
        let prepared = streamed.prepare(vec![batch], i as i64).unwrap();
        joined += streamed.apply(prepared).joined;
    }
    // Most orders of people seen before join without re-resolving; the
    // customers are the same either way.
    assert!(joined > 1_000, "{joined} orders joined directly");
    assert_eq!(partition(&streamed), partition(&at_once));
}

#[test]
fn a_pending_hash_shared_by_two_keys_keeps_both() {
    let mut pending = PendingKeys::with_capacity(4);
    let entry = |position, order| Pending {
        position,
        order,
        version: 1,
    };
    pending.add(7, entry(0, 10));
    pending.add(7, entry(1, 11));
    let (_, at) = pending.find(7, |p| p.order == 10).unwrap();
    pending.replace(at, entry(2, 10));
    assert_eq!(pending.find(7, |p| p.order == 10).unwrap().0.position, 2);
    assert_eq!(pending.find(7, |p| p.order == 11).unwrap().0.position, 1);
    assert!(pending.find(7, |p| p.order == 12).is_none());
    assert!(pending.find(8, |_| true).is_none());
    assert_eq!(pending.last_positions(), vec![1, 2]);
}

#[test]
fn rows_compare_by_every_column_and_null_is_not_a_value() {
    let csv = "order_id,channel,ordered_at,phone,amount\n\
               a,jd,2026-01-01T00:00:00Z,,1.00\n\
               a,jd,2026-01-01T00:00:00Z,,1.00\n\
               a,jd,2026-01-01T00:00:00Z,x,1.00\n\
               a,jd,2026-01-01T00:00:00Z,,1.01\n\
               a,jd,2026-01-01T00:00:01Z,,1.00\n";
    let b = &decode(&ORDERS, Format::Csv, "t", bytes::Bytes::from(csv)).unwrap()[0];
    assert!(same_row(b, 0, b, 1));
    for other in 2..5 {
        assert!(!same_row(b, 0, b, other), "row {other}");
    }
}

#[test]
fn key_hashes_match_the_streaming_hash_at_any_length() {
    let lengths = [0, 1, 100, 126, 127, 128, 300];
    let ids: Vec<String> = (0..60_000)
        .map(|i| "9".repeat(lengths[i % lengths.len()]))
        .collect();
    let channels = StringArray::from(vec!["tmall"; ids.len()]);
    let order_ids = StringArray::from(ids.clone());
    let block = key_hashes(&channels, &order_ids);
    for id in ids.iter().take(lengths.len()) {
        let mut h = Xxh3::new();
        h.update(b"tmall\x1f");
        h.update(id.as_bytes());
        assert_eq!(key_hash("tmall", id), h.digest(), "length {}", id.len());
    }
    for (i, id) in ids.iter().enumerate() {
        assert_eq!(block[i], key_hash("tmall", id), "row {i}");
    }
}

#[test]
fn keys_sharing_a_hash_stay_two_orders() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = OrderStore::open(dir.path(), IdentityConfig::default()).unwrap();
    let prepared = store
        .prepare(
            batch("a,jd,2026-01-01T00:00:00Z\nb,jd,2026-01-01T00:00:00Z\n"),
            0,
        )
        .unwrap();
    store.apply(prepared);
    // Force a 64-bit collision: both keys under the hash of `jd:a`.
    let (ha, hb) = (key_hash("jd", "a"), key_hash("jd", "b"));
    let b = store.order_number("jd", "b").unwrap();
    let a = store.order_number("jd", "a").unwrap();
    store.index = OrderIndex::default();
    store.index.insert(ha, a);
    store.index.insert(ha, b);
    assert_eq!(store.lookup(hb, "jd", "b"), None);
    assert_eq!(store.lookup(ha, "jd", "b"), Some(b));
    assert_ne!(store.lookup(ha, "jd", "a"), Some(b));
    assert_eq!(store.lookup(ha, "jd", "c"), None);
    // A repeat of `a` is still recognised as a repeat.
    let again = store
        .prepare(batch("a,jd,2026-01-01T00:00:00Z\n"), 1)
        .unwrap();
    assert_eq!(again.report.unchanged, 1);
}

/// Superseded versions older than the retention leave the checkpoint; the
/// store loaded from it, with its state or resolving again, keeps every
/// current version and the versions' numbers.
#[test]
fn a_checkpoint_leaves_out_expired_superseded_versions() {
    let ingest = |store: &mut OrderStore, rows: &str, at: i64| {
        let csv = format!("order_id,channel,ordered_at,phone,amount\n{rows}");
        let input = decode(&ORDERS, Format::Csv, "t", bytes::Bytes::from(csv)).unwrap();
        let prepared = store.prepare(input, at).unwrap();
        store.apply(prepared);
    };
    let dir = tempfile::tempdir().unwrap();
    let mut store = OrderStore::open(dir.path(), IdentityConfig::default()).unwrap();
    let t = "2026-01-01T00:00:00Z";
    ingest(
        &mut store,
        &format!("a,jd,{t},13800000001,1\nb,jd,{t},13800000002,1\n"),
        0,
    );
    ingest(
        &mut store,
        &format!("a,jd,{t},13800000001,2\nc,jd,{t},13800000001,1\n"),
        10,
    );
    ingest(&mut store, &format!("a,jd,{t},13800000001,3\n"), 20);
    ingest(&mut store, &format!("b,jd,{t},13800000002,2\n"), 30);
    let rows = |store: &OrderStore| -> Vec<(String, u32, i64)> {
        let versions = concat_batches(&versions_schema(), &store.version_batches()).unwrap();
        let ids = versions.column(c::ORDER_ID).as_string::<i32>();
        let numbers = versions
            .column(ORDERS.columns.len())
            .as_primitive::<datafusion::arrow::datatypes::UInt32Type>();
        let arrived = versions
            .column(ORDERS.columns.len() + 1)
            .as_primitive::<TimestampMicrosecondType>();
        let mut rows: Vec<_> = (0..versions.num_rows())
            .map(|r| (ids.value(r).to_string(), numbers.value(r), arrived.value(r)))
            .collect();
        rows.sort();
        rows
    };
    let current = |store: &OrderStore| {
        let mut batches = store.current_batches().unwrap();
        batches.sort_by_key(|b| b.num_rows());
        pretty_sorted(&batches)
    };
    let reload = |store: &OrderStore, expire_before: i64, with_state: bool| {
        let (log_seq, versions, state) = store.checkpoint(Some(expire_before)).unwrap();
        let checkpoint = StoreCheckpoint {
            path: dir.path().to_path_buf(),
            log_seq,
            versions: concat_batches(&versions_schema(), &versions).unwrap(),
            state: with_state.then_some(state),
        };
        let empty = tempfile::tempdir().unwrap();
        OrderStore::open_from(empty.path(), IdentityConfig::default(), Some(checkpoint)).unwrap()
    };
    // Nothing has expired: every version stays.
    assert_eq!(rows(&reload(&store, -1, true)).len(), 6);
    for with_state in [true, false] {
        let mut loaded = reload(&store, 25, with_state);
        assert_eq!(
            rows(&loaded),
            vec![
                ("a".into(), 3, 20),
                ("b".into(), 2, 30),
                ("c".into(), 1, 10)
            ],
            "with state: {with_state}"
        );
        assert_eq!(current(&loaded), current(&store));
        assert_eq!(partition(&loaded), partition(&store));
        // Later versions go on from the numbers kept, and expire in turn.
        ingest(&mut loaded, &format!("a,jd,{t},13800000001,4\n"), 40);
        let again = reload(&loaded, 35, with_state);
        assert_eq!(
            rows(&again),
            vec![
                ("a".into(), 4, 40),
                ("b".into(), 2, 30),
                ("c".into(), 1, 10)
            ]
        );
    }
}

/// Batches as sorted text, to compare tables whatever their batching.
fn pretty_sorted(batches: &[RecordBatch]) -> Vec<String> {
    let text = datafusion::arrow::util::pretty::pretty_format_batches(batches)
        .unwrap()
        .to_string();
    let mut lines: Vec<String> = text
        .lines()
        .filter(|l| l.starts_with('|'))
        .map(String::from)
        .collect();
    lines.sort();
    lines
}
