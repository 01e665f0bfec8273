//! The authentication methods a session can record (`amr`, the names of
//! RFC 8176 plus `rcv` for a recovery code), as one type: what a login flow
//! stores as its proven second factor, what a new session's assurance
//! lists, and what the access token and audit trail show.
//!
//! A stored value this version does not know is refused with
//! [`UnknownFactor`], never read as some other factor: reading it as the
//! authenticator app would hand out a session that claims a factor nobody
//! proved.

use serde::{Serialize, Serializer};

/// One authentication method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Factor {
    /// `pwd`: the password.
    Password,
    /// `otp`: a code from the authenticator app.
    Totp,
    /// `rcv`: the recovery code.
    RecoveryCode,
    /// `hwk`: a passkey or security key (WebAuthn).
    Key,
    /// `dev`: a remembered device, standing in for a second factor proven
    /// on it earlier. Never a second factor proven now.
    Device,
}

/// A stored method name this version does not know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownFactor(pub String);

impl Factor {
    pub const ALL: [Factor; 5] = [
        Factor::Password,
        Factor::Totp,
        Factor::RecoveryCode,
        Factor::Key,
        Factor::Device,
    ];

    /// The name as stored and as it appears in `amr`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Factor::Password => "pwd",
            Factor::Totp => "otp",
            Factor::RecoveryCode => "rcv",
            Factor::Key => "hwk",
            Factor::Device => "dev",
        }
    }

    /// The method a stored name stands for; an unknown name is an error.
    pub fn parse(name: &str) -> Result<Self, UnknownFactor> {
        Self::ALL
            .into_iter()
            .find(|factor| factor.as_str() == name)
            .ok_or_else(|| UnknownFactor(name.to_owned()))
    }
}

/// Documented as the enum of the names [`Factor::as_str`] gives.
impl utoipa::PartialSchema for Factor {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::schema::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .enum_values(Some(Factor::ALL.map(Factor::as_str)))
            .description(Some(
                "An authentication method (RFC 8176): `pwd` password, `otp` authenticator app, \
                 `rcv` recovery code, `hwk` passkey or security key, `dev` a remembered \
                 device (a second factor proven on this browser earlier, not now).",
            ))
            .into()
    }
}

impl utoipa::ToSchema for Factor {}

impl Serialize for Factor {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_factor_reads_back_as_itself() {
        for factor in Factor::ALL {
            assert_eq!(Factor::parse(factor.as_str()), Ok(factor));
        }
    }

    #[test]
    fn the_stored_names_are_the_amr_names() {
        let names: Vec<_> = Factor::ALL.iter().map(|f| f.as_str()).collect();
        assert_eq!(names, ["pwd", "otp", "rcv", "hwk", "dev"]);
    }

    #[test]
    fn an_unknown_name_is_refused_not_read_as_the_app() {
        for name in ["", "totp", "OTP", "sms", "otp "] {
            assert_eq!(Factor::parse(name), Err(UnknownFactor(name.to_owned())));
        }
    }

    #[test]
    fn it_serializes_as_its_name() {
        let amr = serde_json::to_value([Factor::Password, Factor::Key]).unwrap();
        assert_eq!(amr, serde_json::json!(["pwd", "hwk"]));
    }
}
