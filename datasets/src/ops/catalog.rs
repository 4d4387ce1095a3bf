//! The brand's fixed world: its SKUs (category, base price, heavy-tailed
//! popularity, supplier), warehouses, the owners of each system and the
//! platform credentials; and how an order's amount splits into lines.

use crate::Result;
use crate::output::Value;
use crate::rng::Rng;

use super::{Clock, DAY, HOUR, MINUTE, OpsTable, Sink, T_CREDENTIALS};

/// Number of SKUs in the catalog.
pub(super) const SKUS: usize = 200;

/// Product categories with the base-price range of their SKUs (yuan).
pub(super) const CATEGORIES: [(&str, u64, u64, u32); 6] = [
    ("美妆", 39, 599, 24),
    ("服饰", 49, 899, 22),
    ("食品", 9, 199, 18),
    ("数码", 99, 4999, 12),
    ("母婴", 29, 699, 12),
    ("家居", 19, 999, 12),
];

/// Product names per category, in the same order as [`CATEGORIES`]: a
/// SKU's name is picked by its number, not drawn, so adding names never
/// shifts the random draws of the other tables.
const PRODUCT_NAMES: [&[&str]; 6] = [
    &[
        "玻尿酸保湿精华液",
        "氨基酸洁面乳",
        "丝绒哑光口红",
        "清透防晒乳 SPF50+",
        "烟酰胺美白面膜",
        "修护舒缓面霜",
        "控油散粉",
        "卸妆洁颜油",
    ],
    &[
        "纯棉圆领T恤",
        "羊毛针织开衫",
        "高腰直筒牛仔裤",
        "轻薄羽绒服",
        "真丝印花连衣裙",
        "运动速干卫衣",
        "商务休闲衬衫",
        "加绒保暖打底裤",
    ],
    &[
        "每日坚果混合装",
        "云南小粒咖啡豆",
        "低糖全麦面包",
        "东北五常大米",
        "手工牛肉干",
        "冻干草莓脆",
        "西湖龙井茶",
        "黑芝麻核桃粉",
    ],
    &[
        "无线降噪蓝牙耳机",
        "65W氮化镓快充头",
        "机械键盘 青轴",
        "智能运动手环",
        "4K高清网络摄像头",
        "磁吸无线充电宝",
        "便携投影仪",
        "电竞游戏鼠标",
    ],
    &[
        "婴儿纸尿裤 L码",
        "有机婴幼儿米粉",
        "宝宝恒温奶瓶",
        "儿童安全座椅",
        "婴儿纯棉连体衣",
        "孕妇叶酸片",
        "宝宝洗发沐浴露",
        "婴儿推车",
    ],
    &[
        "乳胶记忆枕",
        "全棉四件套",
        "不粘炒锅",
        "北欧陶瓷餐具套装",
        "香薰加湿器",
        "折叠收纳箱",
        "吸水珊瑚绒浴巾",
        "LED护眼台灯",
    ],
];

/// The product name of SKU number `index` (0-based) in `category`.
fn product_name(index: usize, category: usize) -> String {
    let names = PRODUCT_NAMES[category];
    let name = names[index % names.len()];
    match index / names.len() % 3 {
        0 => name.to_string(),
        1 => format!("{name}（升级款）"),
        _ => format!("{name}（家庭装）"),
    }
}

/// Supplier trade per category, in the same order as [`CATEGORIES`].
const TRADES: [&str; 6] = ["化妆品", "服饰", "食品", "电子科技", "母婴用品", "家居用品"];
const SUPPLIER_CITIES: &[&str] = &[
    "广州", "杭州", "义乌", "深圳", "苏州", "东莞", "宁波", "佛山", "厦门", "上海", "成都", "青岛",
];
const SUPPLIER_WORDS: &[&str] = &[
    "华美", "恒源", "佳禾", "瑞丰", "鑫达", "宏图", "汇通", "云帆", "锦程", "优品", "嘉诚", "天合",
];

/// The warehouses and the ship-to cities each one serves; cities not
/// listed (and overseas buyers) ship from Shanghai.
pub(super) const WAREHOUSES: [(&str, &[&str]); 4] = [
    ("WH-SH", &["上海市", "杭州市", "苏州市", "南京市", "合肥市"]),
    ("WH-GZ", &["广州市", "深圳市", "东莞市", "厦门市", "长沙市"]),
    ("WH-CD", &["成都市", "重庆市", "西安市", "武汉市"]),
    ("WH-BJ", &["北京市", "天津市", "青岛市", "郑州市"]),
];

/// The warehouse an order to `city` ships from.
pub(super) fn warehouse_of(city: Option<&str>) -> usize {
    city.and_then(|c| WAREHOUSES.iter().position(|w| w.1.contains(&c)))
        .unwrap_or(0)
}

const SYSTEM_OWNERS: [(&str, &str); 4] = [
    ("platform", "电商运营部 王敏"),
    ("erp", "财务信息部 李强"),
    ("wms", "仓储物流部 张伟"),
    ("crm", "会员运营部 陈静"),
];

