//! Every read of a person's record is in the access log, which only the mediator reads.

use crate::support::TestApp;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_are_logged_with_who_what_and_where() {
    let app = TestApp::start().await;
    let id = app.persons.held_by_a.to_string();
    assert_eq!(app.get("officer-b", &format!("/api/v1/persons/{id}")).await.status(), 200);
    assert_eq!(app.get("officer-a", "/api/v1/persons").await.status(), 200);
    assert_eq!(app.get("officer-a", &format!("/api/v1/persons/{id}/status")).await.status(), 200);
    // A refused read is not an access to the record.
    assert_eq!(app.get("officer-a", &format!("/api/v1/persons/{}", app.persons.b_own)).await.status(), 404);
    assert_eq!(app.get("officer-a", &format!("/api/v1/persons/{}/status", app.persons.b_own)).await.status(), 404);

    let log: serde_json::Value =
        app.get("mediator", &format!("/api/v1/access-log?person={id}")).await.json().await.unwrap();
    let items = log["items"].as_array().unwrap();
    let endpoints: Vec<(&str, &str, &str)> = items
        .iter()
        .map(|i| (i["username"].as_str().unwrap(), i["role"].as_str().unwrap(), i["endpoint"].as_str().unwrap()))
        .collect();
    assert_eq!(
        endpoints,
        vec![
            ("officer-a", "party_officer (A)", "GET /api/v1/persons/{id}/status"),
            ("officer-a", "party_officer (A)", "GET /api/v1/persons"),
            ("officer-b", "party_officer (B)", "GET /api/v1/persons/{id}"),
        ]
    );
    let all: serde_json::Value = app.get("mediator", "/api/v1/access-log").await.json().await.unwrap();
    let b_own = app.persons.b_own.to_string();
    assert!(all["items"].as_array().unwrap().iter().all(|i| i["person"] != b_own.as_str()), "refused read logged");
    // The mediator's own reads of the log are not reads of a person.
    assert!(all["items"].as_array().unwrap().iter().all(|i| i["username"] != "mediator"));
}
