//! Recorded advertisement streams: JSON Lines, one advertisement per line —
//! `{"time": <Unix ms>, "mac": "AA:BB:CC:DD:EE:FF" | null, "rssi": -60 | null, "raw": "<hex>"}` —
//! where `raw` is the whole advertisement as a gateway reports it (`0201061BFF9904…`) or just the
//! Ruuvi payload. Played back at real or accelerated speed for tests, demos and bug reports.

use std::io::{BufRead, Write};
use std::time::Duration;

use ruuvi_protocol::adv::{build_advertisement, ruuvi_manufacturer_data, ruuvi_payload};
use ruuvi_protocol::formats::parse_hex;
use ruuvi_protocol::{DataFormat, MacAddress};
use tokio::sync::mpsc;

use crate::{now_ms, Advertisement};

#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct Line {
    time: i64,
    #[serde(default)]
    mac: Option<MacAddress>,
    #[serde(default)]
    rssi: Option<i16>,
    raw: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    #[error("line {line}: {reason}")]
    BadLine { line: usize, reason: String },
    #[error("reading the recording: {0}")]
    Io(#[from] std::io::Error),
}

/// Reads a whole recording. Blank lines and lines starting with `#` are skipped; the first bad
/// line is an error that names it.
pub fn read_recording(input: impl BufRead) -> Result<Vec<Advertisement>, ReplayError> {
    let mut out = Vec::new();
    for (i, line) in input.lines().enumerate() {
        let line = line?;
        let text = line.trim();
        if text.is_empty() || text.starts_with('#') {
            continue;
        }
        let bad = |reason: String| ReplayError::BadLine {
            line: i + 1,
            reason,
        };
        let l: Line = serde_json::from_str(text).map_err(|e| bad(e.to_string()))?;
        let bytes = parse_hex(&l.raw).map_err(|e| bad(format!("raw: {e}")))?;
        let payload = match ruuvi_payload(&bytes) {
            Ok(p) => p.to_vec(),
            // Not an advertisement: a bare payload when it starts with a known format.
            Err(_)
                if bytes
                    .first()
                    .is_some_and(|b| DataFormat::from_code(*b).is_ok()) =>
            {
                bytes
            }
            Err(e) => return Err(bad(format!("raw: {e}"))),
        };
        out.push(Advertisement {
            at_ms: l.time,
            address: l.mac,
            rssi: l.rssi,
            payload,
        });
    }
    Ok(out)
}

/// Writes one advertisement as a recording line (the payload wrapped as a whole advertisement).
pub fn write_line(out: &mut dyn Write, adv: &Advertisement) -> std::io::Result<()> {
    let md = ruuvi_manufacturer_data(&adv.payload);
    let raw = build_advertisement(&[(0x01, &[0x06]), (0xFF, &md)]);
    let line = Line {
        time: adv.at_ms,
        mac: adv.address,
        rssi: adv.rssi,
        raw: hex::encode_upper(raw),
    };
    serde_json::to_writer(&mut *out, &line)?;
    out.write_all(b"\n")
}

/// How fast a recording plays.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Speed {
    /// With the recorded gaps.
    Real,
    /// Gaps divided by this factor (> 0).
    Times(f64),
    /// No waiting at all.
    Instant,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReplayOptions {
    pub speed: Speed,
    /// Shift times so the first advertisement is "now" (demos); otherwise keep the recorded
    /// times (tests, bug reports).
    pub retime_to_now: bool,
    /// How many times to play it (at least once); later rounds continue the timeline.
    pub rounds: u32,
}

impl Default for ReplayOptions {
    fn default() -> Self {
        Self {
            speed: Speed::Real,
            retime_to_now: false,
            rounds: 1,
        }
    }
}

/// Plays `recording` into `out`, pacing it by the recorded times; stops early when `out` is
/// closed. Returns how many advertisements were sent.
pub async fn play(
    recording: &[Advertisement],
    options: ReplayOptions,
    out: mpsc::Sender<Advertisement>,
) -> usize {
    let (Some(first), Some(last)) = (recording.first(), recording.last()) else {
        return 0;
    };
    let factor = match options.speed {
        Speed::Real => Some(1.0),
        Speed::Times(f) if f > 0.0 && f.is_finite() => Some(f),
        Speed::Times(_) | Speed::Instant => None,
    };
    // One round lasts the recording's span plus one typical gap, so rounds do not overlap.
    // Saturating throughout: the times come from a file anyone may have written.
    let span = last.at_ms.saturating_sub(first.at_ms).max(0);
    let gap = if recording.len() > 1 {
        span / (recording.len() as i64 - 1)
    } else {
        1000
    };
    let round_ms = span.saturating_add(gap.max(1));
    let started = tokio::time::Instant::now();
    let wall_start = now_ms();
    let mut sent = 0;
    for round in 0..options.rounds.max(1) {
        for adv in recording {
            let offset_ms = adv
                .at_ms
                .saturating_sub(first.at_ms)
                .max(0)
                .saturating_add(i64::from(round).saturating_mul(round_ms));
            let scaled_ms = factor.map(|f| offset_ms as f64 / f);
            if let Some(ms) = scaled_ms {
                // A gap no clock can wait for (a recording spanning ages, played slowly):
                // nothing more would ever play, so stop here.
                let Some(until) = Duration::try_from_secs_f64(ms / 1000.0)
                    .ok()
                    .and_then(|wait| started.checked_add(wait))
                else {
                    tracing::warn!(
                        "the recording's next advertisement is too far away to wait for"
                    );
                    return sent;
                };
                tokio::time::sleep_until(until).await;
            }
            let mut adv = adv.clone();
            adv.at_ms = if options.retime_to_now {
                wall_start.saturating_add(scaled_ms.map(|m| m as i64).unwrap_or(0))
            } else {
                first.at_ms.saturating_add(offset_ms)
            };
            if out.send(adv).await.is_err() {
                return sent;
            }
            sent += 1;
        }
    }
    sent
}

