//! Identifiers. Persons get UUID v7 ids: unique without coordination between
//! deployments, and time-ordered so that B-tree inserts stay sequential.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// homeward's own id for a person, independent of any source's record id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PersonId(pub Uuid);

impl PersonId {
    /// A fresh, time-ordered id.
    pub fn new() -> Self {
        Self(Uuid::now_v7())
    }
}

impl Default for PersonId {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Display for PersonId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A person id that did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a person id: expected a UUID such as 0190c6e2-7d1a-7cc0-9a4e-2f1c3b5d6e7f")]
pub struct InvalidPersonId;

impl FromStr for PersonId {
    type Err = InvalidPersonId;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Uuid::parse_str(s.trim()).map(PersonId).map_err(|_| InvalidPersonId)
    }
}
