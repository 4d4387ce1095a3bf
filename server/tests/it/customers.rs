//! Customer look-ups and lineage over HTTP, across a merge of customers.

use serde_json::Value;

use crate::{HEADER, TestServer};

async fn get(s: &TestServer, path: &str) -> (u16, Value) {
    let r = s.client.get(s.url(path)).send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

async fn mcid_of(s: &TestServer, order: &str) -> String {
    let (status, found) = get(s, &format!("/v1/customers?order=tmall:{order}")).await;
    assert_eq!(status, 200, "{found}");
    found["customers"][0]["mcid"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn lineage_follows_merges_and_nests_items_refunds_and_identifiers() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("ordergraph.toml"),
        "[report]\nnow = \"2026-03-01T00:00:00Z\"\n",
    )
    .unwrap();
    let s = TestServer::start(dir.path()).await;
    s.ingest(
        "orders",
        format!(
            "{HEADER}A1,tmall,2026-01-01T00:00:00Z,,13811113001,,,,100.00,signed,上海,,,\n\
             A2,tmall,2026-01-05T00:00:00Z,,,a3@qq.com,,,50.00,paid,上海,,,\n"
        ),
    )
    .await;
    let (by_phone, by_email) = (mcid_of(&s, "A1").await, mcid_of(&s, "A2").await);
    assert_ne!(by_phone, by_email);

    // An order carrying both merges them; one MCID retires.
    s.ingest(
        "orders",
        format!(
            "{HEADER}A3,tmall,2026-01-09T00:00:00Z,,13811113001,a3@qq.com,,,20.00,created,上海,,,\n"
        ),
    )
    .await;
    let survivor = mcid_of(&s, "A3").await;
    let retired = if survivor == by_phone {
        &by_email
    } else {
        &by_phone
    };
    s.ingest(
        "order_lines",
        "channel,order_id,sku,qty,unit_price\ntmall,A1,绿茶礼盒,2,50.00\n".to_string(),
    )
    .await;
    s.ingest("refunds",
        "refund_id,channel,order_id,requested_at,amount,reason,sku_category,member_level,cross_border\n\
         R1,tmall,A1,2026-01-10T00:00:00Z,50.00,破损,tea,gold,false\n"
            .to_string(),
    )
    .await;
    s.ingest(
        "refund_events",
        "refund_id,node,action,actor,actor_role,at,note\n\
         R1,apply,enter,bot,system,2026-01-10T00:00:00Z,\n\
         R1,apply,approve,bot,system,2026-01-10T01:00:00Z,\n"
            .to_string(),
    )
    .await;

    // The retired MCID answers with the survivor, never 404.
    let (status, lineage) = get(&s, &format!("/v1/customers/{retired}/lineage")).await;
    assert_eq!(status, 200, "{lineage}");
    assert_eq!(lineage["mcid"], survivor.as_str());
    assert_eq!(lineage["requested_mcid"], retired.as_str());
    assert_eq!(lineage["retired"], true);
    assert_eq!(lineage["summary"]["orders"], 3);
    let merged: Vec<&str> = lineage["merged_mcids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["old_mcid"].as_str().unwrap())
        .collect();
    assert!(merged.contains(&retired.as_str()), "{merged:?}");
    let orders = lineage["orders"].as_array().unwrap();
    let ids: Vec<&str> = orders
        .iter()
        .map(|o| o["order_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["A1", "A2", "A3"], "in time order");
    assert_eq!(orders[0]["items"][0]["sku"], "绿茶礼盒");
    assert_eq!(orders[0]["refunds"][0]["refund_id"], "R1");
    assert_eq!(orders[0]["refunds"][0]["nodes"][0]["node"], "apply");
    assert_eq!(orders[0]["refunds"][0]["nodes"][0]["outcome"], "approved");
    assert_eq!(orders[2]["snapshots"][0]["stage"], "created");
    let kinds: Vec<&str> = lineage["identifiers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["email", "phone"]);
    let (_, same) = get(&s, &format!("/v1/customers/{survivor}/lineage")).await;
    assert_eq!(same["retired"], false);
    assert_eq!(same["orders"], lineage["orders"]);

    // Look-ups normalize as ingest does.
    for query in [
        "phone=%2B86%20138-1111-3001",
        "email=%20A3%40QQ.com",
        "order=tmall:A2",
    ] {
        let (status, found) = get(&s, &format!("/v1/customers?{query}")).await;
        assert_eq!(status, 200, "{query}: {found}");
        assert_eq!(found["customers"][0]["mcid"], survivor.as_str(), "{query}");
    }
    let (_, none) = get(&s, "/v1/customers?phone=13999999999").await;
    assert_eq!(none["customers"], serde_json::json!([]));

    for (path, status) in [
        ("/v1/customers/MC00000000000000/lineage", 404),
        ("/v1/customers/x'y/lineage", 400),
        ("/v1/customers?phone=1&email=a%40b.com", 400),
        ("/v1/customers?order=nocolon", 400),
        ("/v1/customers", 400),
    ] {
        let (got, body) = get(&s, path).await;
        assert_eq!(got, status, "{path}: {body}");
        assert!(body["message"].is_string(), "{path}: {body}");
    }
    s.stop().await;
}
