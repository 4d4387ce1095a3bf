//! Strangers who show the same value: an office mailbox, a shop's phone, a
//! platform's relay number, a placeholder, a look-alike name and address.
//! The shared value belongs to nobody; each person's own identifiers decide.

use super::places::{self, Place};
use super::spell;
use super::story::{DEALER, DOUYIN, JD, MINIPROGRAM, PDD, SHOPIFY, Story, TMALL};
use super::{Expect, PLACEHOLDER_EMAIL, PLACEHOLDER_PHONE, Persona, ZERO_IDFA};

/// Four colleagues who all give the purchasing mailbox.
pub(super) fn office_email() -> Persona {
    let mut s = Story::new("office-email");
    let mailbox = "purchase@hengyuan-tech.cn";
    let (office, office_ip) = (s.mint.office("北京"), s.mint.ip());
    for person in 0..4 {
        let (number, jd) = (s.mint.phone(), s.mint.jd_account());
        for (i, time) in s
            .mint
            .spread("2025-11-03", "2026-11-27", 6)
            .into_iter()
            .enumerate()
        {
            let order = if i % 2 == 0 {
                s.order(person, JD, time).account(&jd)
            } else {
                s.order(person, SHOPIFY, time).ip(&office_ip)
            };
            order
                .phone(number)
                .email(mailbox)
                .ship(&office)
                .amount(60, 2400);
        }
    }
    s.finish(
        "Four colleagues at a Beijing company order for their teams on JD and the brand's \
         web shop; all of them type the shared purchase@ mailbox (in assorted cases) and ship \
         to the office, but each gives their own mobile and JD account. Four people.",
        Expect::Exact,
    )
}

/// A dealer clerk who types the shop's phone for walk-in customers.
pub(super) fn clerk_shop_phone() -> Persona {
    let mut s = Story::new("clerk-shop-phone");
    let shop_phone = s.mint.phone();
    let number = 100 + s.mint.below(800);
    let shop = Place::written(
        "东莞",
        &[
            &format!("广东省东莞市南城区鸿福路{number}号汇一城1楼门店"),
            &format!("东莞市南城区鸿福路{number}号门店自提"),
            &format!("门店自提(鸿福路{number}号)"),
        ],
    );
    for person in 0..20u32 {
        let returns = person % 10 < 3;
        let card = s.mint.member_card();
        let delivery = (person % 5 < 2).then(|| s.mint.home("东莞"));
        let visits = if returns { 2 } else { 1 };
        for time in s.mint.spread("2025-11-01", "2026-11-30", visits) {
            let phone = if s.mint.chance(60) {
                spell::phone(shop_phone, spell::Spelling::Plain)
            } else {
                PLACEHOLDER_PHONE.to_string()
            };
            s.order(person, DEALER, time)
                .phone_text(&phone)
                .ship(delivery.as_ref().unwrap_or(&shop))
                .amount(199, 3999)
                .when(returns, |o| o.account(&card))
                .trap("placeholder_phone");
        }
    }
    s.finish(
        "At a Dongguan dealer store the clerk types the shop's own mobile or 13800000000 for \
         every walk-in who will not give a number; 20 different customers buy, most once and \
         to be picked up in store, some delivered home, six coming back with a member card. \
         Twenty people: the phones are the clerk's, not theirs.",
        Expect::Exact,
    )
}

/// One relay host number in front of many buyers' orders.
pub(super) fn relay_reuse() -> Persona {
    let mut s = Story::new("relay-reuse");
    let (host, other_host, reused) = (s.mint.relay_host(), s.mint.relay_host(), s.mint.extension());
    let buyers = [
        (TMALL, host, true, "2025-11-20", "2025-12-20"),
        (TMALL, host, false, "2025-12-01", "2026-03-01"),
        (TMALL, other_host, false, "2026-01-10", "2026-05-10"),
        (TMALL, host, true, "2026-06-01", "2026-07-01"),
        (TMALL, host, false, "2026-06-15", "2026-11-15"),
        (PDD, other_host, true, "2026-02-01", "2026-06-01"),
        (PDD, host, false, "2026-08-01", "2026-11-28"),
    ];
    for (person, (channel, relay_host, reuse, from, to)) in buyers.into_iter().enumerate() {
        let account = if channel == TMALL {
            s.mint.tmall_nick()
        } else {
            s.mint.pdd_account()
        };
        let home = s.mint.home_anywhere();
        let n = 1 + s.mint.below(3);
        for time in s.mint.spread(from, to, n) {
            let extension = if reuse { reused } else { s.mint.extension() };
            let phone = if channel == TMALL {
                spell::relay(relay_host, extension)
            } else {
                spell::relay_zhuan(relay_host, extension)
            };
            s.order(person as u32, channel, time)
                .account(&account)
                .phone_text(&phone)
                .ship(&home)
                .trap("virtual_phone");
        }
    }
    s.finish(
        "Tmall and Pinduoduo hide buyers behind privacy numbers: seven unrelated buyers in \
         different cities get one of two host numbers with various extensions, and two Tmall \
         buyers even get the same host and extension half a year apart. Seven people, told \
         apart by their accounts; the relay numbers belong to the platform.",
        Expect::Exact,
    )
}

