//! [`Cache`]: one cache for every invocation of the process, with `max_age`,
//! `force_fetch`, transforms, and one fetch per stale key however many invocations ask.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use lambda_runtime::{BoxFuture, SnapStartResource};
use serde::de::DeserializeOwned;

use crate::error::ParameterError;
use crate::provider::{Provider, ProviderId};
use crate::secret::Secret;
use crate::value::{Decoded, ValueTransform};

/// The variable that sets the default `max_age`, in whole seconds, as in Powertools.
pub const MAX_AGE_ENV: &str = "POWERTOOLS_PARAMETERS_MAX_AGE";

/// Powertools' default `max_age`: 5 seconds.
pub const DEFAULT_MAX_AGE: Duration = Duration::from_secs(5);

/// How long a fetch may take by default before it fails with
/// [`ParameterError::TimedOut`].
pub const DEFAULT_FETCH_TIMEOUT: Duration = Duration::from_secs(10);

/// The default `max_age`: [`MAX_AGE_ENV`] when it is a whole number of seconds,
/// otherwise [`DEFAULT_MAX_AGE`]. A value that does not read is logged (a `warn`
/// event, target `lambda_middleware::parameters`) and the default used; read it with
/// [`max_age_from_env`] to refuse it instead.
///
/// ```
/// let max_age = lambda_middleware::parameters::default_max_age();
/// assert!(max_age <= std::time::Duration::from_secs(u64::MAX));
/// ```
pub fn default_max_age() -> Duration {
    match max_age_from_env() {
        Ok(Some(max_age)) => max_age,
        Ok(None) => DEFAULT_MAX_AGE,
        Err(error) => {
            tracing::warn!(target: "lambda_middleware::parameters", "{error}; using {DEFAULT_MAX_AGE:?}");
            DEFAULT_MAX_AGE
        }
    }
}

/// [`MAX_AGE_ENV`], read strictly: `Ok(None)` when unset, an error naming the value
/// when it is not a whole number of seconds.
///
/// ```
/// // Unset in doc tests.
/// assert_eq!(lambda_middleware::parameters::max_age_from_env(), Ok(None));
/// ```
pub fn max_age_from_env() -> Result<Option<Duration>, InvalidMaxAge> {
    match std::env::var(MAX_AGE_ENV) {
        Err(_) => Ok(None),
        Ok(text) => parse_max_age(&text).map(Some),
    }
}

fn parse_max_age(text: &str) -> Result<Duration, InvalidMaxAge> {
    text.trim()
        .parse::<u64>()
        .map(Duration::from_secs)
        .map_err(|_| InvalidMaxAge(text.to_owned()))
}

/// [`MAX_AGE_ENV`] holds something other than a whole number of seconds.
///
/// ```
/// let error = lambda_middleware::parameters::InvalidMaxAge("5s".into());
/// assert_eq!(error.to_string(), "POWERTOOLS_PARAMETERS_MAX_AGE is \"5s\"; expected a whole number of seconds");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("POWERTOOLS_PARAMETERS_MAX_AGE is {0:?}; expected a whole number of seconds")]
pub struct InvalidMaxAge(pub String);

/// Where the cache reads the time: the monotonic clock, or a [`ManualClock`] in tests.
///
/// ```
/// use lambda_middleware::parameters::{Clock, SystemClock};
///
/// let before = std::time::Instant::now();
/// assert!(SystemClock.now() >= before);
/// ```
pub trait Clock: Send + Sync + 'static {
    /// Now.
    fn now(&self) -> Instant;
}

/// The monotonic clock (`Instant::now`).
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Instant {
        Instant::now()
    }
}

/// A clock that moves only when told: expiry tests without sleeping. Clones share the
/// time.
///
/// ```
/// use std::time::Duration;
/// use lambda_middleware::parameters::{Clock, ManualClock};
///
/// let clock = ManualClock::new();
/// let start = clock.now();
/// clock.advance(Duration::from_secs(6));
/// assert_eq!(clock.now() - start, Duration::from_secs(6));
/// ```
#[derive(Debug, Clone)]
pub struct ManualClock(Arc<Mutex<Instant>>);

impl Default for ManualClock {
    fn default() -> Self {
        ManualClock::new()
    }
}

impl ManualClock {
    /// A clock at the current instant.
    ///
    /// ```
    /// let clock = lambda_middleware::parameters::ManualClock::new();
    /// ```
    pub fn new() -> Self {
        ManualClock(Arc::new(Mutex::new(Instant::now())))
    }

