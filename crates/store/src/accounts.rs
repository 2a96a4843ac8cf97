//! Accounts: users, web sessions, API tokens and failed logins.
//!
//! A separate trait from [`crate::Store`] because accounts are not case data:
//! they are written by the web layer and the `homeward user` commands, and
//! never enter the shared log. Both backends implement both traits on the
//! same connection pool.
//!
//! Secrets never reach the store in clear: sessions and tokens are looked up
//! by the SHA-256 of the random value the client holds ([`SecretHash`]), and
//! passwords arrive as Argon2id PHC strings. Times are passed in by the
//! caller, so expiry is testable and both backends agree on "now".

use std::fmt;

use homeward_domain::{Role, Username};
use serde::Serialize;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::StoreError;

/// A user's id: UUID v7.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct UserId(pub Uuid);

/// An API token's id: shown in listings and used to revoke it; it is not the secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct TokenId(pub Uuid);

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl fmt::Display for TokenId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl std::str::FromStr for TokenId {
    type Err = uuid::Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Uuid::parse_str(s.trim()).map(TokenId)
    }
}

/// The hash of a session or token secret (in the domain crate, which the
/// password and token crate shares without depending on the store).
pub use homeward_domain::SecretHash;

/// An account as everyone but the password check sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct User {
    pub id: UserId,
    pub username: Username,
    #[serde(flatten)]
    pub role: Role,
    pub disabled: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// An account with its password hash, for the login check only.
#[derive(Clone)]
pub struct UserCredentials {
    pub user: User,
    /// Argon2id PHC string.
    pub password_hash: String,
}

impl fmt::Debug for UserCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UserCredentials").field("user", &self.user).finish_non_exhaustive()
    }
}

/// A user to create.
#[derive(Clone)]
pub struct NewUser {
    pub username: Username,
    pub role: Role,
    /// Argon2id PHC string.
    pub password_hash: String,
    pub created_at: OffsetDateTime,
}

impl fmt::Debug for NewUser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewUser").field("username", &self.username).field("role", &self.role).finish_non_exhaustive()
    }
}

/// A web session to create.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub hash: SecretHash,
    pub user: UserId,
    pub created_at: OffsetDateTime,
    /// Absolute end, whatever the activity.
    pub expires_at: OffsetDateTime,
}

/// A live session with its user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub user: User,
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    pub last_seen: OffsetDateTime,
}

/// An API token to create.
#[derive(Debug, Clone)]
pub struct NewApiToken {
    pub hash: SecretHash,
    pub name: String,
    pub user: UserId,
    /// The role the token acts as: its user's, or a narrower one.
    pub scope: Role,
    pub created_at: OffsetDateTime,
}

/// An API token as listings show it (never the secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApiToken {
    pub id: TokenId,
    pub name: String,
    pub user: UserId,
    pub scope: Role,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub revoked_at: Option<OffsetDateTime>,
}

/// The recent failed logins under one throttling key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LoginFailures {
    pub count: u32,
    /// The oldest failure still inside the window: the key is free again
    /// once it leaves the window.
    pub oldest: Option<OffsetDateTime>,
}

/// Accounts. Every method is atomic.
#[async_trait::async_trait]
pub trait AccountStore: Send + Sync + fmt::Debug {
    /// Creates a user; a taken username is [`crate::Refusal::UsernameTaken`].
    async fn create_user(&self, new: NewUser) -> Result<User, StoreError>;

    /// A user with the password hash, for the login check. Disabled users are
    /// returned too (flagged), so the caller spends the same time on them.
    async fn user_credentials(&self, username: &Username) -> Result<Option<UserCredentials>, StoreError>;

    /// Every user, by username.
    async fn list_users(&self) -> Result<Vec<User>, StoreError>;

    /// Disables a user and ends their sessions in the same transaction; their
    /// tokens stop working because lookups check the user. Idempotent.
    async fn disable_user(&self, username: &Username) -> Result<User, StoreError>;

    async fn create_session(&self, new: NewSession) -> Result<(), StoreError>;

    /// The session whose secret hashes to `hash`, if it is live at `now`:
    /// not expired, not idle for longer than `idle`, its user not disabled.
    async fn session(
        &self,
        hash: &SecretHash,
        now: OffsetDateTime,
        idle: time::Duration,
    ) -> Result<Option<Session>, StoreError>;

    /// Records activity (callers do this at most every minute or so, to
    /// spare the writer).
    async fn touch_session(&self, hash: &SecretHash, now: OffsetDateTime) -> Result<(), StoreError>;

    /// Ends a session (logout). Ending one that does not exist is not an error.
    async fn delete_session(&self, hash: &SecretHash) -> Result<(), StoreError>;

    /// Creates an API token. A scope the user's role may not delegate is
    /// [`crate::Refusal::TokenScope`].
    async fn create_token(&self, new: NewApiToken) -> Result<ApiToken, StoreError>;

    /// A user's tokens, revoked ones included, oldest first.
    async fn list_tokens(&self, user: UserId) -> Result<Vec<ApiToken>, StoreError>;

    /// Revokes a token; an unknown id is [`StoreError::NotFound`]. Revoking
    /// twice keeps the first time.
    async fn revoke_token(&self, id: TokenId, now: OffsetDateTime) -> Result<ApiToken, StoreError>;

    /// The token and its user, if the token is not revoked and the user not disabled.
    async fn token(&self, hash: &SecretHash) -> Result<Option<(ApiToken, User)>, StoreError>;

    /// Records a failed login under each key (e.g. the account and the
    /// address, both hashed by the caller) and forgets failures older than
    /// `forget_before`.
    async fn record_login_failure(
        &self,
        keys: &[SecretHash],
        at: OffsetDateTime,
        forget_before: OffsetDateTime,
    ) -> Result<(), StoreError>;

    /// Failures under `key` since `since`.
    async fn login_failures(&self, key: &SecretHash, since: OffsetDateTime) -> Result<LoginFailures, StoreError>;

    /// Forgets the failures under `key` (after a successful login).
    async fn clear_login_failures(&self, key: &SecretHash) -> Result<(), StoreError>;
}

/// Millisecond precision, as both backends keep it.
pub fn truncate_to_millis(t: OffsetDateTime) -> OffsetDateTime {
    t.replace_nanosecond(t.millisecond() as u32 * 1_000_000).expect("valid nanosecond")
}
