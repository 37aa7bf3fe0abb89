#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![warn(missing_docs, missing_debug_implementations)]

mod builder;
mod chain;
mod error;
mod handler;
mod handler_fn;
pub mod hooks;
#[cfg(feature = "http")]
#[cfg_attr(docsrs, doc(cfg(feature = "http")))]
pub mod http;
pub mod local;
mod middleware;
pub mod middlewares;
mod next;
mod service;
pub mod trace;

pub use builder::{Assemble, HandlerBuilder, Identity, Stack};
pub use chain::{Chain, FnHandler, Invoke, ParamsOf, Respond, Rest, Wrap};
pub use error::BuildError;
pub use handler::Handler;
pub use handler_fn::{BorrowingFn, HandlerFn, WithContextRef, WithLambdaEvent};
pub use lambda_runtime::{Context, Error, LambdaEvent};
pub use middleware::Middleware;
pub use next::{Failure, Next, NextRun, Proceeded};
pub use trace::Tracer;

#[doc(hidden)]
pub use chain::DescribeChain;