/// Ten strangers who all type test@test.com.
pub(super) fn test_email() -> Persona {
    let mut s = Story::new("test-email");
    for person in 0..10 {
        let (number, home) = (s.mint.phone(), s.mint.home_anywhere());
        let n = if person < 4 { 2 } else { 1 };
        for time in s.mint.spread("2025-11-05", "2026-11-25", n) {
            s.order(person, SHOPIFY, time)
                .phone(number)
                .email(PLACEHOLDER_EMAIL)
                .ship(&home)
                .trap("placeholder_email");
        }
    }
    s.finish(
        "The brand's web shop demands an e-mail, so ten unrelated buyers across China type \
         test@test.com (in whatever case); each gives their own mobile, and four of them order \
         twice. Ten people: the e-mail is nobody's.",
        Expect::Exact,
    )
}

/// Twelve strangers whose phones report the all-zero IDFA.
pub(super) fn zero_idfa() -> Persona {
    let mut s = Story::new("zero-idfa");
    for person in 0..12 {
        let number = s.mint.phone();
        let city = places::CITIES[person as usize * 2].name;
        let home = s.mint.home(city);
        let on_douyin = person % 2 == 0;
        let account = if on_douyin {
            s.mint.douyin_account()
        } else {
            s.mint.openid()
        };
        let unionid = s.mint.unionid();
        let n = 1 + s.mint.below(3);
        for time in s.mint.spread("2025-11-01", "2026-11-30", n) {
            let channel = if on_douyin { DOUYIN } else { MINIPROGRAM };
            s.order(person, channel, time)
                .account(&account)
                .when(!on_douyin, |o| o.unionid(&unionid))
                .phone(number)
                .device_text(ZERO_IDFA)
                .ship(&home)
                .trap("zero_device");
        }
    }
    s.finish(
        "Twelve iPhone owners in twelve cities have ad tracking switched off, so their orders \
         on Douyin and in the mini program all carry the all-zero IDFA. Each has their own \
         account and number. Twelve people.",
        Expect::Exact,
    )
}

/// Two women with the same name and the same address in different cities.
pub(super) fn namesakes() -> Persona {
    let mut s = Story::new("namesakes");
    let twins = [
        ("北京", "朝阳区", "wangfang1988@qq.com", "王芳1988"),
        ("成都", "金牛区", "wangfang1988@163.com", "王芳_1988"),
    ];
    for (person, (city, district, email, nick)) in twins.into_iter().enumerate() {
        let home = Place::home(
            places::city(city),
            district,
            "幸福路",
            88,
            "阳光花园",
            1,
            101,
        );
        let number = s.mint.phone();
        for (i, time) in s
            .mint
            .spread("2025-11-12", "2026-11-12", 6)
            .into_iter()
            .enumerate()
        {
            let order = if i % 2 == 0 {
                s.order(person as u32, TMALL, time).account(nick)
            } else {
                s.order(person as u32, SHOPIFY, time).email(email)
            };
            order.phone(number).ship(&home);
        }
    }
    s.finish(
        "Two women named Wang Fang, born the same year, each live at No. 88 Xingfu Road, \
         Sunshine Garden, building 1, room 101, one in Beijing and one in Chengdu; their \
         nicks and e-mails differ by a character or a domain. Nothing they use is shared: two \
         people.",
        Expect::Exact,
    )
}
