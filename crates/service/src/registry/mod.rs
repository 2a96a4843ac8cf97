//! The registry's use cases with authorisation: the one place where the
//! roles table of DESIGN.md decides who sees and changes which person.
//!
//! The key decision: a capability is a value only this module can make,
//! from a role ([`Reader::for_role`], [`Registrar::for_role`],
//! [`Reporter::for_role`]); every registry function takes one. A handler
//! that compiles has been through the check, and the check is written once.
//! A person the reader may not see is answered as `None`, exactly like an
//! unknown id, so that nobody learns what exists beyond what they may see.
//!
//! Every read of a person's record queues an entry in the access log before
//! the record is returned ([`Registry::person`], [`Registry::status`],
//! [`Registry::list`]); a task commits the queue every millisecond, the
//! reads of that millisecond in one transaction (`access_writer.rs`, which
//! says what this gives up against committing before answering).
//!
//! The visibility rule (DESIGN.md, "Actors and roles"), on the person's
//! *primary* identity (the source record that created the person, at its
//! latest version):
//! - the mediator sees every person;
//! - an officer of party X sees a person whose power is X (X's own people,
//!   held by the other side or missing), and a person X registered (the
//!   people X holds, and anything else X reported);
//! - caseworkers, families, auditors and admins see no person (tracing
//!   requests will give caseworkers and families their own, narrower view).

mod access_writer;
mod capability;

pub use capability::{CandidateReader, Reader, Registrar, Reporter, Scope, Searcher, primary};

use std::sync::Arc;

use homeward_domain::{PersonId, PersonIdentity, SourceRef, StatusEvent};
use homeward_store::{
    AccessEntry, AccessLogStore, AccessOutcome, NewPerson, Page, PersonFilter, PersonRecord, PersonStatus,
    PersonSummary, StatusRecord, Store, StoreError, UserId,
};
use time::OffsetDateTime;

use crate::matching::{Hit, LiveIndex};
use homeward_matching::MatchRecord;

/// Who is reading, for the access log.
#[derive(Debug, Clone)]
pub struct Accessor {
    pub user: UserId,
    /// The role as `Role`'s Display spells it.
    pub role: String,
    /// The route template, never the raw URL (which may carry a query).
    pub endpoint: &'static str,
}