#[cfg(test)]
mod tests {
    #[tokio::test]
    async fn a_recording_spanning_ages_plays_what_it_can_and_stops() {
        let at = |at_ms: i64| crate::Advertisement {
            at_ms,
            address: None,
            rssi: None,
            payload: vec![5; 24],
        };
        let recording = [at(i64::MIN), at(0), at(i64::MAX)];
        for speed in [super::Speed::Instant, super::Speed::Times(1e-300)] {
            let (tx, mut rx) = tokio::sync::mpsc::channel(16);
            let options = super::ReplayOptions {
                speed,
                retime_to_now: false,
                rounds: 3,
            };
            let sent = super::play(&recording, options, tx).await;
            let mut got = 0;
            while rx.recv().await.is_some() {
                got += 1;
            }
            assert_eq!(got, sent);
            assert!(sent >= 1);
        }
    }

    use super::*;

    const DF5_ADV: &str = "0201061BFF99040512FC5394C37C0004FFFC040CAC364200CDCBB8334C884F";

    #[test]
    fn reads_advertisements_and_payloads_and_names_bad_lines() {
        let text = format!(
            "# a comment\n{{\"time\": 1000, \"mac\": \"CB:B8:33:4C:88:4F\", \"rssi\": -60, \"raw\": \"{DF5_ADV}\"}}\n\n{{\"time\": 2000, \"mac\": null, \"raw\": \"{}\"}}\n",
            &DF5_ADV[14..]
        );
        let ads = read_recording(text.as_bytes()).unwrap();
        assert_eq!(ads.len(), 2);
        assert_eq!(
            ads[0].payload, ads[1].payload,
            "both forms give the payload"
        );
        assert_eq!(ads[0].payload[0], 0x05);
        assert_eq!(ads[1].address, None);
        let bad = "{\"time\": 1, \"raw\": \"zz\"}\n";
        let err =
            read_recording(format!("{{\"time\": 1, \"raw\": \"{DF5_ADV}\"}}\n{bad}").as_bytes())
                .unwrap_err();
        assert!(err.to_string().starts_with("line 2: raw:"), "{err}");
    }

    #[test]
    fn write_then_read_is_the_same_advertisement() {
        let ads = read_recording(
            format!("{{\"time\": 1, \"mac\": \"CB:B8:33:4C:88:4F\", \"rssi\": -61, \"raw\": \"{DF5_ADV}\"}}")
                .as_bytes(),
        )
        .unwrap();
        let mut out = Vec::new();
        write_line(&mut out, &ads[0]).unwrap();
        assert_eq!(
            String::from_utf8(out.clone()).unwrap().trim_end(),
            format!(
                "{{\"time\":1,\"mac\":\"CB:B8:33:4C:88:4F\",\"rssi\":-61,\"raw\":\"{DF5_ADV}\"}}"
            )
        );
        assert_eq!(read_recording(&out[..]).unwrap(), ads);
    }

    fn at(ms: i64) -> Advertisement {
        Advertisement {
            at_ms: ms,
            address: None,
            rssi: None,
            payload: vec![5],
        }
    }

    #[tokio::test(start_paused = true)]
    async fn plays_with_the_recorded_gaps_scaled() {
        let rec = [at(10_000), at(11_000), at(15_000)];
        let (tx, mut rx) = mpsc::channel(16);
        let options = ReplayOptions {
            speed: Speed::Times(10.0),
            retime_to_now: false,
            rounds: 2,
        };
        let start = tokio::time::Instant::now();
        let player = tokio::spawn(async move { play(&rec, options, tx).await });
        let mut got = Vec::new();
        while let Some(a) = rx.recv().await {
            got.push((a.at_ms, start.elapsed().as_millis()));
        }
        assert_eq!(player.await.unwrap(), 6);
        // Round 2 follows after the span (5 s) plus one mean gap (2.5 s), at a tenth of the time.
        assert_eq!(
            got,
            [
                (10_000, 0),
                (11_000, 100),
                (15_000, 500),
                (17_500, 750),
                (18_500, 850),
                (22_500, 1250)
            ]
        );
    }

    #[tokio::test(start_paused = true)]
    async fn stops_when_nobody_listens() {
        let rec: Vec<Advertisement> = (0..100).map(|i| at(i * 1000)).collect();
        let (tx, mut rx) = mpsc::channel(1);
        let player = tokio::spawn(async move { play(&rec, ReplayOptions::default(), tx).await });
        rx.recv().await.unwrap();
        drop(rx);
        assert!(player.await.unwrap() <= 2);
    }
}
