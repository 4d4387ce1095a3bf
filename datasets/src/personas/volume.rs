//! Heavy buyers: one person behind hundreds of orders, dozens of addresses
//! or a burst of orders in one evening, held together by their own
//! identifiers.

use super::places::Place;
use super::spell::{self, Spelling};
use super::story::{DOUYIN, JD, MINIPROGRAM, PDD, Story, TMALL};
use super::{Expect, Persona};

/// A WeChat reseller forwarding stock to 30 shops in one city.
pub(super) fn reseller() -> Persona {
    let mut s = Story::new("reseller30");
    let (openid, unionid) = (s.mint.openid(), s.mint.unionid());
    let (phone, device) = (s.mint.phone(), s.mint.gaid());
    let shops: Vec<Place> = (0..30).map(|_| s.mint.home("成都")).collect();
    let times = s.mint.spread("2025-11-03", "2026-11-28", 300);
    for (i, time) in times.into_iter().enumerate() {
        let shop = &shops[s.mint.below(shops.len())];
        let spelling = if i % 4 == 1 {
            Spelling::Plus86
        } else {
            Spelling::Plain
        };
        let placeholder = match i % 60 {
            17 => Some("123@qq.com"),
            44 => Some("123456@qq.com"),
            _ => None,
        };
        let order = s
            .order(0, MINIPROGRAM, time)
            .account(&openid)
            .unionid(&unionid)
            .phone_as(phone, spelling)
            .device(&device)
            .ship(shop)
            .amount(300, 3000);
        if let Some(email) = placeholder {
            order.email_text(email).trap("placeholder_email");
        }
    }
    s.finish(
        "A WeChat reseller in Chengdu orders about 300 times in a year through the mini \
         program, always from one openid and unionID, and ships to 30 downstream shops across \
         the city; her phone appears as 11 digits and as +86, and the checkout's forced e-mail \
         field sometimes holds 123@qq.com. One person: the many addresses are her customers', \
         the placeholder e-mails are nobody's.",
        Expect::Exact,
    )
}

/// A gift sender shipping to 45 people across China from Tmall and JD.
pub(super) fn gift_sender() -> Persona {
    let mut s = Story::new("gift-sender");
    let (phone, nick, jd) = (s.mint.phone(), s.mint.tmall_nick(), s.mint.jd_account());
    let recipients: Vec<Place> = (0..45).map(|_| s.mint.home_anywhere()).collect();
    let mut who: Vec<usize> = (0..45).collect();
    for _ in 0..15 {
        who.push(s.mint.below(45));
    }
    s.mint.shuffle(&mut who);
    let mut times = Vec::new();
    for (from, to, n) in [
        ("2025-12-12", "2025-12-24", 10),
        ("2026-01-20", "2026-02-14", 20),
        ("2026-05-01", "2026-05-10", 10),
        ("2026-09-08", "2026-09-25", 12),
        ("2026-11-01", "2026-11-12", 8),
    ] {
        times.extend(s.mint.spread(from, to, n));
    }
    for (i, (time, r)) in times.into_iter().zip(who).enumerate() {
        let recipient = &recipients[r];
        if i % 5 < 3 {
            s.order(0, TMALL, time)
                .account(&nick)
                .phone_masked_if(phone, i % 2 == 0)
                .ship(recipient)
                .amount(99, 899);
        } else {
            s.order(0, JD, time)
                .account(&jd)
                .phone(phone)
                .ship(recipient)
                .amount(99, 899);
        }
    }
    s.finish(
        "A manager sends festival gifts: 60 orders on Tmall and JD around Christmas, the \
         Spring Festival, Mother's Day, Mid-Autumn and Singles' Day, shipped to 45 relatives \
         and clients in cities all over China. Every order carries her own phone (masked on \
         half the Tmall ones) and her Tmall nick or JD account. One person, however many \
         addresses.",
        Expect::Exact,
    )
}

/// A daigou buying 500 times a year through the mini program and Tmall.
pub(super) fn daigou() -> Persona {
    let mut s = Story::new("daigou500");
    let (openid, unionid) = (s.mint.openid(), s.mint.unionid());
    let (phone, device, nick) = (s.mint.phone(), s.mint.idfa(), s.mint.tmall_nick());
    let mut clients = vec![s.mint.home("上海")];
    clients.extend((0..14).map(|_| s.mint.home_anywhere()));
    let times = s.mint.spread("2025-11-01", "2026-11-01", 500);
    for (i, time) in times.into_iter().enumerate() {
        let client = &clients[s.mint.below(clients.len())];
        if i % 5 < 3 {
            s.order(0, MINIPROGRAM, time)
                .account(&openid)
                .unionid(&unionid)
                .phone(phone)
                .device(&device)
                .ship(client)
                .amount(200, 2600);
        } else {
            s.order(0, TMALL, time)
                .account(&nick)
                .phone_masked_if(phone, i % 3 == 0)
                .ship(client)
                .amount(200, 2600);
        }
    }
    s.finish(
        "A Shanghai daigou buys for clients 500 times in a year: 300 orders in the mini \
         program with her unionID, openid and phone, 200 on Tmall with her nick and the same \
         phone, masked on a third of them. The goods go to her home and 14 clients' addresses. \
         One person.",
        Expect::Exact,
    )
}

