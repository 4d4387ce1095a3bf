use super::people::count_tiers;
use super::*;
use std::collections::BTreeMap;

/// Fingerprint of the 2,000-person, 8,000-order default-seed dataset.
const FINGERPRINT_8K: u64 = 0x798b_9a48_25c6_8e6b;

fn small_cfg() -> GenConfig {
    GenConfig {
        customers: 5_000,
        orders: 20_000,
        ..GenConfig::default()
    }
}

/// Digits of a full phone as a resolver would normalise it.
fn digits(s: &str) -> String {
    let d: String = s
        .chars()
        .filter_map(|c| match c {
            '０'..='９' => char::from_u32(c as u32 - 0xFF10 + '0' as u32),
            c if c.is_ascii_digit() => Some(c),
            _ => None,
        })
        .collect();
    for prefix in ["0086", "86"] {
        if d.len() == 11 + prefix.len() && d.starts_with(prefix) {
            return d[prefix.len()..].to_string();
        }
    }
    d
}

#[test]
fn deterministic_per_seed() {
    let cfg = GenConfig {
        customers: 1_000,
        orders: 4_000,
        ..GenConfig::default()
    };
    let a = generate(&cfg);
    assert_eq!(a, generate(&cfg));
    let b = generate(&GenConfig { seed: 2, ..cfg });
    assert_ne!(a, b);
    assert_eq!(b.rows.len(), 4_000);
}

#[test]
fn shape_of_small_dataset() {
    let cfg = small_cfg();
    let d = generate(&cfg);
    assert_eq!(d.rows.len(), cfg.orders);
    assert!(
        d.rows
            .windows(2)
            .all(|w| w[0].ordered_at <= w[1].ordered_at)
    );
    let end = cfg.start + TimeDelta::days(cfg.days as i64);
    assert!(
        d.rows
            .iter()
            .all(|r| r.ordered_at >= cfg.start && r.ordered_at < end)
    );
    assert!(
        d.rows
            .iter()
            .all(|r| r.ordered_at.offset() == cfg.start.offset())
    );

    let persons: HashSet<u32> = d.rows.iter().map(|r| r.person).collect();
    assert!(persons.len() <= cfg.customers && persons.len() > cfg.customers * 9 / 10);
    let mut per_person: HashMap<u32, usize> = HashMap::new();
    for r in &d.rows {
        *per_person.entry(r.person).or_default() += 1;
    }
    let heavy = per_person.values().filter(|&&n| n >= 50).count();
    let light = per_person.values().filter(|&&n| n <= 2).count();
    assert!(
        heavy > 0 && light > persons.len() / 3,
        "heavy {heavy} light {light}"
    );

    for ch in CHANNELS {
        assert!(
            d.rows.iter().any(|r| r.channel == ch),
            "channel {ch} missing"
        );
    }
    let mut trap_counts: BTreeMap<&str, usize> = BTreeMap::new();
    for r in &d.rows {
        if let Some(t) = r.trap {
            *trap_counts.entry(t).or_default() += 1;
        }
    }
    for t in TRAPS {
        assert!(
            trap_counts.contains_key(t),
            "trap {t} missing: {trap_counts:?}"
        );
    }
    for s in STATUSES {
        assert!(d.rows.iter().any(|r| r.status == s), "status {s} missing");
    }
    assert!(d.rows.iter().any(|r| r.amount_cents > 500_000));
    assert!(d.rows.iter().all(|r| r.amount_cents > 0));
    assert!(d.rows.iter().any(|r| r.coupon.as_deref() == Some(NEWCUST)));
}

#[test]
fn order_ids_unique_per_channel_and_colliding_across() {
    let d = generate(&small_cfg());
    let mut keys = HashSet::new();
    let mut ids: HashMap<&str, HashSet<&str>> = HashMap::new();
    for r in &d.rows {
        assert!(
            keys.insert((r.channel, r.order_id.as_str())),
            "dup {} {}",
            r.channel,
            r.order_id
        );
        ids.entry(r.channel).or_default().insert(&r.order_id);
    }
    assert!(ids["shopify"].intersection(&ids["dealer"]).next().is_some());
    let sample = |ch: &str| {
        d.rows
            .iter()
            .find(|r| r.channel == ch)
            .map(|r| r.order_id.clone())
            .unwrap_or_default()
    };
    assert_eq!(sample("tmall").len(), 19);
    assert!(sample("pdd").contains('-'));
    assert!(sample("miniprogram").starts_with("WX2026"));
}

