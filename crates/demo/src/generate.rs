//! One person: an identity as its source wrote it, and a status history that
//! the state machine accepts event by event.

use homeward_domain::{Category, PartialDate, PartyCode, PersonIdentity, Status, StatusEvent};

use crate::calendar::{Day, day, full, month_only, year_only};
use crate::forms::{Forms, Lang, Script, names};
use crate::rng::{Rng, mix64};
use crate::tables;
use crate::{EXCHANGES, Exchange, JUNE_19};

/// The first captures and disappearances in the demo.
const START: Day = day(2022, 3, 1);
/// The demo's "today": nothing happens after it.
pub(crate) const AS_OF: Day = day(2026, 6, 30);

/// The June 19 exchange takes every `J19_STRIDE`-th person, up to
/// `J19_SIZE` of them: a few hundred whatever the count, so that a
/// 5,000-person demo and a 1,000,000-row benchmark hold the same exchange,
/// and the first persons of any data set include some of it.
const J19_STRIDE: u64 = 16;
const J19_OFFSET: u64 = 5;
const J19_SIZE: u64 = 360;

/// The parties' codes, built once per generator.
#[derive(Debug, Clone)]
pub(crate) struct Codes {
    a: PartyCode,
    b: PartyCode,
    m: PartyCode,
}

impl Codes {
    pub(crate) fn new() -> Self {
        let code = |c: &str| PartyCode::parse(c).expect("a valid party code");
        Codes { a: code("A"), b: code("B"), m: code("M") }
    }

    pub(crate) fn of(&self, side: Side) -> &PartyCode {
        match side {
            Side::A => &self.a,
            Side::B => &self.b,
        }
    }
}

/// One of the two parties. Party A's bureau writes Ukrainian, party B's Russian.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Side {
    A,
    B,
}

impl Side {
    fn other(self) -> Side {
        match self {
            Side::A => Side::B,
            Side::B => Side::A,
        }
    }

    /// Text in this party's language.
    fn say<'a>(self, uk: &'a str, ru: &'a str) -> &'a str {
        match self {
            Side::A => uk,
            Side::B => ru,
        }
    }

    fn camps(self) -> &'static [&'static str] {
        self.say_list(tables::CAMPS_A, tables::CAMPS_B)
    }

    fn hospitals(self) -> &'static [&'static str] {
        self.say_list(tables::HOSPITALS_A, tables::HOSPITALS_B)
    }

    fn sectors(self) -> &'static [&'static str] {
        self.say_list(tables::SECTORS_A, tables::SECTORS_B)
    }

    fn say_list(self, a: &'static [&'static str], b: &'static [&'static str]) -> &'static [&'static str] {
        match self {
            Side::A => a,
            Side::B => b,
        }
    }
}

/// Where a person stands at the handover.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    HandedOver,
    DidNotAppear,
    Refused,
    DiedBefore,
}

/// What happens to a person, drawn once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scenario {
    June19(u64),
    MissingOnly,
    MissingThenCaptured,
    MissingThenDeceased,
    EarlierExchange,
    DiedInCaptivity,
    Released,
    Escaped,
    Held,
}

impl Scenario {
    /// The power registers its own missing; the detaining party registers captures.
    fn registered_by_power(self) -> bool {
        matches!(self, Scenario::MissingOnly | Scenario::MissingThenCaptured | Scenario::MissingThenDeceased)
    }
}

/// A generated person before it is given its record id.
pub(crate) struct Draft {
    pub(crate) source: Side,
    pub(crate) identity: PersonIdentity,
    pub(crate) timeline: Vec<(StatusEvent, PartyCode)>,
}