/// `(platform, shop, credential names)`: 20 credentials in all.
const SHOPS: [(&str, &str, &[&str]); 8] = [
    (
        "tmall",
        "品牌官方旗舰店",
        &["access_token", "refresh_token", "print_label_token"],
    ),
    (
        "jd",
        "品牌京东自营店",
        &["access_token", "refresh_token", "print_label_token"],
    ),
    (
        "pdd",
        "品牌官方旗舰店",
        &["access_token", "refresh_token", "print_label_token"],
    ),
    (
        "douyin",
        "品牌抖音旗舰店",
        &["access_token", "refresh_token", "print_label_token"],
    ),
    (
        "shopify",
        "brand-global.myshopify.com",
        &["admin_api_token", "storefront_token"],
    ),
    (
        "tmall",
        "品牌母婴专营店",
        &["access_token", "refresh_token"],
    ),
    ("jd", "品牌京东POP店", &["access_token", "refresh_token"]),
    (
        "douyin",
        "品牌抖音直播间",
        &["access_token", "print_label_token"],
    ),
];

/// One SKU of the catalog.
#[derive(Debug)]
pub(super) struct Sku {
    /// `SKU-0001`, ...
    pub(super) id: String,
    /// Index into [`CATEGORIES`].
    pub(super) category: usize,
    /// Base price in fen: drives how an order's amount splits over lines.
    base_price: u64,
    pub(super) supplier: String,
    pub(super) backup_supplier: Option<String>,
    pub(super) lead_time_days: i64,
    pub(super) min_order_qty: i64,
}

/// One order line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Line {
    /// Index into [`Catalog::skus`].
    pub(super) sku: usize,
    pub(super) qty: i64,
    /// Fen.
    pub(super) unit_price: i64,
}

/// The SKUs, their popularity and the warehouses' throughput.
#[derive(Debug)]
pub(super) struct Catalog {
    pub(super) skus: Vec<Sku>,
    /// Cumulative popularity, for weighted draws.
    cum_weight: Vec<u64>,
    /// Orders per hour of each of [`WAREHOUSES`].
    orders_per_hour: [i64; 4],
}

fn supplier_name(rng: &mut Rng, category: usize) -> String {
    format!(
        "{}{}{}有限公司",
        rng.pick(SUPPLIER_CITIES),
        rng.pick(SUPPLIER_WORDS),
        TRADES[category]
    )
}

impl Catalog {
    pub(super) fn new(rng: &mut Rng) -> Self {
        let category_weights = CATEGORIES.map(|c| c.3);
        // Popularity follows Zipf's law over a shuffled rank, so best
        // sellers are spread over the id range.
        let mut rank: Vec<u64> = (1..=SKUS as u64).collect();
        rng.shuffle(&mut rank);
        let mut skus = Vec::with_capacity(SKUS);
        let mut cum_weight = Vec::with_capacity(SKUS);
        let mut total = 0;
        for (i, r) in rank.iter().enumerate() {
            let category = rng.weighted(&category_weights);
            let (_, lo, hi, _) = CATEGORIES[category];
            // Shop prices end in 9 yuan or 9.90.
            let yuan = rng.range(lo, hi) / 10 * 10 + 9;
            let base_price = yuan * 100 - if rng.chance(0.3) { 10 } else { 0 };
            let supplier = supplier_name(rng, category);
            let backup_supplier = rng
                .chance(0.7)
                .then(|| supplier_name(rng, category))
                .filter(|b| *b != supplier);
            skus.push(Sku {
                id: format!("SKU-{:04}", i + 1),
                category,
                base_price,
                supplier,
                backup_supplier,
                lead_time_days: rng.range(2, 15) as i64,
                min_order_qty: rng.range(1, 20) as i64 * 50,
            });
            total += 1_000_000 / r;
            cum_weight.push(total);
        }
        let orders_per_hour = [0; 4].map(|_| rng.range(200, 1500) as i64);
        Self {
            skus,
            cum_weight,
            orders_per_hour,
        }
    }

    fn draw_sku(&self, rng: &mut Rng) -> usize {
        let total = self.cum_weight[self.cum_weight.len() - 1];
        let u = rng.below(total);
        self.cum_weight.partition_point(|&c| c <= u)
    }

