//! Every persona comes out as its story says, alone and dropped into a
//! large population from each generator.

use std::collections::{HashMap, HashSet};

use ordergraph_datasets::personas::{self, Expect, Persona};
use ordergraph_datasets::{Dataset, OrderRow};
use ordergraph_eval::{Cell, Generator, Resolved, resolve_in};

/// Persons of one persona, numbered apart from the background's and from
/// every other persona's.
const PERSONS_APART: u32 = 1_000_000;

/// What is wrong with one persona's customers, if anything.
fn judge(
    persona: &Persona,
    person_of: &HashMap<(String, String), u32>,
    resolved: &[Resolved],
) -> Option<String> {
    let own: HashSet<(&str, &str)> = persona
        .rows
        .iter()
        .map(|r| (r.channel, r.order_id.as_str()))
        .collect();
    // MCID -> the persons behind its orders; person -> its MCIDs.
    let mut persons_of: HashMap<&str, HashSet<u32>> = HashMap::new();
    let mut mcids_of: HashMap<u32, HashSet<&str>> = HashMap::new();
    for o in resolved {
        let Some(&person) = person_of.get(&(o.channel.clone(), o.order_id.clone())) else {
            continue;
        };
        persons_of.entry(&o.mcid).or_default().insert(person);
        if own.contains(&(o.channel.as_str(), o.order_id.as_str())) {
            mcids_of.entry(person).or_default().insert(&o.mcid);
        }
    }
    let mut wrong = Vec::new();
    for (person, mcids) in &mcids_of {
        for mcid in mcids {
            let others = persons_of[mcid].len() - 1;
            if others > 0 {
                wrong.push(format!(
                    "person {} shares a customer with {others} other people",
                    person % PERSONS_APART
                ));
            }
        }
        if persona.expect == Expect::Exact && mcids.len() > 1 {
            wrong.push(format!(
                "person {} is split into {} customers",
                person % PERSONS_APART,
                mcids.len()
            ));
        }
    }
    wrong.sort();
    wrong.dedup();
    (!wrong.is_empty()).then(|| wrong.join("; "))
}

/// The personas' rows, each persona's people numbered apart.
fn rows_of(personas: &[Persona]) -> Vec<OrderRow> {
    personas
        .iter()
        .enumerate()
        .flat_map(|(k, p)| {
            p.rows.iter().map(move |r| OrderRow {
                person: (k as u32 + 1) * PERSONS_APART + r.person,
                ..r.clone()
            })
        })
        .collect()
}

fn truth_of(rows: &[OrderRow]) -> HashMap<(String, String), u32> {
    rows.iter()
        .map(|r| ((r.channel.to_string(), r.order_id.clone()), r.person))
        .collect()
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// Personas whose right answer the resolver does not give yet, in the
/// catalogue's order. Each is listed in docs/identity-accuracy.md with why;
/// one that comes out right fails this test until it leaves the list.
const STILL_WRONG: &[&str] = &["family-jd-account"];

fn check(failures: Vec<(String, String)>) {
    let names: Vec<&str> = failures.iter().map(|f| f.0.as_str()).collect();
    let report: Vec<String> = failures.iter().map(|(n, w)| format!("{n}: {w}")).collect();
    assert_eq!(names, STILL_WRONG, "\n{}", report.join("\n"));
}

#[test]
fn every_persona_alone() {
    let all = personas::all();
    assert!(all.len() >= 25);
    let rt = runtime();
    let numbered = rows_of(&all);
    let mut failures = Vec::new();
    for (k, persona) in all.iter().enumerate() {
        let rows: Vec<OrderRow> = numbered
            .iter()
            .filter(|r| r.person / PERSONS_APART == k as u32 + 1)
            .cloned()
            .collect();
        let truth = truth_of(&rows);
        let dir = tempfile::tempdir().unwrap();
        let resolved = rt
            .block_on(resolve_in(dir.path(), &Dataset { rows }))
            .unwrap();
        if let Some(wrong) = judge(persona, &truth, &resolved) {
            failures.push((persona.name.to_string(), wrong));
        }
    }
    check(failures);
}

#[test]
fn every_persona_in_a_crowd() {
    let all = personas::all();
    let rt = runtime();
    for generator in Generator::ALL {
        let background = Cell {
            generator,
            orders: 40_000,
            rates: 1.0,
            heavy: 1.0,
            seed: 11,
        }
        .dataset();
        let mut rows = background.rows;
        rows.extend(rows_of(&all));
        let truth = truth_of(&rows);
        let dir = tempfile::tempdir().unwrap();
        let resolved = rt
            .block_on(resolve_in(dir.path(), &Dataset { rows }))
            .unwrap();
        let failures: Vec<(String, String)> = all
            .iter()
            .filter_map(|p| Some((p.name.to_string(), judge(p, &truth, &resolved)?)))
            .collect();
        eprintln!(
            "{} background: {} persona(s) wrong",
            generator.name(),
            failures.len()
        );
        check(failures);
    }
}
