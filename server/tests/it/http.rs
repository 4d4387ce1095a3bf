//! HTTP round trips: SQL in every encoding, ingest, errors, restarts.

use serde_json::{Value, json};

use crate::{HEADER, TestServer};

async fn post_csv(s: &TestServer, body: String) -> reqwest::Response {
    s.client
        .post(s.url("/v1/ingest/orders"))
        .header("content-type", "text/csv")
        .body(body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn ingest_then_query_in_every_encoding() {
    let dir = tempfile::tempdir().unwrap();
    let s = TestServer::start(dir.path()).await;
    let health: Value = s
        .client
        .get(s.url("/healthz"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["status"], "ok");

    let r = post_csv(
        &s,
        format!(
            "{HEADER}1,shopify,2026-01-01T10:00:00+08:00,,+86 138-1234-5678,li@qq.com,,,100.00,paid,上海,,,\n\
             2,dealer,2026-01-02T10:00:00+08:00,,13812345678,,,,50.00,paid,上海,,,\n"
        ),
    )
    .await;
    assert_eq!(r.status(), 200);
    let report: Value = r.json().await.unwrap();
    assert_eq!(
        report,
        json!({"rows": 2, "inserted": 2, "updated": 0, "unchanged": 0})
    );

    let ndjson = "{\"order_id\":\"2\",\"channel\":\"dealer\",\"ordered_at\":\"2026-01-02T10:00:00+08:00\",\"phone\":\"13812345678\",\"amount\":\"50.00\",\"status\":\"signed\",\"ship_city\":\"上海\"}\n";
    let r = s
        .client
        .post(s.url("/v1/ingest/orders"))
        .header("content-type", "application/x-ndjson")
        .body(ndjson)
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        json!({"rows": 1, "inserted": 0, "updated": 1, "unchanged": 0})
    );

    let rows = s
        .sql_json("select order_id, status, mcid from orders order by order_id")
        .await;
    assert_eq!(rows[1]["status"], "signed");
    assert_eq!(rows[0]["mcid"], rows[1]["mcid"], "one person: same phone");
    let via_json_body = s
        .client
        .post(s.url("/v1/sql"))
        .header("content-type", "application/json")
        .body(json!({"sql": "select count(*) as n from customers"}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(
        via_json_body.json::<Value>().await.unwrap(),
        json!([{"n": 1}])
    );

    let csv = s
        .client
        .post(s.url("/v1/sql"))
        .header("accept", "text/csv")
        .body("select order_id, amount from orders order by 1")
        .send()
        .await
        .unwrap();
    assert_eq!(csv.headers()["content-type"], "text/csv; charset=utf-8");
    assert_eq!(
        csv.text().await.unwrap(),
        "order_id,amount\n1,100.00\n2,50.00\n"
    );
    // Lists are written as text in CSV.
    let csv = s
        .client
        .post(s.url("/v1/sql"))
        .header("accept", "text/csv")
        .body("select orders, channels from customers")
        .send()
        .await
        .unwrap();
    assert_eq!(csv.status(), 200);
    assert_eq!(
        csv.text().await.unwrap(),
        "orders,channels\n2,\"[dealer, shopify]\"\n"
    );

    let arrow = s
        .client
        .post(s.url("/v1/sql"))
        .header("accept", "application/vnd.apache.arrow.stream")
        .body("select order_id from orders")
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let reader =
        datafusion::arrow::ipc::reader::StreamReader::try_new(std::io::Cursor::new(arrow), None)
            .unwrap();
    let rows: usize = reader.map(|b| b.unwrap().num_rows()).sum();
    assert_eq!(rows, 2);
    s.stop().await;
}

#[tokio::test]
async fn user_mistakes_are_4xx_with_json_errors() {
    let dir = tempfile::tempdir().unwrap();
    let s = TestServer::start(dir.path()).await;
    post_csv(
        &s,
        format!("{HEADER}1,tmall,2026-01-01T10:00:00+08:00,,,,,,1.00,paid,,,,\n"),
    )
    .await;

    let cases: Vec<(reqwest::RequestBuilder, u16, &str)> = vec![
        (
            s.client
                .post(s.url("/v1/sql"))
                .body("select nope from orders"),
            400,
            "bad_sql",
        ),
        (
            s.client.post(s.url("/v1/sql")).body("drop table orders"),
            400,
            "bad_sql",
        ),
        (
            s.client
                .post(s.url("/v1/sql"))
                .body("insert into orders (order_id) values ('x')"),
            400,
            "bad_sql",
        ),
        (
            s.client
                .post(s.url("/v1/sql"))
                .body("create view v as select 1"),
            400,
            "bad_sql",
        ),
        (s.client.post(s.url("/v1/sql")).body(""), 400, "bad_request"),
        (
            s.client
                .post(s.url("/v1/sql"))
                .header("x-report-now", "soon")
                .body("select 1"),
            400,
            "bad_request",
        ),
        (
            s.client
                .post(s.url("/v1/sql"))
                .body("select cast('abc' as int)"),
            400,
            "bad_sql",
        ),
        (
            s.client.post(s.url("/v1/sql")).body("select 1 / 0"),
            400,
            "bad_sql",
        ),
        (
            s.client
                .post(s.url("/v1/sql"))
                .body("select * from read_csv('/etc/passwd')"),
            400,
            "bad_sql",
        ),
        (
            s.client
                .post(s.url("/v1/sql"))
                .header("content-type", "application/json")
                .body("{\"query\":1}"),
            400,
            "bad_request",
        ),
        (
            s.client
                .post(s.url("/v1/sql"))
                .header("accept", "image/png")
                .body("select 1"),
            406,
            "not_acceptable",
        ),
        (
            s.client
                .post(s.url("/v1/ingest/orders"))
                .header("content-type", "text/plain")
                .body("x"),
            415,
            "unsupported_format",
        ),
        (
            s.client
                .post(s.url("/v1/ingest/nothing"))
                .header("content-type", "text/csv")
                .body("a\n1\n"),
            404,
            "unknown_table",
        ),
        (s.client.get(s.url("/v2/whatever")), 404, "not_found"),
    ];
    for (request, status, code) in cases {
        let r = request.send().await.unwrap();
        assert_eq!(r.status().as_u16(), status);
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["error"], code, "{body}");
        assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    let rows = s.sql_json("select count(*) as n from orders").await;
    assert_eq!(rows, json!([{"n": 1}]));
    s.stop().await;
}

#[tokio::test]
async fn a_bad_row_rejects_the_request_and_names_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let s = TestServer::start(dir.path()).await;
    post_csv(
        &s,
        format!("{HEADER}1,tmall,2026-01-01T10:00:00+08:00,,,,,,1.00,paid,,,,\n"),
    )
    .await;
    let r = post_csv(
        &s,
        format!("{HEADER}2,tmall,2026-01-01T10:00:00+08:00,,,,,,1.00,paid,,,,\n3,tmall,2026-01-01T10:00:00+08:00,,,,,,abc,paid,,,,\n"),
    )
    .await;
    assert_eq!(r.status(), 400);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"], "bad_input");
    assert_eq!(body["location"]["line"], 3);
    assert_eq!(body["location"]["column"], "amount");

    let bad_json = "{\"order_id\":\"9\",\"channel\":\"jd\",\"ordered_at\":\"2026-01-01T10:00:00+08:00\"}\n{not json}\n";
    let r = s
        .client
        .post(s.url("/v1/ingest/orders"))
        .header("content-type", "application/x-ndjson")
        .body(bad_json)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["location"]["line"], 2);

    assert_eq!(
        s.sql_json("select order_id from orders").await,
        json!([{"order_id": "1"}])
    );
    s.stop().await;
}

#[tokio::test]
async fn data_survives_a_server_restart() {
    let dir = tempfile::tempdir().unwrap();
    let s = TestServer::start(dir.path()).await;
    post_csv(&s, format!("{HEADER}1,jd,2026-01-01T10:00:00+08:00,jd_1,,,,,1.00,paid,,,,\n2,jd,2026-01-02T10:00:00+08:00,jd_1,,,,,2.00,paid,,,,\n")).await;
    let before = s
        .sql_json("select order_id, mcid from orders order by order_id")
        .await;
    s.stop().await;

    let s = TestServer::start(dir.path()).await;
    assert_eq!(
        s.sql_json("select order_id, mcid from orders order by order_id")
            .await,
        before
    );
    s.stop().await;
}

#[tokio::test]
async fn parameters_are_values_never_sql() {
    let dir = tempfile::tempdir().unwrap();
    let s = TestServer::start(dir.path()).await;
    s.ingest(
        "orders",
        format!(
            "{HEADER}P1,tmall,2026-01-01T00:00:00Z,,13811117001,,,,10.00,paid,青岛市,,,\n\
             P2,jd,2026-02-01T00:00:00Z,,13811117002,,,,20.50,signed,上海市,,,\n"
        ),
    )
    .await;
    let query = |body: Value| {
        let request = s.client.post(s.url("/v1/sql")).json(&body);
        async move {
            let r = request.send().await.unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        }
    };
    // A string, a number and a time, each compared as its column's type.
    let (status, rows) = query(json!({
        "sql": "SELECT order_id FROM orders WHERE ship_city = $1 AND amount > $2 AND ordered_at >= $3",
        "params": ["上海市", 20, "2026-01-15T00:00:00+08:00"],
    }))
    .await;
    assert_eq!(status, 200, "{rows}");
    assert_eq!(rows, json!([{"order_id": "P2"}]));
    // A value that looks like SQL stays a value.
    let (status, rows) = query(json!({
        "sql": "SELECT count(*) AS n FROM orders WHERE order_id = $1",
        "params": ["P1' OR '1'='1"],
    }))
    .await;
    assert_eq!((status, rows), (200, json!([{"n": 0}])));
    let (status, rows) = query(json!({
        "sql": "SELECT count(*) AS n FROM orders WHERE status = $1 OR $1 IS NULL",
        "params": [null],
    }))
    .await;
    assert_eq!((status, rows), (200, json!([{"n": 2}])));

    for (body, why) in [
        (
            json!({"sql": "SELECT * FROM orders WHERE order_id = $1"}),
            "missing",
        ),
        (
            json!({"sql": "SELECT * FROM orders WHERE order_id = $1", "params": ["P1", "P2"]}),
            "too many",
        ),
        (
            json!({"sql": "SELECT * FROM orders WHERE amount > $1", "params": ["lots"]}),
            "not a number",
        ),
        (
            json!({"sql": "SELECT * FROM orders WHERE order_id = $1", "params": [["P1"]]}),
            "an array",
        ),
        (json!({"sql": "SELECT 1", "params": "P1"}), "not a list"),
    ] {
        let (status, err) = query(body).await;
        assert_eq!(status, 400, "{why}: {err}");
        assert!(
            err["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{why}: {err}"
        );
    }
    s.stop().await;
}

/// Reads a streamed answer chunk by chunk: the bytes received, and whether
/// the body ended properly (false when the server cut it off).
async fn read_stream(mut r: reqwest::Response) -> (String, bool) {
    let mut body = Vec::new();
    loop {
        match r.chunk().await {
            Ok(Some(chunk)) => body.extend_from_slice(&chunk),
            Ok(None) => return (String::from_utf8_lossy(&body).into_owned(), true),
            Err(_) => return (String::from_utf8_lossy(&body).into_owned(), false),
        }
    }
}

#[tokio::test]
async fn results_stream_and_a_late_error_never_looks_complete() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("ordergraph.toml"),
        "[limits]\nmax_result_rows = 300000\n",
    )
    .unwrap();
    let s = TestServer::start(dir.path()).await;
    let post = |accept: &str, sql: &str| {
        s.client
            .post(s.url("/v1/sql"))
            .header("accept", accept)
            .body(sql.to_string())
            .send()
    };

    // A large result arrives whole, one object per line.
    let r = post("application/x-ndjson", "SELECT value FROM range(250000)")
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/x-ndjson");
    let (body, complete) = read_stream(r).await;
    assert!(complete);
    let values: Vec<Value> = body
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(values.len(), 250_000);
    assert_eq!(values[249_999], json!({"value": 249_999}));

    // The same rows as one JSON array and as CSV, each complete.
    let r = post("application/json", "SELECT value FROM range(20000)")
        .await
        .unwrap();
    let rows: Vec<Value> = r.json().await.unwrap();
    assert_eq!(rows.len(), 20_000);
    let r = post("text/csv", "SELECT value FROM range(20000)")
        .await
        .unwrap();
    let csv = r.text().await.unwrap();
    assert_eq!(csv.lines().count(), 20_001, "a header and every row");
    let r = post("application/json", "SELECT value FROM range(0)")
        .await
        .unwrap();
    assert_eq!(r.text().await.unwrap(), "[]");

    // A query failing in its last rows, after earlier rows went out: NDJSON
    // ends with an error record, the other encodings do not end properly.
    let failing = "SELECT 10 / (199999 - value) AS x FROM range(200000)";
    let r = post("application/x-ndjson", failing).await.unwrap();
    assert_eq!(r.status(), 200, "rows were on their way");
    let (body, complete) = read_stream(r).await;
    assert!(complete, "NDJSON ends with its error record");
    let last: Value = serde_json::from_str(body.lines().last().unwrap()).unwrap();
    assert!(
        last["error"].is_string() && last["message"].as_str().unwrap().contains("ivide"),
        "{last}"
    );
    assert!(body.lines().count() > 1);
    for accept in [
        "text/csv",
        "application/json",
        "application/vnd.apache.arrow.stream",
    ] {
        let r = post(accept, failing).await.unwrap();
        let (_, complete) = read_stream(r).await;
        assert!(
            !complete,
            "{accept}: a failed result must not end like a whole one"
        );
    }

    // Past max_result_rows: the same, with the limit named.
    let r = post("application/x-ndjson", "SELECT value FROM range(400000)")
        .await
        .unwrap();
    let (body, complete) = read_stream(r).await;
    assert!(complete, "NDJSON ends with its error record");
    let last: Value = serde_json::from_str(body.lines().last().unwrap()).unwrap();
    assert_eq!(last["error"], "too_many_rows", "{last}");
    assert!(body.lines().count() <= 300_001);
    let r = post("text/csv", "SELECT value FROM range(400000)")
        .await
        .unwrap();
    let (_, complete) = read_stream(r).await;
    assert!(!complete, "CSV past the limit is cut off");
    // An error before the first bytes is an ordinary error answer.
    let r = post("application/x-ndjson", "SELECT 1 / 0 AS x")
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    s.stop().await;
}

/// A Parquet answer (`Accept: application/vnd.apache.parquet`), written to a
/// file, reads back in pyarrow with the rows of the CSV answer; over more
/// rows than one row group holds, so row groups are streamed as they fill.
#[tokio::test]
async fn a_parquet_answer_reads_back_in_pyarrow_as_the_csv_answer() {
    let dir = tempfile::tempdir().unwrap();
    let s = TestServer::start(dir.path()).await;
    let mut body = HEADER.to_string();
    for k in 0..70_000 {
        body.push_str(&format!(
            "p{k},tmall,2026-01-01T10:00:00+08:00,,{},,,,{}.{:02},paid,上海,,,\n",
            13_800_000_000u64 + (k % 5_000) as u64 * 7_919,
            k % 300,
            k % 100
        ));
    }
    assert_eq!(post_csv(&s, body).await.status(), 200);
    let sql = "SELECT order_id, channel, amount, ship_city, mcid FROM orders ORDER BY order_id";
    let answer = |accept: &'static str| {
        s.client
            .post(s.url("/v1/sql"))
            .header("accept", accept)
            .body(sql)
            .send()
    };
    let parquet = answer("application/vnd.apache.parquet").await.unwrap();
    assert_eq!(parquet.status(), 200);
    assert_eq!(
        parquet.headers()["content-type"],
        "application/vnd.apache.parquet"
    );
    let file = dir.path().join("answer.parquet");
    std::fs::write(&file, parquet.bytes().await.unwrap()).unwrap();
    let csv = answer("text/csv").await.unwrap().text().await.unwrap();

    let read = std::process::Command::new("python3")
        .arg("-c")
        .arg(
            "import sys, pyarrow.parquet as pq\n\
             f = pq.ParquetFile(sys.argv[1])\n\
             print(f.metadata.num_row_groups)\n\
             for row in f.read().to_pylist():\n\
             \x20   print(','.join(str(v) for v in row.values()))",
        )
        .arg(&file)
        .output()
        .unwrap();
    super::assert_succeeded(&read);
    let text = String::from_utf8(read.stdout).unwrap();
    let mut lines = text.lines();
    let row_groups: usize = lines.next().unwrap().parse().unwrap();
    assert!(row_groups >= 2, "{row_groups} row groups");
    let from_parquet: Vec<&str> = lines.collect();
    let from_csv: Vec<&str> = csv.lines().skip(1).collect();
    assert_eq!(from_parquet.len(), 70_000);
    assert_eq!(from_parquet, from_csv);
}
