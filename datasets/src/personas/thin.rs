//! Thin evidence: orders whose only phone is masked, or whose only common
//! value is a device. Where an account still ties orders the answer is
//! exact; where nothing personal does, a resolver may split but never merge.

use super::spell::{self, Spelling};
use super::story::{JD, SHOPIFY, Story, TMALL};
use super::{Expect, Persona};

/// A Tmall buyer whose number is only ever shown masked.
pub(super) fn tmall_masked() -> Persona {
    let mut s = Story::new("tmall-masked");
    let (number, nick, home) = (s.mint.phone(), s.mint.tmall_nick(), s.mint.home("福州"));
    let times = s.mint.spread("2025-11-11", "2026-11-11", 12);
    for (i, time) in times.into_iter().enumerate() {
        let masked = spell::phone(number, Spelling::Masked);
        s.order(0, TMALL, time)
            .account(&nick)
            .when(i % 4 != 3, |o| o.masked(number))
            .when(i % 4 == 3, |o| {
                o.phone_text(&format!("86-{masked}")).trap("masked_phone")
            })
            .ship(&home);
    }
    s.finish(
        "A Fuzhou shopper buys 12 times on Tmall, and the export never shows more of her \
         number than its first three and last four digits. One person: her Tmall nick ties \
         the orders, the mask does not need to.",
        Expect::Exact,
    )
}

/// One person seen masked on Tmall and on JD; nothing links the two.
pub(super) fn masked_two_platforms() -> Persona {
    let mut s = Story::new("masked-two-platforms");
    let (number, home) = (s.mint.phone(), s.mint.home("昆明"));
    let (nick, jd) = (s.mint.tmall_nick(), s.mint.jd_account());
    let times = s.mint.spread("2025-11-20", "2026-11-20", 11);
    for (i, time) in times.into_iter().enumerate() {
        let (channel, account) = if i % 2 == 0 {
            (TMALL, &nick)
        } else {
            (JD, &jd)
        };
        s.order(0, channel, time)
            .account(account)
            .masked(number)
            .ship(&home);
    }
    s.finish(
        "A Kunming shopper buys on Tmall and on JD, and both exports mask her number the same \
         way. Each account holds its own orders together, but between the platforms there is \
         only a mask many numbers share (and an address). One person that the evidence cannot \
         show to be one: splitting her in two is acceptable, merging her with anyone else is \
         not.",
        Expect::NoFalseMerge,
    )
}

/// Guest checkouts in the brand app that share only the phone's IDFA.
pub(super) fn device_only() -> Persona {
    let mut s = Story::new("device-only");
    let (device, home, ip) = (s.mint.idfa(), s.mint.home("南宁"), s.mint.ip());
    let times = s.mint.spread("2025-12-01", "2026-10-31", 6);
    for (i, time) in times.into_iter().enumerate() {
        s.order(0, SHOPIFY, time)
            .device(&device)
            .ship(&home)
            .when(i % 2 == 0, |o| o.ip(&ip));
    }
    s.finish(
        "A Nanning shopper checks out as a guest in the brand's app six times, leaving no \
         phone, e-mail or account, only her iPhone's IDFA (exported in either case) and her \
         address. A device is a household's as often as a person's, so the evidence cannot \
         prove one buyer: keeping the orders apart is acceptable, joining them to anyone else \
         is not.",
        Expect::NoFalseMerge,
    )
}

/// Two strangers whose numbers mask identically.
pub(super) fn mask_twins() -> Persona {
    let mut s = Story::new("mask-twins");
    let first = s.mint.phone();
    let second = s.mint.phone_masking_as(first);
    for (person, (number, city)) in [(first, "青岛"), (second, "大连")].into_iter().enumerate()
    {
        let (nick, home) = (s.mint.tmall_nick(), s.mint.home(city));
        for time in s.mint.spread("2025-11-05", "2026-11-25", 6) {
            s.order(person as u32, TMALL, time)
                .account(&nick)
                .masked(number)
                .ship(&home);
        }
    }
    s.finish(
        "Two Tmall buyers, one in Qingdao and one in Dalian, have numbers with the same first \
         three and last four digits, so every order of both shows the same mask. Two people, \
         told apart by their Tmall nicks; the mask is not a number.",
        Expect::Exact,
    )
}
