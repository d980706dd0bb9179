//! Remote configuration served to gateways (gateway-local-api §5.13/§5.15): a gateway with
//! `remote_cfg_url` = `https://<us>:<port>/gw-cfg/` downloads `/gw-cfg/<MAC without
//! colons>.json`, then `/gw-cfg/gw_cfg.json`, with a bearer token and header `ruuvi_gw_mac`.
//! The documents hold the gateways' secrets (tokens, passwords), so they are handed out only
//! over TLS and only with the token; every download (or refusal) is logged for the UI.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;

use hyper::StatusCode;
use parking_lot::Mutex;
use ruuvi_protocol::MacAddress;
use ruuvi_secrets::Sensitive;

use crate::policy::constant_time_eq;

/// Where the documents live on the receiver's listener.
pub const CONFIG_PATH: &str = "/gw-cfg/";
/// The file every gateway falls back to (§5.13).
pub const SHARED_FILE: &str = "gw_cfg.json";
const FETCHES_KEPT: usize = 500;

/// The file a gateway asks for first.
pub fn file_for(gateway: MacAddress) -> String {
    format!("{}.json", gateway.to_string().replace(':', ""))
}

/// One published document.
#[derive(Clone)]
pub struct Published {
    pub body: Sensitive<String>,
    /// Counts up with every publication of this file.
    pub version: u32,
    pub published_at_ms: i64,
}

/// One download attempt, as the page shows it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Fetch {
    pub at_ms: i64,
    pub peer: String,
    /// The `ruuvi_gw_mac` header (what the gateway says it is).
    pub gateway: Option<String>,
    pub file: String,
    pub status: u16,
    /// The version handed out (200 only).
    pub version: Option<u32>,
}

#[derive(Default)]
struct Inner {
    token: Option<Sensitive<String>>,
    files: HashMap<String, Published>,
    fetches: VecDeque<Fetch>,
}

/// The documents on offer, the token that unlocks them and the download log.
#[derive(Default)]
pub struct ServedConfigs {
    inner: Mutex<Inner>,
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// `<12 hex>.json` or `gw_cfg.json`: anything else is not ours to look up.
fn valid_file(name: &str) -> bool {
    name == SHARED_FILE
        || name
            .strip_suffix(".json")
            .is_some_and(|m| m.len() == 12 && m.bytes().all(|b| b.is_ascii_hexdigit()))
}

impl ServedConfigs {
    /// The bearer token gateways must send; `None` serves nothing.
    pub fn set_token(&self, token: Option<Sensitive<String>>) {
        self.inner.lock().token = token;
    }

    /// Offers `body` as `file` (a new version); returns the version.
    pub fn publish(&self, file: &str, body: Sensitive<String>) -> u32 {
        let mut inner = self.inner.lock();
        let version = inner.files.get(file).map_or(1, |p| p.version + 1);
        inner.files.insert(
            file.to_string(),
            Published {
                body,
                version,
                published_at_ms: now_ms(),
            },
        );
        version
    }

    /// Offers a document as it was published before (read back at start).
    pub fn restore(&self, file: &str, published: Published) {
        self.inner.lock().files.insert(file.to_string(), published);
    }

    pub fn withdraw(&self, file: &str) -> bool {
        self.inner.lock().files.remove(file).is_some()
    }

    pub fn published(&self, file: &str) -> Option<Published> {
        self.inner.lock().files.get(file).cloned()
    }

    /// `(file, version, published at)` of every document, by file name.
    pub fn files(&self) -> Vec<(String, u32, i64)> {
        let mut out: Vec<_> = self
            .inner
            .lock()
            .files
            .iter()
            .map(|(f, p)| (f.clone(), p.version, p.published_at_ms))
            .collect();
        out.sort();
        out
    }

    /// The download log, newest first.
    pub fn fetches(&self) -> Vec<Fetch> {
        self.inner.lock().fetches.iter().rev().cloned().collect()
    }