    /// Splits an order of `amount` fen into 1–4 lines of distinct SKUs
    /// whose `qty * unit_price` add up to `amount` exactly.
    pub(super) fn lines(&self, rng: &mut Rng, amount: i64, out: &mut Vec<Line>) {
        out.clear();
        let amount = amount.max(1);
        let k = (1 + rng.weighted(&[55, 25, 13, 7]) as i64).min(amount) as usize;
        for _ in 0..k {
            let mut sku = self.draw_sku(rng);
            while out.iter().any(|l| l.sku == sku) {
                sku = (sku + 1) % self.skus.len();
            }
            out.push(Line {
                sku,
                qty: 1,
                unit_price: 0,
            });
        }
        // Shares follow the SKUs' base prices, jittered; the last line takes
        // the remainder so the sum is exact.
        let mut weights = [0u64; 4];
        for (w, l) in weights.iter_mut().zip(out.iter()) {
            *w = self.skus[l.sku].base_price * rng.range(50, 150);
        }
        let total: u64 = weights.iter().sum();
        let mut left = amount;
        for (line, w) in out.iter_mut().zip(&weights).take(k - 1) {
            // Whole yuan where the share allows; the last line keeps the
            // order's odd fen.
            let exact = (amount as u128 * *w as u128 / total as u128) as i64;
            let share = if exact >= 100 {
                exact / 100 * 100
            } else {
                exact.max(1)
            };
            line.unit_price = share;
            left -= share;
        }
        if left < 1 {
            out.truncate(1);
            left = amount;
        }
        let last = out.len() - 1;
        out[last].unit_price = left;
        for line in out.iter_mut() {
            let qty = rng.range(2, 5) as i64;
            if rng.chance(0.3) && line.unit_price % qty == 0 {
                line.qty = qty;
                line.unit_price /= qty;
            }
        }
    }

    /// Writes the catalog's own tables: products, suppliers, warehouses,
    /// system owners and credentials.
    pub(super) fn write<S: Sink>(&self, sink: &mut S, clock: Clock) -> Result<()> {
        for (i, s) in self.skus.iter().enumerate() {
            sink.row(
                OpsTable::Products,
                &[
                    Value::Str(&s.id),
                    Value::Str(&product_name(i, s.category)),
                    Value::Str(CATEGORIES[s.category].0),
                ],
            )?;
        }
        for s in &self.skus {
            sink.row(
                OpsTable::Suppliers,
                &[
                    Value::Str(&s.id),
                    Value::Str(&s.supplier),
                    s.backup_supplier.as_deref().map_or(Value::Null, Value::Str),
                    Value::Int(s.lead_time_days),
                    Value::Int(s.min_order_qty),
                ],
            )?;
        }
        for ((name, _), per_hour) in WAREHOUSES.iter().zip(self.orders_per_hour) {
            sink.row(
                OpsTable::Warehouses,
                &[Value::Str(name), Value::Int(per_hour)],
            )?;
        }
        for (system, owner) in SYSTEM_OWNERS {
            sink.row(
                OpsTable::SystemOwners,
                &[Value::Str(system), Value::Str(owner)],
            )?;
        }
        write_credentials(sink, clock)
    }
}

/// How far from expiry a credential is, relative to now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expiry {
    Expired,
    Within2Hours,
    Within1Day,
    Within3Days,
    Within7Days,
    /// Months away, but the last refresh failed.
    FarRefreshFailed,
    Far,
}

impl Expiry {
    /// Seconds from now to the expiry.
    fn offset(self, rng: &mut Rng) -> i64 {
        let (lo, hi) = match self {
            Expiry::Expired => (-20 * HOUR, -HOUR),
            Expiry::Within2Hours => (20 * MINUTE, 100 * MINUTE),
            Expiry::Within1Day => (3 * HOUR, 20 * HOUR),
            Expiry::Within3Days => (26 * HOUR, 70 * HOUR),
            Expiry::Within7Days => (4 * DAY, 6 * DAY + 12 * HOUR),
            Expiry::FarRefreshFailed | Expiry::Far => (30 * DAY, 300 * DAY),
        };
        lo + rng.range(0, (hi - lo) as u64) as i64
    }
}

/// ~20 credentials: one expired, one expiring within 2 h, 1 day, 3 days and
/// 7 days each, one far off whose last refresh failed, the rest months off.
fn write_credentials<S: Sink>(sink: &mut S, clock: Clock) -> Result<()> {
    let mut rng = clock.stream(T_CREDENTIALS, 0);
    let creds: Vec<(&str, &str, &str)> = SHOPS
        .iter()
        .flat_map(|(platform, shop, names)| names.iter().map(move |n| (*platform, *shop, *n)))
        .collect();
    let mut expiry = vec![Expiry::Far; creds.len()];
    let traps = [
        Expiry::Expired,
        Expiry::Within2Hours,
        Expiry::Within1Day,
        Expiry::Within3Days,
        Expiry::Within7Days,
        Expiry::FarRefreshFailed,
    ];
    let mut slots: Vec<usize> = (0..creds.len()).collect();
    rng.shuffle(&mut slots);
    for (slot, trap) in slots.iter().zip(traps) {
        expiry[*slot] = trap;
    }
    for ((platform, shop, name), e) in creds.into_iter().zip(expiry) {
        let expires_at = clock.now + e.offset(&mut rng);
        // The last refresh happened before now and, for one that worked,
        // before the expiry it set.
        let refreshed = (clock.now.min(expires_at) - rng.range(10 * 60, 5 * 86_400) as i64)
            .min(clock.now - 600);
        sink.row(
            OpsTable::Credentials,
            &[
                Value::Str(platform),
                Value::Str(shop),
                Value::Str(name),
                clock.time(expires_at),
                clock.time(refreshed),
                Value::Bool(e != Expiry::FarRefreshFailed),
            ],
        )?;
    }
    Ok(())
}
