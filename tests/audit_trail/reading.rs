//! Reading the trail: filters by kind and user, their validation, and paging.

use super::*;

#[actix_web::test]
async fn filters_by_kind_and_by_user_as_actor_or_subject() {
    let trail = act_out_a_trail().await;
    let all = trail.all().await;

    // By kind: that kind only, all of them.
    for kind in [
        "login.failed",
        "twofa.reset",
        "user.created",
        "session.refresh_token_reused",
    ] {
        let a = trail.fetch(&format!("?kind={kind}&limit=200")).await;
        let items = a.ok()["items"].as_array().unwrap();
        assert!(!items.is_empty(), "{kind}");
        assert!(
            items.iter().all(|e| e["kind"] == kind),
            "{kind}: {}",
            a.text
        );
        assert_eq!(items.len(), of_kind(&all, kind).len(), "{kind}");
    }
    // A known kind that did not happen here: an empty page, not an error.
    let a = trail.fetch("?kind=account.billing_changed").await;
    assert_eq!(a.ok()["items"], json!([]));
    assert_eq!(a.json["next_cursor"], Value::Null);

    // By user: where they acted or were acted upon.
    let involving = |user: &str| -> Vec<Value> {
        all.iter()
            .filter(|e| e["actor"]["user_id"] == user || e["subject_user_id"] == user)
            .cloned()
            .collect()
    };
    for user in [&trail.admin.id, &trail.tech.id, &trail.newcomer_id] {
        let a = trail.fetch(&format!("?user_id={user}&limit=200")).await;
        let items = a.ok()["items"].as_array().unwrap();
        assert_eq!(items, &involving(user), "{user}");
    }
    let admin_page = trail
        .fetch(&format!("?user_id={}&limit=200", trail.admin.id))
        .await;
    let mut admin_kinds: Vec<&str> = admin_page.ok()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    admin_kinds.sort_unstable();
    assert_eq!(
        admin_kinds,
        [
            "login.succeeded",
            "twofa.required",
            "twofa.reset",
            "user.created",
            "user.updated"
        ]
    );
    let newcomer = trail
        .fetch(&format!("?user_id={}&limit=200", trail.newcomer_id))
        .await;
    assert_eq!(newcomer.ok()["items"].as_array().unwrap().len(), 3);

    // Both filters at once.
    let a = trail
        .fetch(&format!("?user_id={}&kind=login.succeeded", trail.tech.id))
        .await;
    let items = a.ok()["items"].as_array().unwrap();
    assert_eq!(items.len(), 4);
    assert!(items
        .iter()
        .all(|e| e["subject_user_id"] == trail.tech.id.as_str()));

    // An unknown user id is no error: nothing involves it. Something that
    // is not a user id at all is (the contract says `format: uuid`).
    let a = trail
        .fetch(&format!("?user_id={}", uuid::Uuid::new_v4()))
        .await;
    assert_eq!(a.ok()["items"], json!([]));
    trail
        .fetch("?user_id=no-such-user")
        .await
        .problem(400, "validation_failed");
}

#[actix_web::test]
async fn bad_filters_cursors_and_limits_are_validation_errors() {
    let t = TestApp::spawn().await;
    let admin = t.account("Audit Co").await;
    let token = t.access_token(&admin).await;
    let get = |query: String| {
        let (t, token) = (&t, token.clone());
        async move {
            t.get(&format!("/v1/admin/audit-events{query}"), Some(&token))
                .await
        }
    };

    for kind in [
        "login",
        "LOGIN.SUCCEEDED",
        "user.purged",
        "%27%20OR%201%3D1",
        "",
    ] {
        let a = get(format!("?kind={kind}")).await;
        a.problem(400, "validation_failed");
        assert_eq!(a.json["errors"][0]["field"], "kind", "{kind}: {}", a.text);
    }
    for limit in ["0", "-1", "201", "1000000"] {
        let a = get(format!("?limit={limit}")).await;
        a.problem(400, "validation_failed");
        assert_eq!(a.json["errors"][0]["field"], "limit", "{limit}: {}", a.text);
    }
    for limit in ["abc", "1.5", "99999999999999999999"] {
        get(format!("?limit={limit}"))
            .await
            .problem(400, "validation_failed");
    }
    for cursor in ["garbage", "!!", "eyJub3QiOiJhIGN1cnNvciJ9", "WzEsMl0"] {
        let a = get(format!("?cursor={cursor}")).await;
        a.problem(400, "validation_failed");
        assert_eq!(
            a.json["errors"][0]["field"], "cursor",
            "{cursor}: {}",
            a.text
        );
    }
    get("?colour=blue".to_owned())
        .await
        .problem(400, "validation_failed");
    // The bounds work.
    get("?limit=1".to_owned()).await.ok();
    get("?limit=200".to_owned()).await.ok();
}

#[actix_web::test]
async fn pages_of_two_visit_every_event_once_newest_first() {
    let trail = act_out_a_trail().await;
    let all = trail.all().await;
    assert!(all.len() > 20);

    // Newest first; within one clock second, by id descending.
    let key = |e: &Value| {
        let at = chrono::DateTime::parse_from_rfc3339(e["created_at"].as_str().unwrap())
            .unwrap()
            .timestamp();
        (at, e["id"].as_str().unwrap().to_owned())
    };
    for pair in all.windows(2) {
        assert!(key(&pair[0]) > key(&pair[1]), "{pair:#?}");
    }

    let mut paged: Vec<Value> = Vec::new();
    let mut query = "?limit=2".to_owned();
    let mut pages = 0;
    loop {
        let a = trail.fetch(&query).await;
        let page = a.ok().clone();
        let items = page["items"].as_array().unwrap();
        pages += 1;
        assert!(pages <= all.len(), "paging does not end");
        match page["next_cursor"].as_str() {
            Some(cursor) => {
                assert_eq!(items.len(), 2, "{}", a.text);
                paged.extend(items.iter().cloned());
                query = format!("?limit=2&cursor={cursor}");
            }
            None => {
                assert!(items.len() <= 2);
                paged.extend(items.iter().cloned());
                break;
            }
        }
    }
    let ids: Vec<&str> = paged.iter().map(|e| e["id"].as_str().unwrap()).collect();
    let unique: HashSet<&str> = ids.iter().copied().collect();
    assert_eq!(unique.len(), ids.len(), "no event twice");
    assert_eq!(
        paged, all,
        "the pages together are the whole trail, in order"
    );
    assert_eq!(pages, all.len().div_ceil(2));

    // Paging composes with the filters.
    let mut seen = Vec::new();
    let mut query = "?kind=login.failed&limit=2".to_owned();
    loop {
        let page = trail.fetch(&query).await.ok().clone();
        seen.extend(page["items"].as_array().unwrap().iter().cloned());
        match page["next_cursor"].as_str() {
            Some(cursor) => query = format!("?kind=login.failed&limit=2&cursor={cursor}"),
            None => break,
        }
    }
    let expected: Vec<Value> = of_kind(&all, "login.failed").into_iter().cloned().collect();
    assert_eq!(seen, expected);
}