#[test]
fn channel_visibility() {
    let d = generate(&small_cfg());
    for r in &d.rows {
        match r.channel {
            "tmall" | "jd" | "douyin" => {
                assert!(r.account_id.is_some());
                if let Some(p) = &r.phone {
                    assert!(p.contains("****"), "{p}");
                }
            }
            "pdd" => {
                let p = r.phone.as_deref().unwrap_or_default();
                assert!(
                    r.account_id
                        .as_deref()
                        .is_some_and(|a| a.starts_with("pdd"))
                );
                assert!(
                    p.len() >= 16 && (p.contains('-') || p.contains('转')),
                    "{p}"
                );
            }
            "shopify" => assert!(r.email.is_some()),
            "miniprogram" => assert!(r.account_id.is_some()),
            "dealer" => {
                assert!(r.account_id.is_none() && r.email.is_none());
                assert!(r.ship_address.is_some());
            }
            other => panic!("unexpected channel {other}"),
        }
        if let Some(u) = &r.wechat_unionid {
            assert!(u.starts_with("o6_bm") && u.len() == 28);
        }
        if let Some(ip) = &r.ip {
            assert!(ip.parse::<std::net::Ipv4Addr>().is_ok());
        }
        if r.trap == Some("zero_device") {
            let dev = r.device_id.as_deref().unwrap_or_default();
            assert!(dev.chars().all(|c| c == '0' || c == '-'), "{dev}");
        }
    }
    let placeholders = d
        .rows
        .iter()
        .filter(|r| r.trap == Some("placeholder_phone"))
        .count();
    let dealer = d.rows.iter().filter(|r| r.channel == "dealer").count();
    assert!(placeholders * 100 > dealer * 8 && placeholders * 100 < dealer * 25);
}

#[test]
fn identifiers_belong_to_one_person_except_traps() {
    let d = generate(&small_cfg());
    let mut unionids: HashMap<&str, u32> = HashMap::new();
    let mut devices: HashMap<String, HashSet<u32>> = HashMap::new();
    let mut phones: HashMap<String, Vec<(u32, DateTime<FixedOffset>)>> = HashMap::new();
    for r in &d.rows {
        if let Some(u) = &r.wechat_unionid {
            assert_eq!(*unionids.entry(u).or_insert(r.person), r.person);
        }
        if let Some(dev) = &r.device_id {
            let key = dev.to_ascii_lowercase().replace('-', "");
            devices.entry(key).or_default().insert(r.person);
        }
        if matches!(r.channel, "shopify" | "miniprogram" | "dealer")
            && r.trap != Some("placeholder_phone")
            && let Some(p) = &r.phone
        {
            let n = digits(p);
            if n.len() == 11 && n.starts_with('1') {
                phones.entry(n).or_default().push((r.person, r.ordered_at));
            }
        }
    }
    // Devices are personal unless all-zero or a family's shared device.
    let zero = "0".repeat(32);
    let shared = devices
        .iter()
        .filter(|(k, ps)| **k != zero && ps.len() > 1)
        .count();
    assert!(shared > 0);
    for (k, ps) in &devices {
        if *k != zero && ps.len() > 4 {
            panic!("device {k} used by {} persons", ps.len());
        }
    }
    // A full number seen for two persons is a recycled one, with the
    // carrier's quiet period between the owners.
    let mut recycled = 0;
    for uses in phones.values() {
        let owners: HashSet<u32> = uses.iter().map(|u| u.0).collect();
        if owners.len() > 1 {
            assert_eq!(owners.len(), 2);
            recycled += 1;
            let mut by_owner: Vec<(DateTime<FixedOffset>, DateTime<FixedOffset>)> = owners
                .iter()
                .map(|o| {
                    let ts = uses.iter().filter(|u| u.0 == *o).map(|u| u.1);
                    (ts.clone().min().unwrap(), ts.max().unwrap())
                })
                .collect();
            by_owner.sort();
            assert!(by_owner[1].0 - by_owner[0].1 >= TimeDelta::days(90));
        }
    }
    assert!(recycled > 0);
}

