//! One person, many faces: the same buyer seen through several channels,
//! accounts, countries' phone formats or a clerk's typo.

use super::places::Place;
use super::spell::Spelling;
use super::story::{DEALER, DOUYIN, JD, MINIPROGRAM, PDD, SHOPIFY, Story, TMALL};
use super::{Expect, Persona};

/// One person on all seven channels with one number.
pub(super) fn seven_channels() -> Persona {
    let mut s = Story::new("seven-channels");
    let (number, home) = (s.mint.phone(), s.mint.home("宁波"));
    let (openid, unionid) = (s.mint.openid(), s.mint.unionid());
    let email = s.mint.qq_email();
    let accounts = [
        (TMALL, s.mint.tmall_nick()),
        (JD, s.mint.jd_account()),
        (PDD, s.mint.pdd_account()),
        (DOUYIN, s.mint.douyin_account()),
        (MINIPROGRAM, openid),
        (SHOPIFY, s.mint.shopify_customer()),
        (DEALER, s.mint.member_card()),
    ];
    for (channel, account) in &accounts {
        let channel = *channel;
        let n = 3 + s.mint.below(2);
        for (i, time) in s
            .mint
            .spread("2025-11-01", "2026-11-30", n)
            .into_iter()
            .enumerate()
        {
            let masked = channel == TMALL && i % 2 == 1;
            s.order(0, channel, time)
                .account(account)
                .phone_masked_if(number, masked)
                .when(channel == MINIPROGRAM, |o| o.unionid(&unionid))
                .when(channel == SHOPIFY, |o| o.email(&email))
                .ship(&home);
        }
    }
    s.finish(
        "A Ningbo fan of the brand buys on Tmall, JD, Pinduoduo, Douyin, the mini program, \
         the web shop and at the local dealer, with a different account on each but always \
         the same mobile (masked on some Tmall orders, spelled many ways elsewhere). One \
         person across seven channels.",
        Expect::Exact,
    )
}

/// An overseas buyer on the web shop with a US number and a Gmail address.
pub(super) fn overseas_shopify() -> Persona {
    let mut s = Story::new("overseas-shopify");
    let customer = s.mint.shopify_customer();
    let exchange = 200 + s.mint.below(700);
    let line = 1000 + s.mint.below(9000);
    let phones = [
        format!("+1 408-{exchange}-{line}"),
        format!("(408) {exchange}-{line}"),
        format!("408{exchange}{line}"),
        format!("+1408{exchange}{line}"),
        format!("001-408-{exchange}-{line}"),
    ];
    let emails = [
        "lina.zhou.sj@gmail.com",
        "Lina.Zhou.SJ@gmail.com",
        "linazhousj@gmail.com",
        "LINA.ZHOU.SJ@GMAIL.COM ",
        "li.nazhou.sj@gmail.com",
    ];
    let street = 1000 + s.mint.below(900);
    let home = Place::abroad(
        "San Jose",
        &[
            &format!("{street} Foxworthy Ave, San Jose, CA 95118"),
            &format!("{street} Foxworthy Avenue, San Jose CA 95118"),
            &format!("{street} foxworthy ave san jose ca"),
        ],
    );
    // (e-mail spelling, phone spelling, signed in)
    let orders: [(usize, Option<usize>, bool); 10] = [
        (0, Some(0), true),
        (1, None, true),
        (2, Some(1), false),
        (0, Some(2), true),
        (3, Some(3), false),
        (2, None, false),
        (4, None, false),
        (1, Some(4), true),
        (0, Some(0), false),
        (3, None, true),
    ];
    let times = s.mint.spread("2025-11-20", "2026-11-20", orders.len());
    for (time, (email, phone, signed_in)) in times.into_iter().zip(orders) {
        s.order(0, SHOPIFY, time)
            .email_text(emails[email])
            .when(signed_in, |o| o.account(&customer))
            .maybe(phone, |o, p| o.phone_text(&phones[p]).trap("intl_phone"))
            .ship(&home)
            .amount(180, 1600);
    }
    s.finish(
        "A Chinese engineer in San Jose buys from the brand's web shop, sometimes signed in, \
         sometimes as a guest; her Gmail address comes with and without dots and in any case, \
         her US number in five formats. One person: Gmail ignores dots and case, and the \
         number is one number.",
        Expect::Exact,
    )
}

/// A Shenzhen–Hong Kong commuter with a mainland and a Hong Kong number.
pub(super) fn hk_commuter() -> Persona {
    let mut s = Story::new("hk-commuter");
    let (number, nick) = (s.mint.phone(), s.mint.tmall_nick());
    let (openid, unionid, email) = (s.mint.openid(), s.mint.unionid(), s.mint.qq_email());
    let hk = format!("{}{}", s.mint.pick(&["5", "6", "9"]), s.mint.digits(7));
    let (head, tail) = hk.split_at(4);
    let hk_spellings = [
        format!("+852 {head} {tail}"),
        format!("+852{hk}"),
        format!("852-{head}-{tail}"),
        format!("{head} {tail}"),
    ];
    let home = s.mint.home("深圳");
    let block = 10 + s.mint.below(40);
    let office = Place::abroad(
        "香港",
        &[
            &format!("香港九龙尖沙咀广东道{block}号海港城港威大厦6座1508室"),
            &format!("九龍尖沙咀廣東道{block}號港威大廈6座1508"),
        ],
    );
    let times = s.mint.spread("2025-11-02", "2026-11-29", 14);
    for (i, time) in times.into_iter().enumerate() {
        let hk_phone = &hk_spellings[i % hk_spellings.len()];
        match i % 3 {
            0 => s
                .order(0, MINIPROGRAM, time)
                .account(&openid)
                .unionid(&unionid)
                .when(i % 2 == 0, |o| o.phone(number))
                .when(i % 2 == 1, |o| o.phone_text(hk_phone).trap("intl_phone"))
                .ship(&home),
            1 => s
                .order(0, SHOPIFY, time)
                .email(&email)
                .phone_text(hk_phone)
                .trap("intl_phone")
                .ship(&office),
            _ => s
                .order(0, TMALL, time)
                .account(&nick)
                .when(i % 4 == 1, |o| o.masked(number))
                .when(i % 4 != 1, |o| o.phone_as(number, Spelling::Plain))
                .ship(&home),
        };
    }
    s.finish(
        "A Shenzhen resident who works in Hong Kong keeps two numbers: a mainland mobile for \
         Tmall and a Hong Kong one for the web shop; in the mini program her WeChat orders \
         carry either. One person: the unionID meets both numbers.",
        Expect::Exact,
    )
}

