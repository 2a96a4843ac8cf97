//! Every role × every endpoint × records of different parties, over real
//! HTTP, against the table below (DESIGN.md, "Actors and roles").
//!
//! The records: `{A_OWN}` is A's own person (power A, registered by A);
//! `{B_OWN}` is B's own (power B, registered by B); `{HELD_BY_A}` is one of
//! B's people held by A (power B, registered by A). `{NEW}` is a fresh
//! record id per request.
//!
//! 404 is the answer for a role without the right and for a record the
//! caller may not see: the same as for what does not exist. 401 without a
//! login. 403 for a cross-site state change, before any role check.

use reqwest::Method;

use crate::support::{ROLES, TestApp, register_body};

/// What each request sends.
#[derive(Debug, Clone, Copy)]
enum Body {
    None,
    Register,
    Status,
    Csv,
    /// The same file with `Prefer: respond-async`.
    CsvAsync,
    Search,
    Request,
    Desk,
    Decision,
}

/// `(method, path, body, cross-site, expected status per role)`, roles in
/// the order mediator, officer of A, officer of B, caseworker, family,
/// auditor, admin, anonymous.
#[rustfmt::skip]
const MATRIX: &[(&str, &str, Body, bool, [u16; 8])] = &[
    //                                                               med  offA offB case fam  aud  adm  anon
    ("GET",  "/api/v1/persons",                    Body::None,     false, [200, 200, 200, 404, 404, 404, 404, 401]),
    ("GET",  "/api/v1/persons/{A_OWN}",            Body::None,     false, [200, 200, 404, 404, 404, 404, 404, 401]),
    ("GET",  "/api/v1/persons/{B_OWN}",            Body::None,     false, [200, 404, 200, 404, 404, 404, 404, 401]),
    ("GET",  "/api/v1/persons/{HELD_BY_A}",        Body::None,     false, [200, 200, 200, 404, 404, 404, 404, 401]),
    ("GET",  "/api/v1/persons/{UNKNOWN}",          Body::None,     false, [404, 404, 404, 404, 404, 404, 404, 401]),
    ("GET",  "/api/v1/persons/{A_OWN}/status",     Body::None,     false, [200, 200, 404, 404, 404, 404, 404, 401]),
    ("GET",  "/api/v1/persons/{B_OWN}/status",     Body::None,     false, [200, 404, 200, 404, 404, 404, 404, 401]),
    ("GET",  "/api/v1/persons/{HELD_BY_A}/status", Body::None,     false, [200, 200, 200, 404, 404, 404, 404, 401]),
    ("GET",  "/api/v1/persons/{UNKNOWN}/status",   Body::None,     false, [404, 404, 404, 404, 404, 404, 404, 401]),
    ("POST", "/api/v1/persons",                    Body::Register, false, [404, 201, 201, 404, 404, 404, 404, 401]),
    ("POST", "/api/v1/persons",                    Body::Register, true,  [403, 403, 403, 403, 403, 403, 403, 403]),
    ("POST", "/api/v1/persons/{A_OWN}/status",     Body::Status,   false, [201, 201, 404, 404, 404, 404, 404, 401]),
    ("POST", "/api/v1/persons/{B_OWN}/status",     Body::Status,   false, [201, 404, 201, 404, 404, 404, 404, 401]),
    ("POST", "/api/v1/persons/{HELD_BY_A}/status", Body::Status,   false, [201, 201, 201, 404, 404, 404, 404, 401]),
    ("POST", "/api/v1/persons/{HELD_BY_A}/status", Body::Status,   true,  [403, 403, 403, 403, 403, 403, 403, 403]),
    ("POST", "/api/v1/persons/{UNKNOWN}/status",   Body::Status,   false, [404, 404, 404, 404, 404, 404, 404, 401]),
    ("POST", "/api/v1/imports/persons",            Body::Csv,      false, [404, 200, 200, 404, 404, 404, 404, 401]),
    ("POST", "/api/v1/imports/persons",            Body::CsvAsync, false, [404, 202, 202, 404, 404, 404, 404, 401]),
    ("POST", "/api/v1/imports/persons",            Body::CsvAsync, true,  [403, 403, 403, 403, 403, 403, 403, 403]),
    ("GET",  "/api/v1/imports/{A_JOB}",            Body::None,     false, [200, 200, 404, 404, 404, 404, 404, 401]),
    ("GET",  "/api/v1/imports/{UNKNOWN}",          Body::None,     false, [404, 404, 404, 404, 404, 404, 404, 401]),
    ("GET",  "/import/{A_JOB}",                    Body::None,     false, [200, 200, 404, 404, 404, 404, 404, 401]),
    ("GET",  "/import/{A_JOB}/progress",           Body::None,     false, [200, 200, 404, 404, 404, 404, 404, 401]),
    ("GET",  "/api/v1/conflict",                   Body::None,     false, [200, 200, 200, 200, 200, 200, 200, 401]),
    ("GET",  "/api/v1/access-log",                 Body::None,     false, [200, 404, 404, 404, 404, 404, 404, 401]),
    ("GET",  "/api/v1/openapi.json",               Body::None,     false, [200, 200, 200, 200, 200, 200, 200, 200]),
    ("GET",  "/api/v1/users",                      Body::None,     false, [404, 404, 404, 404, 404, 404, 200, 401]),
    ("GET",  "/api/v1/me",                         Body::None,     false, [200, 200, 200, 200, 200, 200, 200, 401]),
    ("POST", "/api/v1/search",                     Body::Search,   false, [200, 200, 200, 404, 404, 404, 404, 401]),
    ("POST", "/api/v1/search",                     Body::Search,   true,  [403, 403, 403, 403, 403, 403, 403, 403]),
    ("GET",  "/api/v1/tracing-requests",           Body::None,     false, [200, 404, 404, 200, 200, 404, 404, 401]),
    ("POST", "/api/v1/tracing-requests",           Body::Request,  false, [404, 404, 404, 404, 202, 404, 404, 401]),
    ("POST", "/api/v1/tracing-requests",           Body::Request,  true,  [403, 403, 403, 403, 403, 403, 403, 403]),
    ("GET",  "/api/v1/tracing-requests/{REQ}",     Body::None,     false, [200, 404, 404, 200, 200, 404, 404, 401]),
    ("GET",  "/api/v1/tracing-requests/{UNKNOWN}", Body::None,     false, [404, 404, 404, 404, 404, 404, 404, 401]),
    // An unknown candidate: the caseworker of the desk is told it is not one (409); nobody else learns anything.
    ("POST", "/api/v1/tracing-requests/{REQ}/decisions", Body::Decision, false, [404, 404, 404, 409, 404, 404, 404, 401]),
    ("POST", "/api/v1/tracing-requests/{REQ}/decisions", Body::Decision, true, [403, 403, 403, 403, 403, 403, 403, 403]),
    ("POST", "/api/v1/tracing-requests/{REQ}/desk", Body::Desk,     false, [204, 404, 404, 404, 404, 404, 404, 401]),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_role_gets_exactly_what_the_roles_table_gives() {
    let app = TestApp::start().await;
    let p = app.persons;
    // A job started by A's officer.
    let job: serde_json::Value = app
        .request("officer-a", Method::POST, "/api/v1/imports/persons")
        .header("content-type", "text/csv")
        .header("prefer", "respond-async")
        .body("record_id,family_name,given_names,power,category,status\nJOB-1,Ткаченко,Петро,A,military,missing\n")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let a_job = job["id"].as_str().unwrap().to_owned();
    let mut failures = Vec::new();
    let mut n = 0;
    for (method, path, body, cross_site, expected) in MATRIX {
        for (role, want) in ROLES.iter().zip(expected) {
            n += 1;
            let record_id = format!("NEW-{n}");
            let path = path
                .replace("{A_OWN}", &p.a_own.to_string())
                .replace("{B_OWN}", &p.b_own.to_string())
                .replace("{HELD_BY_A}", &p.held_by_a.to_string())
                .replace("{A_JOB}", &a_job)
                .replace("{REQ}", &p.request.to_string())
                .replace("{UNKNOWN}", "0190c6e2-7d1a-7cc0-9a4e-2f1c3b5d6e7f");
            let method: Method = method.parse().unwrap();
            let site = if *cross_site { "cross-site" } else { "same-origin" };
            let mut req = app.request_from(role, method, &path, site);
            req = match body {
                Body::None => req,
                Body::Register => req.json(&register_body(&record_id, "B")),
                // A transfer: held may follow held, so every allowed call succeeds.
                Body::Status => req.json(&serde_json::json!({"status": "held", "place": "camp 2"})),
                Body::Request => req.json(&serde_json::json!({
                    "enquirer_name": "Олена", "relationship": "sister", "contact": "+380 50 000 00 01",
                    "consent": true, "sought": {"family_name": "Ткаченко"}})),
                Body::Desk => req.json(&serde_json::json!({"desk": "mediator"})),
                // A person the mediator's caseworker may read but who is no
                // candidate of the request: 409 for the request's desk.
                Body::Decision => req.json(&serde_json::json!({
                    "person_id": p.held_by_a.to_string(), "decision": "rejected"})),
                Body::Search => req.json(&serde_json::json!({"family_name": "Kovalenko", "given_names": "Oleksandr"})),
                Body::Csv => req.header("content-type", "text/csv").body(format!(
                    "record_id,family_name,given_names,power,category,status\n{record_id},Ткаченко,Петро,A,military,missing\n"
                )),
                Body::CsvAsync => req.header("content-type", "text/csv").header("prefer", "respond-async").body(format!(
                    "record_id,family_name,given_names,power,category,status\n{record_id},Ткаченко,Петро,A,military,missing\n"
                )),
            };
            let resp = req.send().await.unwrap();
            let got = resp.status().as_u16();
            if got != *want {
                failures.push(format!("{role:>10} {path} (cross-site: {cross_site}): expected {want}, got {got}"));
            }
            if got >= 400 {
                let ct = resp.headers().get("content-type").map(|v| v.to_str().unwrap().to_owned());
                assert_eq!(ct.as_deref(), Some("application/problem+json"), "{role} {path}");
            }
        }
    }
    assert!(failures.is_empty(), "{} of {n} cells differ:\n{}", failures.len(), failures.join("\n"));
}

/// A listing shows each party exactly the persons the rule gives it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listings_hold_only_visible_persons() {
    let app = TestApp::start().await;
    let p = app.persons;
    let ids = |v: serde_json::Value| -> Vec<String> {
        v["items"].as_array().unwrap().iter().map(|i| i["id"].as_str().unwrap().to_owned()).collect()
    };
    let list = |role: &'static str, query: &'static str| {
        let app = &app;
        async move { ids(app.get(role, &format!("/api/v1/persons{query}")).await.json().await.unwrap()) }
    };
    let (a, b, h) = (p.a_own.to_string(), p.b_own.to_string(), p.held_by_a.to_string());
    assert_eq!(list("mediator", "").await, vec![a.clone(), b.clone(), h.clone()]);
    assert_eq!(list("officer-a", "").await, vec![a.clone(), h.clone()]);
    assert_eq!(list("officer-b", "").await, vec![b.clone(), h.clone()]);
    // Filters narrow within what one sees, never beyond it.
    assert_eq!(list("officer-a", "?power=B").await, vec![h.clone()]);
    assert_eq!(list("officer-a", "?source=B").await, Vec::<String>::new());
    assert_eq!(list("officer-b", "?source=A").await, vec![h.clone()]);
    // Pages: one at a time, in id order.
    let first: serde_json::Value = app.get("officer-a", "/api/v1/persons?limit=1").await.json().await.unwrap();
    assert_eq!(ids(first.clone()), vec![a.clone()]);
    let next = first["next_after"].as_str().unwrap();
    assert_eq!(
        ids(app.get("officer-a", &format!("/api/v1/persons?limit=1&after={next}")).await.json().await.unwrap()),
        vec![h]
    );
}
