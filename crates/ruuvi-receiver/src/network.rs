//! The Ruuvi Network Gateway API (ruuvi-network-api §2): posts signed with `x-ruuvi-timestamp`,
//! `x-ruuvi-nonce` and `x-ruuvi-signature`, accepted only from whitelisted gateways, inside a
//! time window, and each nonce only once (replays are refused).

use std::collections::{HashMap, VecDeque};

use ruuvi_protocol::MacAddress;
use ruuvi_secrets::Sensitive;

/// What the network knows of a whitelisted gateway (the `/gwinfo` fields, Unix seconds).
#[derive(Debug, Clone)]
pub struct WhitelistEntry {
    /// `deviceId + deviceAddr`: the HMAC key of its signatures.
    pub secret: Sensitive<String>,
    pub whitelisted_at: i64,
    pub blocked_at: Option<i64>,
    /// First accepted post after whitelisting.
    pub connected_at: Option<i64>,
    /// Latest accepted post.
    pub latest_at: Option<i64>,
    /// Latest post refused for its signature or timestamp.
    pub invalid_signature_at: Option<i64>,
}

/// Why a signed post was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignedRefusal {
    NotWhitelisted,
    Blocked,
    BadTimestamp,
    Replay,
    BadSignature,
}

/// The whitelist, the replay cache and the time window.
#[derive(Debug)]
pub struct Whitelist {
    entries: HashMap<MacAddress, WhitelistEntry>,
    /// (gateway, nonce, timestamp) of accepted posts, oldest first.
    seen: VecDeque<(MacAddress, String, i64)>,
    /// Accepted clock difference, seconds (default ±300).
    pub window_s: i64,
    /// Bumped whenever an entry changes, so a face knows when to save.
    pub version: u64,
}

impl Default for Whitelist {
    fn default() -> Self {
        Self {
            entries: HashMap::new(),
            seen: VecDeque::new(),
            window_s: 300,
            version: 0,
        }
    }
}

impl Whitelist {
    pub fn whitelist(&mut self, gateway: MacAddress, secret: Sensitive<String>, now_s: i64) {
        let entry = self.entries.entry(gateway).or_insert(WhitelistEntry {
            secret: secret.clone(),
            whitelisted_at: now_s,
            blocked_at: None,
            connected_at: None,
            latest_at: None,
            invalid_signature_at: None,
        });
        entry.secret = secret;
        self.version += 1;
    }

    /// An entry as it was saved (timestamps included).
    pub fn restore(&mut self, gateway: MacAddress, entry: WhitelistEntry) {
        self.entries.insert(gateway, entry);
        self.version += 1;
    }

    /// Every entry, in no particular order.
    pub fn entries(&self) -> impl Iterator<Item = (MacAddress, &WhitelistEntry)> {
        self.entries.iter().map(|(m, e)| (*m, e))
    }

    pub fn block(&mut self, gateway: MacAddress, now_s: i64) -> bool {
        match self.entries.get_mut(&gateway) {
            Some(e) => {
                e.blocked_at = Some(now_s);
                self.version += 1;
                true
            }
            None => false,
        }
    }

    pub fn get(&self, gateway: MacAddress) -> Option<&WhitelistEntry> {
        self.entries.get(&gateway)
    }

