#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![warn(missing_docs, missing_debug_implementations)]

mod builder;
pub mod chain;
mod closures;
mod diagnostic;
mod entry;
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
mod next;
mod pointer;
mod service;
pub mod support;
#[cfg(feature = "timeout")]
#[cfg_attr(docsrs, doc(cfg(feature = "timeout")))]
pub mod timeout;
pub mod trace;
mod transform;

pub use builder::HandlerBuilder;
/// `Invoke` names the rest of the chain in a middleware's `call`; it is in [`chain`] too.
pub use chain::Invoke;
pub use diagnostic::{InvocationError, NamedError};
pub use entry::{InvalidEvent, JsonEntry};
pub use error::BuildError;
pub use handler::Handler;
pub use hooks::Flow;
pub use lambda_middleware_macros::middleware;
pub use lambda_runtime::{Context, Error, LambdaEvent};
pub use middleware::Middleware;
pub use next::{Failure, Next, Proceeded};
pub use pointer::JsonPointer;
pub use transform::{Transform, With};
/// The `typed-builder` crate itself, for the derive's `crate_module_path`.
pub use typed_builder;
/// The derive that builds a middleware's params (`#[derive(TypedBuilder)]`), re-exported
/// so that custom params need no dependency of their own.
///
/// ```
/// use lambda_middleware_core::TypedBuilder;
///
/// #[derive(Debug, TypedBuilder)]
/// #[builder(crate_module_path = lambda_middleware_core::typed_builder)]
/// struct RateLimitParams {
///     per_second: u32,
///     #[builder(default = 10)]
///     burst: u32,
/// }
///
/// let params = RateLimitParams::builder().per_second(5).build();
/// assert_eq!((params.per_second, params.burst), (5, 10));
/// ```
pub use typed_builder::TypedBuilder;
