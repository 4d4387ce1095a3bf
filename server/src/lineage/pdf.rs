//! The lineage of one customer as a PDF a support agent can send: a header
//! with the MCID and summary, a timeline of orders by channel, the
//! identifiers, and every order with its items and after-sale records.
//!
//! It is drawn from the same [`Lineage`] as `GET /v1/customers/{mcid}/lineage`
//! answers (masked or not by the same rules), so the two never disagree. Times are
//! shown in China Standard Time (UTC+08:00), where the brands and their
//! support agents are.

use chrono::{DateTime, FixedOffset, Utc};
use serde_json::Value;

use super::{Lineage, Order};
use crate::pdf_layout::{
    BLACK, Column, Face, GREY, Layout, MARGIN, Op, PAGE_WIDTH, RULE, Rgb, Table, text_width, wrap,
};

/// UTC+08:00.
fn china() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).expect("a valid offset")
}

/// A JSON value as display text: strings as they are, numbers printed,
/// null empty.
fn text(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// An amount of money with its two decimals (JSON may carry `100.0`).
fn money(v: &Value) -> String {
    match v {
        Value::Number(n) => n
            .as_f64()
            .map_or_else(|| n.to_string(), |f| format!("{f:.2}")),
        other => text(other),
    }
}

fn parse_time(v: &Value) -> Option<DateTime<FixedOffset>> {
    let s = v.as_str()?;
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.with_timezone(&china()))
}

/// A time as `2026-01-15 10:23` in UTC+08:00 (the text as given if it is
/// not a time).
fn local_time(v: &Value) -> String {
    parse_time(v).map_or_else(|| text(v), |t| t.format("%Y-%m-%d %H:%M").to_string())
}

fn local_date(v: &Value) -> String {
    parse_time(v).map_or_else(|| text(v), |t| t.format("%Y-%m-%d").to_string())
}

/// The colour of an order's dot on the timeline, by status.
fn status_color(status: &str) -> Rgb {
    match status {
        "signed" => Rgb(0x2e, 0x7d, 0x32),
        "shipped" => Rgb(0x15, 0x65, 0xc0),
        "paid" => Rgb(0x6a, 0x1b, 0x9a),
        "refunded" => Rgb(0xc6, 0x28, 0x28),
        "cancelled" => Rgb(0x9e, 0x9e, 0x9e),
        _ => Rgb(0xf9, 0xa8, 0x25),
    }
}

const STATUSES: [(&str, &str); 6] = [
    ("created", "已下单"),
    ("paid", "已付款"),
    ("shipped", "已发货"),
    ("signed", "已签收"),
    ("refunded", "已退款"),
    ("cancelled", "已取消"),
];

/// Renders `lineage` as a PDF, generated at `now`.
pub(crate) fn render(lineage: &Lineage, now: DateTime<Utc>) -> Result<Vec<u8>, String> {
    let mcid = &lineage.mcid;
    let mut layout = Layout::new();
    header(&mut layout, lineage, now);
    timeline(&mut layout, &lineage.orders);
    identifiers(&mut layout, &lineage.identifiers);
    order_table(&mut layout, &lineage.orders);
    let generated = now.with_timezone(&china()).format("%Y-%m-%d %H:%M:%S");
    layout.finish(&format!("客户档案 {mcid}"), now, |page, pages| {
        format!(
            "ordergraph 客户档案 {mcid}  ·  生成于 {generated} (UTC+08:00)  ·  第 {page}/{pages} 页"
        )
    })
}

