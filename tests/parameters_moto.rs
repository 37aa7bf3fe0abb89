//! The SSM, Secrets Manager and DynamoDB providers against moto in server mode on
//! loopback, each request counted at a proxy in front of it: fetch, a cache hit (no
//! request), expiry, `force_fetch`, transforms, a missing parameter, access denied (the
//! proxy answers `AccessDeniedException` for a name, as IAM would: moto does not enforce
//! IAM), a store that is down (nothing listens) and one that is slow (a bounded
//! timeout), and fifty concurrent gets of a stale value (one request).
//!
//! Without python3 each test prints why it skips (a failure under `CI=true`).
#![cfg(any(feature = "ssm", feature = "secrets", feature = "parameters-dynamodb"))]

mod support;

use std::time::Duration;

use lambda_middleware::InvocationError;
use lambda_middleware::parameters::{Cache, FetchError, GetOptions, ManualClock, ParameterError, Provider};
use support::moto::{Counter, Moto, free_port};

const STALE: Duration = Duration::from_secs(6);

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

fn cache(clock: &ManualClock) -> Cache {
    Cache::builder()
        .clock(clock.clone())
        .max_age(Duration::from_secs(5))
        .build()
}

fn error_type(error: ParameterError) -> String {
    InvocationError::from(lambda_middleware::Error::from(error))
        .error_type()
        .into_owned()
}

/// Fifty gets at once of a value that is stale: one request reaches the server, and
/// all fifty get the value.
async fn fifty_at_once<P: Provider + Clone + 'static>(
    cache: &Cache,
    provider: &P,
    name: &'static str,
    counter: &Counter,
) -> Vec<String> {
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let (cache, provider) = (cache.clone(), provider.clone());
            tokio::spawn(async move { cache.get(&provider, name).await })
        })
        .collect();
    let mut values = Vec::new();
    for task in tasks {
        values.push(task.await.unwrap().unwrap());
    }
    let requests = counter.take_count();
    println!("requests for 50 concurrent gets of stale {name}: {requests}");
    assert_eq!(requests, 1, "fifty concurrent gets of a stale value are one request");
    values
}

/// The slow and down cases, shared by the providers: a timeout bounded by the options,
/// and a connection refused, each a typed error naming the parameter.
async fn slow_and_down<P: Provider>(cache: &Cache, slow: &P, down: &P, name: &str, counter: &Counter) {
    counter.delay(Some(Duration::from_secs(3)));
    let bounded = GetOptions::builder()
        .timeout(Duration::from_millis(300))
        .force_fetch(true)
        .build();
    let error = cache.get_with(slow, name, &bounded).await.unwrap_err();
    assert!(
        matches!(&error, ParameterError::TimedOut { name: n, .. } if n == name),
        "{error:?}"
    );
    assert_eq!(error_type(error), "GetParameterError");
    counter.delay(None);
    let error = cache.get_with(down, name, &GetOptions::default()).await.unwrap_err();
    assert!(
        matches!(&error, ParameterError::Failed { cause: FetchError::Unavailable(_), name: n, .. } if n == name),
        "{error:?}"
    );
    assert!(error.to_string().contains(name), "{error}");
}

#[cfg(feature = "ssm")]
mod ssm {
    use super::*;
    use lambda_middleware::parameters::aws_sdk_ssm::types::ParameterType;
    use lambda_middleware::parameters::{SsmProvider, ValueTransform};
    use support::moto::ssm_client;

    async fn put(moto: &Moto, name: &str, value: &str, kind: ParameterType) {
        support::moto::ssm_admin(moto)
            .put_parameter()
            .name(name)
            .value(value)
            .r#type(kind)
            .overwrite(true)
            .send()
            .await
            .unwrap();
    }

