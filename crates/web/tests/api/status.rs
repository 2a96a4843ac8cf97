//! `GET /api/v1/persons/{id}/status`: the light read agrees with the whole
//! record and leaves out what it promises to leave out.

use crate::support::TestApp;

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
