//! `homeward user` and the demo's logins, as a user runs them.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_homeward");

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
            .env("HOMEWARD_LOG", "warn");
        c
    }

    fn run_with_stdin(&self, args: &[&str], stdin: &str) -> Output {
        let mut child =
            self.cmd().args(args).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
        child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
        child.wait_with_output().unwrap()
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.run_with_stdin(args, "");
        assert!(out.status.success(), "{args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    }

    fn fails(&self, args: &[&str], stdin: &str) -> String {
        let out = self.run_with_stdin(args, stdin);
        assert!(!out.status.success(), "{args:?} should fail");
        String::from_utf8(out.stderr).unwrap()
    }

    fn init(&self) {
        let setup = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/examples/conflict.toml");
        self.ok(&["init", "--setup", setup.to_str().unwrap()]);
    }
}

#[test]
fn every_user_command_has_help_with_examples() {
    let env = Env::new();
    for sub in ["add", "list", "disable", "token", "tokens", "revoke-token"] {
        let help = env.ok(&["user", sub, "--help"]);
        assert!(help.contains("Examples:"), "user {sub} has no examples:\n{help}");
    }
}

#[test]
fn add_list_token_revoke_and_disable() {
    let env = Env::new();
    env.init();
    let out = env.run_with_stdin(
        &["user", "add", "officer-a", "--role", "party_officer", "--party", "A", "--password-stdin"],
        "a long enough password\n",
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(env.fails(&["user", "add", "x-admin", "--role", "admin", "--password-stdin"], "short\n").contains("12"));
    assert!(
        env.fails(&["user", "add", "officer-a", "--role", "admin", "--password-stdin"], "a long enough password\n")
            .contains("taken")
    );
    assert!(
        env.fails(
            &["user", "add", "officer-z", "--role", "party_officer", "--party", "Z", "--password-stdin"],
            "a long enough password\n"
        )
        .contains("unknown party code Z")
    );

    let list: serde_json::Value = serde_json::from_str(&env.ok(&["user", "list", "--json"])).unwrap();
    assert_eq!(list[0]["username"], "officer-a");
    assert_eq!(list[0]["role"], "party_officer");
    assert_eq!(list[0]["party"], "A");
    assert!(list[0].get("password_hash").is_none());

    let token = env.ok(&["user", "token", "officer-a", "--name", "sync"]);
    assert!(token.trim().starts_with("hwt_"), "{token}");
    assert!(env.fails(&["user", "token", "officer-a", "--name", "x", "--scope", "mediator"], "").contains("auditor"));
    let tokens = env.ok(&["user", "tokens", "officer-a"]);
    assert!(!tokens.contains(token.trim()), "the secret is shown once only");
    let id = tokens.split_whitespace().next().unwrap().to_owned();
    assert!(env.ok(&["user", "revoke-token", &id]).contains("revoked"));
    assert!(env.ok(&["user", "tokens", "officer-a"]).contains("revoked"));

    assert!(env.ok(&["user", "disable", "officer-a"]).contains("disabled"));
    assert!(env.ok(&["user", "list"]).contains("disabled"));
    assert!(env.fails(&["user", "disable", "nobody"], "").contains("no user"));
}

#[test]
fn demo_creates_one_login_per_role_and_prints_them_again() {
    let env = Env::new();
    let first = env.ok(&["demo", "--no-serve", "--persons", "20"]);
    for name in ["mediator", "officer-a", "officer-b", "caseworker", "family", "auditor", "admin"] {
        assert!(first.lines().any(|l| l.trim_start().starts_with(name)), "{name} missing:\n{first}");
    }
    let users: serde_json::Value = serde_json::from_str(&env.ok(&["user", "list", "--json"])).unwrap();
    assert_eq!(users.as_array().unwrap().len(), 7);
    let again = env.ok(&["demo", "--no-serve", "--persons", "20"]);
    let logins = |s: &str| s.lines().filter(|l| l.contains("officer-a ")).map(str::to_owned).collect::<Vec<_>>();
    assert_eq!(logins(&first), logins(&again), "the same passwords, read back from the data folder");
    assert!(!again.contains("not on file"));

    // Random per data folder.
    let other = Env::new();
    let third = other.ok(&["demo", "--no-serve", "--persons", "20"]);
    assert_ne!(logins(&first), logins(&third));
}