    #[test]
    fn fetch_cache_hit_expiry_and_force_fetch() {
        let Some(moto) = Moto::get() else { return };
        runtime().block_on(async {
            put(moto, "/app-a/url", "https://v1", ParameterType::String).await;
            let counter = moto.counter();
            let ssm = SsmProvider::new(ssm_client(&counter.endpoint()));
            let clock = ManualClock::new();
            let cache = cache(&clock);

            assert_eq!(cache.get(&ssm, "/app-a/url").await.unwrap(), "https://v1");
            let first = counter.take();
            assert_eq!(first.len(), 1);
            assert_eq!(first[0].operation, "GetParameter");
            assert_eq!(cache.get(&ssm, "/app-a/url").await.unwrap(), "https://v1");
            let cached = counter.take_count();
            println!("ssm requests: first get 1, cached get {cached}");
            assert_eq!(cached, 0, "a cache hit sends nothing");

            put(moto, "/app-a/url", "https://v2", ParameterType::String).await;
            clock.advance(Duration::from_secs(4));
            assert_eq!(cache.get(&ssm, "/app-a/url").await.unwrap(), "https://v1");
            clock.advance(Duration::from_secs(2));
            assert_eq!(cache.get(&ssm, "/app-a/url").await.unwrap(), "https://v2");
            assert_eq!(counter.take_count(), 1);

            let forced = GetOptions::builder().force_fetch(true).build();
            cache.get_with(&ssm, "/app-a/url", &forced).await.unwrap();
            assert_eq!(counter.take_count(), 1, "force_fetch sends a request");

            clock.advance(STALE);
            let values = fifty_at_once(&cache, &ssm, "/app-a/url", &counter).await;
            assert!(values.iter().all(|value| value == "https://v2"));
        });
    }

    #[test]
    fn transforms_paths_names_and_secure_strings() {
        let Some(moto) = Moto::get() else { return };
        runtime().block_on(async {
            put(moto, "/app-b/settings.json", r#"{"retries":3}"#, ParameterType::String).await;
            put(moto, "/app-b/key.binary", "aGVsbG8=", ParameterType::String).await;
            put(moto, "/app-b/db/password", "s3cr3t-pw", ParameterType::SecureString).await;
            put(moto, "/app-b/db/host", "db.internal", ParameterType::String).await;
            let counter = moto.counter();
            let ssm = SsmProvider::new(ssm_client(&counter.endpoint()));
            let cache = Cache::new();

            let settings: serde_json::Value = cache.get_json(&ssm, "/app-b/settings.json").await.unwrap();
            assert_eq!(settings["retries"], 3);
            assert_eq!(cache.get_binary(&ssm, "/app-b/key.binary").await.unwrap(), b"hello");
            // SecureString, decrypted by default.
            assert_eq!(cache.get(&ssm, "/app-b/db/password").await.unwrap(), "s3cr3t-pw");
            assert_eq!(counter.take_count(), 3);
            // Not decrypted: what moto hands back is not the value.
            let raw = SsmProvider::new(ssm_client(&counter.endpoint())).decrypt(false);
            assert_ne!(cache.get(&raw, "/app-b/db/password").await.unwrap(), "s3cr3t-pw");
            counter.take();

            // A path, recursively, each value by its suffix; one request, then none.
            let auto = GetOptions::builder().transform(ValueTransform::BySuffix).build();
            let all = cache.get_multiple_with(&ssm, "/app-b", &auto).await.unwrap();
            assert_eq!(
                all.keys().collect::<Vec<_>>(),
                ["db/host", "db/password", "key.binary", "settings.json"]
            );
            assert_eq!(all["settings.json"].as_json().unwrap()["retries"], 3);
            assert_eq!(all["key.binary"].as_bytes(), Some(&b"hello"[..]));
            assert_eq!(all["db/password"].as_text(), Some("s3cr3t-pw"));
            let seen = counter.take();
            assert_eq!(seen.len(), 1);
            assert_eq!(seen[0].operation, "GetParametersByPath");
            cache.get_multiple_with(&ssm, "/app-b", &auto).await.unwrap();
            assert_eq!(counter.take_count(), 0);
            // One level only.
            let shallow = SsmProvider::new(ssm_client(&counter.endpoint())).recursive(false);
            let top = cache.get_multiple(&shallow, "/app-b").await.unwrap();
            assert_eq!(top.keys().collect::<Vec<_>>(), ["key.binary", "settings.json"]);
            counter.take();

            // Several by name: one GetParameters for the names not cached.
            let fresh = Cache::new();
            fresh.get(&ssm, "/app-b/db/host").await.unwrap();
            counter.take();
            let names = ["/app-b/db/host", "/app-b/db/password", "/app-b/settings.json"];
            let each = fresh.get_each(&ssm, &names, &GetOptions::default()).await.unwrap();
            assert_eq!(each["/app-b/db/password"].as_text(), Some("s3cr3t-pw"));
            let seen = counter.take();
            assert_eq!(seen.len(), 1);
            assert_eq!(seen[0].operation, "GetParameters");
            assert!(!seen[0].body.contains("/app-b/db/host"), "{}", seen[0].body);
            // A missing name among them fails the call, naming it.
            let error = fresh
                .get_each(&ssm, &["/app-b/db/host", "/app-b/none"], &GetOptions::default())
                .await
                .unwrap_err();
            assert_eq!(
                error,
                ParameterError::NotFound {
                    provider: "ssm",
                    name: "/app-b/none".into()
                }
            );

            // A value that is not JSON: a transform error that does not quote it.
            let error = cache
                .get_json::<serde_json::Value, _>(&ssm, "/app-b/db/password")
                .await
                .unwrap_err();
            assert_eq!(error_type(error.clone()), "TransformParameterError");
            assert!(!format!("{error} {error:?}").contains("s3cr3t"), "{error}");
        });
    }

    #[test]
    fn missing_denied_down_and_slow() {
        let Some(moto) = Moto::get() else { return };
        runtime().block_on(async {
            put(moto, "/app-c/denied", "x", ParameterType::String).await;
            put(moto, "/app-c/slow", "x", ParameterType::String).await;
            let counter = moto.counter();
            counter.deny("/app-c/denied");
            let ssm = SsmProvider::new(ssm_client(&counter.endpoint()));
            let cache = Cache::new();

            let error = cache.get(&ssm, "/app-c/missing").await.unwrap_err();
            assert_eq!(error, ParameterError::NotFound { provider: "ssm", name: "/app-c/missing".into() });
            assert_eq!(error_type(error), "GetParameterError");
            let error = cache.get(&ssm, "/app-c/denied").await.unwrap_err();
            assert!(
                matches!(&error, ParameterError::AccessDenied { message, .. } if message.starts_with("AccessDeniedException")),
                "{error:?}"
            );
            // Failures are not cached: each get asked again.
            cache.get(&ssm, "/app-c/missing").await.unwrap_err();
            assert_eq!(counter.take_count(), 3);

            let down = SsmProvider::new(ssm_client(&format!("http://127.0.0.1:{}", free_port())));
            slow_and_down(&cache, &ssm, &down, "/app-c/slow", &counter).await;
        });
    }
}

#[cfg(feature = "secrets")]
mod secrets {
    use super::*;
    use lambda_middleware::parameters::SecretsProvider;
    use lambda_middleware::parameters::aws_sdk_secretsmanager::primitives::Blob;
    use support::moto::secrets_client;