/// Two mini programs of one brand: two openids, one unionID.
pub(super) fn two_miniprograms() -> Persona {
    let mut s = Story::new("two-miniprograms");
    let (shop_openid, club_openid) = (s.mint.openid(), s.mint.openid());
    let (unionid, number, home) = (s.mint.unionid(), s.mint.phone(), s.mint.home("宁波"));
    let times = s.mint.spread("2025-11-11", "2026-11-11", 11);
    for (i, time) in times.into_iter().enumerate() {
        let openid = if i % 2 == 0 {
            &shop_openid
        } else {
            &club_openid
        };
        s.order(0, MINIPROGRAM, time)
            .account(openid)
            .unionid(&unionid)
            .when(i % 3 == 0, |o| o.phone(number))
            .ship(&home);
    }
    s.finish(
        "A Ningbo member orders both in the brand's store mini program and in its members' \
         club mini program; each gives her a different openid, WeChat gives both the same \
         unionID. One person.",
        Expect::Exact,
    )
}

/// A dealer walk-in who later buys online with the same number.
pub(super) fn walk_in_goes_online() -> Persona {
    let mut s = Story::new("walk-in-online");
    let (number, nick, jd) = (s.mint.phone(), s.mint.tmall_nick(), s.mint.jd_account());
    let home = s.mint.home("佛山");
    let visits = s.mint.spread("2025-11-08", "2025-12-20", 2);
    for (time, spelling) in visits.into_iter().zip([Spelling::Dashed, Spelling::Spaced]) {
        s.order(0, DEALER, time)
            .phone_as(number, spelling)
            .amount(699, 4999);
    }
    for (i, time) in s
        .mint
        .spread("2026-01-15", "2026-11-25", 6)
        .into_iter()
        .enumerate()
    {
        let order = if i % 2 == 0 {
            s.order(0, TMALL, time)
                .account(&nick)
                .phone_as(number, Spelling::Plain)
        } else {
            s.order(0, JD, time)
                .account(&jd)
                .phone_as(number, Spelling::Plus86Spaced)
        };
        order.ship(&home);
    }
    s.finish(
        "A Foshan shopper first buys twice at a dealer store, where the clerk writes her \
         number with dashes or spaces and nothing else; from January she buys accessories on \
         Tmall and JD with the same number. One person.",
        Expect::Exact,
    )
}

/// `phone` with the first pair of differing neighbours in its last four
/// digits swapped, as a hurried clerk types it.
fn transposed(phone: u64) -> u64 {
    let mut digits: Vec<u8> = phone.to_string().into_bytes();
    match (7..10).find(|&i| digits[i] != digits[i + 1]) {
        Some(i) => digits.swap(i, i + 1),
        None => {
            digits[10] = if digits[10] == b'9' {
                b'8'
            } else {
                digits[10] + 1
            }
        }
    }
    String::from_utf8(digits)
        .expect("ASCII digits")
        .parse()
        .expect("eleven digits")
}

/// A dealer customer whose number the clerk once types with two digits
/// swapped.
pub(super) fn dealer_typo() -> Persona {
    let mut s = Story::new("dealer-typo");
    let (number, card, nick) = (s.mint.phone(), s.mint.member_card(), s.mint.tmall_nick());
    let home = s.mint.home("石家庄");
    let times = s.mint.spread("2025-11-06", "2026-11-26", 10);
    for (i, time) in times.into_iter().enumerate() {
        if i % 5 == 4 {
            s.order(0, TMALL, time)
                .account(&nick)
                .phone(number)
                .ship(&home);
        } else {
            let typed = if i == 5 { transposed(number) } else { number };
            s.order(0, DEALER, time)
                .account(&card)
                .phone_as(typed, Spelling::Plain)
                .ship(&home)
                .amount(299, 2999);
        }
    }
    s.finish(
        "A Shijiazhuang regular shows his member card at the dealer every visit and buys on \
         Tmall now and then; once the clerk swaps two digits of his number. One person: the \
         member card carries the mistyped order.",
        Expect::Exact,
    )
}

#[cfg(test)]
mod tests {
    use super::transposed;

    #[test]
    fn typos_swap_neighbours() {
        assert_eq!(transposed(13_794_500_995), 13_794_509_095);
        assert_eq!(transposed(13_794_501_111), 13_794_501_112);
        assert_eq!(transposed(13_794_509_999), 13_794_509_998);
        assert_eq!(transposed(13_794_500_000), 13_794_500_001);
    }
}