pub(crate) fn person(seed: u64, index: u64, codes: &Codes) -> Draft {
    let mut rng = Rng::for_person(seed, index);
    let j19 = (index % J19_STRIDE == J19_OFFSET && index / J19_STRIDE < J19_SIZE).then_some(index / J19_STRIDE);
    let scenario = match j19 {
        Some(j) => Scenario::June19(j),
        None => match rng.below(1000) {
            0..80 => Scenario::MissingOnly,
            80..130 => Scenario::MissingThenCaptured,
            130..150 => Scenario::MissingThenDeceased,
            150..310 => Scenario::EarlierExchange,
            310..370 => Scenario::DiedInCaptivity,
            370..395 => Scenario::Released,
            395..405 => Scenario::Escaped,
            _ => Scenario::Held,
        },
    };
    // The June 19 lists alternate between the parties, which keeps the exchange at parity.
    let power = match scenario {
        Scenario::June19(j) if j % 2 == 0 => Side::A,
        Scenario::June19(_) => Side::B,
        _ if rng.percent(50) => Side::A,
        _ => Side::B,
    };
    let civilian = match scenario {
        Scenario::Released => true,
        Scenario::June19(j) => j % 10 == 7,
        _ => rng.percent(10),
    };
    let female = rng.percent(if civilian { 40 } else { 4 });
    // Under 25 on the day of the exchange: one of the agreement's categories.
    let young = matches!(scenario, Scenario::June19(j) if j % 5 == 1);
    let birth_year = if young {
        rng.range(2002, 2005)
    } else if civilian {
        rng.range(1945, 2006)
    } else {
        2003 - rng.skewed(40) as i32
    };
    let birth_day = day(birth_year, 1, 1) + rng.range(0, 364);
    // No capture before the person is 18 (young June 19 persons were born as late as 2005).
    let earliest = START.max(day(birth_year + 19, 1, 1));

    let source = if scenario.registered_by_power() { power } else { power.other() };
    let mut story = Story {
        rng: &mut rng,
        codes,
        power,
        detainer: power.other(),
        civilian,
        events: Vec::with_capacity(8),
        last: START,
        camp: "",
    };
    story.tell(scenario, earliest);
    let timeline = story.events;

    let identity = identity(&mut rng, seed, index, Person { power, source, civilian, female, birth_day }, codes);
    Draft { source, identity, timeline }
}

struct Story<'a> {
    rng: &'a mut Rng,
    codes: &'a Codes,
    power: Side,
    detainer: Side,
    civilian: bool,
    events: Vec<(StatusEvent, PartyCode)>,
    last: Day,
    /// Where the person is held now, for transfers and "still held" events.
    camp: &'static str,
}

/// Who reports an event.
#[derive(Clone, Copy)]
enum By {
    Detainer,
    Power,
    Mediator,
}

