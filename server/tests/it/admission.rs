//! One table of admission cases, run through every protocol's real client:
//! HTTP `/v1/sql` (reqwest), the Postgres simple and extended query
//! protocols (tokio-postgres) and Flight SQL (arrow-flight's client), all
//! against one `ordergraph serve`. Each protocol answers in its own terms
//! (an HTTP status and code, a SQLSTATE, a gRPC status); each answer is
//! read back into one [`Outcome`], which must be the case's on every
//! protocol, because all of them pass the same gate.

use arrow_flight::error::FlightError;
use arrow_flight::sql::client::FlightSqlServiceClient;
use base64::Engine as _;
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::util::display::array_value_to_string;
use futures::TryStreamExt;
use ordergraph_engine::Role;
use ordergraph_server::access::role_allows;
use tokio_postgres::SimpleQueryMessage;
use tokio_postgres::error::SqlState;

use crate::pg::{PgProcess, prepare};

/// What comes of a statement, whichever protocol carried it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Outcome {
    /// It ran: the first column of each row, as text.
    Rows(Vec<String>),
    /// It was refused, for this reason.
    Refused(Reason),
    /// Anything else: the answer as the protocol gave it.
    Other(String),
}

/// Why a statement was refused or stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reason {
    /// The role may not run SQL, or may not read a table it names.
    Forbidden,
    /// It would write or change the schema.
    WritesRefused,
    /// It does not parse or plan.
    BadSql,
    /// Its result has more rows than the role's `max_result_rows`.
    TooManyRows,
    /// It needs more memory than the role's `query_memory_mib`.
    MemoryCap,
    /// It ran longer than the role's `query_timeout_seconds`.
    Timeout,
}

