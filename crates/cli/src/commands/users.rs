//! `homeward user`: accounts and API tokens on the command line, and the
//! demo's logins. Whoever runs these commands can read the database anyway,
//! so they need no login of their own.

use std::io::{BufRead, IsTerminal};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::Subcommand;
use homeward_auth::secrecy::{ExposeSecret, SecretString};
use homeward_domain::{ConflictSetup, PartyCode, PartyKind, Role, RoleKind, Username};
use homeward_store::{AccountStore, NewApiToken, NewUser, StoreError, TokenId, User};
use time::OffsetDateTime;

use crate::backend;
use crate::settings::Settings;

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create a user. The password is asked for (not echoed), or read from stdin.
    #[command(after_help = "Examples:\n  homeward user add mediator1 --role mediator\n  \
                            homeward user add officer-a --role party_officer --party A\n  \
                            homeward user add desk-a --role caseworker --party A   # a caseworker at A's bureau\n  \
                            printf '%s\\n' \"$PASSWORD\" | homeward user add auditor1 --role auditor --password-stdin")]
    Add {
        username: Username,
        /// mediator, party_officer, caseworker, family, auditor or admin.
        #[arg(long)]
        role: RoleKind,
        /// The party of a party officer (one of the conflict's party codes), or
        /// the bureau of a caseworker (none: the mediator's desk).
        #[arg(long)]
        party: Option<PartyCode>,
        /// Read the password from the first line of stdin instead of asking.
        #[arg(long)]
        password_stdin: bool,
    },
    /// List users with their roles.
    #[command(after_help = "Examples:\n  homeward user list\n  homeward user list --json")]
    List {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Disable a user: they cannot log in, their sessions end, their tokens stop working.
    #[command(after_help = "Examples:\n  homeward user disable officer-a")]
    Disable { username: Username },
    /// Create an API token for a user and print it once (it is stored hashed).
    #[command(after_help = "Examples:\n  homeward user token officer-a --name \"bureau sync\"\n  \
                            homeward user token officer-a --name \"read the log\" --scope auditor")]
    Token {
        username: Username,
        /// What the token is for, shown in listings.
        #[arg(long)]
        name: String,
        /// Act as a narrower role: the user's own (default) or auditor.
        #[arg(long)]
        scope: Option<RoleKind>,
    },
    /// List a user's API tokens (ids and names, never the secrets).
    #[command(after_help = "Examples:\n  homeward user tokens officer-a")]
    Tokens { username: Username },
    /// Revoke an API token by its id (from `user tokens`).
    #[command(after_help = "Examples:\n  homeward user revoke-token 0190c6e2-7d1a-7cc0-9a4e-2f1c3b5d6e7f")]
    RevokeToken { id: TokenId },
}

pub async fn run(command: Command, settings: &Settings) -> anyhow::Result<ExitCode> {
    let (_, accounts) = backend::open_with_accounts(settings).await?;
    match command {
        Command::Add { username, role, party, password_stdin } => {
            let role = Role::new(role, party)?;
            let password = read_new_password(password_stdin)?;
            let user = add_user(accounts.as_ref(), username, role, password).await?;
            println!("created user {} ({})", user.username, user.role);
        }
        Command::List { json } => {
            let users = accounts.list_users().await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&users)?);
            } else {
                println!("{:<24} {:<20} {:<8} created", "username", "role", "state");
                for u in users {
                    let state = if u.disabled { "disabled" } else { "active" };
                    println!(
                        "{:<24} {:<20} {state:<8} {}",
                        u.username.as_str(),
                        u.role.to_string(),
                        u.created_at.date()
                    );
                }
            }
        }
        Command::Disable { username } => {
            let user = accounts.disable_user(&username).await.map_err(|e| not_found_user(e, &username))?;
            println!("disabled {}: sessions ended, tokens no longer accepted", user.username);
        }
        Command::Token { username, name, scope } => {
            let user = find_user(accounts.as_ref(), &username).await?;
            let scope = match scope {
                None => user.role.clone(),
                Some(k) if k == user.role.kind() => user.role.clone(),
                Some(k) => Role::new(k, None)?,
            };
            let (secret, hash) = homeward_auth::new_secret(homeward_auth::SecretKind::ApiToken)?;
            let token = accounts
                .create_token(NewApiToken { hash, name, user: user.id, scope, created_at: OffsetDateTime::now_utc() })
                .await?;
            eprintln!("token {} for {} as {}; it is shown once, keep it now:", token.id, user.username, token.scope);
            println!("{}", secret.expose_secret());
        }
        Command::Tokens { username } => {
            let user = find_user(accounts.as_ref(), &username).await?;
            for t in accounts.list_tokens(user.id).await? {
                let state = t.revoked_at.map_or("active".to_owned(), |at| format!("revoked {}", at.date()));
                println!("{}  {:<20} {:<16} {}", t.id, t.scope.to_string(), state, t.name);
            }
        }
        Command::RevokeToken { id } => {
            let token = accounts.revoke_token(id, OffsetDateTime::now_utc()).await.map_err(|e| match e {
                StoreError::NotFound(_) => anyhow::anyhow!("no API token has the id {id}"),
                other => other.into(),
            })?;
            println!("revoked token {} ({})", token.id, token.name);
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn not_found_user(e: StoreError, username: &Username) -> anyhow::Error {
    match e {
        StoreError::NotFound(_) => anyhow::anyhow!("no user is called {username}"),
        other => other.into(),
    }
}

async fn find_user(accounts: &dyn AccountStore, username: &Username) -> anyhow::Result<User> {
    let creds = accounts.user_credentials(username).await?;
    creds.map(|c| c.user).with_context(|| format!("no user is called {username}"))
}

fn read_new_password(from_stdin: bool) -> anyhow::Result<SecretString> {
    let password = if from_stdin || !std::io::stdin().is_terminal() {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line).context("cannot read the password from stdin")?;
        SecretString::from(line.trim_end_matches(['\r', '\n']).to_owned())
    } else {
        let first = SecretString::from(rpassword::prompt_password("Password: ").context("cannot read the password")?);
        let again = SecretString::from(rpassword::prompt_password("Again: ").context("cannot read the password")?);
        anyhow::ensure!(first.expose_secret() == again.expose_secret(), "the two passwords differ");
        first
    };
    homeward_auth::check_new_password(&password)?;
    Ok(password)
}

