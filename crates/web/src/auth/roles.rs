//! Role extractors: a handler states who may call it by the type of an
//! argument (`Mediator`, `PartyOfficer`, `AnyStaff`, `Admin`, ...).
//!
//! No login: 401 (or the login page). Logged in with a role that may not use
//! the route: 404, the same answer as a route or record that does not exist,
//! so that a role learns nothing about what it may not see (DESIGN.md:
//! "a record the caller may not see answers not found").

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use homeward_domain::{PartyCode, Role};

use super::CurrentUser;
use crate::AppState;
use crate::error::AppError;

async fn current(parts: &mut Parts, state: &AppState) -> Result<CurrentUser, AppError> {
    CurrentUser::from_request_parts(parts, state).await
}

/// Defines an extractor that holds the [`CurrentUser`] when its role matches `$pattern`.
macro_rules! role_extractor {
    ($(#[$doc:meta])* $name:ident, $pattern:pat) => {
        $(#[$doc])*
        #[derive(Debug, Clone)]
        pub struct $name(pub CurrentUser);

        impl FromRequestParts<AppState> for $name {
            type Rejection = AppError;

            async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
                let user = current(parts, state).await?;
                match user.role {
                    $pattern => Ok($name(user)),
                    _ => Err(AppError::NotFound),
                }
            }
        }
    };
}

role_extractor!(
    /// The neutral mediator: sees every record.
    Mediator,
    Role::Mediator
);
role_extractor!(
    /// A caseworker, at the mediator or at a bureau.
    Caseworker,
    Role::Caseworker { .. }
);
role_extractor!(
    /// A family member (an enquirer).
    Family,
    Role::Family
);
role_extractor!(
    /// An auditor: the public log, no personal data.
    Auditor,
    Role::Auditor
);
role_extractor!(
    /// The deployment's administrator: users, keys, backups; no case data.
    Admin,
    Role::Admin
);
role_extractor!(
    /// Anyone who works on case data: mediator, party officers, caseworkers.
    AnyStaff,
    Role::Mediator | Role::PartyOfficer { .. } | Role::Caseworker { .. }
);

/// A party's officer, with the party: every query a handler makes with it
/// is scoped to that party.
#[derive(Debug, Clone)]
pub struct PartyOfficer {
    pub user: CurrentUser,
    pub party: PartyCode,
}

impl FromRequestParts<AppState> for PartyOfficer {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let user = current(parts, state).await?;
        match user.role.clone() {
            Role::PartyOfficer { party } => Ok(PartyOfficer { user, party }),
            _ => Err(AppError::NotFound),
        }
    }
}
