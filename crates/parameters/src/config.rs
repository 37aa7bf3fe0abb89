//! [`LoadConfig`]: the middleware that hands the handler its configuration, typed;
//! [`ConfigLoader`]: which parameters make it.

use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::Poll;
use std::time::Duration;

use lambda_middleware_core::{BuildError, Context, Error, Invoke, Next, Proceeded, Transform, With};
use serde::de::DeserializeOwned;

use crate::cache::{Cache, GetOptions, RefreshFailure};
use crate::error::{ParameterError, without_values};
use crate::provider::Provider;
use crate::value::{Decoded, ValueTransform};

/// One field of the configuration: where its value comes from.
#[derive(Clone)]
struct Field {
    /// The configuration field (`None`: the value is the configuration's root object).
    field: Option<String>,
    provider: Arc<dyn Provider>,
    name: String,
    transform: ValueTransform,
    multiple: bool,
}

/// A field's value as the cache handed it.
#[derive(Clone)]
enum Source {
    One(Decoded),
    Many(Arc<BTreeMap<String, Decoded>>),
}

impl Source {
    fn same(&self, other: &Source) -> bool {
        match (self, other) {
            (Source::One(a), Source::One(b)) => a.same(b),
            (Source::Many(a), Source::Many(b)) => Arc::ptr_eq(a, b),
            _ => false,
        }
    }

    fn to_json(&self) -> serde_json::Value {
        match self {
            Source::One(value) => value.to_json(),
            Source::Many(values) => values
                .iter()
                .map(|(name, value)| (name.clone(), value.to_json()))
                .collect(),
        }
    }
}

/// One field's fetch, boxed: the fields' fetches run side by side (only on a miss).
type SourceFuture<'a> = Pin<Box<dyn Future<Output = Result<Source, ParameterError>> + Send + 'a>>;

fn options_for(options: &GetOptions, field: &Field) -> GetOptions {
    let mut options = options.clone();
    options.transform = field.transform;
    options
}

/// One field's value through the cache.
fn source<'a>(cache: &'a Cache, field: &'a Field, options: &'a GetOptions) -> SourceFuture<'a> {
    Box::pin(async move {
        let options = options_for(options, field);
        Ok(if field.multiple {
            Source::Many(cache.get_multiple_with(&field.provider, &field.name, &options).await?)
        } else {
            Source::One(cache.get_with(&field.provider, &field.name, &options).await?)
        })
    })
}

/// Runs `futures` side by side; their outputs in order.
async fn join_all<F: Future + Unpin>(mut futures: Vec<F>) -> Vec<F::Output> {
    let mut outputs: Vec<Option<F::Output>> = futures.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (future, output) in futures.iter_mut().zip(outputs.iter_mut()) {
            if output.is_none() {
                match Pin::new(future).poll(cx) {
                    Poll::Ready(value) => *output = Some(value),
                    Poll::Pending => pending = true,
                }
            }
        }
        if pending { Poll::Pending } else { Poll::Ready(()) }
    })
    .await;
    outputs.into_iter().flatten().collect()
}

/// The configuration last deserialised, and the cached values it was made from.
struct Built<C> {
    config: C,
    sources: Vec<Source>,
}

