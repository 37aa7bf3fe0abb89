//! `LoadConfig` under the real run loop: `lambda_runtime::run_concurrent` with fifty
//! workers against a loopback Runtime API, its parameters in moto (SSM and Secrets
//! Manager), every request to moto counted at a proxy.
//!
//! 1. The secret does not exist yet: the invocation fails with `errorType`
//!    `GetParameterError`, naming it; the next one, once it exists, is served.
//! 2. Fifty invocations on a fresh cache: no request reaches moto.
//! 3. Fifty invocations at once once every value is stale: exactly one request per
//!    parameter reaches moto (the proxy holds each answer a moment so that all fifty
//!    are waiting), and all fifty get the configuration.
//! 4. Through it all, with JSON logs at DEBUG, `LogEvent` logging events and responses,
//!    every middleware traced (`tests/parameters_secrets.rs` reads the spans) and the handler logging the configuration's `Debug`, the
//!    secret's value appears in none of the function's output nor in any response.
//!
//! 5. SnapStart (`AWS_LAMBDA_INITIALIZATION_TYPE=snap-start`, the loopback API
//!    answering `/restore/next`): values prefetched before the snapshot are fetched
//!    again at the first invocation after the restore.
//!
//! As in `tests/runtime_api.rs`, the function is this test binary started again as a
//! process of its own (the ignored test `lambda_function`).
#![cfg(all(feature = "ssm", feature = "secrets"))]

mod support;

use std::time::Duration;

use serde_json::json;
use support::moto::{Moto, secrets_admin, ssm_admin};
use support::runtime_api::{Outcome, Queued, RuntimeApi, TIMEOUT, serve_function, start_function};

/// Where the function's providers send their requests: the counting proxy.
const ENDPOINT_ENV: &str = "TEST_PARAMETERS_ENDPOINT";
const SECRET: &str = "sk-live-7f3a9c1e5b";
const CONCURRENCY: usize = 50;
/// The loader's `max_age` in the function, in seconds.
const MAX_AGE: u64 = 3;

