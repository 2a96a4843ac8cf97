//! A conflict's setup: the parties, the mediator and the handover points.
//!
//! Parties are identified by short codes chosen by the deployment ("A", "B",
//! "UA", "ICRC"...). The code never implies a side: both parties get the same
//! functions, and the mediator is just a party of kind `mediator`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A party's short code: 1-16 characters, A-Z, 0-9, `-` or `_`, starting with a letter.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PartyCode(String);

/// Why a party code did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidPartyCode {
    #[error("party code is empty")]
    Empty,
    #[error("party code is longer than 16 characters")]
    TooLong,
    #[error("party code must start with a letter A-Z and use only A-Z, 0-9, '-' and '_'")]
    BadCharacter,
}

impl PartyCode {
    pub fn parse(raw: &str) -> Result<Self, InvalidPartyCode> {
        let code = raw.trim().to_ascii_uppercase();
        if code.is_empty() {
            return Err(InvalidPartyCode::Empty);
        }
        if code.len() > 16 {
            return Err(InvalidPartyCode::TooLong);
        }
        let mut chars = code.chars();
        let first_ok = chars.next().is_some_and(|c| c.is_ascii_uppercase());
        if !first_ok || !code.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '-' || c == '_') {
            return Err(InvalidPartyCode::BadCharacter);
        }
        Ok(Self(code))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for PartyCode {
    type Err = InvalidPartyCode;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<String> for PartyCode {
    type Error = InvalidPartyCode;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<PartyCode> for String {
    fn from(c: PartyCode) -> String {
        c.0
    }
}

impl fmt::Display for PartyCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Whether an organisation is a party to the conflict or the neutral mediator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PartyKind {
    Party,
    Mediator,
}

impl PartyKind {
    pub fn as_str(self) -> &'static str {
        match self {
            PartyKind::Party => "party",
            PartyKind::Mediator => "mediator",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "party" => Some(PartyKind::Party),
            "mediator" => Some(PartyKind::Mediator),
            _ => None,
        }
    }
}

/// A party to the conflict, or the mediator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Party {
    pub code: PartyCode,
    pub name: String,
    pub kind: PartyKind,
}

/// A place where people are handed over, usually in a third country.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HandoverPoint {
    pub code: String,
    pub name: String,
    pub country: String,
}

/// Everything that defines a conflict in homeward.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConflictSetup {
    pub name: String,
    pub parties: Vec<Party>,
    #[serde(default)]
    pub handover_points: Vec<HandoverPoint>,
}

/// Why a conflict setup is not usable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidSetup {
    #[error("the conflict needs a name")]
    NoName,
    #[error("a conflict has exactly two parties of kind `party`; this setup has {0}")]
    PartyCount(usize),
    #[error("a conflict has exactly one mediator; this setup has {0}")]
    MediatorCount(usize),
    #[error("party code {0} is used twice")]
    DuplicateCode(String),
    #[error("handover point code {0} is used twice")]
    DuplicateHandoverPoint(String),
    #[error("{0} needs a name")]
    UnnamedParty(String),
    /// The field (`name`, `parties.CODE.name`, `handover_points[0].country`...), never its value.
    #[error("{0}: contains control characters")]
    ControlCharacters(String),
}