/// The parameters that make a configuration type `C`, and how they are cached: the
/// params of [`LoadConfig`], and a loader of its own for code outside a chain.
///
/// Each field of `C` names a parameter (`field`, `field_json`, `field_with`), or all
/// the parameters under a path (`field_multiple`, an object of their names relative to
/// the path); [`json`](ConfigLoader::json) makes the configuration's root from one JSON
/// parameter, to which fields add. `C` is deserialised from that JSON object, so a
/// field is any `Deserialize` type: a `String`, a number (`"5432"` into a `u16` needs
/// the `json` transform), a struct from JSON, a [`Secret`](crate::Secret).
///
/// Every value goes through the [`Cache`] (the process's unless [`cache`](Self::cache)
/// says otherwise), with the loader's options; on a miss the fields are fetched side
/// by side. `C` is deserialised again only when a
/// value changed: a cache hit costs a clone of `C`. Clones of a loader share that
/// last configuration.
///
/// ```
/// use lambda_middleware::parameters::{Cache, ConfigLoader, MemoryProvider, Secret};
///
/// #[derive(Clone, Debug, serde::Deserialize)]
/// struct Config {
///     db_url: String,
///     api_key: Secret<String>,
///     limits: Limits,
/// }
///
/// #[derive(Clone, Debug, serde::Deserialize)]
/// struct Limits { per_minute: u32 }
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let ssm = MemoryProvider::new().with("/app/db_url", "postgres://db.internal").with("/app/limits", r#"{"per_minute":60}"#);
/// let secrets = MemoryProvider::new().with("prod/api-key", "sk-live-1234");
/// let loader = ConfigLoader::<Config>::new()
///     .field("db_url", &ssm, "/app/db_url")
///     .field("api_key", &secrets, "prod/api-key")
///     .field_json("limits", &ssm, "/app/limits")
///     .cache(Cache::new());
///
/// let config = loader.load().await.unwrap();
/// assert_eq!(config.limits.per_minute, 60);
/// assert_eq!(config.api_key.expose(), "sk-live-1234");
/// assert!(!format!("{config:?}").contains("sk-live"));
/// # }
/// ```
pub struct ConfigLoader<C> {
    fields: Vec<Field>,
    cache: Option<Cache>,
    options: GetOptions,
    built: Arc<Mutex<Option<Built<C>>>>,
}

impl<C> Clone for ConfigLoader<C> {
    fn clone(&self) -> Self {
        ConfigLoader {
            fields: self.fields.clone(),
            cache: self.cache.clone(),
            options: self.options.clone(),
            built: Arc::clone(&self.built),
        }
    }
}

impl<C> fmt::Debug for ConfigLoader<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let fields: Vec<String> = self
            .fields
            .iter()
            .map(|field| {
                format!(
                    "{} <- {}:{}",
                    field.field.as_deref().unwrap_or("(root)"),
                    field.provider.kind(),
                    field.name
                )
            })
            .collect();
        f.debug_struct("ConfigLoader")
            .field("config", &std::any::type_name::<C>())
            .field("fields", &fields)
            .field("options", &self.options)
            .finish()
    }
}

impl<C> Default for ConfigLoader<C> {
    fn default() -> Self {
        ConfigLoader::new()
    }
}

impl<C> ConfigLoader<C> {
    /// A loader with no fields yet, on the process's cache, with the default options.
    ///
    /// ```
    /// let loader = lambda_middleware::parameters::ConfigLoader::<serde_json::Value>::new();
    /// ```
    pub fn new() -> Self {
        ConfigLoader {
            fields: Vec::new(),
            cache: None,
            options: GetOptions::default(),
            built: Arc::default(),
        }
    }

    /// A loader whose configuration is the JSON object of one parameter (fields added
    /// after add to it, and win over its keys).
    ///
    /// ```
    /// use lambda_middleware::parameters::{Cache, ConfigLoader, MemoryProvider};
    ///
    /// #[derive(Clone, serde::Deserialize)]
    /// struct Settings { retries: u32, region: String }
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let appconfig = MemoryProvider::new().with("settings", r#"{"retries":3,"region":"eu-west-1"}"#);
    /// let loader = ConfigLoader::<Settings>::json(&appconfig, "settings").cache(Cache::new());
    /// assert_eq!(loader.load().await.unwrap().retries, 3);
    /// # }
    /// ```
    pub fn json<P: Provider + Clone + 'static>(provider: &P, name: &str) -> Self {
        let mut loader = ConfigLoader::new();
        loader.fields.push(Field {
            field: None,
            provider: Arc::new(provider.clone()),
            name: name.to_owned(),
            transform: ValueTransform::Json,
            multiple: false,
        });
        loader
    }

