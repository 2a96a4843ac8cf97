//! A person's identity as one source wrote it (GC III Art. 17, 70, 122).
//!
//! homeward never overwrites a source's version: an amendment is a new
//! version, and versions from different sources (a party's bureau, the
//! mediator, a family) stand side by side. Names are kept exactly as written
//! (only surrounding whitespace is trimmed); search keys are derived elsewhere.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::conflict::{InvalidPartyCode, PartyCode};
use crate::date::PartialDate;
// The one free-text rule (trimmed, bounded, no control characters).
use crate::text::free_text as text;

/// Military or civilian: the Conventions protect both, under different articles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    Military,
    Civilian,
}

impl Category {
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Military => "military",
            Category::Civilian => "civilian",
        }
    }

    /// Accepts the English codes and the Ukrainian and Russian words met in bureau lists.
    pub fn parse(raw: &str) -> Option<Self> {
        match raw.trim().to_lowercase().as_str() {
            "military" | "mil" | "pow" | "військовий" | "військовополонений" | "военный" | "военнопленный" => {
                Some(Category::Military)
            }
            "civilian" | "civ" | "цивільний" | "гражданский" | "мирный житель" => {
                Some(Category::Civilian)
            }
            _ => None,
        }
    }
}

/// One field's problem. Names the field, never its value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct FieldError {
    pub field: String,
    pub reason: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self { field: field.into(), reason: reason.into() }
    }
}

/// Where a version of an identity comes from: the reporting organisation and
/// its own record id, which makes re-imports idempotent.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SourceRef {
    pub source: PartyCode,
    pub record_id: String,
}

impl SourceRef {
    pub const MAX_RECORD_ID: usize = 128;

    pub fn parse(source: PartyCode, record_id: &str) -> Result<Self, FieldError> {
        let id = record_id.trim();
        if id.is_empty() {
            return Err(FieldError::new("record_id", "empty"));
        }
        if id.chars().count() > Self::MAX_RECORD_ID {
            return Err(FieldError::new("record_id", format!("longer than {} characters", Self::MAX_RECORD_ID)));
        }
        // Stricter than free text: an id is one line.
        if id.chars().any(char::is_control) {
            return Err(FieldError::new("record_id", crate::text::CONTROL_REASON));
        }
        Ok(Self { source, record_id: id.to_owned() })
    }
}

/// The GC III identity fields, validated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonIdentity {
    pub family_name: String,
    pub given_names: String,
    pub patronymic: Option<String>,
    pub mother_maiden_name: Option<String>,
    pub birth_date: Option<PartialDate>,
    pub place_of_birth: Option<String>,
    pub rank: Option<String>,
    pub service_number: Option<String>,
    pub unit: Option<String>,
    /// The power on which the person depends (GC III Art. 122).
    pub power: PartyCode,
    pub category: Category,
    /// Person to be informed (GC III Art. 17, 70; "next of kin").
    pub person_to_inform: Option<String>,
    pub correspondence_address: Option<String>,
}

/// Identity fields as text, before validation (from a CSV row, a form, a flag).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawIdentity {
    pub family_name: Option<String>,
    pub given_names: Option<String>,
    pub patronymic: Option<String>,
    pub mother_maiden_name: Option<String>,
    pub birth_date: Option<String>,
    pub place_of_birth: Option<String>,
    pub rank: Option<String>,
    pub service_number: Option<String>,
    pub unit: Option<String>,
    pub power: Option<String>,
    pub category: Option<String>,
    pub person_to_inform: Option<String>,
    pub correspondence_address: Option<String>,
}

const MAX_NAME: usize = 200;
const MAX_TEXT: usize = 500;

fn required(field: &str, value: Option<&str>, errors: &mut Vec<FieldError>) -> String {
    let before = errors.len();
    match text(field, value, MAX_NAME, errors) {
        Some(v) => v,
        None => {
            if errors.len() == before {
                errors.push(FieldError::new(field, "empty"));
            }
            String::new()
        }
    }
}

