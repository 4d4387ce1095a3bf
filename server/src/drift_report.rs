//! The monthly status drift report, as a PDF for the operations meeting:
//! the month's drift rate beside the months before it, the trend as a bar
//! chart, which systems disagree with the platform and how often, and the
//! month's top 5 drift scenarios with their repair times and owners. Drawn
//! server-side with the same page layout as the lineage PDF, from the
//! views `drift_rate_monthly`, `drift_scenarios_monthly` and
//! `status_consistency`.

use chrono::{DateTime, NaiveDate, Utc};
use datafusion::arrow::array::timezone::Tz;
use serde_json::Value;

use crate::http::routes::literal;
use crate::http::routes::sql::rows;
use crate::http::{ApiError, AppState};
use crate::pdf_layout::{
    BLACK, Column, Face, GREY, Layout, MARGIN, Op, PAGE_WIDTH, RULE, Rgb, Table, text_width,
};

/// Months the trend shows, the report's month last.
const TREND_MONTHS: usize = 12;

const RED: Rgb = Rgb(0xc6, 0x28, 0x28);
const BLUE: Rgb = Rgb(0x45, 0x75, 0xb4);

/// One month of `drift_rate_monthly`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct MonthRate {
    pub month: String,
    pub orders: u64,
    pub drifted: u64,
    pub rate: f64,
}

/// What the report shows.
#[derive(Debug)]
pub(crate) struct DriftReport {
    pub month: String,
    /// The months up to and including `month`, oldest first.
    pub trend: Vec<MonthRate>,
    /// The month's rows of `drift_scenarios_monthly`, by rank.
    pub scenarios: Vec<Value>,
    /// Per system, the month's drifted orders in which it disagrees with
    /// the platform; `timing` for those whose statuses agree but whose
    /// times are too far apart.
    pub systems: Vec<(String, u64)>,
    /// The business time zone (`[report] timezone`) the footer's time is in.
    pub timezone: String,
}

/// `month` if it is `YYYY-MM`.
pub(crate) fn parse_month(month: &str) -> Option<&str> {
    (month.len() == 7 && NaiveDate::parse_from_str(&format!("{month}-01"), "%Y-%m-%d").is_ok())
        .then_some(month)
}

fn number(v: &Value) -> u64 {
    v.as_u64()
        .or_else(|| v.as_f64().map(|f| f as u64))
        .unwrap_or(0)
}

fn text(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Number(n) => n
            .as_f64()
            .filter(|f| f.fract() != 0.0)
            .map_or_else(|| n.to_string(), |f| format!("{f:.1}")),
        other => other.to_string(),
    }
}

impl DriftReport {
    /// The report of `month` (`YYYY-MM`); `None` if no order's first
    /// status event falls in it.
    pub(crate) async fn of(state: &AppState, month: &str) -> Result<Option<Self>, ApiError> {
        let m = literal(month);
        let mut trend: Vec<MonthRate> = rows(
            state,
            &format!(
                "SELECT month, orders, drifted, drift_rate FROM drift_rate_monthly \
                 WHERE month <= {m} ORDER BY month DESC LIMIT {TREND_MONTHS}"
            ),
        )
        .await?
        .iter()
        .map(|r| MonthRate {
            month: text(&r["month"]),
            orders: number(&r["orders"]),
            drifted: number(&r["drifted"]),
            rate: r["drift_rate"].as_f64().unwrap_or(0.0),
        })
        .collect();
        trend.reverse();
        if trend.last().is_none_or(|t| t.month != month) {
            return Ok(None);
        }
        let scenarios = rows(
            state,
            &format!(
                "SELECT rank, scenario, orders, avg_repair_minutes, owner, unrepaired \
                 FROM drift_scenarios_monthly WHERE month = {m} ORDER BY rank"
            ),
        )
        .await?;
        let drifted = format!(
            "FROM status_consistency WHERE NOT consistent \
             AND to_char(business_time(first_event_at), '%Y-%m') = {m}"
        );
        let differs = |system: &str| {
            format!("{system}_status IS NOT NULL AND {system}_status <> platform_status")
        };
        let systems = rows(
            state,
            &format!(
                "SELECT system, count(*) AS orders FROM ( \
                 SELECT 'ERP' AS system {drifted} AND {erp} \
                 UNION ALL SELECT 'WMS' {drifted} AND {wms} \
                 UNION ALL SELECT 'CRM' {drifted} AND {crm} \
                 UNION ALL SELECT 'timing' {drifted} AND NOT ({erp}) AND NOT ({wms}) AND NOT ({crm}) \
                 ) GROUP BY system ORDER BY orders DESC, system",
                erp = differs("erp"),
                wms = differs("wms"),
                crm = differs("crm"),
            ),
        )
        .await?
        .iter()
        .map(|r| (text(&r["system"]), number(&r["orders"])))
        .collect();
        Ok(Some(Self {
            month: month.to_string(),
            trend,
            scenarios,
            systems,
            timezone: state.engine.config().report.timezone.clone(),
        }))
    }

