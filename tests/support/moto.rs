//! moto in server mode on 127.0.0.1 — SSM Parameter Store, Secrets Manager and DynamoDB
//! for the Parameters tests — and [`Counter`], an HTTP proxy in front of it that counts
//! the requests that reach the server and can make it slow, deny a name, or drop
//! connections.
//!
//! `tests/moto/requirements.txt` pins moto, which the test support installs on first use
//! into a virtual environment of its own (see `tools::moto`). Without python3 the tests
//! print a `note:` and pass, except under `CI=true`, where that is a failure. One moto
//! per test binary, started at the first test that asks; it exits with the test process
//! (its standard input closes), and each test counts through a proxy of its own.
//!
//! The SDK clients have static dummy credentials and a region, so the SDK never looks
//! for real ones, and make one attempt per request, so that every request counts.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// How long moto may take to answer its first request (a cold Python start imports a lot).
const STARTUP: Duration = Duration::from_secs(90);

/// A moto server. It stops when the test process ends.
pub struct Moto {
    port: u16,
    _child: Mutex<Child>,
}

impl Moto {
    /// The binary's moto, started at the first call, or `None` (with a printed reason)
    /// when it cannot be had. Says that the calling test runs against it.
    pub fn get() -> Option<&'static Moto> {
        static MOTO: OnceLock<Result<Moto, String>> = OnceLock::new();
        match MOTO.get_or_init(Moto::start) {
            Ok(moto) => {
                // The test's own name: `.ci/run` groups the lines by what precedes the last `: `.
                let test = std::thread::current().name().unwrap_or("a test").replace("::", "/");
                super::tools::ran("moto", &test);
                Some(moto)
            }
            Err(reason) => {
                super::tools::skip("the moto tests", reason);
                None
            }
        }
    }

    fn start() -> Result<Moto, String> {
        let server = super::tools::moto()?;
        let port = free_port();
        // A shell that waits on its standard input: when the test process ends, the pipe
        // closes and it kills moto (statics are never dropped).
        let script = format!(
            "'{}' -H 127.0.0.1 -p {port} >/dev/null 2>&1 & pid=$!; read _; kill $pid",
            server.display()
        );
        let child = Command::new("sh")
            .args(["-c", &script])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .map_err(|error| format!("sh could not be started ({error})"))?;
        let started = Instant::now();
        loop {
            if http_get(port, "/moto-api/").is_some() {
                break;
            }
            if started.elapsed() > STARTUP {
                panic!("moto did not answer on 127.0.0.1:{port} within {STARTUP:?}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Ok(Moto {
            port,
            _child: Mutex::new(child),
        })
    }

    /// `http://127.0.0.1:PORT`, moto itself (no counting).
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// A new counting proxy in front of this moto.
    pub fn counter(&self) -> Counter {
        Counter::start(self.port)
    }
}

/// A port nothing listens on at the time of the call.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// One plain GET, `Some(status line)` when something answered.
fn http_get(port: u16, path: &str) -> Option<String> {
    let mut stream = TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_secs(1)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut line = String::new();
    BufReader::new(stream).read_line(&mut line).ok()?;
    line.starts_with("HTTP/").then_some(line)
}

/// One request that reached the server: its operation (the `X-Amz-Target` header's
/// last part: `GetParameter`, `GetSecretValue`, `GetItem`) and its body.
#[derive(Clone, Debug)]
pub struct Seen {
    pub operation: String,
    pub body: String,
}

#[derive(Default)]
struct Faults {
    /// Wait this long before forwarding each request.
    delay: Option<Duration>,
    /// A request whose body contains one of these is answered 400 `AccessDeniedException`.
    deny: Vec<String>,
    /// Close each connection without an answer.
    drop_connections: bool,
}

#[derive(Default)]
struct Shared {
    seen: Mutex<Vec<Seen>>,
    faults: Mutex<Faults>,
}

