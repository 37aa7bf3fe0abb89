//! A loopback Lambda Runtime API: what the Lambda service serves to a function process.
//!
//! It hands out queued events on `GET /2018-06-01/runtime/invocation/next` (a long poll:
//! it answers when an event is queued) with the headers the real service sends, and
//! records what the function posts to `/invocation/{id}/response` and
//! `/invocation/{id}/error`. Tests queue events, start a function process pointed at
//! it with [`RuntimeApi::lambda_env`], and wait for the posts with a timeout.
//!
//! Hand-rolled HTTP/1.1 over a tokio `TcpListener` on 127.0.0.1: keep-alive,
//! `Content-Length` and chunked bodies — what `lambda_runtime`'s client sends.

use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::process::Command;
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot};

use super::process::Running;

/// The deadline `cargo lambda`'s emulator sends: a constant far in the past
/// (600,000 ms after the epoch). Nothing may treat it as "already timed out".
pub const PAST_DEADLINE_MS: u64 = 600_000;

/// An event waiting to be handed to the function.
#[derive(Clone, Debug)]
pub struct Queued {
    pub request_id: String,
    pub body: Vec<u8>,
    pub deadline_ms: u64,
    pub trace_id: String,
    pub function_arn: String,
}

impl Queued {
    /// An event with this JSON payload, a deadline a minute from now, and the other
    /// headers as the Lambda service sends them.
    pub fn json(request_id: impl Into<String>, payload: &Value) -> Queued {
        Queued::raw(request_id, &payload.to_string())
    }

    /// An event whose body is this text, valid JSON or not.
    pub fn raw(request_id: impl Into<String>, body: &str) -> Queued {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock after 1970");
        Queued {
            request_id: request_id.into(),
            body: body.as_bytes().to_vec(),
            deadline_ms: (now + Duration::from_secs(60)).as_millis() as u64,
            trace_id: format!(
                "Root=1-{:08x}-5759e988bd862e3fe1be46a9;Parent=53995c3f42cd8ad8;Sampled=0",
                now.as_secs() & 0xffff_ffff
            ),
            function_arn: "arn:aws:lambda:us-east-1:123456789012:function:test-function".to_owned(),
        }
    }

    /// The same event with another deadline (milliseconds since the epoch).
    pub fn deadline_ms(mut self, deadline_ms: u64) -> Queued {
        self.deadline_ms = deadline_ms;
        self
    }

    /// The same event with another X-Ray trace header (`Lambda-Runtime-Trace-Id`):
    /// the default one is not sampled.
    pub fn trace_id(mut self, header: impl Into<String>) -> Queued {
        self.trace_id = header.into();
        self
    }
}

/// Where the function posted an invocation's outcome.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Response,
    Error,
}

/// One post from the function.
#[derive(Clone, Debug)]
pub struct Post {
    pub request_id: String,
    pub outcome: Outcome,
    pub body: Vec<u8>,
    /// The `Lambda-Runtime-Function-Error-Type` header of an error post.
    pub error_type_header: Option<String>,
    /// The request headers of the post, in order.
    pub headers: Vec<(String, String)>,
    /// The chunks of a chunked (streamed) body, as they arrived; empty otherwise.
    pub chunks: Vec<Vec<u8>>,
    /// The HTTP trailers after a chunked body.
    pub trailers: Vec<(String, String)>,
}

impl Post {
    /// The value of a request header of the post, any case.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    /// The body as JSON; panics with the body if it is not.
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|error| panic!("post for {} is not JSON ({error}): {}", self.request_id, self.text()))
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The JSON body of a successful response; panics (showing the error) otherwise.
    pub fn response(&self) -> Value {
        assert_eq!(
            self.outcome,
            Outcome::Response,
            "{} failed: {}",
            self.request_id,
            self.text()
        );
        self.json()
    }

    /// `(errorType, errorMessage)` of an error post; panics otherwise.
    pub fn error(&self) -> (String, String) {
        assert_eq!(
            self.outcome,
            Outcome::Error,
            "{} did not fail: {}",
            self.request_id,
            self.text()
        );
        let body = self.json();
        let field = |name: &str| {
            body[name]
                .as_str()
                .unwrap_or_else(|| panic!("error post without {name}: {body}"))
                .to_owned()
        };
        (field("errorType"), field("errorMessage"))
    }
}

