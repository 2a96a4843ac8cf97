//! Accounts and their protections, tested from outside: a real server on
//! 127.0.0.1:0 over a temporary SQLite file, a real HTTP client.

use std::net::SocketAddr;
use std::sync::Arc;

use homeward_auth::secrecy::{ExposeSecret, SecretString};
use homeward_domain::{ConflictSetup, Party, PartyCode, PartyKind, Role, Username};
use homeward_store::{AccountStore, NewApiToken, NewUser, Store};
use homeward_store_sqlite::SqliteStore;
use homeward_web::{AppState, AuthSettings};
use reqwest::StatusCode;
use reqwest::header::{HeaderMap, HeaderValue};
use time::OffsetDateTime;

const PASSWORD: &str = "correct horse battery staple";

struct TestApp {
    base: String,
    accounts: Arc<SqliteStore>,
    client: reqwest::Client,
    _dir: tempfile::TempDir,
}

fn code(s: &str) -> PartyCode {
    PartyCode::parse(s).unwrap()
}

fn setup() -> ConflictSetup {
    ConflictSetup {
        name: "Test conflict".into(),
        parties: vec![
            Party { code: code("A"), name: "Party A".into(), kind: PartyKind::Party },
            Party { code: code("B"), name: "Party B".into(), kind: PartyKind::Party },
            Party { code: code("M"), name: "Mediator".into(), kind: PartyKind::Mediator },
        ],
        handover_points: vec![],
    }
}

/// One user per role, each with [`PASSWORD`].
const USERS: [&str; 7] = ["mediator", "officer-a", "officer-b", "caseworker", "family", "auditor", "admin"];

fn role_of(name: &str) -> Role {
    match name {
        "mediator" => Role::Mediator,
        "officer-a" => Role::PartyOfficer { party: code("A") },
        "officer-b" => Role::PartyOfficer { party: code("B") },
        "caseworker" => Role::Caseworker { bureau: None },
        "family" => Role::Family,
        "auditor" => Role::Auditor,
        _ => Role::Admin,
    }
}

impl TestApp {
    async fn start() -> Self {
        Self::with(AuthSettings::default()).await
    }

    async fn with(auth: AuthSettings) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(SqliteStore::open(dir.path().join("homeward.db")).await.unwrap());
        store.set_conflict(&setup()).await.unwrap();
        let hash = homeward_auth::hash_password(&SecretString::from(PASSWORD)).unwrap();
        for name in USERS {
            store
                .create_user(NewUser {
                    username: Username::parse(name).unwrap(),
                    role: role_of(name),
                    password_hash: hash.clone(),
                    created_at: OffsetDateTime::now_utc(),
                })
                .await
                .unwrap();
        }
        let state = AppState::new(store.clone(), store.clone(), store.clone(), auth);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = homeward_web::router(state).into_make_service_with_connect_info::<SocketAddr>();
        tokio::spawn(async move { axum::serve(listener, app).await });
        let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        Self { base: format!("http://{addr}"), accounts: store, client, _dir: dir }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Posts the login form as the browser does from homeward's own page.
    async fn post_login(&self, username: &str, password: &str) -> reqwest::Response {
        self.post_login_from(username, password, "same-origin").await
    }

    async fn post_login_from(&self, username: &str, password: &str, site: &str) -> reqwest::Response {
        self.client
            .post(self.url("/login"))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("sec-fetch-site", site)
            .body(format!("username={}&password={}", encode(username), encode(password)))
            .send()
            .await
            .unwrap()
    }

    /// Logs in and returns the `Cookie` header value.
    async fn login(&self, username: &str) -> String {
        let resp = self.post_login(username, PASSWORD).await;
        assert_eq!(resp.status(), StatusCode::SEE_OTHER, "{username} logs in");
        cookie_pair(resp.headers())
    }

    async fn get(&self, path: &str, cookie: Option<&str>) -> reqwest::Response {
        let mut req = self.client.get(self.url(path));
        if let Some(c) = cookie {
            req = req.header("cookie", c);
        }
        req.send().await.unwrap()
    }

