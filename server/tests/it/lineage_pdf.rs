//! `GET /v1/customers/{mcid}/lineage.pdf`, read back with poppler's tools
//! (`pdftotext`, `pdfinfo`, `pdftoppm` from poppler-utils, which `.ci/run`
//! installs): the Chinese product names, cities and the MCID are really
//! in the document, and a long history runs over several pages.

use std::fmt::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::{HEADER, TestServer};

/// Runs a poppler tool, its output as text.
pub(crate) fn poppler(tool: &str, args: &[&str]) -> String {
    let out = Command::new(tool)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{tool} (poppler-utils; .ci/run installs it): {e}"));
    assert!(
        out.status.success(),
        "{tool} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn pages(pdf: &Path) -> usize {
    poppler("pdfinfo", &[pdf.to_str().unwrap()])
        .lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .expect("pdfinfo reports pages")
        .trim()
        .parse()
        .unwrap()
}

/// Fetches a customer's PDF into `dir`.
async fn fetch_pdf(s: &TestServer, mcid: &str, query: &str, dir: &Path) -> PathBuf {
    let r = s
        .client
        .get(s.url(&format!("/v1/customers/{mcid}/lineage.pdf{query}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/pdf");
    let path = dir.join(format!("lineage-{mcid}{}.pdf", query.len()));
    std::fs::write(&path, r.bytes().await.unwrap()).unwrap();
    path
}

async fn mcid_of(s: &TestServer, order: &str) -> String {
    let r = s
        .client
        .get(s.url(&format!("/v1/customers?order={order}")))
        .send()
        .await
        .unwrap();
    let found: serde_json::Value = r.json().await.unwrap();
    found["customers"][0]["mcid"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn lineage_pdf_shows_chinese_names_and_the_mcid_and_paginates() {
    let dir = tempfile::tempdir().unwrap();
    let s = TestServer::start(dir.path()).await;
    s.ingest(
        "products",
        "sku,name,category\nSKU-0001,玻尿酸保湿精华液,美妆\nSKU-0002,云南小粒咖啡豆,食品\n".into(),
    )
    .await;
    // One customer with 1,000 orders over a year, on three channels.
    let mut orders = HEADER.to_string();
    let mut lines = "channel,order_id,sku,qty,unit_price\n".to_string();
    for i in 0..1000 {
        let channel = ["tmall", "jd", "douyin"][i % 3];
        let day = 1 + i % 28;
        let month = 1 + i % 12;
        writeln!(
            orders,
            "P{i:04},{channel},2026-{month:02}-{day:02}T10:00:00+08:00,,13811116001,pdf@qq.com,,,{}.00,signed,青岛市,青岛市崂山区香港中路18号,,",
            100 + i
        )
        .unwrap();
        writeln!(
            lines,
            "{channel},P{i:04},SKU-000{},1,{}.00",
            1 + i % 2,
            100 + i
        )
        .unwrap();
    }
    s.ingest("orders", orders).await;
    s.ingest("order_lines", lines).await;
    s.ingest("refunds",
        "refund_id,channel,order_id,requested_at,amount,reason,sku_category,member_level,cross_border\n\
         R1,tmall,P0000,2026-01-10T00:00:00Z,50.00,破损,美妆,gold,false\n"
            .into(),
    )
    .await;
    let mcid = mcid_of(&s, "tmall:P0000").await;
    let pdf = fetch_pdf(&s, &mcid, "", dir.path()).await;

    let text = poppler("pdftotext", &["-enc", "UTF-8", pdf.to_str().unwrap(), "-"]);
    for expected in [
        mcid.as_str(),
        "玻尿酸保湿精华液",
        "云南小粒咖啡豆",
        "青岛市",
        "破损",
        "P0000",
        "P0999",
        "+8613811116001",
        "pdf@qq.com",
    ] {
        assert!(
            text.contains(expected),
            "'{expected}' not in the PDF text:\n{}",
            &text[..text.len().min(6000)]
        );
    }
    let n = pages(&pdf);
    assert!(n > 10, "1,000 orders on {n} pages");
    assert!(text.contains(&format!("第 {n}/{n} 页")), "numbered pages");

    // A copy to send on: contacts masked.
    let masked = fetch_pdf(&s, &mcid, "?masked=true", dir.path()).await;
    let text = poppler(
        "pdftotext",
        &["-enc", "UTF-8", masked.to_str().unwrap(), "-"],
    );
    assert!(text.contains("138****6001"), "masked phone");
    assert!(!text.contains("13811116001") && !text.contains("pdf@qq.com"));

    // The first page as an image, for a person to look at.
    let png_dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("lineage-pdf");
    std::fs::create_dir_all(&png_dir).unwrap();
    let prefix = png_dir.join("page");
    poppler(
        "pdftoppm",
        &[
            "-png",
            "-r",
            "80",
            "-f",
            "1",
            "-l",
            "1",
            pdf.to_str().unwrap(),
            prefix.to_str().unwrap(),
        ],
    );
    let png = std::fs::read_dir(&png_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "png"))
        .expect("pdftoppm wrote a PNG");
    assert!(
        std::fs::metadata(&png).unwrap().len() > 10_000,
        "{} is blank",
        png.display()
    );
    eprintln!("first page of the lineage PDF: {}", png.display());
    s.stop().await;
}