#[test]
fn the_handler_gets_its_typed_configuration_fetched_once_per_stale_parameter() {
    let Some(moto) = Moto::get() else { return };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let ssm = ssm_admin(moto);
        for (name, value) in [
            ("/orders/table", "orders-prod"),
            ("/orders/limits", r#"{"per_minute":60}"#),
        ] {
            ssm.put_parameter()
                .name(name)
                .value(value)
                .r#type(lambda_middleware::parameters::aws_sdk_ssm::types::ParameterType::String)
                .overwrite(true)
                .send()
                .await
                .unwrap();
        }
    });
    let counter = moto.counter();
    let api = RuntimeApi::start();
    let concurrency = CONCURRENCY.to_string();
    let endpoint = counter.endpoint();
    api.queue(Queued::json("no-secret-yet", &json!({ "order": 0 })));
    let mut function = start_function(
        "configured",
        &api,
        &[
            ("AWS_LAMBDA_MAX_CONCURRENCY", concurrency.as_str()),
            (ENDPOINT_ENV, endpoint.as_str()),
            ("AWS_LAMBDA_LOG_FORMAT", "JSON"),
            ("POWERTOOLS_LOG_LEVEL", "DEBUG"),
            ("POWERTOOLS_TRACE_MIDDLEWARES", "true"),
            ("POWERTOOLS_SERVICE_NAME", "orders"),
        ],
    );

    // 1. A failure names the parameter, under Powertools' errorType; the next is served.
    api.wait_for_posts(1, TIMEOUT, &mut function);
    let posts = api.posts_by_request_id();
    let (error_type, message) = posts["no-secret-yet"].error();
    assert_eq!(error_type, "GetParameterError", "{message}");
    assert_eq!(message, "parameter orders/api-key was not found in secretsmanager");
    assert_eq!(counter.take_count(), 3, "table, limits, and the missing secret");
    runtime.block_on(async {
        secrets_admin(moto)
            .create_secret()
            .name("orders/api-key")
            .secret_string(SECRET)
            .send()
            .await
            .unwrap();
    });
    api.queue(Queued::json("first", &json!({ "order": 1 })));
    api.wait_for_posts(2, TIMEOUT, &mut function);
    let expected =
        |order: usize| json!({ "table": "orders-prod", "per_minute": 60, "key_length": SECRET.len(), "order": order });
    assert_eq!(api.posts_by_request_id()["first"].response(), expected(1));
    let first = counter.take_count();
    assert_eq!(first, 1, "only the secret was not cached yet");

    // 2. Fifty at once on a fresh cache: nothing reaches moto.
    for n in 0..CONCURRENCY {
        api.queue(Queued::json(format!("cached-{n}"), &json!({ "order": n })));
    }
    api.wait_for_posts(2 + CONCURRENCY, TIMEOUT, &mut function);
    let cached = counter.take_count();
    assert_eq!(cached, 0, "cached values send nothing");

    // 3. Once every value is stale: fifty at once, one request per parameter.
    std::thread::sleep(Duration::from_secs(MAX_AGE + 1));
    counter.delay(Some(Duration::from_millis(500)));
    for n in 0..CONCURRENCY {
        api.queue(Queued::json(format!("stale-{n}"), &json!({ "order": n })));
    }
    api.wait_for_posts(2 + 2 * CONCURRENCY, TIMEOUT, &mut function);
    let stale = counter.take();
    let mut operations: Vec<_> = stale.iter().map(|seen| seen.operation.clone()).collect();
    operations.sort();
    assert_eq!(operations, ["GetParameter", "GetParameter", "GetSecretValue"]);
    let posts = api.posts_by_request_id();
    for n in 0..CONCURRENCY {
        assert_eq!(posts[&format!("cached-{n}")].response(), expected(n));
        assert_eq!(posts[&format!("stale-{n}")].response(), expected(n));
    }
    println!(
        "requests to the stores: first invocation 3 (one failed), the next {first}, \
         {CONCURRENCY} cached invocations {cached}, {CONCURRENCY} concurrent invocations on stale values {} \
         (3 parameters)",
        stale.len()
    );

    // 4. The secret is nowhere in what the function wrote or answered.
    let output = function.output();
    assert!(
        output.contains("\"level\":\"DEBUG\""),
        "DEBUG lines were written: {output}"
    );
    assert!(
        output.contains("Secret(*****)"),
        "the handler logged the configuration: {output}"
    );
    assert!(
        !output.contains(SECRET),
        "the secret's value reached the function's output"
    );
    for post in posts.values() {
        assert!(
            !format!("{post:?}").contains(SECRET),
            "the secret's value reached a response: {post:?}"
        );
    }
    assert!(
        posts
            .values()
            .all(|post| matches!(post.outcome, Outcome::Response) || post.request_id == "no-secret-yet")
    );
}

/// SnapStart: the function prefetches its configuration during init, the snapshot is
/// taken and restored (the loopback Runtime API answers `/restore/next` at once), and
/// the cache — registered as a `SnapStartResource` — treats every value as stale: the
/// first invocation fetches each parameter again although `max_age` is five minutes;
/// the second is served from the cache.
#[test]
fn after_a_snapstart_restore_the_first_invocation_fetches_again() {
    let Some(moto) = Moto::get() else { return };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        ssm_admin(moto)
            .put_parameter()
            .name("/snap/table")
            .value("orders-snap")
            .r#type(lambda_middleware::parameters::aws_sdk_ssm::types::ParameterType::String)
            .overwrite(true)
            .send()
            .await
            .unwrap();
        secrets_admin(moto)
            .create_secret()
            .name("snap/api-key")
            .secret_string(SECRET)
            .send()
            .await
            .unwrap();
    });
    let counter = moto.counter();
    let api = RuntimeApi::start();
    let endpoint = counter.endpoint();
    let mut function = start_function(
        "snapstart",
        &api,
        &[
            (ENDPOINT_ENV, endpoint.as_str()),
            ("AWS_LAMBDA_INITIALIZATION_TYPE", "snap-start"),
        ],
    );
    api.queue(Queued::json("restored-1", &json!({ "order": 1 })));
    api.wait_for_posts(1, TIMEOUT, &mut function);
    let restored = counter.take();
    api.queue(Queued::json("restored-2", &json!({ "order": 2 })));
    api.wait_for_posts(2, TIMEOUT, &mut function);
    let posts = api.posts_by_request_id();
    assert_eq!(posts["restored-1"].response()["table"], "orders-snap");
    assert_eq!(posts["restored-2"].response()["table"], "orders-snap");
    // The prefetch (two requests) happened before the first post; the first
    // invocation after the restore fetched both again.
    assert_eq!(
        restored.len(),
        4,
        "prefetch 2, first invocation after the restore 2: {restored:?}"
    );
    assert_eq!(counter.take_count(), 0, "the second invocation was a cache hit");
}

