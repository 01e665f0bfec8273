//! The kinds of WebAuthn ceremony whose state waits in
//! `webauthn_challenges` between the options call and the answer. The
//! stored names are part of the schema (see the migration): a kind is
//! written and matched only through this enum, and a name it does not know
//! is refused rather than treated as some default ceremony.

use std::fmt;
use std::str::FromStr;

/// A ceremony in progress, by what it will prove.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CeremonyKind {
    /// Adding a passkey to a signed-in user.
    Registration,
    /// The second factor of a login flow that has passed the password.
    SecondFactor,
    /// Passwordless login with a discoverable passkey.
    Passkey,
    /// Registering a passkey inside a login flow at `enrollment_required`
    /// (added by the migration `000017_webauthn_enrollment`).
    Enrollment,
}

impl CeremonyKind {
    pub const ALL: [Self; 4] = [
        Self::Registration,
        Self::SecondFactor,
        Self::Passkey,
        Self::Enrollment,
    ];

    /// The name stored in `webauthn_challenges.kind`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Registration => "registration",
            Self::SecondFactor => "second_factor",
            Self::Passkey => "passkey",
            Self::Enrollment => "enrollment",
        }
    }
}

impl fmt::Display for CeremonyKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A stored kind this build does not know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownCeremony(pub String);

impl fmt::Display for UnknownCeremony {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown WebAuthn ceremony kind {:?}", self.0)
    }
}

impl std::error::Error for UnknownCeremony {}

impl FromStr for CeremonyKind {
    type Err = UnknownCeremony;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|kind| kind.as_str() == s)
            .ok_or_else(|| UnknownCeremony(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_parses_back_from_its_stored_name() {
        for kind in CeremonyKind::ALL {
            assert_eq!(kind.as_str().parse::<CeremonyKind>(), Ok(kind));
        }
    }

    #[test]
    fn the_stored_names_are_those_of_the_migration() {
        let names = CeremonyKind::ALL.map(CeremonyKind::as_str);
        assert_eq!(
            names,
            ["registration", "second_factor", "passkey", "enrollment"]
        );
    }

    #[test]
    fn an_unknown_or_differently_spelled_name_is_refused() {
        for name in ["", "authentication", "Passkey", "passkey ", "second-factor"] {
            assert_eq!(
                name.parse::<CeremonyKind>(),
                Err(UnknownCeremony(name.to_owned()))
            );
        }
    }
}