/// Hashes the password (off the async threads: it takes tens of
/// milliseconds on purpose) and creates the user.
pub async fn add_user(
    accounts: &dyn AccountStore,
    username: Username,
    role: Role,
    password: SecretString,
) -> anyhow::Result<User> {
    let password_hash = tokio::task::spawn_blocking(move || homeward_auth::hash_password(&password)).await??;
    let user = accounts
        .create_user(NewUser { username: username.clone(), role, password_hash, created_at: OffsetDateTime::now_utc() })
        .await
        .map_err(|e| match e {
            StoreError::Refused(homeward_store::Refusal::UsernameTaken) => {
                anyhow::anyhow!("the username {username} is taken")
            }
            other => other.into(),
        })?;
    Ok(user)
}

/// One demo login, printed by `homeward demo`.
#[derive(Debug)]
pub struct DemoLogin {
    pub username: String,
    pub role: String,
    /// `None` when the accounts were made earlier and their passwords are not on file.
    pub password: Option<SecretString>,
}

const DEMO_LOGINS_FILE: &str = "demo-logins.txt";

/// Creates one user per role (an officer for each party) with random
/// passwords, and keeps the logins in `demo-logins.txt` in the data folder
/// (readable by its owner only) so that a second `homeward demo` can print
/// them again. Demo accounts are only ever made by `homeward demo`.
pub async fn demo_logins(
    accounts: &dyn AccountStore,
    setup: &ConflictSetup,
    data_dir: &Path,
) -> anyhow::Result<Vec<DemoLogin>> {
    let file = data_dir.join(DEMO_LOGINS_FILE);
    let existing = accounts.list_users().await?;
    if !existing.is_empty() {
        let saved = read_logins(&file).unwrap_or_default();
        return Ok(existing
            .into_iter()
            .map(|u| DemoLogin {
                password: saved.iter().find(|(n, _)| n == u.username.as_str()).map(|(_, p)| p.clone()),
                username: u.username.to_string(),
                role: u.role.to_string(),
            })
            .collect());
    }
    let mut roles = vec![("mediator".to_owned(), Role::Mediator)];
    for p in setup.parties.iter().filter(|p| p.kind == PartyKind::Party) {
        let name = format!("officer-{}", p.code.as_str().to_ascii_lowercase());
        roles.push((name, Role::PartyOfficer { party: p.code.clone() }));
    }
    roles.extend([
        ("caseworker".to_owned(), Role::Caseworker { bureau: None }),
        ("family".to_owned(), Role::Family),
        ("auditor".to_owned(), Role::Auditor),
        ("admin".to_owned(), Role::Admin),
    ]);
    let mut logins = Vec::new();
    for (name, role) in roles {
        let password = homeward_auth::random_password()?;
        let username = Username::parse(&name)?;
        add_user(accounts, username, role.clone(), password.clone()).await?;
        logins.push(DemoLogin { username: name, role: role.to_string(), password: Some(password) });
    }
    std::fs::create_dir_all(data_dir).with_context(|| format!("cannot create {}", data_dir.display()))?;
    write_logins(&file, &logins).with_context(|| format!("cannot write {}", file.display()))?;
    Ok(logins)
}

fn read_logins(path: &PathBuf) -> Option<Vec<(String, SecretString)>> {
    let text = std::fs::read_to_string(path).ok()?;
    Some(
        text.lines()
            .filter(|l| !l.starts_with('#'))
            .filter_map(|l| l.split_once('\t'))
            .map(|(n, p)| (n.to_owned(), SecretString::from(p.to_owned())))
            .collect(),
    )
}

fn write_logins(path: &PathBuf, logins: &[DemoLogin]) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut f = options.open(path)?;
    writeln!(f, "# homeward demo logins: username<TAB>password. Demo data only.")?;
    for l in logins {
        if let Some(p) = &l.password {
            writeln!(f, "{}\t{}", l.username, p.expose_secret())?;
        }
    }
    Ok(())
}