fn header(layout: &mut Layout, lineage: &Lineage, now: DateTime<Utc>) {
    let s = &lineage.summary;
    layout.line("客户档案 Customer lineage", 18.0, Face::Heading, BLACK);
    layout.y += 4.0;
    layout.line(&lineage.mcid, 14.0, Face::Text, BLACK);
    if lineage.retired {
        layout.line(
            &format!(
                "所查 MCID {} 已合并到此客户 (the MCID asked for was merged into this one)",
                lineage.requested_mcid
            ),
            8.5,
            Face::Text,
            Rgb(0xc6, 0x28, 0x28),
        );
    }
    if !s["erased_at"].is_null() {
        layout.line(
            &format!(
                "个人信息已于 {} 删除 (personal information erased on request)",
                local_time(&s["erased_at"])
            ),
            8.5,
            Face::Text,
            Rgb(0xc6, 0x28, 0x28),
        );
    }
    layout.y += 4.0;
    let channels = s["channels"]
        .as_array()
        .map(|c| c.iter().map(text).collect::<Vec<_>>().join(", "))
        .unwrap_or_default();
    let refunds: usize = lineage.orders.iter().map(|o| o.refunds.len()).sum();
    let merged: Vec<String> = lineage
        .merged_mcids
        .iter()
        .map(|m| text(&m["old_mcid"]))
        .collect();
    let lines = [
        format!(
            "订单 Orders: {}    金额 Total: ¥{}    售后 Refunds: {}    渠道 Channels: {}",
            text(&s["orders"]),
            money(&s["total_amount"]),
            refunds,
            channels
        ),
        format!(
            "首单 First order: {}    末单 Last order: {}",
            local_time(&s["first_order_at"]),
            local_time(&s["last_order_at"])
        ),
        format!(
            "身份标识 Identifiers: 手机 phone {} · 邮箱 email {} · 微信 unionid {} · 设备 device {} · 账号 account {}",
            text(&s["phones"]),
            text(&s["emails"]),
            text(&s["unionids"]),
            text(&s["devices"]),
            text(&s["accounts"])
        ),
        format!(
            "合并的 MCID Merged MCIDs: {}",
            if merged.is_empty() {
                "无 none".to_string()
            } else {
                merged.join(", ")
            }
        ),
        format!(
            "生成时间 Generated: {} (UTC+08:00)",
            now.with_timezone(&china()).format("%Y-%m-%d %H:%M:%S")
        ),
    ];
    for line in lines {
        layout.line(&line, 8.5, Face::Text, BLACK);
    }
    // A reason may be long: wrapped to the page.
    for line in corrections(lineage) {
        for piece in wrap(&line, PAGE_WIDTH - 2.0 * MARGIN, 8.5) {
            layout.line(&piece, 8.5, Face::Text, Rgb(0x8e, 0x24, 0xaa));
        }
    }
    layout.rule();
}

/// The corrections that shaped the customer, one line each: what, by whom
/// and why.
fn corrections(lineage: &Lineage) -> Vec<String> {
    lineage
        .corrections
        .iter()
        .map(|c| {
            let ticket = match c["ticket"].as_str() {
                Some(t) => format!(" ({t})"),
                None => String::new(),
            };
            let value = match (c["kind"].as_str(), c["value"].as_str()) {
                (Some(kind), Some(value)) => format!(" {kind} {value}"),
                _ => String::new(),
            };
            format!(
                "人工更正 Correction {}: {}{} by {}{}: {}",
                text(&c["correction_id"]),
                text(&c["action"]),
                value,
                text(&c["actor"]),
                ticket,
                text(&c["reason"])
            )
        })
        .collect()
}

/// One lane per channel, a dot per order at its time, coloured by status.
fn timeline(layout: &mut Layout, orders: &[Order]) {
    layout.heading("订单时间线 Orders by channel over time");
    let times: Vec<(String, i64, String)> = orders
        .iter()
        .filter_map(|o| {
            let t = parse_time(&o["ordered_at"])?.timestamp();
            Some((text(&o["channel"]), t, text(&o["status"])))
        })
        .collect();
    if times.is_empty() {
        layout.line("无订单 no orders", 8.5, Face::Text, GREY);
        return;
    }
    let mut channels: Vec<&str> = times.iter().map(|t| t.0.as_str()).collect();
    channels.sort_unstable();
    channels.dedup();
    let (lo, hi) = times.iter().fold((i64::MAX, i64::MIN), |(lo, hi), t| {
        (lo.min(t.1), hi.max(t.1))
    });
    // A day either side, so a single order is not on the edge.
    let (lo, hi) = (lo - 86_400, hi + 86_400);
    let label_w = 70.0;
    let count_w = 40.0;
    let x0 = MARGIN + label_w;
    let x1 = PAGE_WIDTH - MARGIN - count_w;
    let lane = 16.0;
    let x_of = |t: i64| x0 + (x1 - x0) * (t - lo) as f32 / (hi - lo) as f32;
    layout.ensure(lane * channels.len() as f32 + 40.0);
    let top = layout.y;
    for (i, channel) in channels.iter().enumerate() {
        let y = top + lane * (i as f32 + 0.5);
        layout.push(Op::Text {
            x: MARGIN,
            y: y + 3.0,
            size: 8.0,
            face: Face::Text,
            color: BLACK,
            text: channel.to_string(),
        });
        layout.push(Op::Line {
            from: (x0, y),
            to: (x1, y),
            width: 0.5,
            color: RULE,
        });
        let mine: Vec<_> = times.iter().filter(|t| t.0 == *channel).collect();
        for (_, t, status) in &mine {
            layout.push(Op::Dot {
                x: x_of(*t),
                y,
                r: 2.6,
                color: status_color(status),
            });
        }
        let count = format!("{} 单", mine.len());
        layout.push(Op::Text {
            x: PAGE_WIDTH - MARGIN - text_width(&count, 8.0),
            y: y + 3.0,
            size: 8.0,
            face: Face::Text,
            color: GREY,
            text: count,
        });
    }
    let axis = top + lane * channels.len() as f32 + 2.0;
    layout.push(Op::Line {
        from: (x0, axis),
        to: (x1, axis),
        width: 0.7,
        color: GREY,
    });
    // Five date ticks, the first and last at the ends.
    for i in 0..5 {
        let t = lo + (hi - lo) * i / 4;
        let x = x_of(t);
        let date = DateTime::from_timestamp(t, 0)
            .map(|d| d.with_timezone(&china()).format("%Y-%m-%d").to_string())
            .unwrap_or_default();
        let w = text_width(&date, 7.0);
        layout.push(Op::Line {
            from: (x, axis),
            to: (x, axis + 3.0),
            width: 0.7,
            color: GREY,
        });
        layout.push(Op::Text {
            x: (x - w / 2.0).clamp(x0 - 20.0, PAGE_WIDTH - MARGIN - w),
            y: axis + 11.0,
            size: 7.0,
            face: Face::Text,
            color: GREY,
            text: date,
        });
    }
    // The legend.
    let mut x = x0;
    let y = axis + 24.0;
    for (status, name) in STATUSES {
        layout.push(Op::Dot {
            x: x + 3.0,
            y: y - 2.5,
            r: 2.6,
            color: status_color(status),
        });
        let label = format!("{name} {status}");
        layout.push(Op::Text {
            x: x + 8.0,
            y,
            size: 7.0,
            face: Face::Text,
            color: BLACK,
            text: label.clone(),
        });
        x += 14.0 + text_width(&label, 7.0);
    }
    layout.y = y + 10.0;
}

