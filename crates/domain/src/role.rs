//! Who a user is to homeward: one role per account, from the roles table of
//! DESIGN.md. A party officer's role carries its party, so "officer of which
//! party" can never be forgotten: code that matches on [`Role::PartyOfficer`]
//! gets the party with it.
//!
//! [`Username`] lives here too because it is parsed like every other value
//! that enters homeward, and because it is what a role is attached to.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::PartyCode;

/// A user's role. Serialised as `{"role": "party_officer", "party": "A"}`;
/// a caseworker at a party's bureau as `{"role": "caseworker", "bureau": "A"}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "role", rename_all = "snake_case")]
pub enum Role {
    /// The neutral mediator: sees every record.
    Mediator,
    /// A party's information bureau: sees the people that party holds and its own people.
    PartyOfficer { party: PartyCode },
    /// Reviews the tracing requests assigned to its desk: the mediator's
    /// desk when `bureau` is `None`, otherwise that party's bureau.
    Caseworker {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        bureau: Option<PartyCode>,
    },
    /// An enquirer: sees only their own requests.
    Family,
    /// Sees the public log: checkpoints, proofs, communiqués; no personal data.
    Auditor,
    /// Runs the deployment: users, keys, backups; no case data by default.
    Admin,
}

/// A role without its party, for parsing, storage columns and listings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoleKind {
    Mediator,
    PartyOfficer,
    Caseworker,
    Family,
    Auditor,
    Admin,
}

impl RoleKind {
    pub const ALL: [RoleKind; 6] = [
        RoleKind::Mediator,
        RoleKind::PartyOfficer,
        RoleKind::Caseworker,
        RoleKind::Family,
        RoleKind::Auditor,
        RoleKind::Admin,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RoleKind::Mediator => "mediator",
            RoleKind::PartyOfficer => "party_officer",
            RoleKind::Caseworker => "caseworker",
            RoleKind::Family => "family",
            RoleKind::Auditor => "auditor",
            RoleKind::Admin => "admin",
        }
    }
}

impl fmt::Display for RoleKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A role name that is not one of homeward's roles.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown role; the roles are mediator, party_officer, caseworker, family, auditor, admin")]
pub struct UnknownRole;

impl FromStr for RoleKind {
    type Err = UnknownRole;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim().to_ascii_lowercase().replace('-', "_");
        RoleKind::ALL.into_iter().find(|k| k.as_str() == s).ok_or(UnknownRole)
    }
}

/// Why a role and party do not make a role.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidRole {
    #[error("a party officer needs a party (--party CODE)")]
    MissingParty,
    #[error("only a party officer or a bureau's caseworker has a party; {0} has none")]
    UnexpectedParty(RoleKind),
}

impl Role {
    /// Builds a role from its kind and party: the party is required for a
    /// party officer, optional for a caseworker (its bureau; none: the
    /// mediator's desk) and refused for every other role.
    pub fn new(kind: RoleKind, party: Option<PartyCode>) -> Result<Self, InvalidRole> {
        match (kind, party) {
            (RoleKind::PartyOfficer, Some(party)) => Ok(Role::PartyOfficer { party }),
            (RoleKind::PartyOfficer, None) => Err(InvalidRole::MissingParty),
            (RoleKind::Caseworker, bureau) => Ok(Role::Caseworker { bureau }),
            (kind, Some(_)) => Err(InvalidRole::UnexpectedParty(kind)),
            (RoleKind::Mediator, None) => Ok(Role::Mediator),
            (RoleKind::Family, None) => Ok(Role::Family),
            (RoleKind::Auditor, None) => Ok(Role::Auditor),
            (RoleKind::Admin, None) => Ok(Role::Admin),
        }
    }

    pub fn kind(&self) -> RoleKind {
        match self {
            Role::Mediator => RoleKind::Mediator,
            Role::PartyOfficer { .. } => RoleKind::PartyOfficer,
            Role::Caseworker { .. } => RoleKind::Caseworker,
            Role::Family => RoleKind::Family,
            Role::Auditor => RoleKind::Auditor,
            Role::Admin => RoleKind::Admin,
        }
    }

    /// The party of a party officer, or the bureau of a bureau's caseworker.
    pub fn party(&self) -> Option<&PartyCode> {
        match self {
            Role::PartyOfficer { party } => Some(party),
            Role::Caseworker { bureau } => bureau.as_ref(),
            _ => None,
        }
    }

    /// Mediator, party officers and caseworkers work on case data; families,
    /// auditors and admins do not.
    pub fn is_staff(&self) -> bool {
        matches!(self, Role::Mediator | Role::PartyOfficer { .. } | Role::Caseworker { .. })
    }

    /// Whether a holder of `self` may hand out an API token scoped to
    /// `scope`: the same role, or the auditor's, which sees no personal data.
    /// A token never carries more than its user.
    pub fn may_delegate(&self, scope: &Role) -> bool {
        scope == self || *scope == Role::Auditor
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Role::PartyOfficer { party } => write!(f, "party_officer ({party})"),
            Role::Caseworker { bureau: Some(party) } => write!(f, "caseworker ({party})"),
            other => f.write_str(other.kind().as_str()),
        }
    }
}

