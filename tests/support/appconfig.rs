//! A stand-in for the AppConfigData API on 127.0.0.1, following its API reference: moto
//! has no AppConfigData data plane, so the `AppConfigProvider` tests run against this.
//!
//! - `POST /configurationsessions` (StartConfigurationSession), a JSON body naming the
//!   application, environment and profile and an optional
//!   `RequiredMinimumPollIntervalInSeconds`: 201 with `InitialConfigurationToken`, or
//!   404 `ResourceNotFoundException` for a profile it does not have.
//! - `GET /configuration?configuration_token=…` (GetLatestConfiguration): 200 with the
//!   headers `Next-Poll-Configuration-Token`, `Next-Poll-Interval-In-Seconds` (the
//!   session's minimum, 60 by default) and `Content-Type`, and the configuration as
//!   the body — empty when the session has already seen this version. Each token is
//!   good for one call: a used or unknown one is 400 `BadRequestException`.
//!
//! It counts the requests by operation and can deny, slow down, or expire every token.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// (application, environment, profile).
type Profile = (String, String, String);

/// A deployed configuration: its version, content type and content.
type Deployed = (u64, String, Vec<u8>);

#[derive(Default)]
struct State {
    profiles: HashMap<Profile, Deployed>,
    /// Live tokens → (profile, the version the session has seen, its poll interval).
    tokens: HashMap<String, (Profile, u64, u64)>,
    next_token: u64,
    seen: Vec<String>,
    delay: Option<Duration>,
    deny: bool,
}

/// The stand-in. It runs until the test process ends.
#[derive(Clone)]
pub struct AppConfigData {
    port: u16,
    state: Arc<Mutex<State>>,
}

impl AppConfigData {
    pub fn start() -> AppConfigData {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let state = Arc::new(Mutex::new(State::default()));
        let shared = Arc::clone(&state);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let state = Arc::clone(&shared);
                std::thread::spawn(move || serve(stream, &state));
            }
        });
        AppConfigData { port, state }
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Deploys `content` as a new version of the profile.
    pub fn deploy(&self, application: &str, environment: &str, profile: &str, content_type: &str, content: &str) {
        let mut state = self.state.lock().unwrap();
        let key = (application.to_owned(), environment.to_owned(), profile.to_owned());
        let version = state.profiles.get(&key).map_or(1, |(version, _, _)| version + 1);
        state
            .profiles
            .insert(key, (version, content_type.to_owned(), content.as_bytes().to_vec()));
    }

    /// The operations received since the last call (`StartConfigurationSession`,
    /// `GetLatestConfiguration`).
    pub fn take(&self) -> Vec<String> {
        std::mem::take(&mut self.state.lock().unwrap().seen)
    }

    pub fn delay(&self, delay: Option<Duration>) {
        self.state.lock().unwrap().delay = delay;
    }

    pub fn deny(&self, deny: bool) {
        self.state.lock().unwrap().deny = deny;
    }

    /// Forgets every token, as after 24 hours.
    pub fn expire_tokens(&self) {
        self.state.lock().unwrap().tokens.clear();
    }
}

fn serve(stream: TcpStream, state: &Mutex<State>) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut stream = stream;
    loop {
        let mut request_line = String::new();
        if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
            return;
        }
        let mut length = 0;
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            if line.trim().is_empty() {
                break;
            }
            if let Some((name, value)) = line.split_once(':') {
                if name.trim().eq_ignore_ascii_case("content-length") {
                    length = value.trim().parse().unwrap_or(0);
                }
            }
        }
        let mut body = vec![0; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let answer = answer(&request_line, &body, state);
        if stream.write_all(&answer).is_err() {
            return;
        }
    }
}

fn response(status: &str, headers: &[(&str, String)], body: &[u8]) -> Vec<u8> {
    let mut head = format!("HTTP/1.1 {status}\r\nContent-Length: {}\r\n", body.len());
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    let mut out = head.into_bytes();
    out.extend_from_slice(body);
    out
}

fn error(status: &str, code: &str, message: &str) -> Vec<u8> {
    let body = serde_json::json!({ "Message": message }).to_string();
    response(
        status,
        &[
            ("Content-Type", "application/json".to_owned()),
            ("x-amzn-ErrorType", code.to_owned()),
        ],
        body.as_bytes(),
    )
}

fn answer(request_line: &str, body: &[u8], state: &Mutex<State>) -> Vec<u8> {
    let mut parts = request_line.split_whitespace();
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let operation = match (method, target.split('?').next().unwrap_or("")) {
        ("POST", "/configurationsessions") => "StartConfigurationSession",
        ("GET", "/configuration") => "GetLatestConfiguration",
        _ => return error("404 Not Found", "UnknownOperationException", target),
    };
    let delay = {
        let mut state = state.lock().unwrap();
        state.seen.push(operation.to_owned());
        state.delay
    };
    if let Some(delay) = delay {
        std::thread::sleep(delay);
    }
    let mut state = state.lock().unwrap();
    if state.deny {
        return error(
            "403 Forbidden",
            "AccessDeniedException",
            "User is not authorized to perform: appconfig:StartConfigurationSession",
        );
    }
    match operation {
        "StartConfigurationSession" => {
            let request: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
            let field = |name: &str| request[name].as_str().unwrap_or_default().to_owned();
            let key = (
                field("ApplicationIdentifier"),
                field("EnvironmentIdentifier"),
                field("ConfigurationProfileIdentifier"),
            );
            if !state.profiles.contains_key(&key) {
                return error(
                    "404 Not Found",
                    "ResourceNotFoundException",
                    "Requested resource not found",
                );
            }
            let interval = request["RequiredMinimumPollIntervalInSeconds"].as_u64().unwrap_or(60);
            state.next_token += 1;
            let token = format!("token-{}", state.next_token);
            state.tokens.insert(token.clone(), (key, 0, interval));
            let body = serde_json::json!({ "InitialConfigurationToken": token }).to_string();
            response(
                "201 Created",
                &[("Content-Type", "application/json".to_owned())],
                body.as_bytes(),
            )
        }
        _ => {
            let token = target
                .split_once("configuration_token=")
                .map(|(_, token)| token)
                .unwrap_or("");
            let Some((key, seen, interval)) = state.tokens.remove(token) else {
                return error("400 Bad Request", "BadRequestException", "Token is invalid or expired");
            };
            let (version, content_type, content) = state.profiles[&key].clone();
            state.next_token += 1;
            let next = format!("token-{}", state.next_token);
            state.tokens.insert(next.clone(), (key, version, interval));
            let body = if version > seen { content } else { Vec::new() };
            response(
                "200 OK",
                &[
                    ("Next-Poll-Configuration-Token", next),
                    ("Next-Poll-Interval-In-Seconds", interval.to_string()),
                    ("Content-Type", content_type),
                    ("Version-Label", format!("v{version}")),
                ],
                &body,
            )
        }
    }
}