#[test]
fn recycled_phone_orders_respect_quiet_period() {
    let d = generate(&small_cfg());
    // Trap orders cover both the old owner and the new one.
    let owners: HashSet<u32> = d
        .rows
        .iter()
        .filter(|r| r.trap == Some("recycled_phone"))
        .map(|r| r.person)
        .collect();
    assert!(owners.len() >= 40, "{}", owners.len());
}

#[test]
fn degenerate_configs() {
    let empty = generate(&GenConfig {
        customers: 0,
        ..small_cfg()
    });
    assert!(empty.rows.is_empty());
    let few = generate(&GenConfig {
        customers: 100,
        orders: 30,
        days: 3,
        ..small_cfg()
    });
    assert_eq!(few.rows.len(), 30);
    let many = generate(&GenConfig {
        customers: 3,
        orders: 500,
        days: 1,
        ..small_cfg()
    });
    assert_eq!(many.rows.len(), 500);
}

#[test]
fn scramble_is_a_bijection() {
    for m in [2u64, 10, 1000, 10_000] {
        let mut seen: Vec<u64> = (0..m).map(|k| scramble(k, m, 42)).collect();
        assert!(seen.iter().all(|&x| x < m));
        seen.sort_unstable();
        seen.dedup();
        assert_eq!(seen.len() as u64, m);
    }
    assert_ne!(scramble(1, 1 << 40, 1), scramble(1, 1 << 40, 2));
}

#[test]
fn permute_in_place() {
    let mut v = vec!['a', 'b', 'c', 'd', 'e', 'f'];
    permute(&mut v, vec![3, 0, 4, 1, 2, 5]);
    assert_eq!(v, ['d', 'a', 'e', 'b', 'c', 'f']);
}

/// Trap-labelled orders per trap kind.
fn trap_counts(d: &Dataset) -> BTreeMap<&'static str, usize> {
    let mut counts = BTreeMap::new();
    for t in d.rows.iter().filter_map(|r| r.trap) {
        *counts.entry(t).or_default() += 1;
    }
    counts
}

/// Persons with at least `min` orders.
fn persons_with(d: &Dataset, min: usize) -> usize {
    let mut per_person: HashMap<u32, usize> = HashMap::new();
    for r in &d.rows {
        *per_person.entry(r.person).or_default() += 1;
    }
    per_person.values().filter(|&&n| n >= min).count()
}

/// FNV-1a over every field of every row.
fn fingerprint(d: &Dataset) -> u64 {
    let mut h = 0xCBF2_9CE4_8422_2325u64;
    let mut feed = |s: &str| {
        for b in s.bytes().chain([0xFF]) {
            h = (h ^ b as u64).wrapping_mul(0x0100_0000_01B3);
        }
    };
    for r in &d.rows {
        feed(&r.order_id);
        feed(r.channel);
        feed(&r.ordered_at.to_rfc3339());
        for o in [
            &r.account_id,
            &r.phone,
            &r.email,
            &r.wechat_unionid,
            &r.device_id,
            &r.ship_city,
            &r.ship_address,
            &r.ip,
            &r.coupon,
        ] {
            feed(o.as_deref().unwrap_or("\u{1}"));
        }
        feed(&r.amount_cents.to_string());
        feed(r.status);
        feed(&r.person.to_string());
        feed(r.trap.unwrap_or("\u{1}"));
    }
    h
}

/// 30k orders with the default ratio of persons to orders.
fn cfg_30k() -> GenConfig {
    GenConfig {
        customers: 30_000 * 62 / 238,
        orders: 30_000,
        ..GenConfig::default()
    }
}

#[test]
fn unit_scales_are_the_default() {
    let cfg = GenConfig {
        customers: 2_000,
        orders: 8_000,
        ..GenConfig::default()
    };
    assert_eq!((cfg.trap_scale, cfg.heavy_scale), (1.0, 1.0));
    let explicit = GenConfig {
        trap_scale: 1.0,
        heavy_scale: 1.0,
        ..cfg.clone()
    };
    let d = generate(&cfg);
    assert_eq!(d, generate(&explicit));
    // Pinned from the generator before the scales existed: scale 1.0
    // must keep every seed's output.
    let fingerprint = fingerprint(&d);
    assert_eq!(fingerprint, FINGERPRINT_8K, "{fingerprint:#x}");
    assert_ne!(
        d,
        generate(&GenConfig {
            trap_scale: 1.5,
            ..cfg.clone()
        })
    );
    assert_ne!(
        d,
        generate(&GenConfig {
            heavy_scale: 1.5,
            ..cfg
        })
    );
}

