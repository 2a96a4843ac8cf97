//! Registry capabilities as extractors: each resolves the caller (401 when
//! there is none) and asks the service for the capability
//! ([`homeward_service::registry`]), answering 404 when the role has none.
//! Handlers take these, never a role, for person data: the rule of who sees
//! what lives in the service, once.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use homeward_service::registry::{Accessor, Reader, Registrar, Reporter, Searcher};

use super::CurrentUser;
use crate::AppState;
use crate::error::AppError;

/// The caller and its right to read persons.
#[derive(Debug, Clone)]
pub struct CanRead {
    pub user: CurrentUser,
    pub reader: Reader,
}

impl CanRead {
    /// Who is reading, through which route, for the access log.
    pub fn accessor(&self, endpoint: &'static str) -> Accessor {
        accessor(&self.user, endpoint)
    }
}

pub(crate) fn accessor(user: &CurrentUser, endpoint: &'static str) -> Accessor {
    Accessor { user: user.user.id, role: user.role.to_string(), endpoint }
}

impl FromRequestParts<AppState> for CanRead {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let user = CurrentUser::from_request_parts(parts, state).await?;
        let reader = Reader::for_role(&user.role).ok_or(AppError::NotFound)?;
        Ok(Self { user, reader })
    }
}

/// The caller and its right to register persons as its party.
#[derive(Debug, Clone)]
pub struct CanRegister {
    pub user: CurrentUser,
    pub registrar: Registrar,
}

impl FromRequestParts<AppState> for CanRegister {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let user = CurrentUser::from_request_parts(parts, state).await?;
        let registrar = Registrar::for_role(&user.role).ok_or(AppError::NotFound)?;
        Ok(Self { user, registrar })
    }
}

/// The caller and its right to report status events on the persons it sees.
#[derive(Debug, Clone)]
pub struct CanReport {
    pub user: CurrentUser,
    pub reporter: Reporter,
}

impl FromRequestParts<AppState> for CanReport {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let user = CurrentUser::from_request_parts(parts, state).await?;
        // Only the mediator needs the setup (its party code); officers carry theirs.
        let setup = match user.role {
            homeward_domain::Role::Mediator => state.store.conflict().await?,
            _ => None,
        };
        let reporter = Reporter::for_role(&user.role, setup.as_ref()).ok_or(AppError::NotFound)?;
        Ok(Self { user, reporter })
    }
}

/// The caller and its right to search the registry for candidates.
#[derive(Debug, Clone)]
pub struct CanSearch {
    pub user: CurrentUser,
    pub searcher: Searcher,
}

impl CanSearch {
    pub fn accessor(&self, endpoint: &'static str) -> Accessor {
        accessor(&self.user, endpoint)
    }
}

impl FromRequestParts<AppState> for CanSearch {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let user = CurrentUser::from_request_parts(parts, state).await?;
        let searcher = Searcher::for_role(&user.role).ok_or(AppError::NotFound)?;
        Ok(Self { user, searcher })
    }
}

/// The caller and what it may do with tracing requests.
#[derive(Debug, Clone)]
pub struct CanTrace {
    pub user: CurrentUser,
    pub access: homeward_service::requests::TracingAccess,
}

impl FromRequestParts<AppState> for CanTrace {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let user = CurrentUser::from_request_parts(parts, state).await?;
        let access =
            homeward_service::requests::TracingAccess::for_role(&user.role, user.user.id).ok_or(AppError::NotFound)?;
        Ok(Self { user, access })
    }
}
