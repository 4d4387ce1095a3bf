//! The `ordergraph` binary: `serve`, `ingest`, `sql`, `export`, `gen`,
//! `eval`, `hash-password`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand, ValueEnum};
use ordergraph_engine::{Engine, EngineConfig, IngestReport};
use ordergraph_server::access::Logins;
use ordergraph_server::client::Client;
use ordergraph_server::cluster;
use ordergraph_server::exports;
use ordergraph_server::flight::FlightServer;
use ordergraph_server::open_tables::{self, TableFormat};
use ordergraph_server::output::{Format, Output};
use ordergraph_server::pg::PgServer;
use ordergraph_server::progress::{bytes_bar, spinner};
use ordergraph_server::settings::ServerSettings;
use ordergraph_server::{
    AppState, app, checkpoint_periodically, open_directory_source, watch_directory,
};

/// Large tables on 2 MiB pages: see `huge_pages`.
#[global_allocator]
static ALLOC: ordergraph_engine::huge_pages::HugePageAlloc =
    ordergraph_engine::huge_pages::HugePageAlloc;

#[derive(Parser)]
#[command(
    name = "ordergraph",
    version,
    about = "Identity resolution and order analytics on DataFusion"
)]
struct Cli {
    /// Data directory.
    #[arg(
        long,
        global = true,
        env = "ORDERGRAPH_DATA",
        default_value = "./ordergraph-data"
    )]
    data: PathBuf,
    /// Log lines as text, or as one JSON object each (for a log shipper).
    #[arg(
        long,
        global = true,
        value_enum,
        env = "ORDERGRAPH_LOG_FORMAT",
        default_value = "text"
    )]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// Serve SQL and ingest over HTTP.
    Serve {
        /// Address to listen on.
        #[arg(long, env = "ORDERGRAPH_LISTEN", default_value = "127.0.0.1:7878")]
        listen: SocketAddr,
        /// If the data directory holds no orders, fill it with a generated
        /// demo dataset (62,000 people, 238,000 orders) first.
        #[cfg(feature = "demo")]
        #[arg(long)]
        demo: bool,
        /// Address of the Postgres protocol listener (default: `[postgres]
        /// listen` of ordergraph.toml, 127.0.0.1:5433); `off` turns it off.
        #[arg(long, env = "ORDERGRAPH_PG_LISTEN")]
        pg_listen: Option<String>,
        /// Address of the Arrow Flight SQL listener (default: `[flight]
        /// listen` of ordergraph.toml, 127.0.0.1:32010); `off` turns it off.
        #[arg(long, env = "ORDERGRAPH_FLIGHT_LISTEN")]
        flight_listen: Option<String>,
        /// Development mode: Postgres logins need no password and get the
        /// admin role. Never on a shared machine.
        #[arg(long)]
        dev: bool,
    },
    /// Read a password from stdin (typed without echo on a terminal) and
    /// print its Argon2 hash, for `password_hash` in `[[users]]` of
    /// ordergraph.toml.
    HashPassword,
    /// Ingest CSV, NDJSON or Parquet files (by extension) into a table.
    Ingest {
        /// Table name, e.g. `orders`.
        table: String,
        /// Files to ingest, in order.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Run one read-only SQL query and print the result.
    Sql {
        /// The query.
        query: String,
        /// Output format.
        #[arg(long, value_enum, default_value = "table")]
        format: Format,
        /// Write the result to this file instead of stdout.
        #[arg(long)]
        out: Option<PathBuf>,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Run one read-only query on a Ballista cluster, over the tables of
    /// an export, and print the result (docs/cluster.md).
    ClusterSql {
        /// The query; every view of the product can be read.
        query: String,
        /// The cluster's scheduler (`ordergraph scheduler`).
        #[arg(
            long,
            env = "ORDERGRAPH_SCHEDULER",
            default_value = "df://127.0.0.1:50050"
        )]
        scheduler: String,
        /// The export to read (`export tables --to DIR`); `[export] to` of
        /// ordergraph.toml if not given.
        #[arg(long)]
        tables: Option<PathBuf>,
        /// Output format.
        #[arg(long, value_enum, default_value = "table")]
        format: Format,
        /// Write the result to this file instead of stdout.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Run a Ballista scheduler, the head of a cluster (docs/cluster.md).
    Scheduler {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:50050")]
        listen: SocketAddr,
        /// The name executors and clients reach it by (default: the
        /// listening address).
        #[arg(long)]
        external_host: Option<String>,
        #[command(flatten)]
        zone: ZoneArg,
    },
    /// Run a Ballista executor with ordergraph's functions, working for a
    /// scheduler (docs/cluster.md).
    Executor {
        /// The scheduler to register with.
        #[arg(
            long,
            env = "ORDERGRAPH_SCHEDULER",
            default_value = "df://127.0.0.1:50050"
        )]
        scheduler: String,
        /// Address both listeners bind to.
        #[arg(long, default_value = "127.0.0.1")]
        bind: std::net::IpAddr,
        /// The name the scheduler and other executors reach it by
        /// (default: the bind address).
        #[arg(long)]
        external_host: Option<String>,
        /// Port of the Arrow Flight listener other executors fetch shuffle
        /// data from.
        #[arg(long, default_value_t = 50051)]
        flight_port: u16,
        /// Port of the gRPC listener the scheduler calls.
        #[arg(long, default_value_t = 50052)]
        grpc_port: u16,
        /// Tasks run at once (default: the cores).
        #[arg(long)]
        slots: Option<usize>,
        /// Where shuffle files go (default: a temporary directory).
        #[arg(long)]
        work_dir: Option<PathBuf>,
        #[command(flatten)]
        zone: ZoneArg,
    },
    /// Export a segment or the MCID write-back outbox, whole.
    #[command(subcommand)]
    Export(Export),
    /// Generate a realistic dataset with ground truth.
    #[cfg(feature = "demo")]
    Gen {
        /// Real people behind the orders.
        #[arg(long, default_value_t = 62_000)]
        customers: usize,
        /// Orders.
        #[arg(long, default_value_t = 238_000)]
        orders: usize,
        /// Seed: the same seed gives the same data.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Output directory.
        #[arg(long, default_value = "./dataset")]
        out: PathBuf,
    },
    /// Score the stored MCIDs against a ground-truth file from `gen`.
    #[cfg(feature = "demo")]
    Eval {
        /// `truth.csv` written by `gen`.
        #[arg(long)]
        truth: PathBuf,
    },
}

