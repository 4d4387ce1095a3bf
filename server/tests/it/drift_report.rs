//! `GET /v1/reports/drift/{YYYY-MM}.pdf`, read back with poppler: the
//! month's figures are those of the views, in Chinese and English, and it
//! is refused where it should be.

use std::sync::Arc;

use ordergraph_server::access::Logins;
use reqwest::Method;

use crate::auth::users;
use crate::lineage_pdf::poppler;
use crate::{TestServer, call};

#[tokio::test]
async fn the_monthly_drift_report_reads_as_the_views_say() {
    let dir = tempfile::tempdir().unwrap();
    let logins = Arc::new(Logins::new(&users(), false).unwrap());
    let s = TestServer::start_with(dir.path(), Some(logins)).await;
    let ingest = |table: &'static str, csv: &'static str| {
        s.client
            .post(s.url(&format!("/v1/ingest/{table}")))
            .basic_auth("admin-user", Some("admin secret"))
            .header("content-type", "text/csv")
            .body(csv)
            .send()
    };
    let r = ingest(
        "system_owners",
        "system,owner\nplatform,电商运营部\nerp,财务信息部\nwms,仓储物流部\n",
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 200);
    // Two orders drift in January (WMS behind twice, ERP never told of a
    // refund), one follows within 3 s.
    let r = ingest(
        "status_events",
        "channel,order_id,system,status_code,updated_at,confirmed_at,operator\n\
         tmall,A,platform,shipped,2026-01-11T10:00:00Z,,bot\n\
         tmall,A,wms,paid,2026-01-11T10:00:00Z,,bot\n\
         tmall,A,wms,shipped,2026-01-11T12:00:00Z,,bot\n\
         tmall,B,platform,shipped,2026-01-12T08:00:00Z,,bot\n\
         tmall,B,wms,paid,2026-01-12T08:00:00Z,,bot\n\
         jd,C,platform,shipped,2026-01-14T00:00:00Z,,bot\n\
         jd,C,erp,shipped,2026-01-14T00:00:03Z,,bot\n\
         jd,D,erp,signed,2026-01-18T00:00:00Z,,bot\n\
         jd,D,platform,refunded,2026-01-20T00:00:00Z,,bot\n\
         pdd,E,platform,paid,2026-02-01T00:00:00Z,,bot\n",
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 200);

    let (status, rate) = call(
        &s,
        "analyst",
        Method::POST,
        "/v1/sql",
        Some(serde_json::json!({"sql": "SELECT drifted, drift_rate FROM drift_rate_monthly WHERE month = '2026-01'"})),
    )
    .await;
    assert_eq!(status, 200, "{rate}");
    let expected_rate = format!("{:.2}%", rate[0]["drift_rate"].as_f64().unwrap() * 100.0);

    let r = s
        .client
        .get(s.url("/v1/reports/drift/2026-01.pdf"))
        .basic_auth("analyst-user", Some("analyst secret"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/pdf");
    let file = dir.path().join("drift.pdf");
    std::fs::write(&file, r.bytes().await.unwrap()).unwrap();
    let text = poppler("pdftotext", &["-layout", file.to_str().unwrap(), "-"]);
    for wanted in [
        "状态漂移月报",
        "2026-01",
        expected_rate.as_str(),
        "platform:shipped vs wms:paid",
        "仓储物流部",
        "platform:refunded vs erp:signed",
        "WMS",
    ] {
        assert!(text.contains(wanted), "'{wanted}' not in:\n{text}");
    }
    // The drift of February is not January's.
    assert!(!text.contains("2026-02"), "{text}");
    // The footer's time is in the business time zone.
    assert!(text.contains("(Asia/Shanghai)"), "{text}");

    // Every page as pixels: the charts are drawn, January's bar in red
    // and the systems' bars in blue.
    let prefix = dir.path().join("page");
    poppler(
        "pdftoppm",
        &["-r", "60", file.to_str().unwrap(), prefix.to_str().unwrap()],
    );
    let mut pages: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "ppm"))
        .collect();
    pages.sort();
    assert!(!pages.is_empty(), "pdftoppm wrote no page");
    let (mut red, mut blue) = (0, 0);
    for page in &pages {
        let pixels = ppm_pixels(page);
        let inked = pixels.iter().filter(|p| p.iter().any(|&c| c < 200)).count();
        assert!(
            inked * 200 > pixels.len(),
            "{} is almost blank",
            page.display()
        );
        red += pixels
            .iter()
            .filter(|p| near(p, [0xc6, 0x28, 0x28]))
            .count();
        blue += pixels
            .iter()
            .filter(|p| near(p, [0x45, 0x75, 0xb4]))
            .count();
    }
    assert!(
        red > 50 && blue > 50,
        "chart bars: {red} red, {blue} blue pixels"
    );

    for (role, path, expected) in [
        ("analyst", "/v1/reports/drift/2026-1.pdf", 400),
        ("analyst", "/v1/reports/drift/2026-01.txt", 400),
        ("analyst", "/v1/reports/drift/2025-01.pdf", 404),
        ("support", "/v1/reports/drift/2026-01.pdf", 403),
        ("marketing", "/v1/reports/drift/2026-01.pdf", 403),
    ] {
        let (status, _) = call(&s, role, Method::GET, path, None).await;
        assert_eq!(status, expected, "{role} {path}");
    }
    s.stop().await;
}

/// The RGB pixels of a binary PPM (`P6`, 8 bits), as `pdftoppm` writes it.
fn ppm_pixels(path: &std::path::Path) -> Vec<[u8; 3]> {
    let bytes = std::fs::read(path).unwrap();
    // The header: magic, width, height, maxval, each after whitespace.
    let mut fields = Vec::new();
    let mut at = 0;
    while fields.len() < 4 {
        while bytes[at].is_ascii_whitespace() {
            at += 1;
        }
        let start = at;
        while !bytes[at].is_ascii_whitespace() {
            at += 1;
        }
        fields.push(std::str::from_utf8(&bytes[start..at]).unwrap().to_string());
    }
    assert_eq!((fields[0].as_str(), fields[3].as_str()), ("P6", "255"));
    let (width, height): (usize, usize) = (fields[1].parse().unwrap(), fields[2].parse().unwrap());
    let data = &bytes[at + 1..];
    assert_eq!(data.len(), width * height * 3, "{}", path.display());
    data.chunks_exact(3).map(|p| [p[0], p[1], p[2]]).collect()
}

/// Whether a pixel is `colour`, give or take anti-aliasing.
fn near(pixel: &[u8; 3], colour: [u8; 3]) -> bool {
    pixel.iter().zip(colour).all(|(&a, b)| a.abs_diff(b) < 24)
}
