//! Turns every `segments/<name>.sql` into a view and a segment of the
//! export API, so a new segment is one SQL file, and lists the built-in
//! alerts of `alerts/<name>.sql` (read by `alerts::Alert::parse`). Each
//! segment file holds one `CREATE VIEW <name>` and, in its leading comments:
//!
//! ```text
//! -- description: what the members have in common
//! -- entered_at: <column: when a customer entered the segment>
//! -- contacts: included        (optional: the view has phone, email, wechat_unionid)
//! ```

use std::fmt::Write;
use std::path::Path;

#[path = "src/leading_comments.rs"]
mod leading_comments;

/// The `.sql` files of `dir` under the crate, sorted; cargo runs this
/// script again when one changes.
fn sql_files(dir: &str) -> Vec<std::path::PathBuf> {
    let manifest = std::env::var("CARGO_MANIFEST_DIR").expect("set by cargo");
    let dir = Path::new(&manifest).join(dir);
    println!("cargo::rerun-if-changed={}", dir.display());
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .map(|entries| {
            entries
                .map(|e| e.expect("a readable directory entry").path())
                .filter(|p| p.extension().is_some_and(|e| e == "sql"))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

fn main() {
    segments();
    alerts();
}

fn alerts() {
    let mut list = String::new();
    for path in sql_files("alerts") {
        let name = path
            .file_stem()
            .and_then(|s| s.to_str())
            .expect("a UTF-8 file name");
        writeln!(
            list,
            "    ({name:?}, include_str!({:?})),",
            path.display().to_string()
        )
        .expect("writing to a String");
    }
    let out = Path::new(&std::env::var("OUT_DIR").expect("set by cargo")).join("alerts.rs");
    std::fs::write(
        out,
        format!("/// The files of `alerts/*.sql`: name and text.\nconst ALERT_FILES: &[(&str, &str)] = &[\n{list}];\n"),
    )
    .expect("writing OUT_DIR/alerts.rs");
}

fn segments() {
    let (mut views, mut segments) = (String::new(), String::new());
    for path in sql_files("segments") {
        let name = path
            .file_stem()
            .and_then(|s| s.to_str())
            .expect("a UTF-8 file name");
        assert!(
            !name.is_empty()
                && name
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
            "{}: a segment's file name is its view's name: lower-case letters, digits and _",
            path.display()
        );
        let text = std::fs::read_to_string(&path).expect("a readable segment file");
        let meta = |key: &str| leading_comments::leading_setting(&text, key);
        let required = |key: &str| {
            meta(key).unwrap_or_else(|| {
                panic!(
                    "{}: a segment needs a leading `-- {key}: ...` comment",
                    path.display()
                )
            })
        };
        let (description, entered_at) = (required("description"), required("entered_at"));
        let contacts = meta("contacts").as_deref() == Some("included");
        assert!(
            text.contains(&format!("CREATE VIEW {name} ")),
            "{}: the file must create the view {name}",
            path.display()
        );
        writeln!(
            views,
            "    View {{ name: {name:?}, sql: include_str!({:?}) }},",
            path.display().to_string()
        )
        .expect("writing to a String");
        writeln!(
            segments,
            "    Segment {{ name: {name:?}, description: {description:?}, entered_at: {entered_at:?}, has_contacts: {contacts} }},"
        )
        .expect("writing to a String");
    }
    let out = Path::new(&std::env::var("OUT_DIR").expect("set by cargo")).join("segments.rs");
    std::fs::write(
        out,
        format!(
            "/// The views of `segments/*.sql`.\npub const SEGMENT_VIEWS: &[View] = &[\n{views}];\n\n/// The segments of `segments/*.sql`.\nconst FILE_SEGMENTS: &[Segment] = &[\n{segments}];\n"
        ),
    )
    .expect("writing OUT_DIR/segments.rs");
}
