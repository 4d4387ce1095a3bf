//! Where people live, work and study in mainland China, how their
//! addresses are spelled from one order to the next, and the IP addresses
//! their orders come from.

use super::ids::hash;
use crate::rng::Rng;

/// A mainland city: province, city, districts, relative share of buyers.
#[derive(Debug)]
pub(super) struct City {
    pub(super) province: &'static str,
    pub(super) name: &'static str,
    pub(super) districts: &'static [&'static str],
    pub(super) area_code: &'static str,
    weight: u32,
}

const fn city(
    province: &'static str,
    name: &'static str,
    area_code: &'static str,
    weight: u32,
    districts: &'static [&'static str],
) -> City {
    City {
        province,
        name,
        districts,
        area_code,
        weight,
    }
}

/// The cities buyers live in, with their districts.
#[rustfmt::skip]
pub(super) static CITIES: [City; 38] = [
    city("上海市", "上海市", "021", 9, &["浦东新区", "闵行区", "徐汇区", "静安区", "杨浦区", "宝山区", "普陀区", "长宁区"]),
    city("北京市", "北京市", "010", 9, &["朝阳区", "海淀区", "丰台区", "西城区", "东城区", "昌平区", "通州区", "大兴区"]),
    city("广东省", "广州市", "020", 7, &["天河区", "越秀区", "海珠区", "白云区", "番禺区", "黄埔区"]),
    city("广东省", "深圳市", "0755", 7, &["南山区", "福田区", "宝安区", "龙岗区", "罗湖区", "龙华区"]),
    city("浙江省", "杭州市", "0571", 6, &["西湖区", "上城区", "拱墅区", "滨江区", "余杭区", "萧山区"]),
    city("江苏省", "南京市", "025", 4, &["鼓楼区", "玄武区", "秦淮区", "建邺区", "江宁区", "栖霞区"]),
    city("江苏省", "苏州市", "0512", 4, &["姑苏区", "吴中区", "相城区", "虎丘区", "吴江区"]),
    city("四川省", "成都市", "028", 5, &["武侯区", "锦江区", "青羊区", "金牛区", "成华区", "双流区"]),
    city("重庆市", "重庆市", "023", 4, &["渝中区", "江北区", "南岸区", "九龙坡区", "沙坪坝区", "渝北区"]),
    city("湖北省", "武汉市", "027", 4, &["武昌区", "江汉区", "江岸区", "洪山区", "汉阳区", "硚口区"]),
    city("天津市", "天津市", "022", 3, &["和平区", "河西区", "南开区", "河东区", "河北区", "滨海新区"]),
    city("陕西省", "西安市", "029", 3, &["雁塔区", "碑林区", "莲湖区", "新城区", "未央区", "长安区"]),
    city("湖南省", "长沙市", "0731", 3, &["岳麓区", "芙蓉区", "天心区", "开福区", "雨花区"]),
    city("山东省", "青岛市", "0532", 2, &["市南区", "市北区", "崂山区", "李沧区", "黄岛区"]),
    city("山东省", "济南市", "0531", 2, &["历下区", "市中区", "槐荫区", "天桥区", "历城区"]),
    city("福建省", "厦门市", "0592", 2, &["思明区", "湖里区", "集美区", "海沧区"]),
    city("福建省", "福州市", "0591", 2, &["鼓楼区", "台江区", "仓山区", "晋安区"]),
    city("河南省", "郑州市", "0371", 3, &["金水区", "二七区", "中原区", "管城回族区", "惠济区"]),
    city("安徽省", "合肥市", "0551", 2, &["蜀山区", "包河区", "庐阳区", "瑶海区"]),
    city("辽宁省", "沈阳市", "024", 2, &["和平区", "沈河区", "皇姑区", "铁西区", "浑南区"]),
    city("辽宁省", "大连市", "0411", 2, &["中山区", "西岗区", "沙河口区", "甘井子区"]),
    city("黑龙江省", "哈尔滨市", "0451", 2, &["南岗区", "道里区", "道外区", "香坊区"]),
    city("吉林省", "长春市", "0431", 1, &["朝阳区", "南关区", "宽城区", "绿园区"]),
    city("云南省", "昆明市", "0871", 2, &["五华区", "盘龙区", "官渡区", "西山区"]),
    city("广西壮族自治区", "南宁市", "0771", 1, &["青秀区", "兴宁区", "江南区", "西乡塘区"]),
    city("江西省", "南昌市", "0791", 1, &["东湖区", "西湖区", "青山湖区", "红谷滩区"]),
    city("浙江省", "宁波市", "0574", 2, &["海曙区", "江北区", "鄞州区", "北仑区"]),
    city("广东省", "东莞市", "0769", 2, &["南城街道", "东城街道", "莞城街道", "虎门镇", "长安镇"]),
    city("广东省", "佛山市", "0757", 2, &["禅城区", "南海区", "顺德区", "三水区"]),
    city("江苏省", "无锡市", "0510", 2, &["梁溪区", "滨湖区", "新吴区", "锡山区"]),
    city("河北省", "石家庄市", "0311", 1, &["长安区", "桥西区", "新华区", "裕华区"]),
    city("山西省", "太原市", "0351", 1, &["小店区", "迎泽区", "杏花岭区", "万柏林区"]),
    city("贵州省", "贵阳市", "0851", 1, &["南明区", "云岩区", "观山湖区"]),
    city("海南省", "海口市", "0898", 1, &["龙华区", "美兰区", "秀英区"]),
    city("新疆维吾尔自治区", "乌鲁木齐市", "0991", 1, &["天山区", "沙依巴克区", "新市区"]),
    city("内蒙古自治区", "呼和浩特市", "0471", 1, &["新城区", "回民区", "赛罕区"]),
    city("甘肃省", "兰州市", "0931", 1, &["城关区", "七里河区", "安宁区"]),
    city("浙江省", "温州市", "0577", 1, &["鹿城区", "龙湾区", "瓯海区"]),
];

