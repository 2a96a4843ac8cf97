//! [`AccountStore`] on SQLite: the same writer and readers as the registry.

use async_trait::async_trait;
use homeward_domain::{PartyCode, Role, RoleKind, Username};
use homeward_store::{
    AccountStore, ApiToken, LoginFailures, NewApiToken, NewSession, NewUser, Refusal, SecretHash, Session, StoreError,
    TokenId, User, UserCredentials, UserId,
};
use rusqlite::{Connection, OptionalExtension, Row, params};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{SqliteStore, backend_error};

const USER_COLUMNS: &str = "a.id, a.username, a.role, a.party, a.disabled, a.created_at";

fn ms(t: OffsetDateTime) -> i64 {
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

fn from_ms(v: i64) -> rusqlite::Result<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(v) * 1_000_000).map_err(|_| bad("timestamp"))
}

fn bad(what: &'static str) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Blob, format!("bad {what}").into())
}

fn uuid(r: &Row<'_>, i: usize) -> rusqlite::Result<Uuid> {
    let bytes: Vec<u8> = r.get(i)?;
    Uuid::from_slice(&bytes).map_err(|_| bad("id"))
}

fn role(kind: &str, party: Option<String>) -> rusqlite::Result<Role> {
    let kind: RoleKind = kind.parse().map_err(|_| bad("role"))?;
    let party = party.map(|p| PartyCode::parse(&p)).transpose().map_err(|_| bad("party"))?;
    Role::new(kind, party).map_err(|_| bad("role"))
}

fn role_columns(role: &Role) -> (&'static str, Option<&str>) {
    (role.kind().as_str(), role.party().map(PartyCode::as_str))
}

/// Reads the six [`USER_COLUMNS`] starting at column `at`.
fn user(r: &Row<'_>, at: usize) -> rusqlite::Result<User> {
    Ok(User {
        id: UserId(uuid(r, at)?),
        username: Username::parse(&r.get::<_, String>(at + 1)?).map_err(|_| bad("username"))?,
        role: role(&r.get::<_, String>(at + 2)?, r.get(at + 3)?)?,
        disabled: r.get(at + 4)?,
        created_at: from_ms(r.get(at + 5)?)?,
    })
}

const TOKEN_COLUMNS: &str = "t.id, t.name, t.account_id, t.scope_role, t.scope_party, t.created_at, t.revoked_at";

fn token(r: &Row<'_>) -> rusqlite::Result<ApiToken> {
    Ok(ApiToken {
        id: TokenId(uuid(r, 0)?),
        name: r.get(1)?,
        user: UserId(uuid(r, 2)?),
        scope: role(&r.get::<_, String>(3)?, r.get(4)?)?,
        created_at: from_ms(r.get(5)?)?,
        revoked_at: r.get::<_, Option<i64>>(6)?.map(from_ms).transpose()?,
    })
}

/// A party officer's party must be one of the conflict's parties.
fn check_party(c: &Connection, role: &Role) -> Result<(), StoreError> {
    let Some(party) = role.party() else { return Ok(()) };
    let parties: i64 = c.query_row("SELECT count(*) FROM party", [], |r| r.get(0)).map_err(backend_error)?;
    if parties == 0 {
        return Err(StoreError::NoConflict);
    }
    let known = c
        .query_row("SELECT 1 FROM party WHERE code = ?1", [party.as_str()], |_| Ok(()))
        .optional()
        .map_err(backend_error)?;
    known.ok_or_else(|| StoreError::UnknownParty { field: "party", code: party.to_string() })
}

fn user_by_id(c: &Connection, id: UserId) -> Result<Option<User>, StoreError> {
    c.prepare_cached(&format!("SELECT {USER_COLUMNS} FROM account a WHERE a.id = ?1"))
        .map_err(backend_error)?
        .query_row([id.0.as_bytes()], |r| user(r, 0))
        .optional()
        .map_err(backend_error)
}

fn token_by_id(c: &Connection, id: TokenId) -> Result<Option<ApiToken>, StoreError> {
    c.prepare_cached(&format!("SELECT {TOKEN_COLUMNS} FROM api_token t WHERE t.id = ?1"))
        .map_err(backend_error)?
        .query_row([id.0.as_bytes()], token)
        .optional()
        .map_err(backend_error)
}

#[async_trait]
impl AccountStore for SqliteStore {
    async fn create_user(&self, new: NewUser) -> Result<User, StoreError> {
        self.write(move |c| {
            let tx = c.transaction().map_err(backend_error)?;
            check_party(&tx, &new.role)?;
            let taken = tx
                .query_row("SELECT 1 FROM account WHERE username = ?1", [new.username.as_str()], |_| Ok(()))
                .optional()
                .map_err(backend_error)?;
            if taken.is_some() {
                return Err(Refusal::UsernameTaken.into());
            }
            let id = UserId(Uuid::now_v7());
            let (kind, party) = role_columns(&new.role);
            tx.execute(
                "INSERT INTO account (id, username, role, party, password_hash, disabled, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, 0, ?6)",
                params![id.0.as_bytes(), new.username.as_str(), kind, party, new.password_hash, ms(new.created_at)],
            )
            .map_err(backend_error)?;
            let user = user_by_id(&tx, id)?.ok_or(StoreError::NotFound("user"))?;
            tx.commit().map_err(backend_error)?;
            Ok(user)
        })
        .await
    }

