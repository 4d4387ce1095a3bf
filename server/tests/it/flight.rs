//! Arrow Flight SQL with the ADBC driver from Python
//! (`server/tests/python/flight_clients.py`; .ci/run installs it): logins,
//! roles, masking, read-only, parameters, and a million rows streamed.

use std::path::Path;
use std::process::{Command, Stdio};

use crate::pg::{PgProcess, prepare};

/// Peak resident memory of a process, in KiB (`VmHWM`).
pub(crate) fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM in /proc/<pid>/status")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn adbc_clients_query_over_flight_sql() {
    let dir = tempfile::tempdir().unwrap();
    prepare(dir.path());
    let server = PgProcess::start(dir.path());
    let before = peak_rss_kib(server.pid());
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/python/flight_clients.py"
    );
    let out = Command::new("python3")
        .arg(script)
        .env("FLIGHT_PORT", server.flight_port.to_string())
        .output()
        .expect("python3");
    crate::assert_succeeded(&out);
    // A million rows of ~1 KB went through: about 1 GiB. Streamed, the
    // server's peak grows by its sessions and a few batches in flight,
    // far below the result.
    let grew_mib = (peak_rss_kib(server.pid()) - before) / 1024;
    assert!(grew_mib < 256, "the server's peak RSS grew {grew_mib} MiB");
    eprintln!(
        "{}server peak RSS grew {grew_mib} MiB",
        String::from_utf8_lossy(&out.stdout)
    );
}

/// A self-signed certificate for localhost and 127.0.0.1 (openssl), as
/// cert.pem and key.pem in `dir`.
fn self_signed(dir: &Path) {
    let status = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
        ])
        .args(["-nodes", "-days", "2", "-subj", "/CN=localhost"])
        .args(["-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"])
        .arg("-keyout")
        .arg(dir.join("key.pem"))
        .arg("-out")
        .arg(dir.join("cert.pem"))
        .stderr(Stdio::null())
        .status()
        .expect("openssl");
    assert!(status.success());
}

/// ADBC over `grpc+tls://` trusting only our certificate, then the same
/// over plain gRPC, which must fail.
const FLIGHT_TLS: &str = r#"
import os, sys
import adbc_driver_flightsql as fs
import adbc_driver_flightsql.dbapi as flight_sql
port, cert = os.environ["FLIGHT_PORT"], open(os.environ["CERT"]).read()
login = {"username": "admin", "password": "s3cret admin"}
tls = {**login, fs.DatabaseOptions.TLS_ROOT_CERTS.value: cert}
with flight_sql.connect(f"grpc+tls://localhost:{port}", db_kwargs=tls, autocommit=True) as conn, conn.cursor() as cur:
    cur.execute("SELECT count(*) FROM orders")
    assert cur.fetchone() == (3,)
# The analyst's own memory cap holds on Flight SQL too.
analyst = {"username": "ana", "password": "analyst pw", fs.DatabaseOptions.TLS_ROOT_CERTS.value: cert}
with flight_sql.connect(f"grpc+tls://localhost:{port}", db_kwargs=analyst, autocommit=True) as conn, conn.cursor() as cur:
    try:
        cur.execute("SELECT count(*) FROM range(0, 200000) a(x) JOIN range(0, 200000) b(y) ON x = y")
        cur.fetchall()
    except Exception as e:
        assert "query_memory_mib" in str(e), e
    else:
        sys.exit("the analyst's join ran past its memory cap")
try:
    with flight_sql.connect(f"grpc://127.0.0.1:{port}", db_kwargs=login, autocommit=True) as conn, conn.cursor() as cur:
        cur.execute("SELECT 1")
except Exception as e:
    print("plain gRPC refused:", type(e).__name__)
else:
    sys.exit("plain gRPC was accepted by a TLS listener")
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flight_sql_and_postgres_speak_tls_and_hold_role_memory_caps() {
    let dir = tempfile::tempdir().unwrap();
    prepare(dir.path());
    self_signed(dir.path());
    let config = dir.path().join("ordergraph.toml");
    let mut text = std::fs::read_to_string(&config).unwrap();
    for section in ["postgres", "flight"] {
        text.push_str(&format!(
            "\n[{section}]\ntls_cert = \"cert.pem\"\ntls_key = \"key.pem\"\n"
        ));
        if section == "postgres" {
            text.push_str("require_tls = true\n");
        }
    }
    text.push_str("\n[limits.roles.analyst]\nquery_memory_mib = 1\n");
    std::fs::write(&config, text).unwrap();
    let server = PgProcess::start(dir.path());
    let cert = dir.path().join("cert.pem");

    let out = Command::new("python3")
        .args(["-c", FLIGHT_TLS])
        .env("FLIGHT_PORT", server.flight_port.to_string())
        .env("CERT", &cert)
        .output()
        .expect("python3");
    crate::assert_succeeded(&out);

    // psql verifying the certificate and the host name.
    let conninfo = format!(
        "host=localhost port={} user=admin dbname=ordergraph sslmode=verify-full sslrootcert={}",
        server.pg_port,
        cert.display()
    );
    let out = Command::new("psql")
        .args([conninfo.as_str(), "-X", "-A", "-t", "-c"])
        .arg("SELECT count(*) FROM orders")
        .env("PGPASSWORD", "s3cret admin")
        .output()
        .expect("psql");
    assert!(
        out.status.success(),
        "psql over TLS: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "3");
    // Without TLS the login is refused before a password is sent.
    let error = server
        .connect("admin", "s3cret admin")
        .await
        .expect_err("a plain-text login to a require_tls server");
    assert!(format!("{error:?}").contains("requires TLS"), "{error:?}");
}
