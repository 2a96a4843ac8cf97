//! Tracing requests over real HTTP: filing with consent, an answer that
//! reveals nothing about the registry, per-account and per-address rate
//! limits (429 with Retry-After), and a family seeing only its own.

use std::net::{IpAddr, Ipv4Addr};

use homeward_auth::secrecy::SecretString;
use homeward_domain::{Role, Username};
use homeward_store::{AccountStore, NewUser};
use reqwest::StatusCode;
use time::OffsetDateTime;

use crate::support::{PASSWORD, TestApp};

fn request(family_name: &str) -> serde_json::Value {
    serde_json::json!({
        "enquirer_name": "Ганна Мельник", "relationship": "mother", "contact": "+380 67 765 43 21",
        "consent": true, "sought": {"family_name": family_name, "given_names": "Іван", "birth_date": "1999"}
    })
}

/// A client whose connections come from `ip` (any 127.x address reaches loopback).
fn client_from(ip: Ipv4Addr) -> reqwest::Client {
    reqwest::Client::builder().local_address(IpAddr::V4(ip)).build().unwrap()
}

async fn file(app: &TestApp, client: &reqwest::Client, cookie: &str, body: &serde_json::Value) -> reqwest::Response {
    client
        .post(app.url("/api/v1/tracing-requests"))
        .header("cookie", cookie)
        .header("sec-fetch-site", "same-origin")
        .json(body)
        .send()
        .await
        .unwrap()
}

async fn second_family(app: &TestApp) -> String {
    let hash = homeward_auth::hash_password(&SecretString::from(PASSWORD)).unwrap();
    app.store
        .create_user(NewUser {
            username: Username::parse("family-2").unwrap(),
            role: Role::Family,
            password_hash: hash,
            created_at: OffsetDateTime::now_utc(),
        })
        .await
        .unwrap();
    app.login("family-2").await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filing_needs_consent_and_reveals_nothing_about_the_registry() {
    let app = TestApp::start().await;
    let cookie = app.cookies["family"].clone();
    let client = reqwest::Client::new();
    // One sought person is in the registry (Коваленко), one is not: the same answer.
    let found = file(&app, &client, &cookie, &request("Коваленко")).await;
    assert_eq!(found.status(), StatusCode::ACCEPTED);
    let found: serde_json::Value = found.json().await.unwrap();
    let absent: serde_json::Value = file(&app, &client, &cookie, &request("Неіснуючий")).await.json().await.unwrap();
    let keys = |v: &serde_json::Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    assert_eq!(keys(&found), keys(&absent));
    assert_eq!((found["state"].as_str(), absent["state"].as_str()), (Some("searching"), Some("searching")));

    // Without consent, or without a family name: refused, fields named, nothing echoed.
    let mut no_consent = request("Бондар");
    no_consent["consent"] = false.into();
    no_consent["sought"]["family_name"] = "".into();
    let resp = file(&app, &client, &cookie, &no_consent).await;
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let text = resp.text().await.unwrap();
    assert!(text.contains("consent") && text.contains("sought.family_name"), "{text}");
    assert!(!text.contains("765 43 21") && !text.contains("Ганна"), "{text}");

    // The family sees its requests, "searching", and nothing else.
    let list: serde_json::Value = app.get("family", "/api/v1/tracing-requests").await.json().await.unwrap();
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 3, "the seeded request and two filed: {list}");
    assert!(items.iter().all(|i| i["state"] == "searching" && i["fate"].is_null() && i["status"].is_null()));
    assert!(!list.to_string().contains("contact"), "{list}");

    // Another family gets 404 for it, and sees none of them.
    let other = second_family(&app).await;
    let id = found["id"].as_str().unwrap();
    let resp =
        client.get(app.url(&format!("/api/v1/tracing-requests/{id}"))).header("cookie", &other).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    let resp = client.get(app.url("/api/v1/tracing-requests")).header("cookie", &other).send().await.unwrap();
    assert_eq!(resp.json::<serde_json::Value>().await.unwrap()["items"].as_array().unwrap().len(), 0);

    // The caseworker of the desk sees the contact (to answer the family).
    let staff: serde_json::Value =
        app.get("caseworker", &format!("/api/v1/tracing-requests/{id}")).await.json().await.unwrap();
    assert_eq!(staff["contact"], "+380 67 765 43 21");
    assert_eq!(staff["desk"], "mediator");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filing_is_rate_limited_per_account_and_per_address() {
    let app = TestApp::start().await;
    let budget = homeward_web::AuthSettings::default().family_searches_per_hour;
    let family = app.cookies["family"].clone();
    let (here, there) = (client_from(Ipv4Addr::new(127, 0, 0, 1)), client_from(Ipv4Addr::new(127, 0, 0, 2)));
    for _ in 0..budget {
        assert_eq!(file(&app, &here, &family, &request("Шевчук")).await.status(), StatusCode::ACCEPTED);
    }
    // The account is spent, from any address.
    let resp = file(&app, &there, &family, &request("Шевчук")).await;
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = resp.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=3600).contains(&retry), "{retry}");
    // The address is spent, for any account.
    let other = second_family(&app).await;
    let resp = file(&app, &here, &other, &request("Шевчук")).await;
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(resp.headers().contains_key("retry-after"));
    // Another account from another address still files.
    assert_eq!(file(&app, &there, &other, &request("Шевчук")).await.status(), StatusCode::ACCEPTED);
}
