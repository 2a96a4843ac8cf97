//! No personal data in application logs (DESIGN.md "Rules that protect
//! people"; docs/LOGGING.md): the demo flows run with the real binary at
//! `HOMEWARD_LOG=debug`, the standard error of every process is kept, and
//! none of the names, birth dates, service numbers, contacts, passwords,
//! tokens or session ids used along the way may appear in it.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_homeward");

/// Known persons imported from a CSV: every personal field is distinctive,
/// so that any appearance in a log is a leak and not a coincidence.
const KNOWN_CSV: &str = "\
record_id,family_name,given_names,patronymic,mother_maiden_name,birth_date,place_of_birth,rank,service_number,unit,power,category,person_to_inform,correspondence_address,status,status_date,status_place
LOG-0001,Квітчастий,Ярополк,Остапович,Зозуленко,1983-11-29,Жашків,солдат,ЖК-918273,,B,military,Квітчаста Мирослава +380 67 555 0199,вул. Черешнева 17 Жашків,captured,2026-05-02,Sector 4
LOG-0002,Pryhodzhenko,Vsevolodus,Taras,Merezhko,1979-02-13,Khorol,private,B-7733991,,B,military,xenia.pryhodzhenko@example.org,Lypova street 44 Khorol,held,2026-05-10,Camp 3
";

/// A file whose rows are rejected (bad dates, an unknown category): the
/// error report names line and field; the log must not carry the values.
const REJECTED_CSV: &str = "\
record_id,family_name,given_names,patronymic,mother_maiden_name,birth_date,place_of_birth,rank,service_number,unit,power,category,person_to_inform,correspondence_address,status,status_date,status_place
LOG-0101,Щедрогорський,Лютобор,,,31.02.1961,Сквира,,ЩГ-552211,,B,soldierish,+380 50 444 1234,пров. Тихий 3 Сквира,captured,2026-05-02,
LOG-0102,Verbolozhenko,Ostromir,,,1965-13-45,Bobrynets,,VB-118822,,B,military,ostromir.v@example.net,Sadova 9 Bobrynets,held,not-a-date,
";

/// Typed into the username field of the login form by mistake.
const PASSWORD_AS_USERNAME: &str = "Zelenyi-Sad-1962-parol!";

struct Env {
    dir: tempfile::TempDir,
    /// Standard error of every process run, in order.
    logs: Arc<Mutex<String>>,
}

impl Env {
    fn new() -> Self {
        Self { dir: tempfile::tempdir().unwrap(), logs: Arc::default() }
    }

    fn cmd(&self) -> Command {
        let mut c = Command::new(BIN);
        c.current_dir(self.dir.path())
            .env_remove("HOMEWARD_DATABASE_URL")
            .env_remove("HOMEWARD_CONFIG")
            .env("HOMEWARD_DATA_DIR", self.dir.path().join("data"))
            .env("HOMEWARD_LOG", "debug");
        c
    }

    /// Runs to the end; returns (success, stdout); stderr goes to the logs.
    fn run(&self, args: &[&str]) -> (bool, String) {
        let out = self.cmd().args(args).stdin(Stdio::null()).output().unwrap();
        self.logs.lock().unwrap().push_str(&String::from_utf8_lossy(&out.stderr));
        (out.status.success(), String::from_utf8(out.stdout).unwrap())
    }

    fn ok(&self, args: &[&str]) -> String {
        let (ok, stdout) = self.run(args);
        assert!(ok, "{args:?} failed:\n{}", self.logs.lock().unwrap());
        stdout
    }

    fn write(&self, name: &str, text: &str) -> String {
        let p = self.dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p.to_str().unwrap().to_owned()
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }
}

/// Kills the server when the test ends, however it ends.
struct Server(Child);
impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn serve(env: &Env) -> (Server, String) {
    let mut child = env
        .cmd()
        .args(["serve", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let stderr = child.stderr.take().unwrap();
    let logs = Arc::clone(&env.logs);
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let mut logs = logs.lock().unwrap();
            logs.push_str(&line);
            logs.push('\n');
        }
    });
    let server = Server(child);
    let mut lines = BufReader::new(stdout).lines();
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        let Some(Ok(line)) = lines.next() else { break };
        if let Some(rest) = line.split("http://").nth(1) {
            let addr = rest.split('/').next().unwrap().to_owned();
            std::thread::spawn(move || for _ in lines {});
            return (server, addr);
        }
    }
    panic!("the server printed no URL");
}

/// One HTTP/1.0 exchange (the answer ends when the connection closes).
/// Returns the status, the raw head and the body.
fn http(addr: &str, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> (u16, String, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut req = format!("{method} {path} HTTP/1.0\r\nHost: {addr}\r\nContent-Length: {}\r\n", body.len());
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).unwrap();
    s.write_all(body).unwrap();
    let mut resp = Vec::new();
    s.read_to_end(&mut resp).unwrap();
    let resp = String::from_utf8_lossy(&resp).into_owned();
    let (head, body) = resp.split_once("\r\n\r\n").unwrap_or((&resp, ""));
    let status = head.split(' ').nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    (status, head.to_owned(), body.to_owned())
}

