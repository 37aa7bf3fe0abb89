//! Test support shared by the integration tests that run functions for real.
//!
//! Each test binary uses its own part of it, so unused items are expected.
#![allow(dead_code)]

#[cfg(feature = "appconfig")]
pub mod appconfig;
pub mod batches;
#[cfg(feature = "dynamodb")]
pub mod dynalite;
pub mod examples;
pub mod layers;
#[cfg(feature = "parameters")]
pub mod moto;
pub mod process;
pub mod runtime_api;
pub mod tools;
