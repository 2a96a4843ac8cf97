//! [`AccountStore`] on PostgreSQL, on the registry's pool.

use async_trait::async_trait;
use homeward_domain::{PartyCode, Role, RoleKind, Username};
use homeward_store::{
    AccountStore, ApiToken, LoginFailures, NewApiToken, NewSession, NewUser, Refusal, SecretHash, Session, StoreError,
    TokenId, User, UserCredentials, UserId, truncate_to_millis,
};
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Row};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{PgStore, backend_error};

macro_rules! user_columns {
    () => {
        "a.id, a.username, a.role, a.party, a.disabled, a.created_at"
    };
}

macro_rules! token_columns {
    () => {
        "t.id, t.name, t.account_id, t.scope_role, t.scope_party, t.created_at, t.revoked_at"
    };
}

fn corrupt(what: &str) -> StoreError {
    StoreError::Backend(format!("stored {what} does not parse"))
}

fn get<'r, T: sqlx::Decode<'r, sqlx::Postgres> + sqlx::Type<sqlx::Postgres>>(
    r: &'r PgRow,
    i: usize,
) -> Result<T, StoreError> {
    r.try_get(i).map_err(backend_error)
}

fn role(kind: String, party: Option<String>) -> Result<Role, StoreError> {
    let kind: RoleKind = kind.parse().map_err(|_| corrupt("role"))?;
    let party = party.map(|p| PartyCode::parse(&p)).transpose().map_err(|_| corrupt("party code"))?;
    Role::new(kind, party).map_err(|_| corrupt("role"))
}

fn role_columns(role: &Role) -> (&'static str, Option<&str>) {
    (role.kind().as_str(), role.party().map(PartyCode::as_str))
}

/// Reads the six `user_columns!()` starting at column `at`.
fn user(r: &PgRow, at: usize) -> Result<User, StoreError> {
    Ok(User {
        id: UserId(get(r, at)?),
        username: Username::parse(&get::<String>(r, at + 1)?).map_err(|_| corrupt("username"))?,
        role: role(get(r, at + 2)?, get(r, at + 3)?)?,
        disabled: get(r, at + 4)?,
        created_at: get(r, at + 5)?,
    })
}

fn token(r: &PgRow) -> Result<ApiToken, StoreError> {
    Ok(ApiToken {
        id: TokenId(get(r, 0)?),
        name: get(r, 1)?,
        user: UserId(get(r, 2)?),
        scope: role(get(r, 3)?, get(r, 4)?)?,
        created_at: get(r, 5)?,
        revoked_at: get(r, 6)?,
    })
}

fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.code().as_deref() == Some("23505"))
}

/// A party officer's party must be one of the conflict's parties.
async fn check_party(c: &mut PgConnection, role: &Role) -> Result<(), StoreError> {
    let Some(party) = role.party() else { return Ok(()) };
    let parties = crate::party_codes(c).await?;
    if parties.is_empty() {
        return Err(StoreError::NoConflict);
    }
    if !parties.contains(party.as_str()) {
        return Err(StoreError::UnknownParty { field: "party", code: party.to_string() });
    }
    Ok(())
}

async fn user_by_id(c: &mut PgConnection, id: UserId) -> Result<Option<User>, StoreError> {
    let row = sqlx::query(concat!("SELECT ", user_columns!(), " FROM account a WHERE a.id = $1"))
        .bind(id.0)
        .fetch_optional(&mut *c)
        .await
        .map_err(backend_error)?;
    row.map(|r| user(&r, 0)).transpose()
}

async fn token_by_id(c: &mut PgConnection, id: TokenId) -> Result<Option<ApiToken>, StoreError> {
    let row = sqlx::query(concat!("SELECT ", token_columns!(), " FROM api_token t WHERE t.id = $1"))
        .bind(id.0)
        .fetch_optional(&mut *c)
        .await
        .map_err(backend_error)?;
    row.map(|r| token(&r)).transpose()
}

#[async_trait]
impl AccountStore for PgStore {
    async fn create_user(&self, new: NewUser) -> Result<User, StoreError> {
        let mut tx = self.pool().begin().await.map_err(backend_error)?;
        check_party(&mut tx, &new.role).await?;
        let id = UserId(Uuid::now_v7());
        let (kind, party) = role_columns(&new.role);
        let inserted = sqlx::query(
            "INSERT INTO account (id, username, role, party, password_hash, disabled, created_at)
             VALUES ($1, $2, $3, $4, $5, FALSE, $6) ON CONFLICT (username) DO NOTHING",
        )
        .bind(id.0)
        .bind(new.username.as_str())
        .bind(kind)
        .bind(party)
        .bind(&new.password_hash)
        .bind(truncate_to_millis(new.created_at))
        .execute(&mut *tx)
        .await
        .map_err(backend_error)?;
        if inserted.rows_affected() == 0 {
            return Err(Refusal::UsernameTaken.into());
        }
        let user = user_by_id(&mut tx, id).await?.ok_or(StoreError::NotFound("user"))?;
        tx.commit().await.map_err(backend_error)?;
        Ok(user)
    }

