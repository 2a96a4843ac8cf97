//! Who is calling: a web session (cookie) or an API token (Bearer), resolved
//! once per request into a [`CurrentUser`], and the role extractors built on
//! it ([`roles`]). Handlers take a role extractor as an argument, so a handler
//! that compiles has had its caller's role checked: authorisation lives here,
//! not in the handlers.

pub mod cache;
pub mod capabilities;
pub mod login;
pub mod roles;

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use homeward_auth::SecretKind;
use homeward_auth::secrecy::{ExposeSecret, SecretString};
use homeward_domain::Role;
use homeward_store::{TokenId, User};
use serde::Serialize;
use time::{Duration, OffsetDateTime};

use crate::AppState;
use crate::error::AppError;

/// Session and login settings.
#[derive(Debug, Clone)]
pub struct AuthSettings {
    /// homeward is reached over HTTPS (directly or behind a proxy): the
    /// session cookie is `Secure` and named with the `__Host-` prefix, which
    /// browsers accept only from HTTPS, with `Path=/` and no `Domain`.
    pub secure_cookies: bool,
    /// A session ends this long after login, whatever the activity.
    pub session_lifetime: Duration,
    /// A session ends after this long without a request.
    pub session_idle: Duration,
    /// The window in which failed logins are counted.
    pub login_window: Duration,
    /// Failed logins per account in the window before the account is throttled.
    pub max_failures_per_account: u32,
    /// Failed logins per address in the window before the address is throttled.
    pub max_failures_per_address: u32,
    /// Login attempts (of any outcome) per address: a burst, refilled over a minute.
    pub login_attempts_per_minute: u32,
    /// Family-facing searches (filing a tracing request) per account and,
    /// separately, per address: a burst, refilled over an hour.
    pub family_searches_per_hour: u32,
    /// How long a resolved token or session is kept in memory ([`cache`]):
    /// the longest a token revoked, a session ended or a user disabled by
    /// another process (the command line) keeps working on this server.
    pub credential_ttl: std::time::Duration,
}

impl Default for AuthSettings {
    fn default() -> Self {
        Self {
            secure_cookies: false,
            session_lifetime: Duration::hours(12),
            session_idle: Duration::minutes(30),
            login_window: Duration::minutes(15),
            max_failures_per_account: 5,
            max_failures_per_address: 20,
            login_attempts_per_minute: 30,
            family_searches_per_hour: 10,
            credential_ttl: std::time::Duration::from_secs(1),
        }
    }
}

impl AuthSettings {
    pub fn cookie_name(&self) -> &'static str {
        if self.secure_cookies { "__Host-homeward" } else { "homeward_session" }
    }

    /// The `Set-Cookie` value for a new session. HttpOnly: scripts cannot
    /// read it. SameSite=Strict: browsers do not send it on requests started
    /// by another site. No Max-Age: it ends with the browser, and the server
    /// ends it sooner if idle.
    pub fn session_cookie(&self, secret: &SecretString) -> String {
        let secure = if self.secure_cookies { "; Secure" } else { "" };
        format!("{}={}; Path=/; HttpOnly; SameSite=Strict{secure}", self.cookie_name(), secret.expose_secret())
    }

    /// The `Set-Cookie` value that removes the session cookie.
    pub fn expired_cookie(&self) -> String {
        let secure = if self.secure_cookies { "; Secure" } else { "" };
        format!("{}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0{secure}", self.cookie_name())
    }
}

/// How the caller proved who they are.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "via", rename_all = "snake_case")]
pub enum Credential {
    Session,
    ApiToken { token: TokenId },
}

/// The authenticated caller. `role` is what they act as: the user's role for
/// a session, the token's scope for an API token.
#[derive(Debug, Clone)]
pub struct CurrentUser {
    pub user: User,
    pub role: Role,
    pub credential: Credential,
}

/// Sessions touched more recently than this are not written again: a write
/// per request would make every read a write on SQLite's single writer.
const TOUCH_EVERY: Duration = Duration::minutes(1);

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        // Several extractors in one request share one lookup.
        if let Some(found) = parts.extensions.get::<CurrentUser>() {
            return Ok(found.clone());
        }
        let page = wants_html(&parts.headers);
        let found = if let Some(bearer) = bearer(&parts.headers) {
            by_token(state, &bearer).await?
        } else if let Some(secret) = session_cookie(&parts.headers, state.auth.cookie_name()) {
            by_session(state, &secret).await?
        } else {
            None
        };
        let user = found.ok_or(AppError::Unauthenticated { page })?;
        parts.extensions.insert(user.clone());
        Ok(user)
    }
}

async fn by_token(state: &AppState, bearer: &SecretString) -> Result<Option<CurrentUser>, AppError> {
    if !homeward_auth::looks_like(SecretKind::ApiToken, bearer.expose_secret()) {
        return Ok(None);
    }
    let hash = homeward_auth::hash_secret(bearer.expose_secret());
    if let Some(user) = state.credentials.get(&hash) {
        return Ok(Some(user));
    }
    // The store answers only for a live token of an enabled user.
    let Some((token, user)) = state.accounts.token(&hash).await? else {
        return Ok(None);
    };
    let user = CurrentUser { user, role: token.scope, credential: Credential::ApiToken { token: token.id } };
    state.credentials.insert(hash, user.clone(), None);
    Ok(Some(user))
}

async fn by_session(state: &AppState, secret: &SecretString) -> Result<Option<CurrentUser>, AppError> {
    if !homeward_auth::looks_like(SecretKind::Session, secret.expose_secret()) {
        return Ok(None);
    }
    let hash = homeward_auth::hash_secret(secret.expose_secret());
    // A hit skips the touch: the TTL is far below TOUCH_EVERY, so the next
    // miss writes `last_seen` as often as before.
    if let Some(user) = state.credentials.get(&hash) {
        return Ok(Some(user));
    }
    let now = OffsetDateTime::now_utc();
    let Some(session) = state.accounts.session(&hash, now, state.auth.session_idle).await? else {
        return Ok(None);
    };
    if now - session.last_seen > TOUCH_EVERY {
        state.accounts.touch_session(&hash, now).await?;
    }
    let role = session.user.role.clone();
    let ends_in = (session.expires_at - now).try_into().unwrap_or_default();
    let user = CurrentUser { user: session.user, role, credential: Credential::Session };
    state.credentials.insert(hash, user.clone(), Some(ends_in));
    Ok(Some(user))
}

/// A browser navigating (Accept names HTML) gets the login page rather than a 401.
fn wants_html(headers: &HeaderMap) -> bool {
    headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|a| a.contains("text/html"))
}

fn bearer(headers: &HeaderMap) -> Option<SecretString> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| SecretString::from(token.trim().to_owned()))
}

/// The session cookie's value, if the request carries one.
pub(crate) fn session_cookie(headers: &HeaderMap, name: &str) -> Option<SecretString> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| SecretString::from(v.to_owned()))
}

/// The peer's address, for per-address limits. Behind a reverse proxy this
/// is the proxy's: trusting a forwarded header is not configurable yet.
/// `None` when the server was not started with connection info.
#[derive(Debug, Clone, Copy)]
pub struct PeerIp(pub Option<IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for PeerIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(PeerIp(parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|ci| ci.0.ip())))
    }
}
