//! The Postgres protocol: the real `ordergraph serve` process, real clients
//! (tokio-postgres, and psql as a BI tool's stand-in), real logins against
//! Argon2 hashes written by `ordergraph hash-password`.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::SystemTime;

use tokio_postgres::error::SqlState;
use tokio_postgres::types::Type;
use tokio_postgres::{Client, NoTls};

use crate::HEADER;

const BIN: &str = env!("CARGO_BIN_EXE_ordergraph");

/// `ordergraph serve` with the HTTP, Postgres and Flight SQL listeners on
/// free ports.
pub(crate) struct PgProcess {
    child: Child,
    pub(crate) http_port: u16,
    pub(crate) pg_port: u16,
    pub(crate) flight_port: u16,
}

impl Drop for PgProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl PgProcess {
    pub(crate) fn start(data: &Path) -> PgProcess {
        let mut child = Command::new(BIN)
            .arg("--data")
            .arg(data)
            .args(["serve", "--listen", "127.0.0.1:0"])
            .args(["--pg-listen", "127.0.0.1:0"])
            .args(["--flight-listen", "127.0.0.1:0"])
            .env("RUST_LOG", "info")
            .env("NO_COLOR", "1")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let port = |line: &str| -> u16 {
            let at = line.find("127.0.0.1:").expect("an address") + "127.0.0.1:".len();
            let port: String = line[at..]
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            port.parse().unwrap()
        };
        let (mut http_port, mut pg_port, mut flight_port) = (None, None, None);
        while http_port.is_none() || pg_port.is_none() || flight_port.is_none() {
            let line = lines
                .next()
                .expect("the server exited before listening")
                .unwrap();
            if line.contains("postgres listening") {
                pg_port = Some(port(&line));
            } else if line.contains("flight listening") {
                flight_port = Some(port(&line));
            } else if line.contains("listening") {
                http_port = Some(port(&line));
            }
        }
        std::thread::spawn(move || for _ in lines {});
        PgProcess {
            child,
            http_port: http_port.expect("read above"),
            pg_port: pg_port.expect("read above"),
            flight_port: flight_port.expect("read above"),
        }
    }

    /// The server's process id.
    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The exit status, if the server has exited.
    pub(crate) fn try_wait(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().unwrap()
    }

    pub(crate) async fn connect(
        &self,
        user: &str,
        password: &str,
    ) -> Result<Client, tokio_postgres::Error> {
        let (client, connection) = tokio_postgres::Config::new()
            .host("127.0.0.1")
            .port(self.pg_port)
            .user(user)
            .password(password)
            .dbname("ordergraph")
            .connect(NoTls)
            .await?;
        tokio::spawn(connection);
        Ok(client)
    }