    #[test]
    fn string_binary_arn_stage_cache_and_expiry() {
        let Some(moto) = Moto::get() else { return };
        runtime().block_on(async {
            let admin = support::moto::secrets_admin(moto);
            let created = admin
                .create_secret()
                .name("sec-a/api-key")
                .secret_string("sk-live-v1")
                .send()
                .await
                .unwrap();
            let arn = created.arn().unwrap().to_owned();
            admin
                .create_secret()
                .name("sec-a/signing")
                .secret_binary(Blob::new(vec![0u8, 1, 2, 255]))
                .send()
                .await
                .unwrap();
            admin
                .create_secret()
                .name("sec-a/config")
                .secret_string(r#"{"user":"svc","port":5432}"#)
                .send()
                .await
                .unwrap();
            let counter = moto.counter();
            let secrets = SecretsProvider::new(secrets_client(&counter.endpoint()));
            let clock = ManualClock::new();
            let cache = cache(&clock);

            let key = cache.get_secret(&secrets, "sec-a/api-key").await.unwrap();
            assert_eq!(key.expose(), "sk-live-v1");
            assert!(!format!("{key:?} {key}").contains("sk-live"));
            assert_eq!(
                cache.get_secret(&secrets, "sec-a/api-key").await.unwrap().expose(),
                "sk-live-v1"
            );
            let seen = counter.take();
            assert_eq!(seen.len(), 1, "the second get was a cache hit");
            assert_eq!(seen[0].operation, "GetSecretValue");
            // By ARN: another name, another entry.
            assert_eq!(cache.get(&secrets, &arn).await.unwrap(), "sk-live-v1");
            assert_eq!(counter.take_count(), 1);

            // Binary, and JSON.
            assert_eq!(
                cache.get_binary(&secrets, "sec-a/signing").await.unwrap(),
                [0, 1, 2, 255]
            );
            let config: serde_json::Value = cache.get_json(&secrets, "sec-a/config").await.unwrap();
            assert_eq!(config["port"], 5432);
            // A binary secret that is not UTF-8, read as text: a transform error.
            let error = cache.get(&secrets, "sec-a/signing").await.unwrap_err();
            assert_eq!(error_type(error), "TransformParameterError");
            counter.take();

            // A rotation: the new value once the old one has expired; the previous
            // version through its stage.
            admin
                .put_secret_value()
                .secret_id("sec-a/api-key")
                .secret_string("sk-live-v2")
                .send()
                .await
                .unwrap();
            assert_eq!(
                cache.get_secret(&secrets, "sec-a/api-key").await.unwrap().expose(),
                "sk-live-v1"
            );
            clock.advance(STALE);
            assert_eq!(
                cache.get_secret(&secrets, "sec-a/api-key").await.unwrap().expose(),
                "sk-live-v2"
            );
            let previous = secrets.clone().version_stage("AWSPREVIOUS");
            assert_eq!(cache.get(&previous, "sec-a/api-key").await.unwrap(), "sk-live-v1");
            let forced = GetOptions::builder().force_fetch(true).build();
            cache.get_with(&secrets, "sec-a/api-key", &forced).await.unwrap();
            assert_eq!(counter.take_count(), 3);

            clock.advance(STALE);
            let values = fifty_at_once(&cache, &secrets, "sec-a/api-key", &counter).await;
            assert!(values.iter().all(|value| value == "sk-live-v2"));
        });
    }

    #[test]
    fn missing_denied_down_and_slow() {
        let Some(moto) = Moto::get() else { return };
        runtime().block_on(async {
            let admin = support::moto::secrets_admin(moto);
            for name in ["sec-b/denied", "sec-b/slow"] {
                admin
                    .create_secret()
                    .name(name)
                    .secret_string("x")
                    .send()
                    .await
                    .unwrap();
            }
            let counter = moto.counter();
            counter.deny("sec-b/denied");
            let secrets = SecretsProvider::new(secrets_client(&counter.endpoint()));
            let cache = Cache::new();

            let error = cache.get(&secrets, "sec-b/missing").await.unwrap_err();
            assert_eq!(
                error,
                ParameterError::NotFound {
                    provider: "secretsmanager",
                    name: "sec-b/missing".into()
                }
            );
            let error = cache.get(&secrets, "sec-b/denied").await.unwrap_err();
            assert!(matches!(error, ParameterError::AccessDenied { .. }), "{error:?}");
            assert_eq!(error_type(error), "GetParameterError");
            assert_eq!(counter.take_count(), 2);

            let down = SecretsProvider::new(secrets_client(&format!("http://127.0.0.1:{}", free_port())));
            slow_and_down(&cache, &secrets, &down, "sec-b/slow", &counter).await;
        });
    }
}

#[cfg(feature = "parameters-dynamodb")]
mod dynamodb {
    use super::*;
    use lambda_middleware::parameters::aws_sdk_dynamodb::Client;
    use lambda_middleware::parameters::aws_sdk_dynamodb::types::{
        AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
    };
    use lambda_middleware::parameters::{DynamoDbProvider, ValueTransform};
    use support::moto::dynamodb_client;

