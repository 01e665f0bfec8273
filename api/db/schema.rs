//! The one schema both dialects share (see `migrations/`).

diesel::table! {
    accounts (id) {
        id -> Text,
        name -> Text,
        paying_since -> Nullable<BigInt>,
        licenses -> Integer,
        ip_allowlist_enabled -> Bool,
        created_at -> BigInt,
        remember_device_days -> Integer,
    }
}

diesel::table! {
    users (id) {
        id -> Text,
        account_id -> Text,
        email -> Text,
        email_normalized -> Text,
        name -> Text,
        role -> Text,
        password_hash -> Text,
        twofa_required -> Bool,
        created_at -> BigInt,
        password_changed_at -> BigInt,
        last_login_at -> Nullable<BigInt>,
        totp_last_step -> BigInt,
        mfa_failures -> Integer,
        mfa_locked_until -> Nullable<BigInt>,
        mfa_lockouts -> Integer,
        name_lower -> Text,
        twofa_enrolled -> Bool,
        email_owner -> Bool,
        deactivated_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    login_flows (id) {
        id -> Text,
        token_hash -> Text,
        user_id -> Nullable<Text>,
        state -> Text,
        failed_attempts -> Integer,
        created_at -> BigInt,
        expires_at -> BigInt,
        second_factor -> Nullable<Text>,
        client_address -> Nullable<Text>,
        unknown_subject -> Nullable<Text>,
        user_agent -> Nullable<Text>,
        remember_device -> Bool,
    }
}

diesel::table! {
    sessions (id) {
        id -> Text,
        user_id -> Text,
        account_id -> Text,
        aal -> Integer,
        amr -> Text,
        created_at -> BigInt,
        expires_at -> BigInt,
        revoked_at -> Nullable<BigInt>,
        revoked_reason -> Nullable<Text>,
        last_used_at -> BigInt,
        client_address -> Nullable<Text>,
        user_agent -> Nullable<Text>,
    }
}

diesel::table! {
    refresh_tokens (token_hash) {
        token_hash -> Text,
        session_id -> Text,
        created_at -> BigInt,
        used_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    totp_authenticators (user_id) {
        user_id -> Text,
        secret_sealed -> Text,
        created_at -> BigInt,
        last_used_at -> Nullable<BigInt>,
        last_step -> BigInt,
    }
}

diesel::table! {
    recovery_codes (user_id) {
        user_id -> Text,
        code_hash -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    pending_enrollments (id) {
        id -> Text,
        user_id -> Text,
        flow_id -> Nullable<Text>,
        session_id -> Nullable<Text>,
        secret_sealed -> Nullable<Text>,
        recovery_code_hash -> Nullable<Text>,
        created_at -> BigInt,
        expires_at -> BigInt,
        last_step -> BigInt,
        passkey -> Nullable<Text>,
        passkey_name -> Nullable<Text>,
    }
}

diesel::table! {
    client_failures (ip) {
        ip -> Text,
        window_start -> BigInt,
        failures -> Integer,
    }
}

diesel::table! {
    password_failures (user_id) {
        user_id -> Text,
        failures -> Integer,
        lockouts -> Integer,
        locked_until -> Nullable<BigInt>,
        audited_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    known_addresses (user_id, address) {
        user_id -> Text,
        address -> Text,
        last_success_at -> BigInt,
    }
}

diesel::table! {
    audit_events (id) {
        id -> Text,
        account_id -> Text,
        actor_kind -> Text,
        actor_user_id -> Nullable<Text>,
        subject_user_id -> Nullable<Text>,
        kind -> Text,
        ip -> Nullable<Text>,
        detail -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    ip_allowlist_entries (id) {
        id -> Text,
        account_id -> Text,
        cidr -> Text,
        description -> Text,
        created_at -> BigInt,
        created_by -> Nullable<Text>,
    }
}

diesel::table! {
    webauthn_credentials (id) {
        id -> Text,
        user_id -> Text,
        credential_id -> Text,
        passkey -> Text,
        name -> Text,
        sign_count -> BigInt,
        backup_eligible -> Bool,
        backup_state -> Bool,
        created_at -> BigInt,
        last_used_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    webauthn_challenges (id) {
        id -> Text,
        kind -> Text,
        session_id -> Nullable<Text>,
        flow_id -> Nullable<Text>,
        state -> Text,
        expires_at -> BigInt,
    }
}

diesel::table! {
    signing_keys (kid) {
        kid -> Text,
        public_key -> Text,
        private_sealed -> Text,
        slot -> Nullable<Text>,
        created_at -> BigInt,
        retired_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    remembered_devices (id) {
        id -> Text,
        user_id -> Text,
        token_hash -> Text,
        name -> Nullable<Text>,
        created_at -> BigInt,
        last_used_at -> BigInt,
        expires_at -> BigInt,
    }
}

diesel::joinable!(users -> accounts (account_id));
diesel::joinable!(totp_authenticators -> users (user_id));
diesel::joinable!(recovery_codes -> users (user_id));
diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(refresh_tokens -> sessions (session_id));
diesel::joinable!(login_flows -> users (user_id));
diesel::joinable!(webauthn_credentials -> users (user_id));

diesel::allow_tables_to_appear_in_same_query!(
    accounts,
    users,
    login_flows,
    sessions,
    refresh_tokens,
    totp_authenticators,
    recovery_codes,
    webauthn_credentials,
    known_addresses
);