/// A loopback HTTP/1.1 proxy in front of a server, counting the requests it forwards.
/// Each request goes to the server on a connection of its own; the client's connection
/// stays open (keep-alive), as the SDK expects.
#[derive(Clone)]
pub struct Counter {
    port: u16,
    shared: Arc<Shared>,
}

impl Counter {
    fn start(upstream: u16) -> Counter {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let shared = Arc::new(Shared::default());
        let for_thread = Arc::clone(&shared);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let shared = Arc::clone(&for_thread);
                std::thread::spawn(move || serve(stream, upstream, &shared));
            }
        });
        Counter { port, shared }
    }

    /// `http://127.0.0.1:PORT`, for the SDK client's `endpoint_url`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The requests seen since the last `take`.
    pub fn take(&self) -> Vec<Seen> {
        std::mem::take(&mut *self.shared.seen.lock().unwrap())
    }

    /// How many requests were seen since the last `take`, forgetting them.
    pub fn take_count(&self) -> usize {
        self.take().len()
    }

    /// Makes each request wait `delay` before it is forwarded (`None`: no wait).
    pub fn delay(&self, delay: Option<Duration>) {
        self.shared.faults.lock().unwrap().delay = delay;
    }

    /// Answers `AccessDeniedException` to every request whose body contains `needle`.
    pub fn deny(&self, needle: &str) {
        self.shared.faults.lock().unwrap().deny.push(needle.to_owned());
    }

    /// Closes connections without answering (`true`), or forwards again (`false`).
    pub fn drop_connections(&self, drop: bool) {
        self.shared.faults.lock().unwrap().drop_connections = drop;
    }
}

/// Serves one client connection: request after request, until it closes.
fn serve(client: TcpStream, upstream: u16, shared: &Shared) {
    let mut reader = BufReader::new(client.try_clone().unwrap());
    let mut client = client;
    loop {
        let Some((head, body)) = read_request(&mut reader) else {
            return;
        };
        let target = header(&head, "x-amz-target").unwrap_or_default();
        let operation = target.rsplit('.').next().unwrap_or(&target).to_owned();
        let text = String::from_utf8_lossy(&body).into_owned();
        let (delay, denied, drop_it) = {
            let faults = shared.faults.lock().unwrap();
            (
                faults.delay,
                faults.deny.iter().any(|needle| text.contains(needle.as_str())),
                faults.drop_connections,
            )
        };
        shared.seen.lock().unwrap().push(Seen { operation, body: text });
        if drop_it {
            let _ = client.shutdown(Shutdown::Both);
            return;
        }
        if let Some(delay) = delay {
            std::thread::sleep(delay);
        }
        if denied {
            let body = r#"{"__type":"AccessDeniedException","message":"User: arn:aws:sts::123456789012:assumed-role/test is not authorized to perform this operation"}"#;
            let answer = format!(
                "HTTP/1.1 400 Bad Request\r\nContent-Type: application/x-amz-json-1.1\r\nx-amzn-ErrorType: AccessDeniedException\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            );
            if client.write_all(answer.as_bytes()).is_err() {
                return;
            }
            continue;
        }
        let Some(answer) = forward(upstream, &head, &body) else {
            let _ = client.shutdown(Shutdown::Both);
            return;
        };
        if client.write_all(&answer).is_err() {
            return;
        }
        let (answer_head, _) = split_head(&answer);
        if header(&answer_head, "content-length").is_none() && header(&answer_head, "transfer-encoding").is_none() {
            // Delimited by the end of the connection: end it.
            let _ = client.shutdown(Shutdown::Both);
            return;
        }
    }
}

/// The request's head (lines up to the blank one) and its `Content-Length` body.
fn read_request(reader: &mut BufReader<TcpStream>) -> Option<(String, Vec<u8>)> {
    let mut head = String::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        if line == "\r\n" || line == "\n" {
            break;
        }
        head.push_str(&line);
    }
    let length: usize = header(&head, "content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some((head, body))
}

fn header(head: &str, name: &str) -> Option<String> {
    head.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        key.trim().eq_ignore_ascii_case(name).then(|| value.trim().to_owned())
    })
}