fn form_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn json(body: &str) -> serde_json::Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("not JSON ({e}): {body}"))
}

/// The personal values of a person as the API shows them.
fn personal_values(person: &serde_json::Value, into: &mut Vec<String>) {
    for version in person["identities"].as_array().into_iter().flatten() {
        let identity = &version["identity"];
        for field in [
            "family_name",
            "given_names",
            "patronymic",
            "mother_maiden_name",
            "birth_date",
            "place_of_birth",
            "service_number",
            "person_to_inform",
            "correspondence_address",
        ] {
            if let Some(v) = identity[field].as_str() {
                into.push(v.to_owned());
            }
        }
    }
    for event in person["timeline"].as_array().into_iter().flatten() {
        if let Some(v) = event["details"].as_str() {
            into.push(v.to_owned());
        }
    }
}

#[test]
fn the_demo_flows_log_no_personal_data() {
    let env = Env::new();
    let mut secrets: Vec<String> = Vec::new();

    // The demo, then an import of known persons and an import with rejected rows.
    env.ok(&["demo", "--persons", "300", "--no-serve"]);
    let known = env.write("known.csv", KNOWN_CSV);
    env.ok(&["import", "persons", &known, "--source", "A"]);
    let rejected = env.write("rejected.csv", REJECTED_CSV);
    let (ok, _) = env.run(&["import", "persons", &rejected, "--source", "A"]);
    assert!(!ok, "the rejected file was accepted");
    for csv in [KNOWN_CSV, REJECTED_CSV] {
        for line in csv.lines().skip(1) {
            let cells: Vec<&str> = line.split(',').collect();
            // family_name .. correspondence_address, except rank, unit, power, category.
            for i in [1, 2, 3, 4, 5, 6, 8, 12, 13] {
                secrets.push(cells[i].to_owned());
            }
        }
    }

    let logins = std::fs::read_to_string(env.path("data/demo-logins.txt")).unwrap();
    let logins: Vec<(String, String)> = logins
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_once('\t'))
        .map(|(u, p)| (u.to_owned(), p.to_owned()))
        .collect();
    assert!(logins.len() >= 6, "demo logins: {logins:?}");
    secrets.extend(logins.iter().map(|(_, p)| p.clone()));

    let token = env.ok(&["user", "token", "mediator", "--name", "log test"]).trim().to_owned();
    let officer_token = env.ok(&["user", "token", "officer-a", "--name", "log test"]).trim().to_owned();
    secrets.push(token.clone());
    secrets.push(officer_token.clone());

    let (_server, addr) = serve(&env);
    let bearer = format!("Bearer {token}");
    let auth = [("Authorization", bearer.as_str())];

    // Every role logs in with the form; the session cookie is a secret too.
    let mut mediator_cookie = String::new();
    for (username, password) in &logins {
        let body = format!("username={}&password={}", form_encode(username), form_encode(password));
        let (status, head, _) =
            http(&addr, "POST", "/login", &[("Content-Type", "application/x-www-form-urlencoded")], body.as_bytes());
        assert_eq!(status, 303, "login of {username}: {head}");
        let cookie = head
            .lines()
            .find_map(|l| l.strip_prefix("set-cookie: ").or_else(|| l.strip_prefix("Set-Cookie: ")))
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_owned();
        let (status, _, _) = http(&addr, "GET", "/home", &[("Cookie", &cookie)], b"");
        assert_eq!(status, 200, "home of {username}");
        secrets.push(cookie.split_once('=').unwrap().1.to_owned());
        if username == "mediator" {
            mediator_cookie = cookie;
        }
    }

    // A failed login with the password typed into the username field.
    let body = format!("username={}&password=x", form_encode(PASSWORD_AS_USERNAME));
    let (status, _, _) =
        http(&addr, "POST", "/login", &[("Content-Type", "application/x-www-form-urlencoded")], body.as_bytes());
    assert_eq!(status, 401);
    secrets.push(PASSWORD_AS_USERNAME.to_owned());

    // Registry reads: the list, every person on it, a status change.
    let (status, _, body) = http(&addr, "GET", "/api/v1/persons?limit=1000", &auth, b"");
    assert_eq!(status, 200, "{body}");
    let page = json(&body);
    let ids: Vec<String> =
        page["items"].as_array().unwrap().iter().map(|p| p["id"].as_str().unwrap().to_owned()).collect();
    assert!(ids.len() > 300, "{} persons listed", ids.len());
    for (i, id) in ids.iter().enumerate() {
        let (status, _, body) = http(&addr, "GET", &format!("/api/v1/persons/{id}"), &auth, b"");
        assert_eq!(status, 200, "{body}");
        personal_values(&json(&body), &mut secrets);
        // The same record through the web page, for some of them.
        if i % 50 == 0 {
            let (status, _, _) = http(&addr, "GET", &format!("/registry/{id}"), &[("Cookie", &mediator_cookie)], b"");
            assert_eq!(status, 200, "page of {id}");
        }
    }
    let held = page["items"].as_array().unwrap().iter().find(|p| p["status"] == "held").unwrap();
    let id = held["id"].as_str().unwrap();
    let status_body = br#"{"status":"hospitalised","occurred_on":"2026-06-01","place":"Hospital 2","details":"Perelom stehna pravoi nohy"}"#;
    let (status, _, body) = http(
        &addr,
        "POST",
        &format!("/api/v1/persons/{id}/status"),
        &[("Authorization", &bearer), ("Content-Type", "application/json")],
        status_body,
    );
    assert_eq!(status, 201, "{body}");
    secrets.push("Perelom stehna pravoi nohy".to_owned());

    // The rejected file over HTTP too, as the party officer.
    let officer = format!("Bearer {officer_token}");
    let (status, _, body) = http(
        &addr,
        "POST",
        "/api/v1/imports/persons",
        &[("Authorization", &officer), ("Content-Type", "text/csv")],
        REJECTED_CSV.as_bytes(),
    );
    assert_eq!(status, 422, "{body}");
    // Searches by name: the registry's filter posts; a name in a query string
    // (an old bookmark) is refused, and neither may reach the log.
    for name in ["Квітчастий", "Pryhodzhenko"] {
        let body = format!("q={}", form_encode(name));
        let headers = [
            ("Cookie", mediator_cookie.as_str()),
            ("Content-Type", "application/x-www-form-urlencoded"),
            ("Sec-Fetch-Site", "same-origin"),
        ];
        let (status, _, _) = http(&addr, "POST", "/registry", &headers, body.as_bytes());
        assert_eq!(status, 200, "search for {name}");
        let path = format!("/registry?q={}", form_encode(name));
        let (status, _, _) = http(&addr, "GET", &path, &[("Cookie", &mediator_cookie)], b"");
        assert_eq!(status, 400, "a name in the URL is refused: {name}");
    }
    drop(_server);
    std::thread::sleep(Duration::from_millis(200));

    let logs = env.logs.lock().unwrap().clone();
    assert!(logs.contains("DEBUG"), "the logs were not at debug level:\n{logs}");
    assert!(logs.contains("logged in"), "the server's log was not captured");
    assert!(logs.contains("route=/api/v1/persons/{id}"), "requests are traced by their route");
    let logs_lower = logs.to_lowercase();
    let mut leaks: Vec<String> = secrets
        .iter()
        .map(|s| s.trim().to_owned())
        // Very short values (a two-letter initial, "1") say nothing and match everywhere.
        .filter(|s| s.chars().count() >= 5)
        .filter(|s| logs_lower.contains(&s.to_lowercase()))
        .collect();
    // Search terms, percent-encoded in URLs, count too.
    for s in ["Квітчастий", "Pryhodzhenko"] {
        let encoded: String = s.bytes().map(|b| format!("%{b:02X}")).collect();
        if logs.contains(&encoded) {
            leaks.push(encoded);
        }
    }
    leaks.sort();
    leaks.dedup();
    assert!(
        leaks.is_empty(),
        "personal data or secrets in the logs: {leaks:?}\n\nfirst lines:\n{}",
        first_hits(&logs, &leaks)
    );
}