    /// `field` is the text of parameter `name` from `provider`.
    ///
    /// ```
    /// # use lambda_middleware::parameters::{ConfigLoader, MemoryProvider};
    /// # let ssm = MemoryProvider::new();
    /// let loader = ConfigLoader::<serde_json::Value>::new().field("db_url", &ssm, "/app/db_url");
    /// ```
    #[must_use]
    pub fn field<P: Provider + Clone + 'static>(self, field: &str, provider: &P, name: &str) -> Self {
        self.field_with(field, provider, name, ValueTransform::Text)
    }

    /// `field` is parameter `name` read as JSON.
    ///
    /// ```
    /// # use lambda_middleware::parameters::{ConfigLoader, MemoryProvider};
    /// # let ssm = MemoryProvider::new();
    /// let loader = ConfigLoader::<serde_json::Value>::new().field_json("limits", &ssm, "/app/limits");
    /// ```
    #[must_use]
    pub fn field_json<P: Provider + Clone + 'static>(self, field: &str, provider: &P, name: &str) -> Self {
        self.field_with(field, provider, name, ValueTransform::Json)
    }

    /// `field` is parameter `name` through `transform` (`Binary` gives bytes, which a
    /// `Vec<u8>` field takes).
    ///
    /// ```
    /// use lambda_middleware::parameters::{ConfigLoader, MemoryProvider, ValueTransform};
    /// # let secrets = MemoryProvider::new();
    /// let loader = ConfigLoader::<serde_json::Value>::new()
    ///     .field_with("signing_key", &secrets, "prod/signing-key", ValueTransform::Binary);
    /// ```
    #[must_use]
    pub fn field_with<P: Provider + Clone + 'static>(
        mut self,
        field: &str,
        provider: &P,
        name: &str,
        transform: ValueTransform,
    ) -> Self {
        self.fields.push(Field {
            field: Some(field.to_owned()),
            provider: Arc::new(provider.clone()),
            name: name.to_owned(),
            transform,
            multiple: false,
        });
        self
    }

    /// `field` is an object of every parameter under `path` (named relative to it),
    /// each through `transform` (`BySuffix`: by its suffix).
    ///
    /// ```
    /// use lambda_middleware::parameters::{Cache, ConfigLoader, MemoryProvider, ValueTransform};
    /// use std::collections::HashMap;
    ///
    /// #[derive(Clone, serde::Deserialize)]
    /// struct Config { flags: HashMap<String, String> }
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let ssm = MemoryProvider::new().with("/flags/beta", "on").with("/flags/dark", "off");
    /// let loader = ConfigLoader::<Config>::new()
    ///     .field_multiple("flags", &ssm, "/flags", ValueTransform::Text)
    ///     .cache(Cache::new());
    /// assert_eq!(loader.load().await.unwrap().flags["beta"], "on");
    /// # }
    /// ```
    #[must_use]
    pub fn field_multiple<P: Provider + Clone + 'static>(
        mut self,
        field: &str,
        provider: &P,
        path: &str,
        transform: ValueTransform,
    ) -> Self {
        self.fields.push(Field {
            field: Some(field.to_owned()),
            provider: Arc::new(provider.clone()),
            name: path.to_owned(),
            transform,
            multiple: true,
        });
        self
    }

    /// The cache the values go through. Default: [`Cache::global`].
    ///
    /// ```
    /// # use lambda_middleware::parameters::{Cache, ConfigLoader};
    /// let loader = ConfigLoader::<serde_json::Value>::new().cache(Cache::new());
    /// ```
    #[must_use]
    pub fn cache(mut self, cache: Cache) -> Self {
        self.cache = Some(cache);
        self
    }

    /// How old a cached value may be. Default: the cache's ([`default_max_age`](crate::default_max_age)).
    ///
    /// ```
    /// # use lambda_middleware::parameters::ConfigLoader;
    /// let loader = ConfigLoader::<serde_json::Value>::new().max_age(std::time::Duration::from_secs(300));
    /// ```
    #[must_use]
    pub fn max_age(mut self, max_age: Duration) -> Self {
        self.options.max_age = Some(max_age);
        self
    }

    /// How long each fetch may take. Default: [`DEFAULT_FETCH_TIMEOUT`](crate::DEFAULT_FETCH_TIMEOUT).
    ///
    /// ```
    /// # use lambda_middleware::parameters::ConfigLoader;
    /// let loader = ConfigLoader::<serde_json::Value>::new().timeout(std::time::Duration::from_secs(2));
    /// ```
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.options.timeout = timeout;
        self
    }

    /// When a value has expired and its fetch fails: fail the invocation
    /// ([`RefreshFailure::Fail`], the default) or serve the expired value
    /// ([`RefreshFailure::ServeStale`]). With no cached value, a failure always fails.
    ///
    /// ```
    /// use lambda_middleware::parameters::{ConfigLoader, RefreshFailure};
    /// let loader = ConfigLoader::<serde_json::Value>::new().on_error(RefreshFailure::ServeStale);
    /// ```
    #[must_use]
    pub fn on_error(mut self, on_error: RefreshFailure) -> Self {
        self.options.on_error = on_error;
        self
    }

    /// While one invocation refreshes an expired value, serve the others the expired
    /// value instead of making them wait. Default: they wait (and share its outcome).
    ///
    /// ```
    /// # use lambda_middleware::parameters::ConfigLoader;
    /// let loader = ConfigLoader::<serde_json::Value>::new().serve_stale_while_refreshing(true);
    /// ```
    #[must_use]
    pub fn serve_stale_while_refreshing(mut self, serve: bool) -> Self {
        self.options.serve_stale_while_refreshing = serve;
        self
    }

    fn the_cache(&self) -> &Cache {
        self.cache.as_ref().unwrap_or_else(|| Cache::global())
    }

    /// Every field's value: from the cache when all are fresh (no future, no fetch), or
    /// else all at once, so that the first invocation waits for the slowest fetch, not
    /// their sum.
    async fn sources(&self) -> Result<Vec<Source>, ParameterError> {
        let cache = self.the_cache();
        let mut sources = Vec::with_capacity(self.fields.len());
        for field in &self.fields {
            let options = self.options_for(field);
            let fresh = if field.multiple {
                cache
                    .peek_multiple(&field.provider, &field.name, &options)
                    .map(Source::Many)
            } else {
                cache.peek(&field.provider, &field.name, &options).map(Source::One)
            };
            match fresh {
                Some(source) => sources.push(source),
                None => break,
            }
        }
        if sources.len() == self.fields.len() {
            return Ok(sources);
        }
        let fetches: Vec<SourceFuture<'_>> = self
            .fields
            .iter()
            .map(|field| source(cache, field, &self.options))
            .collect();
        join_all(fetches).await.into_iter().collect()
    }

    fn options_for(&self, field: &Field) -> GetOptions {
        options_for(&self.options, field)
    }
}