/// What a case expects.
#[derive(Debug, Clone, Copy)]
enum Expect {
    /// This many rows.
    Rows(usize),
    /// One row whose first column reads so.
    Value(&'static str),
    /// Refused, for this reason.
    Refused(Reason),
}

impl Expect {
    fn admits(self, outcome: &Outcome) -> bool {
        match (self, outcome) {
            (Expect::Rows(n), Outcome::Rows(rows)) => rows.len() == n,
            (Expect::Value(v), Outcome::Rows(rows)) => rows == &[v.to_string()],
            (Expect::Refused(expected), Outcome::Refused(reason)) => expected == *reason,
            _ => false,
        }
    }
}

/// A case: who runs what, and what must come of it.
struct Case {
    role: Role,
    sql: &'static str,
    expect: Expect,
}

const fn case(role: Role, sql: &'static str, expect: Expect) -> Case {
    Case { role, sql, expect }
}

/// The cases. [`prepare`] gives three orders (two of one customer) and a
/// user of each role; [`LIMITS`] gives the analyst and admin their limits.
const CASES: &[Case] = &[
    case(Role::Admin, "SELECT order_id FROM orders", Expect::Rows(3)),
    case(
        Role::Admin,
        "SELECT phone AS v FROM orders WHERE order_id = 'J1'",
        Expect::Value("+86 138-1234-5678"),
    ),
    // The analyst sees contacts masked, whatever the protocol.
    case(
        Role::Analyst,
        "SELECT phone AS v FROM orders WHERE order_id = 'J1'",
        Expect::Value("138****5678"),
    ),
    case(
        Role::Support,
        "SELECT phone AS v FROM orders WHERE order_id = 'J1'",
        Expect::Value("+86 138-1234-5678"),
    ),
    case(
        Role::Marketing,
        "SELECT count(*) AS n FROM high_value_prospects",
        Expect::Rows(1),
    ),
    case(
        Role::Marketing,
        "SELECT count(*) AS n FROM information_schema.tables",
        Expect::Rows(1),
    ),
    // Tables beyond the role's, alone or joined to a view it may read.
    case(
        Role::Marketing,
        "SELECT phone FROM orders",
        Expect::Refused(Reason::Forbidden),
    ),
    case(
        Role::Marketing,
        "SELECT h.mcid FROM high_value_prospects h JOIN orders o ON o.mcid = h.mcid",
        Expect::Refused(Reason::Forbidden),
    ),
    case(
        Role::Support,
        "SELECT count(*) FROM high_value_prospects",
        Expect::Refused(Reason::Forbidden),
    ),
    // Judged on the statement as written, before planning: a name the role
    // may not read is refused whether or not it exists.
    case(
        Role::Marketing,
        "SELECT * FROM no_such_table",
        Expect::Refused(Reason::Forbidden),
    ),
    case(Role::Ingest, "SELECT 1", Expect::Refused(Reason::Forbidden)),
    case(
        Role::Admin,
        "DROP TABLE orders",
        Expect::Refused(Reason::WritesRefused),
    ),
    case(
        Role::Admin,
        "CREATE VIEW v AS SELECT 1",
        Expect::Refused(Reason::WritesRefused),
    ),
    case(
        Role::Admin,
        "SELECT no_such_column FROM orders",
        Expect::Refused(Reason::BadSql),
    ),
    // The analyst's own limits: two rows, 1 MiB.
    case(
        Role::Analyst,
        "SELECT value FROM generate_series(1, 2) AS t(value)",
        Expect::Rows(2),
    ),
    case(
        Role::Analyst,
        "SELECT value FROM generate_series(1, 3) AS t(value)",
        Expect::Refused(Reason::TooManyRows),
    ),
    // A hash join's build side cannot spill: 200,000 keys need more than
    // 1 MiB.
    case(
        Role::Analyst,
        "SELECT count(*) FROM range(0, 200000) a(x) JOIN range(0, 200000) b(y) ON x = y",
        Expect::Refused(Reason::MemoryCap),
    ),
    case(
        Role::Admin,
        "SELECT value FROM generate_series(1, 3) AS t(value)",
        Expect::Rows(3),
    ),
    // The admin's own timeout: two seconds.
    case(
        Role::Admin,
        "SELECT count(*) FROM generate_series(1, 100000000000)",
        Expect::Refused(Reason::Timeout),
    ),
];

/// The per-role limits the cases rely on.
const LIMITS: &str = "\n[limits.roles.analyst]\nmax_result_rows = 2\nquery_memory_mib = 1\n\
                      [limits.roles.admin]\nquery_timeout_seconds = 2\n";

/// The login of [`prepare`]'s user of `role`.
fn login(role: Role) -> (&'static str, &'static str) {
    match role {
        Role::Admin => ("admin", "s3cret admin"),
        Role::Ingest => ("loader", "loader pw"),
        Role::Analyst => ("ana", "analyst pw"),
        Role::Marketing => ("mkt", "mkt pw"),
        Role::Support => ("sup", "sup pw"),
    }
}

/// The protocols a case runs through.
#[derive(Debug, Clone, Copy)]
enum Protocol {
    Http,
    PgSimple,
    PgExtended,
    Flight,
}

impl Protocol {
    async fn run(self, server: &PgProcess, role: Role, sql: &str) -> Outcome {
        match self {
            Protocol::Http => over_http(server, role, sql).await,
            Protocol::PgSimple | Protocol::PgExtended => {
                over_postgres(server, role, sql, matches!(self, Protocol::PgSimple)).await
            }
            Protocol::Flight => over_flight(server, role, sql).await,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_protocol_admits_alike() {
    let dir = tempfile::tempdir().unwrap();
    prepare(dir.path());
    let config = dir.path().join("ordergraph.toml");
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str(LIMITS);
    std::fs::write(&config, text).unwrap();
    let server = PgProcess::start(dir.path());

    let mut wrong = Vec::new();
    for case in CASES {
        for protocol in [
            Protocol::Http,
            Protocol::PgSimple,
            Protocol::PgExtended,
            Protocol::Flight,
        ] {
            let outcome = protocol.run(&server, case.role, case.sql).await;
            // HTTP lets only some roles reach /v1/sql at all (the other
            // roles have routes of their own): the rest are refused there
            // before any statement is read.
            let expect = match protocol {
                Protocol::Http if !role_allows(case.role, "/v1/sql") => {
                    Expect::Refused(Reason::Forbidden)
                }
                _ => case.expect,
            };
            if !expect.admits(&outcome) {
                wrong.push(format!(
                    "{protocol:?} as {}: {}\n  expected {expect:?}, got {outcome:?}",
                    case.role.as_str(),
                    case.sql
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

async fn over_http(server: &PgProcess, role: Role, sql: &str) -> Outcome {
    let (user, password) = login(role);
    let response = crate::client()
        .post(format!("http://127.0.0.1:{}/v1/sql", server.http_port))
        .basic_auth(user, Some(password))
        .body(sql.to_string())
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let body: serde_json::Value = response.json().await.unwrap();
    let code = body["error"].as_str().unwrap_or_default();
    let message = body["message"].as_str().unwrap_or_default();
    match (status, code) {
        (200, _) => {
            let rows = body.as_array().cloned().unwrap_or_default();
            Outcome::Rows(rows.iter().map(first_json_column).collect())
        }
        (403, _) => Outcome::Refused(Reason::Forbidden),
        (400, "bad_sql") if message.contains("not supported") => {
            Outcome::Refused(Reason::WritesRefused)
        }
        (400, "bad_sql") => Outcome::Refused(Reason::BadSql),
        (400, "too_many_rows") => Outcome::Refused(Reason::TooManyRows),
        (422, "query_memory_limit") => Outcome::Refused(Reason::MemoryCap),
        (408, "timeout") => Outcome::Refused(Reason::Timeout),
        _ => Outcome::Other(format!("{status} {body}")),
    }
}

/// The value of a JSON row's `v` column (the cases name the column whose
/// value they check `v`), else its `n`, as text.
fn first_json_column(row: &serde_json::Value) -> String {
    match row.get("v").or_else(|| row.get("n")) {
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
        None => row.to_string(),
    }
}

async fn over_postgres(server: &PgProcess, role: Role, sql: &str, simple: bool) -> Outcome {
    let (user, password) = login(role);
    let client = server.connect(user, password).await.unwrap();
    let rows = if simple {
        client.simple_query(sql).await.map(|messages| {
            messages
                .iter()
                .filter_map(|m| match m {
                    SimpleQueryMessage::Row(r) => Some(r.get(0).unwrap_or_default().to_string()),
                    _ => None,
                })
                .collect()
        })
    } else {
        client.query(sql, &[]).await.map(|rows| {
            rows.iter()
                .map(|r| r.try_get::<_, String>(0).unwrap_or_default())
                .collect()
        })
    };
    let error = match rows {
        Ok(rows) => return Outcome::Rows(rows),
        Err(error) => error,
    };
    let Some(db) = error.as_db_error() else {
        return Outcome::Other(error.to_string());
    };
    let message = db.message();
    match db.code() {
        c if *c == SqlState::INSUFFICIENT_PRIVILEGE => Outcome::Refused(Reason::Forbidden),
        c if *c == SqlState::READ_ONLY_SQL_TRANSACTION => Outcome::Refused(Reason::WritesRefused),
        c if *c == SqlState::PROGRAM_LIMIT_EXCEEDED && message.contains("max_result_rows") => {
            Outcome::Refused(Reason::TooManyRows)
        }
        c if *c == SqlState::PROGRAM_LIMIT_EXCEEDED && message.contains("query_memory_mib") => {
            Outcome::Refused(Reason::MemoryCap)
        }
        c if *c == SqlState::QUERY_CANCELED => Outcome::Refused(Reason::Timeout),
        // Syntax errors and access rule violations, 42501 aside.
        c if c.code().starts_with("42") => Outcome::Refused(Reason::BadSql),
        c => Outcome::Other(format!("{} {message}", c.code())),
    }
}

async fn over_flight(server: &PgProcess, role: Role, sql: &str) -> Outcome {
    let (user, password) = login(role);
    let channel =
        tonic::transport::Channel::from_shared(format!("http://127.0.0.1:{}", server.flight_port))
            .unwrap()
            .connect()
            .await
            .unwrap();
    let mut client = FlightSqlServiceClient::new(channel);
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    client.set_header("authorization", format!("Basic {basic}"));
    let batches = async {
        let info = client.execute(sql.to_string(), None).await?;
        let mut batches = Vec::new();
        for endpoint in info.endpoint {
            let ticket = endpoint
                .ticket
                .ok_or_else(|| FlightError::protocol("an endpoint without a ticket"))?;
            let found: Vec<RecordBatch> = client.do_get(ticket).await?.try_collect().await?;
            batches.extend(found);
        }
        Ok::<_, FlightError>(batches)
    };
    let status = match batches.await {
        Ok(batches) => {
            return Outcome::Rows(
                batches
                    .iter()
                    .flat_map(|b| {
                        (0..b.num_rows())
                            .map(|i| array_value_to_string(b.column(0), i).unwrap_or_default())
                    })
                    .collect(),
            );
        }
        Err(FlightError::Tonic(status)) => status,
        Err(other) => return Outcome::Other(other.to_string()),
    };
    let message = status.message();
    match status.code() {
        tonic::Code::PermissionDenied => Outcome::Refused(Reason::Forbidden),
        tonic::Code::InvalidArgument if message.contains("not supported") => {
            Outcome::Refused(Reason::WritesRefused)
        }
        tonic::Code::InvalidArgument => Outcome::Refused(Reason::BadSql),
        tonic::Code::ResourceExhausted if message.contains("max_result_rows") => {
            Outcome::Refused(Reason::TooManyRows)
        }
        tonic::Code::ResourceExhausted if message.contains("query_memory_mib") => {
            Outcome::Refused(Reason::MemoryCap)
        }
        tonic::Code::DeadlineExceeded => Outcome::Refused(Reason::Timeout),
        code => Outcome::Other(format!("{code:?} {message}")),
    }
}
