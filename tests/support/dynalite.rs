//! dynalite — an implementation of DynamoDB's API from npm — on 127.0.0.1, for the
//! tests of the DynamoDB idempotency store, and an SDK client pointed at it.
//!
//! `tests/dynalite/` pins the npm package, which the test support installs on first use
//! (`npm ci --prefix tests/dynalite`, see `tools`); `tests/dynalite/server.js` starts it
//! in memory on a free port and prints the port. Without node the tests print a `note:`
//! and pass, except under `CI=true`, where that is a failure.
//!
//! The client has static dummy credentials and a region, so the SDK never looks for
//! real ones, and an interceptor that logs each request it sends.

use std::io::{BufRead, BufReader, Read, Write as _};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use lambda_middleware::middlewares::idempotency::aws_sdk_dynamodb::Client;
use lambda_middleware::middlewares::idempotency::aws_sdk_dynamodb::config::interceptors::BeforeTransmitInterceptorContextRef;
use lambda_middleware::middlewares::idempotency::aws_sdk_dynamodb::config::{
    BehaviorVersion, ConfigBag, Credentials, Intercept, Region, RuntimeComponents,
};
use lambda_middleware::middlewares::idempotency::aws_sdk_dynamodb::error::BoxError;
use lambda_middleware::middlewares::idempotency::aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType, TableStatus,
};

/// How long dynalite may take to print its port (node's start is well under a second).
const STARTUP: Duration = Duration::from_secs(30);

/// A dynalite process. Dropping it kills it; it also exits by itself when the test
/// process ends (its standard input closes).
pub struct Dynalite {
    child: Child,
    port: u16,
    ssl: bool,
    stdin: Option<ChildStdin>,
}

/// The directory with `package.json` and `server.js`.
pub fn directory() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/dynalite")
}

/// `true` under CI (`CI=true`), where a missing dynalite fails the tests.
pub fn required() -> bool {
    super::tools::required()
}

/// Prints why the dynalite tests cannot run, past the harness's output capture, or
/// panics with it under CI.
fn unavailable(reason: &str) -> Option<Dynalite> {
    if required() {
        panic!("dynalite is required under CI=true, and {reason}");
    }
    let _ = writeln!(std::io::stderr(), "note: DynamoDB store tests skipped because {reason}");
    None
}

impl Dynalite {
    /// Starts dynalite on a free port of 127.0.0.1, or says why it cannot (see the
    /// module docs).
    pub fn start() -> Option<Dynalite> {
        Dynalite::spawn(false)
    }

    /// Starts dynalite for the calling test alone, and says that the test runs against it.
    pub fn start_for_this_test() -> Option<Dynalite> {
        let dynalite = Dynalite::spawn(false)?;
        super::tools::ran("dynalite", std::thread::current().name().unwrap_or("a test"));
        Some(dynalite)
    }

    /// The same over HTTPS, with dynalite's own certificate: self-signed, and expired.
    pub fn start_https() -> Option<Dynalite> {
        let dynalite = Dynalite::spawn(true)?;
        super::tools::ran("dynalite", std::thread::current().name().unwrap_or("a test"));
        Some(dynalite)
    }

    fn spawn(ssl: bool) -> Option<Dynalite> {
        let directory = match super::tools::dynalite() {
            Ok(directory) => directory.to_path_buf(),
            Err(reason) => return unavailable(&reason),
        };
        let spawned = Command::new("node")
            .arg("server.js")
            .args(ssl.then_some("--ssl"))
            .current_dir(&directory)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .spawn();
        let mut child = match spawned {
            Ok(child) => child,
            Err(error) => return unavailable(&format!("node could not be started ({error})")),
        };
        let stdout = child.stdout.take().expect("piped stdout");
        let mut stderr = child.stderr.take().expect("piped stderr");
        let (sender, receiver) = mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = sender.send(line);
        });
        let errors = Arc::new(Mutex::new(String::new()));
        let collected = Arc::clone(&errors);
        std::thread::spawn(move || {
            let mut text = String::new();
            let _ = stderr.read_to_string(&mut text);
            collected.lock().unwrap().push_str(&text);
        });
        let stdin = child.stdin.take();
        let mut dynalite = Dynalite {
            child,
            port: 0,
            ssl,
            stdin,
        };
        let line = receiver.recv_timeout(STARTUP).unwrap_or_default();
        match line
            .trim()
            .strip_prefix("listening ")
            .and_then(|port| port.parse().ok())
        {
            Some(port) => dynalite.port = port,
            None => {
                dynalite.stop();
                panic!(
                    "dynalite did not start within {STARTUP:?}: it printed {line:?}, and on stderr:\n{}",
                    errors.lock().unwrap()
                );
            }
        }
        Some(dynalite)
    }

    /// `http://127.0.0.1:PORT` (`https://localhost:PORT` over HTTPS, the name its
    /// certificate is for).
    pub fn endpoint(&self) -> String {
        match self.ssl {
            true => format!("https://localhost:{}", self.port),
            false => format!("http://127.0.0.1:{}", self.port),
        }
    }

    /// The process id, to stop and continue it.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends `signal` (`STOP`, `CONT`) to the process.
    pub fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args([&format!("-{signal}"), &self.child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -{signal} failed");
    }

    /// Kills it and waits for it: the store is down from here on.
    pub fn stop(&mut self) {
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.child.id())])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.stdin = None;
    }
}