    fn psql(&self, command: &str) -> String {
        let out = Command::new("psql")
            .args(["-h", "127.0.0.1", "-U", "admin", "-d", "ordergraph", "-X"])
            .args(["-p", &self.pg_port.to_string(), "-c", command])
            .env("PGPASSWORD", "s3cret admin")
            .output()
            .expect("psql (package postgresql-client; .ci/run installs it)");
        assert!(
            out.status.success(),
            "psql -c '{command}': {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }
}

fn hash_password(password: &str) -> String {
    let mut child = Command::new(BIN)
        .arg("hash-password")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    writeln!(child.stdin.take().unwrap(), "{password}").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let hash = String::from_utf8(out.stdout).unwrap().trim().to_string();
    assert!(hash.starts_with("$argon2id$"), "{hash}");
    hash
}

/// A data directory with three orders and a user of each role.
pub(crate) fn prepare(dir: &Path) {
    let config = format!(
        "[report]\nnow = \"2026-02-01T00:00:00Z\"\n\n\
         [[users]]\nname = \"admin\"\nrole = \"admin\"\npassword_hash = \"{}\"\n\n\
         [[users]]\nname = \"loader\"\nrole = \"ingest\"\npassword_hash = \"{}\"\n\n\
         [[users]]\nname = \"ana\"\nrole = \"analyst\"\npassword_hash = \"{}\"\n\n\
         [[users]]\nname = \"mkt\"\nrole = \"marketing\"\npassword_hash = \"{}\"\n\n\
         [[users]]\nname = \"sup\"\nrole = \"support\"\npassword_hash = \"{}\"\n",
        hash_password("s3cret admin"),
        hash_password("loader pw"),
        hash_password("analyst pw"),
        hash_password("mkt pw"),
        hash_password("sup pw"),
    );
    std::fs::write(dir.join("ordergraph.toml"), config).unwrap();
    let csv = dir.join("orders.csv");
    std::fs::write(
        &csv,
        format!(
            "{HEADER}\
             T1,tmall,2026-01-05T10:00:00+08:00,tb_1,13812345678,,,,199.00,paid,上海,,,\n\
             J1,jd,2026-01-06T10:00:00+08:00,jd_1,+86 138-1234-5678,,,,88.50,shipped,上海,,,\n\
             P1,pdd,2026-01-07T10:00:00+08:00,pdd_1,13900001111,,,,10.00,created,北京,,,\n"
        ),
    )
    .unwrap();
    let status = Command::new(BIN)
        .arg("--data")
        .arg(dir)
        .args(["ingest", "orders"])
        .arg(&csv)
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
}

fn code(error: &tokio_postgres::Error) -> SqlState {
    error
        .code()
        .cloned()
        .unwrap_or_else(|| panic!("a server error, got {error}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_clients_query_read_only_with_passwords() {
    let dir = tempfile::tempdir().unwrap();
    prepare(dir.path());
    let server = PgProcess::start(dir.path());

    // Logins: wrong password, unknown user, then the right one.
    let wrong = server.connect("admin", "nope").await.unwrap_err();
    assert_eq!(code(&wrong), SqlState::INVALID_PASSWORD);
    let unknown = server.connect("mallory", "s3cret admin").await.unwrap_err();
    assert_eq!(code(&unknown), SqlState::INVALID_PASSWORD);
    let admin = server.connect("admin", "s3cret admin").await.unwrap();

    // Simple protocol.
    let rows = admin
        .simple_query("SELECT count(*) FROM orders")
        .await
        .unwrap();
    let count = rows.iter().find_map(|m| match m {
        tokio_postgres::SimpleQueryMessage::Row(r) => r.get(0).map(str::to_string),
        _ => None,
    });
    assert_eq!(count.as_deref(), Some("3"));

    // Settings tools read, in PostgreSQL's wording, in both protocols.
    for (show, expected) in [
        ("SHOW TRANSACTION ISOLATION LEVEL", "read committed"),
        ("SHOW transaction_isolation", "read committed"),
        ("SHOW transaction_read_only", "on"),
        ("SHOW server_version", "16.6"),
        ("SHOW server_version_num", "160006"),
        ("SHOW standard_conforming_strings", "on"),
    ] {
        let rows = admin.simple_query(show).await.unwrap();
        let value = rows.iter().find_map(|m| match m {
            tokio_postgres::SimpleQueryMessage::Row(r) => r.get(0).map(str::to_string),
            _ => None,
        });
        assert_eq!(value.as_deref(), Some(expected), "{show}");
        let row = admin.query_one(show, &[]).await.unwrap();
        assert_eq!(row.get::<_, String>(0), expected, "{show} (extended)");
    }

    // Extended protocol: a prepared statement with parameters, and the
    // types drivers map columns by.
    let by_key = admin
        .prepare(
            "SELECT order_id, amount, ordered_at, mcid, status = 'paid' AS is_paid \
             FROM orders WHERE channel = $1 AND order_id = $2",
        )
        .await
        .unwrap();
    let types: Vec<&Type> = by_key.columns().iter().map(|c| c.type_()).collect();
    assert_eq!(types[1], &Type::NUMERIC, "amount");
    assert_eq!(types[2], &Type::TIMESTAMPTZ, "ordered_at");
    assert_eq!(types[4], &Type::BOOL);
    let rows = admin.query(&by_key, &[&"tmall", &"T1"]).await.unwrap();
    assert_eq!(rows.len(), 1);
    let ordered_at: SystemTime = rows[0].get(2);
    let seconds = ordered_at
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert_eq!(seconds, 1_767_578_400, "2026-01-05T02:00:00Z");
    let tmall_mcid: String = rows[0].get(3);
    assert!(tmall_mcid.starts_with("MC"));
    assert!(rows[0].get::<_, bool>(4));
    // The same phone in another format: the same customer.
    let rows = admin.query(&by_key, &[&"jd", &"J1"]).await.unwrap();
    assert_eq!(rows[0].get::<_, String>(3), tmall_mcid);

    let lists = admin
        .query("SELECT make_array('a', 'b') AS l", &[])
        .await
        .unwrap();
    assert_eq!(lists[0].columns()[0].type_(), &Type::TEXT_ARRAY);
    assert_eq!(lists[0].get::<_, Vec<String>>(0), ["a", "b"]);

    // A correlated scalar subquery is answered, not replaced by NULL (as
    // datafusion-postgres's compatibility rewrite would), in both protocols.
    let correlated = "SELECT o.order_id, (SELECT count(*) FROM orders i WHERE i.mcid = o.mcid) AS n \
                      FROM orders o ORDER BY o.order_id";
    let rows = admin.query(correlated, &[]).await.unwrap();
    let counts: Vec<(String, i64)> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
    assert_eq!(
        counts,
        [("J1".into(), 2), ("P1".into(), 1), ("T1".into(), 2)]
    );
    let simple = admin.simple_query(correlated).await.unwrap();
    let first = simple.iter().find_map(|m| match m {
        tokio_postgres::SimpleQueryMessage::Row(r) => r.get(1).map(str::to_string),
        _ => None,
    });
    assert_eq!(first.as_deref(), Some("2"));

    // Views answer as of the configured report clock.
    let now: SystemTime = admin
        .query_one("SELECT now FROM report_config", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(
        now.duration_since(SystemTime::UNIX_EPOCH)
            .unwrap()
            .as_secs(),
        1_769_904_000
    );

    // What clients send at connect time, and catalog look-ups.
    for statement in [
        "SET extra_float_digits = 3",
        "SET application_name = 'PostgreSQL JDBC Driver'",
        "SET client_min_messages = warning",
        "SET TIME ZONE 'UTC'",
        "DISCARD ALL",
        "BEGIN",
        "SAVEPOINT _pg3_1",
        "RELEASE SAVEPOINT _pg3_1",
        "SAVEPOINT b",
        "ROLLBACK TO SAVEPOINT b",
        "COMMIT",
    ] {
        admin
            .batch_execute(statement)
            .await
            .unwrap_or_else(|e| panic!("{statement}: {e}"));
    }
    let version: String = admin
        .query_one("SELECT version()", &[])
        .await
        .unwrap()
        .get(0);
    assert!(version.starts_with("PostgreSQL 16"), "{version}");
    let schema: String = admin
        .query_one("SELECT current_schema()", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(schema, "public");
    let tables = admin
        .query(
            "SELECT c.relname FROM pg_catalog.pg_class c \
             JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
             WHERE n.nspname = 'public' AND c.relname IN ('orders', 'customers') ORDER BY 1",
            &[],
        )
        .await
        .unwrap();
    let names: Vec<String> = tables.iter().map(|r| r.get(0)).collect();
    assert_eq!(names, ["customers", "orders"]);
    let typname: String = admin
        .query_one(
            "SELECT typname FROM pg_catalog.pg_type WHERE oid = 1184",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(typname, "timestamptz");

    // Read-only, whatever the statement.
    for statement in [
        "CREATE TABLE t (a INT)",
        "CREATE VIEW v AS SELECT 1",
        "INSERT INTO orders (order_id) VALUES ('x')",
        "DELETE FROM orders",
        "COPY (SELECT 1) TO '/tmp/ordergraph-pg-copy.csv'",
        "DROP TABLE orders",
    ] {
        let Err(error) = admin.batch_execute(statement).await else {
            panic!("{statement} was accepted");
        };
        assert_eq!(
            code(&error),
            SqlState::READ_ONLY_SQL_TRANSACTION,
            "{statement}: {error}"
        );
    }
    assert!(
        !Path::new("/tmp/ordergraph-pg-copy.csv").exists(),
        "COPY wrote nothing"
    );
    // Not even parsed by the Postgres dialect.
    let error = admin
        .batch_execute("CREATE EXTERNAL TABLE e STORED AS CSV LOCATION '/etc/passwd'")
        .await
        .unwrap_err();
    assert!(error.as_db_error().is_some(), "{error}");
    let error = admin
        .batch_execute("SET datafusion.runtime.memory_limit = '1T'")
        .await
        .unwrap_err();
    assert_eq!(code(&error), SqlState::INSUFFICIENT_PRIVILEGE);
    // Refused in the extended protocol too.
    let error = admin.prepare("DROP TABLE orders").await.unwrap_err();
    assert_eq!(code(&error), SqlState::READ_ONLY_SQL_TRANSACTION);
    let count: i64 = admin
        .query_one("SELECT count(*) FROM orders", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(count, 3, "nothing was changed");

    // The ingest role logs in but may not query.
    let loader = server.connect("loader", "loader pw").await.unwrap();
    let error = loader.simple_query("SELECT 1").await.unwrap_err();
    assert_eq!(code(&error), SqlState::INSUFFICIENT_PRIVILEGE);

    // The analyst sees phones masked in both protocols and on the catalog
    // compatibility path (a query naming pg_*); the admin sees them clear.
    let analyst = server.connect("ana", "analyst pw").await.unwrap();
    let by_phone = "SELECT phone FROM orders WHERE order_id = 'J1'";
    let via_catalog = "SELECT o.phone FROM orders o WHERE o.order_id = 'J1' \
                       AND EXISTS (SELECT 1 FROM pg_catalog.pg_namespace)";
    for sql in [by_phone, via_catalog] {
        let phone: String = analyst.query_one(sql, &[]).await.unwrap().get(0);
        assert_eq!(phone, "138****5678", "{sql}");
        let simple = analyst.simple_query(sql).await.unwrap();
        let phone = simple.iter().find_map(|m| match m {
            tokio_postgres::SimpleQueryMessage::Row(r) => r.get(0).map(str::to_string),
            _ => None,
        });
        assert_eq!(phone.as_deref(), Some("138****5678"), "{sql}");
        let clear: String = admin.query_one(sql, &[]).await.unwrap().get(0);
        assert_eq!(clear, "+86 138-1234-5678", "{sql}");
    }

    // Marketing reads the segments and contacts, support the customer
    // records; each may list the catalog, neither reads beyond its views.
    let marketing = server.connect("mkt", "mkt pw").await.unwrap();
    let support = server.connect("sup", "sup pw").await.unwrap();
    for (client, allowed, refused) in [
        (
            &marketing,
            "SELECT count(*) FROM high_value_prospects",
            "SELECT phone FROM orders",
        ),
        (
            &marketing,
            "SELECT count(*) FROM customer_contacts",
            "SELECT count(*) FROM customers",
        ),
        (
            &support,
            "SELECT count(*) FROM customers",
            "SELECT count(*) FROM stock_forecast",
        ),
        (
            &support,
            "SELECT phone FROM orders",
            "SELECT count(*) FROM high_value_prospects",
        ),
    ] {
        client
            .query(allowed, &[])
            .await
            .unwrap_or_else(|e| panic!("{allowed}: {:?}", e.as_db_error()));
        let error = client.query(refused, &[]).await.unwrap_err();
        assert_eq!(
            code(&error),
            SqlState::INSUFFICIENT_PRIVILEGE,
            "{refused}: {error}"
        );
        let error = client.simple_query(refused).await.unwrap_err();
        assert_eq!(
            code(&error),
            SqlState::INSUFFICIENT_PRIVILEGE,
            "{refused}: {error}"
        );
        // A view it may read does not open the tables under it to a join.
        let error = client
            .query(
                &format!("SELECT * FROM ({allowed}) a CROSS JOIN orders"),
                &[],
            )
            .await;
        if refused.contains("FROM orders") {
            assert!(error.is_err());
        }
    }
    let tables = marketing
        .query(
            "SELECT table_name FROM information_schema.tables WHERE table_name = 'orders'",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(tables.len(), 1, "the catalog lists what exists");
    // Support sees contacts clear.
    let phone: String = support.query_one(by_phone, &[]).await.unwrap().get(0);
    assert_eq!(phone, "+86 138-1234-5678");

    // psql's meta-commands run catalog queries of their own.
    let listing = server.psql("\\dt");
    assert!(listing.contains("orders"), "{listing}");
    let described = server.psql("\\d orders");
    assert!(described.contains("mcid"), "{described}");
    assert!(
        described.contains("timestamp with time zone"),
        "{described}"
    );
}

/// The compatibility path is chosen by the relations a query reads, not by
/// its text: a literal or alias containing `pg_` leaves the query on the
/// direct path, whose correlated subquery is answered (the compatibility
/// path gives NULL), while a query of `pg_catalog` still runs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_catalog_relations_take_the_compatibility_path() {
    let dir = tempfile::tempdir().unwrap();
    prepare(dir.path());
    let server = PgProcess::start(dir.path());
    let admin = server.connect("admin", "s3cret admin").await.unwrap();

    let sql = "SELECT o.order_id, 'x.jpg_1' AS file, \
               (SELECT count(*) FROM orders i WHERE i.mcid = o.mcid) AS pg_n \
               FROM orders o ORDER BY o.order_id";
    let rows = admin.query(sql, &[]).await.unwrap();
    let got: Vec<(String, String, i64)> = rows
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    assert_eq!(
        got,
        [
            ("J1".into(), "x.jpg_1".into(), 2),
            ("P1".into(), "x.jpg_1".into(), 1),
            ("T1".into(), "x.jpg_1".into(), 2),
        ]
    );
    let simple = admin.simple_query(sql).await.unwrap();
    let got: Vec<(Option<String>, Option<String>)> = simple
        .iter()
        .filter_map(|m| match m {
            tokio_postgres::SimpleQueryMessage::Row(r) => {
                Some((r.get(1).map(str::to_string), r.get(2).map(str::to_string)))
            }
            _ => None,
        })
        .collect();
    let expected = |n: &str| (Some("x.jpg_1".to_string()), Some(n.to_string()));
    assert_eq!(got, [expected("2"), expected("1"), expected("2")]);

    let catalog = "SELECT c.relname FROM pg_catalog.pg_class c \
                   JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
                   WHERE n.nspname = 'public' AND c.relname = 'orders'";
    let names: Vec<String> = admin
        .query(catalog, &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(names, ["orders"]);
    let simple = admin.simple_query(catalog).await.unwrap();
    let name = simple.iter().find_map(|m| match m {
        tokio_postgres::SimpleQueryMessage::Row(r) => r.get(0).map(str::to_string),
        _ => None,
    });
    assert_eq!(name.as_deref(), Some("orders"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeated_failed_logins_are_throttled() {
    let dir = tempfile::tempdir().unwrap();
    prepare(dir.path());
    let server = PgProcess::start(dir.path());
    for _ in 0..5 {
        let error = server.connect("admin", "guess").await.unwrap_err();
        assert_eq!(code(&error), SqlState::INVALID_PASSWORD);
    }
    // Now even the right password is not checked for a while.
    let error = server.connect("admin", "s3cret admin").await.unwrap_err();
    assert_eq!(code(&error), SqlState::INVALID_AUTHORIZATION_SPECIFICATION);
}

/// Wrong passwords sent at once from one address count as their checks
/// start: only as many are checked as failures are allowed, the rest are
/// refused as throttled.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_failed_logins_is_throttled_at_once() {
    let dir = tempfile::tempdir().unwrap();
    prepare(dir.path());
    let server = PgProcess::start(dir.path());
    let burst = (0..12).map(|_| server.connect("admin", "guess"));
    let codes: Vec<SqlState> = futures::future::join_all(burst)
        .await
        .iter()
        .map(|r| match r {
            Ok(_) => panic!("a wrong password was accepted"),
            Err(e) => code(e),
        })
        .collect();
    let count = |state: &SqlState| codes.iter().filter(|c| *c == state).count();
    assert_eq!(count(&SqlState::INVALID_PASSWORD), 5, "{codes:?}");
    assert_eq!(
        count(&SqlState::INVALID_AUTHORIZATION_SPECIFICATION),
        7,
        "{codes:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runaway_queries_and_huge_results_end_with_an_error() {
    let dir = tempfile::tempdir().unwrap();
    prepare(dir.path());
    let config = dir.path().join("ordergraph.toml");
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str(
        "\n[limits]\nquery_timeout_seconds = 5\nmax_result_rows = 5\n\
         [limits.roles.analyst]\nmax_result_rows = 2\nquery_memory_mib = 1\n",
    );
    std::fs::write(&config, text).unwrap();
    let server = PgProcess::start(dir.path());
    let admin = server.connect("admin", "s3cret admin").await.unwrap();

    // Within the limits.
    let rows = admin
        .query("SELECT value FROM generate_series(1, 5) AS t(value)", &[])
        .await
        .unwrap();
    assert_eq!(rows.len(), 5);
    // One row too many: an error, in both protocols.
    let six = "SELECT value FROM generate_series(1, 6) AS t(value)";
    let error = admin.query(six, &[]).await.unwrap_err();
    assert_eq!(code(&error), SqlState::PROGRAM_LIMIT_EXCEEDED, "{error}");
    let error = admin.simple_query(six).await.unwrap_err();
    assert_eq!(code(&error), SqlState::PROGRAM_LIMIT_EXCEEDED, "{error}");
    // The analyst role has its own, lower limit.
    let analyst = server.connect("ana", "analyst pw").await.unwrap();
    let three = "SELECT value FROM generate_series(1, 3) AS t(value)";
    let error = analyst.query(three, &[]).await.unwrap_err();
    assert_eq!(code(&error), SqlState::PROGRAM_LIMIT_EXCEEDED, "{error}");
    assert_eq!(admin.query(three, &[]).await.unwrap().len(), 3);
    // And its own memory cap: a hash join's build side cannot spill, and
    // 200,000 keys need more than 1 MiB; the admin's query runs.
    let join = "SELECT count(*) FROM range(0, 200000) a(x) JOIN range(0, 200000) b(y) ON x = y";
    let error = analyst.query(join, &[]).await.unwrap_err();
    assert_eq!(code(&error), SqlState::PROGRAM_LIMIT_EXCEEDED, "{error}");
    assert!(reason(&error).contains("query_memory_mib"), "{error}");
    let error = analyst.simple_query(join).await.unwrap_err();
    assert_eq!(code(&error), SqlState::PROGRAM_LIMIT_EXCEEDED, "{error}");
    let joined: i64 = admin.query_one(join, &[]).await.unwrap().get(0);
    assert_eq!(joined, 200_000);
    // A query that would run for minutes is cancelled after the timeout,
    // and the connection and server go on.
    let started = std::time::Instant::now();
    let error = admin
        .simple_query("SELECT count(*) FROM generate_series(1, 100000000000)")
        .await
        .unwrap_err();
    assert_eq!(code(&error), SqlState::QUERY_CANCELED, "{error}");
    assert!(started.elapsed() < std::time::Duration::from_secs(30));
    let count: i64 = admin
        .query_one("SELECT count(*) FROM orders", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(count, 3);
}

/// psycopg, SQLAlchemy and pandas, the clients of analysts' scripts and of
/// Superset (`server/tests/python/pg_clients.py`; .ci/run installs them).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_clients_connect_and_query() {
    let dir = tempfile::tempdir().unwrap();
    prepare(dir.path());
    let server = PgProcess::start(dir.path());
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/python/pg_clients.py");
    // The server is another process, so waiting here blocks nothing of it.
    let out = Command::new("python3")
        .arg(script)
        .env("PG_PORT", server.pg_port.to_string())
        .env("PG_USER", "admin")
        .env("PG_PASSWORD", "s3cret admin")
        .output()
        .expect("python3");
    crate::assert_succeeded(&out);
}

/// The server's message of an error, or the error itself.
fn reason(e: &tokio_postgres::Error) -> String {
    e.as_db_error().map_or_else(
        || e.to_string(),
        |d| format!("{} {}", d.code().code(), d.message()),
    )
}

/// One recorded statement of a BI tool or driver.
struct Recorded {
    name: String,
    sql: String,
}

/// The statements in `server/tests/data/bi_catalog_queries.sql`: entries
/// separated by blank lines, each `-- name: tool/purpose`, comments, SQL.
fn recorded_catalog_queries() -> Vec<Recorded> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/bi_catalog_queries.sql"
    );
    let text = std::fs::read_to_string(path).unwrap();
    let mut entries = Vec::new();
    for block in text.split("\n\n") {
        // Leading metadata lines; the rest is the SQL as the tool sends
        // it (its own comments included).
        const META: [&str; 4] = ["-- name:", "-- source:", "-- reconstructed:", "-- note:"];
        let lines: Vec<&str> = block.lines().collect();
        let sql_from = lines
            .iter()
            .position(|l| !META.iter().any(|m| l.starts_with(m)))
            .unwrap_or(lines.len());
        let name = lines[..sql_from]
            .iter()
            .find_map(|l| l.strip_prefix("-- name:"))
            .map(|n| n.trim().to_string());
        let sql = lines[sql_from..].join("\n").trim().to_string();
        if let Some(name) = name
            && !sql.is_empty()
        {
            entries.push(Recorded { name, sql });
        }
    }
    entries
}

/// What Metabase, DBeaver (pgjdbc), Superset (SQLAlchemy), Power BI
/// (Npgsql) and Grafana send at connect time and while browsing a table,
/// recorded from their sources, in the protocol each uses: every one runs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bi_tools_catalog_queries_run() {
    let dir = tempfile::tempdir().unwrap();
    prepare(dir.path());
    let server = PgProcess::start(dir.path());
    let client = server.connect("admin", "s3cret admin").await.unwrap();
    let recorded = recorded_catalog_queries();
    assert!(recorded.len() >= 20, "{} statements", recorded.len());
    let mut failed = Vec::new();
    for r in &recorded {
        // JDBC and Npgsql send everything through the extended protocol,
        // psql and Grafana's driver the simple one: both must work.
        if let Err(e) = client.simple_query(&r.sql).await {
            failed.push(format!("{} (simple): {}", r.name, reason(&e)));
        }
        // One statement per extended-protocol message; SETs are sent
        // plainly by every driver here.
        let single = r.sql.trim_end_matches(';');
        let code_lines = single.lines().filter(|l| !l.trim_start().starts_with("--"));
        let is_query = code_lines.clone().any(|l| !l.trim().is_empty())
            && !single.contains(';')
            && !single.trim_start().to_ascii_lowercase().starts_with("set ");
        if is_query && let Err(e) = client.query(single, &[]).await {
            failed.push(format!("{} (extended): {}", r.name, reason(&e)));
        }
    }
    assert!(
        failed.is_empty(),
        "{} of {} recorded statements failed:\n{}",
        failed.len(),
        recorded.len(),
        failed.join("\n")
    );
}
