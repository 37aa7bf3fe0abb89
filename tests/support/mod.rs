//! Test support shared by the integration tests that run functions for real.
//!
//! Each test binary uses its own part of it, so unused items are expected.
#![allow(dead_code)]

pub mod batches;
#[cfg(feature = "appconfig")]
pub mod appconfig;
#[cfg(feature = "dynamodb")]
pub mod dynalite;
pub mod examples;
pub mod layers;
#[cfg(feature = "parameters")]
pub mod moto;
pub mod process;
pub mod runtime_api;
pub mod tools;