    /// The report as a PDF, generated at `now`.
    pub(crate) fn render(&self, now: DateTime<Utc>) -> Result<Vec<u8>, String> {
        let mut layout = Layout::new();
        let this = self
            .trend
            .last()
            .expect("the report's month is in its trend");
        layout.line(
            &format!("状态漂移月报 Status drift report · {}", self.month),
            18.0,
            Face::Heading,
            BLACK,
        );
        layout.y += 4.0;
        let previous = self
            .trend
            .iter()
            .rev()
            .nth(1)
            .map_or_else(|| "–".to_string(), |p| percent(p.rate));
        layout.line(
            &format!(
                "订单 Orders: {}    漂移订单 Drifted: {}    漂移率 Drift rate: {}    上月 Previous month: {}",
                this.orders,
                this.drifted,
                percent(this.rate),
                previous
            ),
            9.5,
            Face::Text,
            BLACK,
        );
        layout.line(
            "漂移：同一订单在平台、ERP、WMS、CRM 中状态不同，或更新时间相差超过容忍时间（默认 3 秒）。 An order drifts when its systems show different statuses or update too far apart.",
            8.0,
            Face::Text,
            GREY,
        );
        self.trend_chart(&mut layout);
        self.systems_chart(&mut layout, this.drifted);
        self.scenario_table(&mut layout);
        let zone = &self.timezone;
        // The zone was checked when the configuration was read.
        let generated = zone.parse::<Tz>().map_or_else(
            |_| now.format("%Y-%m-%d %H:%M UTC").to_string(),
            |tz| {
                format!(
                    "{} ({zone})",
                    now.with_timezone(&tz).format("%Y-%m-%d %H:%M")
                )
            },
        );
        let month = &self.month;
        layout.finish(&format!("状态漂移月报 {month}"), now, |page, pages| {
            format!(
                "ordergraph 状态漂移月报 {month}  ·  生成于 {generated}  ·  第 {page}/{pages} 页"
            )
        })
    }

    /// Bars of the drift rate by month, the report's month in red.
    fn trend_chart(&self, layout: &mut Layout) {
        layout.heading("漂移率趋势 Drift rate by month");
        let height = 120.0;
        layout.ensure(height + 40.0);
        let top = layout.y + 12.0;
        let base = top + height;
        let (x0, x1) = (MARGIN + 30.0, PAGE_WIDTH - MARGIN);
        let max = self
            .trend
            .iter()
            .map(|m| m.rate)
            .fold(0.0_f64, f64::max)
            .max(1e-9);
        // Gridlines at quarters of the largest rate.
        for i in 0..=4 {
            let v = max * f64::from(i) / 4.0;
            let y = base - (height * i as f32 / 4.0);
            layout.push(Op::Line {
                from: (x0, y),
                to: (x1, y),
                width: if i == 0 { 0.7 } else { 0.3 },
                color: if i == 0 { GREY } else { RULE },
            });
            let label = percent(v);
            layout.push(Op::Text {
                x: x0 - 4.0 - text_width(&label, 6.5),
                y: y + 2.0,
                size: 6.5,
                face: Face::Text,
                color: GREY,
                text: label,
            });
        }
        let slot = (x1 - x0) / self.trend.len() as f32;
        for (i, m) in self.trend.iter().enumerate() {
            let h = (height as f64 * m.rate / max) as f32;
            let x = x0 + slot * i as f32 + slot * 0.2;
            let w = slot * 0.6;
            let color = if m.month == self.month { RED } else { BLUE };
            layout.push(Op::Rect {
                x,
                y: base - h,
                w,
                h,
                color,
            });
            let value = percent(m.rate);
            layout.push(Op::Text {
                x: x + (w - text_width(&value, 6.5)) / 2.0,
                y: base - h - 3.0,
                size: 6.5,
                face: Face::Text,
                color: BLACK,
                text: value,
            });
            layout.push(Op::Text {
                x: x + (w - text_width(&m.month, 7.0)) / 2.0,
                y: base + 10.0,
                size: 7.0,
                face: Face::Text,
                color: BLACK,
                text: m.month.clone(),
            });
        }
        layout.y = base + 22.0;
    }

