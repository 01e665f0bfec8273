//! Who a user is to other people: the email address and the display name.
//! Every path that creates or renames a user (admin API, account CLI)
//! validates here; nothing else decides what an email may look like.
//!
//! The email profile refuses what no mail system delivers, so a lookalike of
//! an existing address (`ka\u{200B}te@…`, `ｋａｔｅ@…`, `"kate"@…`,
//! `kate@e..example`) cannot be registered beside it:
//! - at most 254 characters, exactly one `@`;
//! - local part: an RFC 5321 dot-atom in ASCII — letters, digits and
//!   ``!#$%&'*+-/=?^_`{|}~`` in non-empty runs separated by single dots, at
//!   most 64 characters; no quoted strings, no non-ASCII local parts;
//! - domain: at least two dot-separated labels of ASCII letters, digits and
//!   hyphens (not first or last), 1 to 63 characters each, the last not all
//!   digits, at most 253 characters. An internationalised domain is
//!   accepted when the `idna` crate (UTS 46, STD3 rules, DNS lengths)
//!   converts it to that ASCII form and back to exactly what was given,
//!   ASCII case aside: another spelling (fullwidth letters, ignored
//!   characters) is refused, never silently mapped.
//!
//! Stored: `email` as given, except that an internationalised domain is
//! stored in its ASCII (`xn--`, lower-case) form, so a lookalike script
//! shows as such in every list; `email_normalized`, the unique key, is that
//! lower-cased. Both spellings of such a domain are one user.
//!
//! Sign-in looks up an address without this profile (see [`lookup_keys`]):
//! it must answer a lookalike exactly like any unknown address, and users
//! created before the profile must still sign in.

use crate::error::ApiError;
use crate::text;

const MESSAGE: &str = "must be an email address: an ASCII local part (letters, digits, \
     !#$%&'*+-/=?^_`{|}~ and single dots) and a domain of letters, digits and hyphens";

/// Validates an email against the profile; returns `(as_stored, key)`,
/// `key` being the case-insensitive unique key.
pub fn normalize_email(field: &str, input: &str) -> Result<(String, String), ApiError> {
    let email = input.trim();
    let refuse = || ApiError::field(field, MESSAGE);
    if email.chars().any(text::is_forbidden) {
        return Err(refuse());
    }
    let (local, domain) = email.split_once('@').ok_or_else(refuse)?;
    if !is_dot_atom(local) {
        return Err(refuse());
    }
    let ascii = ascii_domain(domain).ok_or_else(refuse)?;
    // An ASCII domain keeps the case it was given in, as before the profile.
    let shown = if domain.is_ascii() { domain } else { &ascii };
    let stored = format!("{local}@{shown}");
    if stored.len() > 254 {
        return Err(ApiError::field(field, "must be at most 254 characters"));
    }
    let key = stored.to_ascii_lowercase();
    Ok((stored, key))
}

/// RFC 5321 `Dot-string` in ASCII: atext runs separated by single dots.
fn is_dot_atom(local: &str) -> bool {
    let atext = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~".contains(c);
    local.len() <= 64
        && local
            .split('.')
            .all(|run| !run.is_empty() && run.chars().all(atext))
}

/// The ASCII form of a domain within the profile, lower-cased.
fn ascii_domain(domain: &str) -> Option<String> {
    let ascii = idna::domain_to_ascii_strict(domain).ok()?;
    let same = if domain.is_ascii() {
        ascii == domain.to_ascii_lowercase()
    } else {
        let (unicode, converted) = idna::domain_to_unicode(&ascii);
        converted.is_ok() && unicode == domain.to_lowercase()
    };
    let labels: Vec<&str> = ascii.split('.').collect();
    let ldh = |label: &&str| {
        (1..=63).contains(&label.len())
            && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            && !label.starts_with('-')
            && !label.ends_with('-')
    };
    let top_level_is_a_name = labels
        .last()
        .is_some_and(|tld| !tld.chars().all(|c| c.is_ascii_digit()));
    (same
        && ascii.len() <= 253
        && labels.len() >= 2
        && labels.iter().all(ldh)
        && top_level_is_a_name)
        .then_some(ascii)
}

/// The keys under which a sign-in address may be stored: its profile key
/// and, for users created before the profile, the address as given,
/// lower-cased. Only input that is not an address at all is refused, with
/// the same check and answer as before the profile: a lookalike of a real
/// address is looked up, finds nobody, and fails like any unknown address.
pub fn lookup_keys(field: &str, input: &str) -> Result<Vec<String>, ApiError> {
    let email = input.trim();
    let plausible = email.len() <= 254
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && local.len() <= 64
                && !domain.is_empty()
                && !domain.contains('@')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        });
    if !plausible {
        return Err(ApiError::field(field, "must be a valid email address"));
    }
    let mut keys = Vec::with_capacity(2);
    if let Ok((_, key)) = normalize_email(field, email) {
        keys.push(key);
    }
    let as_given = email.to_lowercase();
    if !keys.contains(&as_given) {
        keys.push(as_given);
    }
    Ok(keys)
}

