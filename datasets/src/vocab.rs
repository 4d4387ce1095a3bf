//! Static vocabularies the generator draws from: channels, cities, streets,
//! phone prefixes, e-mail domains, coupons and the trap names.

/// Every sales channel, in the order used for channel indices.
pub const CHANNELS: [&str; 7] = [
    "tmall",
    "jd",
    "pdd",
    "douyin",
    "miniprogram",
    "shopify",
    "dealer",
];

pub(crate) const TMALL: usize = 0;
pub(crate) const JD: usize = 1;
pub(crate) const PDD: usize = 2;
pub(crate) const DOUYIN: usize = 3;
pub(crate) const MINIPROGRAM: usize = 4;
pub(crate) const SHOPIFY: usize = 5;
pub(crate) const DEALER: usize = 6;

/// How likely a person is to pick each channel (same order as [`CHANNELS`]).
pub(crate) const CHANNEL_WEIGHTS: [u32; 7] = [30, 20, 15, 15, 10, 5, 5];

/// Every trap label an [`crate::OrderRow`] can carry, highest precedence
/// first: when an order exhibits several phenomena it is labelled with the
/// first one in this list. A label is only set when the order actually shows
/// the affected value.
///
/// - `placeholder_phone`: dealer order whose phone is a clerk's placeholder
///   (`13800000000`, `13888888888`, ...), shared by unrelated buyers.
/// - `placeholder_email`: shopify order with `test@test.com`, `a@a.com`, ...
/// - `recycled_phone`: shows a number that two persons held: the old owner's
///   orders before their phone change, and the new owner's orders, which
///   start at least 90 days after the old owner's last use.
/// - `intl_phone`: a Hong Kong, Singapore or US number (`+852 5404 6490`).
/// - `shared_device`: douyin/miniprogram order from a family's shared
///   device; the household (same address) has 2–4 distinct persons.
/// - `zero_device`: the all-zero IDFA/GAID (ad tracking off).
/// - `phone_change`: placed after the person switched to a new number.
/// - `coupon_abuse`: `NEWCUST` claimed from a second or third account the
///   person opened on the same channel.
/// - `virtual_phone`: pdd privacy number (`host-ext` / `host转ext`) that
///   was also issued to another buyer.
/// - `masked_phone`: masked number (`138****5678`) whose first three and
///   last four digits also belong to another person.
pub const TRAPS: [&str; 10] = [
    "placeholder_phone",
    "placeholder_email",
    "recycled_phone",
    "intl_phone",
    "shared_device",
    "zero_device",
    "phone_change",
    "coupon_abuse",
    "virtual_phone",
    "masked_phone",
];

/// Order statuses.
pub(crate) const STATUSES: [&str; 6] = [
    "created",
    "paid",
    "shipped",
    "signed",
    "refunded",
    "cancelled",
];

/// A mainland city: display name, weight, districts, and local streets
/// (mixed with [`COMMON_STREETS`]).
pub(crate) struct City {
    pub(crate) name: &'static str,
    pub(crate) weight: u32,
    pub(crate) districts: &'static [&'static str],
    pub(crate) streets: &'static [&'static str],
}