#[derive(Default)]
struct Shared {
    posts: Mutex<Posts>,
    posted: Condvar,
}

#[derive(Default)]
struct Posts {
    list: Vec<Post>,
    init_errors: Vec<String>,
}

/// The server. Dropping it stops it.
pub struct RuntimeApi {
    addr: SocketAddr,
    shared: Arc<Shared>,
    queue: mpsc::UnboundedSender<Queued>,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl RuntimeApi {
    /// Starts a server on a free port of 127.0.0.1, on a thread of its own.
    pub fn start() -> RuntimeApi {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        listener.set_nonblocking(true).expect("non-blocking listener");
        let addr = listener.local_addr().expect("bound address");
        let shared = Arc::new(Shared::default());
        let (queue, events) = mpsc::unbounded_channel();
        let (shutdown, stop) = oneshot::channel();

        let server_shared = Arc::clone(&shared);
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a tokio runtime for the server");
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).expect("tokio listener");
                let events = Arc::new(tokio::sync::Mutex::new(events));
                let accept = async {
                    while let Ok((stream, _)) = listener.accept().await {
                        let (events, shared) = (Arc::clone(&events), Arc::clone(&server_shared));
                        tokio::spawn(async move {
                            let _ = serve_connection(stream, events, shared).await;
                        });
                    }
                };
                tokio::select! {
                    _ = accept => {}
                    _ = stop => {}
                }
            });
            // Long polls still parked on `/next` are dropped, not waited for.
            runtime.shutdown_background();
        });

        RuntimeApi {
            addr,
            shared,
            queue,
            shutdown: Some(shutdown),
            thread: Some(thread),
        }
    }

    /// `host:port`, as the Lambda service sets `AWS_LAMBDA_RUNTIME_API`.
    pub fn address(&self) -> String {
        self.addr.to_string()
    }

    /// Sets the environment a function process needs to find this server: the Runtime
    /// API address and the function's name, memory and version.
    pub fn lambda_env(&self, command: &mut Command) {
        command
            .env("AWS_LAMBDA_RUNTIME_API", self.address())
            .env("AWS_LAMBDA_FUNCTION_NAME", "test-function")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env_remove("AWS_LAMBDA_MAX_CONCURRENCY")
            .env_remove("_X_AMZN_TRACE_ID")
            .env_remove("POWERTOOLS_TRACE_MIDDLEWARES");
    }

    /// Queues an event for the next `/next` request.
    pub fn queue(&self, event: Queued) {
        self.queue.send(event).expect("the server is running");
    }

    /// Waits until `count` posts have arrived in all, and returns them in arrival order.
    /// Panics after `timeout`, or as soon as the function process exits or reports an
    /// init error, with what it printed.
    pub fn wait_for_posts(&self, count: usize, timeout: Duration, function: &mut Running) -> Vec<Post> {
        let start = Instant::now();
        let mut posts = self.shared.posts.lock().unwrap();
        loop {
            if !posts.init_errors.is_empty() {
                panic!(
                    "the function reported an init error: {:?}\nits output:\n{}",
                    posts.init_errors,
                    function.output()
                );
            }
            if posts.list.len() >= count {
                return posts.list.clone();
            }
            if let Some(status) = function.exited() {
                panic!(
                    "the function exited ({status}) after {} of {count} posts; its output:\n{}",
                    posts.list.len(),
                    function.output()
                );
            }
            if start.elapsed() > timeout {
                panic!(
                    "{} of {count} posts within {timeout:?}; the function's output:\n{}",
                    posts.list.len(),
                    function.output()
                );
            }
            posts = self
                .shared
                .posted
                .wait_timeout(posts, Duration::from_millis(50))
                .unwrap()
                .0;
        }
    }

    /// The posts so far, by request id; panics if one request id was posted twice.
    pub fn posts_by_request_id(&self) -> HashMap<String, Post> {
        let posts = self.shared.posts.lock().unwrap();
        let mut by_id = HashMap::new();
        for post in &posts.list {
            if let Some(previous) = by_id.insert(post.request_id.clone(), post.clone()) {
                panic!("{} was posted twice: {previous:?} and {post:?}", post.request_id);
            }
        }
        by_id
    }
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

