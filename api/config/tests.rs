//! Unit tests of [`super::Config::from_lookup`]: the documented defaults,
//! and that every invalid value is refused naming its variable.

use super::*;
use std::collections::HashMap;

fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
    let map: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    Config::from_lookup(|name| map.get(name).cloned())
}

#[test]
fn defaults_match_the_design() {
    let c = config(&[]).unwrap();
    assert_eq!(c.database_url, "sqlite://twofold.db");
    assert_eq!(c.bind.to_string(), "127.0.0.1:8080");
    assert_eq!(c.audience(), "http://localhost:8080");
    assert_eq!(c.issuer, "twofold");
    assert_eq!(c.data_dir, PathBuf::from("."));
    assert!(c.trusted_proxies.is_empty() && c.cors_origins.is_empty());
    assert_eq!(c.password, PasswordParams::default());
    assert_eq!(c.shutdown_timeout, Duration::from_secs(15));
    assert_eq!(c.autogroup_nice, 5);
}

#[test]
fn bad_values_name_their_variable() {
    for (var, value) in [
        ("TWOFOLD_DATABASE_URL", "mysql://x"),
        ("TWOFOLD_DATABASE_URL", "host=db password=secret"),
        ("TWOFOLD_BIND", "localhost"),
        ("TWOFOLD_PUBLIC_URL", "ftp://x"),
        ("TWOFOLD_ISSUER", "a:b"),
        ("TWOFOLD_TRUSTED_PROXIES", "10.0.0.1/8"),
        ("TWOFOLD_CORS_ORIGINS", "https://app.example.com/path"),
        ("TWOFOLD_ARGON2_ITERATIONS", "0"),
        ("TWOFOLD_LOG_FORMAT", "xml"),
        ("TWOFOLD_MASTER_KEY", "c2hvcnQ="),
        ("TWOFOLD_ADDRESS_FAILURE_LIMIT", "0"),
        ("TWOFOLD_OPERATOR_KEY", "short"),
        ("TWOFOLD_SHUTDOWN_TIMEOUT_SECS", "0"),
        ("TWOFOLD_SHUTDOWN_TIMEOUT_SECS", "3601"),
        ("TWOFOLD_SHUTDOWN_TIMEOUT_SECS", "10s"),
        ("TWOFOLD_AUTOGROUP_NICE", "20"),
        ("TWOFOLD_AUTOGROUP_NICE", "-5"),
    ] {
        let err = config(&[(var, value)]).unwrap_err();
        assert_eq!(err.variable, var, "{value}");
    }
}

#[test]
fn the_rp_id_comes_from_the_public_host_unless_that_is_an_address() {
    let c = config(&[("TWOFOLD_PUBLIC_URL", "https://Auth.Example.com")]).unwrap();
    assert_eq!(c.rp_id.as_deref(), Some("auth.example.com"));
    let c = config(&[("TWOFOLD_PUBLIC_URL", "http://127.0.0.1:8080")]).unwrap();
    assert_eq!(c.rp_id, None, "WebAuthn forbids IP addresses as RP ids");
    let c = config(&[
        ("TWOFOLD_PUBLIC_URL", "https://auth.example.com"),
        ("TWOFOLD_RP_ID", "example.com"),
    ])
    .unwrap();
    assert_eq!(c.rp_id.as_deref(), Some("example.com"));
}

#[test]
fn lists_are_parsed() {
    let c = config(&[
        ("TWOFOLD_TRUSTED_PROXIES", "10.0.0.0/8, ::1"),
        (
            "TWOFOLD_CORS_ORIGINS",
            "https://app.example.com,http://localhost:5173/",
        ),
    ])
    .unwrap();
    assert_eq!(c.trusted_proxies.len(), 2);
    assert_eq!(
        c.cors_origins,
        vec!["https://app.example.com", "http://localhost:5173"]
    );
}

#[test]
fn the_shutdown_drain_time_is_read_in_seconds() {
    let c = config(&[("TWOFOLD_SHUTDOWN_TIMEOUT_SECS", "1")]).unwrap();
    assert_eq!(c.shutdown_timeout, Duration::from_secs(1));
}

#[test]
fn key_settings_are_read_and_bad_ones_refused() {
    let one = "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=";
    let two = "AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI=";
    let c = config(&[
        ("TWOFOLD_MASTER_KEYS_PREVIOUS", &format!("{one}, {two},")),
        ("TWOFOLD_SIGNING_KEY_MAX_AGE", "90d"),
    ])
    .unwrap();
    assert_eq!(c.master_keys_previous.len(), 2);
    assert_eq!(
        c.signing_key_max_age,
        Some(Duration::from_secs(90 * 86_400))
    );
    for (value, seconds) in [("12h", 43_200), ("30000", 30_000), ("61m", 3_660)] {
        let c = config(&[("TWOFOLD_SIGNING_KEY_MAX_AGE", value)]).unwrap();
        assert_eq!(c.signing_key_max_age, Some(Duration::from_secs(seconds)));
    }
    assert_eq!(config(&[]).unwrap().signing_key_max_age, None);
    for (var, value) in [
        ("TWOFOLD_MASTER_KEYS_PREVIOUS", format!("{one},short")),
        ("TWOFOLD_SIGNING_KEY_MAX_AGE", "10m".to_owned()),
        ("TWOFOLD_SIGNING_KEY_MAX_AGE", "3w".to_owned()),
        ("TWOFOLD_SIGNING_KEY_MAX_AGE", "d".to_owned()),
        (
            "TWOFOLD_SIGNING_KEY_MAX_AGE",
            "99999999999999999999d".to_owned(),
        ),
    ] {
        let err = config(&[(var, &value)]).unwrap_err();
        assert_eq!(err.variable, var, "{value}");
        assert!(!err.message.contains(one), "a key is never echoed");
    }
}