impl Story<'_> {
    fn emit(&mut self, status: Status, on: Day, place: Option<&str>, details: Option<String>, by: By) {
        self.emit_dated(status, on, full, place, details, by);
    }

    /// Clamps the date into [last event, AS_OF] so that histories never run
    /// backwards or into the future, whatever the draws.
    fn emit_dated(
        &mut self,
        status: Status,
        on: Day,
        precision: impl Fn(Day) -> PartialDate,
        place: Option<&str>,
        details: Option<String>,
        by: By,
    ) {
        let on = on.max(self.last).min(AS_OF);
        self.last = on;
        let reporter = match by {
            By::Detainer => self.codes.of(self.detainer),
            By::Power => self.codes.of(self.power),
            By::Mediator => &self.codes.m,
        };
        self.events.push((
            StatusEvent { status, occurred_on: Some(precision(on)), place: place.map(str::to_owned), details },
            reporter.clone(),
        ));
    }

    fn last_status(&self) -> Option<Status> {
        self.events.last().map(|(e, _)| e.status)
    }

    fn tell(&mut self, scenario: Scenario, earliest: Day) {
        match scenario {
            Scenario::June19(j) => self.june19(j, earliest),
            Scenario::MissingOnly => {
                let on = self.rng.range(START, AS_OF - 14);
                self.missing(on);
            }
            Scenario::MissingThenCaptured => {
                let on = self.rng.range(earliest, AS_OF - 30);
                self.missing(on);
                let captured = on + self.rng.range(0, 60);
                self.open(captured);
                self.custody(AS_OF);
            }
            Scenario::MissingThenDeceased => {
                let on = self.rng.range(START, AS_OF - 30);
                self.missing(on);
                let died = on + self.rng.range(0, 45);
                let by = if self.rng.percent(50) { By::Detainer } else { By::Power };
                let teller = match by {
                    By::Power => self.power,
                    _ => self.detainer,
                };
                let place = *self.rng.pick(teller.sectors());
                let cause = self.cause(teller);
                self.emit(Status::Deceased, died, Some(place), Some(cause), by);
                self.maybe_remains(35);
            }
            Scenario::EarlierExchange => {
                let ex = *self.rng.pick(&EXCHANGES[..EXCHANGES.len() - 1]);
                let exchange_day = ex.day();
                if exchange_day - 60 <= earliest {
                    self.captivity_until_now(earliest);
                    return;
                }
                let captured = self.rng.range(earliest, exchange_day - 60);
                self.open(captured);
                self.custody(exchange_day - 10);
                let outcome = match self.rng.below(100) {
                    0..92 => Outcome::HandedOver,
                    92..95 => Outcome::DidNotAppear,
                    95..98 => Outcome::Refused,
                    _ => Outcome::DiedBefore,
                };
                self.exchange(ex, outcome);
                match outcome {
                    Outcome::DidNotAppear => self.custody(AS_OF),
                    Outcome::Refused if self.rng.percent(50) => {
                        let on = self.last + self.rng.range(30, 200);
                        if on <= AS_OF {
                            let camp = self.camp;
                            let text = self
                                .detainer
                                .say(
                                    "Звільнений на місці після відмови від репатріації",
                                    "Освобожден на месте после отказа от репатриации",
                                )
                                .to_owned();
                            self.emit(Status::Released, on, Some(camp), Some(text), By::Detainer);
                        }
                    }
                    Outcome::DiedBefore => self.maybe_remains(50),
                    _ => {}
                }
            }
            Scenario::DiedInCaptivity => {
                let captured = self.rng.range(earliest, AS_OF - 60);
                self.open(captured);
                let died = self.rng.range(self.last + 10, AS_OF);
                self.custody(died - 1);
                let place = if self.last_status() == Some(Status::Hospitalised) || self.rng.percent(40) {
                    *self.rng.pick(self.detainer.hospitals())
                } else {
                    self.camp
                };
                let cause = self.cause(self.detainer);
                self.emit(Status::Deceased, died, Some(place), Some(cause), By::Detainer);
                self.maybe_remains(35);
            }
            Scenario::Released => {
                let captured = self.rng.range(earliest, AS_OF - 90);
                self.open(captured);
                let released = self.rng.range(self.last + 30, AS_OF - 7);
                self.custody(released - 1);
                let camp = self.camp;
                let text = self.detainer.say("Звільнений (цивільна особа)", "Освобожден (гражданское лицо)").to_owned();
                self.emit(Status::Released, released, Some(camp), Some(text), By::Detainer);
                let home = self.last + self.rng.range(1, 7);
                self.emit(Status::Repatriated, home, None, Some(self.arrived()), By::Power);
                if self.rng.percent(60) {
                    let on = self.last + self.rng.range(0, 3);
                    self.emit(Status::FamilyContacted, on, None, Some(self.called_home()), By::Power);
                }
            }
            Scenario::Escaped => {
                let captured = self.rng.range(earliest, AS_OF - 90);
                self.open(captured);
                let escaped = self.rng.range(self.last + 30, AS_OF - 30);
                self.custody(escaped - 1);
                let camp = self.camp;
                let text = self.detainer.say("Втеча", "Побег").to_owned();
                self.emit(Status::Escaped, escaped, Some(camp), Some(text), By::Detainer);
                if self.rng.percent(70) {
                    let home = self.last + self.rng.range(3, 40);
                    self.emit(Status::Repatriated, home, None, Some(self.arrived()), By::Power);
                } else {
                    let again = self.last + self.rng.range(1, 20);
                    let sector = *self.rng.pick(self.detainer.sectors());
                    let text = self.detainer.say("Затриманий після втечі", "Задержан после побега").to_owned();
                    self.emit(Status::Captured, again, Some(sector), Some(text), By::Detainer);
                    self.camp = *self.rng.pick(self.detainer.camps());
                    let held = self.last + self.rng.range(2, 14);
                    let camp = self.camp;
                    self.emit(Status::Held, held, Some(camp), None, By::Detainer);
                    self.custody(AS_OF);
                }
            }
            Scenario::Held => self.captivity_until_now(earliest),
        }
    }

    fn captivity_until_now(&mut self, earliest: Day) {
        let captured = self.rng.range(earliest, AS_OF - 7);
        self.open(captured);
        self.custody(AS_OF);
    }

    fn june19(&mut self, j: u64, earliest: Day) {
        let ex = JUNE_19;
        let exchange_day = ex.day();
        // One in four held about two years: captured around June 2024.
        let captured = if j.is_multiple_of(4) {
            self.rng.range(day(2024, 5, 15).max(earliest), day(2024, 7, 15))
        } else {
            self.rng.range(earliest, exchange_day - 60)
        };
        self.open(captured);
        self.custody(exchange_day - 30);
        // Seriously wounded and sick go first (GC III Art. 109-110).
        if j.is_multiple_of(5) {
            let on = self.rng.range(self.last.max(exchange_day - 30), exchange_day - 8);
            let hospital = *self.rng.pick(self.detainer.hospitals());
            let text = self.detainer.say("Тяжке поранення", "Тяжелое ранение").to_owned();
            self.emit(Status::Hospitalised, on, Some(hospital), Some(text), By::Detainer);
        }
        let outcome = match j % 40 {
            3 | 23 => Outcome::DidNotAppear,
            17 => Outcome::Refused,
            31 => Outcome::DiedBefore,
            _ => Outcome::HandedOver,
        };
        self.exchange(ex, outcome);
    }

    fn missing(&mut self, on: Day) {
        let sector = *self.rng.pick(self.power.sectors());
        let text =
            self.power.say("Зник безвісти під час бойових дій", "Пропал без вести в ходе боевых действий").to_owned();
        // Families and units often know only the month someone went missing.
        if self.rng.percent(25) {
            self.emit_dated(Status::Missing, on, month_only, Some(sector), Some(text), By::Power);
        } else {
            self.emit(Status::Missing, on, Some(sector), Some(text), By::Power);
        }
    }

    /// The first news of a capture: at the front, from the camp, or from a hospital.
    fn open(&mut self, captured: Day) {
        self.camp = *self.rng.pick(self.detainer.camps());
        let camp = self.camp;
        match self.rng.below(100) {
            0..70 => {
                let sector = *self.rng.pick(self.detainer.sectors());
                self.emit(Status::Captured, captured, Some(sector), None, By::Detainer);
                let on = self.last + self.rng.range(2, 20);
                // The capture card (GC III Art. 70); civilians get a registration card.
                let card = match (self.civilian, self.detainer) {
                    (false, Side::A) => "Картка полоненого заповнена",
                    (false, Side::B) => "Карточка военнопленного заполнена",
                    (true, Side::A) => "Облікова картка заповнена",
                    (true, Side::B) => "Учетная карточка заполнена",
                }
                .to_owned();
                self.emit(Status::Held, on, Some(camp), Some(card), By::Detainer);
            }
            70..85 => {
                let on = captured + self.rng.range(3, 20);
                self.emit(Status::Held, on, Some(camp), None, By::Detainer);
            }
            _ => {
                let hospital = *self.rng.pick(self.detainer.hospitals());
                let text = self.detainer.say("Поранений під час полону", "Ранен при пленении").to_owned();
                self.emit(Status::Hospitalised, captured, Some(hospital), Some(text), By::Detainer);
                let on = self.last + self.rng.range(10, 60);
                if on < AS_OF {
                    self.emit(Status::Held, on, Some(camp), None, By::Detainer);
                }
            }
        }
    }

    /// Transfers between camps and spells in hospital until `until`.
    fn custody(&mut self, until: Day) {
        loop {
            let next = self.last + self.rng.range(45, 420);
            if next > until {
                return;
            }
            if self.rng.percent(65) {
                let camps = self.detainer.camps();
                let mut camp = *self.rng.pick(camps);
                if camp == self.camp {
                    camp = camps[(camps.iter().position(|c| *c == camp).unwrap_or(0) + 1) % camps.len()];
                }
                self.camp = camp;
                let text = self.detainer.say("Переведений", "Переведен").to_owned();
                self.emit(Status::Held, next, Some(camp), Some(text), By::Detainer);
            } else {
                let hospital = *self.rng.pick(self.detainer.hospitals());
                let text = self
                    .detainer
                    .say("Госпіталізований, стан задовільний", "Госпитализирован, состояние удовлетворительное")
                    .to_owned();
                self.emit(Status::Hospitalised, next, Some(hospital), Some(text), By::Detainer);
                let back = self.last + self.rng.range(7, 60);
                if back > until {
                    return;
                }
                let camp = self.camp;
                self.emit(Status::Held, back, Some(camp), None, By::Detainer);
            }
        }
    }

    /// Nomination a week before the handover, then the handover outcome.
    fn exchange(&mut self, ex: Exchange, outcome: Outcome) {
        let exchange_day = ex.day();
        let list = format!("Exchange list: {}", ex.name);
        self.emit(Status::Nominated, exchange_day - 7, None, Some(list), By::Detainer);
        let point = ex.place();
        match outcome {
            Outcome::HandedOver => {
                let text = format!("{}: identity verified by the mediator, handed over", ex.name);
                self.emit(Status::HandedOver, exchange_day, Some(point), Some(text), By::Mediator);
                // The first call home usually comes from the transit country, before arrival.
                if self.rng.percent(85) {
                    let on = exchange_day + self.rng.range(0, 1);
                    self.emit(Status::FamilyContacted, on, Some(point), Some(self.called_home()), By::Power);
                    let home = self.last + self.rng.range(1, 2);
                    self.emit(Status::Repatriated, home, None, Some(self.arrived()), By::Power);
                } else {
                    let home = exchange_day + self.rng.range(1, 2);
                    self.emit(Status::Repatriated, home, None, Some(self.arrived()), By::Power);
                    let on = self.last + self.rng.range(0, 2);
                    self.emit(Status::FamilyContacted, on, None, Some(self.called_home()), By::Power);
                }
            }
            Outcome::DidNotAppear => {
                let text = format!(
                    "{}: did not appear at the handover point; still held by party {}",
                    ex.name,
                    self.codes.of(self.detainer)
                );
                let camp = self.camp;
                self.emit(Status::Held, exchange_day, Some(camp), Some(text), By::Mediator);
            }
            Outcome::Refused => {
                let text = format!("{}: refused repatriation after a private interview with the mediator", ex.name);
                self.emit(Status::RefusedRepatriation, exchange_day, Some(point), Some(text), By::Mediator);
            }
            Outcome::DiedBefore => {
                let died = exchange_day - self.rng.range(1, 6);
                let hospital = *self.rng.pick(self.detainer.hospitals());
                let text = format!(
                    "{}; {}",
                    self.cause(self.detainer),
                    self.detainer.say(
                        "помер до передачі, внесений до списку обміну",
                        "умер до передачи, внесен в список обмена"
                    )
                );
                self.emit(Status::Deceased, died, Some(hospital), Some(format!("{text}: {}", ex.name)), By::Detainer);
            }
        }
    }

    fn maybe_remains(&mut self, percent: u64) {
        if !self.rng.percent(percent) {
            return;
        }
        let on = self.last + self.rng.range(60, 500);
        if on > AS_OF {
            return;
        }
        let ex = *self.rng.pick(&EXCHANGES);
        let text = "Remains returned through the mediator".to_owned();
        self.emit(Status::RemainsReturned, on, Some(ex.place()), Some(text), By::Mediator);
    }

    fn cause(&mut self, teller: Side) -> String {
        let (uk, ru) = *self.rng.pick(tables::CAUSES);
        format!("{}: {}", teller.say("Причина смерті", "Причина смерти"), teller.say(uk, ru))
    }

    fn called_home(&self) -> String {
        self.power
            .say("Зателефонував матері: «Привіт, я повернувся»", "Позвонил матери: «Привет, я вернулся»")
            .to_owned()
    }

    fn arrived(&self) -> String {
        self.power.say("Прибув додому", "Прибыл домой").to_owned()
    }
}

