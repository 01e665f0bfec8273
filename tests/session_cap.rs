//! The per-user cap on live sessions: a login beyond it ends the user's
//! oldest live sessions, and only those.

use crate::common::{access, TestApp};

/// The cap (`MAX_LIVE_SESSIONS`).
const CAP: usize = 50;

async fn status(t: &TestApp, token: &str) -> u16 {
    t.get("/v1/me", Some(token)).await.status.as_u16()
}

#[actix_web::test]
async fn a_login_beyond_the_cap_ends_the_oldest_sessions_only() {
    let t = TestApp::spawn().await;
    let person = t.account("Many devices").await;
    let mut tokens = Vec::with_capacity(CAP + 3);
    for _ in 0..CAP + 2 {
        tokens.push(access(&t.login(&person).await));
        t.advance(1);
    }
    assert_eq!(status(&t, &tokens[0]).await, 401);
    assert_eq!(status(&t, &tokens[1]).await, 401);
    assert_eq!(status(&t, &tokens[2]).await, 200);
    assert_eq!(status(&t, &tokens[CAP + 1]).await, 200);
    let live = t
        .get("/v1/me/sessions?limit=100", Some(&tokens[CAP + 1]))
        .await;
    assert_eq!(live.ok()["items"].as_array().unwrap().len(), CAP);

    // One more login ends exactly one more: the oldest left.
    tokens.push(access(&t.login(&person).await));
    assert_eq!(status(&t, &tokens[2]).await, 401);
    assert_eq!(status(&t, &tokens[3]).await, 200);
    assert_eq!(status(&t, &tokens[CAP + 2]).await, 200);
}
