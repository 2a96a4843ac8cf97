//! The status lifecycle of a captured or missing person, as an explicit
//! state machine. Every transition is either allowed or refused with a reason
//! a bureau officer can act on; the rules are data (`next_states`) so that the
//! UI can offer only what is possible and tests can walk every pair.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::FieldError;
use crate::date::PartialDate;

/// Where a person stands. See DESIGN.md, "Status events".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Missing,
    Captured,
    Held,
    Hospitalised,
    Nominated,
    HandedOver,
    Repatriated,
    FamilyContacted,
    Released,
    Escaped,
    RefusedRepatriation,
    Deceased,
    RemainsReturned,
}

use Status::*;

impl Status {
    pub const ALL: [Status; 13] = [
        Missing,
        Captured,
        Held,
        Hospitalised,
        Nominated,
        HandedOver,
        Repatriated,
        FamilyContacted,
        Released,
        Escaped,
        RefusedRepatriation,
        Deceased,
        RemainsReturned,
    ];

    /// States a new record may start in: what a bureau or a family can first report.
    pub const INITIAL: [Status; 5] = [Missing, Captured, Held, Hospitalised, Deceased];

    pub fn as_str(self) -> &'static str {
        match self {
            Missing => "missing",
            Captured => "captured",
            Held => "held",
            Hospitalised => "hospitalised",
            Nominated => "nominated",
            HandedOver => "handed_over",
            Repatriated => "repatriated",
            FamilyContacted => "family_contacted",
            Released => "released",
            Escaped => "escaped",
            RefusedRepatriation => "refused_repatriation",
            Deceased => "deceased",
            RemainsReturned => "remains_returned",
        }
    }

    /// The states that may follow this one. `held` and `hospitalised` may
    /// follow themselves: that is a transfer to another place.
    pub fn next_states(self) -> &'static [Status] {
        match self {
            Missing => &[Captured, Held, Hospitalised, Deceased],
            Captured => &[Held, Hospitalised, Escaped, Released, Deceased],
            Held => &[Held, Hospitalised, Nominated, Escaped, Released, Deceased],
            Hospitalised => &[Held, Hospitalised, Nominated, Escaped, Released, Deceased],
            // Not handed over this time (did not appear, list changed): back to held.
            Nominated => &[Held, Hospitalised, HandedOver, RefusedRepatriation, Escaped, Deceased],
            // The first call home often comes from the transit country, before arrival.
            HandedOver => &[Repatriated, FamilyContacted, Deceased],
            Repatriated => &[FamilyContacted],
            FamilyContacted => &[Repatriated],
            Released => &[Repatriated, FamilyContacted, Deceased],
            Escaped => &[Captured, Missing, Repatriated, FamilyContacted, Deceased],
            // A person who refused may still be released locally, or change their mind.
            RefusedRepatriation => &[Held, Released, Nominated, Deceased],
            Deceased => &[RemainsReturned],
            RemainsReturned => &[],
        }
    }

    /// Whether `next` may follow `previous` (`None`: a new record).
    pub fn check_transition(previous: Option<Status>, next: Status) -> Result<(), TransitionError> {
        let allowed = match previous {
            None => Self::INITIAL.contains(&next),
            Some(p) => p.next_states().contains(&next),
        };
        if allowed {
            Ok(())
        } else {
            Err(TransitionError { from: previous, to: next, reason: refusal_reason(previous, next) })
        }
    }
}

fn list(states: &[Status]) -> String {
    if states.is_empty() {
        return "nothing".to_owned();
    }
    states.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
}

/// A reason a person can act on: the rule first, then what is possible instead.
fn refusal_reason(previous: Option<Status>, next: Status) -> String {
    let Some(from) = previous else {
        return format!(
            "a new record must start as one of: {}; `{}` needs earlier events",
            list(&Status::INITIAL),
            next.as_str()
        );
    };
    let rule = match (from, next) {
        (a, b) if a == b => format!("the person is already `{}`", a.as_str()),
        (RemainsReturned, _) => "the return of remains closes the record".to_owned(),
        (Deceased, _) => "the person is recorded as deceased; only the return of remains can follow \
             (a death recorded in error must be corrected by amending the record, not by a new status)"
            .to_owned(),
        (_, RemainsReturned) => "remains can be returned only for a person recorded as deceased".to_owned(),
        (_, HandedOver) => "a handover needs the person on a signed exchange list first (`nominated`)".to_owned(),
        (_, Nominated) => "only a person held or hospitalised by a party can be nominated for exchange".to_owned(),
        (_, RefusedRepatriation) => {
            "a refusal of repatriation is recorded at the handover, after the mediator's interview, \
             for a nominated person"
                .to_owned()
        }
        (_, Repatriated) => "repatriation follows a handover, a release or an escape".to_owned(),
        (_, Missing) => "a person whose whereabouts are known cannot become missing".to_owned(),
        (Repatriated | FamilyContacted | Released, Captured | Held | Hospitalised) => {
            "a person who is home or released is no longer in captivity; a new capture is a new record".to_owned()
        }
        _ => format!("`{}` cannot follow `{}`", next.as_str(), from.as_str()),
    };
    format!("{rule}; after `{}` the record may become: {}", from.as_str(), list(from.next_states()))
}