struct Person {
    power: Side,
    source: Side,
    civilian: bool,
    female: bool,
    birth_day: Day,
}

/// The script the source writes in: its own Cyrillic most of the time, else
/// one of the Latin schemes its staff and documents use.
fn script(rng: &mut Rng, source: Side) -> Script {
    let r = rng.below(100);
    match source {
        Side::A => match r {
            0..55 => Script::UkrainianCyrillic,
            55..80 => Script::UkrainianLatin,
            _ => Script::English,
        },
        Side::B => match r {
            0..55 => Script::RussianCyrillic,
            55..70 => Script::RussianIcao,
            70..85 => Script::RussianBgn,
            _ => Script::English,
        },
    }
}

fn identity(rng: &mut Rng, seed: u64, index: u64, p: Person, codes: &Codes) -> PersonIdentity {
    let n = names();
    let script = script(rng, p.source);
    let lang = script.lang();
    let cyrillic = matches!(script, Script::UkrainianCyrillic | Script::RussianCyrillic);
    // Ukrainian surnames dominate among party A's people, Russian among B's; both mix.
    let surname_pool = |rng: &mut Rng| {
        let uk = match p.power {
            Side::A => rng.percent(72),
            Side::B => rng.percent(20),
        };
        let list = if uk { &n.surnames_uk } else { &n.surnames_ru };
        &list[rng.skewed(list.len())]
    };
    let surname = surname_pool(rng);
    let gender_of = |s: &'static crate::forms::Surname, female: bool| -> &'static Forms {
        if female { &s.female } else { &s.male }
    };
    let family_name = gender_of(surname, p.female).get(script).to_owned();
    let given =
        if p.female { &n.female[rng.very_skewed(n.female.len())] } else { &n.male[rng.very_skewed(n.male.len())] };
    let father = rng.very_skewed(n.male.len());
    let patronymic_kept = rng.percent(if cyrillic { 95 } else { 65 });
    let patronymic = patronymic_kept.then(|| {
        let forms = if p.female { &n.patronymic_female[father] } else { &n.patronymic_male[father] };
        forms.get(script).to_owned()
    });
    let mother_maiden_name = rng.percent(30).then(|| {
        // A maiden name equal to the family name would read as a data error.
        let mut maiden = surname_pool(rng);
        if std::ptr::eq(maiden, surname) {
            maiden = surname_pool(rng);
        }
        maiden.female.get(script).to_owned()
    });
    let birth_date = match rng.below(100) {
        0..85 => full(p.birth_day),
        85..95 => month_only(p.birth_day),
        _ => year_only(p.birth_day),
    };
    let towns = |side: Side| match side {
        Side::A => &n.towns_a,
        Side::B => &n.towns_b,
    };
    let place_of_birth = rng.percent(85).then(|| {
        let side = if rng.percent(85) { p.power } else { p.power.other() };
        let town = rng.pick(towns(side)).get(script);
        if cyrillic && rng.percent(40) { format!("{}{town}", lang.of("м. ", "г. ", "")) } else { town.to_owned() }
    });
    let military = !p.civilian;
    let rank = (military && rng.percent(90)).then(|| {
        let (uk, ru, en) = tables::RANKS[rng.very_skewed(tables::RANKS.len())];
        lang.of(uk, ru, en).to_owned()
    });
    let service_number = (military && rng.percent(80)).then(|| {
        // A bijection of the index below 10^6 (3^18 is coprime to 10^6): no
        // two of the first million persons share a number.
        let number = (index.wrapping_mul(387_420_489).wrapping_add(mix64(seed))) % 1_000_000;
        let letter = |rng: &mut Rng| {
            let (cyr, lat) = *rng.pick(tables::SERIES);
            if cyrillic { cyr } else { lat }
        };
        match p.power {
            Side::A => format!("{}-{number:06}", letter(rng)),
            Side::B => format!("{}{}-{number:06}", letter(rng), letter(rng)),
        }
    });
    let unit = (military && rng.percent(75)).then(|| unit(rng, p.power, lang, cyrillic));
    let person_to_inform = rng.percent(40).then(|| person_to_inform(rng, &p, surname, script));
    let correspondence_address = rng.percent(30).then(|| {
        let town = rng.pick(towns(p.power)).get(script);
        let streets = match p.power {
            Side::A => &n.streets_a,
            Side::B => &n.streets_b,
        };
        let street = rng.pick(streets).get(script);
        let house = rng.range(1, 120);
        let flat = rng.percent(50).then(|| rng.range(1, 200));
        // Postal codes of all zeros: obviously fictional.
        match lang {
            Lang::Uk => match flat {
                Some(f) => format!("вул. {street}, {house}, кв. {f}, м. {town}, 00000"),
                None => format!("вул. {street}, {house}, м. {town}, 00000"),
            },
            Lang::Ru => match flat {
                Some(f) => format!("ул. {street}, д. {house}, кв. {f}, г. {town}, 000000"),
                None => format!("ул. {street}, д. {house}, г. {town}, 000000"),
            },
            Lang::En => match flat {
                Some(f) => format!("{house} {street} St, apt {f}, {town}, 00000"),
                None => format!("{house} {street} St, {town}, 00000"),
            },
        }
    });
    PersonIdentity {
        family_name,
        given_names: given.get(script).to_owned(),
        patronymic,
        mother_maiden_name,
        birth_date: Some(birth_date),
        place_of_birth,
        rank,
        service_number,
        unit,
        power: codes.of(p.power).clone(),
        category: if p.civilian { Category::Civilian } else { Category::Military },
        person_to_inform,
        correspondence_address,
    }
}

