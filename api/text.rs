//! The one rule for free text a caller sets and other people read: user and
//! account names, allow-list descriptions, passkey names.
//!
//! Such text is shown in admin lists, audit trails and authenticator
//! prompts, so it must look like what it is. Refused: C0 and C1 control
//! characters (NUL, escape sequences, newlines that forge log or CSV
//! lines), bidirectional controls (U+202E turns `gnp.exe` into `exe.png`),
//! and invisible formatting characters (zero-width spaces and joiners, the
//! BOM, soft hyphens, word joiners, tag characters, Hangul fillers), which
//! make two different strings look the same. Nothing is ever silently
//! removed: the caller is told which field to fix.

use utoipa::openapi::schema::{Object, ObjectBuilder, SchemaType, Type};

use crate::error::ApiError;

/// True for a character no name or description may hold.
pub fn is_forbidden(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            // Bidirectional controls: embeddings, overrides, isolates, marks.
            '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}'
            // Zero-width and invisible formatting characters.
            | '\u{200B}'..='\u{200D}' | '\u{2060}'..='\u{2064}' | '\u{206A}'..='\u{206F}'
            | '\u{FEFF}' | '\u{00AD}' | '\u{034F}' | '\u{180E}' | '\u{FFF9}'..='\u{FFFB}'
            | '\u{E0000}'..='\u{E007F}'
            // Fillers that render as nothing.
            | '\u{115F}' | '\u{1160}' | '\u{3164}' | '\u{FFA0}'
            // Line and paragraph separators: line breaks in disguise.
            | '\u{2028}' | '\u{2029}'
        )
}

/// The characters of [`is_forbidden`] in the Basic Multilingual Plane, as
/// the body of a regular-expression character class for the contract.
/// (Tag characters lie outside it and are refused by the server alone.)
const FORBIDDEN_CLASS: &str = "\\u0000-\\u001F\\u007F-\\u009F\\u00AD\\u034F\\u061C\\u115F\\u1160\\u180E\\u200B-\\u200F\\u2028-\\u202E\\u2060-\\u2064\\u2066-\\u206F\\u3164\\uFEFF\\uFFA0\\uFFF9-\\uFFFB";

/// The first forbidden character of `input`, as `U+XXXX`.
fn first_forbidden(input: &str) -> Option<String> {
    input
        .chars()
        .find(|c| is_forbidden(*c))
        .map(|c| format!("U+{:04X}", u32::from(c)))
}

/// Trims `input` and checks it against the rule and a length of `min..=max`
/// characters; the error names `field`.
pub fn validate(field: &str, input: &str, min: usize, max: usize) -> Result<String, ApiError> {
    let text = input.trim();
    if let Some(code_point) = first_forbidden(text) {
        return Err(ApiError::field(
            field,
            format!(
                "must not contain control, bidirectional or invisible formatting characters (found {code_point})"
            ),
        ));
    }
    let length = text.chars().count();
    if length < min || length > max {
        let range = if min == 0 {
            format!("at most {max} characters")
        } else {
            format!("{min} to {max} characters")
        };
        return Err(ApiError::field(field, format!("must be {range}")));
    }
    Ok(text.to_owned())
}

/// Whether a stored value would pass [`validate`] (length aside): the check
/// of rows written before the rule.
pub fn is_clean(text: &str) -> bool {
    first_forbidden(text).is_none()
}

fn schema(min: usize, max: usize, description: &str) -> Object {
    // A required field must hold one visible character besides spaces.
    let pattern = if min > 0 {
        format!("^[^{FORBIDDEN_CLASS}]*[^\\s{FORBIDDEN_CLASS}][^{FORBIDDEN_CLASS}]*$")
    } else {
        format!("^[^{FORBIDDEN_CLASS}]*$")
    };
    ObjectBuilder::new()
        .schema_type(Type::String)
        .min_length((min > 0).then_some(min))
        .max_length(Some(max))
        .pattern(Some(pattern))
        .description(Some(format!(
            "{description} No control, bidirectional or invisible formatting characters."
        )))
        .build()
}

/// A person's or an account's name: 1 to 200 characters.
pub fn name_schema() -> Object {
    schema(
        1,
        200,
        "1 to 200 characters; surrounding spaces are trimmed.",
    )
}

/// A name that may be left out (or `null`) to keep the current one.
pub fn optional_name_schema() -> Object {
    let mut schema = name_schema();
    schema.schema_type = SchemaType::from_iter([Type::String, Type::Null]);
    schema
}

/// An optional description: up to 200 characters.
pub fn description_schema() -> Object {
    schema(
        0,
        200,
        "Up to 200 characters; surrounding spaces are trimmed.",
    )
}

/// A passkey's name: 1 to 100 characters.
pub fn credential_name_schema() -> Object {
    schema(
        1,
        100,
        "A name the user recognises, e.g. \"MacBook Touch ID\": 1 to 100 characters.",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookalike_makers_are_refused_and_names_in_any_script_pass() {
        for good in [
            "Kate",
            "  Zoë Ångström ",
            "李小龍",
            "Ольга",
            "أحمد",
            "O'Brien-Smith",
        ] {
            assert_eq!(validate("name", good, 1, 200).unwrap(), good.trim());
        }
        for bad in [
            "Kate\u{202E}gnp.exe",
            "Ka\u{200B}te",
            "Ka\u{200D}te",
            "Kate\u{2066}",
            "Kate\u{200F}",
            "Kate\u{FEFF}",
            "Ka\u{00AD}te",
            "Kate\u{0000}",
            "Kate\u{001B}[31m",
            "Ka\u{0085}te",
            "Kate\nAdmin",
            "Kate\u{2028}Admin",
            "Kate\u{E0041}",
            "\u{3164}",
        ] {
            let err = validate("name", bad, 1, 200).unwrap_err();
            assert_eq!(err.code(), "validation_failed", "{bad:?}");
            assert!(!is_clean(bad), "{bad:?}");
        }
        assert!(validate("name", "   ", 1, 200).is_err());
        assert!(validate("name", &"x".repeat(201), 1, 200).is_err());
        assert_eq!(validate("description", "", 0, 200).unwrap(), "");
    }

    /// The ranges of [`FORBIDDEN_CLASS`].
    fn class_ranges() -> Vec<(u32, u32)> {
        let (mut out, mut rest) = (Vec::new(), FORBIDDEN_CLASS);
        while let Some(r) = rest.strip_prefix("\\u") {
            let lo = u32::from_str_radix(&r[..4], 16).unwrap();
            rest = &r[4..];
            let hi = match rest.strip_prefix("-\\u") {
                Some(r) => {
                    rest = &r[4..];
                    u32::from_str_radix(&r[..4], 16).unwrap()
                }
                None => lo,
            };
            out.push((lo, hi));
        }
        assert!(rest.is_empty(), "{rest}");
        out
    }

    #[test]
    fn the_contract_pattern_lists_the_same_characters() {
        let ranges = class_ranges();
        for c in (0u32..0x10000).filter_map(char::from_u32) {
            let code = u32::from(c);
            let listed = ranges.iter().any(|(lo, hi)| (lo..=hi).contains(&&code));
            assert_eq!(listed, is_forbidden(c), "U+{code:04X}");
        }
    }
}
