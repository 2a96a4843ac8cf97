//! A family's tracing request: who asks (the enquirer), whom they seek, and
//! where the request stands. See docs/TRACING.md for the lifecycle.
//!
//! The key decision: what a family is told is a separate, explicit choice
//! ([`Disclosure`]) a caseworker makes when confirming a link; nothing about
//! the registry reaches a family before that, and never more than chosen.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::PartyCode;

/// A tracing request's id: UUID v7.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TracingRequestId(pub Uuid);

impl TracingRequestId {
    pub fn new() -> Self {
        Self(Uuid::now_v7())
    }
}

impl Default for TracingRequestId {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Display for TracingRequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Not a request id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a tracing request id: expected a UUID")]
pub struct InvalidRequestId;

impl FromStr for TracingRequestId {
    type Err = InvalidRequestId;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Uuid::parse_str(s.trim()).map(TracingRequestId).map_err(|_| InvalidRequestId)
    }
}

/// Where a request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestStatus {
    /// Filed; no candidate above the threshold yet.
    Open,
    /// Candidates wait for a caseworker.
    Candidates,
    /// A caseworker confirmed the link to a person.
    Confirmed,
    /// Closed without a link.
    Closed,
}

impl RequestStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RequestStatus::Open => "open",
            RequestStatus::Candidates => "candidates",
            RequestStatus::Confirmed => "confirmed",
            RequestStatus::Closed => "closed",
        }
    }

    /// Whether background matching still looks for candidates.
    pub fn is_searching(self) -> bool {
        matches!(self, RequestStatus::Open | RequestStatus::Candidates)
    }
}

impl FromStr for RequestStatus {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        [RequestStatus::Open, RequestStatus::Candidates, RequestStatus::Confirmed, RequestStatus::Closed]
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or(())
    }
}

/// The desk a request is assigned to: the mediator's, or a party's bureau.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Desk {
    Mediator,
    Bureau(PartyCode),
}

impl fmt::Display for Desk {
    /// `mediator` or `bureau:CODE`, as stored and logged.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Desk::Mediator => f.write_str("mediator"),
            Desk::Bureau(p) => write!(f, "bureau:{p}"),
        }
    }
}

/// Not a desk.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a desk: expected `mediator` or `bureau:CODE`")]
pub struct InvalidDesk;

impl FromStr for Desk {
    type Err = InvalidDesk;
    fn from_str(s: &str) -> Result<Self, InvalidDesk> {
        match s.trim() {
            "mediator" => Ok(Desk::Mediator),
            other => {
                let code = other.strip_prefix("bureau:").ok_or(InvalidDesk)?;
                PartyCode::parse(code).map(Desk::Bureau).map_err(|_| InvalidDesk)
            }
        }
    }
}

impl Serialize for Desk {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// What a family is told about a confirmed relative.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Disclosure {
    /// Alive, dead or unknown, only.
    Fate,
    /// The current status name and its date; never the place.
    Status,
}

impl Disclosure {
    pub fn as_str(self) -> &'static str {
        match self {
            Disclosure::Fate => "fate",
            Disclosure::Status => "status",
        }
    }
}

impl FromStr for Disclosure {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        match s.trim() {
            "fate" => Ok(Disclosure::Fate),
            "status" => Ok(Disclosure::Status),
            _ => Err(()),
        }
    }
}

/// A caseworker's decision on a candidate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    Confirmed,
    Rejected,
}

impl Decision {
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Confirmed => "confirmed",
            Decision::Rejected => "rejected",
        }
    }
}

impl FromStr for Decision {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        match s.trim() {
            "confirmed" => Ok(Decision::Confirmed),
            "rejected" => Ok(Decision::Rejected),
            _ => Err(()),
        }
    }
}

/// The person sought, as the family describes them (any script; only the
/// family name is required). Field names as in the person import.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SoughtPerson {
    pub family_name: String,
    #[serde(default)]
    pub given_names: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patronymic: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mother_maiden_name: Option<String>,
    /// `YYYY`, `YYYY-MM`, `YYYY-MM-DD`, `DD.MM.YYYY` or `MM.YYYY`, as given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub birth_date: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub place_of_birth: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn desks_and_levels_round_trip() {
        let a = Desk::Bureau(PartyCode::parse("A").unwrap());
        assert_eq!(a.to_string().parse::<Desk>().unwrap(), a);
        assert_eq!("mediator".parse::<Desk>().unwrap(), Desk::Mediator);
        assert!("bureau:".parse::<Desk>().is_err() && "x".parse::<Desk>().is_err());
        for s in [RequestStatus::Open, RequestStatus::Candidates, RequestStatus::Confirmed, RequestStatus::Closed] {
            assert_eq!(s.as_str().parse::<RequestStatus>().unwrap(), s);
        }
        assert_eq!("fate".parse::<Disclosure>().unwrap(), Disclosure::Fate);
        assert!("place".parse::<Disclosure>().is_err());
    }
}
