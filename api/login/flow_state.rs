//! The step a login flow is at, as one type: what the flow row stores
//! (`login_flows.state`, text), what a flow token is checked against, and,
//! in [`FlowState::status`] alone, what the answer tells the client to do
//! next.
//!
//! A stored name this version does not know is refused (the login repo
//! treats the row as a flow that does not exist), never read as a nearby
//! step: a flow at an unknown step must not skip a factor.

/// A login flow's step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FlowState {
    /// The email was given; the password is next.
    Password,
    /// The password was right; a second factor is next.
    Mfa,
    /// 2FA is required but not set up; enrollment is next.
    Enrollment,
    /// A new recovery code was shown; its confirmation is next.
    Confirm,
    /// A passwordless passkey login, before the assertion.
    Passkey,
}

/// A stored step name this version does not know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownFlowState(pub String);

impl FlowState {
    pub const ALL: [FlowState; 5] = [
        FlowState::Password,
        FlowState::Mfa,
        FlowState::Enrollment,
        FlowState::Confirm,
        FlowState::Passkey,
    ];

    /// The name as stored.
    pub const fn as_str(self) -> &'static str {
        match self {
            FlowState::Password => "password_required",
            FlowState::Mfa => "mfa_required",
            FlowState::Enrollment => "enrollment_required",
            FlowState::Confirm => "recovery_code_confirmation_required",
            FlowState::Passkey => "passkey_required",
        }
    }

    /// The step a stored name stands for; an unknown name is an error.
    pub fn parse(name: &str) -> Result<Self, UnknownFlowState> {
        Self::ALL
            .into_iter()
            .find(|state| state.as_str() == name)
            .ok_or_else(|| UnknownFlowState(name.to_owned()))
    }
}

/// The steps under their older names, for callers that write
/// `state::MFA`.
pub mod state {
    use super::FlowState;

    pub const PASSWORD: FlowState = FlowState::Password;
    pub const MFA: FlowState = FlowState::Mfa;
    pub const ENROLLMENT: FlowState = FlowState::Enrollment;
    pub const CONFIRM: FlowState = FlowState::Confirm;
    /// A passwordless passkey login, before the assertion.
    pub const PASSKEY: FlowState = FlowState::Passkey;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_state_reads_back_as_itself() {
        for state in FlowState::ALL {
            assert_eq!(FlowState::parse(state.as_str()), Ok(state));
        }
    }

    #[test]
    fn an_unknown_name_is_refused() {
        for name in ["", "mfa", "MFA_REQUIRED", "authenticated"] {
            assert_eq!(
                FlowState::parse(name),
                Err(UnknownFlowState(name.to_owned()))
            );
        }
    }
}