pub(crate) const CITIES: &[City] = &[
    City {
        name: "上海市",
        weight: 14,
        districts: &[
            "浦东新区",
            "徐汇区",
            "静安区",
            "闵行区",
            "杨浦区",
            "长宁区",
            "普陀区",
            "宝山区",
        ],
        streets: &[
            "张江路",
            "世纪大道",
            "漕溪北路",
            "南京西路",
            "淮海中路",
            "虹桥路",
            "碧波路",
            "国定路",
        ],
    },
    City {
        name: "北京市",
        weight: 13,
        districts: &[
            "朝阳区",
            "海淀区",
            "东城区",
            "西城区",
            "丰台区",
            "昌平区",
            "通州区",
        ],
        streets: &[
            "建国路",
            "中关村大街",
            "望京街",
            "学院路",
            "长安街",
            "安立路",
            "回龙观西大街",
        ],
    },
    City {
        name: "广州市",
        weight: 9,
        districts: &["天河区", "越秀区", "海珠区", "番禺区", "白云区"],
        streets: &[
            "天河路",
            "体育西路",
            "环市东路",
            "江南大道",
            "广州大道",
            "市桥街",
        ],
    },
    City {
        name: "深圳市",
        weight: 10,
        districts: &["南山区", "福田区", "罗湖区", "宝安区", "龙岗区", "龙华区"],
        streets: &[
            "科技园路",
            "深南大道",
            "华强北路",
            "宝安大道",
            "龙岗大道",
            "民治大道",
        ],
    },
    City {
        name: "杭州市",
        weight: 7,
        districts: &["西湖区", "滨江区", "余杭区", "拱墅区", "上城区"],
        streets: &[
            "文三路",
            "江南大道",
            "文一西路",
            "莫干山路",
            "延安路",
            "网商路",
        ],
    },
    City {
        name: "成都市",
        weight: 7,
        districts: &["武侯区", "锦江区", "高新区", "青羊区", "成华区"],
        streets: &["天府大道", "春熙路", "人民南路", "科华北路", "蜀都大道"],
    },
    City {
        name: "重庆市",
        weight: 6,
        districts: &["渝中区", "江北区", "南岸区", "沙坪坝区", "渝北区"],
        streets: &[
            "解放碑步行街",
            "观音桥步行街",
            "南坪正街",
            "三峡广场",
            "金开大道",
        ],
    },
    City {
        name: "武汉市",
        weight: 6,
        districts: &["武昌区", "洪山区", "江汉区", "江岸区", "汉阳区"],
        streets: &["中南路", "珞喻路", "解放大道", "光谷大道", "汉阳大道"],
    },
    City {
        name: "南京市",
        weight: 5,
        districts: &["鼓楼区", "玄武区", "秦淮区", "建邺区", "江宁区"],
        streets: &["中山路", "珠江路", "汉中路", "江东中路", "双龙大道"],
    },
    City {
        name: "西安市",
        weight: 5,
        districts: &["雁塔区", "碑林区", "未央区", "新城区", "长安区"],
        streets: &["小寨东路", "长安北路", "凤城八路", "东大街", "科技路"],
    },
    City {
        name: "苏州市",
        weight: 4,
        districts: &["工业园区", "姑苏区", "吴中区", "相城区"],
        streets: &["星湖街", "观前街", "东吴北路", "现代大道"],
    },
    City {
        name: "天津市",
        weight: 4,
        districts: &["和平区", "南开区", "河西区", "滨海新区"],
        streets: &["南京路", "卫津路", "友谊路", "第二大街"],
    },
    City {
        name: "长沙市",
        weight: 3,
        districts: &["岳麓区", "天心区", "开福区", "雨花区"],
        streets: &["麓山南路", "五一大道", "芙蓉中路", "韶山北路"],
    },
    City {
        name: "郑州市",
        weight: 3,
        districts: &["金水区", "二七区", "中原区", "郑东新区"],
        streets: &["花园路", "金水路", "建设西路", "商务外环路"],
    },
    City {
        name: "青岛市",
        weight: 2,
        districts: &["市南区", "崂山区", "黄岛区"],
        streets: &["香港中路", "海尔路", "长江中路"],
    },
    City {
        name: "厦门市",
        weight: 2,
        districts: &["思明区", "湖里区", "集美区"],
        streets: &["湖滨南路", "嘉禾路", "软件园二期观日路"],
    },
    City {
        name: "合肥市",
        weight: 2,
        districts: &["蜀山区", "包河区", "庐阳区"],
        streets: &["长江西路", "马鞍山路", "徽州大道"],
    },
    City {
        name: "东莞市",
        weight: 2,
        districts: &["南城街道", "东城街道", "松山湖"],
        streets: &["鸿福路", "东纵大道", "工业北路"],
    },
];

/// Street names found in nearly every Chinese city.
pub(crate) const COMMON_STREETS: &[&str] = &[
    "人民路",
    "解放路",
    "中山路",
    "建设路",
    "和平路",
    "新华路",
    "文化路",
    "胜利路",
    "长江路",
    "黄河路",
    "青年路",
    "朝阳路",
    "光明路",
    "学府路",
    "滨江路",
    "幸福路",
    "团结路",
    "工农路",
];

/// Residential compound names, used by some address styles.
pub(crate) const COMPOUNDS: &[&str] = &[
    "阳光花园",
    "锦绣家园",
    "碧桂园",
    "万科城",
    "翠湖苑",
    "金色家园",
    "绿地新都会",
    "保利花园",
    "世纪城",
    "龙湖春江郦城",
    "华润城",
    "中海国际社区",
    "幸福里",
    "紫荆公寓",
];

/// Mainland mobile prefixes people hold (13x/15x/17x/18x/19x) with weights.
/// 170/171/165/167 are absent: those ranges are reserved for the privacy
/// host pool, so hosts can never equal a person's number.
pub(crate) const MOBILE_PREFIXES: &[(u64, u32)] = &[
    (130, 3),
    (131, 3),
    (132, 3),
    (133, 3),
    (134, 3),
    (135, 5),
    (136, 5),
    (137, 5),
    (138, 7),
    (139, 7),
    (150, 4),
    (151, 4),
    (152, 4),
    (153, 2),
    (155, 3),
    (156, 3),
    (157, 3),
    (158, 4),
    (159, 4),
    (173, 2),
    (175, 1),
    (176, 2),
    (177, 2),
    (178, 2),
    (180, 3),
    (181, 3),
    (182, 3),
    (183, 3),
    (184, 1),
    (185, 3),
    (186, 4),
    (187, 4),
    (188, 4),
    (189, 4),
    (191, 1),
    (193, 1),
    (195, 1),
    (198, 2),
    (199, 2),
];

/// Prefixes of the privacy ("virtual") host numbers used by pdd.
pub(crate) const PRIVACY_PREFIXES: &[u64] = &[170, 171, 165, 167];

