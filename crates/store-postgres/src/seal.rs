//! Field-key rotation: re-sealing contact and health (status details)
//! columns with the current key.
//! The log is not touched: it commits to the plaintext, which does not change.

use futures_util::TryStreamExt;
use homeward_store::seal::{self, SEALED_COLUMNS};
use homeward_store::{Keyring, SealUsage, StoreError};
use sqlx::{PgPool, Row};

use crate::backend_error;

pub(crate) async fn usage(pool: &PgPool) -> Result<SealUsage, StoreError> {
    let mut usage = SealUsage::default();
    let mut rows = sqlx::query(
        "SELECT person_to_inform FROM identity_version WHERE person_to_inform IS NOT NULL
         UNION ALL
         SELECT correspondence_address FROM identity_version WHERE correspondence_address IS NOT NULL
         UNION ALL
         SELECT details FROM status_event WHERE details IS NOT NULL",
    )
    .fetch(pool);
    while let Some(r) = rows.try_next().await.map_err(backend_error)? {
        usage.count(&r.try_get::<String, _>(0).map_err(backend_error)?);
    }
    drop(rows);
    let schemes = sqlx::query("SELECT fingerprint_scheme::bigint, count(*) FROM identity_version GROUP BY 1")
        .fetch_all(pool)
        .await
        .map_err(backend_error)?;
    for r in schemes {
        let (scheme, n): (i64, i64) = (r.try_get(0).map_err(backend_error)?, r.try_get(1).map_err(backend_error)?);
        let n = u64::try_from(n).unwrap_or_default();
        if scheme == seal::FINGERPRINT_UNKEYED {
            usage.unkeyed_fingerprints += n;
        } else {
            usage.keyed_fingerprints += n;
        }
    }
    Ok(usage)
}

/// Re-seals up to `batch` rows whose contact fields are not sealed with the
/// current key, in one transaction. Returns the number of values re-sealed
/// (0: nothing left).
pub(crate) async fn reseal_batch(pool: &PgPool, keys: &Keyring, batch: usize) -> Result<u64, StoreError> {
    let mut tx = pool.begin().await.map_err(backend_error)?;
    let current = format!("hw1:{}:%", keys.current_id());
    let rows = sqlx::query(
        "SELECT source, record_id, version, person_to_inform, correspondence_address FROM identity_version
         WHERE (person_to_inform IS NOT NULL AND person_to_inform NOT LIKE $1)
            OR (correspondence_address IS NOT NULL AND correspondence_address NOT LIKE $1)
         LIMIT $2
         FOR UPDATE",
    )
    .bind(&current)
    .bind(batch as i64)
    .fetch_all(&mut *tx)
    .await
    .map_err(backend_error)?;
    let mut n = 0;
    for r in rows {
        let source: String = r.try_get(0).map_err(backend_error)?;
        let record_id: String = r.try_get(1).map_err(backend_error)?;
        let version: i32 = r.try_get(2).map_err(backend_error)?;
        for (k, column) in SEALED_COLUMNS.iter().enumerate() {
            let Some(value) = r.try_get::<Option<String>, _>(3 + k).map_err(backend_error)? else { continue };
            let resealed = keys.reseal(column, &value).map_err(|reason| StoreError::Sealed {
                record: seal::identity_name(&source, &record_id, version as u32),
                column,
                reason,
            })?;
            if let Some(v) = resealed {
                let sql = if k == 0 {
                    "UPDATE identity_version SET person_to_inform = $1 WHERE source = $2 AND record_id = $3 AND version = $4"
                } else {
                    "UPDATE identity_version SET correspondence_address = $1
                     WHERE source = $2 AND record_id = $3 AND version = $4"
                };
                sqlx::query(sql)
                    .bind(v)
                    .bind(&source)
                    .bind(&record_id)
                    .bind(version)
                    .execute(&mut *tx)
                    .await
                    .map_err(backend_error)?;
                n += 1;
            }
        }
    }
    n += reseal_details(&mut tx, keys, &current, batch).await?;
    tx.commit().await.map_err(backend_error)?;
    Ok(n)
}

/// Re-seals up to `batch` status details not sealed with the current key,
/// sealing those written in plaintext before details were sealed.
async fn reseal_details(
    tx: &mut sqlx::PgConnection,
    keys: &Keyring,
    current: &str,
    batch: usize,
) -> Result<u64, StoreError> {
    let rows = sqlx::query(
        "SELECT person_id, seq, details FROM status_event WHERE details IS NOT NULL AND details NOT LIKE $1
         LIMIT $2 FOR UPDATE",
    )
    .bind(current)
    .bind(batch as i64)
    .fetch_all(&mut *tx)
    .await
    .map_err(backend_error)?;
    let mut n = 0;
    for r in rows {
        let person: uuid::Uuid = r.try_get(0).map_err(backend_error)?;
        let seq: i32 = r.try_get(1).map_err(backend_error)?;
        let details: String = r.try_get(2).map_err(backend_error)?;
        let resealed = keys.reseal(seal::DETAILS_COLUMN, &details).map_err(|reason| StoreError::Sealed {
            record: homeward_store::log::record::status_id(homeward_domain::PersonId(person), seq as u32),
            column: seal::DETAILS_COLUMN,
            reason,
        })?;
        if let Some(v) = resealed {
            sqlx::query("UPDATE status_event SET details = $3 WHERE person_id = $1 AND seq = $2")
                .bind(person)
                .bind(seq)
                .bind(v)
                .execute(&mut *tx)
                .await
                .map_err(backend_error)?;
            n += 1;
        }
    }
    Ok(n)
}

/// Re-keys up to `batch` identity versions that still hold the unkeyed
/// fingerprint (scheme 0, written before migration 0006), in one
/// transaction: the identity is read back (contact fields opened) and its
/// HMAC-SHA256 stored. Returns the rows re-keyed (0: nothing left).
pub(crate) async fn rekey_batch(pool: &PgPool, keys: &Keyring, batch: usize) -> Result<u64, StoreError> {
    let mut tx = pool.begin().await.map_err(backend_error)?;
    // Scheme 0: homeward_store::seal::FINGERPRINT_UNKEYED.
    let rows = sqlx::query(concat!(
        "SELECT source, record_id, version, ",
        crate::identity_columns!(),
        " FROM identity_version WHERE fingerprint_scheme = 0 LIMIT $1 FOR UPDATE"
    ))
    .bind(batch as i64)
    .fetch_all(&mut *tx)
    .await
    .map_err(backend_error)?;
    let mut n = 0;
    for r in rows {
        let source: String = r.try_get(0).map_err(backend_error)?;
        let record_id: String = r.try_get(1).map_err(backend_error)?;
        let version: i32 = r.try_get(2).map_err(backend_error)?;
        let identity = crate::rows::identity(&r, 3, keys, seal::identity_name(&source, &record_id, version as u32))?;
        sqlx::query(
            "UPDATE identity_version SET fingerprint = $1, fingerprint_scheme = 1
             WHERE source = $2 AND record_id = $3 AND version = $4",
        )
        .bind(keys.fingerprint(&identity).as_slice())
        .bind(&source)
        .bind(&record_id)
        .bind(version)
        .execute(&mut *tx)
        .await
        .map_err(backend_error)?;
        n += 1;
    }
    tx.commit().await.map_err(backend_error)?;
    Ok(n)
}
