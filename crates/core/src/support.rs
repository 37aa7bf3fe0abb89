//! Helpers for crates that write middlewares: the pieces the built-in middlewares of
//! the other `lambda-middleware` crates use, public so that a third-party middleware
//! can behave the same way.

pub use crate::diagnostic::error_type;
pub use crate::middleware::short_type_name;
pub use crate::pointer::write_redacted;
pub use crate::trace::span::{RecordPanic, handler_span, record_error, record_outcome};