impl<C: DeserializeOwned + Clone> ConfigLoader<C> {
    /// The configuration: each value from the cache (fetched when missing or expired),
    /// `C` deserialised again when one changed.
    ///
    /// ```
    /// use lambda_middleware::parameters::{Cache, ConfigLoader, MemoryProvider, ParameterError};
    ///
    /// #[derive(Clone, Debug, serde::Deserialize)]
    /// struct Config { db_url: String }
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let ssm = MemoryProvider::new();
    /// let loader = ConfigLoader::<Config>::new().field("db_url", &ssm, "/app/db_url").cache(Cache::new());
    /// let error = loader.load().await.unwrap_err();
    /// assert_eq!(error, ParameterError::NotFound { provider: "memory", name: "/app/db_url".into() });
    /// # }
    /// ```
    pub async fn load(&self) -> Result<C, ParameterError> {
        let sources = self.sources().await?;
        let mut built = self.built.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(built) = &*built {
            if built.sources.len() == sources.len() && built.sources.iter().zip(&sources).all(|(a, b)| a.same(b)) {
                return Ok(built.config.clone());
            }
        }
        let config = self.deserialize(&sources)?;
        *built = Some(Built {
            config: config.clone(),
            sources,
        });
        Ok(config)
    }

    /// Loads the configuration now, as Middy's `prefetch`: call it in `main`, before
    /// the runtime starts, so that the first invocation finds it cached (and a missing
    /// parameter stops the function at its start rather than at its first event).
    ///
    /// ```
    /// use lambda_middleware::parameters::{Cache, ConfigLoader, MemoryProvider};
    ///
    /// #[derive(Clone, serde::Deserialize)]
    /// struct Config { db_url: String }
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let ssm = MemoryProvider::new().with("/app/db_url", "postgres://db.internal");
    /// let loader = ConfigLoader::<Config>::new().field("db_url", &ssm, "/app/db_url").cache(Cache::new());
    /// loader.prefetch().await.unwrap();
    /// loader.load().await.unwrap();
    /// assert_eq!(ssm.fetches(), 1);
    /// # }
    /// ```
    pub async fn prefetch(&self) -> Result<(), ParameterError> {
        self.load().await.map(drop)
    }