    /// Moves the clock forward by `by`.
    ///
    /// ```
    /// # let clock = lambda_middleware::parameters::ManualClock::new();
    /// clock.advance(std::time::Duration::from_secs(1));
    /// ```
    pub fn advance(&self, by: Duration) {
        let mut now = self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        *now += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Instant {
        *self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// What to do when a fetch fails and the cache holds an expired value.
///
/// ```
/// use lambda_middleware::parameters::RefreshFailure;
///
/// assert_eq!(RefreshFailure::default(), RefreshFailure::Fail);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum RefreshFailure {
    /// Fail with the fetch's error (Powertools' behaviour).
    #[default]
    Fail,
    /// Hand back the expired value, and log the error (a `warn` event naming the
    /// parameter, never its value).
    ServeStale,
}

/// How one `get` reads the cache: Powertools' `max_age`, `force_fetch` and
/// `transform`, the fetch timeout, and what to do with an expired value.
///
/// ```
/// use std::time::Duration;
/// use lambda_middleware::parameters::{GetOptions, RefreshFailure, ValueTransform};
///
/// let options = GetOptions::builder()
///     .max_age(Duration::from_secs(60))
///     .transform(ValueTransform::Json)
///     .on_error(RefreshFailure::ServeStale)
///     .build();
/// assert!(!options.force_fetch);
/// ```
#[derive(Debug, Clone, typed_builder::TypedBuilder)]
#[non_exhaustive]
pub struct GetOptions {
    /// How old a cached value may be. Default: the cache's (see [`default_max_age`]).
    #[builder(default, setter(strip_option))]
    pub max_age: Option<Duration>,
    /// Fetch even when the cache holds a fresh value (and cache the result).
    #[builder(default)]
    pub force_fetch: bool,
    /// How the value is read. Default: as it is.
    #[builder(default)]
    pub transform: ValueTransform,
    /// How long the fetch may take. Default: [`DEFAULT_FETCH_TIMEOUT`].
    #[builder(default = DEFAULT_FETCH_TIMEOUT)]
    pub timeout: Duration,
    /// Whether an expired value is handed back when its fetch fails. Default: fail.
    #[builder(default)]
    pub on_error: RefreshFailure,
    /// While one caller refreshes an expired value, hand the others the expired value
    /// at once instead of making them wait for the fetch. Default: they wait.
    #[builder(default)]
    pub serve_stale_while_refreshing: bool,
}

impl Default for GetOptions {
    fn default() -> Self {
        GetOptions::builder().build()
    }
}

/// The part of a cache key beside the name: the provider, the resolved transform, and
/// whether it holds one value or a path's. The cache maps it to a map by name, so that
/// a lookup borrows the name instead of allocating a key.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
struct Space {
    provider: ProviderId,
    transform: ValueTransform,
    multiple: bool,
}

/// FNV-1a: the cache's keys are names from the function's own code, not from events,
/// so a hasher without SipHash's flood resistance is safe, and a hit takes a third fewer
/// instructions with it (`benches/parameters.sh`: 708 for `get_with`, 1,035 with SipHash).
#[derive(Clone, Copy)]
struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl std::hash::Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for byte in bytes {
            self.0 = (self.0 ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3);
        }
    }
}

type Map<K, V> = HashMap<K, V, std::hash::BuildHasherDefault<Fnv>>;

/// A cache key: its space and the name (or path).
#[derive(Clone, Copy)]
struct Key<'a> {
    space: Space,
    name: &'a str,
}

impl Key<'_> {
    fn transform(&self) -> ValueTransform {
        self.space.transform
    }
}

#[derive(Clone)]
enum Value {
    One(Decoded),
    Many(Arc<BTreeMap<String, Decoded>>),
}

struct Entry {
    value: Value,
    fetched_at: Instant,
    /// The restore count when it was fetched: an entry from before a SnapStart restore
    /// is stale whatever its age.
    restores: u64,
}

#[derive(Default)]
struct State {
    entry: Option<Entry>,
    /// Counts the fetches that finished, so that a caller who waited on another's fetch
    /// knows it finished and takes its outcome.
    generation: u64,
    /// The last fetch's error, when it failed.
    failure: Option<ParameterError>,
}

/// One key's slot: its state, and the lock held by the one caller fetching it.
#[derive(Default)]
struct Slot {
    state: Mutex<State>,
    refresh: tokio::sync::Mutex<()>,
}

