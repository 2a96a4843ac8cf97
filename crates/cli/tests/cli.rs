//! The `homeward` binary as a user runs it: real files, a real SQLite
//! database, a real server on loopback.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_homeward");

fn repo_file(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").join(rel)
}

struct Env {
    dir: tempfile::TempDir,
}

impl Env {
    fn new() -> Self {
        Self { dir: tempfile::tempdir().unwrap() }
    }

    fn cmd(&self) -> Command {
        let mut c = Command::new(BIN);
        c.current_dir(self.dir.path())
            .env_remove("HOMEWARD_DATABASE_URL")
            .env_remove("HOMEWARD_CONFIG")
            .env("HOMEWARD_DATA_DIR", self.dir.path().join("data"))
            .env("HOMEWARD_LOG", "info");
        c
    }

    fn run(&self, args: &[&str]) -> Output {
        self.cmd().args(args).output().unwrap()
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(out.status.success(), "{args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    }

    fn init(&self) {
        let setup = repo_file("docs/examples/conflict.toml");
        self.ok(&["init", "--setup", setup.to_str().unwrap()]);
    }

    fn write(&self, name: &str, text: &str) -> String {
        let p = self.dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p.to_str().unwrap().to_owned()
    }
}

#[test]
fn every_command_has_help_with_examples() {
    let env = Env::new();
    for args in [
        &["--help"][..],
        &["init", "--help"],
        &["serve", "--help"],
        &["migrate", "--help"],
        &["person", "add", "--help"],
        &["person", "show", "--help"],
        &["person", "list", "--help"],
        &["status", "add", "--help"],
        &["import", "persons", "--help"],
        &["export", "persons", "--help"],
        &["demo", "--help"],
        &["config", "example", "--help"],
    ] {
        let help = env.ok(args);
        assert!(help.contains("Examples:"), "{args:?} has no examples:\n{help}");
    }
}

#[test]
fn init_import_list_show_status_and_export() {
    let env = Env::new();
    env.init();
    assert!(env.dir.path().join("data/homeward.db").exists());
    let example = repo_file("docs/examples/persons.csv");
    let out = env.ok(&["import", "persons", example.to_str().unwrap(), "--source", "A"]);
    assert!(out.contains("3 new persons"), "{out}");
    let out = env.ok(&["import", "persons", example.to_str().unwrap(), "--source", "A"]);
    assert!(out.contains("0 new persons, 0 amended, 3 unchanged"), "{out}");

    let list = env.ok(&["person", "list", "--status", "held"]);
    let lines: Vec<&str> = list.lines().collect();
    assert_eq!(lines.len(), 1, "{list}");
    assert!(lines[0].contains("Kovalenko Aleksandr"), "{list}");
    let id = lines[0].split_whitespace().next().unwrap().to_owned();

    // Nominated needs held first: allowed. Then repatriated: refused, with the reason.
    env.ok(&["status", "add", &id, "nominated", "--reported-by", "A"]);
    let refused = env.run(&["status", "add", &id, "repatriated", "--reported-by", "A"]);
    assert!(!refused.status.success());
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(err.contains("`repatriated` cannot follow `nominated`"), "{err}");
    assert!(err.contains("repatriation follows a handover"), "{err}");

    let show = env.ok(&["person", "show", &id]);
    assert!(show.contains("identity from A record A-0002 (version 1"), "{show}");
    assert!(show.contains("nominated"), "{show}");
    let json: serde_json::Value = serde_json::from_str(&env.ok(&["person", "show", &id, "--json"])).unwrap();
    assert_eq!(json["timeline"].as_array().unwrap().len(), 2);

    let unknown = env.run(&["person", "show", "0190c6e2-7d1a-7cc0-9a4e-2f1c3b5d6e7f"]);
    assert!(!unknown.status.success());

    let csv = env.ok(&["export", "persons", "--format", "csv"]);
    assert_eq!(csv.lines().count(), 4, "{csv}");
    assert!(csv.starts_with("source,record_id,family_name"), "{csv}");
    let json: serde_json::Value = serde_json::from_str(&env.ok(&["export", "persons", "--format", "json"])).unwrap();
    assert_eq!(json.as_array().unwrap().len(), 3);
}

#[test]
fn a_bad_file_names_file_line_and_field_and_changes_nothing() {
    let env = Env::new();
    env.init();
    let path = env.write(
        "bad.csv",
        "record_id,family_name,given_names,birth_date,power,category,status\n\
         A-1,Коваленко,Олександр,31.02.1998,B,military,held\n\
         A-2,Шевченко,Тарас,,ZZ,military,held\n\
         A-3,Бондар,Іван,,B,military,repatriated\n\
         A-4,Good,Row,,B,military,held\n",
    );
    let report = env.dir.path().join("rejected.csv");
    let out = env.run(&["import", "persons", &path, "--source", "A", "--report", report.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&format!("{path}:2: birth_date: day does not exist")), "{err}");
    assert!(err.contains(&format!("{path}:3: power: unknown party code ZZ")), "{err}");
    assert!(err.contains(&format!("{path}:4: status:")), "{err}");
    assert!(err.contains("nothing imported: 3 of 4 rows rejected"), "{err}");
    assert!(!err.contains("Коваленко") && !err.contains("1998"), "personal values leaked: {err}");
    let report = std::fs::read_to_string(report).unwrap();
    assert_eq!(report.lines().count(), 4, "{report}");
    assert_eq!(env.ok(&["person", "list"]), "", "nothing landed");
}

#[test]
fn settings_file_and_bad_settings() {
    let env = Env::new();
    let example = env.ok(&["config", "example"]);
    assert!(example.contains("data_dir = \"data\""));
    env.write("homeward.toml", "data_directory = \"x\"\n");
    let out = env.cmd().env_remove("HOMEWARD_DATA_DIR").args(["migrate"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("homeward.toml: invalid settings"));
    env.write("homeward.toml", "data_dir = \"elsewhere\"\n");
    let out = env.cmd().env_remove("HOMEWARD_DATA_DIR").args(["migrate"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(env.dir.path().join("elsewhere/homeward.db").exists());
}

/// Kills the server when the test ends, however it ends.
struct Server(Child);
impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start(env: &Env, args: &[&str]) -> (Server, String) {
    let mut child = env.cmd().args(args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    let server = Server(child);
    let mut lines = BufReader::new(stdout).lines();
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        let Some(Ok(line)) = lines.next() else { break };
        if let Some(rest) = line.split("http://").nth(1) {
            let addr = rest.split('/').next().unwrap().to_owned();
            // Keep draining stdout so the server never blocks on a full pipe.
            std::thread::spawn(move || for _ in lines {});
            return (server, addr);
        }
    }
    panic!("the server printed no URL");
}

fn get(addr: &str, path: &str) -> (u16, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).unwrap();
    let status = resp.split_whitespace().nth(1).unwrap().parse().unwrap();
    let body = resp.split_once("\r\n\r\n").map(|(_, b)| b.to_owned()).unwrap_or_default();
    (status, body)
}

#[test]
fn serve_answers_health_readiness_version_and_counts() {
    let env = Env::new();
    env.init();
    env.ok(&["import", "persons", repo_file("docs/examples/persons.csv").to_str().unwrap(), "--source", "A"]);
    let (_server, addr) = start(&env, &["serve", "--listen", "127.0.0.1:0"]);
    assert_eq!(get(&addr, "/healthz"), (200, "ok".into()));
    assert_eq!(get(&addr, "/readyz"), (200, "ready".into()));
    let (status, body) = get(&addr, "/version");
    assert_eq!(status, 200);
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["storage"], "sqlite");
    let (status, body) = get(&addr, "/api/v1/stats");
    assert_eq!(status, 200);
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["persons"], 3);
    assert_eq!(v["by_status"]["held"], 1);
    assert!(!body.contains("Коваленко"));
    assert_eq!(get(&addr, "/nothing-here").0, 404);
}

#[test]
fn demo_loads_histories_with_the_june_19_exchange_and_serves() {
    let env = Env::new();
    let (_server, addr) = start(&env, &["demo", "--persons", "400", "--listen", "127.0.0.1:0"]);
    let (status, body) = get(&addr, "/api/v1/stats");
    assert_eq!(status, 200);
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["persons"], 400, "{body}");
    assert!(
        v["by_status"]["repatriated"].as_u64().unwrap_or(0) + v["by_status"]["family_contacted"].as_u64().unwrap_or(0)
            > 0,
        "{body}"
    );
    drop(_server);
    let list = env.ok(&["person", "list", "--status", "repatriated", "--limit", "1000"]);
    let id = list.lines().next().expect("some repatriated").split_whitespace().next().unwrap().to_owned();
    let show = env.ok(&["person", "show", &id]);
    assert!(show.contains("handed_over"), "{show}");
    let exported = env.ok(&["export", "persons", "--format", "json"]);
    assert!(exported.contains("2026-06-19"), "the June 19 exchange is in the data");
}
