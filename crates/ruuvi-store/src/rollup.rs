//! Per-bucket statistics of a sensor's readings — min, max, sum and count of every measured
//! (floating-point) reading — kept per hour (a day is its hours merged) so that a chart of any
//! range reads hundreds or thousands of rows instead of every observation. Values are added in
//! the order observations are stored, so an hour equals a recomputation over its raw rows in
//! that order.

use ruuvi_protocol::Readings;

/// How finely statistics are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Level {
    Hour,
    Day,
}

impl Level {
    pub const ALL: [Level; 2] = [Level::Hour, Level::Day];

    pub fn width_ms(self) -> i64 {
        match self {
            Level::Hour => 3_600_000,
            Level::Day => 86_400_000,
        }
    }

    /// The start of the bucket holding `at_ms` (UTC-aligned; the earliest time there is for
    /// the first, partial bucket of the time line).
    pub fn bucket_of(self, at_ms: i64) -> i64 {
        at_ms
            .div_euclid(self.width_ms())
            .saturating_mul(self.width_ms())
    }

    pub(crate) fn code(self) -> i64 {
        match self {
            Level::Hour => 1,
            Level::Day => 2,
        }
    }
}

/// One reading's statistics in a bucket.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FieldStats {
    pub min: f64,
    pub max: f64,
    pub sum: f64,
    pub count: u32,
}

impl FieldStats {
    fn of(v: f64) -> Self {
        Self {
            min: v,
            max: v,
            sum: v,
            count: 1,
        }
    }

    fn add(&mut self, v: f64) {
        self.min = self.min.min(v);
        self.max = self.max.max(v);
        self.sum += v;
        self.count += 1;
    }

    fn merge(&mut self, o: &FieldStats) {
        self.min = self.min.min(o.min);
        self.max = self.max.max(o.max);
        self.sum += o.sum;
        self.count += o.count;
    }

    pub fn mean(&self) -> f64 {
        self.sum / f64::from(self.count.max(1))
    }
}

/// The rolled-up readings: every floating-point field, in declaration order. The
/// destructuring without `..` makes a new `Readings` field a compile error here until it is
/// placed (appended: slots are stored).
macro_rules! measured_fields {
    ($($field:ident),* $(,)?) => {
        const FIELDS: usize = [$(stringify!($field)),*].len();

        fn values(r: &Readings) -> [Option<f64>; FIELDS] {
            [$(r.$field),*]
        }

        fn readings_of(values: [Option<f64>; FIELDS]) -> Readings {
            let [$($field),*] = values;
            Readings { $($field,)* ..Readings::default() }
        }

        /// `base` with each value in `values` put in place of its own.
        fn onto(mut base: Readings, values: [Option<f64>; FIELDS]) -> Readings {
            let [$($field),*] = values;
            $( if $field.is_some() { base.$field = $field; } )*
            base
        }

        #[cfg(test)]
        fn every_float_field_is_rolled_up(r: Readings) {
            let Readings {
                $($field: _,)*
                tx_power_dbm: _, movement_counter: _, measurement_sequence: _,
                calibration_in_progress: _, button_pressed: _, rtc_running_on_boot: _,
                mac: _, mac_suffix: _,
            } = r;
        }
    };
}

measured_fields!(
    temperature_c,
    humidity_pct,
    pressure_pa,
    accel_x_g,
    accel_y_g,
    accel_z_g,
    battery_v,
    pm1_0,
    pm2_5,
    pm4_0,
    pm10_0,
    co2_ppm,
    voc_index,
    nox_index,
    luminosity_lux,
    sound_inst_dba,
    sound_avg_dba,
    sound_peak_spl_db,
);

/// The statistics of one bucket (or of several merged).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Stats {
    fields: [Option<FieldStats>; FIELDS],
    /// Observations added.
    pub count: u32,
}

impl Stats {
    pub fn add(&mut self, r: &Readings) {
        for (slot, v) in self.fields.iter_mut().zip(values(r)) {
            // NaN is no measurement (the decoders never produce one).
            if let Some(v) = v.filter(|v| !v.is_nan()) {
                match slot {
                    Some(s) => s.add(v),
                    None => *slot = Some(FieldStats::of(v)),
                }
            }
        }
        self.count += 1;
    }

    pub fn merge(&mut self, o: &Stats) {
        for (slot, other) in self.fields.iter_mut().zip(&o.fields) {
            match (slot.as_mut(), other) {
                (Some(s), Some(other)) => s.merge(other),
                (None, Some(other)) => *slot = Some(*other),
                _ => {}
            }
        }
        self.count += o.count;
    }