/// A login name: 3-64 characters, lowercase a-z, 0-9, `.`, `_`, `-`,
/// starting with a letter or digit. Kept ASCII so that two names that look
/// alike are the same name (no Cyrillic "а" beside a Latin "a").
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Username(String);

/// Why a username did not parse. The message never repeats the input: a
/// password typed into the username field must not reach a log.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("username must be 3-64 characters: a-z, 0-9, '.', '_' or '-', starting with a letter or digit")]
pub struct InvalidUsername;

impl Username {
    pub fn parse(raw: &str) -> Result<Self, InvalidUsername> {
        let name = raw.trim().to_ascii_lowercase();
        let ok_len = (3..=64).contains(&name.len());
        let ok_first = name.chars().next().is_some_and(|c| c.is_ascii_alphanumeric());
        let ok_chars =
            name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'));
        if ok_len && ok_first && ok_chars { Ok(Self(name)) } else { Err(InvalidUsername) }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for Username {
    type Err = InvalidUsername;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<String> for Username {
    type Error = InvalidUsername;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<Username> for String {
    fn from(u: Username) -> String {
        u.0
    }
}

impl fmt::Display for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(s: &str) -> PartyCode {
        PartyCode::parse(s).unwrap()
    }

    #[test]
    fn a_party_officer_needs_a_party_and_no_one_else_has_one() {
        assert_eq!(Role::new(RoleKind::PartyOfficer, Some(code("A"))), Ok(Role::PartyOfficer { party: code("A") }));
        assert_eq!(Role::new(RoleKind::PartyOfficer, None), Err(InvalidRole::MissingParty));
        assert_eq!(
            Role::new(RoleKind::Mediator, Some(code("A"))),
            Err(InvalidRole::UnexpectedParty(RoleKind::Mediator))
        );
        for kind in RoleKind::ALL.into_iter().filter(|k| *k != RoleKind::PartyOfficer) {
            assert_eq!(Role::new(kind, None).unwrap().kind(), kind);
        }
        // A caseworker works the mediator's desk, or a party's bureau.
        assert_eq!(Role::new(RoleKind::Caseworker, None), Ok(Role::Caseworker { bureau: None }));
        let bureau = Role::new(RoleKind::Caseworker, Some(code("B"))).unwrap();
        assert_eq!(bureau, Role::Caseworker { bureau: Some(code("B")) });
        assert_eq!(bureau.party(), Some(&code("B")));
        assert_eq!(bureau.to_string(), "caseworker (B)");
        for kind in [RoleKind::Family, RoleKind::Auditor, RoleKind::Admin] {
            assert_eq!(Role::new(kind, Some(code("A"))), Err(InvalidRole::UnexpectedParty(kind)));
        }
    }

    #[test]
    fn role_names_parse_and_round_trip() {
        for kind in RoleKind::ALL {
            assert_eq!(kind.as_str().parse::<RoleKind>(), Ok(kind));
        }
        assert_eq!("Party-Officer".parse::<RoleKind>(), Ok(RoleKind::PartyOfficer));
        assert_eq!("root".parse::<RoleKind>(), Err(UnknownRole));
        let json = serde_json::to_string(&Role::PartyOfficer { party: code("B") }).unwrap();
        assert_eq!(json, r#"{"role":"party_officer","party":"B"}"#);
        assert_eq!(serde_json::from_str::<Role>(&json).unwrap(), Role::PartyOfficer { party: code("B") });
        let mediators_desk = Role::Caseworker { bureau: None };
        assert_eq!(serde_json::to_string(&mediators_desk).unwrap(), r#"{"role":"caseworker"}"#);
        assert_eq!(serde_json::from_str::<Role>(r#"{"role":"caseworker"}"#).unwrap(), mediators_desk);
        let bureau = Role::Caseworker { bureau: Some(code("A")) };
        let json = serde_json::to_string(&bureau).unwrap();
        assert_eq!(json, r#"{"role":"caseworker","bureau":"A"}"#);
        assert_eq!(serde_json::from_str::<Role>(&json).unwrap(), bureau);
    }

    #[test]
    fn tokens_never_carry_more_than_their_user() {
        let officer = Role::PartyOfficer { party: code("A") };
        assert!(officer.may_delegate(&officer));
        assert!(officer.may_delegate(&Role::Auditor));
        assert!(!officer.may_delegate(&Role::Mediator));
        assert!(!officer.may_delegate(&Role::PartyOfficer { party: code("B") }));
    }

    #[test]
    fn usernames_are_ascii_and_lowercased() {
        assert_eq!(Username::parse(" Officer.A ").unwrap().as_str(), "officer.a");
        for bad in ["ab", "", "-lead", "with space", "оfficer", &"x".repeat(65)] {
            assert_eq!(Username::parse(bad), Err(InvalidUsername), "{bad}");
        }
    }
}

/// The SHA-256 of a session or token secret: what the database holds, so
/// that a copy of the database lets nobody log in.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct SecretHash(pub [u8; 32]);

impl std::fmt::Debug for SecretHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Even the hash stays out of logs: it is the lookup key of a live session.
        f.write_str("SecretHash(..)")
    }
}