fn identifiers(layout: &mut Layout, identifiers: &[Value]) {
    layout.heading("身份标识 Identifiers and the evidence that linked them");
    let table = Table {
        columns: vec![
            Column::new("类型 kind", 44.0, false),
            Column::new("值 value", 150.0, false),
            Column::new("结论 decision", 120.0, false),
            Column::new("首次 first seen", 62.0, false),
            Column::new("末次 last seen", 62.0, false),
            Column::new("订单 orders", 85.0, true),
        ],
        size: 7.0,
    };
    let rows: Vec<Vec<String>> = identifiers
        .iter()
        .map(|i| {
            let decision = text(&i["decision"]);
            let decision = match text(&i["rule"]) {
                rule if rule.is_empty() || rule == decision => decision,
                rule => format!("{decision} ({rule})"),
            };
            vec![
                text(&i["kind"]),
                text(&i["value"]),
                decision,
                local_date(&i["first_seen"]),
                local_date(&i["last_seen"]),
                text(&i["orders"]),
            ]
        })
        .collect();
    if rows.is_empty() {
        layout.line("无 none", 8.5, Face::Text, GREY);
    } else {
        table.draw(layout, &rows);
    }
}

/// The items of an order, one per line: `name x qty ¥unit_price`.
fn items(order: &Order) -> String {
    order
        .items
        .iter()
        .map(|i| {
            let name = match text(&i["name"]).as_str() {
                "" => text(&i["sku"]),
                name => name.to_string(),
            };
            format!("{name} x{} ¥{}", text(&i["qty"]), money(&i["unit_price"]))
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Refunds with the node each reached, status drift and risk flags.
fn after_sale(order: &Order) -> String {
    let mut lines = Vec::new();
    for r in &order.refunds {
        lines.push(format!(
            "退款 {} ¥{} {}",
            text(&r["refund_id"]),
            money(&r["amount"]),
            text(&r["reason"])
        ));
        if let Some(last) = r.nodes.last() {
            let outcome = match text(&last["outcome"]).as_str() {
                "" if last["open"].as_bool() == Some(true) => "进行中 open".to_string(),
                outcome => outcome.to_string(),
            };
            lines.push(format!("  节点 {}: {outcome}", text(&last["node"])));
        }
    }
    let sync = &order.status_sync;
    if sync["consistent"].as_bool() == Some(false) {
        lines.push(format!("状态不一致 drift: {}", text(&sync["drift"])));
    }
    for r in &order.risk {
        lines.push(format!("风险 risk: {}", text(&r["rule"])));
    }
    lines.join("\n")
}

fn order_table(layout: &mut Layout, orders: &[Order]) {
    layout.heading("订单 Orders, items and after-sale records");
    let table = Table {
        columns: vec![
            Column::new("时间 time", 76.0, false),
            Column::new("渠道 channel", 54.0, false),
            Column::new("订单号 order", 78.0, false),
            Column::new("金额 amount", 44.0, true),
            Column::new("状态 status", 44.0, false),
            Column::new("商品 items", 127.0, false),
            Column::new("售后/标记 after-sale", 100.0, false),
        ],
        size: 7.0,
    };
    let rows: Vec<Vec<String>> = orders
        .iter()
        .map(|o| {
            let city = text(&o["ship_city"]);
            let items = match city.as_str() {
                "" => items(o),
                city => format!("{}\n送至 {city}", items(o)),
            };
            vec![
                local_time(&o["ordered_at"]),
                text(&o["channel"]),
                text(&o["order_id"]),
                money(&o["amount"]),
                text(&o["status"]),
                items,
                after_sale(o),
            ]
        })
        .collect();
    if rows.is_empty() {
        layout.line("无 none", 8.5, Face::Text, GREY);
    } else {
        table.draw(layout, &rows);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn order(i: usize) -> Value {
        let channel = ["tmall", "jd", "douyin"][i % 3];
        json!({
            "channel": channel,
            "order_id": format!("T{i:06}"),
            "ordered_at": format!("2026-0{}-1{}T0{}:00:00Z", 1 + i % 6, i % 10, i % 10),
            "amount": "199.00",
            "status": "signed",
            "ship_city": "青岛市",
            "items": [{"sku": "SKU-0001", "name": "玻尿酸保湿精华液", "qty": 2, "unit_price": "99.50"}],
            "refunds": if i.is_multiple_of(7) { json!([{"refund_id": format!("R{i}"), "amount": 99.5, "reason": "质量问题",
                "nodes": [{"node": "审核", "outcome": "approve", "open": false}]}]) } else { json!([]) },
            "status_sync": {"consistent": !i.is_multiple_of(5), "drift": "platform=shipped wms=paid"},
            "risk": [],
            "snapshots": [],
        })
    }

    #[test]
    fn a_thousand_orders_paginate() {
        let lineage = json!({
            "mcid": "MC0000000000001",
            "requested_mcid": "MC0000000000002",
            "retired": true,
            "summary": {"orders": 1000, "total_amount": "199000.00", "channels": ["douyin", "jd", "tmall"]},
            "identifiers": [{"kind": "phone", "value": "+8613812345678", "decision": "linked", "orders": 1000}],
            "merged_mcids": [{"old_mcid": "MC0000000000002"}],
            "orders": (0..1000).map(order).collect::<Vec<_>>(),
        });
        let lineage: Lineage = serde_json::from_value(lineage).expect("a lineage");
        let pdf = render(&lineage, Utc::now()).expect("a PDF");
        assert!(pdf.starts_with(b"%PDF-"));
    }

    #[test]
    fn corrections_say_what_who_and_why() {
        let lineage = json!({
            "mcid": "MC0000000000001",
            "requested_mcid": "MC0000000000001",
            "retired": false,
            "summary": {},
            "identifiers": [],
            "merged_mcids": [],
            "corrections": [
                {"correction_id": 3, "action": "split", "actor": "li", "ticket": "T-1", "reason": "partner"},
                {"correction_id": 4, "action": "unlink", "kind": "phone", "value": "+862166668888",
                 "actor": "wang", "reason": "shop phone"},
            ],
            "orders": [],
        });
        let lineage: Lineage = serde_json::from_value(lineage).expect("a lineage");
        assert_eq!(
            corrections(&lineage),
            [
                "人工更正 Correction 3: split by li (T-1): partner",
                "人工更正 Correction 4: unlink phone +862166668888 by wang: shop phone",
            ]
        );
        assert!(
            render(&lineage, Utc::now())
                .expect("a PDF")
                .starts_with(b"%PDF-")
        );
    }

    #[test]
    fn after_sale_lists_refunds_drift_and_risk() {
        let mut o = order(0);
        o["risk"] = json!([{"rule": "new_account_no_browse"}]);
        let o: Order = serde_json::from_value(o).expect("an order");
        let text = after_sale(&o);
        assert_eq!(
            text,
            "退款 R0 ¥99.50 质量问题\n  节点 审核: approve\n状态不一致 drift: platform=shipped wms=paid\n风险 risk: new_account_no_browse"
        );
        assert_eq!(items(&o), "玻尿酸保湿精华液 x2 ¥99.50");
    }

    #[test]
    fn times_show_in_china_time() {
        assert_eq!(
            local_time(&json!("2026-01-01T16:30:00Z")),
            "2026-01-02 00:30"
        );
        assert_eq!(local_time(&json!(null)), "");
        assert_eq!(local_time(&json!("soon")), "soon");
    }
}