#[rustfmt::skip]
const STREETS: [&str; 32] = [
    "人民路", "中山路", "解放路", "建设路", "长江路", "南京路", "淮海路", "学院路",
    "文化路", "和平路", "新华路", "胜利路", "青年路", "光明路", "朝阳路", "东风路",
    "滨江大道", "世纪大道", "科技路", "创业路", "幸福路", "金桥路", "花园街", "工农路",
    "迎宾大道", "银河路", "望江路", "天府大道", "北京路", "黄河路", "春风路", "江南大道",
];

#[rustfmt::skip]
const COMPOUNDS: [&str; 40] = [
    "阳光花园", "锦绣家园", "翠湖苑", "金色港湾", "幸福里", "碧桂园", "万科城", "保利花园",
    "绿地世纪城", "龙湖春江郦城", "恒大名都", "中海国际社区", "华润橡树湾", "融创玖樟台", "世茂滨江花园", "招商雍景湾",
    "紫薇花园", "香榭丽舍", "书香门第", "春天花园", "东方明珠苑", "金地格林小城", "美的君兰", "雅居乐花园",
    "和谐家园", "桂花苑", "丽景湾", "梧桐公馆", "新城国际", "嘉和苑", "枫林绿洲", "明珠花园",
    "滨湖世纪城", "海棠湾", "未来城", "御景园", "康桥水乡", "星河湾", "青年汇", "兰亭苑",
];

#[rustfmt::skip]
const TOWERS: [&str; 16] = [
    "国贸大厦", "环球中心", "汇金广场", "创新科技园", "时代广场", "金融中心", "中关村软件园", "天安数码城",
    "SOHO中心", "万达广场", "来福士广场", "恒隆广场", "软件产业基地", "智汇产业园", "中央商务大厦", "华润大厦",
];

#[rustfmt::skip]
const SCHOOLS: [&str; 12] = [
    "理工大学", "师范大学", "财经大学", "医科大学", "外国语学院", "科技大学",
    "工业大学", "农业大学", "传媒学院", "交通大学", "职业技术学院", "艺术学院",
];

/// What kind of place an address is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum PlaceKind {
    Home,
    Office,
    Campus,
}

/// A physical address, spelled afresh on every order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Address {
    pub(super) city: u16,
    district: u8,
    street: u8,
    number: u16,
    /// Compound, tower or school.
    place: u8,
    kind: PlaceKind,
    building: u8,
    unit: u8,
    room: u16,
}

/// Draws a city by share of buyers.
pub(super) fn pick_city(rng: &mut Rng) -> u16 {
    let total: u32 = CITIES.iter().map(|c| c.weight).sum();
    let mut r = rng.below(u64::from(total)) as u32;
    for (i, c) in CITIES.iter().enumerate() {
        if r < c.weight {
            return i as u16;
        }
        r -= c.weight;
    }
    0
}

