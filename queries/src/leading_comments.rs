//! The settings a SQL file states in the comment lines it opens with, as
//! `-- key: value` (segment and alert files).

/// The value of `-- key: value` among the comment lines `text` opens with.
pub(crate) fn leading_setting(text: &str, key: &str) -> Option<String> {
    text.lines()
        .take_while(|l| l.starts_with("--"))
        .find_map(|l| {
            l.trim_start_matches('-')
                .trim()
                .strip_prefix(key)?
                .strip_prefix(':')
                .map(|v| v.trim().to_string())
        })
}