/// The function process: started by the tests above, never by `cargo test` itself.
#[test]
#[ignore = "the Lambda function process the tests above start"]
fn lambda_function() {
    serve_function(2, |name| async move {
        match name.as_str() {
            "configured" => function::configured().await,
            "snapstart" => function::snapstart().await,
            other => panic!("no function named {other:?}"),
        }
    });
}

mod function {
    use std::time::Duration;

    use lambda_middleware::middlewares::{InjectLambdaContext, LogEvent, LogEventParams};
    use lambda_middleware::parameters::{Cache, ConfigLoader, LoadConfig, Secret, SecretsProvider, SsmProvider};
    use lambda_middleware::{Context, Error, Handler, With, observe};
    use serde_json::{Value, json};

    use super::support::moto::{secrets_client, ssm_client};

    #[derive(Clone, Debug, serde::Deserialize)]
    struct Config {
        table: String,
        limits: Limits,
        api_key: Secret<String>,
    }

    #[derive(Clone, Debug, serde::Deserialize)]
    struct Limits {
        per_minute: u32,
    }

    async fn handler(event: With<Config, Value>, _: &Context) -> Result<Value, Error> {
        let config = &event.data;
        tracing::info!(?config, "configuration");
        Ok(json!({
            "table": config.table,
            "per_minute": config.limits.per_minute,
            "key_length": config.api_key.expose().len(),
            "order": event.event["order"],
        }))
    }

    pub async fn configured() -> Result<(), Error> {
        observe::init()?;
        let endpoint = std::env::var(super::ENDPOINT_ENV)?;
        let ssm = SsmProvider::new(ssm_client(&endpoint));
        let secrets = SecretsProvider::new(secrets_client(&endpoint));
        let loader = ConfigLoader::<Config>::new()
            .field("table", &ssm, "/orders/table")
            .field_json("limits", &ssm, "/orders/limits")
            .field("api_key", &secrets, "orders/api-key")
            .max_age(Duration::from_secs(super::MAX_AGE));
        let handler = Handler::builder()
            .middleware(InjectLambdaContext)
            .middleware_with(LogEvent, LogEventParams::builder().log_response(true).build())
            .transform_with(LoadConfig, loader)
            .handler(handler)?;
        lambda_runtime::run_concurrent(handler).await
    }

    #[derive(Clone, Debug, serde::Deserialize)]
    struct Snap {
        table: String,
        api_key: Secret<String>,
    }

    /// Prefetches during init and registers the process's cache with the runtime.
    pub async fn snapstart() -> Result<(), Error> {
        let endpoint = std::env::var(super::ENDPOINT_ENV)?;
        let ssm = SsmProvider::new(ssm_client(&endpoint));
        let secrets = SecretsProvider::new(secrets_client(&endpoint));
        let loader = ConfigLoader::<Snap>::new()
            .field("table", &ssm, "/snap/table")
            .field("api_key", &secrets, "snap/api-key")
            .max_age(Duration::from_secs(300));
        loader.prefetch().await?;
        let handler = Handler::builder().transform_with(LoadConfig, loader).handler(
            |event: With<Snap, Value>, _: &Context| async move {
                Ok::<_, Error>(json!({ "table": event.data.table, "key_length": event.data.api_key.expose().len() }))
            },
        )?;
        lambda_runtime::Runtime::new(handler)
            .register_snapstart_resource(std::sync::Arc::new(Cache::global().clone()))
            .run()
            .await
    }
}
