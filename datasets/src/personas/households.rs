//! Households: people under one roof who share a device, a phone, an
//! account or an address, and are still different people.

use super::places::Place;
use super::story::{DOUYIN, JD, MINIPROGRAM, Story};
use super::{Expect, Persona};

/// Three family members ordering from one iPad.
pub(super) fn family_ipad() -> Persona {
    let mut s = Story::new("family-ipad");
    let (ipad, wifi) = (s.mint.idfa(), s.mint.ip());
    let home = s.mint.home("苏州");
    for person in 0..3 {
        let (openid, unionid) = (s.mint.openid(), s.mint.unionid());
        let (number, douyin) = (s.mint.phone(), s.mint.douyin_account());
        for (i, time) in s
            .mint
            .spread("2025-11-05", "2026-11-25", 8)
            .into_iter()
            .enumerate()
        {
            let order = if i % 3 == 2 {
                s.order(person, DOUYIN, time).account(&douyin)
            } else {
                s.order(person, MINIPROGRAM, time)
                    .account(&openid)
                    .unionid(&unionid)
            };
            order
                .phone(number)
                .device(&ipad)
                .ship(&home)
                .when(i % 2 == 0, |o| o.ip(&wifi))
                .trap("shared_device");
        }
    }
    s.finish(
        "A Suzhou family of three (mother, father, teenage daughter) shops in the mini \
         program and on Douyin from the iPad on the living-room table, each signed in with \
         their own WeChat or Douyin account and giving their own number. Three people: the \
         iPad and the home are shared, nothing personal is.",
        Expect::Exact,
    )
}

/// A couple who give one shared number for deliveries.
pub(super) fn couple_phone() -> Persona {
    let mut s = Story::new("couple-phone");
    let shared = s.mint.phone();
    let home = s.mint.home("重庆");
    for person in 0..2 {
        let (openid, unionid, own) = (s.mint.openid(), s.mint.unionid(), s.mint.phone());
        for (i, time) in s
            .mint
            .spread("2025-11-10", "2026-11-20", 8)
            .into_iter()
            .enumerate()
        {
            s.order(person, MINIPROGRAM, time)
                .account(&openid)
                .unionid(&unionid)
                .phone(if i % 2 == 0 { shared } else { own })
                .ship(&home);
        }
    }
    s.finish(
        "A Chongqing couple each shop in the mini program from their own WeChat, and each \
         give either their own mobile or the household number they share for deliveries. Two \
         people: each one's unionID holds their orders together; the shared number must not \
         join them.",
        Expect::Exact,
    )
}

/// A student who gives a parent's number once.
pub(super) fn student_parent_phone() -> Persona {
    let mut s = Story::new("student-parent-phone");
    let (parent_number, jd) = (s.mint.phone(), s.mint.jd_account());
    let (parent_openid, parent_unionid) = (s.mint.openid(), s.mint.unionid());
    let family_home = s.mint.home("长沙");
    for (i, time) in s
        .mint
        .spread("2025-11-03", "2026-11-26", 12)
        .into_iter()
        .enumerate()
    {
        let order = if i % 3 == 1 {
            s.order(0, MINIPROGRAM, time)
                .account(&parent_openid)
                .unionid(&parent_unionid)
        } else {
            s.order(0, JD, time).account(&jd)
        };
        order.phone(parent_number).ship(&family_home);
    }
    let (number, openid, unionid) = (s.mint.phone(), s.mint.openid(), s.mint.unionid());
    let room = 300 + s.mint.below(20) + 1;
    let dorm = Place::written(
        "武汉",
        &[
            &format!("湖北省武汉市洪山区珞喻路1037号紫菘学生公寓9栋{room}"),
            &format!("武汉市洪山区珞喻路1037号紫菘公寓9栋{room}室"),
            &format!("紫菘9栋{room}"),
        ],
    );
    let mut times = s.mint.spread("2025-11-12", "2026-01-10", 3);
    times.extend(s.mint.spread("2026-01-20", "2026-02-20", 2));
    times.extend(s.mint.spread("2026-03-01", "2026-11-28", 5));
    for (i, time) in times.into_iter().enumerate() {
        let winter_break = (3..5).contains(&i);
        s.order(1, MINIPROGRAM, time)
            .account(&openid)
            .unionid(&unionid)
            .phone(if i == 6 { parent_number } else { number })
            .ship(if winter_break { &family_home } else { &dorm })
            .amount(15, 260);
    }
    s.finish(
        "A Changsha parent shops on JD and in the mini program; their child, a student in \
         Wuhan, shops in the mini program from her own WeChat and number, sends two orders \
         home over the winter break, and once types the parent's number. Two people: the \
         student's unionID claims that order, whatever number it shows.",
        Expect::Exact,
    )
}

/// Twins sharing a room and a tablet, nothing else.
pub(super) fn twins_device() -> Persona {
    let mut s = Story::new("twins-tablet");
    let (tablet, home) = (s.mint.gaid(), s.mint.home("成都"));
    for person in 0..2 {
        let number = s.mint.phone();
        let (openid, unionid, douyin) =
            (s.mint.openid(), s.mint.unionid(), s.mint.douyin_account());
        for (i, time) in s
            .mint
            .spread("2025-11-15", "2026-11-15", 7)
            .into_iter()
            .enumerate()
        {
            let order = if (i + person as usize).is_multiple_of(2) {
                s.order(person, MINIPROGRAM, time)
                    .account(&openid)
                    .unionid(&unionid)
            } else {
                s.order(person, DOUYIN, time).account(&douyin)
            };
            order
                .phone(number)
                .device(&tablet)
                .ship(&home)
                .amount(20, 300)
                .trap("shared_device");
        }
    }
    s.finish(
        "Chengdu twins in their first job share their parents' address and an old Android \
         tablet, and each orders in the mini program and on Douyin with their own WeChat, \
         Douyin account and number. Two people: the device and address are all they share.",
        Expect::Exact,
    )
}

/// Two parents stocking up through one shared JD account.
pub(super) fn family_jd_account() -> Persona {
    let mut s = Story::new("family-jd-account");
    let (jd, home) = (s.mint.jd_account(), s.mint.home("天津"));
    for person in 0..2 {
        let (number, openid, unionid) = (s.mint.phone(), s.mint.openid(), s.mint.unionid());
        for (i, time) in s
            .mint
            .spread("2025-11-01", "2026-11-30", 10)
            .into_iter()
            .enumerate()
        {
            let order = if i % 3 == 0 {
                s.order(person, MINIPROGRAM, time)
                    .account(&openid)
                    .unionid(&unionid)
            } else {
                s.order(person, JD, time).account(&jd).amount(200, 1500)
            };
            order.phone(number).ship(&home);
        }
    }
    s.finish(
        "Two Tianjin parents stock up on rice, oil and nappies through the family's one JD \
         account, each entering their own mobile at checkout; each also shops in the mini \
         program with their own WeChat. Two people: the JD account is the household's, the \
         phones and unionIDs are personal.",
        Expect::Exact,
    )
}