    /// The fields measured in this bucket, by slot.
    pub(crate) fn parts(&self) -> impl Iterator<Item = (usize, FieldStats)> + '_ {
        self.fields
            .iter()
            .enumerate()
            .filter_map(|(i, f)| f.map(|f| (i, f)))
    }

    /// Puts one field's statistics in slot `index` (`false`: no such slot).
    pub(crate) fn set_part(&mut self, index: usize, s: FieldStats) -> bool {
        match self.fields.get_mut(index) {
            Some(slot) => {
                *slot = Some(s);
                true
            }
            None => false,
        }
    }

    fn values(&self, f: impl Fn(&FieldStats) -> f64) -> [Option<f64>; FIELDS] {
        let mut out = [None; FIELDS];
        for (o, s) in out.iter_mut().zip(&self.fields) {
            *o = s.as_ref().map(&f);
        }
        out
    }

    fn map(&self, f: impl Fn(&FieldStats) -> f64) -> Readings {
        readings_of(self.values(f))
    }

    pub fn mean(&self) -> Readings {
        self.map(FieldStats::mean)
    }

    /// `base` (e.g. a bucket's first observation, for its counters and flags) with the
    /// means in place of its measured values.
    pub fn mean_onto(&self, base: Readings) -> Readings {
        onto(base, self.values(FieldStats::mean))
    }

    pub fn min(&self) -> Readings {
        self.map(|s| s.min)
    }

    pub fn max(&self) -> Readings {
        self.map(|s| s.max)
    }

    /// A 32-bit mask of the fields present, then min, max, sum (f64) and count (u32) of each,
    /// little-endian, then the observation count.
    pub(crate) fn encode(&self) -> Vec<u8> {
        let mut mask = 0u32;
        let mut out = vec![0; 4];
        for (i, s) in self.fields.iter().enumerate() {
            if let Some(s) = s {
                mask |= 1 << i;
                for v in [s.min, s.max, s.sum] {
                    out.extend_from_slice(&v.to_le_bytes());
                }
                out.extend_from_slice(&s.count.to_le_bytes());
            }
        }
        out.extend_from_slice(&self.count.to_le_bytes());
        out[..4].copy_from_slice(&mask.to_le_bytes());
        out
    }

    pub(crate) fn decode(bytes: &[u8]) -> Result<Self, String> {
        let (mask, mut rest) = bytes
            .split_first_chunk::<4>()
            .ok_or("statistics shorter than their mask")?;
        let mask = u32::from_le_bytes(*mask);
        if mask >> FIELDS != 0 {
            return Err("statistics of fields this version does not know".into());
        }
        let mut stats = Stats::default();
        let f64_at = |rest: &mut &[u8]| -> Result<f64, String> {
            let (v, r) = rest
                .split_first_chunk::<8>()
                .ok_or("statistics cut short")?;
            *rest = r;
            Ok(f64::from_le_bytes(*v))
        };
        for (i, slot) in stats.fields.iter_mut().enumerate() {
            if mask & (1 << i) != 0 {
                let (min, max, sum) = (f64_at(&mut rest)?, f64_at(&mut rest)?, f64_at(&mut rest)?);
                let (n, r) = rest
                    .split_first_chunk::<4>()
                    .ok_or("statistics cut short")?;
                rest = r;
                *slot = Some(FieldStats {
                    min,
                    max,
                    sum,
                    count: u32::from_le_bytes(*n),
                });
            }
        }
        let (n, r) = rest
            .split_first_chunk::<4>()
            .ok_or("statistics cut short")?;
        if !r.is_empty() {
            return Err("statistics longer than their fields".into());
        }
        stats.count = u32::from_le_bytes(*n);
        Ok(stats)
    }
}

/// One bucket's statistics.
#[derive(Debug, Clone, PartialEq)]
pub struct Bucket {
    /// Where the bucket starts (Unix ms).
    pub start_ms: i64,
    pub stats: Stats,
}

/// Time-ordered pieces grouped by key: "start a group when the key changes, add to it, hand the
/// finished one over, and the last at the end" — written once for every place that buckets
/// observations or merges hours into days (each engine, the default from raw rows, charts).
#[derive(Debug)]
pub struct Gather<K, G> {
    current: Option<(K, G)>,
    finished: usize,
}

impl<K: PartialEq, G> Default for Gather<K, G> {
    fn default() -> Self {
        Self {
            current: None,
            finished: 0,
        }
    }
}

impl<K: PartialEq, G> Gather<K, G> {
    /// The group of `key` to add to: the current one while the key stays, else a new one made
    /// by `start` (after the current one went to `emit`).
    pub fn group(
        &mut self,
        key: K,
        emit: &mut impl FnMut(K, G),
        start: impl FnOnce(&K) -> G,
    ) -> &mut G {
        if self.current.as_ref().is_some_and(|(k, _)| *k != key) {
            let (k, g) = self.current.take().expect("just checked");
            emit(k, g);
            self.finished += 1;
        }
        &mut self
            .current
            .get_or_insert_with(|| {
                let g = start(&key);
                (key, g)
            })
            .1
    }

