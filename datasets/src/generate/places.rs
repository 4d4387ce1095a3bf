//! Where people live and buy from: addresses, IP addresses and channels.

use super::*;

pub(super) fn mainland_address(rng: &mut Rng, city: usize) -> String {
    let c = &CITIES[city];
    let district = rng.pick(c.districts);
    let street = if rng.chance(0.6) {
        rng.pick(c.streets)
    } else {
        rng.pick(COMMON_STREETS)
    };
    let num = rng.range(1, 1888);
    let building = rng.range(1, 32);
    let floor = rng.range(1, 33);
    let unit = rng.range(1, 6);
    if rng.chance(0.55) {
        format!(
            "{}{district}{street}{num}号 {building}栋{floor}{unit:02}",
            c.name
        )
    } else {
        let compound = rng.pick(COMPOUNDS);
        let entrance = rng.range(1, 4);
        format!(
            "{}{district}{street}{num}号{compound} {building}号楼{entrance}单元{floor}{unit:02}室",
            c.name
        )
    }
}

pub(super) fn office_address(rng: &mut Rng, city: usize) -> String {
    let c = &CITIES[city];
    let district = rng.pick(c.districts);
    let street = rng.pick(c.streets);
    let tower = rng.pick(&["创新", "国际", "科技", "金融", "环球", "时代", "中心"]);
    format!(
        "{}{district}{street}{}号{tower}大厦{}层",
        c.name,
        rng.range(1, 999),
        rng.range(2, 40)
    )
}

pub(super) fn overseas_address(rng: &mut Rng, region: Region) -> String {
    match region {
        Region::HongKong => format!(
            "{}{}號 {}樓{}室",
            rng.pick(HK_STREETS),
            rng.range(1, 899),
            rng.range(1, 40),
            *rng.pick(&['A', 'B', 'C', 'D', 'E'])
        ),
        Region::Singapore => format!(
            "{} {}, #{:02}-{:02}, Singapore {}",
            rng.range(1, 400),
            rng.pick(SG_STREETS),
            rng.range(2, 30),
            rng.range(1, 20),
            rng.range(100_000, 829_999)
        ),
        Region::Us => format!(
            "{} {} Apt {}, San Francisco, CA 941{:02}",
            rng.range(100, 3999),
            rng.pick(US_STREETS),
            rng.range(1, 40),
            rng.range(2, 34)
        ),
    }
}

pub(super) fn home_ip(rng: &mut Rng) -> u32 {
    let a = *rng.pick(HOME_IP_OCTETS) as u32;
    (a << 24)
        | ((rng.below(256) as u32) << 16)
        | ((rng.below(256) as u32) << 8)
        | rng.range(1, 254) as u32
}

pub(super) fn mobile_ip(rng: &mut Rng) -> u32 {
    let p = rng.pick(MOBILE_IP_PREFIXES);
    ((p[0] as u32) << 24)
        | ((p[1] as u32) << 16)
        | ((rng.below(32) as u32) << 8)
        | rng.range(1, 254) as u32
}

pub(super) fn ip_string(ip: u32) -> String {
    std::net::Ipv4Addr::from(ip).to_string()
}

/// Weighted sample of `k` distinct channels, optionally forcing the first
/// from `first_from` and excluding `exclude`.
pub(super) fn pick_channels(
    rng: &mut Rng,
    k: usize,
    first_from: Option<&[usize]>,
    exclude: Option<usize>,
) -> Vec<usize> {
    let mut weights = CHANNEL_WEIGHTS;
    if let Some(e) = exclude {
        weights[e] = 0;
    }
    let mut out = Vec::with_capacity(k);
    if let Some(allowed) = first_from {
        let w: Vec<u32> = allowed.iter().map(|&c| weights[c]).collect();
        let c = allowed[rng.weighted(&w)];
        out.push(c);
        weights[c] = 0;
    }
    while out.len() < k && weights.iter().any(|&w| w > 0) {
        let c = rng.weighted(&weights);
        out.push(c);
        weights[c] = 0;
    }
    out
}