    async fn user_credentials(&self, username: &Username) -> Result<Option<UserCredentials>, StoreError> {
        let row =
            sqlx::query(concat!("SELECT ", user_columns!(), ", a.password_hash FROM account a WHERE a.username = $1"))
                .bind(username.as_str())
                .fetch_optional(self.pool())
                .await
                .map_err(backend_error)?;
        row.map(|r| Ok(UserCredentials { user: user(&r, 0)?, password_hash: get(&r, 6)? })).transpose()
    }

    async fn list_users(&self) -> Result<Vec<User>, StoreError> {
        let rows = sqlx::query(concat!("SELECT ", user_columns!(), " FROM account a ORDER BY a.username"))
            .fetch_all(self.pool())
            .await
            .map_err(backend_error)?;
        rows.iter().map(|r| user(r, 0)).collect()
    }

    async fn disable_user(&self, username: &Username) -> Result<User, StoreError> {
        let mut tx = self.pool().begin().await.map_err(backend_error)?;
        let id: Option<Uuid> =
            sqlx::query_scalar("UPDATE account SET disabled = TRUE WHERE username = $1 RETURNING id")
                .bind(username.as_str())
                .fetch_optional(&mut *tx)
                .await
                .map_err(backend_error)?;
        let id = UserId(id.ok_or(StoreError::NotFound("user"))?);
        sqlx::query("DELETE FROM account_session WHERE account_id = $1")
            .bind(id.0)
            .execute(&mut *tx)
            .await
            .map_err(backend_error)?;
        let user = user_by_id(&mut tx, id).await?.ok_or(StoreError::NotFound("user"))?;
        tx.commit().await.map_err(backend_error)?;
        Ok(user)
    }

    async fn create_session(&self, new: NewSession) -> Result<(), StoreError> {
        let mut tx = self.pool().begin().await.map_err(backend_error)?;
        // Expired sessions are swept here: logins are rare enough, and the
        // index on expires_at keeps it cheap.
        sqlx::query("DELETE FROM account_session WHERE expires_at <= $1")
            .bind(truncate_to_millis(new.created_at))
            .execute(&mut *tx)
            .await
            .map_err(backend_error)?;
        sqlx::query(
            "INSERT INTO account_session (token_hash, account_id, created_at, expires_at, last_seen)
             VALUES ($1, $2, $3, $4, $3)",
        )
        .bind(&new.hash.0[..])
        .bind(new.user.0)
        .bind(truncate_to_millis(new.created_at))
        .bind(truncate_to_millis(new.expires_at))
        .execute(&mut *tx)
        .await
        .map_err(backend_error)?;
        tx.commit().await.map_err(backend_error)
    }

    async fn session(
        &self,
        hash: &SecretHash,
        now: OffsetDateTime,
        idle: time::Duration,
    ) -> Result<Option<Session>, StoreError> {
        let row = sqlx::query(concat!(
            "SELECT ",
            user_columns!(),
            ", s.created_at, s.expires_at, s.last_seen
             FROM account_session s JOIN account a ON a.id = s.account_id
             WHERE s.token_hash = $1 AND s.expires_at > $2 AND s.last_seen > $3 AND NOT a.disabled"
        ))
        .bind(&hash.0[..])
        .bind(truncate_to_millis(now))
        .bind(truncate_to_millis(now - idle))
        .fetch_optional(self.pool())
        .await
        .map_err(backend_error)?;
        row.map(|r| {
            Ok(Session { user: user(&r, 0)?, created_at: get(&r, 6)?, expires_at: get(&r, 7)?, last_seen: get(&r, 8)? })
        })
        .transpose()
    }

    async fn touch_session(&self, hash: &SecretHash, now: OffsetDateTime) -> Result<(), StoreError> {
        sqlx::query("UPDATE account_session SET last_seen = greatest(last_seen, $2) WHERE token_hash = $1")
            .bind(&hash.0[..])
            .bind(truncate_to_millis(now))
            .execute(self.pool())
            .await
            .map_err(backend_error)?;
        Ok(())
    }

