//! `POST /api/v1/search` over real HTTP: ranked candidates with a per-field
//! explanation, filtered by what the caller may read, each returned person
//! written to the access log.

use std::time::{Duration, Instant};

use homeward_store::{AccessLogStore, AccessQuery, TracingStore};

use crate::support::TestApp;

async fn search(app: &TestApp, role: &str, body: serde_json::Value) -> (u16, serde_json::Value) {
    let resp = app.post_json(role, "/api/v1/search", &body).await;
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or_default())
}

/// Waits until the index has followed the log past the three test persons.
async fn indexed(app: &TestApp) {
    let t = Instant::now();
    while search(app, "mediator", serde_json::json!({"family_name": "Bondarenko"})).await.1["candidates"]
        .as_array()
        .is_none_or(Vec::is_empty)
    {
        assert!(t.elapsed() < Duration::from_secs(10), "the index never caught up");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn candidates_across_scripts_with_explanations_only_where_the_caller_may_read() {
    let app = TestApp::start().await;
    indexed(&app).await;
    let p = app.persons;

    // B's own person (power B, registered by B), searched in Latin.
    let query = serde_json::json!({"family_name": "Shevchenko", "given_names": "Sasha", "limit": 5});
    let (status, body) = search(&app, "mediator", query.clone()).await;
    assert_eq!(status, 200, "{body}");
    let best = &body["candidates"][0];
    assert_eq!(best["person_id"], p.b_own.to_string(), "{body}");
    assert_eq!(best["family_name"], "Шевченко");
    assert!(best["probability"].as_f64().unwrap() > 0.0);
    let explanation = best["explanation"].as_array().unwrap();
    assert!(explanation.iter().any(|e| e["field"] == "family name" && e["weight"].as_f64().unwrap() > 0.0), "{body}");
    assert!(best["explanation_text"].as_str().unwrap().contains("given name"), "{body}");

    // Officer of B reads it; officer of A may not, and gets no trace of it.
    let (_, body_b) = search(&app, "officer-b", query.clone()).await;
    assert!(body_b["candidates"].as_array().unwrap().iter().any(|c| c["person_id"] == p.b_own.to_string()));
    let (status, body_a) = search(&app, "officer-a", query.clone()).await;
    assert_eq!(status, 200);
    assert!(body_a["candidates"].as_array().unwrap().iter().all(|c| c["person_id"] != p.b_own.to_string()), "{body_a}");
    // A caseworker sees its desk's requests and their candidates, never a
    // free search of the registry; a family never searches it.
    for user in ["caseworker", "family"] {
        let (status, _) = search(&app, user, query.clone()).await;
        assert_eq!(status, 404, "{user}");
    }

    // Each returned person is an access, by the searching user.
    app.registry.flush_access_log().await.unwrap();
    let entries =
        app.store.access_log(&AccessQuery { person: Some(p.b_own), limit: 100, ..Default::default() }).await.unwrap();
    assert!(entries.iter().any(|e| e.endpoint == "POST /api/v1/search" && e.role == "mediator"), "{entries:?}");
    assert!(!entries.iter().any(|e| e.endpoint == "POST /api/v1/search" && e.username.as_deref() == Some("officer-a")));

    // Bad input: named fields, no echo, nothing found.
    let (status, body) = search(&app, "mediator", serde_json::json!({"family_name": "", "birth_date": "31-31"})).await;
    assert_eq!(status, 422, "{body}");
    let text = body.to_string();
    assert!(text.contains("family_name") && text.contains("birth_date") && !text.contains("31-31"), "{text}");
    let (status, _) = search(&app, "mediator", serde_json::json!({"family_name": "X", "limit": 0})).await;
    assert_eq!(status, 422);
    let (status, _) = search(&app, "mediator", serde_json::json!({"family_name": "X", "nickname": "Y"})).await;
    assert_eq!(status, 422);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_registered_through_the_api_is_found_soon_after() {
    let app = TestApp::start().await;
    indexed(&app).await;
    let body = serde_json::json!({
        "record_id": "A-77",
        "identity": {"family_name": "Ткаченко", "given_names": "Петро", "birth_date": "1990-07-03", "power": "A", "category": "military"},
        "status": {"status": "missing"}
    });
    let resp = app.post_json("officer-a", "/api/v1/persons", &body).await;
    assert_eq!(resp.status().as_u16(), 201);
    let id = resp.json::<serde_json::Value>().await.unwrap()["id"].as_str().unwrap().to_owned();
    let t = Instant::now();
    loop {
        let (_, found) =
            search(&app, "officer-a", serde_json::json!({"family_name": "Tkachenko", "birth_date": "03.07.1990"}))
                .await;
        if found["candidates"].as_array().unwrap().iter().any(|c| c["person_id"] == id.as_str()) {
            break;
        }
        assert!(t.elapsed() < Duration::from_secs(5), "not found: {found}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// After a start the server answers at once, while its registry index
/// loads: searches answer 503 with Retry-After (an answer from part of the
/// registry would say "no one" about people it holds), everything else
/// answers, and background matching waits, then finds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn while_the_index_loads_searches_wait_and_the_rest_answers() {
    let app = TestApp::start_loading().await;
    assert_eq!(app.get("anonymous", "/healthz").await.status(), 200);
    let read = app.get("mediator", &format!("/api/v1/persons/{}/status", app.persons.a_own)).await;
    assert_eq!(read.status(), 200);

    let resp = app.post_json("mediator", "/api/v1/search", &serde_json::json!({"family_name": "Kovalenko"})).await;
    assert_eq!(resp.status(), 503);
    assert_eq!(resp.headers()["retry-after"], "5");
    assert_eq!(resp.headers()["content-type"], "application/problem+json");
    let body: serde_json::Value = resp.json().await.unwrap();
    assert!(body["detail"].as_str().unwrap().contains("still loading"), "{body}");

    // The staff page says so, and keeps what was typed.
    let page = app
        .request("mediator", reqwest::Method::POST, "/search")
        .header("content-type", "application/x-www-form-urlencoded")
        .body("family_name=Kovalenko&given_names=Sasha&birth_date=&service_number=")
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 503);
    let html = page.text().await.unwrap();
    assert!(html.contains("still loading") && html.contains("Kovalenko"), "{html}");

    // Background matching waits: the family's request gets no verdict of
    // "no one" from an empty index (the test app's loop runs every 50 ms).
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert!(app.store.candidates(app.persons.request).await.unwrap().is_empty());
    assert_eq!(
        TracingStore::job_watermark(app.store.as_ref(), homeward_service::requests::matcher::REQUESTS_JOB)
            .await
            .unwrap(),
        0,
        "the request was not searched"
    );

    app.index.load().await.unwrap();
    indexed(&app).await;
    let t = Instant::now();
    while !app.store.candidates(app.persons.request).await.unwrap().iter().any(|c| c.person == app.persons.a_own) {
        assert!(t.elapsed() < Duration::from_secs(10), "background matching never found the person");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
