//! Recovery codes: 120 random bits as 24 Crockford-base32 characters,
//! shown as `XXXX-XXXX-XXXX-XXXX-XXXX-XXXX`. Input is case-insensitive,
//! ignores spaces and hyphens, and reads the look-alikes Crockford allows
//! (O as 0, I and L as 1). Stored only as argon2id hashes of the canonical
//! 24 characters.

use super::{random_bytes, Secret};

const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
pub const LENGTH: usize = 24;

/// A new code in canonical form (24 characters, no separators).
pub fn generate() -> Secret {
    let bytes = random_bytes::<15>();
    let mut bits: u128 = 0;
    for b in bytes {
        bits = (bits << 8) | u128::from(b);
    }
    let code: String = (0..LENGTH)
        .rev()
        .map(|i| char::from(ALPHABET[((bits >> (i * 5)) & 0x1f) as usize]))
        .collect();
    Secret::new(code)
}

/// The canonical code in groups of four for display.
pub fn display(canonical: &Secret) -> Secret {
    let grouped = canonical
        .expose()
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join("-");
    Secret::new(grouped)
}

/// Reads user input into canonical form, or `None` if it cannot be a code.
pub fn normalize(input: &str) -> Option<Secret> {
    let mut out = String::with_capacity(LENGTH);
    for c in input.chars() {
        let c = match c.to_ascii_uppercase() {
            ' ' | '-' | '\t' => continue,
            'O' => '0',
            'I' | 'L' => '1',
            c if c.is_ascii() && ALPHABET.contains(&(c as u8)) => c,
            _ => return None,
        };
        out.push(c);
        if out.len() > LENGTH {
            return None;
        }
    }
    (out.len() == LENGTH).then(|| Secret::new(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_24_crockford_characters() {
        let code = generate();
        assert_eq!(code.expose().len(), 24);
        assert!(code.expose().bytes().all(|b| ALPHABET.contains(&b)));
        assert_ne!(generate(), code);
        let shown = display(&code);
        assert_eq!(shown.expose().len(), 29);
        assert_eq!(shown.expose().split('-').count(), 6);
    }

    #[test]
    fn input_ignores_case_spaces_hyphens_and_lookalikes() {
        let canonical = "0123456789ABCDEFGHJKMNPQ";
        for input in [
            "0123-4567-89AB-CDEF-GHJK-MNPQ",
            "0123 4567 89ab cdef ghjk mnpq",
            "O123-4567-89AB-CDEF-GHJK-MNPQ",
            " 0123456789abcdefghjkmnpq ",
        ] {
            assert_eq!(normalize(input).unwrap().expose(), canonical, "{input}");
        }
        assert_eq!(
            normalize("i1L1-0000-0000-0000-0000-0000").unwrap().expose(),
            "111100000000000000000000"
        );
        assert!(
            normalize("0123-4567-89AB-CDEF-GHJK-MNP").is_none(),
            "too short"
        );
        assert!(
            normalize("0123-4567-89AB-CDEF-GHJK-MNPQR").is_none(),
            "too long"
        );
        assert!(
            normalize("U123-4567-89AB-CDEF-GHJK-MNPQ").is_none(),
            "U is not Crockford"
        );
        assert!(normalize("0123-4567-89AB-CDEF-GHJK-MNP✓").is_none());
    }
}