    async fn delete_session(&self, hash: &SecretHash) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM account_session WHERE token_hash = $1")
            .bind(&hash.0[..])
            .execute(self.pool())
            .await
            .map_err(backend_error)?;
        Ok(())
    }

    async fn create_token(&self, new: NewApiToken) -> Result<ApiToken, StoreError> {
        let mut tx = self.pool().begin().await.map_err(backend_error)?;
        // FOR SHARE: the owner cannot be changed while its token is created.
        let owner = sqlx::query(concat!("SELECT ", user_columns!(), " FROM account a WHERE a.id = $1 FOR SHARE"))
            .bind(new.user.0)
            .fetch_optional(&mut *tx)
            .await
            .map_err(backend_error)?;
        let owner = owner.map(|r| user(&r, 0)).transpose()?.ok_or(StoreError::NotFound("user"))?;
        if !owner.role.may_delegate(&new.scope) {
            return Err(StoreError::from(Refusal::TokenScope {
                owner: owner.role.kind().to_string(),
                scope: new.scope.kind().to_string(),
            }));
        }
        let id = TokenId(Uuid::now_v7());
        let (kind, party) = role_columns(&new.scope);
        sqlx::query(
            "INSERT INTO api_token (id, token_hash, name, account_id, scope_role, scope_party, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(id.0)
        .bind(&new.hash.0[..])
        .bind(&new.name)
        .bind(new.user.0)
        .bind(kind)
        .bind(party)
        .bind(truncate_to_millis(new.created_at))
        .execute(&mut *tx)
        .await
        .map_err(|e| {
            if is_unique_violation(&e) { StoreError::from(Refusal::TokenSecretReused) } else { backend_error(e) }
        })?;
        let token = token_by_id(&mut tx, id).await?.ok_or(StoreError::NotFound("token"))?;
        tx.commit().await.map_err(backend_error)?;
        Ok(token)
    }

    async fn list_tokens(&self, user: UserId) -> Result<Vec<ApiToken>, StoreError> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            token_columns!(),
            " FROM api_token t WHERE t.account_id = $1 ORDER BY t.id"
        ))
        .bind(user.0)
        .fetch_all(self.pool())
        .await
        .map_err(backend_error)?;
        rows.iter().map(token).collect()
    }

    async fn revoke_token(&self, id: TokenId, now: OffsetDateTime) -> Result<ApiToken, StoreError> {
        let mut tx = self.pool().begin().await.map_err(backend_error)?;
        sqlx::query("UPDATE api_token SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL")
            .bind(id.0)
            .bind(truncate_to_millis(now))
            .execute(&mut *tx)
            .await
            .map_err(backend_error)?;
        let token = token_by_id(&mut tx, id).await?.ok_or(StoreError::NotFound("token"))?;
        tx.commit().await.map_err(backend_error)?;
        Ok(token)
    }

    async fn token(&self, hash: &SecretHash) -> Result<Option<(ApiToken, User)>, StoreError> {
        let row = sqlx::query(concat!(
            "SELECT ",
            token_columns!(),
            ", ",
            user_columns!(),
            " FROM api_token t JOIN account a ON a.id = t.account_id
             WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND NOT a.disabled"
        ))
        .bind(&hash.0[..])
        .fetch_optional(self.pool())
        .await
        .map_err(backend_error)?;
        row.map(|r| Ok((token(&r)?, user(&r, 7)?))).transpose()
    }

    async fn record_login_failure(
        &self,
        keys: &[SecretHash],
        at: OffsetDateTime,
        forget_before: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool().begin().await.map_err(backend_error)?;
        for key in keys {
            sqlx::query("DELETE FROM login_failure WHERE key = $1 AND at < $2")
                .bind(&key.0[..])
                .bind(truncate_to_millis(forget_before))
                .execute(&mut *tx)
                .await
                .map_err(backend_error)?;
            sqlx::query("INSERT INTO login_failure (key, at) VALUES ($1, $2)")
                .bind(&key.0[..])
                .bind(truncate_to_millis(at))
                .execute(&mut *tx)
                .await
                .map_err(backend_error)?;
        }
        tx.commit().await.map_err(backend_error)
    }

    async fn login_failures(&self, key: &SecretHash, since: OffsetDateTime) -> Result<LoginFailures, StoreError> {
        let row = sqlx::query("SELECT count(*), min(at) FROM login_failure WHERE key = $1 AND at >= $2")
            .bind(&key.0[..])
            .bind(truncate_to_millis(since))
            .fetch_one(self.pool())
            .await
            .map_err(backend_error)?;
        Ok(LoginFailures { count: u32::try_from(get::<i64>(&row, 0)?).unwrap_or(u32::MAX), oldest: get(&row, 1)? })
    }

    async fn clear_login_failures(&self, key: &SecretHash) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM login_failure WHERE key = $1")
            .bind(&key.0[..])
            .execute(self.pool())
            .await
            .map_err(backend_error)?;
        Ok(())
    }
}