/// Validates a person's display name (see [`crate::text`]).
pub fn validate_name(field: &str, input: &str) -> Result<String, ApiError> {
    text::validate(field, input, 1, 200)
}

/// Which of a stored user's fields fall outside the rules: `email` when the
/// address fails the profile or is not stored in its normal form, `name`
/// when the name would be refused today.
pub fn outside_profile(email: &str, email_normalized: &str, name: &str) -> Vec<&'static str> {
    let mut fields = Vec::new();
    let email_ok = normalize_email("email", email)
        .is_ok_and(|(stored, key)| stored == email && key == email_normalized);
    if !email_ok {
        fields.push("email");
    }
    if validate_name("name", name).map_or(true, |n| n != name) {
        fields.push("name");
    }
    fields
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_trimmed_and_keyed_case_insensitively() {
        let (email, key) = normalize_email("email", "  Ada@Example.COM ").unwrap();
        assert_eq!(email, "Ada@Example.COM");
        assert_eq!(key, "ada@example.com");
        let (email, _) = normalize_email("email", "o'brien+tag@mail.example.org").unwrap();
        assert_eq!(email, "o'brien+tag@mail.example.org");
    }

    #[test]
    fn what_no_mail_system_delivers_is_refused() {
        for bad in [
            "",
            "ada",
            "@x.com",
            "ada@",
            "a da@x.com",
            "a@b@c.com",
            "ada@.x.com",
            "ada@x.com.",
            "ada@localhost",
            "ada@1.2.3.4",
            "ada@[192.0.2.1]",
            "kate@e..example",
            "kate@e.example\u{200B}",
            "ka\u{200B}te@e.example",
            "kate\u{0000}@e.example",
            "\u{FF4B}\u{FF41}\u{FF54}\u{FF45}@e.example",
            "k\u{0430}te@e.example",
            "\"kate\"@e.example",
            "\"ka te\"@e.example",
            ".kate@e.example",
            "kate.@e.example",
            "ka..te@e.example",
            "kate@\u{FF45}.example",
            "kate@-e.example",
            "kate@e_x.example",
            "kate@e.example\u{202E}",
        ] {
            assert!(normalize_email("email", bad).is_err(), "{bad:?}");
        }
        assert!(normalize_email("email", &format!("{}@x.com", "a".repeat(65))).is_err());
        let long_domain = format!("a@{}.com", "b".repeat(63).repeat(4));
        assert!(normalize_email("email", &long_domain).is_err());
    }

    #[test]
    fn internationalised_domains_are_stored_in_ascii() {
        let (email, key) = normalize_email("email", "Kate@Bücher.example").unwrap();
        assert_eq!(email, "Kate@xn--bcher-kva.example");
        assert_eq!(key, "kate@xn--bcher-kva.example");
        let (_, same) = normalize_email("email", "kate@XN--BCHER-KVA.example").unwrap();
        assert_eq!(same, key);
        assert!(normalize_email("email", "kate@xn--zz.example").is_err());
    }

    #[test]
    fn sign_in_looks_up_lookalikes_instead_of_refusing_them() {
        let keys = lookup_keys("email", "ka\u{200B}te@e.example").unwrap();
        assert_eq!(keys, ["ka\u{200B}te@e.example"]);
        let keys = lookup_keys("email", "Kate@Bücher.example").unwrap();
        assert_eq!(keys, ["kate@xn--bcher-kva.example", "kate@bücher.example"]);
        for not_an_address in [
            "",
            "kate",
            "kate@",
            "ka te@e.example",
            "kate\u{0}@e.example",
        ] {
            assert!(
                lookup_keys("email", not_an_address).is_err(),
                "{not_an_address:?}"
            );
        }
    }

    #[test]
    fn stored_rows_are_checked_field_by_field() {
        assert!(outside_profile("kate@e.example", "kate@e.example", "Kate").is_empty());
        let fields = outside_profile("ka\u{200B}te@e.example", "ka\u{200B}te@e.example", "K");
        assert_eq!(fields, ["email"]);
        assert_eq!(
            outside_profile("kate@bücher.example", "kate@bücher.example", "Kate\u{202E}"),
            ["email", "name"]
        );
    }
}
