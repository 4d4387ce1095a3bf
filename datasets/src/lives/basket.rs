//! What people buy and pay: the brand's four categories and their price
//! points, quantities by kind of buyer, coupons, and the status an order
//! shows when the data is exported.

use super::channel::Channel;
use crate::rng::Rng;

/// The brand's product categories.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Category {
    PetDevices,
    Cosmetics,
    BabyGoods,
    Apparel,
}

impl Category {
    pub(super) const ALL: [Category; 4] = [
        Category::PetDevices,
        Category::Cosmetics,
        Category::BabyGoods,
        Category::Apparel,
    ];

    /// List prices in fen, with relative popularity.
    fn prices(self) -> &'static [(i64, u32)] {
        match self {
            Category::PetDevices => &[
                (39_900, 6),
                (59_900, 4),
                (89_900, 2),
                (19_900, 6),
                (26_900, 4),
                (199_900, 2),
                (299_900, 1),
                (5_900, 10),
                (8_900, 8),
                (4_990, 8),
                (12_900, 5),
            ],
            Category::Cosmetics => &[
                (29_900, 6),
                (45_900, 4),
                (69_900, 2),
                (35_900, 4),
                (19_900, 6),
                (25_900, 5),
                (9_900, 8),
                (14_900, 6),
                (13_900, 6),
                (5_990, 5),
            ],
            Category::BabyGoods => &[
                (13_900, 8),
                (19_900, 8),
                (25_900, 5),
                (32_800, 5),
                (45_800, 4),
                (129_900, 1),
                (299_900, 1),
                (4_990, 8),
                (8_990, 5),
            ],
            Category::Apparel => &[
                (9_900, 8),
                (12_900, 8),
                (39_900, 4),
                (69_900, 2),
                (19_900, 6),
                (25_900, 5),
                (3_900, 6),
                (15_990, 4),
            ],
        }
    }
}

/// How many units a kind of buyer takes of one item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Appetite {
    /// One or two of a thing.
    Personal,
    /// Stocking up a household.
    Household,
    /// Buying to resell or for an office.
    Bulk,
}

/// The amount of an order in fen: one to three lines, promotion and coupon
/// discounts, shipping; Shopify prices converted from the store's
/// currency, hence odd cents.
pub(super) fn amount(
    rng: &mut Rng,
    category: Category,
    appetite: Appetite,
    channel: Channel,
    coupon: bool,
    promo_day: bool,
) -> i64 {
    let lines = 1 + rng.weighted(&[70, 22, 8]);
    let mut total = 0i64;
    for _ in 0..lines {
        let price = rng.weighted_by(category.prices(), |p| p.1).0;
        let qty = match appetite {
            Appetite::Personal => 1 + rng.weighted(&[85, 12, 3]) as i64,
            Appetite::Household => 1 + rng.weighted(&[30, 30, 20, 10, 10]) as i64,
            Appetite::Bulk => rng.range(2, 12) as i64,
        };
        total += price * qty;
    }
    if promo_day && total >= 30_000 {
        total -= (total / 30_000) * 5_000;
    }
    if coupon {
        total -= [1_000, 2_000, 3_000, 5_000][rng.index(4)].min(total / 5);
    }
    if channel == Channel::Shopify {
        total = total * (110 + rng.below(30) as i64) / 100 + rng.range(3_000, 12_000) as i64;
    } else if total < 9_900 && rng.chance(0.5) {
        total += 600;
    }
    if rng.chance(0.05) {
        // A member or price-protection adjustment.
        total = total * 95 / 100;
    }
    total.max(100)
}

/// The coupon an order used, if any.
pub(super) fn coupon(
    rng: &mut Rng,
    channel: Channel,
    new_customer: bool,
    promo: Option<&'static str>,
) -> Option<String> {
    if new_customer {
        return Some(
            match channel {
                Channel::Shopify => "WELCOME10",
                Channel::MiniProgram => "NEW20",
                Channel::Pdd => "新人专享券",
                Channel::Douyin => "新客立减20元",
                Channel::Dealer => "新会员礼券",
                _ => "新人专享20元券",
            }
            .to_string(),
        );
    }
    let p = if promo.is_some() { 0.5 } else { 0.12 };
    if channel == Channel::Dealer || !rng.chance(p) {
        return None;
    }
    let code = match (channel, promo) {
        (Channel::Shopify, _) => ["BFCM25", "FREESHIP", "VIP15"][rng.index(3)].to_string(),
        (Channel::MiniProgram, _) => {
            ["MEMBER10", "BIRTHDAY30", "SHARE15"][rng.index(3)].to_string()
        }
        (Channel::Douyin, _) if rng.chance(0.6) => "直播间专享券15元".to_string(),
        (_, Some(p)) => format!("{p}满300减50"),
        _ => ["店铺券满199减20", "店铺券满99减10", "会员专享券"][rng.index(3)].to_string(),
    };
    Some(code)
}

/// The latest status of an order placed `age_days` before the export.
pub(super) fn status(
    rng: &mut Rng,
    channel: Channel,
    age_days: f64,
    reseller: bool,
) -> &'static str {
    const STATUSES: [&str; 6] = [
        "created",
        "paid",
        "shipped",
        "signed",
        "refunded",
        "cancelled",
    ];
    let weights: [u32; 6] = if channel == Channel::Dealer {
        [0, 0, 0, 95, 3, 2]
    } else if age_days < 1.0 {
        [12, 45, 40, 0, 0, 3]
    } else if age_days < 4.0 {
        [3, 7, 60, 27, 0, 3]
    } else if reseller {
        [2, 1, 1, 80, 10, 6]
    } else {
        [30, 10, 10, 830, 65, 55]
    };
    STATUSES[rng.weighted(&weights)]
}