    /// Checks one signed post and records the outcome in the gateway's entry.
    pub fn check(
        &mut self,
        gateway: MacAddress,
        timestamp: &str,
        nonce: &str,
        signature: &str,
        body: &[u8],
        now_s: i64,
    ) -> Result<(), SignedRefusal> {
        let window = self.window_s.unsigned_abs();
        // Forget nonces that are outside the window: their posts are refused by time anyway.
        // (Accepted timestamps are anywhere in the window, so not in order: look at each.)
        self.seen
            .retain(|(_, _, t)| t.abs_diff(now_s) <= window.saturating_mul(2));
        let Some(entry) = self.entries.get_mut(&gateway) else {
            return Err(SignedRefusal::NotWhitelisted);
        };
        // Whatever happens below is noted in the entry.
        self.version += 1;
        if entry.blocked_at.is_some() {
            return Err(SignedRefusal::Blocked);
        }
        // `abs_diff`: any i64 a peer sends, i64::MIN included, neither overflows (a panic in a
        // debug build) nor wraps into the window (a release build).
        let ts = match timestamp.trim().parse::<i64>() {
            Ok(t) if t.abs_diff(now_s) <= window => t,
            _ => {
                entry.invalid_signature_at = Some(now_s);
                return Err(SignedRefusal::BadTimestamp);
            }
        };
        if !ruuvi_protocol::signature::verify_network_signature(
            entry.secret.expose(),
            nonce,
            timestamp,
            body,
            signature,
        ) {
            entry.invalid_signature_at = Some(now_s);
            return Err(SignedRefusal::BadSignature);
        }
        if self
            .seen
            .iter()
            .any(|(g, n, _)| *g == gateway && n == nonce)
        {
            return Err(SignedRefusal::Replay);
        }
        self.seen.push_back((gateway, nonce.to_string(), ts));
        entry.connected_at.get_or_insert(now_s);
        entry.latest_at = Some(now_s);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ruuvi_protocol::signature::{network_secret, network_signature};

    #[test]
    fn whitelist_window_replay_and_signature() {
        let gw: MacAddress = "C8:25:2D:8E:9C:2C".parse().unwrap();
        let secret = network_secret("00:11:22:33:44:55:66:77", "C8:25:2D:8E:9C:2C");
        let body = br#"{"data": {"gwmac": "C8:25:2D:8E:9C:2C", "tags": {}}}"#;
        let now = 1_795_000_000;
        let sig = |nonce: &str, ts: i64| network_signature(&secret, nonce, &ts.to_string(), body);
        let mut w = Whitelist::default();
        assert_eq!(
            w.check(gw, &now.to_string(), "1", &sig("1", now), body, now),
            Err(SignedRefusal::NotWhitelisted)
        );
        w.whitelist(gw, Sensitive::new(secret.clone()), now - 10);
        assert_eq!(
            w.check(gw, &now.to_string(), "1", &sig("1", now), body, now),
            Ok(())
        );
        assert_eq!(w.get(gw).unwrap().connected_at, Some(now));
        // The same nonce again: a replay.
        assert_eq!(
            w.check(gw, &now.to_string(), "1", &sig("1", now), body, now + 1),
            Err(SignedRefusal::Replay)
        );
        // Too old a timestamp, or a tampered body: refused and noted.
        let old = now - 301;
        assert_eq!(
            w.check(gw, &old.to_string(), "2", &sig("2", old), body, now),
            Err(SignedRefusal::BadTimestamp)
        );
        let mut tampered = body.to_vec();
        tampered[10] = b'X';
        assert_eq!(
            w.check(
                gw,
                &now.to_string(),
                "3",
                &sig("3", now),
                &tampered,
                now + 2
            ),
            Err(SignedRefusal::BadSignature)
        );
        assert_eq!(w.get(gw).unwrap().invalid_signature_at, Some(now + 2));
        // Upper-case hex is accepted; a blocked gateway is not.
        let upper = sig("4", now).to_uppercase();
        assert_eq!(
            w.check(gw, &now.to_string(), "4", &upper, body, now + 3),
            Ok(())
        );
        assert_eq!(w.get(gw).unwrap().latest_at, Some(now + 3));
        // Timestamps at the ends of i64 are outside any window (debug and release alike).
        for extreme in [i64::MIN, i64::MIN + 1, -9_223_372_036_854_775_807, i64::MAX] {
            assert_eq!(
                w.check(gw, &extreme.to_string(), "6", &sig("6", extreme), body, now),
                Err(SignedRefusal::BadTimestamp),
                "{extreme}"
            );
        }
        assert!(w.block(gw, now + 4));
        assert_eq!(
            w.check(gw, &now.to_string(), "5", &sig("5", now), body, now + 5),
            Err(SignedRefusal::Blocked)
        );
    }
}
