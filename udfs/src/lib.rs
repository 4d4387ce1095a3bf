//! ordergraph's UDFs: normalization of phones, emails and device ids, the
//! xxh3 identity keys and printable MCIDs built from them, each system's
//! latest status of an order and the replay of its status events, and the
//! busiest window of a customer's orders; and `array_agg_by`, `first_by` and `last_by`,
//! aggregates over a group's rows in key order with a grouped accumulator.
//!
//! Each function is a plain Rust kernel (usable without Arrow, as the engine
//! does when it resolves identities in bulk) and a thin DataFusion wrapper.
//! [`all`] lists the wrappers, as DataFusion's own `functions()` does.

use std::sync::Arc;

use datafusion::error::Result;
use datafusion::execution::FunctionRegistry;
use datafusion::logical_expr::{AggregateUDF, ScalarUDF};

mod business_time;
mod by_key;
mod identity_key;
mod mask;
mod mcid_of;
mod normalize_device_id;
mod normalize_email;
mod normalize_phone;
mod phone;
mod phone_kind;
mod status_episodes;
mod strings;
mod system_statuses;
mod window_peak;

pub use business_time::{BusinessTimeFunc, check_zone};
pub use by_key::{ArrayAggByFunc, PickByFunc};
pub use identity_key::{IdentityKeyFunc, IdentityKind, identity_key};
pub use mask::{MaskEmailFunc, MaskPhoneFunc, mask_email, mask_phone};
pub use mcid_of::{MCID_LEN, McidOfFunc, mcid_bytes, mcid_of, mcid_str, parse_mcid};
pub use normalize_device_id::{
    DeviceId, DeviceUuid, NormalizeDeviceIdFunc, ZERO_DEVICE_ID, classify_device_id,
    normalize_device_id,
};
pub use normalize_email::{NormalizeEmailFunc, normalize_email, write_normalized_email};
pub use normalize_phone::NormalizePhoneFunc;
pub use phone::{
    DEFAULT_REGION, E164, PhoneClass, PhoneKind, classify_phone, normalize_phone, parse_region,
};
pub use phone_kind::PhoneKindFunc;
pub use rlibphonenumber::enums::Region;
pub use status_episodes::{
    Episode, STATUS_SYSTEMS, StatusEpisodesFunc, StatusEvent, SystemStatus, status_episodes,
};
pub use system_statuses::{StatusReport, SystemStatusesFunc, keep_latest};
pub use window_peak::{WindowPeak, WindowPeakFunc, window_peak};

/// Every ordergraph aggregate function, ready to register on a session.
pub fn aggregates() -> Vec<Arc<AggregateUDF>> {
    vec![
        Arc::new(AggregateUDF::from(ArrayAggByFunc::new())),
        Arc::new(AggregateUDF::from(PickByFunc::first())),
        Arc::new(AggregateUDF::from(PickByFunc::last())),
    ]
}

/// Every ordergraph UDF, ready to register on a session.
pub fn all() -> Vec<Arc<ScalarUDF>> {
    vec![
        Arc::new(ScalarUDF::from(NormalizePhoneFunc::new())),
        Arc::new(ScalarUDF::from(PhoneKindFunc::new())),
        Arc::new(ScalarUDF::from(NormalizeEmailFunc::new())),
        Arc::new(ScalarUDF::from(NormalizeDeviceIdFunc::new())),
        Arc::new(ScalarUDF::from(IdentityKeyFunc::new())),
        Arc::new(ScalarUDF::from(McidOfFunc::new())),
        Arc::new(ScalarUDF::from(MaskPhoneFunc::new())),
        Arc::new(ScalarUDF::from(MaskEmailFunc::new())),
        Arc::new(ScalarUDF::from(StatusEpisodesFunc::new())),
        Arc::new(ScalarUDF::from(SystemStatusesFunc::new())),
        Arc::new(ScalarUDF::from(WindowPeakFunc::new())),
    ]
}

/// Registers every ordergraph function, `business_time` in `timezone`
/// (the business time zone, `[report] timezone`).
pub fn register(registry: &mut dyn FunctionRegistry, timezone: &str) -> Result<()> {
    for udf in all() {
        registry.register_udf(udf)?;
    }
    for udaf in aggregates() {
        registry.register_udaf(udaf)?;
    }
    registry.register_udf(Arc::new(ScalarUDF::from(BusinessTimeFunc::new(timezone))))?;
    Ok(())
}

#[cfg(test)]
mod properties;
#[cfg(test)]
mod tests;