impl Slot {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

struct Inner {
    slots: Mutex<Map<Space, Map<String, Arc<Slot>>>>,
    clock: Box<dyn Clock>,
    max_age: Duration,
    restores: AtomicU64,
    fetches: AtomicU64,
}

/// The parameters cache, shared by every invocation of the process: the one behind
/// the plain API ([`get`](crate::get), …) and, unless told otherwise, the config
/// middleware ([`LoadConfig`](crate::LoadConfig)). Clones share it.
///
/// - A value is kept per provider, name and transform, and fetched again once it is
///   older than `max_age` (per call, default [`default_max_age`]) or when a call asks
///   for `force_fetch`.
/// - **Single flight**: however many invocations find a key missing or expired at
///   once (under `lambda_runtime::run_concurrent`), one fetches it; the others wait for
///   that fetch and share its outcome — its value, or its error — or, with
///   [`serve_stale_while_refreshing`](GetOptions::serve_stale_while_refreshing), get
///   the expired value at once.
/// - Every fetch is bounded by a timeout ([`GetOptions::timeout`]): Tokio's timer, so a
///   fetch runs on a Tokio runtime with time enabled (`#[tokio::main]`'s, and
///   `lambda_runtime`'s, have it).
/// - **SnapStart**: it is a `lambda_runtime::SnapStartResource`; after a restore every
///   cached value (secrets included) is stale, since a snapshot may be days old.
///
/// A cache hit takes two short locks (the key's slot, then its state), clones an
/// `Arc`, and does not allocate (`get_with`; `get` copies the text into its `String`).
///
/// ```
/// use std::time::Duration;
/// use lambda_middleware::parameters::{Cache, GetOptions, ManualClock, MemoryProvider};
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let clock = ManualClock::new();
/// let cache = Cache::builder().clock(clock.clone()).build();
/// let provider = MemoryProvider::new().with("/app/url", "v1");
///
/// assert_eq!(cache.get(&provider, "/app/url").await.unwrap(), "v1");
/// provider.set("/app/url", "v2");
/// assert_eq!(cache.get(&provider, "/app/url").await.unwrap(), "v1"); // cached
/// clock.advance(Duration::from_secs(6)); // past the default 5 s
/// assert_eq!(cache.get(&provider, "/app/url").await.unwrap(), "v2");
/// let forced = GetOptions::builder().force_fetch(true).build();
/// assert_eq!(cache.get_with(&provider, "/app/url", &forced).await.unwrap().as_text(), Some("v2"));
/// assert_eq!(provider.fetches(), 3);
/// # }
/// ```
#[derive(Clone)]
pub struct Cache {
    inner: Arc<Inner>,
}

impl fmt::Debug for Cache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cache")
            .field("max_age", &self.inner.max_age)
            .field("entries", &self.slots().values().map(Map::len).sum::<usize>())
            .field("fetches", &self.fetches())
            .finish()
    }
}

impl Default for Cache {
    fn default() -> Self {
        Cache::new()
    }
}

/// Builds a [`Cache`]: its clock and default `max_age`.
///
/// ```
/// use std::time::Duration;
/// let cache = lambda_middleware::parameters::Cache::builder().max_age(Duration::from_secs(300)).build();
/// ```
#[must_use = "a builder does nothing until `build` is called"]
pub struct CacheBuilder {
    clock: Box<dyn Clock>,
    max_age: Option<Duration>,
}

impl fmt::Debug for CacheBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CacheBuilder")
            .field("max_age", &self.max_age)
            .finish_non_exhaustive()
    }
}

impl CacheBuilder {
    /// The clock the cache reads (default: [`SystemClock`]).
    ///
    /// ```
    /// use lambda_middleware::parameters::{Cache, ManualClock};
    /// let cache = Cache::builder().clock(ManualClock::new()).build();
    /// ```
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Box::new(clock);
        self
    }

    /// The default `max_age` (default: [`default_max_age`]).
    ///
    /// ```
    /// use std::time::Duration;
    /// let cache = lambda_middleware::parameters::Cache::builder().max_age(Duration::ZERO).build();
    /// ```
    pub fn max_age(mut self, max_age: Duration) -> Self {
        self.max_age = Some(max_age);
        self
    }

    /// The cache.
    ///
    /// ```
    /// let cache = lambda_middleware::parameters::Cache::builder().build();
    /// ```
    pub fn build(self) -> Cache {
        Cache {
            inner: Arc::new(Inner {
                slots: Mutex::default(),
                clock: self.clock,
                max_age: self.max_age.unwrap_or_else(default_max_age),
                restores: AtomicU64::new(0),
                fetches: AtomicU64::new(0),
            }),
        }
    }
}

impl Cache {
    /// A cache of its own (the system clock, the default `max_age`). Most code uses
    /// [`Cache::global`].
    ///
    /// ```
    /// let cache = lambda_middleware::parameters::Cache::new();
    /// ```
    pub fn new() -> Cache {
        Cache::builder().build()
    }

    /// A builder, for the clock and default `max_age`.
    ///
    /// ```
    /// let cache = lambda_middleware::parameters::Cache::builder().build();
    /// ```
    pub fn builder() -> CacheBuilder {
        CacheBuilder {
            clock: Box::new(SystemClock),
            max_age: None,
        }
    }

