//! Where orders ship: the personas' own small gazetteer of mainland cities
//! and a [`Place`] that knows the several ways one address gets written.

use super::spell::full_width;

/// A mainland city with a few districts and streets.
#[derive(Debug)]
pub(super) struct City {
    /// Short name, without `市`.
    pub(super) name: &'static str,
    /// Province written before the city; empty for the municipalities.
    province: &'static str,
    pub(super) districts: &'static [&'static str],
    pub(super) streets: &'static [&'static str],
}

const fn city_in(
    province: &'static str,
    name: &'static str,
    districts: &'static [&'static str],
    streets: &'static [&'static str],
) -> City {
    City {
        name,
        province,
        districts,
        streets,
    }
}

/// The cities persona homes and offices are in.
#[rustfmt::skip]
pub(super) const CITIES: &[City] = &[
    city_in("", "北京", &["朝阳区", "海淀区", "丰台区"], &["建国路", "望京街", "中关村大街", "学院路"]),
    city_in("", "上海", &["浦东新区", "徐汇区", "闵行区"], &["张杨路", "漕溪北路", "虹梅路", "龙阳路"]),
    city_in("", "天津", &["和平区", "南开区"], &["南京路", "卫津路", "鞍山西道"]),
    city_in("", "重庆", &["渝中区", "江北区"], &["民生路", "建新北路", "洋河一路"]),
    city_in("广东省", "广州", &["天河区", "海珠区"], &["天河路", "江南大道中", "黄埔大道西"]),
    city_in("广东省", "深圳", &["南山区", "福田区", "宝安区"], &["科技园南路", "深南大道", "新安六路"]),
    city_in("广东省", "东莞", &["南城区", "东城区"], &["鸿福路", "东纵大道", "元美路"]),
    city_in("广东省", "佛山", &["禅城区", "南海区"], &["季华五路", "南海大道", "岭南大道北"]),
    city_in("浙江省", "杭州", &["西湖区", "余杭区", "滨江区"], &["文三路", "文一西路", "江南大道"]),
    city_in("浙江省", "宁波", &["鄞州区", "海曙区"], &["天童南路", "中山西路", "鄞县大道"]),
    city_in("江苏省", "南京", &["鼓楼区", "秦淮区"], &["中山北路", "汉中路", "龙蟠中路"]),
    city_in("江苏省", "苏州", &["工业园区", "姑苏区"], &["星湖街", "人民路", "现代大道"]),
    city_in("四川省", "成都", &["武侯区", "锦江区", "高新区"], &["人民南路四段", "天府大道北段", "红星路三段", "科华北路"]),
    city_in("湖北省", "武汉", &["武昌区", "洪山区"], &["中南路", "珞喻路", "徐东大街"]),
    city_in("陕西省", "西安", &["雁塔区", "碑林区"], &["小寨东路", "长安北路", "科技路"]),
    city_in("湖南省", "长沙", &["岳麓区", "芙蓉区"], &["麓山南路", "五一大道", "桐梓坡路"]),
    city_in("河南省", "郑州", &["金水区", "二七区"], &["花园路", "大学路", "农业路"]),
    city_in("山东省", "青岛", &["市南区", "崂山区"], &["香港中路", "海尔路", "东海西路"]),
    city_in("山东省", "济南", &["历下区", "市中区"], &["泉城路", "经十路", "解放路"]),
    city_in("福建省", "厦门", &["思明区", "湖里区"], &["湖滨南路", "嘉禾路", "莲前西路"]),
    city_in("福建省", "福州", &["鼓楼区", "台江区"], &["五四路", "工业路", "六一中路"]),
    city_in("云南省", "昆明", &["五华区", "盘龙区"], &["人民中路", "北京路", "东风西路"]),
    city_in("辽宁省", "沈阳", &["和平区", "沈河区"], &["太原街", "青年大街", "北站路"]),
    city_in("辽宁省", "大连", &["中山区", "沙河口区"], &["人民路", "西安路", "五四路"]),
    city_in("黑龙江省", "哈尔滨", &["南岗区", "道里区"], &["西大直街", "中央大街", "红旗大街"]),
    city_in("安徽省", "合肥", &["蜀山区", "包河区"], &["长江西路", "马鞍山路", "潜山路"]),
    city_in("广西壮族自治区", "南宁", &["青秀区", "兴宁区"], &["民族大道", "朝阳路", "东葛路"]),
    city_in("贵州省", "贵阳", &["云岩区", "南明区"], &["中华北路", "遵义路", "宝山北路"]),
    city_in("河北省", "石家庄", &["长安区", "桥西区"], &["中山东路", "裕华路", "建设南大街"]),
    city_in("新疆维吾尔自治区", "乌鲁木齐", &["天山区", "沙依巴克区"], &["解放北路", "友好南路", "新华北路"]),
];

