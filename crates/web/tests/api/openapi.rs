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

/// A validator for one of the document's component schemas.
fn component(name: &str) -> jsonschema::Validator {
    let mut doc: serde_json::Value = serde_json::from_str(&homeward_web::v1::openapi::document()).unwrap();
    // The document as the root, so that the schemas' `$ref`s resolve; the
    // OpenAPI keys beside `$ref` are no JSON Schema keywords and are ignored.
    doc["$ref"] = serde_json::json!(format!("#/components/schemas/{name}"));
    doc["$schema"] = serde_json::json!("https://json-schema.org/draft/2020-12/schema");
    jsonschema::validator_for(&doc).unwrap()
}

/// Real answers of `GET /api/v1/tracing-requests/{id}` are what the
/// document says: a family's is a `FamilyRequestOut`, staff's a
/// `StaffRequestOut`, each exactly one of `RequestOut`'s two forms.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tracing_request_answers_as_documented() {
    let app = TestApp::start().await;
    let path = format!("/api/v1/tracing-requests/{}", app.persons.request);
    let (any, family_form, staff_form) =
        (component("RequestOut"), component("FamilyRequestOut"), component("StaffRequestOut"));
    for (role, is_family) in [("family", true), ("mediator", false)] {
        let resp = app.get(role, &path).await;
        assert_eq!(resp.status(), 200, "{role}");
        let body: serde_json::Value = resp.json().await.unwrap();
        let errors: Vec<String> = any.iter_errors(&body).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{role}: {errors:?} in {body}");
        assert_eq!(family_form.is_valid(&body), is_family, "{role}: {body}");
        assert_eq!(staff_form.is_valid(&body), !is_family, "{role}: {body}");
    }
    // And the check can fail: a staff answer missing its desk is no form.
    let mut broken: serde_json::Value = app.get("mediator", &path).await.json().await.unwrap();
    broken.as_object_mut().unwrap().remove("desk");
    assert!(!any.is_valid(&broken));
}
