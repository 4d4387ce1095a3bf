//! Alerts: each a `SELECT` whose rows are the alerts firing now, one per
//! stable `alert_key`, with `severity`, `title`, `message` and `route`.
//! The built-in ones are `alerts/<name>.sql`; a data directory may add or
//! replace them with its own `alerts/<name>.sql`. Each file says in its
//! leading comments:
//!
//! ```text
//! -- description: what firing means
//! -- every: 60s          how often it is evaluated (s, m, h, d)
//! -- resolved: no        (optional) send nothing when a key stops firing
//! ```

use std::path::Path;
use std::time::Duration;

/// The columns every alert query returns, all text.
pub const ALERT_COLUMNS: [&str; 5] = ["alert_key", "severity", "title", "message", "route"];

/// The severities an alert row may carry.
pub const SEVERITIES: [&str; 3] = ["critical", "warning", "info"];

/// An alert: its name, when it runs and its query.
#[derive(Debug, Clone, PartialEq)]
pub struct Alert {
    /// The file's name without `.sql`.
    pub name: String,
    /// What firing means.
    pub description: String,
    /// How often it is evaluated.
    pub every: Duration,
    /// Whether a key that stops firing is notified as resolved.
    pub send_resolved: bool,
    /// The `SELECT`.
    pub sql: String,
}

include!(concat!(env!("OUT_DIR"), "/alerts.rs"));

/// The built-in alerts of `alerts/*.sql`.
pub fn built_in() -> Vec<Alert> {
    ALERT_FILES
        .iter()
        .map(|(name, text)| {
            Alert::parse(name, text).unwrap_or_else(|e| panic!("alerts/{name}.sql: {e}"))
        })
        .collect()
}

/// The built-in alerts with those of `dir` (a data directory's `alerts/`,
/// if it exists) added, a file of the same name replacing a built-in one.
/// A file that does not parse is an error naming it.
pub fn load(dir: &Path) -> Result<Vec<Alert>, String> {
    let mut alerts = built_in();
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(alerts),
        Err(e) => return Err(format!("{}: {e}", dir.display())),
    };
    let mut paths: Vec<_> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "sql"))
        .collect();
    paths.sort();
    for path in paths {
        let name = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default();
        let text =
            std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let alert = Alert::parse(name, &text).map_err(|e| format!("{}: {e}", path.display()))?;
        match alerts.iter_mut().find(|a| a.name == alert.name) {
            Some(existing) => *existing = alert,
            None => alerts.push(alert),
        }
    }
    Ok(alerts)
}

impl Alert {
    /// Reads an alert file's text.
    pub fn parse(name: &str, text: &str) -> Result<Alert, String> {
        let shaped = !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if !shaped {
            return Err(format!(
                "an alert's file name is its name: lower-case letters, digits and _ ('{name}')"
            ));
        }
        let meta = |key: &str| crate::leading_comments::leading_setting(text, key);
        let description =
            meta("description").ok_or("a leading `-- description: ...` comment is required")?;
        let every = meta("every").ok_or("a leading `-- every: 60s` comment is required")?;
        let every = parse_duration(&every).map_err(|e| format!("every: {e}"))?;
        let send_resolved = match meta("resolved").as_deref() {
            None | Some("yes") => true,
            Some("no") => false,
            Some(other) => return Err(format!("resolved: '{other}' is neither yes nor no")),
        };
        let sql = text.trim().trim_end_matches(';').to_string();
        if sql
            .lines()
            .all(|l| l.trim().is_empty() || l.trim_start().starts_with("--"))
        {
            return Err("the file holds no query".into());
        }
        Ok(Alert {
            name: name.to_string(),
            description,
            every,
            send_resolved,
            sql,
        })
    }
}

/// A duration written as a whole number and a unit: `90s`, `5m`, `4h`,
/// `1d`. Zero is refused: nothing here may happen continuously.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .ok_or_else(|| format!("'{text}' has no unit (s, m, h or d)"))?;
    let (number, unit) = text.split_at(split);
    let number: u64 = number
        .parse()
        .map_err(|_| format!("'{text}' does not start with a whole number"))?;
    let seconds = match unit.trim() {
        "s" => 1,
        "m" => 60,
        "h" => 3_600,
        "d" => 86_400,
        other => return Err(format!("unknown unit '{other}' in '{text}' (s, m, h or d)")),
    };
    if number == 0 {
        return Err(format!("'{text}' is zero"));
    }
    number
        .checked_mul(seconds)
        .map(Duration::from_secs)
        .ok_or_else(|| format!("'{text}' is too long"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_have_a_unit_and_are_not_zero() {
        assert_eq!(parse_duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration(" 4h "), Ok(Duration::from_secs(14_400)));
        assert_eq!(parse_duration("1d"), Ok(Duration::from_secs(86_400)));
        for bad in [
            "",
            "60",
            "s",
            "0s",
            "5 minutes",
            "-1m",
            "1.5h",
            "99999999999999999999d",
        ] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn an_alert_file_names_what_it_needs() {
        let ok = "-- description: d\n-- every: 30s\n-- resolved: no\nSELECT 1;\n";
        let alert = Alert::parse("a_1", ok).unwrap();
        assert_eq!(alert.every, Duration::from_secs(30));
        assert!(!alert.send_resolved);
        assert_eq!(alert.sql.lines().last(), Some("SELECT 1"));
        for (name, text, says) in [
            ("A", ok, "file name"),
            ("a", "-- every: 30s\nSELECT 1", "description"),
            ("a", "-- description: d\nSELECT 1", "every"),
            ("a", "-- description: d\n-- every: 3x\nSELECT 1", "unit"),
            (
                "a",
                "-- description: d\n-- every: 1m\n-- resolved: maybe\nSELECT 1",
                "resolved",
            ),
            ("a", "-- description: d\n-- every: 1m\n", "no query"),
        ] {
            let error = Alert::parse(name, text).unwrap_err();
            assert!(error.contains(says), "{name} {text:?}: {error}");
        }
    }

    #[test]
    fn the_built_in_alerts_parse() {
        let names: Vec<String> = built_in().into_iter().map(|a| a.name).collect();
        assert!(names.iter().any(|n| n == "refund_escalations"), "{names:?}");
        assert!(names.len() >= 6, "{names:?}");
    }

    #[test]
    fn a_data_directory_adds_and_replaces_alerts() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("order_holds.sql"),
            "-- description: replaced\n-- every: 5s\nSELECT 1",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("vip.sql"),
            "-- description: mine\n-- every: 1m\nSELECT 2",
        )
        .unwrap();
        let alerts = load(dir.path()).unwrap();
        assert_eq!(alerts.len(), built_in().len() + 1);
        let holds = alerts.iter().find(|a| a.name == "order_holds").unwrap();
        assert_eq!(holds.description, "replaced");
        std::fs::write(dir.path().join("bad.sql"), "SELECT 3").unwrap();
        let error = load(dir.path()).unwrap_err();
        assert!(
            error.contains("bad.sql") && error.contains("description"),
            "{error}"
        );
    }
}
