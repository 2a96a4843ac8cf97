//! homeward's records and rules, with no I/O.
//!
//! The key decision: every value that enters homeward is *parsed* into a type
//! that can only hold valid data ([`PartyCode`], [`PartialDate`],
//! [`PersonIdentity`], [`Status`]), and every rule that protects people (which
//! status may follow which) lives here as plain functions that storage,
//! import and the web layer all call. Nothing here knows about SQL, HTTP or
//! files, and nothing assumes which party is which: parties are data.
//!
//! Validation errors name the field and the problem, never the value: the
//! value may be a person's name or birth date, and errors travel to logs.

pub mod conflict;
pub mod date;
pub mod ids;
pub mod person;
pub mod role;
pub mod status;
pub mod text;
pub mod tracing_request;

pub use conflict::{ConflictSetup, HandoverPoint, Party, PartyCode, PartyKind};
pub use date::PartialDate;
pub use ids::PersonId;
pub use person::{Category, FieldError, PersonIdentity, RawIdentity, SourceRef};
pub use role::{InvalidRole, InvalidUsername, Role, RoleKind, SecretHash, UnknownRole, Username};
pub use status::{Status, StatusEvent, TransitionError};
pub use tracing_request::{Decision, Desk, Disclosure, RequestStatus, SoughtPerson, TracingRequestId};
