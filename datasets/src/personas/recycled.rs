//! Recycled numbers: a carrier (or an employer) hands a phone number to a
//! new holder after the old one stops using it. The number is the same; the
//! people, their accounts and their cities are not.

use super::spell::Spelling;
use super::story::{DOUYIN, JD, MINIPROGRAM, PDD, Story, TMALL, at};
use super::{Expect, Persona};

const RECYCLED: &str = "recycled_phone";

/// Old holder on JD, stranger on the mini program 45 days later.
pub(super) fn quiet_45_days() -> Persona {
    let mut s = Story::new("recycled45");
    let number = s.mint.phone();
    let (jd, old_home) = (s.mint.jd_account(), s.mint.home("北京"));
    let mut old_times = s.mint.spread("2025-11-05", "2026-02-01", 5);
    old_times.push(at("2026-02-09 21:14"));
    for time in old_times {
        s.order(0, JD, time)
            .account(&jd)
            .phone(number)
            .ship(&old_home)
            .trap(RECYCLED);
    }
    let (openid, unionid, device) = (s.mint.openid(), s.mint.unionid(), s.mint.gaid());
    let new_home = s.mint.home("广州");
    let mut new_times = vec![at("2026-03-27 10:02")];
    new_times.extend(s.mint.spread("2026-03-28", "2026-10-15", 7));
    for time in new_times {
        s.order(1, MINIPROGRAM, time)
            .account(&openid)
            .unionid(&unionid)
            .phone_as(number, Spelling::Plus86)
            .device(&device)
            .ship(&new_home)
            .trap(RECYCLED);
    }
    s.finish(
        "A Beijing buyer orders on JD with his account and number, then gives the number up \
         on 9 February. The carrier reassigns it after only 45 days (most wait 90 or more) to \
         a stranger in Guangzhou, who orders in the mini program with her own WeChat. Two \
         people: the number is the only thing they share.",
        Expect::Exact,
    )
}

/// Old holder on Tmall, new holder on Pinduoduo 90 days later.
pub(super) fn quiet_90_days() -> Persona {
    let mut s = Story::new("recycled90");
    let number = s.mint.phone();
    let (nick, old_home) = (s.mint.tmall_nick(), s.mint.home("上海"));
    let mut old_times = s.mint.spread("2025-11-02", "2026-01-10", 6);
    old_times.push(at("2026-01-14 12:40"));
    for (i, time) in old_times.into_iter().enumerate() {
        s.order(0, TMALL, time)
            .account(&nick)
            .phone_masked_if(number, i % 3 == 0)
            .ship(&old_home)
            .trap(RECYCLED);
    }
    let (pdd, new_home) = (s.mint.pdd_account(), s.mint.home("武汉"));
    let mut new_times = vec![at("2026-04-14 19:25")];
    new_times.extend(s.mint.spread("2026-04-20", "2026-11-25", 9));
    for time in new_times {
        s.order(1, PDD, time)
            .account(&pdd)
            .phone(number)
            .ship(&new_home)
            .amount(9, 199)
            .trap(RECYCLED);
    }
    s.finish(
        "A Shanghai shopper uses her number on Tmall until mid-January, then cancels the \
         line. Exactly 90 days later the carrier gives it to a Wuhan student who shops on \
         Pinduoduo with his own account. Two people.",
        Expect::Exact,
    )
}

/// A number quiet for the longest gap the date window holds: a year.
pub(super) fn quiet_a_year() -> Persona {
    let mut s = Story::new("recycled-quiet-year");
    let number = s.mint.phone();
    let (openid, unionid) = (s.mint.openid(), s.mint.unionid());
    let old_home = s.mint.home("西安");
    let mut old_times = s.mint.spread("2025-11-01", "2025-11-20", 3);
    old_times.push(at("2025-11-27 22:05"));
    for time in old_times {
        s.order(0, MINIPROGRAM, time)
            .account(&openid)
            .unionid(&unionid)
            .phone(number)
            .ship(&old_home)
            .trap(RECYCLED);
    }
    let (douyin, new_home) = (s.mint.douyin_account(), s.mint.home("厦门"));
    let mut new_times = vec![at("2026-11-24 20:31")];
    new_times.extend(s.mint.spread("2026-11-25", "2026-11-30", 3));
    for time in new_times {
        s.order(1, DOUYIN, time)
            .account(&douyin)
            .phone(number)
            .ship(&new_home)
            .trap(RECYCLED);
    }
    s.finish(
        "A Xi'an buyer's last mini program order is in November 2025; the number then sits \
         unused for a year (the longest quiet spell the date window holds, standing in for \
         two years) before a Xiamen stranger orders on Douyin with it. Two people.",
        Expect::Exact,
    )
}

