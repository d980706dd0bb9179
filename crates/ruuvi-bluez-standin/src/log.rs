//! A sensor's side of the log read over the Nordic UART Service: the stand-in's tag keeps a
//! log (made by the caller, e.g. from the gateway simulator's tag model) and answers a log-read
//! request as Ruuvi documents it — written here from the documented frame layout, apart from
//! Ruuvi Desk's own reader, so that a misreading on one side is not mirrored on the other.

use std::time::Duration;

use ruuvi_protocol::formats::{DataFormat, Measurement};
use ruuvi_protocol::Readings;

/// What kind of log the sensor keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// RuuviTag firmware 3.x: temperature, humidity and pressure, one 11-byte message each.
    RuuviTag,
    /// Ruuvi Air: 38-byte records (time + E1 without its MAC), six to a notification.
    RuuviAir,
}

/// How the sensor behaves while sending: a healthy one, or the ways real ones fail.
#[derive(Debug, Clone, Default)]
pub struct Behaviour {
    /// Pause before each notification (a slow tag, a busy radio).
    pub delay: Duration,
    /// The connection drops after this many notifications.
    pub drop_after: Option<usize>,
    /// This notification (0-based) is sent cut short.
    pub malformed_at: Option<usize>,
    /// Connecting fails (out of range, or another central holds it).
    pub refuse_connection: bool,
}

/// One logged measurement, at the sensor's own clock (seconds since it started).
#[derive(Debug, Clone)]
pub struct Logged {
    pub uptime_s: u32,
    pub readings: Readings,
}

#[derive(Debug, Clone)]
pub struct SensorLog {
    pub format: LogFormat,
    /// When (Unix s, real time) the sensor started: its clock counts from here.
    pub booted_at_s: u32,
    pub records: Vec<Logged>,
    pub behaviour: Behaviour,
}

impl SensorLog {
    /// The notifications answering a request (`None` when it is not a log read this sensor
    /// knows): the sensor turns its uptime into real time with the `now` it was sent (as the
    /// firmware does), and sends what is at or after `since`.
    pub fn answer(&self, request: &[u8], real_now_s: u32) -> Option<Vec<Vec<u8>>> {
        let [dest, src, op, rest @ ..] = request else {
            return None;
        };
        if rest.len() != 8 {
            return None;
        }
        let now_s = u32::from_be_bytes([rest[0], rest[1], rest[2], rest[3]]);
        let since_s = u32::from_be_bytes([rest[4], rest[5], rest[6], rest[7]]);
        let uptime_now = real_now_s.saturating_sub(self.booted_at_s);
        let offset = i64::from(now_s) - i64::from(uptime_now);
        let at = |l: &Logged| u32::try_from(i64::from(l.uptime_s) + offset).unwrap_or(0);
        let wanted = self.records.iter().filter(|l| at(l) >= since_s);
        match (self.format, *dest, *src, *op) {
            (LogFormat::RuuviTag, 0x3A, 0x3A, 0x11) => {
                let mut out = Vec::new();
                for l in wanted {
                    let t = at(l).to_be_bytes();
                    let r = &l.readings;
                    let values = [
                        (
                            0x30,
                            r.temperature_c
                                .map(|v| ((v * 100.0).round() as i32).to_be_bytes()),
                        ),
                        (
                            0x31,
                            r.humidity_pct
                                .map(|v| ((v * 100.0).round() as u32).to_be_bytes()),
                        ),
                        (
                            0x32,
                            r.pressure_pa.map(|v| (v.round() as u32).to_be_bytes()),
                        ),
                    ];
                    for (endpoint, value) in values {
                        if let Some(v) = value {
                            let mut m = vec![0x3A, endpoint, 0x10];
                            m.extend(t);
                            m.extend(v);
                            out.push(m);
                        }
                    }
                }
                let mut end = vec![0x3A, 0x3A, 0x10];
                end.extend([0xFF; 8]);
                out.push(end);
                Some(out)
            }
            (LogFormat::RuuviAir, 0x3B, 0x3B, 0x21) => {
                let records: Vec<Vec<u8>> = wanted
                    .map(|l| {
                        let e1 = Measurement::from_readings(DataFormat::E1, &l.readings).encode();
                        let mut r = at(l).to_be_bytes().to_vec();
                        // The E1 measurement without its MAC; luminosity and sound are
                        // "reserved" in the log.
                        r.extend(&e1[..34]);
                        r[23..29].fill(0xFF);
                        r
                    })
                    .collect();
                let mut out: Vec<Vec<u8>> = records
                    .chunks(6)
                    .map(|chunk| {
                        let mut m = vec![0x3B, 0x3B, 0x20, chunk.len() as u8, 38];
                        for r in chunk {
                            m.extend(r);
                        }
                        m
                    })
                    .collect();
                out.push(vec![0x3B, 0x3B, 0x20, 0x00, 38]);
                Some(out)
            }
            _ => None,
        }
    }
}

impl SensorLog {
    /// The log a simulated tag would have kept: one record every `every_s` from `from_s` to
    /// `to_s` (real time), the sensor started at `from_s`. `tag` is a tag of the gateway
    /// simulator, started at `from_s`; its values drift as they would have.
    pub fn from_sim_tag(
        tag: &mut ruuvi_gw_sim::tags::SimTag,
        from_s: u32,
        to_s: u32,
        every_s: u32,
    ) -> Self {
        let format = match tag.kind {
            ruuvi_gw_sim::tags::TagKind::RuuviTag => LogFormat::RuuviTag,
            ruuvi_gw_sim::tags::TagKind::RuuviAir => LogFormat::RuuviAir,
        };
        let records = (from_s..to_s)
            .step_by(every_s as usize)
            .filter_map(|t| {
                let a = tag.latest(u64::from(t) * 1000, true);
                let readings = ruuvi_protocol::decode_advertisement(&a.data)
                    .ok()?
                    .readings();
                Some(Logged {
                    uptime_s: t - from_s,
                    readings,
                })
            })
            .collect();
        Self {
            format,
            booted_at_s: from_s,
            records,
            behaviour: Behaviour::default(),
        }
    }
}
