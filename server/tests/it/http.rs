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
