//! A reader that refuses absurd input before it costs memory: a CSV parser
//! buffers a whole record, so a single 100 MB line (a binary file, a broken
//! export) would be held at once. Lines and records over a limit stop the
//! import with the line number instead.

use std::io::{self, Read};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Longest physical line accepted.
pub const MAX_LINE_BYTES: u64 = 1 << 20;
/// Longest record (a quoted field may span lines).
pub const MAX_RECORD_BYTES: u64 = 4 << 20;

/// Why reading stopped; carried inside `io::Error` through the CSV parser.
#[derive(Debug, thiserror::Error)]
pub enum TooLong {
    #[error(
        "line {0} is longer than {MAX_LINE_BYTES} bytes: this is not a person CSV, or a field holds far too much text"
    )]
    Line(u64),
    #[error("the record ending near line {0} is longer than {MAX_RECORD_BYTES} bytes (an unclosed quote?)")]
    Record(u64),
}

/// Counters shared with the parsing loop.
#[derive(Debug, Default)]
pub struct Counters {
    /// Bytes read from the file so far (for progress).
    pub total: AtomicU64,
    /// Bytes read since the loop last finished a record.
    pub since_record: AtomicU64,
}

#[derive(Debug)]
pub struct LimitedReader<R> {
    inner: R,
    line: u64,
    line_len: u64,
    counters: Arc<Counters>,
}

impl<R: Read> LimitedReader<R> {
    pub fn new(inner: R, counters: Arc<Counters>) -> Self {
        Self { inner, line: 1, line_len: 0, counters }
    }
}

impl<R: Read> Read for LimitedReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        for &b in &buf[..n] {
            if b == b'\n' {
                self.line += 1;
                self.line_len = 0;
            } else {
                self.line_len += 1;
                if self.line_len > MAX_LINE_BYTES {
                    return Err(io::Error::new(io::ErrorKind::InvalidData, TooLong::Line(self.line)));
                }
            }
        }
        self.counters.total.fetch_add(n as u64, Ordering::Relaxed);
        let since = self.counters.since_record.fetch_add(n as u64, Ordering::Relaxed) + n as u64;
        if since > MAX_RECORD_BYTES {
            return Err(io::Error::new(io::ErrorKind::InvalidData, TooLong::Record(self.line)));
        }
        Ok(n)
    }
}
