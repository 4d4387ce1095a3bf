//! The situation each order is in, as the ground truth labels it: every
//! order collects the situations it fits, and the one most likely to
//! mislead a matcher becomes its label.

/// Situations, as bits of an order's mask.
pub(super) const RECYCLED_PHONE: u16 = 1 << 0;
pub(super) const PLACEHOLDER_PHONE: u16 = 1 << 1;
pub(super) const SHARED_DEVICE: u16 = 1 << 2;
pub(super) const COUPON_ABUSE: u16 = 1 << 3;
pub(super) const PHONE_CHANGE: u16 = 1 << 4;
pub(super) const PLACEHOLDER_EMAIL: u16 = 1 << 5;
pub(super) const VIRTUAL_PHONE: u16 = 1 << 6;
pub(super) const ZERO_DEVICE: u16 = 1 << 7;
pub(super) const INTL_PHONE: u16 = 1 << 8;
pub(super) const MASKED_PHONE: u16 = 1 << 9;

/// Situations from most to least misleading, with their labels. Numbers
/// that strangers really held, typed placeholders and family devices join
/// different people; extra accounts and changed numbers split one person;
/// the rest hide or blur evidence.
pub(super) const PRIORITY: [(u16, &str); 10] = [
    (RECYCLED_PHONE, "recycled_phone"),
    (PLACEHOLDER_PHONE, "placeholder_phone"),
    (SHARED_DEVICE, "shared_device"),
    (COUPON_ABUSE, "coupon_abuse"),
    (PHONE_CHANGE, "phone_change"),
    (PLACEHOLDER_EMAIL, "placeholder_email"),
    (VIRTUAL_PHONE, "virtual_phone"),
    (ZERO_DEVICE, "zero_device"),
    (INTL_PHONE, "intl_phone"),
    (MASKED_PHONE, "masked_phone"),
];

/// The label of an order's situations.
pub(super) fn label(mask: u16) -> Option<&'static str> {
    PRIORITY
        .iter()
        .find(|(bit, _)| mask & bit != 0)
        .map(|&(_, name)| name)
}

/// Identifiers that are a trap only if more than one person actually shows
/// them (a recycled number whose new holder never ordered misleads no one).
#[derive(Debug, Default)]
pub(super) struct Sightings {
    seen: Vec<(u64, u32, u32)>,
}

impl Sightings {
    /// Notes that order `row` of `person` shows `key`.
    pub(super) fn note(&mut self, key: u64, person: u32, row: usize) {
        self.seen.push((key, person, row as u32));
    }

    /// Clears `bit` on every noted order whose key only one person shows.
    pub(super) fn keep_shared(mut self, masks: &mut [u16], bit: u16) {
        self.seen.sort_unstable();
        for group in self.seen.chunk_by(|a, b| a.0 == b.0) {
            let first = group[0].1;
            if group.iter().all(|s| s.1 == first) {
                for s in group {
                    masks[s.2 as usize] &= !bit;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_follow_priority_and_sharing() {
        assert_eq!(label(0), None);
        assert_eq!(label(MASKED_PHONE | PHONE_CHANGE), Some("phone_change"));
        for (_, name) in PRIORITY {
            assert!(crate::TRAPS.contains(&name), "{name}");
        }
        let mut masks = vec![SHARED_DEVICE; 3];
        let mut s = Sightings::default();
        s.note(7, 1, 0);
        s.note(7, 2, 1);
        s.note(9, 3, 2);
        s.keep_shared(&mut masks, SHARED_DEVICE);
        assert_eq!(masks, vec![SHARED_DEVICE, SHARED_DEVICE, 0]);
    }
}
