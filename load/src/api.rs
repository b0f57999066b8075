//! The HTTP side: one pooled client, every call timed into a recorder, and the bank's way of retrying.

use crate::stats::Recorder;
use reqwest::{Client, Method};
use serde_json::Value;
use std::fmt;
use std::time::{Duration, Instant};

pub struct Api {
    client: Client,
    base: String,
}

/// A 2xx answer.
#[derive(Debug, Clone)]
pub struct Resp {
    pub status: u16,
    pub body: Value,
    /// The server said `Idempotent-Replayed: true`.
    pub replayed: bool,
}

#[derive(Debug, Clone)]
pub enum Failure {
    /// The server answered with a non-2xx status (its problem code, if any).
    Status { status: u16, code: String, detail: String },
    /// No answer: connection refused or reset, timeout.
    Transport(String),
    /// A 2xx answer without something this generator needs from it.
    Unexpected(String),
}

impl Failure {
    pub fn is_transport(&self) -> bool {
        matches!(self, Failure::Transport(_))
    }

    /// The HTTP status of a refusal, if the service answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            Failure::Status { status, .. } => Some(*status),
            _ => None,
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Status { status, code, detail } => write!(f, "{status} {code}: {detail}"),
            Failure::Transport(e) => write!(f, "no answer: {e}"),
            Failure::Unexpected(e) => write!(f, "unexpected answer: {e}"),
        }
    }
}

impl std::error::Error for Failure {}

pub fn str_field(body: &Value, field: &str) -> Result<String, Failure> {
    body[field]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| Failure::Unexpected(format!("no `{field}` in {}", truncate(&body.to_string(), 300))))
}

pub fn truncate(s: &str, n: usize) -> String {
    if s.len() <= n {
        return s.to_string();
    }
    let mut end = n;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

fn transport_kind(e: &reqwest::Error) -> &'static str {
    if e.is_timeout() {
        "timeout"
    } else if e.is_connect() {
        "connect"
    } else if e.is_body() || e.is_decode() {
        "body"
    } else {
        "request"
    }
}

impl Api {
    pub fn new(base: &str, timeout: Duration, max_idle: usize) -> anyhow::Result<Api> {
        let client = Client::builder()
            .timeout(timeout)
            .connect_timeout(Duration::from_secs(5))
            .pool_max_idle_per_host(max_idle)
            .tcp_nodelay(true)
            .build()?;
        Ok(Api { client, base: base.trim_end_matches('/').to_string() })
    }

    /// One request, timed under `op` in `rec`; a non-2xx answer or no answer is an error recorded by label.
    #[allow(clippy::too_many_arguments)]
    pub async fn call(
        &self,
        rec: &Recorder,
        op: &'static str,
        method: Method,
        path: &str,
        token: Option<&str>,
        key: Option<&str>,
        body: Option<&Value>,
    ) -> Result<Resp, Failure> {
        let mut b = self.client.request(method, format!("{}{}", self.base, path));
        if let Some(t) = token {
            b = b.bearer_auth(t);
        }
        if let Some(k) = key {
            b = b.header("Idempotency-Key", k);
        }
        if let Some(j) = body {
            b = b.json(j);
        }
        let started = Instant::now();
        let answer = async {
            let r = b.send().await?;
            let status = r.status().as_u16();
            let replayed = r.headers().get("idempotent-replayed").is_some_and(|v| v.as_bytes() == b"true");
            let bytes = r.bytes().await?;
            Ok::<_, reqwest::Error>((status, replayed, bytes))
        }
        .await;
        let elapsed = started.elapsed();
        match answer {
            Err(e) => {
                let kind = transport_kind(&e);
                rec.record(op, elapsed, Some(format!("no answer ({kind})")));
                Err(Failure::Transport(format!("{kind}: {e}")))
            }
            Ok((status, replayed, bytes)) => {
                let body = if bytes.is_empty() {
                    Value::Null
                } else {
                    serde_json::from_slice(&bytes)
                        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
                };
                if (200..300).contains(&status) {
                    rec.record(op, elapsed, None);
                    Ok(Resp { status, body, replayed })
                } else {
                    let code = body["code"].as_str().unwrap_or("-").to_string();
                    let detail =
                        body["detail"].as_str().map_or_else(|| truncate(&body.to_string(), 200), str::to_string);
                    rec.record(op, elapsed, Some(format!("{status} {code}")));
                    Err(Failure::Status { status, code, detail })
                }
            }
        }
    }

    /// A bank POST, retried like a bank does when it gets no answer or `503`: the same body under the same
    /// `Idempotency-Key`, a bounded number of times. `Err` with `is_transport()` means the outcome is unknown.
    pub async fn bank_post(
        &self,
        rec: &Recorder,
        op: &'static str,
        path: &str,
        token: &str,
        key: &str,
        body: &Value,
    ) -> Result<Resp, Failure> {
        const ATTEMPTS: u32 = 4;
        let mut last = Failure::Transport("not sent".into());
        for attempt in 1..=ATTEMPTS {
            match self.call(rec, op, Method::POST, path, Some(token), Some(key), Some(body)).await {
                Ok(r) => return Ok(r),
                Err(f @ Failure::Status { status: 503, .. }) | Err(f @ Failure::Transport(_)) => {
                    last = f;
                    if attempt < ATTEMPTS {
                        tokio::time::sleep(Duration::from_millis(100 * u64::from(attempt))).await;
                    }
                }
                Err(f) => return Err(f),
            }
        }
        Err(last)
    }
}
