//! Field-key rotation: re-sealing contact and health (status details)
//! columns with the current key.
//! The log is not touched: it commits to the plaintext, which does not change.

use homeward_store::seal::{self, DETAILS_COLUMN, FINGERPRINT_HMAC, FINGERPRINT_UNKEYED, SEALED_COLUMNS};
use homeward_store::{Keyring, SealUsage, StoreError};
use rusqlite::{Connection, params};

use crate::backend_error;
use crate::read::{IDENTITY_COLUMNS, identity_from_row};

pub(crate) fn usage(c: &Connection) -> Result<SealUsage, StoreError> {
    let mut usage = SealUsage::default();
    for col in SEALED_COLUMNS {
        let sql = format!("SELECT {col} FROM identity_version WHERE {col} IS NOT NULL");
        let mut st = c.prepare(&sql).map_err(backend_error)?;
        let mut rows = st.query([]).map_err(backend_error)?;
        while let Some(r) = rows.next().map_err(backend_error)? {
            usage.count(r.get_ref(0).map_err(backend_error)?.as_str().unwrap_or_default());
        }
    }
    let mut st = c.prepare("SELECT details FROM status_event WHERE details IS NOT NULL").map_err(backend_error)?;
    let mut rows = st.query([]).map_err(backend_error)?;
    while let Some(r) = rows.next().map_err(backend_error)? {
        usage.count(r.get_ref(0).map_err(backend_error)?.as_str().unwrap_or_default());
    }
    let mut st =
        c.prepare("SELECT fingerprint_scheme, count(*) FROM identity_version GROUP BY 1").map_err(backend_error)?;
    let mut rows = st.query([]).map_err(backend_error)?;
    while let Some(r) = rows.next().map_err(backend_error)? {
        let (scheme, n): (i64, i64) = (r.get(0).map_err(backend_error)?, r.get(1).map_err(backend_error)?);
        let n = u64::try_from(n).unwrap_or_default();
        if scheme == FINGERPRINT_UNKEYED {
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
pub(crate) fn reseal_batch(c: &mut Connection, keys: &Keyring, batch: usize) -> Result<u64, StoreError> {
    let tx = c.transaction().map_err(backend_error)?;
    let current = format!("hw1:{}:%", keys.current_id());
    let rows = {
        let mut st = tx
            .prepare_cached(
                "SELECT source, record_id, version, person_to_inform, correspondence_address FROM identity_version
                 WHERE (person_to_inform IS NOT NULL AND person_to_inform NOT LIKE ?1)
                    OR (correspondence_address IS NOT NULL AND correspondence_address NOT LIKE ?1)
                 LIMIT ?2",
            )
            .map_err(backend_error)?;
        st.query_map(params![current, batch as i64], |r| {
            Ok((
                (r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, u32>(2)?),
                [r.get::<_, Option<String>>(3)?, r.get::<_, Option<String>>(4)?],
            ))
        })
        .map_err(backend_error)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(backend_error)?
    };
    let mut n = 0;
    for ((source, record_id, version), values) in rows {
        let mut resealed: [Option<String>; 2] = [None, None];
        for (k, column) in SEALED_COLUMNS.iter().enumerate() {
            if let Some(v) = &values[k] {
                resealed[k] = keys.reseal(column, v).map_err(|reason| StoreError::Sealed {
                    record: seal::identity_name(&source, &record_id, version),
                    column,
                    reason,
                })?;
            }
        }
        for (k, column) in SEALED_COLUMNS.iter().enumerate() {
            if let Some(v) = &resealed[k] {
                let sql = format!(
                    "UPDATE identity_version SET {column} = ?1 WHERE source = ?2 AND record_id = ?3 AND version = ?4"
                );
                tx.prepare_cached(&sql)
                    .and_then(|mut st| st.execute(params![v, source, record_id, version]))
                    .map_err(backend_error)?;
                n += 1;
            }
        }
    }
    n += reseal_details(&tx, keys, &current, batch)?;
    tx.commit().map_err(backend_error)?;
    Ok(n)
}

/// Re-seals up to `batch` status details not sealed with the current key,
/// sealing those written in plaintext before details were sealed.
fn reseal_details(c: &Connection, keys: &Keyring, current: &str, batch: usize) -> Result<u64, StoreError> {
    let rows: Vec<(Vec<u8>, u32, String)> = c
        .prepare_cached(
            "SELECT person_id, seq, details FROM status_event WHERE details IS NOT NULL AND details NOT LIKE ?1
             LIMIT ?2",
        )
        .and_then(|mut st| {
            st.query_map(params![current, batch as i64], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                .collect::<Result<_, _>>()
        })
        .map_err(backend_error)?;
    let mut n = 0;
    for (person, seq, details) in rows {
        let resealed = keys.reseal(DETAILS_COLUMN, &details).map_err(|reason| StoreError::Sealed {
            record: uuid::Uuid::from_slice(&person)
                .map(|u| homeward_store::log::record::status_id(homeward_domain::PersonId(u), seq))
                .unwrap_or_default(),
            column: DETAILS_COLUMN,
            reason,
        })?;
        if let Some(v) = resealed {
            c.prepare_cached("UPDATE status_event SET details = ?3 WHERE person_id = ?1 AND seq = ?2")
                .and_then(|mut st| st.execute(params![person, seq, v]))
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
pub(crate) fn rekey_batch(c: &mut Connection, keys: &Keyring, batch: usize) -> Result<u64, StoreError> {
    let tx = c.transaction().map_err(backend_error)?;
    let rows = {
        let sql = format!(
            "SELECT source, record_id, version, {IDENTITY_COLUMNS} FROM identity_version
             WHERE fingerprint_scheme = {FINGERPRINT_UNKEYED} LIMIT ?1"
        );
        let mut st = tx.prepare_cached(&sql).map_err(backend_error)?;
        st.query_map(params![batch as i64], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, u32>(2)?, identity_from_row(r, 3)?))
        })
        .map_err(backend_error)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(backend_error)?
    };
    let mut n = 0;
    for (source, record_id, version, sealed) in rows {
        let identity = sealed.open(keys, seal::identity_name(&source, &record_id, version))?;
        tx.prepare_cached(&format!(
            "UPDATE identity_version SET fingerprint = ?1, fingerprint_scheme = {FINGERPRINT_HMAC}
             WHERE source = ?2 AND record_id = ?3 AND version = ?4"
        ))
        .and_then(|mut st| st.execute(params![keys.fingerprint(&identity).as_slice(), source, record_id, version]))
        .map_err(backend_error)?;
        n += 1;
    }
    tx.commit().map_err(backend_error)?;
    Ok(n)
}
