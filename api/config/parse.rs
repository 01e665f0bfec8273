//! Helpers for reading one variable: a comma-separated list, a whole
//! number within its range, and the error that names the variable. They
//! refuse rather than guess: a typo must stop the start, not pick a default.

use super::ConfigError;

/// A refusal naming the variable, so the operator knows what to fix.
pub(super) fn invalid(variable: &'static str, message: impl Into<String>) -> ConfigError {
    ConfigError {
        variable,
        message: message.into(),
    }
}

/// Comma-separated items, trimmed; empty items are dropped, so a trailing
/// comma is harmless.
pub(super) fn split_list(value: Option<String>) -> impl Iterator<Item = String> {
    value
        .unwrap_or_default()
        .split(',')
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .into_iter()
}

/// A whole number in `range`, or `default` when the variable is unset.
pub(super) fn number(
    get: &impl Fn(&str) -> Option<String>,
    variable: &'static str,
    default: u32,
    range: std::ops::RangeInclusive<u32>,
) -> Result<u32, ConfigError> {
    let Some(raw) = get(variable) else {
        return Ok(default);
    };
    let value: u32 = raw
        .parse()
        .map_err(|_| invalid(variable, format!("{raw}: expected a whole number")))?;
    if !range.contains(&value) {
        return Err(invalid(
            variable,
            format!("{value}: expected {} to {}", range.start(), range.end()),
        ));
    }
    Ok(value)
}

/// A duration such as `90d`, `12h`, `30m`, `45s` or bare seconds, within
/// `range` seconds.
pub(super) fn duration(
    raw: &str,
    range: std::ops::RangeInclusive<u64>,
) -> Result<std::time::Duration, String> {
    let raw = raw.trim();
    let (digits, unit) = match raw.find(|c: char| !c.is_ascii_digit()) {
        Some(at) => raw.split_at(at),
        None => (raw, "s"),
    };
    let scale = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => {
            return Err(format!(
                "{raw}: expected a number with d, h, m or s, e.g. 90d"
            ))
        }
    };
    let secs = digits
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(scale))
        .ok_or_else(|| format!("{raw}: expected a number with d, h, m or s, e.g. 90d"))?;
    if !range.contains(&secs) {
        return Err(format!(
            "{raw}: expected {} to {} seconds",
            range.start(),
            range.end()
        ));
    }
    Ok(std::time::Duration::from_secs(secs))
}
