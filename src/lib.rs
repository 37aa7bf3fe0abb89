#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![warn(missing_docs, missing_debug_implementations)]

mod builder;
mod chain;
mod cold_start;
mod diagnostic;
mod error;
mod handler;
mod handler_fn;
pub mod hooks;
#[cfg(feature = "http")]
#[cfg_attr(docsrs, doc(cfg(feature = "http")))]
pub mod http;
pub mod layer;
pub mod local;
mod middleware;
pub mod middlewares;
mod next;
pub mod observe;
mod service;
pub mod trace;
mod transform;

pub use builder::{Assemble, Changes, CloneStack, HandlerBuilder, Hosting, Identity, Same, Stack};
pub use chain::{
    Accept, Chain, FnHandler, Invoke, ParamsOf, Placeholder, Reshape, Respond, Rest, ServiceEnd, TakesEvent,
    TakesLambdaEvent, Wrap,
};
pub use diagnostic::{InvocationError, NamedError};
pub use error::BuildError;
pub use handler::Handler;
pub use handler_fn::{BorrowingFn, HandlerFn, WithContextRef, WithLambdaEvent};
pub use lambda_runtime::{Context, Error, LambdaEvent};
pub use middleware::Middleware;
pub use next::{Failure, Next, NextRun, Proceeded};
pub use trace::Tracer;
pub use transform::{Transform, With};

#[doc(hidden)]
pub use chain::DescribeChain;
