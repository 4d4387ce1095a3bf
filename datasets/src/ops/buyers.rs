//! Buyer-side tables: `accounts` (one per channel account in the orders,
//! registered days to years before its first order), `browse_events`
//! (browsing before most orders) and `email_status` (deliverability of a
//! ~2% sample of the e-mails as written).
//!
//! A few accounts whose first order is over 5,000 CNY were registered only
//! minutes to hours before it and never browse: the `new_account_high_value`
//! fraud rule's targets. Every other account is older than a day at its
//! first order, so the rule flags nothing else.

use std::hash::Hasher;

use crate::OrderRow;
use crate::Result;
use crate::output::Value;
use crate::rng::{FxHashMap, FxHashSet, FxHasher, splitmix64};
use crate::vocab::CHANNELS;

use super::{Clock, DAY, HOUR, MINUTE, OpsTable, Sink, T_ACCOUNT, T_BROWSE, T_EMAIL};

/// First orders above this (fen) may come from a brand-new account.
pub(super) const HIGH_VALUE: i64 = 5_000 * 100;

/// Of the e-mails written, those whose hash falls below this per mille get
/// a deliverability status.
const EMAIL_SAMPLE_PER_MILLE: u64 = 20;

#[derive(Debug, Clone, Copy)]
struct Account {
    created: i64,
    /// Registered just before a high-value first order; never browses.
    fresh: bool,
}

/// Per-account state across the pass over the orders.
#[derive(Debug)]
pub(super) struct Buyers<'a> {
    clock: Clock,
    accounts: FxHashMap<(u8, &'a str), Account>,
    /// Whether a fresh account was made yet: the first candidate always
    /// is, so every dataset with a high-value first order has the trap.
    any_fresh: bool,
    emails: FxHashSet<&'a str>,
}

impl<'a> Buyers<'a> {
    pub(super) fn new(clock: Clock, orders: usize) -> Self {
        let mut accounts = FxHashMap::default();
        accounts.reserve(orders / 2);
        Self {
            clock,
            accounts,
            any_fresh: false,
            emails: FxHashSet::default(),
        }
    }

    /// Writes the account row (on its first order), a browse event and the
    /// e-mail status that order `i` calls for.
    pub(super) fn order<S: Sink>(&mut self, sink: &mut S, i: u64, row: &'a OrderRow) -> Result<()> {
        let ts = row.ordered_at.timestamp();
        if let Some(account_id) = row.account_id.as_deref() {
            let channel = CHANNELS.iter().position(|c| *c == row.channel).unwrap_or(0) as u8;
            let account = match self.accounts.get(&(channel, account_id)) {
                Some(a) => *a,
                None => {
                    let a = self.register(i, row);
                    self.accounts.insert((channel, account_id), a);
                    sink.row(
                        OpsTable::Accounts,
                        &[
                            Value::Str(row.channel),
                            Value::Str(account_id),
                            self.clock.time(a.created),
                        ],
                    )?;
                    a
                }
            };
            let mut rng = self.clock.stream(T_BROWSE, i);
            if !account.fresh && rng.chance(0.6) {
                let before = rng.range(MINUTE as u64, 3 * DAY as u64) as i64;
                let at = (ts - before).max(account.created + 1);
                sink.row(
                    OpsTable::BrowseEvents,
                    &[
                        Value::Str(row.channel),
                        Value::Str(account_id),
                        self.clock.time(at),
                    ],
                )?;
            }
        }
        if let Some(email) = row.email.as_deref() {
            self.email(sink, i, ts, email)?;
        }
        Ok(())
    }

    /// The account first seen on order `i`.
    fn register(&mut self, i: u64, row: &OrderRow) -> Account {
        let mut rng = self.clock.stream(T_ACCOUNT, i);
        let ts = row.ordered_at.timestamp();
        if row.amount_cents > HIGH_VALUE && (!self.any_fresh || rng.chance(0.4)) {
            self.any_fresh = true;
            let age = rng.range(5 * MINUTE as u64, 20 * HOUR as u64) as i64;
            return Account {
                created: ts - age,
                fresh: true,
            };
        }
        // Older than a day, so only the fresh ones look new.
        let buckets = [
            (26 * HOUR, 30 * DAY),
            (30 * DAY, 365 * DAY),
            (365 * DAY, 5 * 365 * DAY),
        ];
        let (lo, hi) = buckets[rng.weighted(&[25, 45, 30])];
        Account {
            created: ts - rng.range(lo as u64, hi as u64) as i64,
            fresh: false,
        }
    }

    /// The deliverability of a sampled e-mail, the first time it is seen.
    /// Sampling by hash keeps only the sampled addresses in memory.
    fn email<S: Sink>(&mut self, sink: &mut S, i: u64, ts: i64, email: &'a str) -> Result<()> {
        let mut h = FxHasher::default();
        h.write(email.as_bytes());
        let mut mixed = h.finish() ^ self.clock.seed;
        if splitmix64(&mut mixed) % 1000 >= EMAIL_SAMPLE_PER_MILLE || !self.emails.insert(email) {
            return Ok(());
        }
        let mut rng = self.clock.stream(T_EMAIL, i);
        let status = ["bounced", "disabled", "ok"][rng.weighted(&[30, 15, 55])];
        let at = (ts + rng.range(HOUR as u64, 30 * DAY as u64) as i64)
            .min(self.clock.now - MINUTE)
            .max(ts);
        sink.row(
            OpsTable::EmailStatus,
            &[Value::Str(email), Value::Str(status), self.clock.time(at)],
        )
    }
}
