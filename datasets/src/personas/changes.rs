//! Life changes: one person gets a new number, a new phone or a new city,
//! and keeps something (a WeChat, an account) that carries them across.

use super::story::{DOUYIN, JD, MINIPROGRAM, Story, TMALL};
use super::{Expect, Persona};

/// A new phone number under the same WeChat.
pub(super) fn phone_change() -> Persona {
    let mut s = Story::new("phone-change");
    let (old_number, new_number) = (s.mint.phone(), s.mint.phone());
    let (openid, unionid, nick) = (s.mint.openid(), s.mint.unionid(), s.mint.tmall_nick());
    let home = s.mint.home("广州");
    let before = s.mint.spread("2025-11-06", "2026-04-30", 9);
    let after = s.mint.spread("2026-05-03", "2026-11-26", 9);
    let times = before
        .into_iter()
        .map(|t| (t, false))
        .chain(after.into_iter().map(|t| (t, true)));
    for (i, (time, changed)) in times.enumerate() {
        let number = if changed { new_number } else { old_number };
        let order = if i % 3 == 2 {
            s.order(0, TMALL, time)
                .account(&nick)
                .phone_masked_if(number, i % 2 == 0)
        } else {
            s.order(0, MINIPROGRAM, time)
                .account(&openid)
                .unionid(&unionid)
                .phone(number)
        };
        order.ship(&home).when(changed, |o| o.trap("phone_change"));
    }
    s.finish(
        "A Guangzhou customer shops in the mini program and on Tmall with one number until \
         May, when she switches carriers and gets a new number; her WeChat and Tmall nick stay \
         the same. One person across both numbers.",
        Expect::Exact,
    )
}

/// New number, new phone and new city; the WeChat stays.
pub(super) fn new_life() -> Persona {
    let mut s = Story::new("new-life");
    let (openid, unionid) = (s.mint.openid(), s.mint.unionid());
    let (old_number, old_device) = (s.mint.phone(), s.mint.idfa());
    let (new_number, new_device) = (s.mint.phone(), s.mint.gaid());
    let (old_home, new_home) = (s.mint.home("杭州"), s.mint.home("深圳"));
    let douyin = s.mint.douyin_account();
    for time in s.mint.spread("2025-11-08", "2026-05-31", 8) {
        s.order(0, MINIPROGRAM, time)
            .account(&openid)
            .unionid(&unionid)
            .phone(old_number)
            .device(&old_device)
            .ship(&old_home);
    }
    for (i, time) in s
        .mint
        .spread("2026-06-10", "2026-11-29", 10)
        .into_iter()
        .enumerate()
    {
        let order = if i % 2 == 0 {
            s.order(0, MINIPROGRAM, time)
                .account(&openid)
                .unionid(&unionid)
        } else {
            s.order(0, DOUYIN, time).account(&douyin)
        };
        order
            .phone(new_number)
            .device(&new_device)
            .ship(&new_home)
            .trap("phone_change");
    }
    s.finish(
        "A Hangzhou designer moves to Shenzhen in June with a new job, a new number and an \
         Android phone instead of her iPhone; she keeps her WeChat and starts buying on Douyin \
         too, with the new number. One person: the unionID bridges the two lives, the new \
         number joins the Douyin account.",
        Expect::Exact,
    )
}

/// Same number and accounts through two moves.
pub(super) fn mover() -> Persona {
    let mut s = Story::new("mover-twice");
    let (number, jd) = (s.mint.phone(), s.mint.jd_account());
    let (openid, unionid) = (s.mint.openid(), s.mint.unionid());
    let stays = [
        ("北京", "2025-11-02", "2026-03-20"),
        ("杭州", "2026-04-02", "2026-08-25"),
        ("深圳", "2026-09-05", "2026-11-29"),
    ];
    for (city, from, to) in stays {
        let home = s.mint.home(city);
        for (i, time) in s.mint.spread(from, to, 6).into_iter().enumerate() {
            let order = if i % 2 == 0 {
                s.order(0, JD, time).account(&jd)
            } else {
                s.order(0, MINIPROGRAM, time)
                    .account(&openid)
                    .unionid(&unionid)
            };
            order.phone(number).ship(&home);
        }
    }
    s.finish(
        "A consultant moves from Beijing to Hangzhou in the spring and on to Shenzhen in \
         the autumn, keeping his number, JD account and WeChat throughout. One person in \
         three cities.",
        Expect::Exact,
    )
}
