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
    #[error("{0}")]
    Conflict(String),
    #[error("database migration failed: {0}")]
    Migration(String),
    #[error("database error: {0}")]
    Backend(String),
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
