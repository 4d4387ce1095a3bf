//! Order numbers in each channel's own format, unique per channel: each
//! channel's counter, taken in time order, goes through a keyed
//! permutation so that numbers look random but never repeat.

use chrono::{DateTime, FixedOffset};

use super::channel::Channel;
use super::ids::{Scrambler, hash};

/// Hands out order numbers per channel.
#[derive(Debug)]
pub(super) struct OrderIds {
    key: u64,
    counters: [u64; 7],
    scramblers: [Scrambler; 7],
}

impl OrderIds {
    pub(super) fn new(key: u64) -> Self {
        let halves = [9, 5, 7, 8, 5, 1, 4];
        OrderIds {
            key,
            counters: [0; 7],
            scramblers: std::array::from_fn(|i| {
                Scrambler::new(hash(key, &[0x1D, i as u64]), halves[i])
            }),
        }
    }

    /// The next order number on `channel`, for an order placed `at`.
    pub(super) fn next(&mut self, channel: Channel, at: DateTime<FixedOffset>) -> String {
        let i = channel.index();
        let c = self.counters[i];
        self.counters[i] += 1;
        let s = self.scramblers[i].apply(c);
        let lead = hash(self.key, &[i as u64, c]) % 4;
        match channel {
            Channel::Tmall => format!("{}{s:018}", 1 + lead),
            Channel::Jd => format!("3{lead}{s:010}"),
            Channel::Pdd => format!("{}-{}{s:014}", at.format("%y%m%d"), lead),
            Channel::Douyin => format!("6{}{s:016}", 6 + lead),
            Channel::MiniProgram => format!("MP{}{s:010}", at.format("%Y%m%d")),
            Channel::Shopify => format!("#{}", 1001 + c),
            Channel::Dealer => format!("DL{}{s:08}", at.format("%Y%m%d")),
        }
    }
}