    /// A table in Powertools' layout: `id`, and `sk` when `sort_key`.
    async fn table(client: &Client, name: &str, sort_key: bool) {
        let mut create = client
            .create_table()
            .table_name(name)
            .billing_mode(BillingMode::PayPerRequest)
            .attribute_definitions(
                AttributeDefinition::builder()
                    .attribute_name("id")
                    .attribute_type(ScalarAttributeType::S)
                    .build()
                    .unwrap(),
            )
            .key_schema(
                KeySchemaElement::builder()
                    .attribute_name("id")
                    .key_type(KeyType::Hash)
                    .build()
                    .unwrap(),
            );
        if sort_key {
            create = create
                .attribute_definitions(
                    AttributeDefinition::builder()
                        .attribute_name("sk")
                        .attribute_type(ScalarAttributeType::S)
                        .build()
                        .unwrap(),
                )
                .key_schema(
                    KeySchemaElement::builder()
                        .attribute_name("sk")
                        .key_type(KeyType::Range)
                        .build()
                        .unwrap(),
                );
        }
        create.send().await.unwrap();
    }

    async fn put(client: &Client, table: &str, attributes: &[(&str, &str)]) {
        let mut put = client.put_item().table_name(table);
        for (name, value) in attributes {
            put = put.item(*name, AttributeValue::S((*value).to_owned()));
        }
        put.send().await.unwrap();
    }

