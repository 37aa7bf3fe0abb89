//! The AppConfig provider against a stand-in for the AppConfigData API on loopback
//! (`support::appconfig`: moto has no AppConfigData data plane), every request counted
//! there: a session and its first poll, a cache hit (no request), an expiry whose poll
//! answers "unchanged" (an empty body), a new deployment seen on `force_fetch`, the
//! poll interval honoured, an expired token replaced by a new session, transforms, a
//! missing profile, access denied, a stand-in that is down or slow, and fifty
//! concurrent gets of a stale configuration (one request).
#![cfg(feature = "appconfig")]

mod support;

use std::time::Duration;

use lambda_middleware::parameters::{
    AppConfigProvider, Cache, FetchError, GetOptions, ManualClock, ParameterError, ValueTransform,
};
use support::appconfig::AppConfigData;
use support::moto::{appconfig_client, free_port};

const STALE: Duration = Duration::from_secs(6);

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// A provider polling as often as it is asked (the stand-in takes an interval of 0).
fn provider(endpoint: &str) -> AppConfigProvider {
    AppConfigProvider::new(appconfig_client(endpoint), "orders", "prod").minimum_poll_interval(Duration::ZERO)
}

#[derive(Debug, PartialEq, serde::Deserialize)]
struct Flags {
    beta: bool,
}

#[test]
fn sessions_polls_unchanged_answers_and_the_cache() {
    let server = AppConfigData::start();
    server.deploy("orders", "prod", "flags", "application/json", r#"{"beta":false}"#);
    runtime().block_on(async {
        let appconfig = provider(&server.endpoint());
        let clock = ManualClock::new();
        let cache = Cache::builder()
            .clock(clock.clone())
            .max_age(Duration::from_secs(5))
            .build();

        let flags: Flags = cache.get_json(&appconfig, "flags").await.unwrap();
        assert_eq!(flags, Flags { beta: false });
        assert_eq!(server.take(), ["StartConfigurationSession", "GetLatestConfiguration"]);
        let _: Flags = cache.get_json(&appconfig, "flags").await.unwrap();
        let cached = server.take();
        println!(
            "appconfig requests: first get 2 (session and poll), cached get {}",
            cached.len()
        );
        assert!(cached.is_empty(), "a cache hit sends nothing");

        // Expired: one poll with the next token; the stand-in answers "unchanged".
        clock.advance(STALE);
        let flags: Flags = cache.get_json(&appconfig, "flags").await.unwrap();
        assert_eq!(flags, Flags { beta: false });
        assert_eq!(server.take(), ["GetLatestConfiguration"]);

        // A deployment, seen by the next poll (force_fetch).
        server.deploy("orders", "prod", "flags", "application/json", r#"{"beta":true}"#);
        let forced = GetOptions::builder()
            .force_fetch(true)
            .transform(ValueTransform::Json)
            .build();
        let value = cache.get_with(&appconfig, "flags", &forced).await.unwrap();
        assert_eq!(value.as_json().unwrap()["beta"], true);
        assert_eq!(server.take(), ["GetLatestConfiguration"]);
        // As text: its own cache entry, one poll, answered "unchanged", the last
        // configuration handed back.
        assert_eq!(cache.get(&appconfig, "flags").await.unwrap(), r#"{"beta":true}"#);
        assert_eq!(server.take(), ["GetLatestConfiguration"]);

        // Tokens expired: the poll is refused, a new session starts.
        server.expire_tokens();
        let value = cache.get_with(&appconfig, "flags", &forced).await.unwrap();
        assert_eq!(value.as_json().unwrap()["beta"], true);
        assert_eq!(
            server.take(),
            [
                "GetLatestConfiguration",
                "StartConfigurationSession",
                "GetLatestConfiguration"
            ]
        );

        // Fifty at once on a stale value: one poll.
        clock.advance(STALE);
        let tasks: Vec<_> = (0..50)
            .map(|_| {
                let (cache, appconfig) = (cache.clone(), appconfig.clone());
                tokio::spawn(async move { cache.get_json::<Flags, _>(&appconfig, "flags").await })
            })
            .collect();
        for task in tasks {
            assert_eq!(task.await.unwrap().unwrap(), Flags { beta: true });
        }
        let stale = server.take();
        println!(
            "appconfig requests for 50 concurrent gets of a stale value: {}",
            stale.len()
        );
        assert_eq!(stale, ["GetLatestConfiguration"]);
    });
}

#[test]
fn the_poll_interval_is_honoured() {
    let server = AppConfigData::start();
    server.deploy("orders", "prod", "limits", "text/plain", "60");
    runtime().block_on(async {
        let appconfig = AppConfigProvider::new(appconfig_client(&server.endpoint()), "orders", "prod")
            .minimum_poll_interval(Duration::from_secs(60));
        let cache = Cache::new();
        assert_eq!(cache.get(&appconfig, "limits").await.unwrap(), "60");
        assert_eq!(server.take().len(), 2);
        // Within the 60 s the stand-in asked for: the last configuration, no request.
        server.deploy("orders", "prod", "limits", "text/plain", "61");
        let forced = GetOptions::builder().force_fetch(true).build();
        let value = cache.get_with(&appconfig, "limits", &forced).await.unwrap();
        assert_eq!(value.as_text(), Some("60"));
        assert!(server.take().is_empty());
    });
}

#[test]
fn missing_denied_down_and_slow() {
    let server = AppConfigData::start();
    server.deploy("orders", "prod", "flags", "application/json", "not json");
    runtime().block_on(async {
        let appconfig = provider(&server.endpoint());
        let cache = Cache::new();

        let error = cache.get(&appconfig, "nope").await.unwrap_err();
        assert_eq!(
            error,
            ParameterError::NotFound {
                provider: "appconfig",
                name: "nope".into()
            }
        );
        let error = cache.get_json::<Flags, _>(&appconfig, "flags").await.unwrap_err();
        assert!(
            matches!(error, ParameterError::Invalid { transform: "json", .. }),
            "{error:?}"
        );
        assert!(!error.to_string().contains("not json"), "{error}");
        server.take();

        let denied = provider(&server.endpoint());
        server.deny(true);
        let error = cache.get(&denied, "flags").await.unwrap_err();
        assert!(matches!(error, ParameterError::AccessDenied { .. }), "{error:?}");
        server.deny(false);

        server.delay(Some(Duration::from_secs(3)));
        let bounded = GetOptions::builder().timeout(Duration::from_millis(300)).build();
        let slow = provider(&server.endpoint());
        let error = cache.get_with(&slow, "flags", &bounded).await.unwrap_err();
        assert!(matches!(error, ParameterError::TimedOut { .. }), "{error:?}");
        server.delay(None);

        let down = provider(&format!("http://127.0.0.1:{}", free_port()));
        let error = cache.get(&down, "flags").await.unwrap_err();
        assert!(
            matches!(
                &error,
                ParameterError::Failed {
                    cause: FetchError::Unavailable(_),
                    ..
                }
            ),
            "{error:?}"
        );
    });
}