/// An office manager buying supplies for three offices on one JD account.
pub(super) fn office_buyer() -> Persona {
    let mut s = Story::new("office-buyer150");
    let (account, phone) = (s.mint.jd_account(), s.mint.phone());
    let email = format!("admin.{}@jinghe-keji.cn", s.mint.digits(3));
    let offices = [
        (s.mint.office("上海"), format!("021-{}", s.mint.digits(8))),
        (s.mint.office("苏州"), format!("0512-{}", s.mint.digits(8))),
        (s.mint.office("杭州"), format!("0571-{}", s.mint.digits(8))),
    ];
    let times = s.mint.spread("2025-11-04", "2026-11-27", 150);
    for (i, time) in times.into_iter().enumerate() {
        let (office, front_desk) = &offices[i % 3];
        s.order(0, JD, time)
            .account(&account)
            .when(i % 4 != 3, |o| o.phone(phone))
            .when(i % 4 == 3, |o| o.phone_text(front_desk))
            .when(i % 5 == 0, |o| o.email(&email))
            .ship(office)
            .amount(80, 4800);
    }
    s.finish(
        "An office manager buys supplies for the Shanghai, Suzhou and Hangzhou offices: 150 \
         JD orders from one company account, with her mobile on most and the receiving \
         office's front-desk landline on the rest. One person; the landlines and offices are \
         hers alone here.",
        Expect::Exact,
    )
}

/// A Douyin live-stream binge: 40 orders in two evenings.
pub(super) fn livestream_binge() -> Persona {
    let mut s = Story::new("livestream-binge");
    let (account, device) = (s.mint.douyin_account(), s.mint.idfa());
    let home = s.mint.home("长沙");
    let hosts = [
        s.mint.relay_host(),
        s.mint.relay_host(),
        s.mint.relay_host(),
    ];
    let mut times = s.mint.within("2026-03-07 20:00", "2026-03-08 00:40", 22);
    times.extend(s.mint.within("2026-11-10 19:30", "2026-11-11 01:10", 18));
    for (i, time) in times.into_iter().enumerate() {
        let virtual_phone = spell::relay(hosts[i % 3], s.mint.extension());
        let status = match i % 10 {
            2 | 7 => "cancelled",
            5 => "refunded",
            _ => "signed",
        };
        s.order(0, DOUYIN, time)
            .account(&account)
            .phone_text(&virtual_phone)
            .device(&device)
            .ship(&home)
            .amount(19, 399)
            .status(status)
            .trap("virtual_phone");
    }
    s.finish(
        "A Changsha viewer binges on live streams: 22 Douyin orders on the evening of \
         Women's Day and 18 on the eve of Singles' Day, each export showing a different \
         virtual number; she cancels or returns a third. One person: her Douyin account and \
         phone tie every order together, the virtual numbers tie nothing.",
        Expect::Exact,
    )
}

/// A coupon hunter opening five Pinduoduo accounts for the new-customer coupon.
pub(super) fn coupon_hunter() -> Persona {
    let mut s = Story::new("coupon-hunter");
    let (phone, device) = (s.mint.phone(), s.mint.gaid());
    let home = s.mint.home("郑州");
    let opened = [
        "2025-11-10",
        "2025-12-20",
        "2026-02-01",
        "2026-04-15",
        "2026-07-01",
    ];
    let closed = [
        "2025-12-19",
        "2026-01-31",
        "2026-04-14",
        "2026-06-30",
        "2026-09-30",
    ];
    for (k, (from, to)) in opened.into_iter().zip(closed).enumerate() {
        let account = s.mint.pdd_account();
        let n = 2 + s.mint.below(3);
        for (j, time) in s.mint.spread(from, to, n).into_iter().enumerate() {
            s.order(0, PDD, time)
                .account(&account)
                .phone(phone)
                .device(&device)
                .ship(&home)
                .amount(9, 129)
                .when(j == 0, |o| o.coupon("NEWCUST"))
                .when(j == 0 && k > 0, |o| o.trap("coupon_abuse"));
        }
    }
    s.finish(
        "A Zhengzhou bargain hunter opens five Pinduoduo accounts, one after another, to claim \
         the new-customer coupon again; every account uses her one phone and one Android \
         phone's advertising id. One person with five accounts.",
        Expect::Exact,
    )
}

/// A weekly Douyin buyer whose number the platform masks, and her second
/// account months after the full number last showed.
pub(super) fn masked_regular() -> Persona {
    let mut s = Story::new("masked-regular");
    let phone = s.mint.phone();
    let home = s.mint.home("长沙");
    let (first, second) = (s.mint.douyin_account(), s.mint.douyin_account());
    for (i, time) in s
        .mint
        .spread("2025-11-03", "2026-06-28", 30)
        .into_iter()
        .enumerate()
    {
        s.order(0, DOUYIN, time)
            .account(&first)
            .phone_masked_if(phone, i > 0)
            .ship(&home)
            .amount(19, 159);
    }
    for time in s.mint.spread("2026-07-05", "2026-09-20", 4) {
        s.order(0, DOUYIN, time)
            .account(&second)
            .phone(phone)
            .ship(&home)
            .amount(9, 99);
    }
    s.finish(
        "A Changsha buyer orders on Douyin every week. Douyin shows her full number on her \
         first order only and masks it (138****5678) on the other 29, over eight months. In \
         July she opens a second Douyin account and types her full number. The number was \
         in use the whole time, so the second account is hers, not a new holder's. One person.",
        Expect::Exact,
    )
}
