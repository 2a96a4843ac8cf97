//! The OpenAPI 3.1 document, generated from the handlers' annotations
//! and the body types (utoipa). `tests/openapi.rs` compares it with the
//! checked-in `openapi.json`; a change to the API shows up in review.

use axum::Json;
use axum::response::IntoResponse;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::model;

#[derive(Debug, OpenApi)]
#[openapi(
    info(
        title = "homeward",
        description = "The registry of captured and missing persons. Every error is an RFC 9457 problem. \
            A record the caller may not see answers 404, like one that does not exist.",
        license(name = "Apache-2.0", identifier = "Apache-2.0"),
    ),
    paths(
        super::persons::list,
        super::persons::show,
        super::persons::status,
        super::persons::register,
        super::persons::add_status,
        super::conflict::show,
        super::imports::persons,
        super::imports::job,
        super::access_log::list,
        super::search::search,
        super::requests::file,
        super::requests::list,
        super::requests::show,
        super::requests::decide,
        super::requests::reassign,
        crate::log::inclusion,
        crate::log::consistency,
        crate::log::public_key,
    ),
    components(schemas(
        model::Problem, model::FieldProblem, model::PersonPage, model::PersonLine, model::PersonOut,
        model::IdentityVersionOut, model::IdentityOut, model::StatusOut, model::PersonStatusOut, model::StatusSinceOut,
        model::LastEventOut, model::RegisterPerson, model::IdentityIn,
        model::StatusIn, model::Created, model::ConflictOut, model::PartyOut, model::HandoverPointOut,
        model::ImportReportOut, model::ImportJobOut, model::RowRejectionOut, model::FileProblemOut, model::AccessPage, model::AccessOut,
        model::ProofOut, super::search::SearchIn, super::search::SearchOut, super::search::CandidateOut,
        super::search::EvidenceOut, super::requests::SoughtIn, super::requests::FileRequestIn, super::requests::FiledOut,
        super::requests::RequestOut, super::requests::FamilyRequestOut, super::requests::StaffRequestOut, super::requests::CandidateOut,
        super::requests::RequestListOut, super::requests::DecisionIn, super::requests::DeskIn,
    )),
    modifiers(&Security),
    security(("bearer" = []), ("session" = [])),
    tags((name = "registry", description = "persons, status events, imports"), (name = "log", description = "the shared log's public proofs"), (name = "tracing", description = "families' tracing requests, desks and decisions")),
)]
pub struct ApiDoc;

#[derive(Debug)]
struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).bearer_format("hwt_…").build()),
        );
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new("homeward_session"))),
        );
    }
}

/// The document as JSON text, pretty-printed (what the snapshot holds).
pub fn document() -> String {
    let mut doc = ApiDoc::openapi();
    doc.info.version = env!("CARGO_PKG_VERSION").to_owned();
    doc.to_pretty_json().unwrap_or_default()
}

/// `GET /api/v1/openapi.json`
pub async fn serve() -> impl IntoResponse {
    let value: serde_json::Value = serde_json::from_str(&document()).unwrap_or_default();
    Json(value)
}