impl Drop for Dynalite {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A DynamoDB client for `endpoint`, with dummy credentials and region, logging its
/// requests to `log`, with the SDK's default retries. It has no HTTP client of its
/// own: `DynamoDbStore::new` gives it one.
pub fn client(endpoint: &str, log: &RequestLog) -> Client {
    Client::from_conf(config(endpoint, log).build())
}

/// The same, making one attempt per request: a store that is down fails at once.
pub fn client_without_retries(endpoint: &str, log: &RequestLog) -> Client {
    let retries = lambda_middleware::middlewares::idempotency::aws_sdk_dynamodb::config::retry::RetryConfig::standard()
        .with_max_attempts(1);
    Client::from_conf(config(endpoint, log).retry_config(retries).build())
}

fn config(
    endpoint: &str,
    log: &RequestLog,
) -> lambda_middleware::middlewares::idempotency::aws_sdk_dynamodb::config::Builder {
    lambda_middleware::middlewares::idempotency::aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("test", "test", None, None, "static-for-tests"))
        .endpoint_url(endpoint)
        .interceptor(log.clone())
}

/// Creates `table` with Powertools' layout: partition key `id` (a string), on-demand.
pub async fn create_table(client: &Client, table: &str) {
    client
        .create_table()
        .table_name(table)
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
        )
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await
        .unwrap_or_else(|error| {
            panic!(
                "create table {table}: {}",
                lambda_middleware::middlewares::idempotency::aws_sdk_dynamodb::error::DisplayErrorContext(&error)
            )
        });
    // dynalite makes a table active on a timer, even with `createTableMs: 0`: an item
    // written before that is refused as if the table did not exist.
    for _ in 0..500 {
        let described = client.describe_table().table_name(table).send().await;
        let status = described
            .ok()
            .and_then(|d| d.table().and_then(|t| t.table_status().cloned()));
        if status == Some(TableStatus::Active) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("table {table} did not become active within 5 s");
}

/// One request the client sent: its operation (`PutItem`, …) and its JSON body.
#[derive(Clone, Debug)]
pub struct Sent {
    pub operation: String,
    pub body: String,
}

/// The requests a client sent, in order, as an SDK interceptor sees them just before
/// each goes on the wire (retries included: each attempt is a request).
#[derive(Clone, Debug, Default)]
pub struct RequestLog(Arc<Mutex<Vec<Sent>>>);

impl RequestLog {
    /// The operations sent since the last [`take`](RequestLog::take).
    pub fn take(&self) -> Vec<Sent> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }

    /// The names of the operations sent since the last `take`.
    pub fn take_operations(&self) -> Vec<String> {
        self.take().into_iter().map(|sent| sent.operation).collect()
    }
}

impl Intercept for RequestLog {
    fn name(&self) -> &'static str {
        "RequestLog"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let request = context.request();
        let target = request.headers().get("x-amz-target").unwrap_or_default();
        let operation = target.rsplit('.').next().unwrap_or(target).to_owned();
        let body = request
            .body()
            .bytes()
            .map(|bytes| String::from_utf8_lossy(bytes).into_owned())
            .unwrap_or_default();
        self.0.lock().unwrap().push(Sent { operation, body });
        Ok(())
    }
}