    async fn user_credentials(&self, username: &Username) -> Result<Option<UserCredentials>, StoreError> {
        let username = username.clone();
        self.read(move |c| {
            c.prepare_cached(&format!("SELECT {USER_COLUMNS}, a.password_hash FROM account a WHERE a.username = ?1"))
                .map_err(backend_error)?
                .query_row([username.as_str()], |r| Ok(UserCredentials { user: user(r, 0)?, password_hash: r.get(6)? }))
                .optional()
                .map_err(backend_error)
        })
        .await
    }

    async fn list_users(&self) -> Result<Vec<User>, StoreError> {
        self.read(|c| {
            let mut st = c
                .prepare_cached(&format!("SELECT {USER_COLUMNS} FROM account a ORDER BY a.username"))
                .map_err(backend_error)?;
            let users = st.query_map([], |r| user(r, 0)).map_err(backend_error)?;
            users.collect::<Result<_, _>>().map_err(backend_error)
        })
        .await
    }

    async fn disable_user(&self, username: &Username) -> Result<User, StoreError> {
        let username = username.clone();
        self.write(move |c| {
            let tx = c.transaction().map_err(backend_error)?;
            let id: Option<Vec<u8>> = tx
                .query_row("SELECT id FROM account WHERE username = ?1", [username.as_str()], |r| r.get(0))
                .optional()
                .map_err(backend_error)?;
            let id = id.ok_or(StoreError::NotFound("user"))?;
            tx.execute("UPDATE account SET disabled = 1 WHERE id = ?1", [&id]).map_err(backend_error)?;
            tx.execute("DELETE FROM account_session WHERE account_id = ?1", [&id]).map_err(backend_error)?;
            let id = UserId(Uuid::from_slice(&id).map_err(|_| StoreError::Backend("SQLite: bad id".into()))?);
            let user = user_by_id(&tx, id)?.ok_or(StoreError::NotFound("user"))?;
            tx.commit().map_err(backend_error)?;
            Ok(user)
        })
        .await
    }

    async fn create_session(&self, new: NewSession) -> Result<(), StoreError> {
        self.write(move |c| {
            let tx = c.transaction().map_err(backend_error)?;
            // Expired sessions are swept here: logins are rare enough, and
            // the index on expires_at keeps it cheap.
            tx.execute("DELETE FROM account_session WHERE expires_at <= ?1", [ms(new.created_at)])
                .map_err(backend_error)?;
            tx.execute(
                "INSERT INTO account_session (token_hash, account_id, created_at, expires_at, last_seen)
                 VALUES (?1, ?2, ?3, ?4, ?3)",
                params![&new.hash.0[..], new.user.0.as_bytes(), ms(new.created_at), ms(new.expires_at)],
            )
            .map_err(backend_error)?;
            tx.commit().map_err(backend_error)
        })
        .await
    }

    async fn session(
        &self,
        hash: &SecretHash,
        now: OffsetDateTime,
        idle: time::Duration,
    ) -> Result<Option<Session>, StoreError> {
        let hash = *hash;
        let (now, idle_since) = (ms(now), ms(now - idle));
        self.read(move |c| {
            c.prepare_cached(&format!(
                "SELECT {USER_COLUMNS}, s.created_at, s.expires_at, s.last_seen
                 FROM account_session s JOIN account a ON a.id = s.account_id
                 WHERE s.token_hash = ?1 AND s.expires_at > ?2 AND s.last_seen > ?3 AND a.disabled = 0"
            ))
            .map_err(backend_error)?
            .query_row(params![&hash.0[..], now, idle_since], |r| {
                Ok(Session {
                    user: user(r, 0)?,
                    created_at: from_ms(r.get(6)?)?,
                    expires_at: from_ms(r.get(7)?)?,
                    last_seen: from_ms(r.get(8)?)?,
                })
            })
            .optional()
            .map_err(backend_error)
        })
        .await
    }

    async fn touch_session(&self, hash: &SecretHash, now: OffsetDateTime) -> Result<(), StoreError> {
        let hash = *hash;
        self.write(move |c| {
            c.execute(
                "UPDATE account_session SET last_seen = max(last_seen, ?2) WHERE token_hash = ?1",
                params![&hash.0[..], ms(now)],
            )
            .map(|_| ())
            .map_err(backend_error)
        })
        .await
    }