fn first_hits(logs: &str, leaks: &[String]) -> String {
    logs.lines()
        .filter(|l| leaks.iter().any(|s| l.to_lowercase().contains(&s.to_lowercase())))
        .take(20)
        .map(|l| l.chars().take(400).collect::<String>())
        .collect::<Vec<_>>()
        .join("\n")
}

/// Finding 10c of the review (issue 20): the CSRF refusal logged the raw
/// path. It logs the matched route template, or `(unmatched)`.
#[test]
fn a_refused_cross_site_request_logs_the_route_not_the_path() {
    let env = Env::new();
    env.ok(&["init", "--setup", concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/examples/conflict.toml")]);
    let (server, addr) = serve(&env);
    let leak = "Kvitchastyi-Yaropolk-1983";
    for path in [
        format!("/api/v1/persons/{leak}/status"),
        format!("/registry/{leak}"),
        format!("/nowhere/{leak}"),
        format!("/tracing?name={leak}"),
    ] {
        let (status, _, _) = http(&addr, "POST", &path, &[("Sec-Fetch-Site", "cross-site")], b"{}");
        assert_eq!(status, 403, "{path}");
    }
    // The log lines reach the reader thread a little after the answers.
    let refusals = |logs: &str| logs.lines().filter(|l| l.contains("cross-site request refused")).count();
    let deadline = Instant::now() + Duration::from_secs(10);
    while refusals(&env.logs.lock().unwrap()) < 4 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    drop(server);
    let logs = env.logs.lock().unwrap().clone();
    assert_eq!(refusals(&logs), 4, "each refusal is logged:\n{logs}");
    assert!(logs.contains("/api/v1/persons/{id}/status"), "the route template is logged:\n{logs}");
    assert!(!logs.contains(leak), "the path is not logged:\n{}", first_hits(&logs, &[leak.to_owned()]));
}
