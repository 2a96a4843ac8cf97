use homeward_domain::TransitionError;

/// What can go wrong in a store operation. Messages never contain personal
/// data: a backend's own error text (which may quote a row) is logged by the
/// backend at debug level and summarised here.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error(transparent)]
    Transition(#[from] TransitionError),
    #[error("{field}: unknown party code {code}; the conflict's parties are set up with `homeward init --setup`")]
    UnknownParty { field: &'static str, code: String },
    #[error("the conflict is not set up yet: run `homeward init --setup FILE`")]
    NoConflict,
    /// A rule refused the change: which one is typed, so that callers tell
    /// "no such request" from "no undecided candidate" without reading text.
    #[error(transparent)]
    Refused(#[from] Refusal),
    #[error("database migration failed: {0}")]
    Migration(String),
    /// Something homeward found wrong in what it stored (a hash missing, a
    /// value that does not parse): says what, never the value.
    #[error("database error: {0}")]
    Backend(String),
    /// The database driver failed. `summary` (the error's kind or code) is
    /// what callers see; `source` keeps the driver's own error for the
    /// process log, at debug level: its text can quote a row.
    #[error("database error: {summary}")]
    Database {
        summary: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// Something the operation needs is not ready yet (the registry index
    /// while a server loads it) or not working now (the access log, which
    /// every read needs): try again in a few seconds.
    #[error("{0}; try again in a few seconds")]
    Unavailable(&'static str),
    /// A waiting log entry without a valid MAC: written by someone who could
    /// write the database but not read the key files. The sequencer stops
    /// there (nothing after it is published) until an operator removes it.
    #[error(
        "log entry {id} {reason}: it was not written by homeward (run `homeward log verify`); \
         nothing is sequenced past it until it is removed"
    )]
    UnauthenticatedEntry { id: i64, reason: &'static str },
    /// A sealed contact or health field that does not open: names the record, never the value.
    #[error("{column} of {record}: {reason}")]
    Sealed { record: String, column: &'static str, reason: crate::seal::SealError },
}

/// The rules a store operation refuses by (what a caller is told).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("the conflict already has records; its setup cannot be replaced")]
    SetupHasRecords,
    /// The setup itself is invalid (the domain's reason).
    #[error("{0}")]
    InvalidSetup(String),
    #[error("record_id: source {party} already has a record with this id")]
    DuplicateSourceRecord { party: String },
    #[error("no such request")]
    NoSuchRequest,
    #[error("the request is no longer searched for")]
    RequestNotSearching,
    #[error("no undecided candidate for this person")]
    NoUndecidedCandidate,
    #[error("the username is taken")]
    UsernameTaken,
    #[error("a token of a {owner} can act as that role or as auditor, not as {scope}")]
    TokenScope { owner: String, scope: String },
    #[error("token secret reused")]
    TokenSecretReused,
}
