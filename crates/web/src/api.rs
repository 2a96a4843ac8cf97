//! `/api/v1` endpoints about accounts. Each handler names who may call it by
//! its role extractor and does one store call.

use axum::Json;
use axum::extract::State;
use homeward_store::User;
use serde::Serialize;

use crate::AppState;
use crate::auth::roles::Admin;
use crate::auth::{Credential, CurrentUser};
use crate::error::AppError;

#[derive(Debug, Serialize)]
pub struct Me {
    pub username: String,
    /// What the caller acts as: the user's role, or an API token's scope.
    #[serde(flatten)]
    pub role: homeward_domain::Role,
    pub credential: Credential,
}

/// Who the caller is, for any authenticated caller.
pub async fn me(user: CurrentUser) -> Json<Me> {
    Json(Me { username: user.user.username.to_string(), role: user.role, credential: user.credential })
}

/// Every account: for the administrator only.
pub async fn users(_: Admin, State(state): State<AppState>) -> Result<Json<Vec<User>>, AppError> {
    Ok(Json(state.accounts.list_users().await?))
}