impl Address {
    /// A home in `city`.
    pub(super) fn home(rng: &mut Rng, city: u16) -> Self {
        let floors = if rng.chance(0.6) { 33 } else { 7 };
        Address {
            city,
            district: rng.index(CITIES[city as usize].districts.len()) as u8,
            street: rng.index(STREETS.len()) as u8,
            number: rng.range(1, 999) as u16,
            place: rng.index(COMPOUNDS.len()) as u8,
            kind: PlaceKind::Home,
            building: rng.range(1, 30) as u8,
            unit: rng.range(1, 6) as u8,
            room: (rng.range(1, floors) * 100 + rng.range(1, 4)) as u16,
        }
    }

    /// Another home in the same city and compound (a neighbour, a flat
    /// bought upstairs): differs only in building and room.
    pub(super) fn next_door(self, rng: &mut Rng) -> Self {
        Address {
            building: rng.range(1, 30) as u8,
            room: (rng.range(1, 33) * 100 + rng.range(1, 4)) as u16,
            ..self
        }
    }

    /// An office floor in `city`.
    pub(super) fn office(rng: &mut Rng, city: u16) -> Self {
        Address {
            city,
            district: rng.index(CITIES[city as usize].districts.len()) as u8,
            street: rng.index(STREETS.len()) as u8,
            number: rng.range(1, 1999) as u16,
            place: rng.index(TOWERS.len()) as u8,
            kind: PlaceKind::Office,
            building: rng.range(0, 3) as u8,
            unit: 0,
            room: (rng.range(2, 40) * 100 + rng.range(1, 20)) as u16,
        }
    }

    /// A student dormitory in `city`.
    pub(super) fn campus(rng: &mut Rng, city: u16) -> Self {
        Address {
            city,
            district: rng.index(CITIES[city as usize].districts.len()) as u8,
            street: rng.index(STREETS.len()) as u8,
            number: rng.range(1, 999) as u16,
            place: rng.index(SCHOOLS.len()) as u8,
            kind: PlaceKind::Campus,
            building: rng.range(1, 24) as u8,
            unit: 0,
            room: (rng.range(1, 6) * 100 + rng.range(1, 40)) as u16,
        }
    }

    /// The city as a channel exports it.
    pub(super) fn city_name(&self, rng: &mut Rng) -> String {
        city_name(self.city, rng)
    }

    /// The address as one order spells it: with or without province, `号`
    /// or `#`, `栋`/`幢`/`号楼`, dashed building-unit-room, spaces, and
    /// sometimes full-width digits. `habit` is the writer's usual style.
    pub(super) fn spell(&self, rng: &mut Rng, habit: u64) -> String {
        let city = &CITIES[self.city as usize];
        let spaced = if habit & 3 == 0 {
            !rng.chance(0.2)
        } else {
            rng.chance(0.1)
        };
        let sep = if spaced { " " } else { "" };
        let mut s = String::with_capacity(96);
        let with_province = if habit & 4 == 0 {
            rng.chance(0.85)
        } else {
            rng.chance(0.2)
        };
        if with_province {
            s.push_str(city.province);
            s.push_str(sep);
        }
        if !(with_province && city.province == city.name && rng.chance(0.5)) {
            s.push_str(city.name);
            s.push_str(sep);
        }
        s.push_str(city.districts[self.district as usize]);
        s.push_str(sep);
        s.push_str(STREETS[self.street as usize]);
        let number_mark = if rng.chance(0.12) { "#" } else { "号" };
        s.push_str(&format!("{}{number_mark}", self.number));
        s.push_str(sep);
        match self.kind {
            PlaceKind::Home => {
                s.push_str(COMPOUNDS[self.place as usize]);
                s.push_str(sep);
                let dashed = if habit & 8 == 0 {
                    rng.chance(0.08)
                } else {
                    !rng.chance(0.2)
                };
                if dashed {
                    s.push_str(&format!("{}-{}-{}", self.building, self.unit, self.room));
                } else {
                    let marks = ["栋", "幢", "号楼", "#"];
                    let mark = if rng.chance(0.15) {
                        marks[rng.index(4)]
                    } else {
                        marks[((habit >> 4) % 4) as usize]
                    };
                    s.push_str(&format!("{}{mark}", self.building));
                    if !rng.chance(0.15) {
                        s.push_str(&format!("{}单元", self.unit));
                    }
                    s.push_str(&format!("{}", self.room));
                    if rng.chance(0.6) {
                        s.push('室');
                    }
                }
            }
            PlaceKind::Office => {
                s.push_str(TOWERS[self.place as usize]);
                if self.building > 0 {
                    s.push(['A', 'B', 'C'][self.building as usize - 1]);
                    s.push('座');
                }
                s.push_str(sep);
                let floor = self.room / 100;
                if rng.chance(0.5) {
                    s.push_str(&format!("{floor}层{}", self.room));
                } else if rng.chance(0.5) {
                    s.push_str(&format!("{floor}楼{}室", self.room));
                } else {
                    s.push_str(&format!("{}室", self.room));
                }
            }
            PlaceKind::Campus => {
                s.push_str(SCHOOLS[self.place as usize]);
                s.push_str(sep);
                s.push_str(&format!("{}号宿舍楼{}", self.building, self.room));
                if rng.chance(0.5) {
                    s.push('室');
                }
            }
        }
        let full_width = if habit & 0x40 == 0 {
            rng.chance(0.04)
        } else {
            rng.chance(0.5)
        };
        if full_width { to_full_width(&s) } else { s }
    }
}

