//! The access log: who read which person's record, when, through which
//! endpoint (DESIGN.md: "Every read of a person's record is written to an
//! access log").
//!
//! A trait of its own, beside [`crate::Store`] and [`crate::AccountStore`],
//! because it is written on every read and never enters the shared log: an
//! access is not a change of the record. Entries hold ids and the route
//! template, never a name or a query string, so the access log itself holds
//! no personal data beyond who looked at which id.

use async_trait::async_trait;
use homeward_domain::PersonId;
use serde::Serialize;
use time::OffsetDateTime;

use crate::{StoreError, UserId};

/// One read of one person's record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessEntry {
    pub at: OffsetDateTime,
    pub user: UserId,
    /// The role the reader acted as, as `Role`'s Display spells it: `mediator`, `party_officer (A)`.
    pub role: String,
    pub person: PersonId,
    /// The route template (`GET /api/v1/persons/{id}`), never the raw URL.
    pub endpoint: String,
    pub outcome: AccessOutcome,
}

/// Whether the reader was shown the record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AccessOutcome {
    /// The record (or the part asked for) was shown.
    Shown,
    /// The record exists but is outside the reader's scope: the reader was
    /// answered "not found", as for an id that does not exist, and the
    /// mediator sees the attempt here (someone guessing ids shows up).
    Refused,
}

impl AccessOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Shown => "shown",
            Self::Refused => "refused",
        }
    }
}

impl std::str::FromStr for AccessOutcome {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        match s {
            "shown" => Ok(Self::Shown),
            "refused" => Ok(Self::Refused),
            _ => Err(()),
        }
    }
}

/// A stored entry with its sequence number, for paging.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccessRecord {
    pub seq: i64,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub user: UserId,
    pub username: Option<String>,
    pub role: String,
    pub person: PersonId,
    pub endpoint: String,
    pub outcome: AccessOutcome,
}

/// Which entries to read: newest first, before `before` when given.
#[derive(Debug, Clone, Default)]
pub struct AccessQuery {
    pub before: Option<i64>,
    pub person: Option<PersonId>,
    pub limit: u32,
}

#[async_trait]
pub trait AccessLogStore: Send + Sync + std::fmt::Debug {
    /// Appends entries, in one transaction.
    async fn record_access(&self, entries: &[AccessEntry]) -> Result<(), StoreError>;

    /// Reads entries, newest first.
    async fn access_log(&self, query: &AccessQuery) -> Result<Vec<AccessRecord>, StoreError>;
}