struct Request {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    chunks: Vec<Vec<u8>>,
    trailers: Vec<(String, String)>,
}

impl Request {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }
}

async fn serve_connection(
    stream: TcpStream,
    events: Arc<tokio::sync::Mutex<mpsc::UnboundedReceiver<Queued>>>,
    shared: Arc<Shared>,
) -> io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut reader = BufReader::new(read);
    while let Some(request) = read_request(&mut reader).await? {
        let response = route(request, &events, &shared).await;
        write.write_all(&response).await?;
        write.flush().await?;
    }
    Ok(())
}

const PREFIX: &str = "/2018-06-01/runtime/";

async fn route(
    request: Request,
    events: &tokio::sync::Mutex<mpsc::UnboundedReceiver<Queued>>,
    shared: &Shared,
) -> Vec<u8> {
    let path = request.path.strip_prefix(PREFIX).unwrap_or("");
    match (request.method.as_str(), path) {
        ("GET", "invocation/next") => {
            // A long poll, as on Lambda: parked until an event is queued. Concurrent
            // pollers take turns on the receiver.
            let next = events.lock().await.recv().await;
            let Some(event) = next else {
                return std::future::pending().await;
            };
            let mut head = format!(
                "HTTP/1.1 200 OK\r\n\
                 Content-Type: application/json\r\n\
                 Lambda-Runtime-Aws-Request-Id: {}\r\n\
                 Lambda-Runtime-Deadline-Ms: {}\r\n\
                 Lambda-Runtime-Invoked-Function-Arn: {}\r\n\
                 Lambda-Runtime-Trace-Id: {}\r\n\
                 Content-Length: {}\r\n\r\n",
                event.request_id,
                event.deadline_ms,
                event.function_arn,
                event.trace_id,
                event.body.len()
            )
            .into_bytes();
            head.extend_from_slice(&event.body);
            head
        }
        // SnapStart (`AWS_LAMBDA_INITIALIZATION_TYPE=snap-start`): init is done, and the
        // snapshot is "restored" at once.
        ("GET", "restore/next") => b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n".to_vec(),
        ("POST", "init/error") => {
            let mut posts = shared.posts.lock().unwrap();
            posts
                .init_errors
                .push(String::from_utf8_lossy(&request.body).into_owned());
            shared.posted.notify_all();
            accepted()
        }
        ("POST", path) if path.starts_with("invocation/") => {
            let rest = &path["invocation/".len()..];
            let (request_id, outcome) = if let Some(id) = rest.strip_suffix("/response") {
                (id, Outcome::Response)
            } else if let Some(id) = rest.strip_suffix("/error") {
                (id, Outcome::Error)
            } else {
                return not_found();
            };
            let post = Post {
                request_id: request_id.to_owned(),
                outcome,
                error_type_header: request.header("Lambda-Runtime-Function-Error-Type").map(str::to_owned),
                body: request.body,
                headers: request.headers,
                chunks: request.chunks,
                trailers: request.trailers,
            };
            shared.posts.lock().unwrap().list.push(post);
            shared.posted.notify_all();
            accepted()
        }
        _ => not_found(),
    }
}

