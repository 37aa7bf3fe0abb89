//! [`Provider`]: where parameters come from; [`MemoryProvider`]: one in memory.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use lambda_runtime::BoxFuture;

use crate::error::FetchError;
use crate::value::Fetched;

/// Which provider instance a cached value came from: two providers (two regions, two
/// tables) never share an entry. Make one with [`ProviderId::new`] when the provider
/// is made, and keep it in its clones.
///
/// ```
/// use lambda_middleware::parameters::ProviderId;
///
/// assert_ne!(ProviderId::new(), ProviderId::new());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ProviderId(u64);

impl ProviderId {
    /// An id no other provider of this process has.
    #[allow(clippy::new_without_default)]
    pub fn new() -> ProviderId {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        ProviderId(NEXT.fetch_add(1, Ordering::Relaxed))
    }
}

/// Where parameters come from: SSM Parameter Store, Secrets Manager, AppConfig,
/// DynamoDB, or your own. A provider only fetches; caching, transforms, timeouts and
/// single flight are the [`Cache`](crate::Cache)'s, so a provider of your own gets
/// them too.
///
/// The methods return a boxed future (as lambda_runtime's `SnapStartResource` does),
/// so that `dyn Provider` works: they run only on a cache miss.
///
/// ```
/// use lambda_middleware::parameters::{Cache, FetchError, Fetched, Provider, ProviderId};
/// use lambda_runtime::BoxFuture;
///
/// /// Parameters from the environment.
/// struct Env(ProviderId);
///
/// impl Provider for Env {
///     fn id(&self) -> ProviderId { self.0 }
///     fn kind(&self) -> &'static str { "env" }
///     fn fetch<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<Fetched, FetchError>> {
///         Box::pin(async move { std::env::var(name).map(Fetched::Text).map_err(|_| FetchError::NotFound) })
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let provider = Env(ProviderId::new());
/// let home = Cache::new().get(&provider, "PATH").await.unwrap();
/// assert!(!home.is_empty());
/// # }
/// ```
pub trait Provider: Send + Sync {
    /// This provider's id (see [`ProviderId`]).
    fn id(&self) -> ProviderId;

    /// Its kind, for errors and logs: `ssm`, `secretsmanager`, `appconfig`, `dynamodb`.
    fn kind(&self) -> &'static str;

    /// Fetches one parameter.
    fn fetch<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<Fetched, FetchError>>;

    /// Fetches several parameters by name, each with its own outcome (a missing one is
    /// [`FetchError::NotFound`]); an `Err` fails them all. The default fetches them one
    /// at a time; SSM sends one `GetParameters` per ten names.
    #[allow(clippy::type_complexity)]
    fn fetch_each<'a>(
        &'a self,
        names: &'a [String],
    ) -> BoxFuture<'a, Result<Vec<(String, Result<Fetched, FetchError>)>, FetchError>> {
        Box::pin(async move {
            let mut out = Vec::with_capacity(names.len());
            for name in names {
                out.push((name.clone(), self.fetch(name).await));
            }
            Ok(out)
        })
    }

    /// Fetches every parameter under `path`, named relative to it. Not every store has
    /// paths: the default is [`FetchError::Unsupported`].
    fn fetch_multiple<'a>(&'a self, path: &'a str) -> BoxFuture<'a, Result<Vec<(String, Fetched)>, FetchError>> {
        let _ = path;
        Box::pin(async { Err(FetchError::Unsupported("get_multiple")) })
    }
}

impl<P: Provider + ?Sized> Provider for Arc<P> {
    fn id(&self) -> ProviderId {
        (**self).id()
    }
    fn kind(&self) -> &'static str {
        (**self).kind()
    }
    fn fetch<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<Fetched, FetchError>> {
        (**self).fetch(name)
    }
    fn fetch_each<'a>(
        &'a self,
        names: &'a [String],
    ) -> BoxFuture<'a, Result<Vec<(String, Result<Fetched, FetchError>)>, FetchError>> {
        (**self).fetch_each(names)
    }
    fn fetch_multiple<'a>(&'a self, path: &'a str) -> BoxFuture<'a, Result<Vec<(String, Fetched)>, FetchError>> {
        (**self).fetch_multiple(path)
    }
}

