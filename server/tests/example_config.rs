//! `docs/ordergraph.example.toml` is a configuration `ordergraph serve`
//! accepts: it is loaded from a data directory as at start-up
//! (`ServerSettings::load`, the engine's sections and the server's), and
//! its users go through the server's login check (`Logins::new`).

use std::path::Path;
use std::time::Duration;

use ordergraph_engine::{CONFIG_FILE, EngineConfig, Role};
use ordergraph_server::access::Logins;
use ordergraph_server::settings::ServerSettings;

const EXAMPLE: &str = include_str!("../../docs/ordergraph.example.toml");

fn load_example() -> (EngineConfig, ServerSettings) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(CONFIG_FILE), EXAMPLE).unwrap();
    ServerSettings::load(dir.path())
        .unwrap_or_else(|e| panic!("docs/ordergraph.example.toml does not load: {e:#}"))
}

#[test]
fn the_example_configuration_loads() {
    let (config, server) = load_example();

    assert_eq!(config.target_partitions, 2);

    assert_eq!(config.identity.default_region, "CN");
    assert_eq!(config.identity.max_companions, 2);
    assert_eq!(config.identity.max_accounts, 8);
    assert_eq!(config.identity.handover_gap_days, 30);
    assert!(config.identity_config().in_store("pos"));
    assert_eq!(config.identity.blocklist.len(), 3);
    assert_eq!(config.identity.blocklist[2].kind, "account");
    assert_eq!(config.identity.blocklist[2].value, "dealer:walkin");
    assert_eq!(
        config.identity_config().handover_gap,
        30 * 86_400_000_000,
        "handover_gap_days is read as days"
    );

    assert_eq!(
        config.report.now.as_deref(),
        Some("2026-06-30T00:00:00+08:00")
    );
    assert_eq!(config.report.timezone, "Asia/Shanghai");
    assert_eq!(
        config.report.hold_rules,
        ["scalper", "new_account_high_value"]
    );
    assert_eq!(config.report.high_value_amount, 5000);
    assert_eq!(config.report.supplier_confirm_hours, 48);
    assert!((config.report.velocity_weight_today - 1.5).abs() < 1e-9);
    assert!(
        config
            .report
            .new_customer_coupons
            .iter()
            .any(|c| c == "新人券")
    );

    assert_eq!(config.limits.memory_limit_mib, 4096);
    assert_eq!(config.limits.max_pending_ingests, 16);
    let analyst = config.limits.for_role(Some(Role::Analyst));
    assert_eq!(analyst.timeout, Duration::from_secs(60));
    assert_eq!(analyst.max_rows, Some(1_000_000));
    assert_eq!(analyst.memory, Some(512 << 20));
    let marketing = config.limits.for_role(Some(Role::Marketing));
    assert_eq!(marketing.max_rows, Some(200_000));
    assert_eq!(
        marketing.timeout,
        Duration::from_secs(300),
        "a key a role leaves out keeps the [limits] value"
    );

    assert_eq!(config.source.watch_dir.as_deref(), Some(Path::new("inbox")));
    assert_eq!(config.source.poll_ms, 500);
    assert_eq!(config.storage.checkpoint_interval_s, 300);

    let export = server.export.spec(Path::new("/data")).unwrap();
    assert_eq!(export.to, Path::new("/data/open-tables"));
    assert_eq!(
        server.export.every.map(|e| e.0),
        Some(Duration::from_secs(900))
    );
    assert_eq!(export.keep, Some(Duration::from_secs(7 * 86_400)));

    assert!(server.postgres.enabled);
    assert_eq!(server.postgres.listen.port(), 5433);
    assert!(server.postgres.require_tls);
    assert_eq!(
        server.postgres.tls_cert.as_deref(),
        Some(Path::new("tls/server.crt"))
    );
    assert_eq!(server.postgres.max_connections, 64);
    assert!(server.flight.enabled);
    assert_eq!(server.flight.listen.port(), 32010);
    assert!(server.flight.tls_key.is_some());

    let alerts = &server.alerts;
    assert_eq!(alerts.repeat_interval.0, Duration::from_secs(4 * 3_600));
    assert_eq!(alerts.retry_max.0, Duration::from_secs(600));
    assert_eq!(
        alerts.every["refund_escalations"].0,
        Duration::from_secs(30)
    );
    assert_eq!(alerts.disabled, ["mcid_health_digest"]);
    let reached = |route: &str| -> Vec<&str> {
        alerts
            .targets_of(route)
            .into_iter()
            .map(|t| t.name.as_str())
            .collect()
    };
    assert_eq!(reached("group_lead"), ["ops-dingtalk", "ops-mail"]);
    assert_eq!(reached("buyer:宁波备份厂"), ["ops-dingtalk", "erp-hook"]);
    assert_eq!(reached("risk"), ["erp-hook"]);
    assert!(
        !format!("{alerts:?}").contains("REPLACE-ME"),
        "target addresses and secrets stay out of Debug"
    );

    let users: Vec<(&str, Role)> = server
        .users
        .iter()
        .map(|u| (u.name.as_str(), u.role))
        .collect();
    assert_eq!(
        users,
        [
            ("admin", Role::Admin),
            ("ana", Role::Analyst),
            ("loader", Role::Ingest),
        ]
    );
}

#[test]
fn the_example_users_pass_the_start_up_check() {
    let (_, server) = load_example();
    let logins = Logins::new(&server.users, false)
        .unwrap_or_else(|e| panic!("the example's [[users]] are refused: {e}"));
    assert!(logins.has_users());
}