    /// Bars of the drifted orders each system disagrees in.
    fn systems_chart(&self, layout: &mut Layout, drifted: u64) {
        layout.heading("各系统占比 Systems that disagree with the platform");
        if self.systems.is_empty() {
            layout.line(
                "本月无漂移订单 no drifted orders this month",
                8.5,
                Face::Text,
                GREY,
            );
            return;
        }
        let label_w = 85.0;
        let (x0, x1) = (MARGIN + label_w, PAGE_WIDTH - MARGIN - 90.0);
        let max = self.systems.iter().map(|s| s.1).max().unwrap_or(1).max(1);
        for (system, orders) in &self.systems {
            layout.ensure(16.0);
            let y = layout.y;
            let name = if system == "timing" {
                "仅时间差 timing"
            } else {
                system
            };
            layout.push(Op::Text {
                x: MARGIN,
                y: y + 9.0,
                size: 8.0,
                face: Face::Text,
                color: BLACK,
                text: name.to_string(),
            });
            let w = (x1 - x0) * *orders as f32 / max as f32;
            layout.push(Op::Rect {
                x: x0,
                y: y + 2.0,
                w,
                h: 9.0,
                color: BLUE,
            });
            let share = *orders as f64 / drifted.max(1) as f64;
            layout.push(Op::Text {
                x: x0 + w + 4.0,
                y: y + 9.0,
                size: 8.0,
                face: Face::Text,
                color: BLACK,
                text: format!("{orders} ({})", percent(share)),
            });
            layout.y += 14.0;
        }
        layout.line(
            "占本月漂移订单的比例；一单可有多个系统不一致。 Share of the month's drifted orders; an order may count for several systems.",
            7.5,
            Face::Text,
            GREY,
        );
    }

    /// The month's top 5 scenarios.
    fn scenario_table(&self, layout: &mut Layout) {
        layout.heading("前五漂移场景 Top 5 drift scenarios");
        if self.scenarios.is_empty() {
            layout.line(
                "本月无漂移场景 no drift scenarios this month",
                8.5,
                Face::Text,
                GREY,
            );
            return;
        }
        let table = Table {
            columns: vec![
                Column::new("# 排名", 36.0, true),
                Column::new("场景 Scenario", 190.0, false),
                Column::new("订单 Orders", 52.0, true),
                Column::new("平均修复(分) Avg repair min", 80.0, true),
                Column::new("负责人 Owner", 90.0, false),
                Column::new("未修复 Open", 75.0, true),
            ],
            size: 8.0,
        };
        let rows: Vec<Vec<String>> = self
            .scenarios
            .iter()
            .map(|r| {
                [
                    "rank",
                    "scenario",
                    "orders",
                    "avg_repair_minutes",
                    "owner",
                    "unrepaired",
                ]
                .iter()
                .map(|c| text(&r[*c]))
                .collect()
            })
            .collect();
        table.draw(layout, &rows);
    }
}

/// A rate as `3.12%`.
fn percent(rate: f64) -> String {
    format!("{:.2}%", rate * 100.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_are_year_and_month() {
        assert_eq!(parse_month("2026-06"), Some("2026-06"));
        for bad in ["2026-13", "2026-6", "2026-06-01", "june", "2026-06'--"] {
            assert_eq!(parse_month(bad), None, "{bad}");
        }
    }
}
