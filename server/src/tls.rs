//! TLS of the Postgres and Flight SQL listeners: the certificate chain and
//! private key that `[postgres]` or `[flight]` names, read at start-up, so
//! that files that do not load stop the server rather than leave it
//! speaking plain text.

use std::path::Path;

use anyhow::Context;

/// A PEM certificate chain and its private key.
pub(crate) struct PemPair {
    pub(crate) cert: Vec<u8>,
    pub(crate) key: Vec<u8>,
}

/// The pair configuration `section` names with `tls_cert` and `tls_key`
/// (relative to the data directory `dir`), or `None` if it names none.
/// The configuration sets both or neither.
pub(crate) fn configured(
    dir: &Path,
    section: &str,
    cert: Option<&Path>,
    key: Option<&Path>,
) -> anyhow::Result<Option<PemPair>> {
    let (Some(cert), Some(key)) = (cert, key) else {
        return Ok(None);
    };
    let read = |path: &Path, setting: &str| {
        let path = dir.join(path);
        std::fs::read(&path)
            .with_context(|| format!("reading [{section}] {setting} {}", path.display()))
    };
    Ok(Some(PemPair {
        cert: read(cert, "tls_cert")?,
        key: read(key, "tls_key")?,
    }))
}