    /// The process's cache: the plain API's and the config middleware's, made at first
    /// use (when it reads [`MAX_AGE_ENV`]).
    ///
    /// ```
    /// use lambda_middleware::parameters::Cache;
    /// assert_eq!(Cache::global().fetches(), Cache::global().fetches());
    /// ```
    pub fn global() -> &'static Cache {
        static GLOBAL: OnceLock<Cache> = OnceLock::new();
        GLOBAL.get_or_init(Cache::new)
    }

    /// The default `max_age` of this cache.
    ///
    /// ```
    /// use std::time::Duration;
    /// let cache = lambda_middleware::parameters::Cache::builder().max_age(Duration::from_secs(9)).build();
    /// assert_eq!(cache.max_age(), Duration::from_secs(9));
    /// ```
    pub fn max_age(&self) -> Duration {
        self.inner.max_age
    }

    /// How many fetches this cache sent to providers (each `fetch` or `fetch_multiple`
    /// call, whatever its outcome).
    ///
    /// ```
    /// assert_eq!(lambda_middleware::parameters::Cache::new().fetches(), 0);
    /// ```
    pub fn fetches(&self) -> u64 {
        self.inner.fetches.load(Ordering::Relaxed)
    }

    /// Marks every cached value stale, as after a SnapStart restore (which the
    /// `SnapStartResource` impl calls): the next `get` of each fetches. Values are kept,
    /// for [`RefreshFailure::ServeStale`].
    ///
    /// ```
    /// use lambda_middleware::parameters::{Cache, MemoryProvider};
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let cache = Cache::new();
    /// let secrets = MemoryProvider::new().with("api-key", "k1");
    /// cache.get(&secrets, "api-key").await.unwrap();
    /// cache.mark_restored();
    /// cache.get(&secrets, "api-key").await.unwrap();
    /// assert_eq!(secrets.fetches(), 2);
    /// # }
    /// ```
    pub fn mark_restored(&self) {
        self.inner.restores.fetch_add(1, Ordering::SeqCst);
    }

    /// Empties the cache.
    ///
    /// ```
    /// lambda_middleware::parameters::Cache::new().clear();
    /// ```
    pub fn clear(&self) {
        self.slots().clear();
    }

    fn slots(&self) -> std::sync::MutexGuard<'_, Map<Space, Map<String, Arc<Slot>>>> {
        self.inner.slots.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn slot(&self, key: &Key<'_>) -> Arc<Slot> {
        let mut slots = self.slots();
        let names = slots.entry(key.space).or_default();
        match names.get(key.name) {
            Some(slot) => Arc::clone(slot),
            None => Arc::clone(names.entry(key.name.to_owned()).or_default()),
        }
    }

    /// One parameter as text, with the default options.
    ///
    /// ```
    /// # use lambda_middleware::parameters::{Cache, MemoryProvider};
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let provider = MemoryProvider::new().with("/app/url", "https://db.internal");
    /// assert_eq!(Cache::new().get(&provider, "/app/url").await.unwrap(), "https://db.internal");
    /// # }
    /// ```
    pub async fn get<P: Provider + ?Sized>(&self, provider: &P, name: &str) -> Result<String, ParameterError> {
        let value = self.get_with(provider, name, &GetOptions::default()).await?;
        match value {
            Decoded::Text(text) => Ok(text.to_string()),
            // `Text` reads binary values as UTF-8 text.
            _ => unreachable!("the None transform gives text"),
        }
    }

    /// One parameter read as JSON into `T`.
    ///
    /// ```
    /// # use lambda_middleware::parameters::{Cache, MemoryProvider};
    /// #[derive(serde::Deserialize)]
    /// struct Settings { retries: u32 }
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let provider = MemoryProvider::new().with("/app/settings", r#"{"retries":3}"#);
    /// let settings: Settings = Cache::new().get_json(&provider, "/app/settings").await.unwrap();
    /// assert_eq!(settings.retries, 3);
    /// # }
    /// ```
    pub async fn get_json<T: DeserializeOwned, P: Provider + ?Sized>(
        &self,
        provider: &P,
        name: &str,
    ) -> Result<T, ParameterError> {
        let options = GetOptions::builder().transform(ValueTransform::Json).build();
        self.get_with(provider, name, &options)
            .await?
            .deserialize(provider.kind(), name)
    }

    /// One parameter, base64 text decoded (or a binary value as it is).
    ///
    /// ```
    /// # use lambda_middleware::parameters::{Cache, MemoryProvider};
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let provider = MemoryProvider::new().with("/app/key", "aGk=");
    /// assert_eq!(Cache::new().get_binary(&provider, "/app/key").await.unwrap(), b"hi");
    /// # }
    /// ```
    pub async fn get_binary<P: Provider + ?Sized>(&self, provider: &P, name: &str) -> Result<Vec<u8>, ParameterError> {
        let options = GetOptions::builder().transform(ValueTransform::Binary).build();
        match self.get_with(provider, name, &options).await? {
            Decoded::Binary(bytes) => Ok(bytes.to_vec()),
            _ => unreachable!("the binary transform gives bytes"),
        }
    }

    /// One secret, as text that never shows in `Debug` or logs ([`Secret`]).
    ///
    /// ```
    /// # use lambda_middleware::parameters::{Cache, MemoryProvider};
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let secrets = MemoryProvider::new().with("prod/api-key", "sk-live-1234");
    /// let key = Cache::new().get_secret(&secrets, "prod/api-key").await.unwrap();
    /// assert_eq!(key.expose(), "sk-live-1234");
    /// assert_eq!(format!("{key:?}"), "Secret(*****)");
    /// # }
    /// ```
    pub async fn get_secret<P: Provider + ?Sized>(
        &self,
        provider: &P,
        name: &str,
    ) -> Result<Secret<String>, ParameterError> {
        self.get(provider, name).await.map(Secret::new)
    }

    /// One parameter with `options`: the value as its transform left it.
    ///
    /// ```
    /// use std::time::Duration;
    /// use lambda_middleware::parameters::{Cache, GetOptions, MemoryProvider, ValueTransform};
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let provider = MemoryProvider::new().with("/app/flags.json", r#"{"beta":true}"#);
    /// let options = GetOptions::builder().transform(ValueTransform::BySuffix).max_age(Duration::from_secs(60)).build();
    /// let flags = Cache::new().get_with(&provider, "/app/flags.json", &options).await.unwrap();
    /// assert_eq!(flags.as_json().unwrap()["beta"], true);
    /// # }
    /// ```
    pub async fn get_with<P: Provider + ?Sized>(
        &self,
        provider: &P,
        name: &str,
        options: &GetOptions,
    ) -> Result<Decoded, ParameterError> {
        let key = Key {
            space: Space {
                provider: provider.id(),
                transform: options.transform.resolve(name),
                multiple: false,
            },
            name,
        };
        let transform = key.transform();
        let value = self
            .lookup(key, provider.kind(), options, || async move {
                let fetched = provider.fetch(name).await;
                Ok(Value::One(transform.apply(
                    provider.kind(),
                    name,
                    fetched.map_err(|e| ParameterError::from_fetch(provider.kind(), name, e))?,
                )?))
            })
            .await?;
        match value {
            Value::One(value) => Ok(value),
            Value::Many(_) => unreachable!("a single key holds one value"),
        }
    }

    /// Every parameter under `path`, named relative to it, as text (`BySuffix` reads each
    /// by its name's suffix with [`get_multiple_with`](Self::get_multiple_with)).
    ///
    /// ```
    /// # use lambda_middleware::parameters::{Cache, MemoryProvider};
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let provider = MemoryProvider::new().with("/app/url", "u").with("/app/db/port", "5432").with("/other", "x");
    /// let all = Cache::new().get_multiple(&provider, "/app").await.unwrap();
    /// assert_eq!(all.keys().collect::<Vec<_>>(), ["db/port", "url"]);
    /// # }
    /// ```
    pub async fn get_multiple<P: Provider + ?Sized>(
        &self,
        provider: &P,
        path: &str,
    ) -> Result<BTreeMap<String, String>, ParameterError> {
        let values = self.get_multiple_with(provider, path, &GetOptions::default()).await?;
        Ok(values
            .iter()
            .map(|(name, value)| (name.clone(), value.as_text().unwrap_or_default().to_owned()))
            .collect())
    }

    /// Every parameter under `path` with `options`; the transform applies to each (by
    /// each name's suffix for `BySuffix`). A value that does not go through it fails the call.
    ///
    /// ```
    /// use lambda_middleware::parameters::{Cache, GetOptions, MemoryProvider, ValueTransform};
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let provider = MemoryProvider::new().with("/app/url", "u").with("/app/flags.json", "[1]");
    /// let options = GetOptions::builder().transform(ValueTransform::BySuffix).build();
    /// let all = Cache::new().get_multiple_with(&provider, "/app", &options).await.unwrap();
    /// assert_eq!(all["flags.json"].as_json().unwrap()[0], 1);
    /// assert_eq!(all["url"].as_text(), Some("u"));
    /// # }
    /// ```
    pub async fn get_multiple_with<P: Provider + ?Sized>(
        &self,
        provider: &P,
        path: &str,
        options: &GetOptions,
    ) -> Result<Arc<BTreeMap<String, Decoded>>, ParameterError> {
        let key = Key {
            space: Space {
                provider: provider.id(),
                transform: options.transform,
                multiple: true,
            },
            name: path,
        };
        let transform = options.transform;
        let value = self
            .lookup(key, provider.kind(), options, || async move {
                let fetched = provider
                    .fetch_multiple(path)
                    .await
                    .map_err(|e| ParameterError::from_fetch(provider.kind(), path, e))?;
                let mut values = BTreeMap::new();
                for (name, value) in fetched {
                    let decoded = transform.apply(provider.kind(), &name, value)?;
                    values.insert(name, decoded);
                }
                Ok(Value::Many(Arc::new(values)))
            })
            .await?;
        match value {
            Value::Many(values) => Ok(values),
            Value::One(_) => unreachable!("a path key holds several values"),
        }
    }

    /// Several parameters by name (Powertools' `get_parameters_by_name`): the fresh ones
    /// from the cache, the others in one [`Provider::fetch_each`] (for SSM, one
    /// `GetParameters` per ten names), each cached under its name as [`get_with`](Self::get_with)
    /// caches it. Any missing or failing name fails the call, naming it.
    ///
    /// Unlike `get_with`, concurrent calls that miss the same names may each fetch them
    /// (single flight is per name, and a batch holds several).
    ///
    /// ```
    /// use lambda_middleware::parameters::{Cache, GetOptions, MemoryProvider};
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let ssm = MemoryProvider::new().with("/a", "1").with("/b", "2");
    /// let cache = Cache::new();
    /// cache.get(&ssm, "/a").await.unwrap();
    /// let both = cache.get_each(&ssm, &["/a", "/b"], &GetOptions::default()).await.unwrap();
    /// assert_eq!(both["/b"].as_text(), Some("2"));
    /// assert_eq!(ssm.fetches(), 2); // "/a" was cached
    /// # }
    /// ```
    pub async fn get_each<P: Provider + ?Sized>(
        &self,
        provider: &P,
        names: &[&str],
        options: &GetOptions,
    ) -> Result<BTreeMap<String, Decoded>, ParameterError> {
        let max_age = options.max_age.unwrap_or(self.inner.max_age);
        let mut found = BTreeMap::new();
        let mut missing = Vec::new();
        for name in names {
            let key = Key {
                space: Space {
                    provider: provider.id(),
                    transform: options.transform.resolve(name),
                    multiple: false,
                },
                name,
            };
            let slot = self.slot(&key);
            let state = slot.state();
            match &state.entry {
                Some(Entry {
                    value: Value::One(value),
                    ..
                }) if !options.force_fetch && state.entry.as_ref().is_some_and(|e| self.is_fresh(e, max_age)) => {
                    found.insert((*name).to_owned(), value.clone());
                }
                _ => missing.push((*name).to_owned()),
            }
        }
        if missing.is_empty() {
            return Ok(found);
        }
        self.inner.fetches.fetch_add(1, Ordering::Relaxed);
        let kind = provider.kind();
        let fetched = match tokio::time::timeout(options.timeout, provider.fetch_each(&missing)).await {
            Ok(Ok(fetched)) => fetched,
            Ok(Err(error)) => return Err(ParameterError::from_fetch(kind, &missing.join(","), error)),
            Err(_) => {
                return Err(ParameterError::TimedOut {
                    provider: kind,
                    name: missing.join(","),
                    timeout: options.timeout,
                });
            }
        };
        for (name, outcome) in fetched {
            let value = outcome.map_err(|error| ParameterError::from_fetch(kind, &name, error))?;
            let transform = options.transform.resolve(&name);
            let decoded = transform.apply(kind, &name, value)?;
            let key = Key {
                space: Space {
                    provider: provider.id(),
                    transform,
                    multiple: false,
                },
                name: &name,
            };
            let slot = self.slot(&key);
            let mut state = slot.state();
            state.generation += 1;
            state.failure = None;
            state.entry = Some(Entry {
                value: Value::One(decoded.clone()),
                fetched_at: self.inner.clock.now(),
                restores: self.inner.restores.load(Ordering::SeqCst),
            });
            found.insert(name, decoded);
        }
        match missing.iter().find(|name| !found.contains_key(*name)) {
            Some(name) => Err(ParameterError::NotFound {
                provider: kind,
                name: name.clone(),
            }),
            None => Ok(found),
        }
    }

    /// The fresh cached value of one parameter, if there is one: what
    /// [`get_with`](Self::get_with) hands back without fetching. `None` when it must
    /// fetch (missing, older than `max_age`, `force_fetch`, after a restore).
    pub(crate) fn peek<P: Provider + ?Sized>(&self, provider: &P, name: &str, options: &GetOptions) -> Option<Decoded> {
        match self.peek_value(provider, name, options, false)? {
            Value::One(value) => Some(value),
            Value::Many(_) => None,
        }
    }

    /// The same for a path's values ([`get_multiple_with`](Self::get_multiple_with)).
    pub(crate) fn peek_multiple<P: Provider + ?Sized>(
        &self,
        provider: &P,
        path: &str,
        options: &GetOptions,
    ) -> Option<Arc<BTreeMap<String, Decoded>>> {
        match self.peek_value(provider, path, options, true)? {
            Value::Many(values) => Some(values),
            Value::One(_) => None,
        }
    }

    fn peek_value<P: Provider + ?Sized>(
        &self,
        provider: &P,
        name: &str,
        options: &GetOptions,
        multiple: bool,
    ) -> Option<Value> {
        if options.force_fetch {
            return None;
        }
        let transform = if multiple {
            options.transform
        } else {
            options.transform.resolve(name)
        };
        let space = Space {
            provider: provider.id(),
            transform,
            multiple,
        };
        let slot = {
            let slots = self.slots();
            Arc::clone(slots.get(&space)?.get(name)?)
        };
        let state = slot.state();
        let entry = state.entry.as_ref()?;
        let max_age = options.max_age.unwrap_or(self.inner.max_age);
        self.is_fresh(entry, max_age).then(|| entry.value.clone())
    }

    /// The cache's part of every `get`: a fresh value, or one fetch per key however many
    /// callers wait for it.
    async fn lookup<F, Fut>(
        &self,
        key: Key<'_>,
        kind: &'static str,
        options: &GetOptions,
        fetch: F,
    ) -> Result<Value, ParameterError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Value, ParameterError>>,
    {
        let max_age = options.max_age.unwrap_or(self.inner.max_age);
        let slot = self.slot(&key);
        let (seen, stale) = {
            let state = slot.state();
            if let Some(entry) = &state.entry {
                if !options.force_fetch && self.is_fresh(entry, max_age) {
                    return Ok(entry.value.clone());
                }
            }
            (state.generation, state.entry.as_ref().map(|entry| entry.value.clone()))
        };
        let _refreshing = match (&stale, options.serve_stale_while_refreshing) {
            (Some(stale), true) => match slot.refresh.try_lock() {
                Ok(guard) => guard,
                Err(_) => return Ok(stale.clone()),
            },
            _ => slot.refresh.lock().await,
        };
        {
            // Another caller's fetch finished while this one waited: share its outcome.
            let state = slot.state();
            if state.generation != seen {
                match (&state.failure, &state.entry) {
                    (Some(error), _) => return self.failed(error.clone(), &key, kind, options, stale),
                    (None, Some(entry)) => return Ok(entry.value.clone()),
                    (None, None) => {}
                }
            }
        }
        self.inner.fetches.fetch_add(1, Ordering::Relaxed);
        tracing::debug!(target: "lambda_middleware::parameters", provider = kind, name = %key.name, "fetching parameter");
        let outcome = match tokio::time::timeout(options.timeout, fetch()).await {
            Ok(outcome) => outcome,
            Err(_) => Err(ParameterError::TimedOut {
                provider: kind,
                name: key.name.to_owned(),
                timeout: options.timeout,
            }),
        };
        let mut state = slot.state();
        state.generation += 1;
        match outcome {
            Ok(value) => {
                state.failure = None;
                state.entry = Some(Entry {
                    value: value.clone(),
                    fetched_at: self.inner.clock.now(),
                    restores: self.inner.restores.load(Ordering::SeqCst),
                });
                Ok(value)
            }
            Err(error) => {
                state.failure = Some(error.clone());
                drop(state);
                self.failed(error, &key, kind, options, stale)
            }
        }
    }

    fn is_fresh(&self, entry: &Entry, max_age: Duration) -> bool {
        entry.restores == self.inner.restores.load(Ordering::SeqCst)
            && self.inner.clock.now().saturating_duration_since(entry.fetched_at) < max_age
    }

    fn failed(
        &self,
        error: ParameterError,
        key: &Key<'_>,
        kind: &'static str,
        options: &GetOptions,
        stale: Option<Value>,
    ) -> Result<Value, ParameterError> {
        match (options.on_error, stale) {
            (RefreshFailure::ServeStale, Some(stale)) => {
                tracing::warn!(
                    target: "lambda_middleware::parameters",
                    provider = kind,
                    name = %key.name,
                    "serving the expired value of a parameter whose fetch failed: {error}"
                );
                Ok(stale)
            }
            _ => Err(error),
        }
    }
}

/// After a SnapStart restore, every cached value is stale ([`Cache::mark_restored`]).
/// Register the cache with the runtime:
///
/// ```no_run
/// use std::sync::Arc;
/// use lambda_middleware::parameters::Cache;
/// use lambda_runtime::{Runtime, service_fn, Error, LambdaEvent};
///
/// # async fn handler(_: LambdaEvent<serde_json::Value>) -> Result<(), Error> { Ok(()) }
/// # async fn main_() -> Result<(), Error> {
/// Runtime::new(service_fn(handler))
///     .register_snapstart_resource(Arc::new(Cache::global().clone()))
///     .run()
///     .await
/// # }
/// ```
impl SnapStartResource for Cache {
    fn after_restore(&self) -> BoxFuture<'_, Result<(), lambda_runtime::Error>> {
        self.mark_restored();
        Box::pin(async { Ok(()) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::FetchError;
    use crate::provider::MemoryProvider;
    use crate::value::Fetched;

    fn cache(clock: &ManualClock) -> Cache {
        Cache::builder().clock(clock.clone()).max_age(DEFAULT_MAX_AGE).build()
    }

    #[test]
    fn max_age_reads_whole_seconds_only() {
        assert_eq!(parse_max_age(" 60 "), Ok(Duration::from_secs(60)));
        assert_eq!(parse_max_age("5s"), Err(InvalidMaxAge("5s".into())));
        assert_eq!(parse_max_age("-1"), Err(InvalidMaxAge("-1".into())));
    }

    #[tokio::test]
    async fn a_value_is_cached_for_max_age_then_fetched_again() {
        let clock = ManualClock::new();
        let cache = cache(&clock);
        let provider = MemoryProvider::new().with("a", "1");
        assert_eq!(cache.get(&provider, "a").await.unwrap(), "1");
        provider.set("a", "2");
        clock.advance(Duration::from_millis(4_999));
        assert_eq!(cache.get(&provider, "a").await.unwrap(), "1");
        assert_eq!(provider.fetches(), 1);
        clock.advance(Duration::from_millis(1));
        assert_eq!(cache.get(&provider, "a").await.unwrap(), "2");
        assert_eq!(provider.fetches(), 2);
        // A per-call max_age: this caller accepts nothing older than 0 s.
        let now = GetOptions::builder().max_age(Duration::ZERO).build();
        cache.get_with(&provider, "a", &now).await.unwrap();
        assert_eq!(provider.fetches(), 3);
    }

    #[tokio::test]
    async fn transforms_are_cached_apart() {
        let cache = Cache::new();
        let provider = MemoryProvider::new().with("a", "[1]");
        assert_eq!(cache.get(&provider, "a").await.unwrap(), "[1]");
        let json: Vec<u32> = cache.get_json(&provider, "a").await.unwrap();
        assert_eq!(json, [1]);
        let _: Vec<u32> = cache.get_json(&provider, "a").await.unwrap();
        assert_eq!(provider.fetches(), 2);
    }

    #[tokio::test]
    async fn a_failure_is_not_cached_and_stale_is_served_only_when_asked() {
        let clock = ManualClock::new();
        let cache = cache(&clock);
        let provider = MemoryProvider::new().with("a", "1");
        cache.get(&provider, "a").await.unwrap();
        clock.advance(Duration::from_secs(10));
        provider.fail("a", FetchError::Unavailable("connection refused".into()));
        let error = cache.get(&provider, "a").await.unwrap_err();
        assert!(matches!(error, ParameterError::Failed { .. }), "{error:?}");
        let stale = GetOptions::builder().on_error(RefreshFailure::ServeStale).build();
        assert_eq!(
            cache.get_with(&provider, "a", &stale).await.unwrap().as_text(),
            Some("1")
        );
        // Not found, with nothing cached: no value to fall back on.
        let error = cache.get_with(&provider, "b", &stale).await.unwrap_err();
        assert_eq!(
            error,
            ParameterError::NotFound {
                provider: "memory",
                name: "b".into()
            }
        );
        provider.set("a", "2");
        assert_eq!(cache.get(&provider, "a").await.unwrap(), "2");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn fifty_concurrent_misses_are_one_fetch() {
        let clock = ManualClock::new();
        let cache = cache(&clock);
        let provider = MemoryProvider::new().with("a", "1");
        for round in 0..2 {
            let tasks: Vec<_> = (0..50)
                .map(|_| {
                    let (cache, provider) = (cache.clone(), provider.clone());
                    tokio::spawn(async move { cache.get(&provider, "a").await })
                })
                .collect();
            for task in tasks {
                assert_eq!(task.await.unwrap().unwrap(), "1");
            }
            assert_eq!(provider.fetches(), round + 1);
            clock.advance(Duration::from_secs(6));
        }
    }

    /// On one thread, so that all fifty are waiting before the fetch ends: they share its
    /// error rather than trying again one after another.
    #[tokio::test]
    async fn concurrent_callers_share_a_failed_fetch() {
        let cache = Cache::new();
        let provider = MemoryProvider::new();
        provider.fail("a", FetchError::AccessDenied("no".into()));
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..50 {
            let (cache, provider) = (cache.clone(), provider.clone());
            tasks.spawn(async move { cache.get(&provider, "a").await });
        }
        while let Some(outcome) = tasks.join_next().await {
            assert!(matches!(outcome.unwrap(), Err(ParameterError::AccessDenied { .. })));
        }
        assert_eq!(provider.fetches(), 1);
        // A failure is not cached: the next call tries again.
        provider.set("a", "1");
        assert_eq!(cache.get(&provider, "a").await.unwrap(), "1");
    }

    #[tokio::test]
    async fn serve_stale_while_refreshing_hands_the_others_the_old_value() {
        let clock = ManualClock::new();
        let cache = cache(&clock);
        let provider = MemoryProvider::new().with("a", "1");
        cache.get(&provider, "a").await.unwrap();
        clock.advance(Duration::from_secs(6));
        provider.set("a", "2");
        let options = GetOptions::builder().serve_stale_while_refreshing(true).build();
        // Two callers on one task: the first takes the refresh and yields inside the
        // fetch; the second finds it taken and gets the old value at once.
        let (first, second) = tokio::join!(cache.get_with(&provider, "a", &options), async {
            tokio::task::yield_now().await;
            cache.get_with(&provider, "a", &options).await
        });
        assert_eq!(first.unwrap().as_text(), Some("2"));
        assert_eq!(second.unwrap().as_text(), Some("1"));
        assert_eq!(provider.fetches(), 2);
    }

    #[tokio::test]
    async fn a_slow_fetch_is_a_timeout() {
        struct Slow(ProviderId);
        impl Provider for Slow {
            fn id(&self) -> ProviderId {
                self.0
            }
            fn kind(&self) -> &'static str {
                "slow"
            }
            fn fetch<'a>(&'a self, _: &'a str) -> BoxFuture<'a, Result<Fetched, FetchError>> {
                Box::pin(std::future::pending())
            }
        }
        tokio::time::pause();
        let options = GetOptions::builder().timeout(Duration::from_millis(50)).build();
        let error = Cache::new()
            .get_with(&Slow(ProviderId::new()), "a", &options)
            .await
            .unwrap_err();
        assert_eq!(
            error,
            ParameterError::TimedOut {
                provider: "slow",
                name: "a".into(),
                timeout: Duration::from_millis(50)
            }
        );
    }

    #[tokio::test]
    async fn after_a_restore_every_value_is_stale() {
        let cache = Cache::new();
        let provider = MemoryProvider::new().with("a", "1");
        cache.get(&provider, "a").await.unwrap();
        cache.get(&provider, "a").await.unwrap();
        assert_eq!(provider.fetches(), 1);
        SnapStartResource::after_restore(&cache).await.unwrap();
        cache.get(&provider, "a").await.unwrap();
        cache.get(&provider, "a").await.unwrap();
        assert_eq!(provider.fetches(), 2);
    }
}