/// What `export` writes.
#[derive(Subcommand)]
enum Export {
    /// A segment's members with their contacts, by MCID (as `GET
    /// /v1/segments/NAME`).
    Segment {
        /// The segment (`GET /v1/segments` lists them).
        name: String,
        /// Only members who entered at or after this time (RFC 3339).
        #[arg(long)]
        since: Option<String>,
        #[command(flatten)]
        to: Destination,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// The orders whose MCID the platforms' notes do not show yet, by
    /// channel and order (as `GET /v1/writeback`).
    Writeback {
        /// Only this channel's orders.
        #[arg(long)]
        channel: Option<String>,
        #[command(flatten)]
        to: Destination,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Every table and view (orders with their MCIDs, order versions,
    /// inputs, identity tables, views) as Delta Lake tables or Parquet
    /// files other engines read (docs/open-tables.md).
    Tables(TablesExport),
}

/// The open tables: what `export tables` writes, and where.
#[derive(clap::Args)]
struct TablesExport {
    /// The directory to write to (created if missing); `[export] to` of
    /// ordergraph.toml if not given. With --server, the server's own.
    #[arg(long)]
    to: Option<PathBuf>,
    /// Delta Lake tables, or one Parquet file per table.
    #[arg(long, value_enum)]
    format: Option<TableFormat>,
    /// Only these tables and views (comma-separated); `[export] tables`,
    /// else all, if not given.
    #[arg(long, value_delimiter = ',')]
    tables: Option<Vec<String>>,
    #[command(flatten)]
    server: ServerArgs,
}

/// The business time zone of a cluster process.
#[derive(clap::Args)]
struct ZoneArg {
    /// The business time zone, as `[report] timezone` of the server whose
    /// exports the cluster reads.
    #[arg(long, env = "ORDERGRAPH_TIMEZONE", default_value = "Asia/Shanghai")]
    timezone: String,
}

/// Where and how an export is written.
#[derive(clap::Args)]
struct Destination {
    /// Output format.
    #[arg(long, value_enum, default_value = "csv")]
    format: Format,
    /// Write to this file instead of stdout.
    #[arg(long)]
    out: Option<PathBuf>,
}

/// A running server to send the command to, instead of opening the data
/// directory (which `serve` holds while it runs).
#[derive(clap::Args)]
struct ServerArgs {
    /// The server's HTTP address, e.g. http://127.0.0.1:7878.
    #[arg(long = "server", env = "ORDERGRAPH_SERVER")]
    url: Option<String>,
    /// The user to log in as; the password comes from ORDERGRAPH_PASSWORD,
    /// or is asked for.
    #[arg(long, env = "ORDERGRAPH_USER")]
    user: Option<String>,
}

impl ServerArgs {
    /// A client of the server, if one is given.
    fn client(&self) -> Result<Option<Client>> {
        let Some(url) = &self.url else {
            return Ok(None);
        };
        let login = match &self.user {
            Some(user) => {
                let password = match std::env::var("ORDERGRAPH_PASSWORD") {
                    Ok(password) => password,
                    Err(_) => read_password()?,
                };
                Some((user.clone(), password))
            }
            None => None,
        };
        Ok(Some(Client::new(url, login)?))
    }
}

fn main() -> Result<()> {
    ordergraph_server::install_crypto_provider();
    let cli = Cli::parse();
    let logs = tracing_subscriber::fmt()
        .with_env_filter(
            // The Delta kernel tells of every snapshot it reads at info.
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,buoyant_kernel=warn".into()),
        )
        .with_writer(std::io::stderr);
    match cli.log_format {
        LogFormat::Text => logs.init(),
        LogFormat::Json => logs.event_format(ordergraph_server::logs::JsonLines).init(),
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(run(cli))
}

/// Opens the engine in `data` with the engine's part of its configuration;
/// the server's part is checked too, so a bad file fails every command.
fn open(data: &Path) -> Result<Arc<Engine>> {
    let (config, _) = ServerSettings::load(data)?;
    open_with(data, config)
}

fn open_with(data: &Path, config: EngineConfig) -> Result<Arc<Engine>> {
    let started = Instant::now();
    let engine = Engine::open_with(data, vec![ordergraph_queries::hook()], config)
        .with_context(|| format!("opening {}", data.display()))?;
    tracing::info!(data = %data.display(), orders = engine.order_count(), customers = engine.customer_count(), elapsed_ms = started.elapsed().as_millis() as u64, "engine ready");
    Ok(engine)
}

/// Opens the data directory for a command that could also be sent to a
/// running server, and says so when one holds it.
fn open_local(data: &Path) -> Result<Arc<Engine>> {
    said_in_use(data, open(data))
}

/// [`open_local`] with the configuration already read.
fn open_local_with(data: &Path, config: EngineConfig) -> Result<Arc<Engine>> {
    said_in_use(data, open_with(data, config))
}

/// `opened`, whose error says to use `--server` when a server holds `data`.
fn said_in_use(data: &Path, opened: Result<Arc<Engine>>) -> Result<Arc<Engine>> {
    opened.map_err(|e| match e.downcast_ref::<ordergraph_engine::Error>() {
        Some(ordergraph_engine::Error::InUse(_)) => anyhow::anyhow!(
            "{} is in use by a running ordergraph server: send the command to it with --server URL (or ORDERGRAPH_SERVER), e.g. --server http://127.0.0.1:7878",
            data.display()
        ),
        _ => e,
    })
}

/// Runs `sql` on the engine and writes its result, a batch at a time.
async fn write_query(engine: &Arc<Engine>, sql: &str, output: &mut Output) -> Result<()> {
    write_frame(engine.query(sql).await?, output).await
}

/// Runs a planned query and writes its result, a batch at a time.
async fn write_frame(frame: datafusion::dataframe::DataFrame, output: &mut Output) -> Result<()> {
    use futures::StreamExt;
    let mut stream = frame.execute_stream().await?;
    output.start(stream.schema())?;
    while let Some(batch) = stream.next().await {
        output.batch(batch?)?;
    }
    Ok(())
}

fn print_report(file: &Path, report: &IngestReport, started: Instant) {
    eprintln!(
        "{}: {} rows, {} inserted, {} updated, {} unchanged in {:.2}s",
        file.display(),
        report.rows,
        report.inserted,
        report.updated,
        report.unchanged,
        started.elapsed().as_secs_f64()
    );
}

async fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::ClusterSql {
            query,
            scheduler,
            tables,
            format,
            out,
        } => {
            let (config, settings) = ServerSettings::load(&cli.data)?;
            let tables = tables
                .or_else(|| settings.export.spec(&cli.data).map(|s| s.to))
                .context(
                    "give --tables DIR, an export's directory, or [export] to in ordergraph.toml",
                )?;
            let session = cluster::session(&scheduler, &tables, &config.report.timezone).await?;
            let frame = session
                .sql_with_options(&query, ordergraph_engine::read_only())
                .await?;
            let mut output = Output::create(format, out.as_deref())?;
            write_frame(frame, &mut output).await?;
            output.finish()
        }
        Command::Scheduler {
            listen,
            external_host,
            zone,
        } => {
            let external_host = external_host.unwrap_or_else(|| listen.ip().to_string());
            tracing::info!(%listen, "Ballista scheduler starting");
            cluster::run_scheduler(listen, external_host, &zone.timezone).await
        }
        Command::Executor {
            scheduler,
            bind,
            external_host,
            flight_port,
            grpc_port,
            slots,
            work_dir,
            zone,
        } => {
            let slots = slots.unwrap_or_else(|| {
                std::thread::available_parallelism().map_or(1, std::num::NonZero::get)
            });
            tracing::info!(%scheduler, %bind, flight_port, grpc_port, slots, "Ballista executor starting");
            cluster::run_executor(cluster::ExecutorSpec {
                scheduler,
                bind,
                external_host: external_host.or_else(|| Some(bind.to_string())),
                flight_port,
                grpc_port,
                slots,
                work_dir,
                timezone: zone.timezone,
            })
            .await
        }
        Command::Serve {
            listen,
            #[cfg(feature = "demo")]
            demo,
            pg_listen,
            flight_listen,
            dev,
        } => {
            let (config, settings) = ServerSettings::load(&cli.data)?;
            // Series recorded from the start: the replay and the demo load.
            ordergraph_server::metrics::handle();
            let engine = open_with(&cli.data, config)?;
            #[cfg(feature = "demo")]
            let engine = if demo && engine.order_count() == 0 {
                ordergraph_server::demo::fill(engine, &cli.data, open)?
            } else {
                engine
            };
            let pg = &settings.postgres;
            let pg_listen = listener_address("--pg-listen", pg_listen, pg.enabled, pg.listen)?;
            let flight = &settings.flight;
            let flight_listen = listener_address(
                "--flight-listen",
                flight_listen,
                flight.enabled,
                flight.listen,
            )?;
            serve(engine, &settings, listen, pg_listen, flight_listen, dev).await
        }
        Command::HashPassword => {
            let password = read_password()?;
            if password.is_empty() {
                bail!("no password on stdin");
            }
            println!("{}", ordergraph_server::access::hash_password(&password)?);
            Ok(())
        }
        Command::Ingest {
            table,
            files,
            server,
        } => {
            if let Some(client) = server.client()? {
                for file in files {
                    let bar = bytes_bar(format!("ingesting {}", file.display()), 0);
                    let started = Instant::now();
                    let report = client.ingest(&table, &file, &bar).await?;
                    bar.finish_and_clear();
                    print_report(&file, &report, started);
                }
                return Ok(());
            }
            let engine = open_local(&cli.data)?;
            for file in files {
                let bar = spinner(format!("ingesting {}", file.display()));
                let started = Instant::now();
                let report = engine
                    .ingest_file(&table, &file)
                    .with_context(|| format!("ingesting {}", file.display()))?;
                bar.finish_and_clear();
                print_report(&file, &report, started);
            }
            // The next start loads this instead of replaying the log.
            let bar = spinner("writing a checkpoint".into());
            engine.checkpoint()?;
            bar.finish_and_clear();
            Ok(())
        }
        Command::Sql {
            query,
            format,
            out,
            server,
        } => {
            let mut output = Output::create(format, out.as_deref())?;
            match server.client()? {
                Some(client) => client.query(&query, &mut output).await?,
                None => write_query(&open_local(&cli.data)?, &query, &mut output).await?,
            }
            output.finish()
        }
        Command::Export(Export::Segment {
            name,
            since,
            to,
            server,
        }) => {
            let mut output = Output::create(to.format, to.out.as_deref())?;
            if let Some(client) = server.client()? {
                let query: Vec<_> = since.into_iter().map(|s| ("since", s)).collect();
                client
                    .export(&format!("/v1/segments/{name}"), &query, &mut output)
                    .await?;
            } else {
                let segment = ordergraph_queries::segments()
                    .find(|s| s.name == name)
                    .with_context(|| {
                        let names: Vec<_> =
                            ordergraph_queries::segments().map(|s| s.name).collect();
                        format!("no segment '{name}'; segments: {}", names.join(", "))
                    })?;
                let since = since
                    .map(|s| ordergraph_engine::decode::parse_timestamp(&s))
                    .transpose()
                    .map_err(|e| anyhow::anyhow!("--since: {e}"))?;
                let sql = exports::segment_sql(segment, since, None, None);
                write_query(&open_local(&cli.data)?, &sql, &mut output).await?;
            }
            output.finish()
        }
        Command::Export(Export::Writeback {
            channel,
            to,
            server,
        }) => {
            let mut output = Output::create(to.format, to.out.as_deref())?;
            if let Some(client) = server.client()? {
                let query: Vec<_> = channel.into_iter().map(|c| ("channel", c)).collect();
                client.export("/v1/writeback", &query, &mut output).await?;
            } else {
                let sql = exports::writeback_sql(channel.as_deref(), None, None);
                write_query(&open_local(&cli.data)?, &sql, &mut output).await?;
            }
            output.finish()
        }
        Command::Export(Export::Tables(args)) => {
            let manifest = match args.server.client()? {
                Some(client) => {
                    if args.to.is_some() || args.format.is_some() {
                        bail!(
                            "--to and --format are the server's [export] settings when --server is given"
                        );
                    }
                    let body = serde_json::json!({ "tables": args.tables });
                    serde_json::from_value(client.post_json("/v1/export", &body).await?)?
                }
                None => {
                    let (config, settings) = ServerSettings::load(&cli.data)?;
                    let configured = settings.export.spec(&cli.data);
                    let to = args
                        .to
                        .or_else(|| configured.as_ref().map(|s| s.to.clone()))
                        .context("give --to DIR, or [export] to in ordergraph.toml")?;
                    let spec = open_tables::ExportSpec {
                        to,
                        format: args.format.unwrap_or(settings.export.format),
                        tables: args.tables.or(settings.export.tables),
                        keep: Some(settings.export.keep.0),
                    };
                    let engine = open_local_with(&cli.data, config)?;
                    open_tables::export(&engine, &spec).await?
                }
            };
            for t in &manifest.tables {
                let version = t
                    .version
                    .map_or(String::new(), |v| format!(" (version {v})"));
                println!("{}\t{} rows{version}", t.table, t.rows);
            }
            eprintln!(
                "exported {} tables in {:.1}s",
                manifest.tables.len(),
                manifest.seconds
            );
            Ok(())
        }
        #[cfg(feature = "demo")]
        Command::Gen {
            customers,
            orders,
            seed,
            out,
        } => {
            let config = ordergraph_datasets::GenConfig {
                customers,
                orders,
                seed,
                ..Default::default()
            };
            ordergraph_server::demo::write_dataset(&config, &out)
        }
        #[cfg(feature = "demo")]
        Command::Eval { truth } => {
            let engine = open(&cli.data)?;
            ordergraph_server::demo::eval(&engine, &truth).await
        }
    }
}

/// A line of stdin without its newline. On a terminal it is asked for on
/// stderr and read without echo, so the password does not stay on screen;
/// piped in (scripts, tests), it is read as it comes.
fn read_password() -> Result<String> {
    use std::io::IsTerminal;
    let stdin = std::io::stdin();
    let mut line = String::new();
    if stdin.is_terminal() {
        eprint!("password: ");
        let no_echo = NoEcho::new()?;
        let read = stdin.read_line(&mut line);
        drop(no_echo);
        // The Enter that ended the line was not echoed either.
        eprintln!();
        read?;
    } else {
        stdin.read_line(&mut line)?;
    }
    Ok(line.trim_end_matches(['\n', '\r']).to_string())
}

/// The terminal on stdin without echo until dropped, then as it was. Set
/// with `stty`, which acts on its stdin: the terminal, inherited.
struct NoEcho {
    /// The settings before, as `stty -g` prints them.
    saved: String,
}

impl NoEcho {
    fn new() -> Result<Self> {
        let saved = stty(&["-g"])?;
        stty(&["-echo"])?;
        Ok(Self { saved })
    }
}

impl Drop for NoEcho {
    fn drop(&mut self) {
        let _ = stty(&[self.saved.as_str()]);
    }
}

/// What `stty args` prints, run on the terminal of stdin.
fn stty(args: &[&str]) -> Result<String> {
    let out = std::process::Command::new("stty")
        .args(args)
        .stdin(std::process::Stdio::inherit())
        .output()
        .context("running stty to turn off echo (or pipe the password in)")?;
    if !out.status.success() {
        bail!(
            "stty {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// A listener's address: the option's (`off` for none), else the
/// configured one if enabled.
fn listener_address(
    option: &str,
    given: Option<String>,
    enabled: bool,
    configured: SocketAddr,
) -> Result<Option<SocketAddr>> {
    match given.as_deref() {
        Some("off") => Ok(None),
        Some(address) => Ok(Some(address.parse().with_context(|| {
            format!("{option}: '{address}' is not an address or 'off'")
        })?)),
        None => Ok(enabled.then_some(configured)),
    }
}

async fn serve(
    engine: Arc<Engine>,
    settings: &ServerSettings,
    listen: SocketAddr,
    pg_listen: Option<SocketAddr>,
    flight_listen: Option<SocketAddr>,
    dev: bool,
) -> Result<()> {
    // Files dropped while the server was down are taken before it answers.
    let source = {
        let engine = engine.clone();
        tokio::task::spawn_blocking(move || open_directory_source(&engine)).await??
    };
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("binding {listen}"))?;
    tracing::info!(address = %listener.local_addr()?, "listening");
    let (stop, stopped) = tokio::sync::watch::channel(false);
    // Maintained views take in commits at most once a second in the
    // background; a read takes in what is left before it answers.
    engine.spawn_view_refresher(Duration::from_secs(1));
    let config = engine.config().clone();
    let mut background = vec![tokio::spawn(checkpoint_periodically(
        engine.clone(),
        Duration::from_secs(config.storage.checkpoint_interval_s),
        stopped.clone(),
    ))];
    let logins = Arc::new(Logins::new(&settings.users, dev)?);
    if dev {
        tracing::warn!("--dev: every request and login is admitted as admin");
    } else if !logins.has_users() {
        tracing::warn!(
            "no [[users]] in ordergraph.toml: the HTTP API is open to anyone who can reach it, and every Postgres login is refused (--dev admits anyone)"
        );
    }
    if let Some(pg_listen) = pg_listen {
        let pg = Arc::new(PgServer::new(
            engine.clone(),
            &settings.postgres,
            logins.clone(),
        )?);
        let listener = tokio::net::TcpListener::bind(pg_listen)
            .await
            .with_context(|| format!("binding the Postgres listener {pg_listen}"))?;
        tracing::info!(address = %listener.local_addr()?, tls = pg.tls(), dev, "postgres listening");
        if !dev && settings.users.is_empty() {
            tracing::warn!(
                "no [[users]] in ordergraph.toml: every Postgres login is refused (--dev admits anyone)"
            );
        }
        background.push(tokio::spawn(pg.serve(listener, stopped.clone())));
    }
    if let Some(flight_listen) = flight_listen {
        let flight = Arc::new(FlightServer::new(
            engine.clone(),
            &settings.flight,
            logins.clone(),
        )?);
        let listener = tokio::net::TcpListener::bind(flight_listen)
            .await
            .with_context(|| format!("binding the Flight SQL listener {flight_listen}"))?;
        tracing::info!(address = %listener.local_addr()?, tls = flight.tls(), dev, "flight listening");
        background.push(tokio::spawn(flight.serve(listener, stopped.clone())));
    }
    if let Some(source) = source {
        background.push(tokio::spawn(watch_directory(
            source,
            Duration::from_millis(config.source.poll_ms),
            stopped.clone(),
        )));
    }
    background.push(tokio::spawn(ordergraph_server::holds::record_periodically(
        engine.clone(),
        stopped.clone(),
    )));
    background.extend(ordergraph_server::kafka::spawn(
        engine.clone(),
        &settings.sources.kafka,
        stopped.clone(),
    ));
    let mut state = AppState::new(engine.clone()).with_logins(logins);
    if settings.alerts.enabled {
        let (alerts, tasks) = ordergraph_server::alerts::start(
            engine.clone(),
            &settings.alerts,
            engine.dir(),
            stopped.clone(),
        )
        .await?;
        background.extend(tasks);
        state = state.with_alerts(alerts);
    }
    if let Some(spec) = settings.export.spec(engine.dir()) {
        let exporter = Arc::new(open_tables::Exporter::new(spec));
        if let Some(every) = settings.export.every {
            background.push(tokio::spawn(exporter.clone().run_periodically(
                engine.clone(),
                every.0,
                stopped.clone(),
            )));
        }
        state = state.with_exporter(exporter);
    }
    if let (Some(scheduler), Some(spec)) = (
        &settings.cluster.scheduler,
        settings.export.spec(engine.dir()),
    ) {
        state = state.with_cluster(Arc::new(cluster::Cluster::new(
            scheduler.clone(),
            spec.to,
            engine.config().report.timezone.clone(),
        )));
    }
    // On SIGTERM: stop accepting, finish the requests in flight, then the
    // background work, then write a checkpoint so the next start is fast.
    let app = app(state);
    // Peer addresses let failed logins be counted per address.
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await?;
    let _ = stop.send(true);
    for task in background {
        let _ = task.await;
    }
    if engine.writes_since_checkpoint() > 0 {
        let engine = engine.clone();
        tokio::task::spawn_blocking(move || engine.checkpoint()).await??;
    }
    tracing::info!("stopped");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down");
}