    /// The answer to `GET <path>` (`path` below [`CONFIG_PATH`]): the status and, on 200, the
    /// document. `tls` false refuses: the documents carry secrets.
    pub fn answer(
        &self,
        file: &str,
        authorization: Option<&str>,
        gateway: Option<&str>,
        peer: IpAddr,
        tls: bool,
    ) -> (StatusCode, Option<String>) {
        let mut inner = self.inner.lock();
        let authorised = match (&inner.token, authorization) {
            (Some(token), Some(h)) => h
                .strip_prefix("Bearer ")
                .is_some_and(|t| constant_time_eq(t.as_bytes(), token.expose().as_bytes())),
            _ => false,
        };
        let (status, served) = if !tls {
            (StatusCode::FORBIDDEN, None)
        } else if !authorised {
            (StatusCode::UNAUTHORIZED, None)
        } else if !valid_file(file) {
            (StatusCode::NOT_FOUND, None)
        } else {
            match inner.files.get(file) {
                Some(p) => (StatusCode::OK, Some(p.clone())),
                None => (StatusCode::NOT_FOUND, None),
            }
        };
        // A stranger's file names are not echoed into the log in full.
        let logged_file: String = file.chars().take(40).collect();
        let gateway = gateway.map(|g| g.chars().take(40).collect());
        inner.fetches.push_back(Fetch {
            at_ms: now_ms(),
            peer: peer.to_string(),
            gateway,
            file: logged_file,
            status: status.as_u16(),
            version: served.as_ref().map(|p| p.version),
        });
        while inner.fetches.len() > FETCHES_KEPT {
            inner.fetches.pop_front();
        }
        (status, served.map(|p| p.body.expose().clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PEER: IpAddr = IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);

    fn served() -> ServedConfigs {
        let s = ServedConfigs::default();
        s.set_token(Some(Sensitive::new("tok".into())));
        s
    }

    #[test]
    fn a_published_file_is_served_with_the_token_and_counted() {
        let s = served();
        let mac: MacAddress = "C8:25:2D:8E:9C:2C".parse().unwrap();
        let file = file_for(mac);
        assert_eq!(file, "C8252D8E9C2C.json");
        assert_eq!(s.publish(&file, Sensitive::new("{\"a\":1}".into())), 1);
        assert_eq!(s.publish(&file, Sensitive::new("{\"a\":2}".into())), 2);
        let (status, body) = s.answer(
            &file,
            Some("Bearer tok"),
            Some("C8:25:2D:8E:9C:2C"),
            PEER,
            true,
        );
        assert_eq!(
            (status, body.as_deref()),
            (StatusCode::OK, Some("{\"a\":2}"))
        );
        let log = s.fetches();
        assert_eq!(log[0].version, Some(2));
        assert_eq!(log[0].gateway.as_deref(), Some("C8:25:2D:8E:9C:2C"));
    }

    #[test]
    fn no_token_a_wrong_token_plain_http_or_an_odd_name_get_nothing() {
        let s = served();
        s.publish(SHARED_FILE, Sensitive::new("{}".into()));
        for (file, auth, tls, status) in [
            (SHARED_FILE, None, true, 401),
            (SHARED_FILE, Some("Bearer to"), true, 401),
            (SHARED_FILE, Some("Basic tok"), true, 401),
            (SHARED_FILE, Some("Bearer tok"), false, 403),
            ("../secrets.json", Some("Bearer tok"), true, 404),
            ("C8252D8E9C2C.json", Some("Bearer tok"), true, 404),
        ] {
            let (got, body) = s.answer(file, auth, None, PEER, tls);
            assert_eq!(
                (got.as_u16(), body),
                (status, None),
                "{file} {auth:?} {tls}"
            );
        }
        // Without a token nothing is served at all.
        s.set_token(None);
        assert_eq!(
            s.answer(SHARED_FILE, Some("Bearer tok"), None, PEER, true)
                .0,
            401
        );
        assert_eq!(s.fetches().len(), 7);
    }

    #[test]
    fn the_log_keeps_the_newest() {
        let s = served();
        for _ in 0..FETCHES_KEPT + 10 {
            s.answer(&"x".repeat(100), None, Some(&"y".repeat(100)), PEER, true);
        }
        let log = s.fetches();
        assert_eq!(log.len(), FETCHES_KEPT);
        assert_eq!(log[0].file.len(), 40);
    }
}
