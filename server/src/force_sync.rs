//! Force-sync: a command that makes every system (platform, ERP, WMS,
//! CRM) show one status for an order, and the rules of what one may ask:
//! a known status, a reason for the audit log, and shipping evidence
//! before anything is marked `shipped`, which only an admin may waive.

use ordergraph_engine::Role;
use ordergraph_engine::table::ORDER_STATUSES;
use serde::Deserialize;

/// The evidence a `shipped` command needs: the guard against marking
/// shipped what the warehouse never shipped.
pub(crate) const SHIPPING_EVIDENCE: [&str; 3] =
    ["tracking_no", "wms_outbound_id", "crm_delivery_node"];

/// What a force-sync asks for.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ForceSync {
    /// The status every system should show.
    pub(crate) status: String,
    /// Why: kept in the audit log.
    reason: String,
    tracking_no: Option<String>,
    wms_outbound_id: Option<String>,
    crm_delivery_node: Option<String>,
    /// Evidence of shipping not given on purpose (admins only), by name:
    /// `tracking_no`, `wms_outbound_id`, `crm_delivery_node`.
    #[serde(default)]
    waive: Vec<String>,
    /// A key of the caller's choosing: the same key again answers with the
    /// command it made, instead of making another.
    pub(crate) request_id: Option<String>,
}

/// A piece of evidence, if given: blank counts as not.
fn given(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

/// Why the rules refuse a force-sync.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Refused {
    /// The request itself is wrong.
    #[error("{0}")]
    Invalid(String),
    /// The role may not waive evidence.
    #[error("role {} may not waive shipping evidence; an admin may", .0.as_str())]
    MayNotWaive(Role),
}

impl ForceSync {
    /// Checks the request of a caller with `role`: a known status, a
    /// reason, and waivers only of known evidence, by an admin.
    pub(crate) fn check(&self, role: Role) -> Result<(), Refused> {
        if !ORDER_STATUSES.contains(&self.status.as_str()) {
            return Err(Refused::Invalid(format!(
                "status '{}' is not one of {}",
                self.status,
                ORDER_STATUSES.join(", ")
            )));
        }
        if self.reason().is_empty() {
            return Err(Refused::Invalid(
                "a reason is required: it goes into the audit log".into(),
            ));
        }
        if let Some(w) = self
            .waive
            .iter()
            .find(|w| !SHIPPING_EVIDENCE.contains(&w.as_str()))
        {
            return Err(Refused::Invalid(format!(
                "cannot waive '{w}': only {}",
                SHIPPING_EVIDENCE.join(", ")
            )));
        }
        if !self.waive.is_empty() && role != Role::Admin {
            return Err(Refused::MayNotWaive(role));
        }
        Ok(())
    }

    /// The reason, trimmed.
    pub(crate) fn reason(&self) -> &str {
        self.reason.trim()
    }

    /// The evidence given, in the order of [`SHIPPING_EVIDENCE`].
    pub(crate) fn evidence(&self) -> [Option<&str>; 3] {
        [
            given(&self.tracking_no),
            given(&self.wms_outbound_id),
            given(&self.crm_delivery_node),
        ]
    }

    /// The evidence a `shipped` command lacks, neither given nor waived;
    /// none for any other status.
    pub(crate) fn missing_evidence(&self) -> Vec<&'static str> {
        if self.status != "shipped" {
            return Vec::new();
        }
        SHIPPING_EVIDENCE
            .iter()
            .zip(self.evidence())
            .filter(|(name, value)| value.is_none() && !self.waive.iter().any(|w| w == *name))
            .map(|(name, _)| *name)
            .collect()
    }

    /// The evidence waived, sorted, each once.
    pub(crate) fn waived(&self) -> Vec<String> {
        let mut waived = self.waive.clone();
        waived.sort();
        waived.dedup();
        waived
    }

    /// The command's id: from the caller's `request_id` when given (so a
    /// retry names the same command), else unique to this moment.
    pub(crate) fn command_id(&self, user: &str, channel: &str, order_id: &str) -> String {
        let seed = match &self.request_id {
            Some(r) => format!("{user}\u{0}{r}"),
            None => format!(
                "{user}\u{0}{channel}\u{0}{order_id}\u{0}{}",
                chrono::Utc::now().timestamp_nanos_opt().unwrap_or_default()
            ),
        };
        format!("SC{:016X}", xxhash_rust::xxh3::xxh3_64(seed.as_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(json: &str) -> ForceSync {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn shipped_needs_evidence_unless_an_admin_waives_it() {
        let bare = request(r#"{"status": "shipped", "reason": "customer called"}"#);
        assert!(bare.check(Role::Support).is_ok());
        assert_eq!(bare.missing_evidence(), SHIPPING_EVIDENCE);
        let waived = request(
            r#"{"status": "shipped", "reason": "r", "tracking_no": " SF1 ",
                "waive": ["wms_outbound_id", "crm_delivery_node"]}"#,
        );
        assert!(matches!(
            waived.check(Role::Support),
            Err(Refused::MayNotWaive(Role::Support))
        ));
        assert!(waived.check(Role::Admin).is_ok());
        assert!(waived.missing_evidence().is_empty());
        assert_eq!(waived.evidence(), [Some("SF1"), None, None]);
        let paid = request(r#"{"status": "paid", "reason": "r"}"#);
        assert!(paid.missing_evidence().is_empty());
        for bad in [
            r#"{"status": "lost", "reason": "r"}"#,
            r#"{"status": "paid", "reason": "  "}"#,
            r#"{"status": "paid", "reason": "r", "waive": ["photo"]}"#,
        ] {
            let refused = request(bad).check(Role::Admin);
            assert!(matches!(refused, Err(Refused::Invalid(_))), "{bad}");
        }
    }
}
