//! The registry API tested from outside: a real server on 127.0.0.1:0 and a
//! real HTTP client (see `support.rs`).

mod access;
mod bad_input;
mod browser;
mod forms;
mod headers;
mod imports;
mod matrix;
mod openapi;
mod review;
mod search;
mod status;
mod support;
mod tracing;
mod ui;