    #[test]
    fn one_and_several_cache_expiry_and_transforms() {
        let Some(moto) = Moto::get() else { return };
        runtime().block_on(async {
            let admin = support::moto::dynamodb_admin(moto);
            table(&admin, "params-a", false).await;
            table(&admin, "params-a-multi", true).await;
            put(&admin, "params-a", &[("id", "db-url"), ("value", "postgres://v1")]).await;
            put(&admin, "params-a", &[("id", "limits"), ("value", r#"{"rps":5}"#)]).await;
            put(
                &admin,
                "params-a-multi",
                &[("id", "flags"), ("sk", "beta"), ("value", "on")],
            )
            .await;
            put(
                &admin,
                "params-a-multi",
                &[("id", "flags"), ("sk", "dark.json"), ("value", "[1]")],
            )
            .await;
            put(
                &admin,
                "params-a-multi",
                &[("id", "other"), ("sk", "x"), ("value", "no")],
            )
            .await;
            let counter = moto.counter();
            let one = DynamoDbProvider::new(dynamodb_client(&counter.endpoint()), "params-a");
            let multi = DynamoDbProvider::new(dynamodb_client(&counter.endpoint()), "params-a-multi");
            let clock = ManualClock::new();
            let cache = cache(&clock);

            assert_eq!(cache.get(&one, "db-url").await.unwrap(), "postgres://v1");
            assert_eq!(cache.get(&one, "db-url").await.unwrap(), "postgres://v1");
            let seen = counter.take();
            assert_eq!(seen.len(), 1);
            assert_eq!(seen[0].operation, "GetItem");
            let limits: serde_json::Value = cache.get_json(&one, "limits").await.unwrap();
            assert_eq!(limits["rps"], 5);

            let auto = GetOptions::builder().transform(ValueTransform::BySuffix).build();
            let flags = cache.get_multiple_with(&multi, "flags", &auto).await.unwrap();
            assert_eq!(flags.keys().collect::<Vec<_>>(), ["beta", "dark.json"]);
            assert_eq!(flags["dark.json"].as_json().unwrap()[0], 1);
            let seen = counter.take();
            assert_eq!(
                seen.iter().map(|s| s.operation.as_str()).collect::<Vec<_>>(),
                ["GetItem", "Query"]
            );

            put(&admin, "params-a", &[("id", "db-url"), ("value", "postgres://v2")]).await;
            clock.advance(STALE);
            assert_eq!(cache.get(&one, "db-url").await.unwrap(), "postgres://v2");
            let forced = GetOptions::builder().force_fetch(true).build();
            cache.get_with(&one, "db-url", &forced).await.unwrap();
            assert_eq!(counter.take_count(), 2);

            clock.advance(STALE);
            let values = fifty_at_once(&cache, &one, "db-url", &counter).await;
            assert!(values.iter().all(|value| value == "postgres://v2"));
        });
    }

    #[test]
    fn missing_denied_down_and_slow() {
        let Some(moto) = Moto::get() else { return };
        runtime().block_on(async {
            let admin = support::moto::dynamodb_admin(moto);
            table(&admin, "params-b", false).await;
            put(&admin, "params-b", &[("id", "slow"), ("value", "x")]).await;
            put(&admin, "params-b", &[("id", "denied"), ("value", "x")]).await;
            put(&admin, "params-b", &[("id", "no-value")]).await;
            let counter = moto.counter();
            counter.deny("denied");
            let table = DynamoDbProvider::new(dynamodb_client(&counter.endpoint()), "params-b");
            let cache = Cache::new();

            let error = cache.get(&table, "missing").await.unwrap_err();
            assert_eq!(error, ParameterError::NotFound { provider: "dynamodb", name: "missing".into() });
            let error = cache.get(&table, "denied").await.unwrap_err();
            assert!(matches!(error, ParameterError::AccessDenied { .. }), "{error:?}");
            let error = cache.get(&table, "no-value").await.unwrap_err();
            assert!(
                matches!(&error, ParameterError::Failed { cause: FetchError::Unreadable(_), .. }),
                "{error:?}"
            );
            // A table that does not exist is the deployment's mistake, not a missing parameter.
            let nowhere = DynamoDbProvider::new(dynamodb_client(&counter.endpoint()), "no-such-table");
            let error = cache.get(&nowhere, "slow").await.unwrap_err();
            assert!(
                matches!(&error, ParameterError::Failed { cause: FetchError::Rejected { code, .. }, .. } if code == "ResourceNotFoundException"),
                "{error:?}"
            );
            let down = DynamoDbProvider::new(dynamodb_client(&format!("http://127.0.0.1:{}", free_port())), "params-b");
            slow_and_down(&cache, &table, &down, "slow", &counter).await;
        });
    }
}
