//! Capabilities: values made only from a role that passes the check.
//! Their fields are private, so no other code can forge one.

use homeward_domain::{ConflictSetup, PartyCode, PartyKind, Role};
use homeward_store::{IdentityVersion, PersonRecord, PersonStatus, PersonSummary};

/// Which persons a reader sees.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Every person (the mediator).
    All,
    /// Persons whose power is the party, or whom the party registered.
    Party(PartyCode),
}

/// The right to read person records, within a scope.
#[derive(Debug, Clone)]
pub struct Reader {
    scope: Scope,
}

impl Reader {
    /// The mediator reads everything, a party officer its party's scope; no other role reads persons.
    pub fn for_role(role: &Role) -> Option<Self> {
        match role {
            Role::Mediator => Some(Self { scope: Scope::All }),
            Role::PartyOfficer { party } => Some(Self { scope: Scope::Party(party.clone()) }),
            Role::Caseworker { .. } | Role::Family | Role::Auditor | Role::Admin => None,
        }
    }

    pub fn scope(&self) -> &Scope {
        &self.scope
    }

    /// Whether the reader sees this person (the rule in the module docs).
    pub fn may_see(&self, record: &PersonRecord) -> bool {
        match &self.scope {
            Scope::All => true,
            Scope::Party(party) => {
                primary(record).is_some_and(|p| &p.identity.power == party || &p.source.source == party)
            }
        }
    }

    /// The same rule on a status read, which carries the primary identity's power and source.
    pub fn may_see_status(&self, s: &PersonStatus) -> bool {
        match &self.scope {
            Scope::All => true,
            Scope::Party(party) => &s.power == party || &s.source == party,
        }
    }

    /// The same rule on a listing line, which carries the primary identity.
    pub fn may_see_summary(&self, s: &PersonSummary) -> bool {
        match &self.scope {
            Scope::All => true,
            Scope::Party(party) => &s.power == party || &s.source.source == party,
        }
    }
}

/// The right to search the registry for candidates (staff search), within
/// a scope: the mediator every person, a party officer what it may read. A
/// caseworker does not search: it sees its desk's requests and their
/// candidates ([`CandidateReader`]). A family never searches the registry:
/// its request is matched in the background and a caseworker decides.
#[derive(Debug, Clone)]
pub struct Searcher {
    reader: Reader,
}

impl Searcher {
    pub fn for_role(role: &Role) -> Option<Self> {
        // Whoever may read persons may search them, within what it may read.
        // Caseworkers may not: DESIGN.md's roles table gives them the
        // requests of their desk and those requests' candidates, never a free
        // search over the registry (docs/TRACING.md).
        Reader::for_role(role).map(|reader| Self { reader })
    }

    pub fn reader(&self) -> &Reader {
        &self.reader
    }
}

/// The right to read the persons proposed as candidates of a tracing
/// request, once the caller has been found to see that request (its desk's
/// caseworker, or the mediator), and only through a request's candidates:
/// at the mediator's desk every person; at a party's bureau what that
/// party's officers may read, no more.
#[derive(Debug, Clone)]
pub struct CandidateReader {
    reader: Reader,
}

impl CandidateReader {
    pub fn for_role(role: &Role) -> Option<Self> {
        let scope = match role {
            Role::Mediator | Role::Caseworker { bureau: None } => Scope::All,
            Role::Caseworker { bureau: Some(party) } => Scope::Party(party.clone()),
            Role::PartyOfficer { .. } | Role::Family | Role::Auditor | Role::Admin => return None,
        };
        Some(Self { reader: Reader { scope } })
    }

    pub fn reader(&self) -> &Reader {
        &self.reader
    }
}

/// The primary identity: the source record that created the person (the
/// earliest recorded), at its latest version. Listings show the same one.
pub fn primary(record: &PersonRecord) -> Option<&IdentityVersion> {
    let first = record.identities.first()?;
    record.identities.iter().filter(|v| v.source == first.source).max_by_key(|v| v.version)
}

/// The right to register persons (one at a time or by import) as a party's source.
#[derive(Debug, Clone)]
pub struct Registrar {
    party: PartyCode,
}

impl Registrar {
    /// Party officers register as their own party. The mediator reports
    /// status events but does not register persons: parties register the
    /// people they hold and their own missing.
    pub fn for_role(role: &Role) -> Option<Self> {
        match role {
            Role::PartyOfficer { party } => Some(Self { party: party.clone() }),
            _ => None,
        }
    }

    pub fn party(&self) -> &PartyCode {
        &self.party
    }
}

/// The right to append status events to the persons one may see, reported by one's party.
#[derive(Debug, Clone)]
pub struct Reporter {
    reader: Reader,
    party: PartyCode,
}

impl Reporter {
    /// Party officers report as their party; the mediator as the conflict's
    /// mediator party (handovers, refusals after its interview). `None` for
    /// every other role, and for the mediator before the conflict is set up.
    pub fn for_role(role: &Role, setup: Option<&ConflictSetup>) -> Option<Self> {
        let reader = Reader::for_role(role)?;
        let party = match role {
            Role::PartyOfficer { party } => party.clone(),
            Role::Mediator => setup?.parties.iter().find(|p| p.kind == PartyKind::Mediator)?.code.clone(),
            _ => return None,
        };
        Some(Self { reader, party })
    }

    pub fn reader(&self) -> &Reader {
        &self.reader
    }

    pub fn party(&self) -> &PartyCode {
        &self.party
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(s: &str) -> PartyCode {
        PartyCode::parse(s).unwrap()
    }

    #[test]
    fn only_the_mediator_and_party_officers_read_persons() {
        assert_eq!(Reader::for_role(&Role::Mediator).unwrap().scope(), &Scope::All);
        let officer = Role::PartyOfficer { party: code("A") };
        assert_eq!(Reader::for_role(&officer).unwrap().scope(), &Scope::Party(code("A")));
        for role in [Role::Caseworker { bureau: None }, Role::Family, Role::Auditor, Role::Admin] {
            assert!(Reader::for_role(&role).is_none(), "{role}");
            assert!(Registrar::for_role(&role).is_none(), "{role}");
            assert!(Reporter::for_role(&role, None).is_none(), "{role}");
        }
        assert!(Registrar::for_role(&Role::Mediator).is_none());
        assert_eq!(Searcher::for_role(&officer).unwrap().reader().scope(), &Scope::Party(code("A")));
        let bureau = Role::Caseworker { bureau: Some(code("A")) };
        for role in [Role::Caseworker { bureau: None }, bureau.clone(), Role::Family, Role::Auditor, Role::Admin] {
            assert!(Searcher::for_role(&role).is_none(), "{role}");
        }
        for role in [Role::Caseworker { bureau: None }, Role::Mediator] {
            assert_eq!(CandidateReader::for_role(&role).unwrap().reader().scope(), &Scope::All);
        }
        assert_eq!(CandidateReader::for_role(&bureau).unwrap().reader().scope(), &Scope::Party(code("A")));
        for role in [officer.clone(), Role::Family, Role::Auditor, Role::Admin] {
            assert!(CandidateReader::for_role(&role).is_none(), "{role}");
        }
        assert_eq!(Registrar::for_role(&officer).unwrap().party(), &code("A"));
    }
}
