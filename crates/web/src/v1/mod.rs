//! The registry's JSON API under `/api/v1`, documented by OpenAPI 3.1
//! ([`openapi`]). Routes are wired in `router.rs`; bodies are in [`model`];
//! every failure is a problem ([`extract`] makes sure of it for bodies,
//! queries and path ids).

pub mod access_log;
pub mod conflict;
pub mod extract;
pub mod imports;
pub mod model;
pub mod openapi;
pub mod persons;
pub mod requests;
pub mod search;