    fn deserialize(&self, sources: &[Source]) -> Result<C, ParameterError> {
        let config = short_type_name(std::any::type_name::<C>());
        let fail = |cause: String| ParameterError::Config {
            config,
            cause: without_values(&cause),
        };
        let mut object = serde_json::Map::new();
        let mut root = None;
        for (field, source) in self.fields.iter().zip(sources) {
            match &field.field {
                Some(name) => {
                    object.insert(name.clone(), source.to_json());
                }
                None => root = Some((field, source.to_json())),
            }
        }
        let value = match root {
            None => serde_json::Value::Object(object),
            Some((_, root)) if object.is_empty() => root,
            Some((field, serde_json::Value::Object(mut root))) => {
                let _ = field;
                root.extend(object);
                serde_json::Value::Object(root)
            }
            Some((field, _)) => {
                return Err(fail(format!(
                    "parameter {} is not a JSON object, so fields cannot be added to it",
                    field.name
                )));
            }
        };
        C::deserialize(value).map_err(|error| fail(error.to_string()))
    }
}

fn short_type_name(name: &'static str) -> &'static str {
    let base = name.split('<').next().unwrap_or(name);
    base.rsplit("::").next().unwrap_or(base)
}

/// Hands the handler its configuration, typed: Powertools' Parameters and Middy's
/// `ssm`/`secrets-manager`/`appconfig`/`dynamodb` middlewares as a transform. Its params
/// are a [`ConfigLoader<C>`]; the layers inside it take `With<C, E>`, the event with the
/// configuration.
///
/// 1. Before the handler it loads the configuration through the cache: fetched at the
///    first invocation (or before it, with [`ConfigLoader::prefetch`]), then again only
///    when a value is older than `max_age`, once however many invocations run at once.
/// 2. A fetch that fails with no usable cached value fails the invocation with a
///    [`ParameterError`] naming the parameter and the cause (`errorType`
///    `GetParameterError`, or `TransformParameterError` when the values do not make a
///    `C`); with an expired value, [`ConfigLoader::on_error`] chooses between failing
///    and serving it. The next invocation tries again.
/// 3. It logs no value: a field that holds a secret should be a
///    [`Secret`](crate::Secret), so that `C`'s `Debug` does not show it either.
///
/// ```
/// use lambda_middleware::parameters::{Cache, ConfigLoader, LoadConfig, MemoryProvider, Secret};
/// use lambda_middleware::{Context, Error, Handler, With};
/// use serde_json::{Value, json};
///
/// #[derive(Clone, Debug, serde::Deserialize)]
/// struct Config {
///     table: String,
///     api_key: Secret<String>,
/// }
///
/// async fn handler(event: With<Config, Value>, _: &Context) -> Result<Value, Error> {
///     let config = &event.data;
///     Ok(json!({ "table": config.table, "key_length": config.api_key.expose().len() }))
/// }
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Error> {
/// let ssm = MemoryProvider::new().with("/orders/table", "orders-prod");
/// let secrets = MemoryProvider::new().with("orders/api-key", "sk-live-1234");
/// let loader = ConfigLoader::<Config>::new()
///     .field("table", &ssm, "/orders/table")
///     .field("api_key", &secrets, "orders/api-key")
///     .cache(Cache::new());
///
/// let handler = Handler::builder().transform_with(LoadConfig, loader).handler(handler)?;
/// let response = handler.invoke_with(json!({}), &Context::default()).await?;
/// assert_eq!(response, json!({ "table": "orders-prod", "key_length": 12 }));
/// handler.invoke_with(json!({}), &Context::default()).await?;
/// assert_eq!(ssm.fetches() + secrets.fetches(), 2); // the second invocation was served from the cache
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct LoadConfig;

impl<C, E, R> Transform<With<C, E>, R> for LoadConfig
where
    C: DeserializeOwned + Clone + Send + Sync + 'static,
    E: Send,
    R: Send,
{
    type Event = E;
    type Response = R;
    type Params = ConfigLoader<C>;

    fn check(&self, loader: &ConfigLoader<C>) -> Result<(), BuildError> {
        if loader.fields.is_empty() {
            return Err(BuildError::invalid_params(
                "LoadConfig",
                "the ConfigLoader names no parameter: add one with `field`, `field_json`, `field_with`, `field_multiple` or `ConfigLoader::json`",
            ));
        }
        Ok(())
    }

    async fn call<'n, I>(
        &self,
        loader: &ConfigLoader<C>,
        event: E,
        _: &Context,
        next: Next<'n, I, R>,
    ) -> Result<Proceeded<'n, R>, Error>
    where
        I: Invoke<With<C, E>, Response = R>,
    {
        let config = loader.load().await?;
        Ok(next.run(With::new(config, event)).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::MemoryProvider;
    use crate::secret::Secret;

    #[derive(Clone, Debug, serde::Deserialize)]
    struct Config {
        port: u16,
        #[allow(dead_code)]
        key: Secret<String>,
    }

    #[tokio::test]
    async fn a_value_that_does_not_fit_is_a_config_error_without_the_value() {
        let ssm = MemoryProvider::new().with("/port", "5432").with("/key", "hunter2");
        // `port` as text: a string where a number is expected.
        let loader = ConfigLoader::<Config>::new()
            .field("port", &ssm, "/port")
            .field("key", &ssm, "/key")
            .cache(Cache::new());
        let error = loader.load().await.unwrap_err();
        assert_eq!(error.error_type(), "TransformParameterError");
        assert!(!format!("{error} {error:?}").contains("5432"), "{error}");
        let loader = ConfigLoader::<Config>::new()
            .field_json("port", &ssm, "/port")
            .field("key", &ssm, "/key")
            .cache(Cache::new());
        assert_eq!(loader.load().await.unwrap().port, 5432);
        // A secret where a number is expected: not quoted either.
        let loader = ConfigLoader::<Config>::new()
            .field("port", &ssm, "/key")
            .field("key", &ssm, "/key")
            .cache(Cache::new());
        let error = loader.load().await.unwrap_err();
        assert!(!format!("{error} {error:?}").contains("hunter2"), "{error}");
    }

    #[tokio::test]
    async fn the_configuration_is_deserialised_again_only_when_a_value_changed() {
        let clock = crate::cache::ManualClock::new();
        let cache = Cache::builder().clock(clock.clone()).build();
        let ssm = MemoryProvider::new().with("/port", "1").with("/key", "k");
        let loader = ConfigLoader::<Config>::new()
            .field_json("port", &ssm, "/port")
            .field("key", &ssm, "/key")
            .cache(cache)
            .max_age(Duration::from_secs(60));
        assert_eq!(loader.load().await.unwrap().port, 1);
        ssm.set("/port", "2");
        assert_eq!(loader.load().await.unwrap().port, 1);
        clock.advance(Duration::from_secs(61));
        assert_eq!(loader.load().await.unwrap().port, 2);
        assert_eq!(ssm.fetches(), 4);
    }

    /// A provider that counts the fetches in flight at once.
    #[derive(Clone)]
    struct Overlap(Arc<Mutex<(u32, u32)>>, crate::provider::ProviderId);

    impl Provider for Overlap {
        fn id(&self) -> crate::provider::ProviderId {
            self.1
        }
        fn kind(&self) -> &'static str {
            "overlap"
        }
        fn fetch<'a>(
            &'a self,
            name: &'a str,
        ) -> lambda_runtime::BoxFuture<'a, Result<crate::Fetched, crate::FetchError>> {
            Box::pin(async move {
                {
                    let mut counts = self.0.lock().unwrap();
                    counts.0 += 1;
                    counts.1 = counts.1.max(counts.0);
                }
                for _ in 0..3 {
                    tokio::task::yield_now().await;
                }
                self.0.lock().unwrap().0 -= 1;
                Ok(crate::Fetched::Text(format!("\"{name}\"")))
            })
        }
    }

    #[tokio::test]
    async fn on_a_miss_the_fields_are_fetched_side_by_side() {
        #[derive(Clone, serde::Deserialize)]
        struct Three {
            a: String,
            c: String,
        }
        let provider = Overlap(Arc::default(), crate::provider::ProviderId::new());
        let loader = ConfigLoader::<Three>::new()
            .field_json("a", &provider, "a")
            .field("b", &provider, "b")
            .field_json("c", &provider, "c")
            .cache(Cache::new());
        let three = loader.load().await.unwrap();
        assert_eq!((three.a.as_str(), three.c.as_str()), ("a", "c"));
        assert_eq!(provider.0.lock().unwrap().1, 3, "three fetches were in flight at once");
    }

    #[test]
    fn a_loader_without_fields_is_refused_when_the_chain_is_built() {
        let loader = ConfigLoader::<Config>::new();
        let error = <LoadConfig as Transform<With<Config, ()>, ()>>::check(&LoadConfig, &loader).unwrap_err();
        assert!(error.to_string().contains("names no parameter"), "{error}");
    }
}
