//! Shared by the tracing tests: a capturing layer and middlewares that pass, fail,
//! answer early or annotate.
#![allow(dead_code)]

pub mod capture;
pub mod emf;
pub mod lines;

use lambda_middleware::{Context, Error, Invoke, Middleware, Next, Proceeded, Tracer};
use serde_json::{Value, json};

pub static TRACER: Tracer = Tracer::new();

/// What a [`Step`] does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Behaviour {
    /// Runs the rest of the chain.
    Pass,
    /// Fails before running it, with a [`StepFailed`].
    Fail,
    /// Answers early: `{"early": <name>}`.
    Early,
    /// Puts the annotations `Step` (its name) and `Calls` (1), the metadata `event`,
    /// then runs the rest of the chain.
    Annotate,
    /// Panics with `<name> panicked on <event>` when the event is the string `"panic"`;
    /// runs the rest of the chain otherwise.
    Panic,
}

/// A middleware with a chosen name and behaviour.
pub struct Step {
    pub name: &'static str,
    pub behaviour: Behaviour,
}

pub const fn step(name: &'static str, behaviour: Behaviour) -> Step {
    Step { name, behaviour }
}

#[derive(Debug, thiserror::Error)]
#[error("{0} refused the event")]
pub struct StepFailed(pub &'static str);

impl Middleware<Value, Value> for Step {
    type Params = ();

    fn name(&self) -> &'static str {
        self.name
    }

    async fn call<'n, I>(
        &self,
        _: &(),
        event: Value,
        _: &Context,
        next: Next<'n, I>,
    ) -> Result<Proceeded<'n, Value>, Error>
    where
        I: Invoke<Value, Response = Value>,
    {
        match self.behaviour {
            Behaviour::Pass => Ok(next.run(event).await?),
            Behaviour::Fail => Err(StepFailed(self.name).into()),
            Behaviour::Early => Ok(next.respond_early(json!({ "early": self.name }))),
            Behaviour::Annotate => {
                TRACER.put_annotation("Step", self.name);
                TRACER.put_annotation("Calls", 1_u32);
                TRACER.put_metadata("event", &event);
                Ok(next.run(event).await?)
            }
            Behaviour::Panic => {
                if event == "panic" {
                    panic!("{} panicked on {event}", self.name);
                }
                Ok(next.run(event).await?)
            }
        }
    }
}

/// A middleware that asks to be traced in its definition.
pub struct AlwaysTraced;

impl Middleware<Value, Value> for AlwaysTraced {
    type Params = ();
    const TRACE_EXECUTION: Option<bool> = Some(true);

    async fn call<'n, I>(
        &self,
        _: &(),
        event: Value,
        _: &Context,
        next: Next<'n, I>,
    ) -> Result<Proceeded<'n, Value>, Error>
    where
        I: Invoke<Value, Response = Value>,
    {
        Ok(next.run(event).await?)
    }
}

/// A middleware that asks not to be traced in its definition.
pub struct NeverTraced;

impl Middleware<Value, Value> for NeverTraced {
    type Params = ();
    const TRACE_EXECUTION: Option<bool> = Some(false);

    async fn call<'n, I>(
        &self,
        _: &(),
        event: Value,
        _: &Context,
        next: Next<'n, I>,
    ) -> Result<Proceeded<'n, Value>, Error>
    where
        I: Invoke<Value, Response = Value>,
    {
        Ok(next.run(event).await?)
    }
}

/// A handler that opens a span of its own and echoes the event.
pub async fn echo(event: Value, _: &Context) -> Result<Value, Error> {
    let _span = tracing::info_span!("handler_work", rows = 3_u64).entered();
    Ok(json!({ "echo": event }))
}