/// A provider in memory: for tests, local runs and doc examples. It counts its
/// fetches, so a test can tell a cache hit (no fetch) from a miss; a parameter can be
/// made to fail. Paths are `/`-separated, as in SSM. Clones share the parameters.
///
/// ```
/// use lambda_middleware::parameters::{Cache, MemoryProvider};
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let provider = MemoryProvider::new().with("/app/url", "https://db.internal");
/// let cache = Cache::new();
/// assert_eq!(cache.get(&provider, "/app/url").await.unwrap(), "https://db.internal");
/// assert_eq!(cache.get(&provider, "/app/url").await.unwrap(), "https://db.internal");
/// assert_eq!(provider.fetches(), 1); // the second one was a cache hit
/// # }
/// ```
#[derive(Clone)]
pub struct MemoryProvider {
    id: ProviderId,
    inner: Arc<Mutex<MemoryState>>,
}

#[derive(Default)]
struct MemoryState {
    values: BTreeMap<String, Fetched>,
    failures: HashMap<String, FetchError>,
    fetches: u64,
}

impl fmt::Debug for MemoryProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        f.debug_struct("MemoryProvider")
            .field("names", &state.values.keys().collect::<Vec<_>>())
            .field("fetches", &state.fetches)
            .finish()
    }
}

impl Default for MemoryProvider {
    fn default() -> Self {
        MemoryProvider::new()
    }
}

impl MemoryProvider {
    /// An empty provider.
    ///
    /// ```
    /// let provider = lambda_middleware::parameters::MemoryProvider::new();
    /// assert_eq!(provider.fetches(), 0);
    /// ```
    pub fn new() -> Self {
        MemoryProvider {
            id: ProviderId::new(),
            inner: Arc::default(),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, MemoryState> {
        self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The provider with `name` set to `value`.
    ///
    /// ```
    /// let provider = lambda_middleware::parameters::MemoryProvider::new().with("/app/retries", "3");
    /// ```
    #[must_use]
    pub fn with(self, name: &str, value: impl Into<Fetched>) -> Self {
        self.set(name, value);
        self
    }

    /// Sets `name` to `value` (a later fetch sees it; the cache keeps the old one until
    /// it expires).
    ///
    /// ```
    /// let provider = lambda_middleware::parameters::MemoryProvider::new();
    /// provider.set("/app/retries", "4");
    /// ```
    pub fn set(&self, name: &str, value: impl Into<Fetched>) {
        let mut state = self.state();
        state.failures.remove(name);
        state.values.insert(name.to_owned(), value.into());
    }

    /// Makes fetches of `name` fail with `error` until it is [`set`](Self::set) again.
    ///
    /// ```
    /// use lambda_middleware::parameters::{FetchError, MemoryProvider};
    ///
    /// let provider = MemoryProvider::new();
    /// provider.fail("/app/url", FetchError::Unavailable("connection refused".into()));
    /// ```
    pub fn fail(&self, name: &str, error: FetchError) {
        self.state().failures.insert(name.to_owned(), error);
    }

    /// How many fetches reached the provider (`fetch` and `fetch_multiple` alike).
    ///
    /// ```
    /// assert_eq!(lambda_middleware::parameters::MemoryProvider::new().fetches(), 0);
    /// ```
    pub fn fetches(&self) -> u64 {
        self.state().fetches
    }
}

impl Provider for MemoryProvider {
    fn id(&self) -> ProviderId {
        self.id
    }

    fn kind(&self) -> &'static str {
        "memory"
    }

    fn fetch<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<Fetched, FetchError>> {
        let mut state = self.state();
        state.fetches += 1;
        let result = match state.failures.get(name) {
            Some(error) => Err(error.clone()),
            None => state.values.get(name).cloned().ok_or(FetchError::NotFound),
        };
        Box::pin(async move {
            // A fetch yields once, as a network call would: concurrent callers meet.
            tokio::task::yield_now().await;
            result
        })
    }

    fn fetch_multiple<'a>(&'a self, path: &'a str) -> BoxFuture<'a, Result<Vec<(String, Fetched)>, FetchError>> {
        let mut state = self.state();
        state.fetches += 1;
        let prefix = format!("{}/", path.trim_end_matches('/'));
        let result = match state.failures.get(path) {
            Some(error) => Err(error.clone()),
            None => Ok(state
                .values
                .range(prefix.clone()..)
                .take_while(|(name, _)| name.starts_with(&prefix))
                .map(|(name, value)| (name[prefix.len()..].to_owned(), value.clone()))
                .collect()),
        };
        Box::pin(async move {
            tokio::task::yield_now().await;
            result
        })
    }
}
