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

/// The leaves the public log serves (`/log/tile/entries/...`), decoded,
/// once every change so far is sequenced and signed.
async fn public_leaves(app: &TestApp, signer: &homeward_tlog::Signer) -> Vec<homeward_tlog::LogLeaf> {
    homeward_service::log::sequence_and_sign(app.store.as_ref(), signer).await.unwrap();
    let size = homeward_store::LogStore::tree_head(app.store.as_ref()).await.unwrap().size;
    let mut leaves = Vec::new();
    let mut n = 0;
    while let Some(bundle) = homeward_tlog::EntryBundle::for_tree(n, size) {
        let resp = app.client.get(app.url(&format!("/log/{}", bundle.path()))).send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::OK, "{}", bundle.path());
        let bytes = resp.bytes().await.unwrap();
        for leaf in homeward_tlog::decode_entry_bundle(&bytes).unwrap() {
            leaves.push(homeward_tlog::LogLeaf::from_bytes(leaf).unwrap());
        }
        n += 1;
    }
    leaves
}

/// Waits until background matching has searched request `id` (its watermark
/// passed the request's filing time).
async fn searched(app: &TestApp, id: homeward_domain::TracingRequestId) {
    let filed =
        homeward_store::TracingStore::tracing_request(app.store.as_ref(), id).await.unwrap().unwrap().created_at;
    let filed_ms = (filed.unix_timestamp_nanos() / 1_000_000) as i64;
    for _ in 0..200 {
        let mark = homeward_store::TracingStore::job_watermark(
            app.store.as_ref(),
            homeward_service::requests::matcher::REQUESTS_JOB,
        )
        .await
        .unwrap();
        if mark >= filed_ms {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!("request {id} was not searched");
}

/// Issue 20, finding 1: before, the matcher appended a public
/// `tracing.candidate` leaf naming the request's id (which the family holds)
/// whenever the registry held someone like the person sought. Now what
/// anyone can read without a staff role (the public log's leaves, their
/// number, the public counts) is the same whether a filing matched or not,
/// and no leaf names the request.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_public_log_does_not_tell_whether_a_filing_matched() {
    let app = TestApp::start().await;
    let signer = homeward_tlog::Signer::generate("homeward.test/log", homeward_tlog::KeyType::Ed25519).unwrap();
    let cookie = app.cookies["family"].clone();
    let client = reqwest::Client::new();
    let stats = || async { app.client.get(app.url("/api/v1/stats")).send().await.unwrap().text().await.unwrap() };
    let mut seen = Vec::new();
    for family_name in ["Коваленко", "Неіснуючий"] {
        let before = public_leaves(&app, &signer).await;
        let stats_before = stats().await;
        let mut body = request(family_name);
        body["sought"]["given_names"] = "Олександр".into();
        body["sought"].as_object_mut().unwrap().remove("birth_date");
        let filed: serde_json::Value = file(&app, &client, &cookie, &body).await.json().await.unwrap();
        let id: homeward_domain::TracingRequestId = filed["id"].as_str().unwrap().parse().unwrap();
        searched(&app, id).await;
        let candidates = homeward_store::TracingStore::candidates(app.store.as_ref(), id).await.unwrap();
        let after = public_leaves(&app, &signer).await;
        let added: Vec<_> = after[before.len()..]
            .iter()
            .map(|l| (l.event_type.clone(), l.actor_role.clone(), l.actor_party.clone(), l.version()))
            .collect();
        for leaf in &after {
            let bytes = leaf.to_bytes().unwrap();
            let needle = id.to_string();
            assert!(!bytes.windows(needle.len()).any(|w| w == needle.as_bytes()), "a leaf names the request");
        }
        assert_eq!(stats().await, stats_before, "public counts moved with a filing");
        seen.push((candidates.len(), added));
    }
    // The real name found its person; the made-up one found no one...
    assert!(seen[0].0 >= 1 && seen[1].0 == 0, "{seen:?}");
    // ...and the public log grew the same way for both: one filing leaf.
    assert_eq!(seen[0].1, seen[1].1);
    assert_eq!(seen[0].1, vec![("tracing.filed".to_owned(), "family".to_owned(), None, 2)]);
}
