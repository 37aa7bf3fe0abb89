//! The guides: each page is a runnable, doctested chapter, following the data's path —
//! event in, middlewares (outer to inner), handler, response out.
//!
//! | page | for |
//! |------|-----|
//! | [`getting_started`] | `Cargo.toml`, a first middleware, running it locally, deploying it with `cargo lambda` |
//! | [`writing_middlewares`] | the `async fn` and hooks forms, params, transforms that change types, order, errors and early responses, handler forms, tracing |
//! | [`compiler_refuses`] | the misuses the compiler stops, and its messages |
//! | [`http_api`] | recipe: an HTTP API with the HTTP built-ins, and the table of every built-in middleware |
//! | [`tower_and_axum`] | recipe: a chain around an axum `Router`, as a tower layer, hosting tower-http's layers, streaming |
//! | [`sqs_consumer`] | recipe: an SQS consumer with typed records, partial batch failures and idempotency |
//! | [`idempotent_payments`] | recipe: Powertools' `@idempotent`, in memory and on DynamoDB |
//! | [`parameters`] | recipe: configuration and secrets from SSM, Secrets Manager, AppConfig and DynamoDB, cached for every invocation, handed to the handler typed |
//! | [`observability`] | recipe: JSON logs, CloudWatch metrics and X-Ray traces, as Powertools writes them |
//! | [`testing`] | recipe: testing a middleware locally, through the real runtime loop, under `cargo lambda` |
//! | [`environment`] | every environment variable the crates read |
//! | [`performance`] | what a chain costs per invocation, and how to reproduce the figures |

#[doc = include_str!("getting_started.md")]
pub mod getting_started {}
#[doc = include_str!("writing_middlewares.md")]
pub mod writing_middlewares {}
#[doc = include_str!("compiler_refuses.md")]
#[doc = ""]
#[doc = include_str!("../../tests/ui/README.md")]
pub mod compiler_refuses {}
#[doc = include_str!("http_api.md")]
pub mod http_api {}
#[doc = include_str!("tower_and_axum.md")]
pub mod tower_and_axum {}
// Its examples need `sqs` and `idempotency` (docs.rs builds with every feature).
#[cfg_attr(all(feature = "sqs", feature = "idempotency"), doc = include_str!("sqs_consumer.md"))]
#[cfg_attr(
    not(all(feature = "sqs", feature = "idempotency")),
    doc = "An SQS consumer with typed records, partial batch failures and idempotency (features `sqs` and `idempotency`)."
)]
pub mod sqs_consumer {}
#[doc = include_str!("idempotent_payments.md")]
pub mod idempotent_payments {}
// Its examples need `ssm` and `secrets` (docs.rs builds with every feature).
#[cfg_attr(all(feature = "ssm", feature = "secrets"), doc = include_str!("parameters.md"))]
#[cfg_attr(
    not(all(feature = "ssm", feature = "secrets")),
    doc = "Parameters and secrets: SSM, Secrets Manager, AppConfig and DynamoDB, cached for every invocation, handed to the handler typed (features `parameters`, `ssm` and `secrets`)."
)]
pub mod parameters {}
#[doc = include_str!("observability.md")]
pub mod observability {}
#[doc = include_str!("testing.md")]
pub mod testing {}
#[doc = include_str!("environment.md")]
pub mod environment {}
#[doc = include_str!("performance.md")]
pub mod performance {}