/// Why a registry change was refused.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// The person does not exist or the caller may not see it.
    #[error("person not found")]
    NotFound,
    /// A field of the request is invalid (named, never quoted).
    #[error(transparent)]
    Invalid(#[from] homeward_domain::FieldError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The registry over a store and its access log.
#[derive(Debug, Clone)]
pub struct Registry {
    store: Arc<dyn Store>,
    /// Access-log writes, committed a millisecond's reads at a time ([`access_writer`]).
    access: Arc<access_writer::AccessWriter>,
}

impl Registry {
    pub fn new(store: Arc<dyn Store>, access: Arc<dyn AccessLogStore>) -> Self {
        Self { store, access: Arc::new(access_writer::AccessWriter::new(access)) }
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// One page of the persons `reader` may see, in id order, with the
    /// caller's filters. Each person listed is an access.
    #[tracing::instrument(level = "debug", skip_all, fields(user.id = %who.user, endpoint = who.endpoint))]
    pub async fn list(
        &self,
        reader: &Reader,
        filter: &PersonFilter,
        page: &Page,
        who: &Accessor,
    ) -> Result<Vec<PersonSummary>, StoreError> {
        let rows = self.visible_page(reader, filter, page).await?;
        self.log_access(who, rows.iter().map(|r| r.id)).await?;
        Ok(rows)
    }

    /// One page of the persons `reader` may see (not logged: the callers log
    /// what they show).
    async fn visible_page(
        &self,
        reader: &Reader,
        filter: &PersonFilter,
        page: &Page,
    ) -> Result<Vec<PersonSummary>, StoreError> {
        let rows = match reader.scope() {
            Scope::All => self.store.list_persons(filter, page).await?,
            Scope::Party(party) => {
                // Visible = power is X, or source is X: two keyset queries
                // on the store's AND-only filter, merged by id. Both are in
                // id order after `page.after`, so the first `limit` ids of
                // the merge are the first `limit` visible ids.
                let mut merged: Vec<PersonSummary> = Vec::new();
                let by_power = filter.power.as_ref().is_none_or(|p| p == party);
                if by_power {
                    let f = PersonFilter { power: Some(party.clone()), ..filter.clone() };
                    merged.extend(self.store.list_persons(&f, page).await?);
                }
                let by_source = filter.source.as_ref().is_none_or(|s| s == party);
                if by_source {
                    let f = PersonFilter { source: Some(party.clone()), ..filter.clone() };
                    merged.extend(self.store.list_persons(&f, page).await?);
                }
                merged.sort_by_key(|p| p.id);
                merged.dedup_by_key(|p| p.id);
                merged.truncate(page.limit.clamp(1, Page::MAX_LIMIT) as usize);
                merged
            }
        };
        debug_assert!(rows.iter().all(|r| reader.may_see_summary(r)));
        Ok(rows)
    }

    /// The persons `reader` may see for which `keep` holds, in id order, up
    /// to `page.limit` of them, reading at most `scan` persons from
    /// `page.after` on. Only the persons kept are accesses: a filter the
    /// store cannot apply (a name typed into the registry page) must not
    /// log every row it looked at. Returns them with where to go on from
    /// (`None` when the registry was read to its end).
    #[tracing::instrument(level = "debug", skip_all, fields(user.id = %who.user, endpoint = who.endpoint))]
    pub async fn list_where(
        &self,
        reader: &Reader,
        filter: &PersonFilter,
        page: &Page,
        scan: u32,
        keep: impl Fn(&PersonSummary) -> bool,
        who: &Accessor,
    ) -> Result<(Vec<PersonSummary>, Option<PersonId>), StoreError> {
        let want = page.limit.clamp(1, Page::MAX_LIMIT) as usize;
        let mut kept = Vec::new();
        let mut after = page.after;
        let mut read = 0u32;
        loop {
            let chunk = Page { after, limit: Page::MAX_LIMIT.min(scan.saturating_sub(read).max(1)) };
            let rows = self.visible_page(reader, filter, &chunk).await?;
            let full = rows.len() == chunk.limit as usize;
            read += rows.len() as u32;
            for row in rows {
                after = Some(row.id);
                if keep(&row) {
                    kept.push(row);
                    if kept.len() == want {
                        break;
                    }
                }
            }
            if kept.len() == want || !full {
                // Filled (go on after the last kept) or at the end.
                let next = if kept.len() == want { kept.last().map(|r| r.id) } else { None };
                self.log_access(who, kept.iter().map(|r| r.id)).await?;
                return Ok((kept, next));
            }
            if read >= scan {
                // Scanned as much as one answer may; go on from there.
                self.log_access(who, kept.iter().map(|r| r.id)).await?;
                return Ok((kept, after));
            }
        }
    }

    /// A person's whole record, if `reader` may see it; the read is logged.
    ///
    /// The two ways of not seeing a person (no such id; not the reader's)
    /// end in `Registry::visible`, after the same work: the whole record
    /// (identities to open, the timeline) is loaded only for a person the
    /// reader may see. Before, a person of the other party was loaded whole
    /// and then refused, so its 404 took measurably longer than an unknown
    /// id's (docs/ACCOUNTS.md, "Not found, alike").
    #[tracing::instrument(level = "debug", skip_all, fields(person.id = %id, user.id = %who.user))]
    pub async fn person(
        &self,
        reader: &Reader,
        id: PersonId,
        who: &Accessor,
    ) -> Result<Option<PersonRecord>, StoreError> {
        if self.visible_or_refused(reader, id, who).await?.is_none() {
            return Ok(None);
        }
        let Some(record) = self.store.person(id).await? else {
            return Ok(None);
        };
        // Asked again of the record itself: an amendment between the two
        // reads may have moved the person out of the reader's scope.
        if !reader.may_see(&record) {
            self.log(who, std::iter::once(id), AccessOutcome::Refused).await?;
            return Ok(None);
        }
        self.log_access(who, std::iter::once(id)).await?;
        Ok(Some(record))
    }

    /// [`Registry::person`] for a record the caller did not ask for by id
    /// (a candidate the matcher proposed): one outside the caller's scope is
    /// left out without a refused entry, since nobody tried to read it.
    #[tracing::instrument(level = "debug", skip_all, fields(person.id = %id, user.id = %who.user))]
    pub async fn person_if_visible(
        &self,
        reader: &Reader,
        id: PersonId,
        who: &Accessor,
    ) -> Result<Option<PersonRecord>, StoreError> {
        let Some(record) = self.store.person(id).await? else {
            return Ok(None);
        };
        if !reader.may_see(&record) {
            return Ok(None);
        }
        self.log_access(who, std::iter::once(id)).await?;
        Ok(Some(record))
    }

    /// A person's current status, if `reader` may see the person; the read is
    /// logged like a whole record's. One indexed query
    /// ([`Store::person_status`]) and one access-log entry.
    #[tracing::instrument(level = "debug", skip_all, fields(person.id = %id, user.id = %who.user))]
    pub async fn status(
        &self,
        reader: &Reader,
        id: PersonId,
        who: &Accessor,
    ) -> Result<Option<PersonStatus>, StoreError> {
        let Some(status) = self.visible_or_refused(reader, id, who).await? else {
            return Ok(None);
        };
        self.log_access(who, std::iter::once(id)).await?;
        Ok(Some(status))
    }

    /// Registers a person as the registrar's party.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn register(
        &self,
        registrar: &Registrar,
        record_id: &str,
        identity: PersonIdentity,
        first_status: StatusEvent,
    ) -> Result<PersonId, RegistryError> {
        let source = SourceRef::parse(registrar.party().clone(), record_id)?;
        let today = OffsetDateTime::now_utc().date();
        identity.check_dates(today)?;
        // The first status's fields are named as the API's body names them.
        first_status.check(today).map_err(|mut errors| {
            let e = errors.remove(0);
            homeward_domain::FieldError::new(format!("status.{}", e.field), e.reason)
        })?;
        Ok(self.store.add_person(NewPerson { source, identity, first_status }).await?)
    }

    /// Appends a status event to a person the reporter may see, reported by its party.
    #[tracing::instrument(level = "debug", skip_all, fields(person.id = %id))]
    pub async fn report_status(
        &self,
        reporter: &Reporter,
        id: PersonId,
        event: StatusEvent,
    ) -> Result<StatusRecord, RegistryError> {
        self.visible(reporter.reader(), id).await?.ok_or(RegistryError::NotFound)?;
        event.check(OffsetDateTime::now_utc().date()).map_err(|mut errors| errors.remove(0))?;
        Ok(self.store.add_status_event(id, event, reporter.party()).await?)
    }

    /// The persons most like `query` that `searcher` may see, best first,
    /// at most `limit`; each returned person is an access. Invisible
    /// persons are dropped before the limit, from a window several times
    /// larger, so that what is returned does not depend on them.
    #[tracing::instrument(level = "debug", skip_all, fields(user.id = %who.user, limit = limit))]
    pub async fn search(
        &self,
        searcher: &Searcher,
        index: &Arc<LiveIndex>,
        query: MatchRecord,
        limit: usize,
        who: &Accessor,
    ) -> Result<Vec<Hit>, StoreError> {
        let window = limit.saturating_mul(8).max(200);
        let idx = index.clone();
        let mut hits = tokio::task::spawn_blocking(move || idx.search(&query, window))
            .await
            .map_err(|_| StoreError::Backend("the search failed".into()))??;
        if let Scope::Party(_) = searcher.reader().scope() {
            let mut visible = Vec::with_capacity(hits.len().min(limit));
            for h in hits {
                if visible.len() >= limit {
                    break;
                }
                // The status carries what the rule needs (the primary
                // identity's power and source): no identity is opened.
                if let Some(status) = self.store.person_status(h.person).await?
                    && searcher.reader().may_see_status(&status)
                {
                    visible.push(h);
                }
            }
            hits = visible;
        }
        hits.truncate(limit);
        self.log_access(who, hits.iter().map(|h| h.person)).await?;
        Ok(hits)
    }

    /// The person's status if `reader` may see the person, else `None`: the
    /// one gate of every read or change of one person ([`gate`]).
    async fn visible(&self, reader: &Reader, id: PersonId) -> Result<Option<PersonStatus>, StoreError> {
        Ok(gate(reader, id, |id| self.store.person_status(id)).await?.visible())
    }

    /// [`Registry::visible`] for a read: a person who exists but is not the
    /// reader's is answered like an unknown id, and written to the access
    /// log as `refused`, so that the mediator sees someone guessing ids
    /// (issue 20, finding 9). The only extra work on that path is queueing
    /// the entry (the writer commits it later), well under the microseconds
    /// the lookup takes.
    async fn visible_or_refused(
        &self,
        reader: &Reader,
        id: PersonId,
        who: &Accessor,
    ) -> Result<Option<PersonStatus>, StoreError> {
        match gate(reader, id, |id| self.store.person_status(id)).await? {
            Gate::Visible(status) => Ok(Some(status)),
            Gate::Refused => {
                self.log(who, std::iter::once(id), AccessOutcome::Refused).await?;
                Ok(None)
            }
            Gate::Absent => Ok(None),
        }
    }

    /// Returns once every read answered before the call is in the access
    /// log: before the log is shown, and when the server stops.
    pub async fn flush_access_log(&self) -> Result<(), StoreError> {
        self.access.flush().await
    }

    /// Writes reads of persons made outside this module's own reads (a
    /// family's disclosed status is derived from the person's status).
    pub async fn record_reads(&self, who: &Accessor, ids: &[PersonId]) -> Result<(), StoreError> {
        if ids.is_empty() {
            return Ok(());
        }
        self.log_access(who, ids.iter().copied()).await
    }

    async fn log_access(&self, who: &Accessor, ids: impl Iterator<Item = PersonId>) -> Result<(), StoreError> {
        self.log(who, ids, AccessOutcome::Shown).await
    }

    async fn log(
        &self,
        who: &Accessor,
        ids: impl Iterator<Item = PersonId>,
        outcome: AccessOutcome,
    ) -> Result<(), StoreError> {
        let at = OffsetDateTime::now_utc();
        let entries: Vec<AccessEntry> = ids
            .map(|person| AccessEntry {
                at,
                user: who.user,
                role: who.role.clone(),
                person,
                endpoint: who.endpoint.to_owned(),
                outcome,
            })
            .collect();
        self.access.record(entries).await
    }
}

/// Looks `id` up once and applies the visibility rule to what was found:
/// an unknown id and a person the reader may not see take the same lookup
/// and the same rule, and come out the same, `None`. Generic over the
/// lookup so that a test can watch it.
async fn gate<F, Fut>(reader: &Reader, id: PersonId, lookup: F) -> Result<Gate, StoreError>
where
    F: FnOnce(PersonId) -> Fut,
    Fut: std::future::Future<Output = Result<Option<PersonStatus>, StoreError>>,
{
    Ok(match lookup(id).await? {
        Some(s) if reader.may_see_status(&s) => Gate::Visible(s),
        Some(_) => Gate::Refused,
        None => Gate::Absent,
    })
}

/// What the gate found: the caller answers `Refused` and `Absent` alike.
#[derive(Debug, PartialEq)]
enum Gate {
    Visible(PersonStatus),
    Refused,
    Absent,
}

impl Gate {
    fn visible(self) -> Option<PersonStatus> {
        match self {
            Gate::Visible(s) => Some(s),
            Gate::Refused | Gate::Absent => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use homeward_domain::{PartyCode, Role, Status};
    use homeward_store::{StatusRecord, StatusSince};

    use super::*;

    fn status_of(id: PersonId, party: &str) -> PersonStatus {
        let party = PartyCode::parse(party).unwrap();
        let at = OffsetDateTime::UNIX_EPOCH;
        PersonStatus {
            id,
            status: Status::Held,
            power: party.clone(),
            source: party.clone(),
            since: StatusSince { seq: 1, occurred_on: None, recorded_at: at },
            last: StatusRecord { seq: 1, event: StatusEvent::new(Status::Held), reported_by: party, recorded_at: at },
        }
    }

    /// Finding 10g of the review (issue 20): "not yours" took longer to
    /// answer than "does not exist". Both now go through the same gate,
    /// which makes the same single lookup for either and answers the same.
    #[tokio::test]
    async fn an_unknown_id_and_an_invisible_person_take_the_same_path() {
        let officer_a = Reader::for_role(&Role::PartyOfficer { party: PartyCode::parse("A").unwrap() }).unwrap();
        let (unknown, b_own, a_own) = (PersonId::new(), PersonId::new(), PersonId::new());
        let registry = [(b_own, status_of(b_own, "B")), (a_own, status_of(a_own, "A"))];
        let lookups = Mutex::new(Vec::new());
        let lookup = |id: PersonId| {
            lookups.lock().unwrap().push(id);
            let found = registry.iter().find(|(k, _)| *k == id).map(|(_, s)| s.clone());
            async move { Ok(found) }
        };
        assert_eq!(gate(&officer_a, unknown, lookup).await.unwrap(), Gate::Absent);
        assert_eq!(gate(&officer_a, b_own, lookup).await.unwrap(), Gate::Refused);
        assert_eq!(*lookups.lock().unwrap(), vec![unknown, b_own], "one lookup each, the same one");
        assert!(gate(&officer_a, a_own, lookup).await.unwrap().visible().is_some(), "the rule does let A see its own");
    }
}
