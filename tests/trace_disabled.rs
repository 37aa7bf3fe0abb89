//! `POWERTOOLS_TRACE_DISABLED`, `POWERTOOLS_TRACER_CAPTURE_RESPONSE` and
//! `POWERTOOLS_TRACER_CAPTURE_ERROR`: accepted spellings, invalid values, params
//! beating the variables, and what each turns off.
//!
//! These tests change the process environment, so they live in their own test binary
//! and each holds `ENV` from setting the variables to putting them back.

mod common;

use std::sync::{Mutex, MutexGuard, PoisonError};

use common::Behaviour::{Annotate, Fail, Pass};
use common::capture::Capture;
use common::{AlwaysTraced, echo, step};
use lambda_middleware::middlewares::{CaptureLambdaHandler, CaptureLambdaHandlerParams};
use lambda_middleware::trace::{
    ANNOTATION_TARGET, CAPTURE_ERROR_ENV, CAPTURE_RESPONSE_ENV, METADATA_TARGET, TRACE_DISABLED_ENV,
    TRACE_MIDDLEWARES_ENV, tracing_disabled,
};
use lambda_middleware::{BuildError, Context, Handler, Tracer};
use serde_json::{Value, json};
use tracing_subscriber::layer::SubscriberExt;

static ENV: Mutex<()> = Mutex::new(());

const VARIABLES: [&str; 4] = [
    TRACE_DISABLED_ENV,
    TRACE_MIDDLEWARES_ENV,
    CAPTURE_RESPONSE_ENV,
    CAPTURE_ERROR_ENV,
];

/// The environment for one test: the variables given set, the others removed; all of
/// them removed again on drop, and the tracing switch rebuilt from that, so that a
/// failed test leaves nothing behind.
struct Env(#[allow(dead_code)] MutexGuard<'static, ()>);

fn env(values: &[(&str, &str)]) -> Env {
    let guard = ENV.lock().unwrap_or_else(PoisonError::into_inner);
    for name in VARIABLES {
        let value = values.iter().find(|(n, _)| *n == name).map(|(_, v)| *v);
        // SAFETY: every test in this binary holds `ENV` while it reads or writes the
        // environment, and nothing else in the process reads it concurrently.
        unsafe {
            match value {
                Some(value) => std::env::set_var(name, value),
                None => std::env::remove_var(name),
            }
        }
    }
    Env(guard)
}

impl Drop for Env {
    fn drop(&mut self) {
        for name in VARIABLES {
            // SAFETY: as in `env`; `ENV` is still held.
            unsafe { std::env::remove_var(name) };
        }
        // Building a handler sets the switch from the (now clean) environment.
        Handler::builder().handler(echo).unwrap();
    }
}

fn block_on<F: Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(future)
}

/// Invokes under a capturing subscriber and returns what it saw.
fn run_captured<C>(handler: &Handler<C>, event: Value) -> (Result<Value, lambda_middleware::Error>, Capture)
where
    C: lambda_middleware::chain::Chain<Value, Response = Value>,
{
    let capture = Capture::default();
    let _subscriber = tracing::subscriber::set_default(tracing_subscriber::registry().with(capture.clone()));
    let outcome = block_on(async {
        Tracer::new().put_annotation("Outside", true);
        handler.invoke_with(event, &Context::default()).await
    });
    (outcome, capture)
}

/// `(key, value)` of every metadata entry put, in order.
fn metadata(capture: &Capture) -> Vec<(String, String)> {
    capture
        .events()
        .iter()
        .filter(|event| event.target == METADATA_TARGET)
        .map(|event| (event.fields["key"].clone(), event.fields["value"].clone()))
        .collect()
}

fn annotations(capture: &Capture) -> Vec<String> {
    capture
        .events()
        .iter()
        .filter(|event| event.target == ANNOTATION_TARGET)
        .map(|event| event.fields["key"].clone())
        .collect()
}

