//! Log buffering, Powertools Logger's `LoggerBufferConfig`: the lines at or below a
//! level are held per invocation and written only when it goes wrong.

use std::collections::VecDeque;

use tracing::Level;
use typed_builder::TypedBuilder;

/// The target of the event [`flush_log_buffer`] sends to the logger.
pub(crate) const FLUSH_TARGET: &str = "lambda_middleware::log_buffer";

/// What [`JsonLogger::with_buffering`](crate::JsonLogger::with_buffering) and
/// [`Setup::log_buffering`](crate::Setup::log_buffering) buffer — Powertools'
/// `LoggerBufferConfig`, with its defaults.
///
/// Inside an invocation (the span of [`InjectLambdaContext`](crate::InjectLambdaContext),
/// or the one `lambda_runtime` opens), each line at `buffer_at_verbosity` or more verbose
/// is held instead of written, whatever the log level — that is the point: the `DEBUG`
/// lines of the invocations that fail, and of no other. The buffer is written, in
/// order, before the line that asks for it:
///
/// - an `ERROR` line, when `flush_on_error_log` (the default);
/// - the failure of the invocation, when [`InjectLambdaContext`](crate::InjectLambdaContext)
///   is in the chain (it flushes as the error passes it);
/// - [`flush_log_buffer`], on demand.
///
/// Otherwise it is dropped when the invocation ends: nothing is kept from one invocation
/// to the next, and each of `run_concurrent`'s invocations has its own. It holds at most
/// `max_bytes` of lines; past that the oldest go, and the flush says so on standard error.
/// Lines logged outside any invocation are not buffered.
///
/// ```
/// use lambda_middleware::observe::{LogBuffering, Setup};
/// use tracing::Level;
///
/// let buffering = LogBuffering::builder().max_bytes(10_240).buffer_at_verbosity(Level::DEBUG).build();
/// let setup = Setup::from_env()?.log_buffering(buffering);
/// # Ok::<(), lambda_middleware::observe::InitError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, TypedBuilder)]
pub struct LogBuffering {
    /// The most a buffer holds, in bytes of JSON lines. Default: 20480, as Powertools.
    #[builder(default = 20_480)]
    pub(crate) max_bytes: usize,
    /// Lines at this level or more verbose are buffered: `DEBUG` (and `TRACE`), `INFO`
    /// or `WARN`, as Powertools allows. Default: `DEBUG`.
    #[builder(default = Level::DEBUG)]
    pub(crate) buffer_at_verbosity: Level,
    /// Write the buffer when an `ERROR` line is logged, before it. Default: `true`.
    #[builder(default = true)]
    pub(crate) flush_on_error_log: bool,
}

impl Default for LogBuffering {
    fn default() -> Self {
        LogBuffering::builder().build()
    }
}

impl LogBuffering {
    /// Whether a line at `level` is held.
    pub(crate) fn holds(&self, level: &Level) -> bool {
        // `Level`s order from ERROR (least verbose) up to TRACE (most): a level at WARN or
        // more verbose than the one asked for is held, so ERROR never is.
        *level >= self.buffer_at_verbosity.max(Level::WARN)
    }
}

/// Writes the current invocation's buffered lines now (Powertools' `flush_buffer`).
/// Nothing happens outside an invocation, or without buffering.
///
/// ```
/// use lambda_middleware::observe::flush_log_buffer;
///
/// // Inside a handler, when something looks wrong but goes on:
/// flush_log_buffer();
/// ```
pub fn flush_log_buffer() {
    // An event the logger acts on and does not write; `LogLevel` always lets it through,
    // and at TRACE other layers' filters drop it.
    tracing::event!(target: FLUSH_TARGET, Level::TRACE, flush = true);
}

/// One invocation's held lines, in the extensions of its outermost invocation span.
#[derive(Debug, Default)]
pub(crate) struct Held {
    lines: VecDeque<Vec<u8>>,
    bytes: usize,
    evicted: bool,
}

impl Held {
    /// Holds `line`, dropping the oldest ones past `max_bytes`.
    pub(crate) fn push(&mut self, line: Vec<u8>, max_bytes: usize) {
        if line.len() > max_bytes {
            self.evicted = true;
            return;
        }
        self.bytes += line.len();
        self.lines.push_back(line);
        while self.bytes > max_bytes {
            let Some(oldest) = self.lines.pop_front() else { break };
            self.bytes -= oldest.len();
            self.evicted = true;
        }
    }

    /// The lines held, oldest first, and whether some were dropped; the buffer is empty after.
    pub(crate) fn take(&mut self) -> (VecDeque<Vec<u8>>, bool) {
        self.bytes = 0;
        (std::mem::take(&mut self.lines), std::mem::take(&mut self.evicted))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_oldest_lines_go_first_and_the_flush_says_so() {
        let mut held = Held::default();
        held.push(b"aaaa".to_vec(), 10);
        held.push(b"bbbb".to_vec(), 10);
        held.push(b"cccc".to_vec(), 10);
        let (lines, evicted) = held.take();
        assert_eq!(lines, [b"bbbb".to_vec(), b"cccc".to_vec()]);
        assert!(evicted);
        assert_eq!(held.take(), (VecDeque::new(), false));
    }

    #[test]
    fn which_levels_are_held() {
        let debug = LogBuffering::default();
        assert!(debug.holds(&Level::DEBUG) && debug.holds(&Level::TRACE));
        assert!(!debug.holds(&Level::INFO) && !debug.holds(&Level::ERROR));
        let warn = LogBuffering::builder().buffer_at_verbosity(Level::WARN).build();
        assert!(warn.holds(&Level::WARN) && warn.holds(&Level::INFO) && !warn.holds(&Level::ERROR));
        let error = LogBuffering::builder().buffer_at_verbosity(Level::ERROR).build();
        assert!(!error.holds(&Level::ERROR) && error.holds(&Level::WARN));
    }
}