#[test]
fn unit_scales_change_no_parameter() {
    let cfg = GenConfig::default();
    for p in [0.01, 0.05, 0.25, 0.015, 0.15, 0.12] {
        assert_eq!(cfg.trap_p(p).to_bits(), f64::to_bits(p));
    }
    let reg = Registry::new(10, 1.0);
    assert_eq!(reg.last4_values, 10_000);
    assert!(reg.masked_taken.is_none());
    let base = [
        (0.50, 0.3),
        (0.28, 2.0),
        (0.15, 6.0),
        (0.06, 14.0),
        (0.01, 60.0),
    ];
    let bits = |t: [(f64, f64); 5]| t.map(|(s, m)| (s.to_bits(), m.to_bits()));
    assert_eq!(bits(count_tiers(1.0)), bits(base));
}

#[test]
fn heavy_tiers_keep_their_weight() {
    let weight = |t: [(f64, f64); 5]| t.iter().map(|(s, m)| s * m).sum::<f64>();
    let base = weight(count_tiers(1.0));
    for scale in [0.0, 0.3, 3.0] {
        let t = count_tiers(scale);
        assert!((t.iter().map(|x| x.0).sum::<f64>() - 1.0).abs() < 1e-9);
        assert!((t[4].0 - 0.01 * scale).abs() < 1e-12);
        assert!((weight(t) - base).abs() < 1e-9, "{scale}");
    }
    let all = count_tiers(1e6);
    assert_eq!(all[4].0, 1.0);
    assert!(all.iter().all(|(s, m)| s.is_finite() && m.is_finite()));
}

#[test]
fn trap_scale_scales_every_trap() {
    let low = generate(&GenConfig {
        trap_scale: 0.3,
        ..cfg_30k()
    });
    let high = generate(&GenConfig {
        trap_scale: 3.0,
        ..cfg_30k()
    });
    assert_eq!((low.rows.len(), high.rows.len()), (30_000, 30_000));
    let (lo, hi) = (trap_counts(&low), trap_counts(&high));
    for t in TRAPS {
        let (l, h) = (lo.get(t).copied(), hi.get(t).copied());
        if l.is_some() || h.is_some() {
            assert!(
                h.unwrap_or(0) > l.unwrap_or(0),
                "{t}: x0.3 {lo:?} x3 {hi:?}"
            );
        }
        assert!(h.is_some(), "{t} missing at x3: {hi:?}");
    }
}

#[test]
fn heavy_scale_scales_heavy_buyers() {
    let low = generate(&GenConfig {
        heavy_scale: 0.3,
        ..cfg_30k()
    });
    let high = generate(&GenConfig {
        heavy_scale: 3.0,
        ..cfg_30k()
    });
    assert_eq!((low.rows.len(), high.rows.len()), (30_000, 30_000));
    let (l, h) = (persons_with(&low, 50), persons_with(&high, 50));
    assert!(h > l * 3, "x0.3 {l} x3 {h}");
}

#[test]
fn extreme_scales_keep_exact_counts() {
    let cfg = GenConfig {
        customers: 600,
        orders: 2_500,
        ..GenConfig::default()
    };
    for (trap_scale, heavy_scale) in [
        (0.0, 0.0),
        (1e9, 1e9),
        (f64::NAN, f64::NAN),
        (-1.0, -1.0),
        (f64::INFINITY, 1.0),
    ] {
        let d = generate(&GenConfig {
            trap_scale,
            heavy_scale,
            ..cfg.clone()
        });
        assert_eq!(d.rows.len(), 2_500, "{trap_scale} {heavy_scale}");
    }
    // No trap role at all at x0; only chance collisions of privacy and
    // masked numbers remain.
    let none = trap_counts(&generate(&GenConfig {
        trap_scale: 0.0,
        ..cfg
    }));
    assert!(
        none.keys()
            .all(|t| matches!(*t, "virtual_phone" | "masked_phone")),
        "{none:?}"
    );
}

/// The benchmark-scale configuration.
#[test]
fn default_size() {
    let d = generate(&GenConfig::default());
    assert_eq!(d.rows.len(), 238_000);
}
