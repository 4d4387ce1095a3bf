//! `ordergraph-eval`: how well identity resolution tells customers apart.
//!
//! Resolution is judged the way a user would meet it: orders are ingested
//! into a real [`Engine`], the MCIDs are read back with SQL, and they are
//! scored pairwise against the ground truth ([`score`], [`score_linkable`]).
//! The data comes from two generators written independently of each other
//! ([`Generator`]) and from named [`personas`](ordergraph_datasets::personas);
//! [`Cell`] is one point of the grid over sizes, trap rates and the share of
//! heavy buyers, whose worst cell is the figure that counts.

use std::path::Path;
use std::sync::Arc;

mod failures;
pub use failures::failures;

use datafusion::arrow::array::AsArray;
use ordergraph_datasets::{
    Dataset, GenConfig, LinkableOrder, Truth, generate, lives, score, score_linkable,
};
use ordergraph_engine::Engine;
use ordergraph_engine::identity::{IdentityColumns, IdentityKind, Slot, extract};

/// Errors of an evaluation.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The engine failed.
    #[error(transparent)]
    Engine(#[from] ordergraph_engine::Error),
    /// A dataset could not be exported.
    #[error(transparent)]
    Dataset(#[from] ordergraph_datasets::Error),
    /// A query failed.
    #[error(transparent)]
    Query(#[from] datafusion::error::DataFusionError),
    /// A temporary data directory could not be made.
    #[error("temporary data directory: {0}")]
    Io(#[from] std::io::Error),
    /// Nothing to score.
    #[error("no orders in {0}: ingest the dataset first")]
    Empty(String),
}

/// Result with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// One order as resolved: where it came from, its MCID, and the usable
/// identifier keys that decide whether its pairs are linkable.
#[derive(Debug, Clone)]
pub struct Resolved {
    /// Sales channel.
    pub channel: String,
    /// The channel's order id.
    pub order_id: String,
    /// The MCID it was given.
    pub mcid: String,
    /// Usable identifier keys, each flagged `true` if a phone.
    pub keys: Vec<(u64, bool)>,
}

/// Pairwise accuracy of the MCIDs against the truth.
#[derive(Debug, Clone, PartialEq)]
pub struct Accuracy {
    /// Orders scored.
    pub orders: usize,
    /// Real people in the truth.
    pub people: usize,
    /// Customers (MCIDs) found.
    pub customers: usize,
    /// Of the pairs given one MCID, the share placed by one person.
    pub precision: f64,
    /// Of the same-person pairs, the share given one MCID.
    pub recall: f64,
    /// Of the same-person pairs that the person's own identifiers link,
    /// the share given one MCID.
    pub linkable_recall: f64,
    /// Pairs given one MCID but placed by two people.
    pub false_pairs: u64,
    /// Linkable same-person pairs given two MCIDs.
    pub missed_linkable_pairs: u64,
}

impl std::fmt::Display for Accuracy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "orders                {}", self.orders)?;
        writeln!(f, "people (truth)        {}", self.people)?;
        writeln!(f, "customers (MCIDs)     {}", self.customers)?;
        writeln!(f, "precision             {:.5}", self.precision)?;
        writeln!(f, "recall (linkable)     {:.5}", self.linkable_recall)?;
        writeln!(f, "recall                {:.5}", self.recall)?;
        writeln!(f, "false pairs           {}", self.false_pairs)?;
        write!(f, "missed linkable pairs {}", self.missed_linkable_pairs)
    }
}

/// Reads every current order's MCID and usable identifier keys from
/// `engine`, the keys normalized under the engine's own identity settings.
pub async fn resolved(engine: &Arc<Engine>) -> Result<Vec<Resolved>> {
    let sql = "SELECT channel, order_id, mcid, account_id, phone, email, wechat_unionid, device_id FROM orders";
    let batches = engine.query(sql).await?.collect().await?;
    let identity = engine.config().identity_config();
    let mut out = Vec::new();
    for b in &batches {
        let col = |i: usize| b.column(i).as_string::<i32>();
        let columns = IdentityColumns::of(b).expect("orders carry identifier columns");
        for row in 0..b.num_rows() {
            let raw = columns.row(row);
            let keys = extract(&raw, identity.region, &identity.blocklist)
                .into_iter()
                .zip(IdentityKind::ALL)
                .filter_map(|(slot, kind)| match slot {
                    Slot::Id { key, .. } => Some((key, kind == IdentityKind::Phone)),
                    _ => None,
                })
                .collect();
            out.push(Resolved {
                channel: col(0).value(row).to_string(),
                order_id: col(1).value(row).to_string(),
                mcid: col(2).value(row).to_string(),
                keys,
            });
        }
    }
    Ok(out)
}