/// Residential compounds.
pub(super) const COMPOUNDS: &[&str] = &[
    "锦绣苑",
    "阳光花园",
    "金地格林小城",
    "万科城市花园",
    "翠湖天地",
    "碧桂园",
    "世纪新城",
    "丽景湾",
    "远洋山水",
    "中海国际社区",
    "龙湖春江郦城",
    "招商雍景湾",
    "恒大名都",
    "东方明珠花园",
    "保利香槟国际",
    "绿城桂花园",
];

/// Office towers.
pub(super) const TOWERS: &[&str] = &[
    "国际金融中心",
    "华润大厦",
    "环球贸易广场",
    "软件园二期",
    "创新大厦A座",
    "绿地中心B座",
    "保利中心",
    "万达广场写字楼",
    "科技大厦",
    "招商局广场",
];

/// The city called `name`; panics on a name the gazetteer lacks.
pub(super) fn city(name: &str) -> &'static City {
    CITIES
        .iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("no city {name} in the gazetteer"))
}

/// One delivery address and the ways it gets written: the first spelling
/// is the full form, the others are how people and apps abbreviate it.
#[derive(Debug, Clone)]
pub(super) struct Place {
    cities: Vec<String>,
    spellings: Vec<String>,
}

impl Place {
    /// An apartment: `street number`, compound, building, room.
    pub(super) fn home(
        city: &City,
        district: &str,
        street: &str,
        number: usize,
        compound: &str,
        building: usize,
        room: usize,
    ) -> Self {
        let (p, c) = (city.province, city.name);
        let fw = |n: usize| full_width(&n.to_string());
        Self::mainland(
            c,
            vec![
                format!("{p}{c}市{district}{street}{number}号{compound}{building}栋{room}室"),
                format!("{c}{district}{street}{number}号{compound}{building}幢{room}"),
                format!("{district}{street}{number}号 {compound} {building}-{room}"),
                format!(
                    "{c}市{district}{street}{}号{compound}{}号楼{}",
                    fw(number),
                    fw(building),
                    fw(room)
                ),
            ],
        )
    }

    /// An office suite: `street number`, tower, floor, room.
    pub(super) fn office(
        city: &City,
        district: &str,
        street: &str,
        number: usize,
        tower: &str,
        floor: usize,
        room: usize,
    ) -> Self {
        let (p, c) = (city.province, city.name);
        Self::mainland(
            c,
            vec![
                format!("{p}{c}市{district}{street}{number}号{tower}{floor}层{room}室"),
                format!("{c}{district}{street}{number}号{tower}{room}"),
                format!("{district}{street}{number}号{tower} {floor}F-{room}"),
                format!("{c}市{district}{street}{number}号{tower}{floor}楼{room}室"),
            ],
        )
    }

    /// A mainland address written out by hand (campus dorms, shops).
    pub(super) fn written(city: &str, spellings: &[&str]) -> Self {
        Self::mainland(city, spellings.iter().map(|s| s.to_string()).collect())
    }

    /// An address abroad: its city and its spellings, as given.
    pub(super) fn abroad(city: &str, spellings: &[&str]) -> Self {
        Self {
            cities: vec![city.to_string()],
            spellings: spellings.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn mainland(city: &str, spellings: Vec<String>) -> Self {
        Self {
            cities: vec![format!("{city}市"), city.to_string()],
            spellings,
        }
    }

    /// The city as most exports write it (`成都市`), or the short form.
    pub(super) fn city(&self, short: bool) -> &str {
        &self.cities[usize::from(short) % self.cities.len()]
    }

    /// Spelling `i` of the address (wrapping around).
    pub(super) fn spelling(&self, i: usize) -> &str {
        &self.spellings[i % self.spellings.len()]
    }

    /// How many spellings the address has.
    pub(super) fn spellings(&self) -> usize {
        self.spellings.len()
    }
}