fn traced_chain() -> Handler<impl lambda_middleware::chain::Chain<Value, Response = Value>> {
    Handler::builder()
        .middleware_with(
            CaptureLambdaHandler,
            CaptureLambdaHandlerParams::builder().name("get_booking").build(),
        )
        .middleware(AlwaysTraced)
        .middleware(step("annotate", Annotate))
        .traced()
        .middleware(step("auto", Pass))
        .handler(echo)
        .unwrap()
}

#[test]
fn every_true_spelling_turns_off_spans_the_segment_and_tracer_calls() {
    for value in ["1", "y", "yes", "t", "true", "on", "TRUE", "On", " yes "] {
        // With `POWERTOOLS_TRACE_MIDDLEWARES` on too: disabled wins.
        let _env = env(&[(TRACE_DISABLED_ENV, value), (TRACE_MIDDLEWARES_ENV, "true")]);
        let handler = traced_chain();
        assert!(tracing_disabled(), "{value:?}");
        assert!(!handler.traces_from_env(), "{value:?}");
        let (outcome, capture) = run_captured(&handler, json!({ "id": 1 }));
        assert_eq!(outcome.unwrap(), json!({ "echo": { "id": 1 } }), "{value:?}");
        let spans: Vec<_> = capture.spans().iter().map(|s| s.display_name().to_owned()).collect();
        // The handler's own span is the user's: only the crate's are off.
        assert_eq!(spans, ["handler_work"], "{value:?}");
        assert_eq!(annotations(&capture), Vec::<String>::new(), "{value:?}");
        assert_eq!(metadata(&capture), Vec::new(), "{value:?}");
    }
}

