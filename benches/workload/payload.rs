//! The events the workload runs on.

use serde_json::{Value, json};

/// An event type of the workload: any of them travels by value through the chain.
pub trait Payload: Send + Sync + PartialEq + std::fmt::Debug + 'static {
    /// Name in bench ids, tables and on the command line.
    const NAME: &'static str;
    /// The event every run starts from.
    fn sample() -> Self;
    /// What a step reads: 1 for every sample, computed from the event.
    fn weight(&self) -> u64;
}

/// A small typed event.
#[derive(Debug, Clone, PartialEq)]
pub struct Order {
    pub id: u64,
    pub customer: String,
    pub quantity: u32,
    pub total_cents: u64,
}

impl Payload for Value {
    const NAME: &'static str = "json";

    fn sample() -> Self {
        json!({ "id": 42, "customer": "c-1234", "items": [{ "sku": "A-1", "quantity": 2 }], "total_cents": 1999 })
    }

    /// Whether it is an object.
    fn weight(&self) -> u64 {
        self.is_object().into()
    }
}

impl Payload for Order {
    const NAME: &'static str = "struct";

    fn sample() -> Self {
        Order {
            id: 42,
            customer: "c-1234".to_owned(),
            quantity: 2,
            total_cents: 1999,
        }
    }

    /// Whether it has a quantity.
    fn weight(&self) -> u64 {
        (self.quantity > 0).into()
    }
}

impl Payload for u64 {
    const NAME: &'static str = "u64";

    fn sample() -> Self {
        42
    }

    /// Whether it is not zero.
    fn weight(&self) -> u64 {
        (*self != 0).into()
    }
}