/// Placeholder phones dealer clerks type when the buyer gives none.
pub(crate) const PLACEHOLDER_PHONES: &[u64] = &[
    13800000000,
    13888888888,
    18888888888,
    13000000000,
    13800138000,
];

/// Placeholder e-mails typed into shopify checkouts.
pub(crate) const PLACEHOLDER_EMAILS: &[&str] = &[
    "test@test.com",
    "a@a.com",
    "none@none.com",
    "123456@qq.com",
    "noemail@example.com",
];

/// Mainland e-mail domains with weights.
pub(crate) const EMAIL_DOMAINS: &[(&str, u32)] = &[
    ("qq.com", 38),
    ("163.com", 20),
    ("126.com", 8),
    ("gmail.com", 7),
    ("outlook.com", 6),
    ("foxmail.com", 5),
    ("sina.com", 4),
    ("hotmail.com", 4),
    ("icloud.com", 5),
    ("yeah.net", 2),
    ("139.com", 1),
];

/// Domains used by overseas buyers.
pub(crate) const INTL_EMAIL_DOMAINS: &[&str] = &[
    "gmail.com",
    "outlook.com",
    "yahoo.com",
    "icloud.com",
    "hotmail.com",
];

/// Pinyin surnames for e-mail local parts.
pub(crate) const SURNAMES: &[&str] = &[
    "wang", "li", "zhang", "liu", "chen", "yang", "huang", "zhao", "wu", "zhou", "xu", "sun", "ma",
    "zhu", "hu", "guo", "he", "lin", "luo", "gao", "zheng", "liang", "xie", "song", "tang", "han",
    "feng", "deng", "cao", "peng",
];

/// Pinyin given-name syllables.
pub(crate) const GIVEN: &[&str] = &[
    "wei", "fang", "na", "min", "jing", "li", "qiang", "lei", "jun", "yang", "yong", "yan", "jie",
    "juan", "tao", "ming", "chao", "xiu", "xia", "ping", "gang", "hui", "hong", "ling", "xin",
    "yu", "hao", "yi", "ting", "xue", "kai", "bo", "lan", "peng", "rui", "zhe", "shan", "qian",
];

/// Latin first names for overseas buyers.
pub(crate) const LATIN_FIRST: &[&str] = &[
    "kevin", "grace", "jason", "emily", "alan", "vivian", "eric", "cindy", "ryan", "joyce",
    "daniel", "michelle", "brian", "karen", "sam", "tiffany",
];

/// Non-NEWCUST coupons.
pub(crate) const COUPONS: &[&str] = &[
    "MAN200JIAN30",
    "MAN99JIAN10",
    "VIP10",
    "FREESHIP",
    "FLASH50",
    "SPRING2026",
    "MEMBERDAY",
];

/// Coupon only offered in the June 618 festival.
pub(crate) const COUPON_618: &str = "618MANJIAN";

/// First-order coupon.
pub(crate) const NEWCUST: &str = "NEWCUST";

/// Relative likelihood of placing an order in each local hour.
pub(crate) const HOUR_WEIGHTS: [u32; 24] = [
    30, 18, 9, 5, 4, 5, 9, 18, 30, 40, 50, 52, 48, 42, 42, 42, 40, 38, 40, 52, 70, 80, 72, 50,
];

/// Leading octets of Chinese broadband ranges (home IPs).
pub(crate) const HOME_IP_OCTETS: &[u8] = &[
    36, 58, 59, 60, 61, 101, 110, 111, 112, 113, 114, 115, 116, 118, 119, 121, 122, 123, 124, 125,
    180, 182, 183, 218, 219, 220, 221, 222,
];

/// Carrier-grade NAT ranges of mobile networks: few addresses, shared by many.
pub(crate) const MOBILE_IP_PREFIXES: &[[u8; 2]] = &[
    [117, 136],
    [223, 104],
    [112, 97],
    [39, 144],
    [120, 229],
    [221, 178],
];

/// An overseas locale for the shopify cross-border buyers.
pub(crate) struct Overseas {
    pub(crate) city: &'static str,
    pub(crate) weight: u32,
}

/// Hong Kong, Singapore, US.
pub(crate) const OVERSEAS: [Overseas; 3] = [
    Overseas {
        city: "香港",
        weight: 5,
    },
    Overseas {
        city: "Singapore",
        weight: 3,
    },
    Overseas {
        city: "San Francisco",
        weight: 2,
    },
];

/// Hong Kong streets (traditional characters, as written locally).
pub(crate) const HK_STREETS: &[&str] = &[
    "九龍旺角彌敦道",
    "香港島銅鑼灣軒尼詩道",
    "新界沙田大圍道",
    "九龍觀塘道",
    "香港島中環德輔道中",
];

/// Singapore streets.
pub(crate) const SG_STREETS: &[&str] = &[
    "Orchard Road",
    "Tampines Street 21",
    "Jurong West Ave 1",
    "Bukit Timah Road",
    "Ang Mo Kio Ave 3",
];

/// San Francisco streets.
pub(crate) const US_STREETS: &[&str] = &[
    "Mission St",
    "Market St",
    "Valencia St",
    "Geary Blvd",
    "Irving St",
];