impl RawIdentity {
    /// Validates every field and reports every problem, not only the first.
    pub fn parse(&self) -> Result<PersonIdentity, Vec<FieldError>> {
        let mut errors = Vec::new();
        let family_name = required("family_name", self.family_name.as_deref(), &mut errors);
        let given_names = required("given_names", self.given_names.as_deref(), &mut errors);
        let patronymic = text("patronymic", self.patronymic.as_deref(), MAX_NAME, &mut errors);
        let mother_maiden_name = text("mother_maiden_name", self.mother_maiden_name.as_deref(), MAX_NAME, &mut errors);
        let birth_date = match self.birth_date.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => None,
            Some(s) => match PartialDate::parse(s) {
                Ok(d) => Some(d),
                Err(e) => {
                    errors.push(FieldError::new("birth_date", e.to_string()));
                    None
                }
            },
        };
        let place_of_birth = text("place_of_birth", self.place_of_birth.as_deref(), MAX_TEXT, &mut errors);
        let rank = text("rank", self.rank.as_deref(), MAX_NAME, &mut errors);
        let service_number = text("service_number", self.service_number.as_deref(), MAX_NAME, &mut errors);
        let unit = text("unit", self.unit.as_deref(), MAX_TEXT, &mut errors);
        let power = match self.power.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => {
                errors.push(FieldError::new("power", "empty: the party on which the person depends is required"));
                None
            }
            Some(s) => match PartyCode::parse(s) {
                Ok(p) => Some(p),
                Err(e) => {
                    errors.push(FieldError::new("power", party_code_reason(&e)));
                    None
                }
            },
        };
        let category = match self.category.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => {
                errors.push(FieldError::new("category", "empty: expected military or civilian"));
                None
            }
            Some(s) => {
                let c = Category::parse(s);
                if c.is_none() {
                    errors.push(FieldError::new("category", "expected military or civilian"));
                }
                c
            }
        };
        let person_to_inform = text("person_to_inform", self.person_to_inform.as_deref(), MAX_TEXT, &mut errors);
        let correspondence_address =
            text("correspondence_address", self.correspondence_address.as_deref(), MAX_TEXT, &mut errors);
        match (power, category) {
            (Some(power), Some(category)) if errors.is_empty() => Ok(PersonIdentity {
                family_name,
                given_names,
                patronymic,
                mother_maiden_name,
                birth_date,
                place_of_birth,
                rank,
                service_number,
                unit,
                power,
                category,
                person_to_inform,
                correspondence_address,
            }),
            _ => Err(errors),
        }
    }
}

fn party_code_reason(e: &InvalidPartyCode) -> String {
    e.to_string()
}

impl PersonIdentity {
    /// The canonical JSON of the identity (fields in declaration order,
    /// absent fields as null): what a fingerprint is computed over.
    pub fn canonical_json(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("identity serialises")
    }

    /// The unkeyed fingerprint: SHA-256 over [`Self::canonical_json`]. Only
    /// databases written before the keyed fingerprint (scheme 0) hold these;
    /// stores write HMAC-SHA256 under a secret key (`homeward_store::seal`),
    /// because anyone with a database copy could confirm a guessed contact
    /// field against an unkeyed hash.
    pub fn unkeyed_fingerprint(&self) -> [u8; 32] {
        Sha256::digest(self.canonical_json()).into()
    }

    /// Dates that must not lie in the future (the birth date), as
    /// [`crate::date::check_not_future`] says.
    pub fn check_dates(&self, today: time::Date) -> Result<(), FieldError> {
        crate::date::check_not_future("birth_date", self.birth_date, today)
    }

    /// The identity back as text fields, as the import and export columns spell them.
    pub fn to_raw(&self) -> RawIdentity {
        RawIdentity {
            family_name: Some(self.family_name.clone()),
            given_names: Some(self.given_names.clone()),
            patronymic: self.patronymic.clone(),
            mother_maiden_name: self.mother_maiden_name.clone(),
            birth_date: self.birth_date.map(|d| d.to_string()),
            place_of_birth: self.place_of_birth.clone(),
            rank: self.rank.clone(),
            service_number: self.service_number.clone(),
            unit: self.unit.clone(),
            power: Some(self.power.to_string()),
            category: Some(self.category.as_str().to_owned()),
            person_to_inform: self.person_to_inform.clone(),
            correspondence_address: self.correspondence_address.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw() -> RawIdentity {
        RawIdentity {
            family_name: Some(" Коваленко ".into()),
            given_names: Some("Олександр".into()),
            patronymic: Some("Петрович".into()),
            birth_date: Some("07.03.1998".into()),
            power: Some("ua".into()),
            category: Some("військовий".into()),
            ..RawIdentity::default()
        }
    }

    #[test]
    fn parses_and_keeps_names_as_written() {
        let id = raw().parse().unwrap();
        assert_eq!(id.family_name, "Коваленко");
        assert_eq!(id.given_names, "Олександр");
        assert_eq!(id.birth_date.unwrap().to_string(), "1998-03-07");
        assert_eq!(id.power.as_str(), "UA");
        assert_eq!(id.category, Category::Military);
    }

    #[test]
    fn reports_every_bad_field_without_values() {
        let mut r = raw();
        r.family_name = Some("   ".into());
        r.birth_date = Some("31.02.1998".into());
        r.power = None;
        r.category = Some("sailor".into());
        let errors = r.parse().unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["family_name", "birth_date", "power", "category"]);
        for e in &errors {
            assert!(!e.to_string().contains("1998"), "{e}");
        }
    }

    #[test]
    fn fingerprint_changes_with_any_field() {
        let a = raw().parse().unwrap();
        let mut b = a.clone();
        assert_eq!(a.unkeyed_fingerprint(), b.unkeyed_fingerprint());
        b.unit = Some("1st".into());
        assert_ne!(a.unkeyed_fingerprint(), b.unkeyed_fingerprint());
    }

    #[test]
    fn raw_round_trip() {
        let a = raw().parse().unwrap();
        assert_eq!(a.to_raw().parse().unwrap(), a);
    }
}
