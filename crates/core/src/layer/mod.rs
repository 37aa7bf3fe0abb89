//! tower interop, both ways: a chain as a `tower::Layer` ([`ChainLayer`]), and a tower
//! `Layer` as one layer of a chain.
//!
//! A chain can also *end* in any `tower::Service`: see
//! [`HandlerBuilder::service`](crate::HandlerBuilder::service) and
//! [`HandlerBuilder::lambda_service`](crate::HandlerBuilder::lambda_service).

mod chain_layer;
mod hosted;

pub use chain_layer::ChainLayer;
pub use hosted::{LayerError, LayerEvent, NextService, NextServiceFuture, SameEvent, Taking, TowerLayer};
