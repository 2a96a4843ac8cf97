//! Deterministic demo and benchmark data for homeward: a neutral conflict
//! (parties `A` and `B`, mediator `M`, handover points in a third country)
//! and a stream of persons whose identities are written the way each
//! party's bureau would write them, with status histories that tell the
//! story of DESIGN.md, including the June 19 exchange.
//!
//! The key decisions:
//! - **A seed fixes everything, and persons stream.** Person `i` is drawn
//!   from its own generator seeded by `(seed, i)` (SplitMix64, written out
//!   in this crate so that no dependency upgrade can change the data), and
//!   [`demo_persons`] yields them one at a time: a 1,000,000-row benchmark
//!   file needs no more memory than a ten-row demo.
//! - **Names are data, spellings are sources.** Each name is kept in its
//!   Ukrainian and Russian Cyrillic forms by hand; Latin forms follow the
//!   schemes that real documents use (Ukrainian national 2010, Russian
//!   passport ICAO, BGN/PCGN, conventional English). A record is written in
//!   the script of the party that registered it, so the same Олександр
//!   appears as Александр, Oleksandr, Aleksandr and Alexander across the data
//!   set: the material matching is built for.
//! - **Every history is legal.** Timelines are built only from transitions
//!   that [`Status::check_transition`] accepts, with dates that never run
//!   backwards; the tests replay every generated person through the state
//!   machine.
//!
//! `cargo run --release -p homeward-demo --example demo_csv -- 1000000 > persons.csv`
//! writes a benchmark import file.
//!
//! Party A's bureau writes Ukrainian and party B's Russian; nothing else in
//! the data favours either side, and both get the same scenarios at the
//! same rates.

mod calendar;
mod csv;
mod forms;
mod generate;
mod rng;
mod tables;
mod translit;

use homeward_domain::{
    ConflictSetup, HandoverPoint, PartialDate, Party, PartyCode, PartyKind, PersonIdentity, SourceRef, Status,
    StatusEvent,
};

pub use crate::csv::{CSV_HEADER, write_csv};

use crate::calendar::Day;

/// The code of the handover point of the June 19 exchange.
pub const BORDER_BY: &str = "BORDER-BY";
/// The code of the second handover point.
pub const AIRPORT_TR: &str = "AIRPORT-TR";

/// The name of the story's exchange, as it appears in status details.
pub const JUNE_19_EXCHANGE: &str = "June 19 exchange (Istanbul agreement)";

/// The demo conflict: two parties, a mediator, two handover points in third countries.
pub fn demo_setup() -> ConflictSetup {
    let code = |c: &str| PartyCode::parse(c).expect("a valid party code");
    ConflictSetup {
        name: "Demo conflict (fictional)".to_owned(),
        parties: vec![
            Party { code: code("A"), name: "Party A (Ukrainian-speaking)".to_owned(), kind: PartyKind::Party },
            Party { code: code("B"), name: "Party B (Russian-speaking)".to_owned(), kind: PartyKind::Party },
            Party { code: code("M"), name: "Neutral mediator".to_owned(), kind: PartyKind::Mediator },
        ],
        handover_points: vec![
            HandoverPoint {
                code: BORDER_BY.to_owned(),
                name: "Border crossing point".to_owned(),
                country: "Belarus".to_owned(),
            },
            HandoverPoint {
                code: AIRPORT_TR.to_owned(),
                name: "Airport transfer point".to_owned(),
                country: "Türkiye".to_owned(),
            },
        ],
    }
}

/// An exchange the demo histories refer to: its persons are `nominated` a
/// week before `date` (details "Exchange list: {name}") and handed over at
/// `handover_point` on `date`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exchange {
    pub name: &'static str,
    pub year: u16,
    pub month: u8,
    pub day: u8,
    /// A handover point code of [`demo_setup`].
    pub handover_point: &'static str,
}

impl Exchange {
    pub fn date(&self) -> PartialDate {
        PartialDate::new(self.year, Some(self.month), Some(self.day)).expect("a calendar date")
    }

    /// The `place` of the handover events: the point's name, country and code.
    pub fn place(&self) -> &'static str {
        if self.handover_point == BORDER_BY {
            "Border crossing point, Belarus (BORDER-BY)"
        } else {
            "Airport transfer point, Türkiye (AIRPORT-TR)"
        }
    }

    pub(crate) fn day(&self) -> Day {
        calendar::day(i32::from(self.year), i32::from(self.month), i32::from(self.day))
    }
}

