//! A real server on 127.0.0.1:0 over a temporary SQLite file, with one user
//! per role and three persons whose visibility differs, and a real client.

use std::net::SocketAddr;
use std::sync::Arc;

use homeward_auth::secrecy::SecretString;
use homeward_domain::{
    Category, ConflictSetup, Party, PartyCode, PartyKind, PersonId, PersonIdentity, Role, SourceRef, Status,
    StatusEvent, Username,
};
use homeward_store::{AccountStore, NewPerson, NewUser, Store};
use homeward_store_sqlite::SqliteStore;
use homeward_web::{AppState, AuthSettings};
use reqwest::StatusCode;
use time::OffsetDateTime;

pub const PASSWORD: &str = "correct horse battery staple";

/// The roles in matrix order; `anonymous` has no login.
pub const ROLES: [&str; 8] =
    ["mediator", "officer-a", "officer-b", "caseworker", "family", "auditor", "admin", "anonymous"];

pub fn code(s: &str) -> PartyCode {
    PartyCode::parse(s).unwrap()
}

pub fn setup() -> ConflictSetup {
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

pub fn role_of(name: &str) -> Role {
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

pub fn identity(family: &str, power: &str) -> PersonIdentity {
    PersonIdentity {
        family_name: family.into(),
        given_names: "Олександр".into(),
        patronymic: None,
        mother_maiden_name: None,
        birth_date: None,
        place_of_birth: None,
        rank: None,
        service_number: None,
        unit: None,
        power: code(power),
        category: Category::Military,
        person_to_inform: Some("Марія Коваленко".into()),
        correspondence_address: Some("вул. Шевченка 1, Полтава".into()),
    }
}

/// The three persons: A's own (power A, registered by A), B's own (power B,
/// registered by B), and one of B's people held by A (power B, registered by A).
#[derive(Debug, Clone, Copy)]
pub struct Persons {
    pub a_own: PersonId,
    pub b_own: PersonId,
    pub held_by_a: PersonId,
    /// The family's tracing request (seeking A's own person, by another spelling).
    pub request: homeward_domain::TracingRequestId,
}

pub struct TestApp {
    pub base: String,
    pub store: Arc<SqliteStore>,
    pub client: reqwest::Client,
    pub persons: Persons,
    /// The server's registry index.
    pub index: Arc<homeward_service::matching::LiveIndex>,
    /// The server's registry, whose access-log writer a test flushes before
    /// it reads the log from the store.
    pub registry: homeward_service::registry::Registry,
    /// Where uploads are spooled while their job runs.
    pub import_dir: std::path::PathBuf,
    /// The log's publication state the server reads (readiness, the
    /// mediator's page); a test blocks it as the sequencer would.
    pub publication: Arc<homeward_service::log::Publication>,
    /// Session cookie per role name (none for anonymous).
    pub cookies: std::collections::HashMap<&'static str, String>,
    _dir: tempfile::TempDir,
}

/// How a test server differs from the default one.
#[derive(Debug, Default)]
pub struct Options {
    /// The registry index is still loading ([`TestApp::start_loading`]).
    pub loading: bool,
    pub auth: AuthSettings,
    /// `Strict-Transport-Security` on every answer.
    pub hsts: bool,
}

impl TestApp {
    pub async fn start() -> Self {
        Self::start_with(Options::default()).await
    }

    /// A server whose registry index is still loading, as after a start:
    /// nothing loads it until the test calls `index.load()`.
    pub async fn start_loading() -> Self {
        Self::start_with(Options { loading: true, ..Options::default() }).await
    }

    pub async fn start_with(options: Options) -> Self {
        let Options { loading, auth, hsts } = options;
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(SqliteStore::open(dir.path().join("homeward.db")).await.unwrap());
        store.set_conflict(&setup()).await.unwrap();
        let hash = homeward_auth::hash_password(&SecretString::from(PASSWORD)).unwrap();
        let mut users = std::collections::HashMap::new();
        for name in ROLES.iter().filter(|r| **r != "anonymous") {
            let user = store
                .create_user(NewUser {
                    username: Username::parse(name).unwrap(),
                    role: role_of(name),
                    password_hash: hash.clone(),
                    created_at: OffsetDateTime::now_utc(),
                })
                .await
                .unwrap();
            users.insert(*name, user.id);
        }
        let add = |source: &str, id: &str, family: &str, power: &str| NewPerson {
            source: SourceRef { source: code(source), record_id: id.into() },
            identity: identity(family, power),
            first_status: StatusEvent::new(Status::Held),
        };
        let persons = Persons {
            a_own: store.add_person(add("A", "A-1", "Коваленко", "A")).await.unwrap(),
            b_own: store.add_person(add("B", "B-1", "Шевченко", "B")).await.unwrap(),
            held_by_a: store.add_person(add("A", "A-2", "Бондаренко", "B")).await.unwrap(),
            request: homeward_domain::TracingRequestId::new(),
        };
        // The family's request, at the mediator's desk.
        homeward_store::TracingStore::file_tracing_request(
            store.as_ref(),
            homeward_store::NewTracingRequest {
                id: persons.request,
                owner: users["family"],
                enquirer_name: "Марія Коваленко".into(),
                relationship: "mother".into(),
                contact: "+380 50 111 22 33".into(),
                sought: homeward_domain::SoughtPerson {
                    family_name: "Kovalenko".into(),
                    given_names: "Sasha".into(),
                    ..Default::default()
                },
                desk: homeward_domain::Desk::Mediator,
                at: OffsetDateTime::now_utc(),
            },
        )
        .await
        .unwrap();
        let publication = Arc::new(homeward_service::log::Publication::default());
        let mut state = AppState::new(store.clone(), store.clone(), store.clone(), auth)
            .with_import_dir(dir.path().join("imports"))
            .with_publication(publication.clone())
            .with_hsts(hsts);
        if loading {
            state = state.with_index(homeward_service::matching::LiveIndex::loading(store.clone()));
        }
        // The server's background work: sequence the log (unsigned: no
        // checkpoints are needed here) and follow it into the registry index.
        let (seq_store, index) = (store.clone(), state.index.clone());
        let matcher = homeward_service::requests::matcher::Matcher::new(store.clone(), index.clone());
        tokio::spawn(async move {
            loop {
                let _ = homeward_store::LogStore::sequence(seq_store.as_ref(), 4096).await;
                let _ = index.catch_up().await;
                let _ = matcher.round().await;
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (state_index, registry) = (state.index.clone(), state.registry.clone());
        let app = homeward_web::router(state).into_make_service_with_connect_info::<SocketAddr>();
        tokio::spawn(async move { axum::serve(listener, app).await });
        let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let import_dir = dir.path().join("imports");
        let mut app = Self {
            base: format!("http://{addr}"),
            store,
            client,
            persons,
            index: state_index,
            registry,
            import_dir,
            publication,
            cookies: Default::default(),
            _dir: dir,
        };
        for name in ROLES.iter().filter(|r| **r != "anonymous") {
            let cookie = app.login(name).await;
            app.cookies.insert(name, cookie);
        }
        app
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn login(&self, username: &str) -> String {
        let resp = self
            .client
            .post(self.url("/login"))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("sec-fetch-site", "same-origin")
            .body(format!("username={username}&password={}", PASSWORD.replace(' ', "+")))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::SEE_OTHER, "{username} logs in");
        let set = resp.headers().get("set-cookie").unwrap().to_str().unwrap();
        set.split(';').next().unwrap().to_owned()
    }

    /// A request as `role` would send it from homeward's own pages.
    pub fn request(&self, role: &str, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.request_from(role, method, path, "same-origin")
    }

    /// A request as a page at `site` (`Sec-Fetch-Site`) would make the browser send it.
    pub fn request_from(&self, role: &str, method: reqwest::Method, path: &str, site: &str) -> reqwest::RequestBuilder {
        let mut req = self.client.request(method, self.url(path)).header("sec-fetch-site", site);
        if let Some(c) = self.cookies.get(role) {
            req = req.header("cookie", c);
        }
        req
    }

    pub async fn get(&self, role: &str, path: &str) -> reqwest::Response {
        self.request(role, reqwest::Method::GET, path).send().await.unwrap()
    }

    pub async fn post_json(&self, role: &str, path: &str, body: &serde_json::Value) -> reqwest::Response {
        self.request(role, reqwest::Method::POST, path).json(body).send().await.unwrap()
    }

    /// Every person stored, by the status counts (no page limit).
    pub async fn total_persons(&self) -> u64 {
        self.store.status_counts().await.unwrap().iter().map(|(_, n)| n).sum()
    }

    pub async fn person_count(&self) -> usize {
        self.store.list_persons(&Default::default(), &homeward_store::Page::first(1000)).await.unwrap().len()
    }
}

pub fn register_body(record_id: &str, power: &str) -> serde_json::Value {
    serde_json::json!({
        "record_id": record_id,
        "identity": {"family_name": "Мельник", "given_names": "Іван", "power": power, "category": "military"},
        "status": {"status": "captured", "occurred_on": "2024-05"}
    })
}