fn accepted() -> Vec<u8> {
    let body = r#"{"status":"OK"}"#;
    format!(
        "HTTP/1.1 202 Accepted\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

fn not_found() -> Vec<u8> {
    b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n".to_vec()
}

/// Reads one request; `None` when the client closed the connection.
async fn read_request<R: AsyncBufReadExt + AsyncReadExt + Unpin>(reader: &mut R) -> io::Result<Option<Request>> {
    let mut line = String::new();
    if reader.read_line(&mut line).await? == 0 {
        return Ok(None);
    }
    let mut parts = line.split_whitespace();
    let (Some(method), Some(path)) = (parts.next(), parts.next()) else {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("bad request line {line:?}"),
        ));
    };
    let (method, path) = (method.to_owned(), path.to_owned());

    let mut headers = Vec::new();
    loop {
        line.clear();
        if reader.read_line(&mut line).await? == 0 {
            return Ok(None);
        }
        let header = line.trim_end_matches(['\r', '\n']);
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            headers.push((name.trim().to_owned(), value.trim().to_owned()));
        }
    }
    let mut request = Request {
        method,
        path,
        headers,
        body: Vec::new(),
        chunks: Vec::new(),
        trailers: Vec::new(),
    };

    if let Some(length) = request.header("Content-Length") {
        let length: usize = length
            .parse()
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "bad Content-Length"))?;
        request.body.resize(length, 0);
        reader.read_exact(&mut request.body).await?;
    } else if request
        .header("Transfer-Encoding")
        .is_some_and(|value| value.eq_ignore_ascii_case("chunked"))
    {
        loop {
            line.clear();
            reader.read_line(&mut line).await?;
            let size = usize::from_str_radix(line.trim().split(';').next().unwrap_or(""), 16)
                .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "bad chunk size"))?;
            if size == 0 {
                // Trailers, then the empty line.
                loop {
                    line.clear();
                    if reader.read_line(&mut line).await? == 0 || line.trim().is_empty() {
                        break;
                    }
                    if let Some((name, value)) = line.trim_end_matches(['\r', '\n']).split_once(':') {
                        request.trailers.push((name.trim().to_owned(), value.trim().to_owned()));
                    }
                }
                break;
            }
            let start = request.body.len();
            request.body.resize(start + size, 0);
            reader.read_exact(&mut request.body[start..]).await?;
            request.chunks.push(request.body[start..].to_vec());
            line.clear();
            reader.read_line(&mut line).await?; // the CRLF after the chunk
        }
    }
    Ok(Some(request))
}

/// Names the function the child process runs.
pub const FUNCTION_ENV: &str = "TEST_LAMBDA_FUNCTION";

/// The body of the ignored `lambda_function` test of a file whose tests start function
/// processes ([`start_function`]): runs `functions(name)` for the function named by
/// [`FUNCTION_ENV`] on a Tokio runtime with `workers` threads (1: the current thread),
/// and fails if it ever returns — the run loop serves until the test kills the process.
/// Run by hand (`--include-ignored`), with no function named, it does nothing.
pub fn serve_function<F, Fut>(workers: usize, functions: F)
where
    F: FnOnce(String) -> Fut,
    Fut: std::future::Future<Output = Result<(), lambda_runtime::Error>>,
{
    let Ok(name) = std::env::var(FUNCTION_ENV) else {
        return;
    };
    let mut builder = if workers <= 1 {
        tokio::runtime::Builder::new_current_thread()
    } else {
        let mut builder = tokio::runtime::Builder::new_multi_thread();
        builder.worker_threads(workers);
        builder
    };
    let runtime = builder.enable_all().build().expect("a tokio runtime");
    let result = runtime.block_on(functions(name));
    panic!(
        "the function {} stopped: {result:?}",
        std::env::var(FUNCTION_ENV).unwrap_or_default()
    );
}

/// Generous: a few invocations take milliseconds; this only bounds a hung test.
pub const TIMEOUT: Duration = Duration::from_secs(120);

/// Starts this same test binary again as the function process `name`, running only the
/// ignored test `lambda_function` (which picks the function from [`FUNCTION_ENV`]),
/// pointed at `api`, with `env` added to its environment.
pub fn start_function(name: &str, api: &RuntimeApi, env: &[(&str, &str)]) -> Running {
    let mut command = Command::new(std::env::current_exe().expect("the test binary's path"));
    command.args([
        "lambda_function",
        "--exact",
        "--ignored",
        "--nocapture",
        "--test-threads=1",
    ]);
    api.lambda_env(&mut command);
    command.env(FUNCTION_ENV, name);
    for (key, value) in env {
        command.env(key, value);
    }
    Running::spawn(name, command)
}