/// A refused transition, with the reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{}` cannot follow `{}`: {reason}", to.as_str(), from.map_or("(new record)", Status::as_str))]
pub struct TransitionError {
    pub from: Option<Status>,
    pub to: Status,
    pub reason: String,
}

/// A status name that is not one of homeward's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown status; expected one of: {}", list(&Status::ALL))]
pub struct UnknownStatus;

impl FromStr for Status {
    type Err = UnknownStatus;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim().to_ascii_lowercase().replace([' ', '-'], "_");
        let s = if s == "hospitalized" { "hospitalised".to_owned() } else { s };
        Status::ALL.into_iter().find(|st| st.as_str() == s).ok_or(UnknownStatus)
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A reported status change, before it is stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusEvent {
    pub status: Status,
    /// When it happened, as precisely as known (not when it was recorded).
    pub occurred_on: Option<PartialDate>,
    /// Camp, hospital, handover point, place of death.
    pub place: Option<String>,
    /// Cause of death, circumstances; free text.
    pub details: Option<String>,
}

impl StatusEvent {
    /// Longest place, in characters.
    pub const MAX_PLACE: usize = 500;
    /// Longest details, in characters.
    pub const MAX_DETAILS: usize = 2000;

    pub fn new(status: Status) -> Self {
        Self { status, occurred_on: None, place: None, details: None }
    }

    /// The rules an event must meet wherever it comes from (the API, the
    /// command line; the CSV import checks the same through its columns):
    /// place and details under the free-text rule, and a date no later than
    /// tomorrow. Every problem, named by field (`occurred_on`, `place`,
    /// `details`), never quoting the value.
    pub fn check(&self, today: time::Date) -> Result<(), Vec<FieldError>> {
        let mut errors = Vec::new();
        if let Err(e) = crate::date::check_not_future("occurred_on", self.occurred_on, today) {
            errors.push(e);
        }
        crate::text::free_text("place", self.place.as_deref(), Self::MAX_PLACE, &mut errors);
        crate::text::free_text("details", self.details.as_deref(), Self::MAX_DETAILS, &mut errors);
        if errors.is_empty() { Ok(()) } else { Err(errors) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every pair of states, written out independently of `next_states`.
    /// Rows: from (the first row is a new record); columns in `Status::ALL`
    /// order: mis cap hel hos nom han rep fam rel esc ref dec rem.
    const TABLE: [(&str, &str); 14] = [
        ("(new)", "x x x x . . . . . . . x ."),
        ("missing", ". x x x . . . . . . . x ."),
        ("captured", ". . x x . . . . x x . x ."),
        ("held", ". . x x x . . . x x . x ."),
        ("hospitalised", ". . x x x . . . x x . x ."),
        ("nominated", ". . x x . x . . . x x x ."),
        ("handed_over", ". . . . . . x x . . . x ."),
        ("repatriated", ". . . . . . . x . . . . ."),
        ("family_contacted", ". . . . . . x . . . . . ."),
        ("released", ". . . . . . x x . . . x ."),
        ("escaped", "x x . . . . x x . . . x ."),
        ("refused_repatriation", ". . x . x . . . x . . x ."),
        ("deceased", ". . . . . . . . . . . . x"),
        ("remains_returned", ". . . . . . . . . . . . ."),
    ];

    #[test]
    fn every_pair_of_states_is_allowed_or_refused_with_a_reason() {
        let mut checked = 0;
        for (row, (from_name, cells)) in TABLE.iter().enumerate() {
            let from = if row == 0 { None } else { Some(from_name.parse::<Status>().unwrap()) };
            let cells: Vec<&str> = cells.split(' ').collect();
            assert_eq!(cells.len(), Status::ALL.len(), "row {from_name}");
            for (to, cell) in Status::ALL.into_iter().zip(cells) {
                let result = Status::check_transition(from, to);
                match cell {
                    "x" => assert_eq!(result, Ok(()), "{from_name} -> {to} should be allowed"),
                    "." => {
                        let err = result.expect_err(&format!("{from_name} -> {to} should be refused"));
                        let text = err.to_string();
                        assert!(text.contains(to.as_str()), "{text}");
                        if let Some(f) = from {
                            assert!(text.contains(f.as_str()), "{text}");
                        }
                        assert!(err.reason.len() > 20, "reason too thin: {text}");
                    }
                    other => panic!("bad cell {other}"),
                }
                checked += 1;
            }
        }
        assert_eq!(checked, 14 * 13);
    }

    #[test]
    fn reasons_say_what_to_do() {
        let err = Status::check_transition(Some(Deceased), Held).unwrap_err();
        assert!(err.reason.contains("only the return of remains"), "{err}");
        let err = Status::check_transition(Some(Held), HandedOver).unwrap_err();
        assert!(err.reason.contains("exchange list"), "{err}");
        let err = Status::check_transition(None, Repatriated).unwrap_err();
        assert!(err.reason.contains("must start as one of"), "{err}");
        let err = Status::check_transition(Some(Missing), Missing).unwrap_err();
        assert!(err.reason.contains("already"), "{err}");
    }

    #[test]
    fn names_round_trip() {
        for s in Status::ALL {
            assert_eq!(s.as_str().parse::<Status>(), Ok(s));
        }
        assert_eq!("Handed over".parse::<Status>(), Ok(HandedOver));
        assert_eq!("hospitalized".parse::<Status>(), Ok(Hospitalised));
        assert!("home".parse::<Status>().is_err());
    }
}
