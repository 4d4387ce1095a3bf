//! How real exports spell one value: a phone with or without the country
//! code, spaced, dashed, in full-width digits or masked; relay numbers with
//! extensions; e-mails in other cases or with stray spaces.

/// One way of writing a mainland mobile number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Spelling {
    /// `13794500995`
    Plain,
    /// `+8613794500995`
    Plus86,
    /// `+86 137 9450 0995`
    Plus86Spaced,
    /// `8613794500995`
    Prefix86,
    /// `137 9450 0995`
    Spaced,
    /// `137-9450-0995`
    Dashed,
    /// `0086-137-9450-0995`
    Intl0086,
    /// `１３７９４５００９９５`
    FullWidth,
    /// `137****0995`, as Tmall and JD exports hide it.
    Masked,
}

/// The spellings a phone takes when nothing forces one, weighted towards
/// the plain form.
pub(super) const EVERYDAY: [Spelling; 16] = [
    Spelling::Plain,
    Spelling::Plain,
    Spelling::Plain,
    Spelling::Plain,
    Spelling::Plain,
    Spelling::Plain,
    Spelling::Plain,
    Spelling::Plain,
    Spelling::Plain,
    Spelling::Plus86,
    Spelling::Plus86Spaced,
    Spelling::Prefix86,
    Spelling::Spaced,
    Spelling::Dashed,
    Spelling::Intl0086,
    Spelling::FullWidth,
];

/// `phone` written the way `how` says.
pub(super) fn phone(phone: u64, how: Spelling) -> String {
    let digits = phone.to_string();
    let (head, middle, tail) = (&digits[..3], &digits[3..7], &digits[7..]);
    match how {
        Spelling::Plain => digits.clone(),
        Spelling::Plus86 => format!("+86{digits}"),
        Spelling::Plus86Spaced => format!("+86 {head} {middle} {tail}"),
        Spelling::Prefix86 => format!("86{digits}"),
        Spelling::Spaced => format!("{head} {middle} {tail}"),
        Spelling::Dashed => format!("{head}-{middle}-{tail}"),
        Spelling::Intl0086 => format!("0086-{head}-{middle}-{tail}"),
        Spelling::FullWidth => full_width(&digits),
        Spelling::Masked => format!("{head}****{tail}"),
    }
}

/// ASCII digits replaced by their full-width forms (`0` → `０`).
pub(super) fn full_width(text: &str) -> String {
    text.chars()
        .map(|c| match c.to_digit(10) {
            Some(d) => char::from_u32(0xFF10 + d).expect("full-width digit"),
            None => c,
        })
        .collect()
}

/// A relay number as Tmall and Douyin show it: `host-ext`.
pub(super) fn relay(host: u64, extension: u16) -> String {
    format!("{host}-{extension:04}")
}

/// A relay number as Pinduoduo shows it: `host转ext`.
pub(super) fn relay_zhuan(host: u64, extension: u16) -> String {
    format!("{host}转{extension:04}")
}

/// One way of typing an e-mail address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum EmailSpelling {
    /// As registered.
    Exact,
    /// First letter upper-case, as phone keyboards do.
    Capitalized,
    /// All upper-case.
    Upper,
    /// With a trailing space.
    TrailingSpace,
    /// A leading space and an upper-case domain.
    PaddedUpperDomain,
}

/// The spellings an e-mail takes when nothing forces one.
pub(super) const EVERYDAY_EMAIL: [EmailSpelling; 8] = [
    EmailSpelling::Exact,
    EmailSpelling::Exact,
    EmailSpelling::Exact,
    EmailSpelling::Exact,
    EmailSpelling::Capitalized,
    EmailSpelling::Upper,
    EmailSpelling::TrailingSpace,
    EmailSpelling::PaddedUpperDomain,
];

/// `address` typed the way `how` says.
pub(super) fn email(address: &str, how: EmailSpelling) -> String {
    match how {
        EmailSpelling::Exact => address.to_string(),
        EmailSpelling::Capitalized => {
            let mut chars = address.chars();
            chars.next().map_or_else(String::new, |first| {
                first.to_uppercase().chain(chars).collect()
            })
        }
        EmailSpelling::Upper => address.to_uppercase(),
        EmailSpelling::TrailingSpace => format!("{address} "),
        EmailSpelling::PaddedUpperDomain => match address.split_once('@') {
            Some((local, domain)) => format!(" {local}@{}", domain.to_uppercase()),
            None => format!(" {address}"),
        },
    }
}

/// `text` with the case of every letter swapped (a device id exported by
/// another system).
pub(super) fn swap_case(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_uppercase() {
                c.to_ascii_lowercase()
            } else {
                c.to_ascii_uppercase()
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phone_spellings() {
        let p = 13_794_500_995;
        let all: Vec<String> = [
            Spelling::Plain,
            Spelling::Plus86,
            Spelling::Plus86Spaced,
            Spelling::Prefix86,
            Spelling::Spaced,
            Spelling::Dashed,
            Spelling::Intl0086,
            Spelling::FullWidth,
            Spelling::Masked,
        ]
        .into_iter()
        .map(|s| phone(p, s))
        .collect();
        assert_eq!(
            all,
            [
                "13794500995",
                "+8613794500995",
                "+86 137 9450 0995",
                "8613794500995",
                "137 9450 0995",
                "137-9450-0995",
                "0086-137-9450-0995",
                "１３７９４５００９９５",
                "137****0995",
            ]
        );
        assert_eq!(relay(17_012_345_678, 34), "17012345678-0034");
        assert_eq!(relay_zhuan(17_012_345_678, 1234), "17012345678转1234");
    }

    #[test]
    fn email_spellings() {
        let e = "li.na@qq.com";
        assert_eq!(email(e, EmailSpelling::Capitalized), "Li.na@qq.com");
        assert_eq!(email(e, EmailSpelling::Upper), "LI.NA@QQ.COM");
        assert_eq!(email(e, EmailSpelling::TrailingSpace), "li.na@qq.com ");
        assert_eq!(email(e, EmailSpelling::PaddedUpperDomain), " li.na@QQ.COM");
        assert_eq!(swap_case("ab-CD-12"), "AB-cd-12");
    }
}