/// The new holder of a recycled number is busy; the old holder comes back
/// with a new number and her old WeChat.
pub(super) fn old_holder_returns() -> Persona {
    let mut s = Story::new("recycled-return");
    let (old_number, new_number) = (s.mint.phone(), s.mint.phone());
    let (openid, unionid, device) = (s.mint.openid(), s.mint.unionid(), s.mint.idfa());
    let her_home = s.mint.home("南京");
    let mut before = s.mint.spread("2025-11-03", "2026-01-05", 5);
    before.push(at("2026-01-10 20:48"));
    for time in before {
        s.order(0, MINIPROGRAM, time)
            .account(&openid)
            .unionid(&unionid)
            .phone(old_number)
            .device(&device)
            .ship(&her_home)
            .trap(RECYCLED);
    }
    for time in s.mint.spread("2026-07-02", "2026-11-20", 6) {
        s.order(0, MINIPROGRAM, time)
            .account(&openid)
            .unionid(&unionid)
            .phone(new_number)
            .device(&device)
            .ship(&her_home)
            .trap("phone_change");
    }
    let (pdd, jd, douyin) = (
        s.mint.pdd_account(),
        s.mint.jd_account(),
        s.mint.douyin_account(),
    );
    let his_home = s.mint.home("合肥");
    let mut his_times = vec![at("2026-04-20 11:16")];
    his_times.extend(s.mint.spread("2026-04-21", "2026-11-28", 44));
    for (i, time) in his_times.into_iter().enumerate() {
        let (channel, account) = match i % 3 {
            0 => (PDD, &pdd),
            1 => (JD, &jd),
            _ => (DOUYIN, &douyin),
        };
        s.order(1, channel, time)
            .account(account)
            .phone(old_number)
            .ship(&his_home)
            .amount(15, 360)
            .trap(RECYCLED);
    }
    s.finish(
        "A Nanjing customer orders in the mini program, switches to a new number in January \
         and goes quiet. In April her old number is reassigned to a Hefei man who orders 45 \
         times on Pinduoduo, JD and Douyin. In July she returns to the mini program with the \
         same WeChat and her new number. Two people: she owns both sets of her orders, he \
         owns all of his.",
        Expect::Exact,
    )
}

/// A company phone handed from a leaver to her successor the next day.
pub(super) fn work_phone_handover() -> Persona {
    let mut s = Story::new("work-phone-handover");
    let number = s.mint.phone();
    let office = s.mint.office("深圳");
    let holders = [
        ("2025-11-04", "2026-03-28", Some("2026-03-31 17:20")),
        ("2026-04-01", "2026-11-27", None),
    ];
    for (person, (from, to, last)) in holders.into_iter().enumerate() {
        let (openid, unionid) = (s.mint.openid(), s.mint.unionid());
        let home = s.mint.home("深圳");
        let mut times = s.mint.spread(from, to, 10);
        times.extend(last.map(at));
        for (i, time) in times.into_iter().enumerate() {
            let place = if i % 3 == 2 { &home } else { &office };
            s.order(person as u32, MINIPROGRAM, time)
                .account(&openid)
                .unionid(&unionid)
                .phone(number)
                .ship(place)
                .trap(RECYCLED);
        }
    }
    s.finish(
        "A Shenzhen company's purchasing phone passes from an assistant who leaves on 31 \
         March to her successor on 1 April, with no quiet time at all. Each orders office \
         supplies (and now and then something for home) in the mini program with her own \
         WeChat and the company number. Two people.",
        Expect::Exact,
    )
}