    /// Hands over the last group; returns how many groups were handed over in all.
    pub fn finish(mut self, emit: &mut impl FnMut(K, G)) -> usize {
        if let Some((k, g)) = self.current.take() {
            emit(k, g);
            self.finished += 1;
        }
        self.finished
    }
}

/// `level` buckets from time-ordered observations or finer buckets, handed to `f` as each ends.
pub(crate) struct Buckets<'f> {
    level: Level,
    gather: Gather<i64, Stats>,
    f: &'f mut dyn FnMut(Bucket),
}

impl<'f> Buckets<'f> {
    pub(crate) fn new(level: Level, f: &'f mut dyn FnMut(Bucket)) -> Self {
        Self {
            level,
            gather: Gather::default(),
            f,
        }
    }

    fn stats_at(&mut self, at_ms: i64) -> &mut Stats {
        let f = &mut *self.f;
        self.gather.group(
            self.level.bucket_of(at_ms),
            &mut |start_ms, stats| f(Bucket { start_ms, stats }),
            |_| Stats::default(),
        )
    }

    /// One observation received at `at_ms`.
    pub(crate) fn add(&mut self, at_ms: i64, r: &Readings) {
        self.stats_at(at_ms).add(r);
    }

    /// A finer bucket (an hour into its day).
    pub(crate) fn merge(&mut self, finer: &Bucket) {
        self.stats_at(finer.start_ms).merge(&finer.stats);
    }

    /// Hands over the last bucket; returns how many were handed over.
    pub(crate) fn finish(self) -> usize {
        let f = self.f;
        self.gather
            .finish(&mut |start_ms, stats| f(Bucket { start_ms, stats }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statistics_round_trip_and_merge() {
        every_float_field_is_rolled_up(Readings::default());
        let mut s = Stats::default();
        for t in [20.0, 22.5, 21.0] {
            s.add(&Readings {
                temperature_c: Some(t),
                pm2_5: (t > 21.0).then_some(3.0),
                movement_counter: Some(4),
                ..Readings::default()
            });
        }
        assert_eq!(s.count, 3);
        assert_eq!(s.min().temperature_c, Some(20.0));
        assert_eq!(s.max().temperature_c, Some(22.5));
        assert_eq!(s.mean().temperature_c, Some(63.5 / 3.0));
        assert_eq!(s.mean().pm2_5, Some(3.0));
        assert_eq!(s.mean().movement_counter, None, "counters are not averaged");
        assert_eq!(Stats::decode(&s.encode()).unwrap(), s);
        let mut merged = Stats::default();
        merged.merge(&s);
        merged.merge(&s);
        assert_eq!(merged.count, 6);
        assert_eq!(merged.mean().temperature_c, Some(127.0 / 6.0));
        let bytes = s.encode();
        assert!(Stats::decode(&bytes[..bytes.len() - 1]).is_err());
        assert!(Stats::decode(&[0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0]).is_err());
        assert_eq!(Level::Hour.bucket_of(-1), -3_600_000);
        assert_eq!(Level::Day.bucket_of(86_400_001), 86_400_000);
    }

    #[test]
    fn gather_hands_over_each_group_once_in_order() {
        let mut out = Vec::new();
        let mut emit = |k: i64, g: Vec<i64>| out.push((k, g));
        let mut gather = Gather::default();
        for v in [1, 2, 11, 12, 13, 31, 5] {
            gather.group(v / 10, &mut emit, |_| Vec::new()).push(v);
        }
        assert_eq!(gather.finish(&mut emit), 4);
        assert_eq!(
            out,
            [
                (0, vec![1, 2]),
                (1, vec![11, 12, 13]),
                (3, vec![31]),
                (0, vec![5])
            ]
        );
        assert_eq!(Gather::<i64, ()>::default().finish(&mut |_, _| {}), 0);
    }

    #[test]
    fn days_are_their_hours_merged() {
        let hour = Level::Hour.width_ms();
        let r = |t| Readings {
            temperature_c: Some(t),
            ..Readings::default()
        };
        let (mut hours, mut days) = (Vec::new(), Vec::new());
        let mut direct = Vec::new();
        {
            let (mut to_hours, mut to_days) = (|b| hours.push(b), |b| direct.push(b));
            let mut by_hour = Buckets::new(Level::Hour, &mut to_hours);
            let mut by_day = Buckets::new(Level::Day, &mut to_days);
            for i in 0..60 {
                let at = i * hour / 2;
                by_hour.add(at, &r(i as f64));
                by_day.add(at, &r(i as f64));
            }
            assert_eq!(by_hour.finish(), 30);
            assert_eq!(by_day.finish(), 2);
        }
        let mut to_days = |b| days.push(b);
        let mut merged = Buckets::new(Level::Day, &mut to_days);
        for h in &hours {
            merged.merge(h);
        }
        assert_eq!(merged.finish(), 2);
        assert_eq!(days, direct);
        assert_eq!(days[1].start_ms, Level::Day.width_ms());
        assert_eq!(days[0].stats.count, 48);
    }
}
