//! Caseworker review over real HTTP: background matching proposes, a
//! caseworker confirms with a disclosure level (never automatic), the
//! family then sees exactly that level, read live; before, only
//! "searching". Other desks and other families get 404.

use std::time::{Duration, Instant};

use reqwest::StatusCode;

use crate::support::TestApp;

async fn json(resp: reqwest::Response) -> serde_json::Value {
    resp.json().await.unwrap_or_default()
}

/// Waits until background matching has stored a candidate for `request`.
async fn candidates(app: &TestApp, request: &str) -> serde_json::Value {
    let t = Instant::now();
    loop {
        let body = json(app.get("caseworker", &format!("/api/v1/tracing-requests/{request}")).await).await;
        if body["candidates"].as_array().is_some_and(|c| !c.is_empty()) {
            return body;
        }
        assert!(t.elapsed() < Duration::from_secs(10), "no candidate: {body}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_caseworker_confirms_and_the_family_sees_only_the_disclosed_level() {
    let app = TestApp::start().await;
    // A's bureau registers one of B's people it holds, in Cyrillic.
    let resp = app
        .post_json(
            "officer-a",
            "/api/v1/persons",
            &serde_json::json!({
                "record_id": "A-500",
                "identity": {"family_name": "Гнатюк", "given_names": "Олександр", "birth_date": "1996-04-12",
                             "power": "B", "category": "military"},
                "status": {"status": "captured", "occurred_on": "2026-05-03", "place": "Sector 9"}
            }),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let person = json(resp).await["id"].as_str().unwrap().to_owned();

    // His mother asks, in Latin, from memory.
    let filed = app
        .post_json(
            "family",
            "/api/v1/tracing-requests",
            &serde_json::json!({
                "enquirer_name": "Olha Hnatiuk", "relationship": "mother", "contact": "olha@example.org",
                "consent": true,
                "sought": {"family_name": "Hnatiuk", "given_names": "Sasha", "birth_date": "12.04.1996"}
            }),
        )
        .await;
    assert_eq!(filed.status(), StatusCode::ACCEPTED);
    let request = json(filed).await["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/tracing-requests/{request}");

    // The caseworker sees the candidate with its explanation, side by side with the request.
    let review = candidates(&app, &request).await;
    assert_eq!(review["status"], "candidates");
    let cand = review["candidates"].as_array().unwrap().iter().find(|c| c["person_id"] == person.as_str()).unwrap();
    assert_eq!(cand["family_name"], "Гнатюк");
    assert!(cand["probability"].as_f64().unwrap() >= 0.5);
    assert!(cand["explanation"].as_array().unwrap().iter().any(|e| e["field"] == "family name"), "{cand}");
    assert!(cand["decision"].is_null());

    // Until a caseworker confirms, the family sees only that the search goes on.
    let mine = json(app.get("family", &path).await).await;
    assert_eq!(mine["state"], "searching");
    assert!(mine["status"].is_null() && mine["fate"].is_null(), "{mine}");
    assert!(!mine.to_string().contains("Гнатюк") && !mine.to_string().contains(&person), "{mine}");

    // Confirming needs a disclosure level; the mediator does not decide.
    let decide = |role: &'static str, body: serde_json::Value| {
        let path = format!("{path}/decisions");
        let app = &app;
        async move { app.post_json(role, &path, &body).await.status() }
    };
    let confirm = serde_json::json!({"person_id": person, "decision": "confirmed"});
    assert_eq!(decide("caseworker", confirm.clone()).await, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(decide("mediator", confirm.clone()).await, StatusCode::NOT_FOUND);
    let mut with_level = confirm.clone();
    with_level["disclosure"] = "status".into();
    assert_eq!(decide("caseworker", with_level.clone()).await, StatusCode::NO_CONTENT);
    assert_eq!(decide("caseworker", with_level).await, StatusCode::CONFLICT, "decided once");

    // The family now sees the status and its date, never the place.
    let mine = json(app.get("family", &path).await).await;
    assert_eq!((mine["state"].as_str(), mine["status"].as_str()), (Some("found"), Some("captured")), "{mine}");
    assert_eq!(mine["status_date"], "2026-05-03");
    assert!(!mine.to_string().contains("Sector"), "{mine}");
    // Her page says it in her language, not as a status code.
    let page = app
        .request("family", reqwest::Method::GET, &format!("/tracing/{request}"))
        .header("accept-language", "uk")
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains("Потрапив у полон · 2026-05-03"), "{html}");
    assert!(!html.contains("captured") && !html.contains("Sector"), "{html}");
    // Read live: a transfer shows at once.
    let resp = app
        .post_json(
            "officer-a",
            &format!("/api/v1/persons/{person}/status"),
            &serde_json::json!({"status": "held", "occurred_on": "2026-05-20", "place": "Camp 7"}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let mine = json(app.get("family", &path).await).await;
    assert_eq!((mine["status"].as_str(), mine["status_date"].as_str()), (Some("held"), Some("2026-05-20")));
    assert!(!mine.to_string().contains("Camp"), "{mine}");
    let staff = json(app.get("caseworker", &path).await).await;
    assert_eq!((staff["status"].as_str(), staff["linked_person"].as_str()), (Some("confirmed"), Some(person.as_str())));
    // Both reads of the person are in the access log: the review and the disclosure.
    let pid: homeward_domain::PersonId = person.parse().unwrap();
    let q = homeward_store::AccessQuery { person: Some(pid), limit: 100, ..Default::default() };
    app.registry.flush_access_log().await.unwrap();
    let log = homeward_store::AccessLogStore::access_log(app.store.as_ref(), &q).await.unwrap();
    let endpoint = "GET /api/v1/tracing-requests/{id}";
    assert!(log.iter().any(|e| e.role == "caseworker" && e.endpoint == endpoint), "{log:?}");
    assert!(log.iter().any(|e| e.role == "family" && e.endpoint == endpoint), "{log:?}");

    // Another desk: the mediator moves the family's first request to A's bureau; the caseworker loses it.
    let other = format!("/api/v1/tracing-requests/{}", app.persons.request);
    assert_eq!(app.get("caseworker", &other).await.status(), StatusCode::OK);
    let resp = app.post_json("mediator", &format!("{other}/desk"), &serde_json::json!({"desk": "bureau:A"})).await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert_eq!(app.get("caseworker", &other).await.status(), StatusCode::NOT_FOUND);
    let list = json(app.get("caseworker", "/api/v1/tracing-requests").await).await;
    assert!(list["items"].as_array().unwrap().iter().all(|i| i["desk"] == "mediator"), "{list}");
    let resp = app.post_json("mediator", &format!("{other}/desk"), &serde_json::json!({"desk": "bureau:Z"})).await;
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fate_discloses_alive_or_dead_only_and_a_rejection_keeps_searching() {
    let app = TestApp::start().await;
    let add = |id: &'static str, family: &'static str, born: &'static str| {
        let app = &app;
        async move {
            let resp = app
                .post_json(
                    "officer-b",
                    "/api/v1/persons",
                    &serde_json::json!({
                        "record_id": id,
                        "identity": {"family_name": family, "given_names": "Дмитрий", "birth_date": born,
                                     "power": "A", "category": "military"},
                        "status": {"status": "held", "occurred_on": "2026-04-01", "place": "Camp 1"}
                    }),
                )
                .await;
            json(resp).await["id"].as_str().unwrap().to_owned()
        }
    };
    let person = add("B-700", "Мороз", "1993-11-02").await;
    let filed = app
        .post_json(
            "family",
            "/api/v1/tracing-requests",
            &serde_json::json!({"enquirer_name": "Iryna", "relationship": "wife", "contact": "+380 1",
                                "consent": true,
                                "sought": {"family_name": "Moroz", "given_names": "Dmytro", "birth_date": "1993-11-02"}}),
        )
        .await;
    let request = json(filed).await["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/tracing-requests/{request}");
    candidates(&app, &request).await;
    let reject = serde_json::json!({"person_id": person, "decision": "rejected"});
    assert_eq!(
        app.post_json("caseworker", &format!("{path}/decisions"), &reject).await.status(),
        StatusCode::NO_CONTENT
    );
    let staff = json(app.get("caseworker", &path).await).await;
    assert_eq!(staff["status"], "candidates", "a rejection keeps the search going");
    assert_eq!(json(app.get("family", &path).await).await["state"], "searching");

    // A second record of the same man (another bureau's spelling) is proposed and confirmed at level fate.
    let again = add("B-701", "Moroz", "1993-11-02").await;
    let t = Instant::now();
    while !json(app.get("caseworker", &path).await).await["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["person_id"] == again.as_str())
    {
        assert!(t.elapsed() < Duration::from_secs(10), "the new record was not proposed");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let confirm = serde_json::json!({"person_id": again, "decision": "confirmed", "disclosure": "fate"});
    assert_eq!(
        app.post_json("caseworker", &format!("{path}/decisions"), &confirm).await.status(),
        StatusCode::NO_CONTENT
    );
    let mine = json(app.get("family", &path).await).await;
    assert_eq!((mine["state"].as_str(), mine["fate"].as_str()), (Some("found"), Some("alive")), "{mine}");
    assert!(mine["status"].is_null() && mine["status_date"].is_null(), "{mine}");
}

/// A caseworker at a party's bureau (`homeward user add NAME --role
/// caseworker --party A`) works that bureau's desk only, and of a request's
/// candidates sees, and may decide, only the persons A's officers may read.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bureau_caseworker_sees_its_desk_and_only_its_partys_candidates() {
    let app = TestApp::start().await;
    let hash =
        homeward_auth::hash_password(&homeward_auth::secrecy::SecretString::from(crate::support::PASSWORD)).unwrap();
    homeward_store::AccountStore::create_user(
        app.store.as_ref(),
        homeward_store::NewUser {
            username: homeward_domain::Username::parse("desk-a").unwrap(),
            role: homeward_domain::Role::Caseworker { bureau: Some(crate::support::code("A")) },
            password_hash: hash,
            created_at: time::OffsetDateTime::now_utc(),
        },
    )
    .await
    .unwrap();
    let cookie = app.login("desk-a").await;
    let desk_a = |method: reqwest::Method, path: String, body: Option<serde_json::Value>| {
        let (app, cookie) = (&app, cookie.clone());
        async move {
            let mut req = app
                .client
                .request(method, app.url(&path))
                .header("sec-fetch-site", "same-origin")
                .header("cookie", cookie);
            if let Some(b) = body {
                req = req.json(&b);
            }
            req.send().await.unwrap()
        }
    };

    // A mother asks after Шевченко: B's own man, whom only B (and the mediator) may read.
    let filed = app
        .post_json(
            "family",
            "/api/v1/tracing-requests",
            &serde_json::json!({"enquirer_name": "Nadiia", "relationship": "mother", "contact": "+380 2",
                                "consent": true, "sought": {"family_name": "Shevchenko", "given_names": "Oleksandr"}}),
        )
        .await;
    let request = json(filed).await["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/tracing-requests/{request}");
    let review = candidates(&app, &request).await;
    let b_own = app.persons.b_own.to_string();
    assert!(review["candidates"].as_array().unwrap().iter().any(|c| c["person_id"] == b_own.as_str()), "{review}");

    // At the mediator's desk, A's bureau does not see it.
    assert_eq!(desk_a(reqwest::Method::GET, path.clone(), None).await.status(), StatusCode::NOT_FOUND);
    let list = json(desk_a(reqwest::Method::GET, "/api/v1/tracing-requests".into(), None).await).await;
    assert_eq!(list["items"].as_array().map(Vec::len), Some(0), "{list}");

    // Moved to A's bureau: A's caseworker sees the request, but not B's man among its candidates,
    // and cannot decide him; the mediator's caseworker no longer sees the request.
    let resp = app.post_json("mediator", &format!("{path}/desk"), &serde_json::json!({"desk": "bureau:A"})).await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let seen = desk_a(reqwest::Method::GET, path.clone(), None).await;
    assert_eq!(seen.status(), StatusCode::OK);
    let seen = json(seen).await;
    assert_eq!(seen["desk"], "bureau:A", "{seen}");
    let listed = seen["candidates"].as_array().unwrap();
    assert!(listed.iter().all(|c| c["person_id"] != b_own.as_str()), "{seen}");
    assert!(!seen.to_string().contains("Шевченко"), "{seen}");
    let confirm = serde_json::json!({"person_id": b_own, "decision": "confirmed", "disclosure": "fate"});
    let resp = desk_a(reqwest::Method::POST, format!("{path}/decisions"), Some(confirm)).await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    assert_eq!(app.get("caseworker", &path).await.status(), StatusCode::NOT_FOUND);
    // Nothing was decided: the family still hears only that the search goes on.
    assert_eq!(json(app.get("family", &path).await).await["state"], "searching");
    // And a bureau's caseworker does not search the registry either.
    let search =
        desk_a(reqwest::Method::POST, "/api/v1/search".into(), Some(serde_json::json!({"family_name": "Kovalenko"})))
            .await;
    assert_eq!(search.status(), StatusCode::NOT_FOUND);
}