    async fn delete_session(&self, hash: &SecretHash) -> Result<(), StoreError> {
        let hash = *hash;
        self.write(move |c| {
            c.execute("DELETE FROM account_session WHERE token_hash = ?1", [&hash.0[..]])
                .map(|_| ())
                .map_err(backend_error)
        })
        .await
    }

    async fn create_token(&self, new: NewApiToken) -> Result<ApiToken, StoreError> {
        self.write(move |c| {
            let tx = c.transaction().map_err(backend_error)?;
            let owner = user_by_id(&tx, new.user)?.ok_or(StoreError::NotFound("user"))?;
            if !owner.role.may_delegate(&new.scope) {
                return Err(StoreError::from(Refusal::TokenScope {
                    owner: owner.role.kind().to_string(),
                    scope: new.scope.kind().to_string(),
                }));
            }
            let id = TokenId(Uuid::now_v7());
            let (kind, party) = role_columns(&new.scope);
            tx.execute(
                "INSERT INTO api_token (id, token_hash, name, account_id, scope_role, scope_party, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    id.0.as_bytes(),
                    &new.hash.0[..],
                    new.name,
                    new.user.0.as_bytes(),
                    kind,
                    party,
                    ms(new.created_at)
                ],
            )
            .map_err(backend_error)?;
            let token = token_by_id(&tx, id)?.ok_or(StoreError::NotFound("token"))?;
            tx.commit().map_err(backend_error)?;
            Ok(token)
        })
        .await
    }

    async fn list_tokens(&self, user: UserId) -> Result<Vec<ApiToken>, StoreError> {
        self.read(move |c| {
            let mut st = c
                .prepare_cached(&format!(
                    "SELECT {TOKEN_COLUMNS} FROM api_token t WHERE t.account_id = ?1 ORDER BY t.id"
                ))
                .map_err(backend_error)?;
            let tokens = st.query_map([user.0.as_bytes()], token).map_err(backend_error)?;
            tokens.collect::<Result<_, _>>().map_err(backend_error)
        })
        .await
    }

    async fn revoke_token(&self, id: TokenId, now: OffsetDateTime) -> Result<ApiToken, StoreError> {
        self.write(move |c| {
            let tx = c.transaction().map_err(backend_error)?;
            tx.execute(
                "UPDATE api_token SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL",
                params![id.0.as_bytes(), ms(now)],
            )
            .map_err(backend_error)?;
            let token = token_by_id(&tx, id)?.ok_or(StoreError::NotFound("token"))?;
            tx.commit().map_err(backend_error)?;
            Ok(token)
        })
        .await
    }

    async fn token(&self, hash: &SecretHash) -> Result<Option<(ApiToken, User)>, StoreError> {
        let hash = *hash;
        self.read(move |c| {
            c.prepare_cached(&format!(
                "SELECT {TOKEN_COLUMNS}, {USER_COLUMNS}
                 FROM api_token t JOIN account a ON a.id = t.account_id
                 WHERE t.token_hash = ?1 AND t.revoked_at IS NULL AND a.disabled = 0"
            ))
            .map_err(backend_error)?
            .query_row([&hash.0[..]], |r| Ok((token(r)?, user(r, 7)?)))
            .optional()
            .map_err(backend_error)
        })
        .await
    }

    async fn record_login_failure(
        &self,
        keys: &[SecretHash],
        at: OffsetDateTime,
        forget_before: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let keys = keys.to_vec();
        self.write(move |c| {
            let tx = c.transaction().map_err(backend_error)?;
            for key in &keys {
                tx.execute(
                    "DELETE FROM login_failure WHERE key = ?1 AND at < ?2",
                    params![&key.0[..], ms(forget_before)],
                )
                .map_err(backend_error)?;
                tx.execute("INSERT INTO login_failure (key, at) VALUES (?1, ?2)", params![&key.0[..], ms(at)])
                    .map_err(backend_error)?;
            }
            tx.commit().map_err(backend_error)
        })
        .await
    }

    async fn login_failures(&self, key: &SecretHash, since: OffsetDateTime) -> Result<LoginFailures, StoreError> {
        let key = *key;
        self.read(move |c| {
            c.prepare_cached("SELECT count(*), min(at) FROM login_failure WHERE key = ?1 AND at >= ?2")
                .map_err(backend_error)?
                .query_row(params![&key.0[..], ms(since)], |r| {
                    Ok(LoginFailures {
                        count: u32::try_from(r.get::<_, i64>(0)?).unwrap_or(u32::MAX),
                        oldest: r.get::<_, Option<i64>>(1)?.map(from_ms).transpose()?,
                    })
                })
                .map_err(backend_error)
        })
        .await
    }

    async fn clear_login_failures(&self, key: &SecretHash) -> Result<(), StoreError> {
        let key = *key;
        self.write(move |c| {
            c.execute("DELETE FROM login_failure WHERE key = ?1", [&key.0[..]]).map(|_| ()).map_err(backend_error)
        })
        .await
    }
}