#[test]
fn every_false_spelling_unset_and_empty_leave_tracing_on() {
    for value in [
        None,
        Some(""),
        Some("0"),
        Some("n"),
        Some("no"),
        Some("f"),
        Some("false"),
        Some("OFF"),
    ] {
        let values: Vec<(&str, &str)> = value.map(|v| (TRACE_DISABLED_ENV, v)).into_iter().collect();
        let _env = env(&values);
        let handler = traced_chain();
        assert!(!tracing_disabled(), "{value:?}");
        let (outcome, capture) = run_captured(&handler, json!({ "id": 1 }));
        assert_eq!(outcome.unwrap(), json!({ "echo": { "id": 1 } }));
        let spans: Vec<_> = capture.spans().iter().map(|s| s.display_name().to_owned()).collect();
        assert_eq!(
            spans,
            ["## get_booking", "## AlwaysTraced", "## annotate", "handler_work"],
            "{value:?}"
        );
        assert_eq!(
            annotations(&capture),
            ["Outside", "ColdStart", "Step", "Calls"],
            "{value:?}"
        );
        assert_eq!(
            metadata(&capture),
            [
                ("event".to_owned(), r#"{"id":1}"#.to_owned()),
                ("get_booking response".to_owned(), r#"{"echo":{"id":1}}"#.to_owned()),
            ],
            "{value:?}"
        );
    }
}

#[test]
fn the_switch_follows_the_variable_when_each_handler_is_built() {
    let handler = {
        let _env = env(&[(TRACE_DISABLED_ENV, "true")]);
        traced_chain()
    };
    // Put back when the guard dropped: the variable is the process's, and so is the switch.
    assert!(!tracing_disabled());
    let _env = env(&[]);
    let (_, capture) = run_captured(&handler, json!(1));
    assert_eq!(capture.spans().len(), 4);
}

#[test]
fn invalid_values_are_build_errors_naming_the_variable_and_the_value() {
    for variable in [TRACE_DISABLED_ENV, CAPTURE_RESPONSE_ENV, CAPTURE_ERROR_ENV] {
        for value in ["2", "yess", "disabled", "-1"] {
            let _env = env(&[(variable, value)]);
            let error = Handler::builder()
                .middleware_with(
                    CaptureLambdaHandler,
                    CaptureLambdaHandlerParams::builder().name("h").build(),
                )
                .handler(echo)
                .unwrap_err();
            assert!(matches!(error, BuildError::InvalidEnv { .. }), "{error}");
            assert_eq!(
                error.to_string(),
                format!(
                    "environment variable {variable} is {value:?}; expected one of \
                     1, y, yes, t, true, on (true) or 0, n, no, f, false, off (false), in any case"
                )
            );
        }
    }
}

#[test]
fn capture_variables_turn_the_metadata_off_and_params_beat_them() {
    let failing = |params: CaptureLambdaHandlerParams| {
        Handler::builder()
            .middleware_with(CaptureLambdaHandler, params)
            .middleware(step("refuse", Fail))
            .handler(echo)
            .unwrap()
    };
    let passing = |params: CaptureLambdaHandlerParams| {
        Handler::builder()
            .middleware_with(CaptureLambdaHandler, params)
            .handler(echo)
            .unwrap()
    };
    let response = ("h response".to_owned(), r#"{"echo":1}"#.to_owned());
    let error = ("h error".to_owned(), r#""refuse refused the event""#.to_owned());

    let _env = env(&[(CAPTURE_RESPONSE_ENV, "false"), (CAPTURE_ERROR_ENV, "off")]);
    let (_, capture) = run_captured(
        &passing(CaptureLambdaHandlerParams::builder().name("h").build()),
        json!(1),
    );
    assert_eq!(metadata(&capture), []);
    let (_, capture) = run_captured(
        &failing(CaptureLambdaHandlerParams::builder().name("h").build()),
        json!(1),
    );
    assert_eq!(metadata(&capture), []);

    let (_, capture) = run_captured(
        &passing(
            CaptureLambdaHandlerParams::builder()
                .name("h")
                .capture_response(true)
                .build(),
        ),
        json!(1),
    );
    assert_eq!(metadata(&capture), std::slice::from_ref(&response));
    let (_, capture) = run_captured(
        &failing(
            CaptureLambdaHandlerParams::builder()
                .name("h")
                .capture_error(true)
                .build(),
        ),
        json!(1),
    );
    assert_eq!(metadata(&capture), std::slice::from_ref(&error));
    drop(_env);

    // And the other way round: on by default, off by params.
    let _env = env(&[]);
    let (_, capture) = run_captured(
        &passing(CaptureLambdaHandlerParams::builder().name("h").build()),
        json!(1),
    );
    assert_eq!(metadata(&capture), [response]);
    let (_, capture) = run_captured(
        &failing(CaptureLambdaHandlerParams::builder().name("h").build()),
        json!(1),
    );
    assert_eq!(metadata(&capture), [error]);
    let (_, capture) = run_captured(
        &passing(
            CaptureLambdaHandlerParams::builder()
                .name("h")
                .capture_response(false)
                .build(),
        ),
        json!(1),
    );
    assert_eq!(metadata(&capture), []);
    let (_, capture) = run_captured(
        &failing(
            CaptureLambdaHandlerParams::builder()
                .name("h")
                .capture_error(false)
                .build(),
        ),
        json!(1),
    );
    assert_eq!(metadata(&capture), []);
}

#[test]
fn a_params_choice_ignores_an_invalid_variable_as_powertools_does() {
    let _env = env(&[(CAPTURE_RESPONSE_ENV, "maybe")]);
    let handler = Handler::builder()
        .middleware_with(
            CaptureLambdaHandler,
            CaptureLambdaHandlerParams::builder()
                .name("h")
                .capture_response(false)
                .build(),
        )
        .handler(echo);
    assert!(handler.is_ok());
}

#[test]
fn an_empty_name_is_refused_when_the_handler_is_built() {
    let _env = env(&[]);
    let error = Handler::builder()
        .middleware_with(
            CaptureLambdaHandler,
            CaptureLambdaHandlerParams::builder().name(" ").build(),
        )
        .handler(echo)
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "capture_lambda_handler: name is empty; expected the handler's name, which the segment shows as `## <name>`"
    );
}
