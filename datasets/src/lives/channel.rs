//! The sales channels and what each one exports about the buyer.

/// A channel the brand sells through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Channel {
    Tmall,
    Jd,
    Pdd,
    Douyin,
    MiniProgram,
    Shopify,
    Dealer,
}

/// How a platform shows the phone on an order (before any life situation
/// replaces the number itself).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum PhoneView {
    /// The full number.
    Full,
    /// Digits partly replaced by stars.
    Masked,
    /// A platform relay number, often with an extension.
    Relay,
}

impl Channel {
    /// Every channel, in index order.
    pub(super) const ALL: [Channel; 7] = [
        Channel::Tmall,
        Channel::Jd,
        Channel::Pdd,
        Channel::Douyin,
        Channel::MiniProgram,
        Channel::Shopify,
        Channel::Dealer,
    ];

    /// The exported channel name.
    pub(super) fn name(self) -> &'static str {
        match self {
            Channel::Tmall => "tmall",
            Channel::Jd => "jd",
            Channel::Pdd => "pdd",
            Channel::Douyin => "douyin",
            Channel::MiniProgram => "miniprogram",
            Channel::Shopify => "shopify",
            Channel::Dealer => "dealer",
        }
    }

    pub(super) fn index(self) -> usize {
        self as usize
    }

    /// Relative share of mainland buyers whose main channel this is.
    pub(super) fn main_share(self) -> u32 {
        match self {
            Channel::Tmall => 30,
            Channel::Jd => 18,
            Channel::Pdd => 14,
            Channel::Douyin => 17,
            Channel::MiniProgram => 11,
            Channel::Shopify => 2,
            Channel::Dealer => 8,
        }
    }

    /// Weights of full / masked / relay phones on this channel's orders,
    /// before the masking and relay multipliers.
    pub(super) fn phone_views(self) -> [f64; 3] {
        match self {
            Channel::Tmall => [12.0, 48.0, 40.0],
            Channel::Jd => [40.0, 52.0, 8.0],
            Channel::Pdd => [5.0, 38.0, 57.0],
            Channel::Douyin => [6.0, 56.0, 38.0],
            Channel::MiniProgram | Channel::Shopify | Channel::Dealer => [1.0, 0.0, 0.0],
        }
    }

    /// Probability that an order carries the device's advertising id
    /// (orders placed in an app).
    pub(super) fn device_share(self) -> f64 {
        match self {
            Channel::Tmall | Channel::Jd => 0.35,
            Channel::Pdd => 0.5,
            Channel::Douyin => 0.7,
            Channel::MiniProgram => 0.15,
            Channel::Shopify => 0.1,
            Channel::Dealer => 0.0,
        }
    }

    /// Probability that an order carries the buyer's IP address.
    pub(super) fn ip_share(self) -> f64 {
        match self {
            Channel::Tmall | Channel::Pdd => 0.1,
            Channel::Jd => 0.3,
            Channel::Douyin => 0.4,
            Channel::MiniProgram => 0.7,
            Channel::Shopify => 0.9,
            Channel::Dealer => 0.0,
        }
    }

    /// Probability that an order shows the buyer's own email.
    pub(super) fn email_share(self) -> f64 {
        match self {
            Channel::Tmall => 0.02,
            Channel::Jd => 0.08,
            Channel::MiniProgram => 0.08,
            Channel::Shopify => 1.0,
            Channel::Pdd | Channel::Douyin | Channel::Dealer => 0.0,
        }
    }

    /// Whether one person can open extra accounts here for new-customer
    /// coupons.
    pub(super) fn allows_extra_accounts(self) -> bool {
        matches!(
            self,
            Channel::Tmall | Channel::Jd | Channel::Pdd | Channel::Douyin
        )
    }

    /// Whether this channel is an online marketplace in mainland China.
    pub(super) fn is_marketplace(self) -> bool {
        matches!(
            self,
            Channel::Tmall | Channel::Jd | Channel::Pdd | Channel::Douyin
        )
    }
}
