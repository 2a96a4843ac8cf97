//! homeward's use cases, written once over the storage interface so that
//! the command line and the web server do the same thing the same way.
//!
//! The key decision for imports: a file is parsed and validated on its own
//! thread while the store writes the previous batch, and the whole file is
//! one store transaction. Memory stays flat (batches, not files), every bad
//! row is reported, and the file lands whole or not at all.

pub mod export;
pub mod import;
pub mod log;
pub mod matching;
pub mod registry;
pub mod requests;
