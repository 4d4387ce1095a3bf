use std::collections::{BTreeMap, BTreeSet};

use super::cast::{Cast, NONE, Recycling};
use super::*;
use crate::{CHANNELS, TRAPS, Truth};

fn config(people: usize, orders: usize, seed: u64, rates: Rates) -> LivesConfig {
    LivesConfig {
        people,
        orders,
        seed,
        rates,
        ..LivesConfig::default()
    }
}

/// 60k orders from people in the default proportion.
fn sixty_thousand(rates: Rates) -> LivesConfig {
    config(15_630, 60_000, 7, rates)
}

fn fingerprint(d: &Dataset) -> Vec<String> {
    d.rows
        .iter()
        .map(|r| {
            format!(
                "{}|{}|{}|{:?}|{:?}|{:?}|{:?}|{:?}|{}|{}|{:?}|{:?}|{:?}|{:?}|{}|{:?}",
                r.order_id,
                r.channel,
                r.ordered_at.to_rfc3339(),
                r.account_id,
                r.phone,
                r.email,
                r.wechat_unionid,
                r.device_id,
                r.amount_cents,
                r.status,
                r.ship_city,
                r.ship_address,
                r.ip,
                r.coupon,
                r.person,
                r.trap
            )
        })
        .collect()
}

fn trap_counts(d: &Dataset) -> BTreeMap<&'static str, usize> {
    let mut counts = BTreeMap::new();
    for r in &d.rows {
        if let Some(t) = r.trap {
            *counts.entry(t).or_default() += 1;
        }
    }
    counts
}

/// People in each situation that has no trap label of its own.
fn situation_counts(cast: &Cast) -> BTreeMap<&'static str, usize> {
    let people = cast.people.iter().filter(|p| p.orders > 0);
    let mut counts = BTreeMap::new();
    for p in people {
        let mut add = |name: &'static str, yes: bool| {
            *counts.entry(name).or_default() += usize::from(yes);
        };
        add("phone_change", p.new_phone.is_some());
        add("recycled_receiver", p.recycling == Recycling::Reissued);
        add("borrowed_phone", p.borrows_from != NONE);
        add("mover", p.moved.is_some());
        add("coupon_hunter", p.extra_accounts > 0);
        add("overseas", p.abroad.is_some());
        add("masked_only", p.masked_only);
        add("office", p.office != NONE);
    }
    counts.insert(
        "shared_phone_households",
        cast.households.iter().filter(|h| h.shares_phone).count(),
    );
    counts.insert(
        "tablet_households",
        cast.households.iter().filter(|h| h.tablet).count(),
    );
    counts.insert("offices", cast.offices.len());
    counts
}

#[test]
fn same_seed_same_dataset() {
    let cfg = config(3_000, 12_000, 42, Rates::default());
    let (a, b) = (generate(&cfg), generate(&cfg));
    assert_eq!(fingerprint(&a), fingerprint(&b));
    let other = generate(&LivesConfig { seed: 43, ..cfg });
    assert_ne!(fingerprint(&a), fingerprint(&other));
}

#[test]
fn exact_order_counts() {
    for (people, orders) in [
        (1_000, 4_000),
        (500, 200),
        (0, 10),
        (10, 0),
        (1, 1),
        (50, 3_000),
    ] {
        let d = generate(&config(people, orders, 3, Rates::default()));
        assert_eq!(d.rows.len(), orders, "{people} people, {orders} orders");
    }
}

