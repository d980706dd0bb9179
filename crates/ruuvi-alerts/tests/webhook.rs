//! A webhook against a real HTTP server on 127.0.0.1: the seed's push payload field by field,
//! retries after a server error, a refusal not retried, and the delivery log.

use parking_lot::Mutex;
use std::sync::Arc;
use std::time::Duration;

use ruuvi_alerts::{deliver, AlertStore, AlertType, Fired, TriggerType, Webhook};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Answers each request with the next status of `answers` and keeps the JSON bodies.
async fn server(answers: Vec<u16>) -> (String, Arc<Mutex<Vec<(String, Value)>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hooks/ruuvi", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let kept = seen.clone();
    tokio::spawn(async move {
        for status in answers {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            // Read the head, then the body by its Content-Length.
            let (head, body) = loop {
                let n = socket.read(&mut chunk).await.unwrap();
                buf.extend_from_slice(&chunk[..n]);
                if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                    let head = String::from_utf8_lossy(&buf[..i]).to_string();
                    let length: usize = head
                        .lines()
                        .find_map(|l| {
                            let (k, v) = l.split_once(':')?;
                            k.eq_ignore_ascii_case("content-length")
                                .then(|| v.trim().parse().ok())?
                        })
                        .unwrap_or(0);
                    while buf.len() < i + 4 + length {
                        let n = socket.read(&mut chunk).await.unwrap();
                        buf.extend_from_slice(&chunk[..n]);
                    }
                    break (head, buf[i + 4..i + 4 + length].to_vec());
                }
            };
            kept.lock()
                .push((head, serde_json::from_slice(&body).unwrap()));
            let reply =
                format!("HTTP/1.1 {status} X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
            socket.write_all(reply.as_bytes()).await.unwrap();
        }
    });
    (url, seen)
}

fn fired() -> Fired {
    Fired {
        rule_id: 3,
        sensor: "C8:25:2D:8E:9C:2C".parse().unwrap(),
        name: "Sauna".into(),
        alert_type: AlertType::Temperature,
        trigger: TriggerType::Over,
        current: 80.25,
        threshold: 80.0,
        unit: "C".into(),
        text: "The sauna is ready".into(),
        at_ms: 1_800_000_000_000,
    }
}

fn hook(url: &str) -> Webhook {
    Webhook {
        first_pause: Duration::from_millis(20),
        timeout: Duration::from_secs(5),
        ..Webhook::new(url)
    }
}

#[tokio::test]
async fn the_payload_arrives_field_by_field_after_a_retry() {
    let (url, seen) = server(vec![503, 200]).await;
    let attempts = deliver(&hook(&url), &fired()).await;
    assert_eq!(attempts.len(), 2, "{attempts:?}");
    assert_eq!(
        (attempts[0].status, attempts[1].status),
        (Some(503), Some(200))
    );
    assert!(attempts[0].error.is_some() && attempts[1].error.is_none());

    let seen = seen.lock();
    let (head, p) = &seen[1];
    assert!(head.starts_with("POST /hooks/ruuvi HTTP/1.1"), "{head}");
    assert!(
        head.to_ascii_lowercase()
            .contains("content-type: application/json"),
        "{head}"
    );
    assert_eq!(seen[0].1, *p, "a retry sends the same payload");
    assert_eq!(p["notification"]["title"], "Ruuvi Temperature alert: Sauna");
    assert_eq!(p["notification"]["body"], "The sauna is ready");
    assert_eq!(p["alert"]["title-loc-key"], "RUUVI_Temperature");
    assert_eq!(p["alert"]["title-loc-args"], json!(["Temperature", "Over"]));
    assert_eq!(p["alert"]["loc-key"], "RUUVI_Temperature_Over");
    assert_eq!(
        p["alert"]["loc-args"],
        json!(["Sauna", "80.25", "C", "80", "C"])
    );
    assert_eq!(p["content_available"], 1);
    assert_eq!(p["mutable-content"], 1);
    assert_eq!(p["token"], "");
    assert_eq!(p["email"], "");
    assert_eq!(p["type"], "alert");
    assert_eq!(p["data"]["name"], "Sauna");
    assert_eq!(p["data"]["id"], "C8:25:2D:8E:9C:2C");
    assert_eq!(p["data"]["alertType"], "Temperature");
    assert_eq!(p["data"]["triggerType"], "Over");
    assert_eq!(p["data"]["currentValue"], "80.25");
    assert_eq!(p["data"]["thresholdValue"], "80");
    assert_eq!(p["data"]["alertUnit"], "C");
    assert_eq!(p["data"]["alertData"], "The sauna is ready");
    assert_eq!(p.as_object().unwrap().len(), 8, "nothing more: {p}");

    // The delivery log keeps both attempts of the alert.
    let mut store = AlertStore::open_in_memory().unwrap();
    let id = store.record(&fired()).unwrap();
    store.log_delivery(id, &attempts).unwrap();
    assert_eq!(store.deliveries(id).unwrap(), attempts);
}

#[tokio::test]
async fn a_refusal_is_not_retried_and_an_absent_server_is_retried_to_the_end() {
    let (url, seen) = server(vec![400]).await;
    let attempts = deliver(&hook(&url), &fired()).await;
    assert_eq!(attempts.len(), 1);
    assert_eq!(attempts[0].status, Some(400));
    assert_eq!(seen.lock().len(), 1);

    // Nobody listens on this port (bound, then closed): every attempt fails, none hangs.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let attempts = deliver(&hook(&format!("http://127.0.0.1:{port}/x")), &fired()).await;
    assert_eq!(attempts.len(), 4);
    assert!(attempts
        .iter()
        .all(|a| a.status.is_none() && a.error.is_some()));
}
