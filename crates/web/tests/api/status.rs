//! `GET /api/v1/persons/{id}/status`: the light read agrees with the whole
//! record and leaves out what it promises to leave out. Reported dates are
//! checked against the calendar.

use crate::support::{TestApp, register_body};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_status_read_agrees_with_the_record_without_identity_or_details() {
    let app = TestApp::start().await;
    let id = app.persons.held_by_a.to_string();
    let transfer = serde_json::json!({"status": "held", "place": "camp 2", "occurred_on": "2024-05", "details": "moved after an illness"});
    assert_eq!(app.post_json("officer-b", &format!("/api/v1/persons/{id}/status"), &transfer).await.status(), 201);

    let resp = app.get("officer-a", &format!("/api/v1/persons/{id}/status")).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["cache-control"], "no-store");
    let status: serde_json::Value = resp.json().await.unwrap();
    let record: serde_json::Value = app.get("officer-a", &format!("/api/v1/persons/{id}")).await.json().await.unwrap();
    let timeline = record["timeline"].as_array().unwrap();
    let last = &timeline[1];
    assert_eq!(status["id"], id.as_str());
    assert_eq!(status["status"], "held");
    assert_eq!(status["status"], record["status"]);
    // Held since the first event: a transfer does not restart it.
    assert_eq!(status["since"]["seq"], 1);
    assert_eq!(status["since"]["recorded_at"], timeline[0]["recorded_at"]);
    for field in ["seq", "status", "occurred_on", "place", "reported_by", "recorded_at"] {
        assert_eq!(status["last_event"][field], last[field], "{field}");
    }
    assert_eq!(status["last_event"]["reported_by"], "B");
    let text = status.to_string();
    assert!(!text.contains("illness") && !text.contains("details"), "no free text: {text}");
    assert!(!text.contains("Бондаренко") && status.get("identities").is_none(), "no identity: {text}");
}

/// Finding 10e of the review (issue 20): a status dated decades ahead was
/// accepted. A date of something that happened (a status event, a birth) is
/// at most tomorrow, wherever it enters: reporting, registering, importing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dates_in_the_future_are_refused_by_name() {
    let app = TestApp::start().await;
    let today = time::OffsetDateTime::now_utc().date();
    let path = format!("/api/v1/persons/{}/status", app.persons.a_own);
    for date in ["2090-01-01", "2090-06", "2090", &(today + time::Duration::days(3)).to_string()] {
        let resp = app.post_json("officer-a", &path, &serde_json::json!({"status": "held", "occurred_on": date})).await;
        assert_eq!(resp.status(), 422, "{date}");
        let body: serde_json::Value = resp.json().await.unwrap();
        assert_eq!(body["errors"][0]["field"], "occurred_on", "{body}");
        assert!(body["detail"].as_str().unwrap().contains("future"), "{body}");
        assert!(!body.to_string().contains("2090-01"), "{body}");
    }
    for date in [today.to_string(), (today + time::Duration::days(1)).to_string(), "2026-05".into()] {
        let resp = app.post_json("officer-a", &path, &serde_json::json!({"status": "held", "occurred_on": date})).await;
        assert_eq!(resp.status(), 201, "{date} is no later than tomorrow");
    }
    let before = app.total_persons().await;
    let mut future_status = register_body("F-1", "B");
    future_status["status"]["occurred_on"] = "2091-03-04".into();
    let mut future_birth = register_body("F-2", "B");
    future_birth["identity"]["birth_date"] = "2091".into();
    for (body, field) in [(future_status, "status.occurred_on"), (future_birth, "birth_date")] {
        let resp = app.post_json("officer-a", "/api/v1/persons", &body).await;
        assert_eq!(resp.status(), 422, "{field}");
        let body: serde_json::Value = resp.json().await.unwrap();
        assert_eq!(body["errors"][0]["field"], field, "{body}");
    }
    // The CSV import, by line and column.
    let csv = "record_id,family_name,given_names,birth_date,power,category,status,status_date\n\
               F-3,Ткаченко,Петро,1990,A,military,held,2090-05\n\
               F-4,Ткаченко,Петро,2091-01-01,A,military,held,2026-05\n\
               F-5,Ткаченко,Петро,1990,A,military,held,2026-05\n";
    let resp = app
        .request("officer-a", reqwest::Method::POST, "/api/v1/imports/persons")
        .header("content-type", "text/csv")
        .body(csv)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 422);
    let body: serde_json::Value = resp.json().await.unwrap();
    let rejections: Vec<(u64, &str)> = body["report"]["rejections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["line"].as_u64().unwrap(), r["field"].as_str().unwrap()))
        .collect();
    assert_eq!(rejections, vec![(2, "status_date"), (3, "birth_date")], "{body}");
    assert_eq!(app.total_persons().await, before, "nothing stored");
}