#[test]
fn rows_are_well_formed_sorted_and_unique() {
    let d = generate(&config(5_000, 20_000, 9, Rates::scaled(2.0)));
    let mut keys = BTreeSet::new();
    for r in &d.rows {
        assert!(CHANNELS.contains(&r.channel), "{}", r.channel);
        assert!(
            keys.insert((r.channel, r.order_id.clone())),
            "{}",
            r.order_id
        );
        assert!(
            [
                "created",
                "paid",
                "shipped",
                "signed",
                "refunded",
                "cancelled"
            ]
            .contains(&r.status)
        );
        assert!(r.amount_cents > 0);
        assert!(r.trap.is_none_or(|t| TRAPS.contains(&t)));
        for field in [&r.phone, &r.email, &r.account_id, &r.ship_city] {
            assert!(field.as_ref().is_none_or(|s| !s.is_empty()));
        }
    }
    assert!(
        d.rows
            .windows(2)
            .all(|w| w[0].ordered_at <= w[1].ordered_at)
    );
    let start = LivesConfig::default().start;
    let end = start + chrono::Days::new(396);
    assert!(
        d.rows
            .iter()
            .all(|r| r.ordered_at >= start && r.ordered_at < end)
    );
}

#[test]
fn every_situation_appears_and_follows_its_rate() {
    let base = generate(&sixty_thousand(Rates::default()));
    let counts = trap_counts(&base);
    for trap in TRAPS {
        assert!(
            counts.get(trap).copied().unwrap_or(0) > 0,
            "{trap}: {counts:?}"
        );
    }
    let cfg = sixty_thousand(Rates::default());
    let cast = Cast::new(cfg.people, cfg.orders, cfg.days, cfg.seed, &cfg.rates);
    let situations = situation_counts(&cast);
    for (name, n) in &situations {
        assert!(*n > 0, "{name}: {situations:?}");
    }

    let high = generate(&sixty_thousand(Rates::scaled(3.0)));
    let low = generate(&sixty_thousand(Rates::scaled(0.3)));
    let (high_counts, low_counts) = (trap_counts(&high), trap_counts(&low));
    for trap in TRAPS {
        let (h, l) = (
            high_counts.get(trap).copied().unwrap_or(0),
            low_counts.get(trap).copied().unwrap_or(0),
        );
        assert!(h > l, "{trap}: {h} at 3.0 vs {l} at 0.3");
    }
    let cast_at = |rates: Rates| {
        let cfg = sixty_thousand(rates);
        situation_counts(&Cast::new(
            cfg.people, cfg.orders, cfg.days, cfg.seed, &cfg.rates,
        ))
    };
    let (high, low) = (cast_at(Rates::scaled(3.0)), cast_at(Rates::scaled(0.3)));
    for (name, h) in &high {
        assert!(*h > low[name], "{name}: {h} at 3.0 vs {} at 0.3", low[name]);
    }
}

#[test]
fn heavy_buyers_exist() {
    let d = generate(&sixty_thousand(Rates::default()));
    let mut per_person: BTreeMap<u32, usize> = BTreeMap::new();
    for r in &d.rows {
        *per_person.entry(r.person).or_default() += 1;
    }
    let heaviest = per_person.values().copied().max().unwrap_or(0);
    assert!(heaviest >= 200, "heaviest buyer has {heaviest} orders");
    let once = per_person.values().filter(|&&n| n == 1).count();
    assert!(
        once * 3 > per_person.len(),
        "{once} of {} order once",
        per_person.len()
    );
    let none = generate(&LivesConfig {
        rates: Rates {
            heavy_share: 0.0,
            ..Rates::default()
        },
        ..sixty_thousand(Rates::default())
    });
    let mut per_person: BTreeMap<u32, usize> = BTreeMap::new();
    for r in &none.rows {
        *per_person.entry(r.person).or_default() += 1;
    }
    assert!(per_person.values().all(|&n| n < 100));
}

#[test]
fn truth_round_trips() {
    let d = generate(&config(2_000, 8_000, 5, Rates::scaled(2.0)));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("truth.csv");
    d.write_truth(&path).unwrap();
    let truth = Truth::read_csv(&path).unwrap();
    assert_eq!(truth.len(), d.rows.len());
    for r in &d.rows {
        assert_eq!(truth.person(r.channel, &r.order_id), Some(r.person));
        assert_eq!(truth.trap(r.channel, &r.order_id), r.trap);
    }
}
