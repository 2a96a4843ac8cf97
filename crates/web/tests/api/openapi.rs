//! The OpenAPI document is generated from the code and compared with the
//! checked-in `openapi.json`. After an intended change to the API, run
//! `UPDATE_OPENAPI=1 cargo test -p homeward-web --test api openapi` and
//! review the diff.

use crate::support::TestApp;

const SNAPSHOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi.json");

#[test]
fn the_document_matches_the_snapshot() {
    let doc = homeward_web::v1::openapi::document() + "\n";
    if std::env::var("UPDATE_OPENAPI").is_ok() {
        std::fs::write(SNAPSHOT, &doc).unwrap();
    }
    let stored = std::fs::read_to_string(SNAPSHOT).unwrap_or_default();
    assert!(stored == doc, "openapi.json is stale: run UPDATE_OPENAPI=1 cargo test -p homeward-web --test api openapi");
    let v: serde_json::Value = serde_json::from_str(&doc).unwrap();
    assert_eq!(v["openapi"], "3.1.0");
    for path in [
        "/api/v1/persons",
        "/api/v1/persons/{id}",
        "/api/v1/persons/{id}/status",
        "/api/v1/conflict",
        "/api/v1/imports/persons",
        "/api/v1/imports/{id}",
        "/api/v1/access-log",
        "/api/v1/log/proof/inclusion",
    ] {
        assert!(v["paths"][path].is_object(), "{path} is documented");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_serves_the_same_document() {
    let app = TestApp::start().await;
    let served: serde_json::Value = app.get("anonymous", "/api/v1/openapi.json").await.json().await.unwrap();
    let built: serde_json::Value = serde_json::from_str(&homeward_web::v1::openapi::document()).unwrap();
    assert_eq!(served, built);
}