    async fn get_bearer(&self, path: &str, token: &str) -> reqwest::Response {
        self.client.get(self.url(path)).bearer_auth(token).send().await.unwrap()
    }
}

fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._".contains(&b) { (b as char).to_string() } else { format!("%{b:02X}") }
        })
        .collect()
}

fn set_cookie(headers: &HeaderMap) -> String {
    headers.get("set-cookie").expect("a Set-Cookie header").to_str().unwrap().to_owned()
}

/// `name=value` of the Set-Cookie header, as a browser would send it back.
fn cookie_pair(headers: &HeaderMap) -> String {
    set_cookie(headers).split(';').next().unwrap().to_owned()
}

fn is_problem(resp: &reqwest::Response) -> bool {
    resp.headers().get("content-type") == Some(&HeaderValue::from_static("application/problem+json"))
}

#[tokio::test]
async fn login_sets_a_strict_http_only_session_cookie_and_opens_the_home_page() {
    let app = TestApp::start().await;
    let resp = app.post_login("officer-a", PASSWORD).await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(resp.headers()["location"], "/home");
    let cookie = set_cookie(resp.headers());
    assert!(cookie.starts_with("homeward_session=hws_"), "{cookie}");
    for flag in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(cookie.split("; ").any(|f| f == flag), "{flag} missing: {cookie}");
    }
    assert!(!cookie.contains("Secure"), "plain HTTP: a Secure cookie would never come back");
    let pair = cookie_pair(resp.headers());

    let home = app.get("/home", Some(&pair)).await;
    assert_eq!(home.status(), StatusCode::OK);
    assert_eq!(home.headers()["cache-control"], "no-store");
    let body = home.text().await.unwrap();
    assert!(body.contains("officer-a") && body.contains("Information bureau"), "{body}");
    assert!(body.contains(r#"action="/logout""#));

    let me: serde_json::Value = app.get("/api/v1/me", Some(&pair)).await.json().await.unwrap();
    assert_eq!(me["username"], "officer-a");
    assert_eq!(me["role"], "party_officer");
    assert_eq!(me["party"], "A");
    assert_eq!(me["credential"]["via"], "session");
}

#[tokio::test]
async fn behind_https_the_cookie_is_secure_and_host_prefixed() {
    let app = TestApp::with(AuthSettings { secure_cookies: true, ..Default::default() }).await;
    let cookie = set_cookie(app.post_login("mediator", PASSWORD).await.headers());
    assert!(cookie.starts_with("__Host-homeward=hws_"), "{cookie}");
    assert!(cookie.contains("; Secure") && cookie.contains("; Path=/") && !cookie.contains("Domain"), "{cookie}");
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_user_fail_alike() {
    let app = TestApp::start().await;
    for (user, password) in [("officer-a", "not the password"), ("nobody-here", PASSWORD), ("x", PASSWORD)] {
        let resp = app.post_login(user, password).await;
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED, "{user}");
        assert!(resp.headers().get("set-cookie").is_none());
        let body = resp.text().await.unwrap();
        assert!(body.contains("The username or the password is wrong."), "{body}");
        assert!(!body.contains(password), "the password is never echoed");
    }
    // Without a cookie, a page sends the browser to the login form; the API answers 401.
    let page = app.client.get(app.url("/home")).header("accept", "text/html").send().await.unwrap();
    assert_eq!(page.status(), StatusCode::SEE_OTHER);
    assert_eq!(page.headers()["location"], "/login");
    let api = app.get("/api/v1/me", None).await;
    assert_eq!(api.status(), StatusCode::UNAUTHORIZED);
    assert!(is_problem(&api));
    // A forged cookie is no session.
    let forged = app.get("/api/v1/me", Some("homeward_session=hws_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")).await;
    assert_eq!(forged.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn logout_ends_the_session_on_the_server() {
    let app = TestApp::start().await;
    let cookie = app.login("caseworker").await;
    assert_eq!(app.get("/api/v1/me", Some(&cookie)).await.status(), StatusCode::OK);
    let resp = app
        .client
        .post(app.url("/logout"))
        .header("cookie", &cookie)
        .header("sec-fetch-site", "same-origin")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(resp.headers()["location"], "/login");
    assert!(set_cookie(resp.headers()).contains("Max-Age=0"));
    // The old cookie, replayed, no longer works: at once, although the
    // server had just resolved it (ended here, so forgotten here).
    assert_eq!(app.get("/api/v1/me", Some(&cookie)).await.status(), StatusCode::UNAUTHORIZED);
}

/// The bound of docs/ACCOUNTS.md: a credential ended by another process
/// (here a store call beside the server, as `homeward user disable` or
/// `user revoke-token` would make) stops working within this.
const REVOCATION_BOUND: std::time::Duration = std::time::Duration::from_secs(2);

/// Polls `/api/v1/me` until it answers 401; fails if that takes longer than
/// [`REVOCATION_BOUND`] after `since`.
async fn answers_401_within_the_bound(since: std::time::Instant, send: impl Fn() -> reqwest::RequestBuilder) {
    loop {
        let status = send().send().await.unwrap().status();
        if status == StatusCode::UNAUTHORIZED {
            return;
        }
        assert_eq!(status, StatusCode::OK);
        assert!(since.elapsed() < REVOCATION_BOUND, "still accepted {:?} after it was ended", since.elapsed());
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_disabled_user_cannot_log_in_and_loses_open_sessions() {
    let app = TestApp::start().await;
    let cookie = app.login("family").await;
    // Resolved once, so the server holds it in its credential cache.
    assert_eq!(app.get("/api/v1/me", Some(&cookie)).await.status(), StatusCode::OK);
    app.accounts.disable_user(&Username::parse("family").unwrap()).await.unwrap();
    let disabled = std::time::Instant::now();
    answers_401_within_the_bound(disabled, || app.client.get(app.url("/api/v1/me")).header("cookie", &cookie)).await;
    let resp = app.post_login("family", PASSWORD).await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    assert!(resp.headers().get("set-cookie").is_none());
}

#[tokio::test]
async fn a_cross_site_post_is_refused() {
    let app = TestApp::start().await;
    let resp = app.post_login_from("admin", PASSWORD, "cross-site").await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    assert!(is_problem(&resp));
    assert!(resp.headers().get("set-cookie").is_none());

    // An older browser without fetch metadata: the Origin decides.
    let cookie = app.login("admin").await;
    let forged = app
        .client
        .post(app.url("/logout"))
        .header("cookie", &cookie)
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.get("/api/v1/me", Some(&cookie)).await.status(), StatusCode::OK, "still logged in");
    let own = app
        .client
        .post(app.url("/logout"))
        .header("cookie", &cookie)
        .header("origin", app.base.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(own.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn repeated_failed_logins_answer_429_with_retry_after() {
    let app = TestApp::start().await;
    for _ in 0..5 {
        assert_eq!(app.post_login("officer-b", "guess").await.status(), StatusCode::UNAUTHORIZED);
    }
    let resp = app.post_login("officer-b", PASSWORD).await;
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS, "even the right password waits");
    assert!(is_problem(&resp));
    let retry: u64 = resp.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=15 * 60).contains(&retry), "{retry}");
    // Another account is not affected.
    assert_eq!(app.post_login("officer-a", PASSWORD).await.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn failures_from_one_address_throttle_that_address() {
    let app = TestApp::with(AuthSettings { max_failures_per_address: 3, ..Default::default() }).await;
    for user in ["a-one", "a-two", "a-three"] {
        assert_eq!(app.post_login(user, "guess").await.status(), StatusCode::UNAUTHORIZED);
    }
    let resp = app.post_login("auditor", PASSWORD).await;
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(resp.headers().contains_key("retry-after"));
}

#[tokio::test]
async fn login_attempts_of_any_outcome_are_rate_limited_per_address() {
    let app = TestApp::with(AuthSettings { login_attempts_per_minute: 2, ..Default::default() }).await;
    app.login("auditor").await;
    app.login("auditor").await;
    let resp = app.post_login("auditor", PASSWORD).await;
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = resp.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
}

#[tokio::test]
async fn an_api_token_works_as_bearer_until_revoked() {
    let app = TestApp::start().await;
    let owner = app.accounts.user_credentials(&Username::parse("officer-a").unwrap()).await.unwrap().unwrap().user;
    let (secret, hash) = homeward_auth::new_secret(homeward_auth::SecretKind::ApiToken).unwrap();
    let token = app
        .accounts
        .create_token(NewApiToken {
            hash,
            name: "sync".into(),
            user: owner.id,
            scope: Role::Auditor,
            created_at: OffsetDateTime::now_utc(),
        })
        .await
        .unwrap();
    let resp = app.get_bearer("/api/v1/me", secret.expose_secret()).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let me: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(me["username"], "officer-a");
    assert_eq!(me["role"], "auditor", "the token acts as its scope, not as its user");
    assert_eq!(me["credential"]["via"], "api_token");
    assert_eq!(me["credential"]["token"], token.id.to_string());

    // A program posting with a token sends no browser headers: the CSRF layer lets it through.
    let post = app.client.post(app.url("/logout")).bearer_auth(secret.expose_secret()).send().await.unwrap();
    assert_eq!(post.status(), StatusCode::SEE_OTHER);

    app.accounts.revoke_token(token.id, OffsetDateTime::now_utc()).await.unwrap();
    let revoked = std::time::Instant::now();
    answers_401_within_the_bound(revoked, || app.client.get(app.url("/api/v1/me")).bearer_auth(secret.expose_secret()))
        .await;
    let resp = app.get_bearer("/api/v1/me", secret.expose_secret()).await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    assert!(is_problem(&resp));
    assert_eq!(resp.headers()["www-authenticate"], "Bearer");
    assert_eq!(app.get_bearer("/api/v1/me", "hwt_not-a-token").await.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_role_that_may_not_see_a_route_gets_404_not_403() {
    let app = TestApp::start().await;
    for name in USERS {
        let cookie = app.login(name).await;
        let resp = app.get("/api/v1/users", Some(&cookie)).await;
        if name == "admin" {
            assert_eq!(resp.status(), StatusCode::OK);
            let users: serde_json::Value = resp.json().await.unwrap();
            assert_eq!(users.as_array().unwrap().len(), USERS.len());
            assert!(!users.to_string().contains("argon2"), "no password hashes");
        } else {
            assert_eq!(resp.status(), StatusCode::NOT_FOUND, "{name}");
            assert!(is_problem(&resp));
            let body: serde_json::Value = resp.json().await.unwrap();
            let missing: serde_json::Value =
                app.get("/api/v1/no-such-route", Some(&cookie)).await.json().await.unwrap();
            assert_eq!(body, missing, "{name}: forbidden looks exactly like absent");
        }
    }
    assert_eq!(app.get("/api/v1/users", None).await.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn every_role_has_a_home_page() {
    let app = TestApp::start().await;
    for (name, title) in [
        ("mediator", "Mediator"),
        ("officer-b", "Information bureau"),
        ("caseworker", "Caseworker"),
        ("family", "Family"),
        ("auditor", "Auditor"),
        ("admin", "Administrator"),
    ] {
        let cookie = app.login(name).await;
        let body = app.get("/home", Some(&cookie)).await.text().await.unwrap();
        assert!(body.contains(&format!("<h1>{title}</h1>")), "{name}: {body}");
    }
    let login = app.get("/login", None).await;
    assert_eq!(login.status(), StatusCode::OK);
    assert_eq!(login.headers()["x-content-type-options"], "nosniff");
    assert!(login.headers()["content-security-policy"].to_str().unwrap().contains("frame-ancestors 'none'"));
    let body = login.text().await.unwrap();
    assert!(body.contains(r#"<label for="username">"#) && body.contains(r#"autocomplete="current-password""#));
}

#[tokio::test]
async fn a_malformed_login_form_is_a_problem_not_a_crash() {
    let app = TestApp::start().await;
    let resp = app
        .client
        .post(app.url("/login"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("username=only")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert!(is_problem(&resp));
}