impl ConflictSetup {
    /// Checks the shape every later rule relies on: two parties, one mediator, unique codes.
    pub fn validate(&self) -> Result<(), InvalidSetup> {
        if self.name.trim().is_empty() {
            return Err(InvalidSetup::NoName);
        }
        // The free-text rule of every other input (crate::text). Handover
        // points by position: their codes are free text too.
        let texts = std::iter::once(("name".to_owned(), &self.name))
            .chain(self.parties.iter().map(|p| (format!("parties.{}.name", p.code), &p.name)))
            .chain(self.handover_points.iter().enumerate().flat_map(|(i, h)| {
                [
                    (format!("handover_points[{i}].code"), &h.code),
                    (format!("handover_points[{i}].name"), &h.name),
                    (format!("handover_points[{i}].country"), &h.country),
                ]
            }));
        for (field, value) in texts {
            if crate::text::has_control(value) {
                return Err(InvalidSetup::ControlCharacters(field));
            }
        }
        let parties = self.parties.iter().filter(|p| p.kind == PartyKind::Party).count();
        if parties != 2 {
            return Err(InvalidSetup::PartyCount(parties));
        }
        let mediators = self.parties.len() - parties;
        if mediators != 1 {
            return Err(InvalidSetup::MediatorCount(mediators));
        }
        let mut seen = std::collections::HashSet::new();
        for p in &self.parties {
            if p.name.trim().is_empty() {
                return Err(InvalidSetup::UnnamedParty(p.code.to_string()));
            }
            if !seen.insert(p.code.as_str()) {
                return Err(InvalidSetup::DuplicateCode(p.code.to_string()));
            }
        }
        let mut seen = std::collections::HashSet::new();
        for h in &self.handover_points {
            if !seen.insert(h.code.as_str()) {
                return Err(InvalidSetup::DuplicateHandoverPoint(h.code.clone()));
            }
        }
        Ok(())
    }

    /// The same setup in a canonical order (parties and handover points by
    /// code), as the store returns it: two setups are the same conflict
    /// when their canonical forms are equal, and the log commits to this form.
    pub fn canonical(mut self) -> Self {
        self.parties.sort_by(|a, b| a.code.cmp(&b.code));
        self.handover_points.sort_by(|a, b| a.code.cmp(&b.code));
        self
    }

    pub fn party(&self, code: &PartyCode) -> Option<&Party> {
        self.parties.iter().find(|p| &p.code == code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn party(code: &str, kind: PartyKind) -> Party {
        Party { code: PartyCode::parse(code).unwrap(), name: format!("Party {code}"), kind }
    }

    #[test]
    fn party_codes_are_normalised_and_checked() {
        assert_eq!(PartyCode::parse(" ua ").unwrap().as_str(), "UA");
        assert_eq!(PartyCode::parse(""), Err(InvalidPartyCode::Empty));
        assert_eq!(PartyCode::parse("1A"), Err(InvalidPartyCode::BadCharacter));
        assert_eq!(PartyCode::parse("A B"), Err(InvalidPartyCode::BadCharacter));
        assert_eq!(PartyCode::parse("ABCDEFGHIJKLMNOPQ"), Err(InvalidPartyCode::TooLong));
    }

    #[test]
    fn setup_needs_two_parties_and_one_mediator() {
        let mut setup = ConflictSetup {
            name: "demo".into(),
            parties: vec![party("A", PartyKind::Party), party("B", PartyKind::Party), party("M", PartyKind::Mediator)],
            handover_points: vec![],
        };
        assert_eq!(setup.validate(), Ok(()));
        setup.parties.push(party("C", PartyKind::Party));
        assert_eq!(setup.validate(), Err(InvalidSetup::PartyCount(3)));
        setup.parties.pop();
        setup.parties.push(party("A", PartyKind::Mediator));
        assert_eq!(setup.validate(), Err(InvalidSetup::MediatorCount(2)));
        setup.parties.pop();
        setup.parties[2].kind = PartyKind::Party;
        assert_eq!(setup.validate(), Err(InvalidSetup::PartyCount(3)));
    }

    #[test]
    fn setup_texts_hold_no_control_characters() {
        let mut setup = ConflictSetup {
            name: "demo".into(),
            parties: vec![party("A", PartyKind::Party), party("B", PartyKind::Party), party("M", PartyKind::Mediator)],
            handover_points: vec![HandoverPoint { code: "H1".into(), name: "Bridge".into(), country: "X".into() }],
        };
        assert_eq!(setup.validate(), Ok(()));
        setup.handover_points[0].country = "X\0".into();
        assert_eq!(setup.validate(), Err(InvalidSetup::ControlCharacters("handover_points[0].country".into())));
        setup.parties[1].name = "Party\u{1b}B".into();
        assert_eq!(setup.validate(), Err(InvalidSetup::ControlCharacters("parties.B.name".into())));
    }
}