fn split_head(answer: &[u8]) -> (String, usize) {
    let end = answer
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map_or(answer.len(), |at| at + 4);
    (String::from_utf8_lossy(&answer[..end]).into_owned(), end)
}

/// Sends one request to the server on a connection of its own and reads the whole answer.
fn forward(upstream: u16, head: &str, body: &[u8]) -> Option<Vec<u8>> {
    let mut server = TcpStream::connect(("127.0.0.1", upstream)).ok()?;
    server.set_read_timeout(Some(Duration::from_secs(30))).ok()?;
    let mut request: String = head
        .lines()
        .filter(|line| !line.to_ascii_lowercase().starts_with("connection:"))
        .map(|line| format!("{line}\r\n"))
        .collect();
    request.push_str("Connection: close\r\n\r\n");
    server.write_all(request.as_bytes()).ok()?;
    server.write_all(body).ok()?;
    let mut answer = Vec::new();
    server.read_to_end(&mut answer).ok()?;
    (!answer.is_empty()).then_some(answer)
}

/// Builds an SDK client for `endpoint`: dummy credentials, us-east-1, one attempt.
#[allow(unused_macros)] // Without a provider feature, nothing uses it.
macro_rules! client_for {
    ($sdk:path, $endpoint:expr) => {{
        use $sdk as sdk;
        let config = sdk::Config::builder()
            .behavior_version(sdk::config::BehaviorVersion::latest())
            .region(sdk::config::Region::new("us-east-1"))
            .credentials_provider(sdk::config::Credentials::new(
                "test",
                "test",
                None,
                None,
                "static-for-tests",
            ))
            .endpoint_url($endpoint)
            .retry_config(sdk::config::retry::RetryConfig::standard().with_max_attempts(1))
            .build();
        sdk::Client::from_conf(config)
    }};
}

#[cfg(feature = "ssm")]
pub fn ssm_client(endpoint: &str) -> lambda_middleware::parameters::aws_sdk_ssm::Client {
    client_for!(lambda_middleware::parameters::aws_sdk_ssm, endpoint)
}

#[cfg(feature = "secrets")]
pub fn secrets_client(endpoint: &str) -> lambda_middleware::parameters::aws_sdk_secretsmanager::Client {
    client_for!(lambda_middleware::parameters::aws_sdk_secretsmanager, endpoint)
}

#[cfg(feature = "parameters-dynamodb")]
pub fn dynamodb_client(endpoint: &str) -> lambda_middleware::parameters::aws_sdk_dynamodb::Client {
    client_for!(lambda_middleware::parameters::aws_sdk_dynamodb, endpoint)
}

#[cfg(feature = "appconfig")]
pub fn appconfig_client(endpoint: &str) -> lambda_middleware::parameters::aws_sdk_appconfigdata::Client {
    client_for!(lambda_middleware::parameters::aws_sdk_appconfigdata, endpoint)
}

/// A client with the providers' HTTPS client, to write what the tests read (moto
/// directly, not counted).
#[cfg(feature = "ssm")]
pub fn ssm_admin(moto: &Moto) -> lambda_middleware::parameters::aws_sdk_ssm::Client {
    lambda_middleware::parameters::SsmProvider::new(ssm_client(&moto.endpoint()))
        .client()
        .clone()
}

#[cfg(feature = "secrets")]
pub fn secrets_admin(moto: &Moto) -> lambda_middleware::parameters::aws_sdk_secretsmanager::Client {
    lambda_middleware::parameters::SecretsProvider::new(secrets_client(&moto.endpoint()))
        .client()
        .clone()
}

#[cfg(feature = "parameters-dynamodb")]
pub fn dynamodb_admin(moto: &Moto) -> lambda_middleware::parameters::aws_sdk_dynamodb::Client {
    lambda_middleware::parameters::DynamoDbProvider::new(dynamodb_client(&moto.endpoint()), "")
        .client()
        .clone()
}
