//! Delivering a fired alert to a webhook: the seed's push payload POSTed as JSON, retried
//! with growing pauses on a network error or a 5xx/429 answer, every attempt kept in the
//! delivery log.

use std::time::Duration;

use crate::{push_payload, Fired};

#[derive(Debug, Clone)]
pub struct Webhook {
    pub url: String,
    /// Attempts in all (at least 1).
    pub attempts: u32,
    /// The pause before the second attempt; doubled for each later one.
    pub first_pause: Duration,
    pub timeout: Duration,
}

impl Webhook {
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            attempts: 4,
            first_pause: Duration::from_secs(2),
            timeout: Duration::from_secs(10),
        }
    }
}

/// One delivery attempt, for the log.
#[derive(Debug, Clone, PartialEq, serde::Serialize, ts_rs::TS)]
pub struct Attempt {
    pub attempt: u32,
    pub at_ms: i64,
    /// The HTTP status answered (`None`: no answer).
    pub status: Option<u16>,
    /// What went wrong (`None`: delivered).
    pub error: Option<String>,
}

use ruuvi_protocol::clock::now_ms;

/// POSTs `fired` until it is taken (2xx) or the attempts run out; returns every attempt.
/// A 4xx other than 429 is not retried: the same request would be refused again.
pub async fn deliver(webhook: &Webhook, fired: &Fired) -> Vec<Attempt> {
    let client = match reqwest::Client::builder().timeout(webhook.timeout).build() {
        Ok(c) => c,
        Err(e) => {
            return vec![Attempt {
                attempt: 1,
                at_ms: now_ms(),
                status: None,
                error: Some(format!("no HTTP client: {e}")),
            }]
        }
    };
    let body = push_payload(fired, "", "").to_string();
    let mut attempts = Vec::new();
    let mut pause = webhook.first_pause;
    for attempt in 1..=webhook.attempts.max(1) {
        if attempt > 1 {
            tokio::time::sleep(pause).await;
            pause *= 2;
        }
        let at_ms = now_ms();
        let result = client
            .post(&webhook.url)
            .header("Content-Type", "application/json")
            .body(body.clone())
            .send()
            .await;
        let (status, error, retry) = match result {
            Ok(r) if r.status().is_success() => (Some(r.status().as_u16()), None, false),
            Ok(r) => {
                let s = r.status();
                let retry = s.is_server_error() || s.as_u16() == 429;
                (Some(s.as_u16()), Some(format!("answered {s}")), retry)
            }
            Err(e) => (None, Some(e.to_string()), true),
        };
        attempts.push(Attempt {
            attempt,
            at_ms,
            status,
            error: error.clone(),
        });
        match error {
            None => break,
            Some(e) if !retry => {
                tracing::warn!(url = %webhook.url, "webhook refused the alert: {e}");
                break;
            }
            Some(e) => tracing::info!(url = %webhook.url, attempt, "webhook: {e}"),
        }
    }
    attempts
}
