//! What a pending or active factor looks like from outside: its QR code, and how its secret and recovery code are stored.

use super::*;

#[actix_web::test]
async fn the_pending_enrollment_has_its_qr_code_as_png_and_svg() {
    let t = TestApp::spawn().await;
    let admin = t.account("Acme").await;
    let token = t.access_token(&admin).await;
    let started = start_totp(&t, &token).await;
    let uri = started["otpauth_uri"].as_str().unwrap();

    let png = t
        .client
        .get(t.url("/v1/me/2fa/totp/qr.png"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(png.status().as_u16(), 200);
    let header = |r: &reqwest::Response, name: &str| {
        r.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned()
    };
    assert_eq!(header(&png, "content-type"), "image/png");
    assert_eq!(header(&png, "cache-control"), "no-store");
    let bytes = png.bytes().await.unwrap();
    assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"));
    assert_eq!(decode_png(&bytes), uri);

    let svg = t.get("/v1/me/2fa/totp/qr.svg?size=240", Some(&token)).await;
    assert_eq!(svg.status.as_u16(), 200, "{}", svg.text);
    assert_eq!(svg.header("content-type"), "image/svg+xml");
    assert_eq!(svg.header("cache-control"), "no-store");
    assert!(svg.text.contains("<svg"), "{}", svg.text);

    for size in ["50", "5000"] {
        for ext in ["png", "svg"] {
            let path = format!("/v1/me/2fa/totp/qr.{ext}?size={size}");
            let a = t.get(&path, Some(&token)).await;
            a.problem(400, "validation_failed");
            assert_eq!(a.json["errors"][0]["field"], "size", "{}", a.text);
        }
    }
    let small = t.get("/v1/me/2fa/totp/qr.png?size=120", Some(&token)).await;
    assert_eq!(small.status.as_u16(), 200, "{}", small.text);
}

/// The sealed authenticator secret and the recovery-code hash stored for
/// `user_id`, read straight from the database.
async fn stored_factors(t: &TestApp, user_id: &str) -> (String, String) {
    use diesel::prelude::*;
    use twofold::db::schema::{recovery_codes, totp_authenticators};

    let id = user_id.to_owned();
    t.state
        .db
        .run(move |conn| {
            let sealed: String = totp_authenticators::table
                .find(&id)
                .select(totp_authenticators::secret_sealed)
                .get_result(conn)?;
            let hash: String = recovery_codes::table
                .find(&id)
                .select(recovery_codes::code_hash)
                .get_result(conn)?;
            Ok((sealed, hash))
        })
        .await
        .unwrap()
}

#[actix_web::test]
async fn secrets_and_recovery_codes_are_not_stored_in_the_clear() {
    use diesel::prelude::*;
    use twofold::db::schema::pending_enrollments;

    let t = TestApp::spawn().await;
    let admin = t.account("Acme").await;
    let enrolled = t.enroll(&admin).await;

    let (sealed, hash) = stored_factors(&t, &admin.id).await;

    assert!(sealed.starts_with("v1."), "{sealed}");
    assert!(!sealed.contains(&enrolled.secret), "{sealed}");
    assert!(!sealed
        .to_uppercase()
        .contains(&enrolled.secret.to_uppercase()));

    let canonical = enrolled.recovery_code.replace('-', "");
    assert_eq!(canonical.len(), 24);
    assert!(hash.starts_with("$argon2id$"), "{hash}");
    assert!(!hash.contains(&enrolled.recovery_code), "{hash}");
    assert!(!hash.contains(&canonical), "{hash}");
    assert!(!hash.contains(&canonical.to_lowercase()), "{hash}");

    // The same holds for a voluntary enrollment through /v1/me/2fa.
    let tech = t.user(&admin.account_id, Role::Technician).await;
    let token = t.access_token(&tech).await;
    let started = start_totp(&t, &token).await;
    let secret = started["secret"].as_str().unwrap().to_owned();
    let code = verify_now(&t, &token, &secret).await;
    // While pending, too.
    let id = tech.id.clone();
    let pending: Vec<(Option<String>, Option<String>)> = t
        .state
        .db
        .run(move |conn| {
            Ok(pending_enrollments::table
                .filter(pending_enrollments::user_id.eq(&id))
                .select((
                    pending_enrollments::secret_sealed,
                    pending_enrollments::recovery_code_hash,
                ))
                .load(conn)?)
        })
        .await
        .unwrap();
    assert_eq!(pending.len(), 1);
    let (sealed, hash) = &pending[0];
    let (sealed, hash) = (sealed.as_deref().unwrap(), hash.as_deref().unwrap());
    assert!(
        sealed.starts_with("v1.") && !sealed.contains(&secret),
        "{sealed}"
    );
    assert!(hash.starts_with("$argon2id$"), "{hash}");
    assert!(!hash.contains(&code.replace('-', "")), "{hash}");
    confirm(&t, &token, true).await.ok();
    let voluntary = Enrolled {
        person: tech.clone(),
        secret,
        recovery_code: code,
        tokens: json!({ "access_token": token }),
    };
    let (sealed, hash) = stored_factors(&t, &tech.id).await;
    assert!(sealed.starts_with("v1."), "{sealed}");
    assert!(!sealed.contains(&voluntary.secret));
    assert!(hash.starts_with("$argon2id$"), "{hash}");
    assert!(!hash.contains(&voluntary.recovery_code.replace('-', "")));
    // And what is stored sealed is the secret that now signs the user in
    // (next time step: the code just verified cannot be replayed).
    t.advance(30);
    let signed_in = t.login_with_totp(&voluntary).await;
    let me = t.get("/v1/me", signed_in["access_token"].as_str()).await;
    assert_eq!(
        me.ok()["session"]["amr"],
        json!(["pwd", "otp"]),
        "{}",
        me.text
    );
}
