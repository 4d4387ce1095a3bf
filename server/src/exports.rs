//! The queries behind the exports marketing and connectors pull: a
//! segment with its members' contacts, and the MCID write-back outbox. Each
//! reads in a stable order from a cursor, so the HTTP API serves it a page
//! at a time and `ordergraph export` reads it whole.

use ordergraph_queries::Segment;

use crate::http::routes::{literal, mcid_shaped};

/// The members of `segment` by MCID, with their contacts: those who entered
/// at or after `since` (microseconds), after the MCID `after` (letters and
/// digits only: it is quoted into the SQL), at most `limit`.
pub fn segment_sql(
    segment: &Segment,
    since: Option<i64>,
    after: Option<&str>,
    limit: Option<usize>,
) -> String {
    let (contacts, join) = if segment.has_contacts {
        ("", "")
    } else {
        (
            ", k.phone, k.email, k.wechat_unionid",
            " LEFT JOIN customer_contacts k ON k.mcid = s.mcid",
        )
    };
    let mut conditions = Vec::new();
    if let Some(since) = since {
        conditions.push(format!(
            "s.{} >= to_timestamp_micros({since})",
            segment.entered_at
        ));
    }
    if let Some(after) = after {
        debug_assert!(mcid_shaped(after).is_some());
        conditions.push(format!("s.mcid > '{after}'"));
    }
    format!(
        "SELECT s.*{contacts} FROM {} s{join}{} ORDER BY s.mcid{}",
        segment.name,
        filter(&conditions),
        limit_clause(limit)
    )
}

/// How many of `segment`'s members entered in each business month, and how
/// many of them had entered by its end: `(month, entered, members)`, by
/// month. Members are today's: one who has since left the segment is in
/// no month.
pub fn segment_sizes_sql(segment: &Segment) -> String {
    format!(
        "SELECT month, entered, sum(entered) OVER (ORDER BY month) AS members FROM ( \
         SELECT to_char(business_time({entered}), '%Y-%m') AS month, count(*) AS entered \
         FROM {name} WHERE {entered} IS NOT NULL GROUP BY 1) ORDER BY month",
        entered = segment.entered_at,
        name = segment.name,
    )
}

/// The write-back outbox by `(channel, order_id)`: one channel's orders or
/// all, after the order `after`, at most `limit`.
pub fn writeback_sql(
    channel: Option<&str>,
    after: Option<(&str, &str)>,
    limit: Option<usize>,
) -> String {
    let mut conditions = Vec::new();
    if let Some(channel) = channel {
        conditions.push(format!("channel = {}", literal(channel)));
    }
    if let Some((channel, order_id)) = after {
        conditions.push(format!(
            "(channel > {c} OR (channel = {c} AND order_id > {o}))",
            c = literal(channel),
            o = literal(order_id)
        ));
    }
    format!(
        "SELECT channel, order_id, mcid, note, written_mcid, written_at FROM mcid_writeback{} \
         ORDER BY channel, order_id{}",
        filter(&conditions),
        limit_clause(limit)
    )
}

fn filter(conditions: &[String]) -> String {
    if conditions.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", conditions.join(" AND "))
    }
}

fn limit_clause(limit: Option<usize>) -> String {
    limit.map(|n| format!(" LIMIT {n}")).unwrap_or_default()
}
