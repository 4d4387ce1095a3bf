//! Segment exports over HTTP: listing, paging by cursor, `since`, CSV, and
//! membership following a merge of customers.

use serde_json::Value;

use crate::{HEADER, TestServer};

async fn ingest(s: &TestServer, rows: &str) {
    let r = s
        .client
        .post(s.url("/v1/ingest/orders"))
        .header("content-type", "text/csv")
        .body(format!("{HEADER}{rows}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
}

async fn get(s: &TestServer, path: &str) -> reqwest::Response {
    s.client.get(s.url(path)).send().await.unwrap()
}

/// Three orders within 90 days for each phone, starting at `day` of January.
fn three_orders(id: &str, phone: &str, day: u32) -> String {
    (0..3)
        .map(|k| {
            format!(
                "{id}-{k},tmall,2026-01-{:02}T00:00:00Z,,{phone},,,,10.00,signed,,,,\n",
                day + k * 5
            )
        })
        .collect()
}

fn mcids(page: &Value) -> Vec<String> {
    page.as_array()
        .unwrap()
        .iter()
        .map(|r| r["mcid"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn segments_page_by_cursor_filter_by_since_and_follow_merges() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("ordergraph.toml"),
        "[report]\nnow = \"2026-06-01T00:00:00Z\"\nnew_customer_coupons = [\"NEWCUST\"]\n",
    )
    .unwrap();
    let s = TestServer::start(dir.path()).await;

    let listed: Value = get(&s, "/v1/segments").await.json().await.unwrap();
    let names: Vec<&str> = listed["segments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["name"].as_str().unwrap())
        .collect();
    // The two built in, then the files under queries/segments/.
    assert_eq!(
        names,
        [
            "high_value_prospects",
            "new_customer_coupon_abuse",
            "lapsed_big_spenders"
        ]
    );

    // Three prospects, qualifying on Jan 11, 12 and 13.
    ingest(
        &s,
        &format!(
            "{}{}{}",
            three_orders("A", "13811112001", 1),
            three_orders("B", "13811112002", 2),
            three_orders("C", "13811112003", 3)
        ),
    )
    .await;
    let all: Value = get(&s, "/v1/segments/high_value_prospects")
        .await
        .json()
        .await
        .unwrap();
    let everyone = mcids(&all);
    assert_eq!(everyone.len(), 3);
    let mut sorted = everyone.clone();
    sorted.sort();
    assert_eq!(everyone, sorted, "stable order: by mcid");
    assert!(
        all[0]["phone"]
            .as_str()
            .unwrap()
            .starts_with("+86138111120")
    );

    // Two pages of two; the second has no next cursor.
    let first = get(&s, "/v1/segments/high_value_prospects?limit=2").await;
    let cursor = first.headers()["x-next-cursor"]
        .to_str()
        .unwrap()
        .to_string();
    let link = first.headers()["link"].to_str().unwrap().to_string();
    assert!(link.contains(&format!("cursor={cursor}")), "{link}");
    let first: Value = first.json().await.unwrap();
    let second = get(
        &s,
        &format!("/v1/segments/high_value_prospects?limit=2&cursor={cursor}"),
    )
    .await;
    assert!(second.headers().get("x-next-cursor").is_none());
    let second: Value = second.json().await.unwrap();
    let paged: Vec<String> = mcids(&first).into_iter().chain(mcids(&second)).collect();
    assert_eq!(paged, everyone);

    // since: those who qualified on Jan 12 or later (exactly Jan 12 included).
    let recent: Value = get(
        &s,
        "/v1/segments/high_value_prospects?since=2026-01-12T00:00:00Z",
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(mcids(&recent).len(), 2);

    // D ordered once by phone and once by email only: two customers, none a
    // prospect or an abuser, until an order carrying both merges them.
    ingest(
        &s,
        "D-0,jd,2026-02-01T00:00:00Z,,13811112004,,,,10.00,signed,,,,NEWCUST\n\
         D-1,pdd,2026-02-03T00:00:00Z,,,d4@qq.com,,,10.00,signed,,,,NEWCUST\n",
    )
    .await;
    let before: Value = get(&s, "/v1/segments/high_value_prospects")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(mcids(&before).len(), 3);
    let abusers: Value = get(&s, "/v1/segments/new_customer_coupon_abuse")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(mcids(&abusers).len(), 0);
    ingest(
        &s,
        "D-2,jd,2026-02-04T00:00:00Z,,13811112004,d4@qq.com,,,10.00,signed,,,,\n",
    )
    .await;
    let after: Value = get(&s, "/v1/segments/high_value_prospects")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(mcids(&after).len(), 4);
    let abusers: Value = get(&s, "/v1/segments/new_customer_coupon_abuse")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(mcids(&abusers).len(), 1, "{abusers}");
    // Contacts joined for a segment view that has none of its own.
    assert_eq!(abusers[0]["email"], "d4@qq.com");
    assert_eq!(abusers[0]["flagged_at"], "2026-02-03T00:00:00Z");

    // Sizes by business month: E qualifies at 20:00 UTC on Jan 31, which
    // is Feb 1 in Asia/Shanghai.
    ingest(
        &s,
        "E-0,tmall,2026-01-21T00:00:00Z,,13811112005,,,,10.00,signed,,,,\n\
         E-1,tmall,2026-01-26T00:00:00Z,,13811112005,,,,10.00,signed,,,,\n\
         E-2,tmall,2026-01-31T20:00:00Z,,13811112005,,,,10.00,signed,,,,\n",
    )
    .await;
    let sizes: Value = get(&s, "/v1/segments/high_value_prospects/sizes")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(sizes["timezone"], "Asia/Shanghai");
    assert_eq!(
        sizes["months"],
        serde_json::json!([
            {"month": "2026-01", "entered": 3, "members": 3},
            {"month": "2026-02", "entered": 2, "members": 5},
        ])
    );
    let r = get(&s, "/v1/segments/nope/sizes").await;
    assert_eq!(r.status(), 404);

    // CSV.
    let csv = s
        .client
        .get(s.url("/v1/segments/high_value_prospects?limit=1"))
        .header("accept", "text/csv")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(csv.starts_with("mcid,"), "{csv}");
    assert_eq!(csv.lines().count(), 2);

    // Errors are 4xx with a message.
    for (path, status) in [
        ("/v1/segments/nope", 404),
        ("/v1/segments/orders", 404),
        (
            "/v1/segments/high_value_prospects?cursor=x'%20OR%201=1",
            400,
        ),
        ("/v1/segments/high_value_prospects?limit=0", 400),
        ("/v1/segments/high_value_prospects?since=yesterday", 400),
        ("/v1/segments/high_value_prospects?color=red", 400),
    ] {
        let r = get(&s, path).await;
        assert_eq!(r.status(), status, "{path}");
        let body: Value = r.json().await.unwrap();
        assert!(
            body["error"].is_string() && body["message"].is_string(),
            "{path}: {body}"
        );
    }
    s.stop().await;
}