/// A city as a channel exports it (`上海市` or `上海`).
pub(super) fn city_name(city: u16, rng: &mut Rng) -> String {
    let name = CITIES[city as usize].name;
    if rng.chance(0.15) {
        name.trim_end_matches('市').to_string()
    } else {
        name.to_string()
    }
}

/// Replaces ASCII digits and `#`/`-` with their full-width forms.
pub(super) fn to_full_width(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '0'..='9' | '#' | '-' | '+' | '(' | ')' => {
                char::from_u32(c as u32 - 0x21 + 0xFF01).unwrap_or(c)
            }
            ' ' => '\u{3000}',
            c => c,
        })
        .collect()
}

/// First two octets of residential broadband in mainland China.
#[rustfmt::skip]
const BROADBAND: [[u8; 2]; 24] = [
    [58, 33], [58, 246], [59, 42], [60, 12], [61, 148], [101, 88], [106, 39], [110, 184],
    [111, 194], [113, 87], [114, 93], [115, 171], [116, 228], [118, 113], [119, 123], [121, 35],
    [122, 224], [123, 117], [124, 78], [125, 119], [180, 168], [182, 150], [183, 14], [222, 64],
];

/// First two octets of mobile carriers' shared (CGNAT) pools.
#[rustfmt::skip]
const MOBILE: [[u8; 2]; 10] = [
    [117, 136], [117, 139], [223, 104], [223, 72], [112, 97],
    [112, 96], [39, 144], [27, 38], [183, 192], [111, 30],
];

/// The broadband IP of a household in `city`, which the ISP reassigns
/// every `lease_days`.
pub(super) fn home_ip(key: u64, household: u64, city: u16, day: u32, lease_days: u32) -> String {
    let period = u64::from(day / lease_days.max(1));
    let prefix = BROADBAND[(hash(key, &[u64::from(city), household % 3]) % 24) as usize];
    let low = hash(key, &[household, period]);
    format!(
        "{}.{}.{}.{}",
        prefix[0],
        prefix[1],
        (low >> 8) % 256,
        1 + (low % 254)
    )
}

/// A mobile-network IP: carriers share these among many subscribers.
pub(super) fn mobile_ip(rng: &mut Rng) -> String {
    let prefix = MOBILE[rng.index(MOBILE.len())];
    format!(
        "{}.{}.{}.{}",
        prefix[0],
        prefix[1],
        rng.below(256),
        1 + rng.below(254)
    )
}

/// A fixed IP of an office.
pub(super) fn office_ip(key: u64, office: u64, city: u16) -> String {
    let prefix = BROADBAND[(hash(key, &[u64::from(city), 7]) % 24) as usize];
    let low = hash(key, &[office, 0x0FF1CE]);
    format!(
        "{}.{}.{}.{}",
        prefix[0],
        prefix[1],
        (low >> 8) % 256,
        1 + (low % 254)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_home_has_many_spellings() {
        let mut rng = Rng::new(5);
        let home = Address::home(&mut rng, 0);
        let spellings: std::collections::BTreeSet<String> =
            (0..50).map(|_| home.spell(&mut rng, 0)).collect();
        assert!(spellings.len() > 5);
        assert!(spellings.iter().all(|s| s.contains("上海")));
        assert_eq!(to_full_width("3#-1"), "３＃－１");
    }
}
