//! RFC 6238 time-based one-time passwords: HMAC-SHA1, 6 digits, 30-second
//! steps, 160-bit secrets, base32 without padding.
//!
//! Pure: the verifier takes `now` and returns the step that matched; the
//! caller makes "never the same step twice" hold with one conditional write.

use std::fmt;

use data_encoding::BASE32_NOPAD;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use totp_lite::{totp_custom, Sha1};

use super::{constant_time_eq, random_bytes};

pub const STEP_SECS: u64 = 30;
pub const DIGITS: u32 = 6;
pub const SECRET_BYTES: usize = 20;
/// Steps accepted on either side of the current one (clock drift).
pub const WINDOW: i64 = 1;

/// A TOTP shared secret. Never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct TotpSecret(Vec<u8>);

impl fmt::Debug for TotpSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TotpSecret([redacted])")
    }
}

impl TotpSecret {
    pub fn generate() -> Self {
        Self(random_bytes::<SECRET_BYTES>().to_vec())
    }

    pub fn from_bytes(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// RFC 4648 base32 without padding, as authenticator apps expect.
    pub fn base32(&self) -> String {
        BASE32_NOPAD.encode(&self.0)
    }

    /// The base32 secret in groups of four, for typing it in by hand.
    pub fn grouped(&self) -> String {
        let b32 = self.base32();
        b32.as_bytes()
            .chunks(4)
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// The step number of a unix time.
pub fn step_of(unix: i64) -> i64 {
    unix.div_euclid(STEP_SECS as i64)
}

/// The code of `secret` for a given step, with `digits` digits.
pub fn code_for_step(secret: &TotpSecret, step: i64, digits: u32) -> String {
    let time = u64::try_from(step).unwrap_or(0) * STEP_SECS;
    totp_custom::<Sha1>(STEP_SECS, digits, secret.as_bytes(), time)
}

/// Checks `code` against the steps around `now`; returns the matching step.
/// All candidate steps are compared, in constant time, whatever matches:
/// timing reveals neither which step matched nor how many digits did.
pub fn verify(secret: &TotpSecret, code: &str, now: i64) -> Option<i64> {
    let current = step_of(now);
    let mut matched = None;
    for step in (current - WINDOW)..=(current + WINDOW) {
        let expected = code_for_step(secret, step, DIGITS);
        if constant_time_eq(expected.as_bytes(), code.as_bytes()) {
            matched = Some(step);
        }
    }
    matched
}

/// Normalises user input: digits only, spaces allowed ("123 456").
pub fn normalize_code(input: &str) -> Option<String> {
    let code: String = input.chars().filter(|c| !c.is_whitespace()).collect();
    (code.len() == DIGITS as usize && code.bytes().all(|b| b.is_ascii_digit())).then_some(code)
}

/// Characters escaped in otpauth label and parameters: everything but
/// unreserved characters (RFC 3986), so '@' and ':' in names are safe.
const ESCAPE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// `otpauth://totp/ISSUER:ACCOUNT?secret=…&issuer=ISSUER&algorithm=SHA1&digits=6&period=30`
pub fn otpauth_uri(issuer: &str, account: &str, secret: &TotpSecret) -> String {
    let issuer_enc = utf8_percent_encode(issuer, ESCAPE).to_string();
    let account_enc = utf8_percent_encode(account, ESCAPE).to_string();
    format!(
        "otpauth://totp/{issuer_enc}:{account_enc}?secret={}&issuer={issuer_enc}&algorithm=SHA1&digits={DIGITS}&period={STEP_SECS}",
        secret.base32()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B, SHA1 (seed "12345678901234567890", 8 digits).
    const VECTORS: [(i64, &str); 6] = [
        (59, "94287082"),
        (1_111_111_109, "07081804"),
        (1_111_111_111, "14050471"),
        (1_234_567_890, "89005924"),
        (2_000_000_000, "69279037"),
        (20_000_000_000, "65353130"),
    ];

    fn rfc_secret() -> TotpSecret {
        TotpSecret::from_bytes(b"12345678901234567890".to_vec())
    }

    #[test]
    fn rfc6238_appendix_b_sha1_vectors() {
        for (time, expected) in VECTORS {
            assert_eq!(
                code_for_step(&rfc_secret(), step_of(time), 8),
                expected,
                "t={time}"
            );
        }
    }

    #[test]
    fn verifier_accepts_the_six_digit_form_of_each_vector() {
        // A 6-digit code is the same truncation modulo 10^6.
        for (time, expected) in VECTORS {
            let six = &expected[2..];
            assert_eq!(
                verify(&rfc_secret(), six, time),
                Some(step_of(time)),
                "t={time}"
            );
        }
    }

    #[test]
    fn window_is_one_step_either_side() {
        let secret = TotpSecret::generate();
        let now = 1_800_000_015;
        let step = step_of(now);
        for (offset, accepted) in [(-2, false), (-1, true), (0, true), (1, true), (2, false)] {
            let code = code_for_step(&secret, step + offset, DIGITS);
            assert_eq!(
                verify(&secret, &code, now).is_some(),
                accepted,
                "offset {offset}"
            );
        }
        assert_eq!(verify(&secret, "abcdef", now), None);
    }

    #[test]
    fn secrets_are_160_bits_in_unpadded_base32() {
        let secret = TotpSecret::generate();
        assert_eq!(secret.as_bytes().len(), 20);
        assert_eq!(secret.base32().len(), 32);
        assert!(!secret.base32().contains('='));
        assert_eq!(secret.grouped().split(' ').count(), 8);
        assert!(!format!("{secret:?}").contains(&secret.base32()));
    }

    #[test]
    fn otpauth_uri_escapes_label_and_issuer() {
        let secret = TotpSecret::from_bytes(b"12345678901234567890".to_vec());
        assert_eq!(
            otpauth_uri("Acme MSP", "ada+x@example.com", &secret),
            "otpauth://totp/Acme%20MSP:ada%2Bx%40example.com?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Acme%20MSP&algorithm=SHA1&digits=6&period=30"
        );
    }

    #[test]
    fn code_input_is_normalised() {
        assert_eq!(normalize_code(" 123 456 ").as_deref(), Some("123456"));
        assert_eq!(normalize_code("12345"), None);
        assert_eq!(normalize_code("12345a"), None);
        assert_eq!(normalize_code("１２３４５６"), None);
    }
}
