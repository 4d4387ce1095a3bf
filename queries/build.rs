//! Turns every `segments/<name>.sql` into a view and a segment of the
//! export API, so a new segment is one SQL file. Each file holds one
//! `CREATE VIEW <name>` and, in its leading comments:
//!
//! ```text
//! -- description: what the members have in common
//! -- entered_at: <column: when a customer entered the segment>
//! -- contacts: included        (optional: the view has phone, email, wechat_unionid)
//! ```

use std::fmt::Write;
use std::path::Path;

fn main() {
    let manifest = std::env::var("CARGO_MANIFEST_DIR").expect("set by cargo");
    let dir = Path::new(&manifest).join("segments");
    println!("cargo::rerun-if-changed={}", dir.display());
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .map(|entries| {
            entries
                .map(|e| e.expect("a readable segments/ entry").path())
                .filter(|p| p.extension().is_some_and(|e| e == "sql"))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    let (mut views, mut segments) = (String::new(), String::new());
    for path in files {
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
        let meta = |key: &str| {
            text.lines()
                .take_while(|l| l.starts_with("--"))
                .find_map(|l| {
                    l.trim_start_matches('-')
                        .trim()
                        .strip_prefix(key)?
                        .strip_prefix(':')
                        .map(|v| v.trim().to_string())
                })
        };
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
