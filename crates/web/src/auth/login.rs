//! Logging in and out with the form, and the login throttle.
//!
//! Two limits stand in front of the password check, each answering 429 with
//! Retry-After:
//! - failed logins, counted in the store per account and per address over
//!   `login_window` (durable across restarts, shared by every server on one
//!   database): a guessing attack on one account, or from one address, stops
//!   after a handful of tries, and a correct password does not get through
//!   while the limit holds;
//! - attempts of any outcome per address, in memory ([`crate::ratelimit`]),
//!   so that no client can make the server spend unbounded time on Argon2.
//!
//! Known trade-off: the per-account limit lets anyone hold an account's
//! login shut for the window by failing on purpose; sessions already open
//! are not affected, and the window is short.

use axum::extract::rejection::FormRejection;
use axum::extract::{Form, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use homeward_auth::SecretKind;
use homeward_auth::secrecy::SecretString;
use homeward_domain::Username;
use homeward_store::{LoginFailures, NewSession};
use serde::Deserialize;
use time::OffsetDateTime;

use super::{PeerIp, session_cookie};
use crate::AppState;
use crate::error::AppError;
use crate::pages::LoginPage;
use crate::ratelimit::retry_after_secs;

/// The login form's fields. Debug shows neither: a password typed into the
/// username field is as secret as the password.
#[derive(Deserialize)]
pub struct LoginForm {
    username: String,
    password: String,
}

impl std::fmt::Debug for LoginForm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginForm").finish_non_exhaustive()
    }
}

const WRONG: &str = "The username or the password is wrong.";

pub async fn login(
    State(state): State<AppState>,
    PeerIp(ip): PeerIp,
    headers: HeaderMap,
    form: Result<Form<LoginForm>, FormRejection>,
) -> Result<Response, AppError> {
    let Form(form) = form.map_err(|_| AppError::BadRequest("the login form needs a username and a password"))?;
    let password = SecretString::from(form.password);
    let typed = form.username.trim().to_ascii_lowercase();
    let address = ip.map_or_else(|| "unknown".to_owned(), |ip| ip.to_string());

    if let Err(wait) = state.login_attempts.check(&address) {
        return Err(AppError::TooManyRequests { retry_after: retry_after_secs(wait) });
    }
    let now = OffsetDateTime::now_utc();
    let settings = &state.auth;
    let account_key = homeward_auth::throttle_key("account", &typed);
    let address_key = homeward_auth::throttle_key("address", &address);
    let since = now - settings.login_window;
    let wait = |f: LoginFailures, max: u32| {
        (f.count >= max).then(|| f.oldest.map_or(settings.login_window, |o| o + settings.login_window - now))
    };
    let by_account = wait(state.accounts.login_failures(&account_key, since).await?, settings.max_failures_per_account);
    let by_address = wait(state.accounts.login_failures(&address_key, since).await?, settings.max_failures_per_address);
    if let Some(wait) = by_account.into_iter().chain(by_address).max() {
        tracing::info!("login throttled");
        let secs = u64::try_from(wait.whole_seconds()).unwrap_or(0) + 1;
        return Err(AppError::TooManyRequests { retry_after: secs });
    }

    let credentials = match Username::parse(&typed) {
        Ok(username) => state.accounts.user_credentials(&username).await?,
        Err(_) => None,
    };
    let phc = credentials.as_ref().map(|c| c.password_hash.clone());
    // Argon2 takes tens of milliseconds on purpose: off the async threads.
    let matches =
        tokio::task::spawn_blocking(move || homeward_auth::verify_password(&password, phc.as_deref())).await?;
    let user = match credentials {
        Some(c) if matches && !c.user.disabled => c.user,
        _ => {
            state.accounts.record_login_failure(&[account_key, address_key], now, since).await?;
            tracing::info!("login failed");
            let page = LoginPage { username: typed, error: Some(WRONG) };
            return Ok((StatusCode::UNAUTHORIZED, page).into_response());
        }
    };

    state.accounts.clear_login_failures(&account_key).await?;
    // A session that existed before login is ended, never promoted (session fixation).
    if let Some(old) = session_cookie(&headers, settings.cookie_name()) {
        use homeward_auth::secrecy::ExposeSecret;
        let old = homeward_auth::hash_secret(old.expose_secret());
        state.accounts.delete_session(&old).await?;
        state.credentials.forget(&old);
    }
    let (secret, hash) = homeward_auth::new_secret(SecretKind::Session)
        .map_err(|e| AppError::Internal(format!("session secret: {e}")))?;
    state
        .accounts
        .create_session(NewSession {
            hash,
            user: user.id,
            created_at: now,
            expires_at: now + settings.session_lifetime,
        })
        .await?;
    tracing::info!(user.id = %user.id, "logged in");
    Ok((
        [(header::SET_COOKIE, settings.session_cookie(&secret)), (header::CACHE_CONTROL, "no-store".to_owned())],
        Redirect::to("/home"),
    )
        .into_response())
}

/// Ends the session (if any) and removes the cookie. POST only, so the CSRF
/// layer guards it: a cross-site page cannot log a user out.
pub async fn logout(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, AppError> {
    if let Some(secret) = session_cookie(&headers, state.auth.cookie_name()) {
        use homeward_auth::secrecy::ExposeSecret;
        let hash = homeward_auth::hash_secret(secret.expose_secret());
        state.accounts.delete_session(&hash).await?;
        // Ended here: ended now, not when the cached entry expires.
        state.credentials.forget(&hash);
    }
    Ok(([(header::SET_COOKIE, state.auth.expired_cookie())], Redirect::to("/login")).into_response())
}