const fn exchange(name: &'static str, y: u16, m: u8, d: u8, point: &'static str) -> Exchange {
    Exchange { name, year: y, month: m, day: d, handover_point: point }
}

/// The story's exchange: handover in Belarus on 2026-06-19.
pub const JUNE_19: Exchange = exchange(JUNE_19_EXCHANGE, 2026, 6, 19, BORDER_BY);

/// Every exchange in the demo, oldest first; the last is [`JUNE_19`].
pub const EXCHANGES: [Exchange; 10] = [
    exchange("Exchange of 21 September 2022", 2022, 9, 21, AIRPORT_TR),
    exchange("Exchange of 31 December 2022", 2022, 12, 31, BORDER_BY),
    exchange("Exchange of 7 August 2023", 2023, 8, 7, BORDER_BY),
    exchange("Exchange of 3 January 2024", 2024, 1, 3, BORDER_BY),
    exchange("Exchange of 31 May 2024", 2024, 5, 31, BORDER_BY),
    exchange("Exchange of 18 October 2024", 2024, 10, 18, BORDER_BY),
    exchange("Exchange of 23 May 2025", 2025, 5, 23, BORDER_BY),
    exchange("Exchange of 2 October 2025", 2025, 10, 2, AIRPORT_TR),
    exchange("Exchange of 5 February 2026", 2026, 2, 5, BORDER_BY),
    JUNE_19,
];

/// The day after which nothing happens in the demo data.
pub fn as_of() -> PartialDate {
    calendar::full(generate::AS_OF)
}

/// One person as one source registered them, with their status history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoPerson {
    /// The party that registered the record: the detaining party for
    /// captures, the power itself for its own missing.
    pub source: SourceRef,
    /// Written in the script and language of `source`.
    pub identity: PersonIdentity,
    /// Oldest first, each event with the party that reported it: the
    /// detaining party reports captures, transfers, health and deaths; the
    /// mediator handover events; the power its missing, family contact and
    /// repatriation.
    pub timeline: Vec<(StatusEvent, PartyCode)>,
}

impl DemoPerson {
    /// The event a registry snapshot shows for this person: the last one whose
    /// status may open a record ([`Status::INITIAL`]). The import CSV carries
    /// only this; the full history goes through the API.
    pub fn snapshot(&self) -> Option<&StatusEvent> {
        self.timeline.iter().rev().map(|(event, _)| event).find(|event| Status::INITIAL.contains(&event.status))
    }

    /// The person's current status.
    pub fn status(&self) -> Option<Status> {
        self.timeline.last().map(|(event, _)| event.status)
    }
}

/// The persons of the demo, deterministic for `seed`, generated one at a time.
#[derive(Debug, Clone)]
pub struct DemoPersons {
    seed: u64,
    next: u64,
    count: u64,
    /// Record numbers already given, per source (A, B).
    issued: [u64; 2],
    codes: generate::Codes,
}

/// `count` persons for `seed`. The same seed always gives the same persons;
/// the first `n` persons of a longer run are the `n` persons of a shorter one.
///
/// About half depend on each party and are held by the other. The first
/// 5,760 positions include the June 19 exchange's 360 persons (every 16th),
/// so any demo of a few thousand persons carries the story.
pub fn demo_persons(seed: u64, count: usize) -> DemoPersons {
    DemoPersons { seed, next: 0, count: count as u64, issued: [0; 2], codes: generate::Codes::new() }
}

impl Iterator for DemoPersons {
    type Item = DemoPerson;

    fn next(&mut self) -> Option<DemoPerson> {
        if self.next >= self.count {
            return None;
        }
        let draft = generate::person(self.seed, self.next, &self.codes);
        self.next += 1;
        let slot = match draft.source {
            generate::Side::A => 0,
            generate::Side::B => 1,
        };
        self.issued[slot] += 1;
        let source = self.codes.of(draft.source).clone();
        let record_id = format!("{source}-{:06}", self.issued[slot]);
        Some(DemoPerson { source: SourceRef { source, record_id }, identity: draft.identity, timeline: draft.timeline })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = (self.count - self.next) as usize;
        (left, Some(left))
    }
}

impl ExactSizeIterator for DemoPersons {}

#[cfg(test)]
mod tests;