/// A unit as the source writes it: a numbered military unit in the power's
/// numbering, or a brigade.
fn unit(rng: &mut Rng, power: Side, lang: Lang, cyrillic: bool) -> String {
    if rng.percent(50) {
        let number = match power {
            Side::A => format!("{}{}", if cyrillic { "А" } else { "A" }, rng.range(1000, 9999)),
            Side::B => rng.range(10_000, 99_999).to_string(),
        };
        format!("{}{number}", lang.of("в/ч ", "в/ч ", "military unit "))
    } else {
        let n = rng.range(1, 160);
        let (uk, ru, en) = *rng.pick(tables::BRIGADES);
        match lang {
            Lang::Uk => format!("{n}-а окрема {uk} бригада"),
            Lang::Ru => format!("{n}-я отдельная {ru} бригада"),
            Lang::En => {
                let suffix = match (n % 10, n % 100) {
                    (_, 11..=13) => "th",
                    (1, _) => "st",
                    (2, _) => "nd",
                    (3, _) => "rd",
                    _ => "th",
                };
                format!("{n}{suffix} separate {en} brigade")
            }
        }
    }
}

/// "Мати, Коваленко Ганна", sometimes with a fictional phone number.
fn person_to_inform(rng: &mut Rng, p: &Person, surname: &'static crate::forms::Surname, script: Script) -> String {
    let n = names();
    let lang = script.lang();
    let r = rng.below(100);
    // (relative is female, label)
    let (relative_female, label) = match (p.female, r) {
        (_, 0..55) => (true, lang.of("Мати", "Мать", "Mother")),
        (false, 55..85) => (true, lang.of("Дружина", "Жена", "Wife")),
        (true, 55..85) => (false, lang.of("Чоловік", "Муж", "Husband")),
        _ => (false, lang.of("Батько", "Отец", "Father")),
    };
    let given = if relative_female {
        n.female[rng.skewed(n.female.len())].get(script)
    } else {
        n.male[rng.skewed(n.male.len())].get(script)
    };
    let family = if relative_female { surname.female.get(script) } else { surname.male.get(script) };
    let mut text = match lang {
        Lang::En => format!("{label}, {given} {family}"),
        _ => format!("{label}, {family} {given}"),
    };
    if rng.percent(35) {
        let k = rng.range(0, 9999);
        // Numbers with a zero operator code: they cannot ring anyone.
        let phone = match p.power {
            Side::A => format!("+380 00 000 {k:04}"),
            Side::B => format!("+7 000 000-{:02}-{:02}", k / 100, k % 100),
        };
        text.push_str(lang.of(", тел. ", ", тел. ", ", tel. "));
        text.push_str(&phone);
    }
    text
}