/// Scores resolved orders against the truth.
pub fn accuracy(truth: &Truth, orders: &[Resolved]) -> Accuracy {
    let scored: Vec<LinkableOrder<'_>> = orders
        .iter()
        .map(|o| (&*o.channel, &*o.order_id, &*o.mcid, o.keys.clone()))
        .collect();
    let s = score(truth, scored.iter().map(|o| (o.0, o.1, o.2)));
    let linkable = score_linkable(truth, &scored);
    Accuracy {
        orders: s.orders,
        people: s.persons,
        customers: s.customers_found,
        precision: s.precision,
        recall: s.recall,
        linkable_recall: linkable.recall,
        false_pairs: s.predicted_pairs - s.correct_pairs,
        missed_linkable_pairs: linkable.linkable_pairs - linkable.found_pairs,
    }
}

/// Scores the MCIDs an engine holds against a truth file.
pub async fn score_engine(engine: &Arc<Engine>, truth: &Truth) -> Result<Accuracy> {
    let orders = resolved(engine).await?;
    if orders.is_empty() {
        return Err(Error::Empty(engine.dir().display().to_string()));
    }
    Ok(accuracy(truth, &orders))
}

/// Ingests `dataset`'s orders into a new engine in `dir` and reads them
/// back resolved.
pub async fn resolve_in(dir: &Path, dataset: &Dataset) -> Result<Vec<Resolved>> {
    let engine = Engine::open(dir, vec![])?;
    engine.ingest_batches("orders", dataset.to_record_batches(65_536)?)?;
    resolved(&engine).await
}

/// Ingests `dataset` into a new engine in a temporary directory, and
/// scores its MCIDs against the dataset's own truth.
pub async fn evaluate(dataset: &Dataset) -> Result<Accuracy> {
    let dir = tempfile::tempdir()?;
    let orders = resolve_in(dir.path(), dataset).await?;
    Ok(accuracy(&Truth::from_dataset(dataset), &orders))
}

/// The two independently written generators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Generator {
    /// [`ordergraph_datasets::generate`]: people built around the traps
    /// identity resolution must avoid.
    Traps,
    /// [`ordergraph_datasets::lives`]: people built from a brief of how
    /// buyers of a multi-channel brand live, written without reading the
    /// other generator or the resolver.
    Lives,
}

impl Generator {
    /// Both, in a fixed order.
    pub const ALL: [Generator; 2] = [Generator::Traps, Generator::Lives];

    /// Its short name.
    pub fn name(self) -> &'static str {
        match self {
            Generator::Traps => "traps",
            Generator::Lives => "lives",
        }
    }
}

/// One point of the accuracy grid.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Cell {
    /// Which generator makes the data.
    pub generator: Generator,
    /// Orders (people: 62 for every 238 orders, as in the default sets).
    pub orders: usize,
    /// Every trap's or life situation's rate, times this.
    pub rates: f64,
    /// The share of heavy buyers, times this.
    pub heavy: f64,
    /// Seed.
    pub seed: u64,
}

impl Cell {
    /// Real people in the cell's data.
    pub fn people(&self) -> usize {
        (self.orders * 62 / 238).max(1)
    }

    /// The cell's data.
    pub fn dataset(&self) -> Dataset {
        match self.generator {
            Generator::Traps => generate(&GenConfig {
                customers: self.people(),
                orders: self.orders,
                seed: self.seed,
                trap_scale: self.rates,
                heavy_scale: self.heavy,
                ..GenConfig::default()
            }),
            Generator::Lives => lives::generate(&lives::LivesConfig {
                people: self.people(),
                orders: self.orders,
                seed: self.seed,
                rates: lives::Rates {
                    heavy_share: self.heavy,
                    ..lives::Rates::scaled(self.rates)
                },
                ..lives::LivesConfig::default()
            }),
        }
    }

    /// Every cell of the grid at `sizes`: both generators, rates at x0.3,
    /// x1 and x3, heavy buyers at x0.3, x1 and x3.
    pub fn grid(sizes: &[usize], seed: u64) -> Vec<Cell> {
        let mut cells = Vec::new();
        for &orders in sizes {
            for generator in Generator::ALL {
                for rates in [0.3, 1.0, 3.0] {
                    for heavy in [0.3, 1.0, 3.0] {
                        cells.push(Cell {
                            generator,
                            orders,
                            rates,
                            heavy,
                            seed,
                        });
                    }
                }
            }
        }
        cells
    }
}
