//! `POST /api/v1/search`: one description against the live registry index
//! (staff: the mediator, caseworkers, party officers). A party officer
//! never gets a candidate it could not read; who may see what is decided in
//! `homeward_service::registry`. The description travels in the body, never
//! in the URL (names are personal data).

use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use homeward_domain::FieldError;
use homeward_matching::{BirthDate, MatchRecord};
use homeward_service::matching::Hit;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::extract::ApiJson;
use super::model::Problem;
use crate::AppState;
use crate::auth::capabilities::CanSearch;
use crate::error::AppError;

/// Largest JSON body the search accepts.
pub const MAX_JSON_BODY: usize = 16 * 1024;
/// Longest text field, in characters.
const MAX_FIELD: usize = 200;
const DEFAULT_LIMIT: u32 = 10;
const MAX_LIMIT: u32 = 100;

/// A description of the person sought, in the person-import field names.
/// Names in any script or transliteration; only the family name is required.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SearchIn {
    pub family_name: String,
    /// Full or diminutive, in any script.
    #[serde(default)]
    pub given_names: Option<String>,
    #[serde(default)]
    pub patronymic: Option<String>,
    #[serde(default)]
    pub mother_maiden_name: Option<String>,
    /// `YYYY`, `YYYY-MM`, `YYYY-MM-DD`, `DD.MM.YYYY` or `MM.YYYY`.
    #[serde(default)]
    pub birth_date: Option<String>,
    #[serde(default)]
    pub place_of_birth: Option<String>,
    #[serde(default)]
    pub service_number: Option<String>,
    #[serde(default)]
    pub unit: Option<String>,
    /// How many candidates, 1-100 (default 10).
    #[serde(default)]
    #[schema(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
}

impl SearchIn {
    /// The matcher's record, or every invalid field (named, never quoted).
    pub fn to_record(&self) -> Result<MatchRecord, Vec<FieldError>> {
        let mut errors = Vec::new();
        // The free-text rule every input shares (`homeward_domain::text`).
        let mut text = |field: &'static str, v: &Option<String>| -> Option<String> {
            homeward_domain::text::free_text(field, v.as_deref(), MAX_FIELD, &mut errors)
        };
        let family_name = text("family_name", &Some(self.family_name.clone()));
        let given_names = text("given_names", &self.given_names);
        let patronymic = text("patronymic", &self.patronymic);
        let mother_maiden_name = text("mother_maiden_name", &self.mother_maiden_name);
        let place_of_birth = text("place_of_birth", &self.place_of_birth);
        let service_number = text("service_number", &self.service_number);
        let unit = text("unit", &self.unit);
        if family_name.is_none() && !errors.iter().any(|e| e.field == "family_name") {
            errors.push(FieldError::new("family_name", "required"));
        }
        let birth_date = match self.birth_date.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => None,
            Some(d) => match BirthDate::parse(d) {
                Ok(d) => Some(d),
                Err(reason) => {
                    errors.push(FieldError::new("birth_date", reason));
                    None
                }
            },
        };
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(MatchRecord {
            id: String::new(),
            family_name: family_name.unwrap_or_default(),
            given_names: given_names.unwrap_or_default(),
            patronymic,
            mother_maiden_name,
            birth_date,
            place_of_birth,
            rank: None,
            service_number,
            unit,
        })
    }

    fn limit(&self) -> Result<usize, AppError> {
        let limit = self.limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(AppError::Unprocessable {
                detail: "limit: must be 1-100".into(),
                errors: vec![FieldError::new("limit", "must be 1-100")],
            });
        }
        Ok(limit as usize)
    }
}

/// One field's contribution to a candidate's score.
#[derive(Debug, Serialize, ToSchema)]
pub struct EvidenceOut {
    #[schema(example = "family name")]
    pub field: String,
    #[schema(example = "same after transliteration")]
    pub level: String,
    /// log2(m/u): positive is evidence of a match.
    pub weight: f64,
}

/// A registry person that may be the one described: for a person to
/// judge, never an identification.
#[derive(Debug, Serialize, ToSchema)]
pub struct CandidateOut {
    pub person_id: String,
    /// Match probability, 0-1.
    pub probability: f64,
    /// The source record whose description scored: `SOURCE:RECORD_ID`.
    pub source: String,
    pub family_name: String,
    pub given_names: String,
    pub patronymic: Option<String>,
    pub birth_date: Option<String>,
    pub place_of_birth: Option<String>,
    pub service_number: Option<String>,
    pub unit: Option<String>,
    /// Per field, in comparison order.
    pub explanation: Vec<EvidenceOut>,
    /// The same, in one line.
    pub explanation_text: String,
}

impl From<Hit> for CandidateOut {
    fn from(h: Hit) -> Self {
        let r = h.record;
        Self {
            person_id: h.person.to_string(),
            probability: h.candidate.probability,
            source: h.source,
            family_name: r.family_name,
            given_names: r.given_names,
            patronymic: r.patronymic,
            birth_date: r.birth_date.map(|d| d.to_string()),
            place_of_birth: r.place_of_birth,
            service_number: r.service_number,
            unit: r.unit,
            explanation: h
                .candidate
                .explanation
                .evidence
                .iter()
                .map(|e| EvidenceOut { field: e.field.label().to_owned(), level: e.level.to_owned(), weight: e.weight })
                .collect(),
            explanation_text: h.candidate.explanation.to_string(),
        }
    }
}

/// The candidates, best first.
#[derive(Debug, Serialize, ToSchema)]
pub struct SearchOut {
    pub candidates: Vec<CandidateOut>,
}

/// Ranked candidates for a description, with a probability and a
/// per-field explanation each. Each returned person is written to the
/// access log.
#[utoipa::path(post, path = "/api/v1/search", tag = "registry", request_body = SearchIn,
    responses(
        (status = 200, body = SearchOut),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json", description = "cross-site request"),
        (status = 404, body = Problem, content_type = "application/problem+json", description = "the caller's role does not search the registry"),
        (status = 413, body = Problem, content_type = "application/problem+json"),
        (status = 415, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
        (status = 503, body = Problem, content_type = "application/problem+json", description = "the registry index is still loading after a start; try again after Retry-After seconds"),
    ))]
pub async fn search(
    can: CanSearch,
    State(state): State<AppState>,
    ApiJson(body): ApiJson<SearchIn>,
) -> Result<Response, AppError> {
    let limit = body.limit()?;
    let query = body
        .to_record()
        .map_err(|errors| AppError::Unprocessable { detail: "some fields are invalid".into(), errors })?;
    let hits =
        state.registry.search(&can.searcher, &state.index, query, limit, &can.accessor("POST /api/v1/search")).await?;
    let out = SearchOut { candidates: hits.into_iter().map(CandidateOut::from).collect() };
    Ok(([(header::CACHE_CONTROL, "no-store")], Json(out)).into_response())
}
