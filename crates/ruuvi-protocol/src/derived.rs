//! Values apps derive from a measurement (data-formats §10). Magnus-formula set, as used by
//! RuuviBridge / RuuviCollector; every function returns `None` where the formula is undefined.

use serde::Serialize;

use crate::readings::Readings;

/// Equilibrium (saturation) vapour pressure over water, Pa (Magnus).
pub fn saturation_vapour_pressure_pa(temperature_c: f64) -> f64 {
    611.2 * (17.67 * temperature_c / (243.5 + temperature_c)).exp()
}

/// Partial pressure of water vapour, Pa.
pub fn vapour_pressure_pa(temperature_c: f64, humidity_pct: f64) -> f64 {
    saturation_vapour_pressure_pa(temperature_c) * humidity_pct / 100.0
}

/// Absolute humidity, g/m³.
pub fn absolute_humidity_g_m3(temperature_c: f64, humidity_pct: f64) -> f64 {
    saturation_vapour_pressure_pa(temperature_c) * humidity_pct * 0.021674
        / (273.15 + temperature_c)
}

/// Dew point, °C; undefined for 0 % humidity.
pub fn dew_point_c(temperature_c: f64, humidity_pct: f64) -> Option<f64> {
    if humidity_pct <= 0.0 {
        return None;
    }
    let v = (humidity_pct / 100.0 * saturation_vapour_pressure_pa(temperature_c) / 611.2).ln();
    Some(-243.5 * v / (v - 17.67))
}

/// Density of moist air, kg/m³.
pub fn air_density_kg_m3(temperature_c: f64, humidity_pct: f64, pressure_pa: f64) -> f64 {
    1.2929 * 273.15 / (temperature_c + 273.15)
        * (pressure_pa
            - 0.3783 * humidity_pct / 100.0 * saturation_vapour_pressure_pa(temperature_c))
        / 101_300.0
}

/// Length of the acceleration vector, g.
pub fn total_acceleration_g(x: f64, y: f64, z: f64) -> f64 {
    (x * x + y * y + z * z).sqrt()
}

/// Ruuvi indoor air quality score, 0…100, from PM2.5 (µg/m³) and CO₂ (ppm).
pub fn iaqs(pm2_5: f64, co2_ppm: f64) -> f64 {
    let pm = pm2_5.clamp(0.0, 60.0);
    let co2 = co2_ppm.clamp(420.0, 2300.0);
    let dx = pm * 100.0 / 60.0;
    let dy = (co2 - 420.0) * 100.0 / 1880.0;
    (100.0 - (dx * dx + dy * dy).sqrt()).clamp(0.0, 100.0)
}

/// Derived values for one measurement; each is `None` when its inputs are missing.
#[derive(Debug, Clone, Default, PartialEq, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct Derived {
    pub dew_point: Option<f64>,
    pub absolute_humidity: Option<f64>,
    pub vapour_pressure: Option<f64>,
    pub air_density: Option<f64>,
    pub acceleration_total: Option<f64>,
    pub iaqs: Option<f64>,
}

impl Derived {
    pub fn from_readings(r: &Readings) -> Self {
        let th = r.temperature_c.zip(r.humidity_pct);
        Self {
            dew_point: th.and_then(|(t, h)| dew_point_c(t, h)),
            absolute_humidity: th.map(|(t, h)| absolute_humidity_g_m3(t, h)),
            vapour_pressure: th.map(|(t, h)| vapour_pressure_pa(t, h)),
            air_density: th
                .zip(r.pressure_pa)
                .map(|((t, h), p)| air_density_kg_m3(t, h, p)),
            acceleration_total: match (r.accel_x_g, r.accel_y_g, r.accel_z_g) {
                (Some(x), Some(y), Some(z)) => Some(total_acceleration_g(x, y, z)),
                _ => None,
            },
            iaqs: r.pm2_5.zip(r.co2_ppm).map(|(pm, co2)| iaqs(pm, co2)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) {
        assert!((a - b).abs() <= tol, "{a} vs {b}");
    }

    #[test]
    fn reference_numbers_from_the_spec() {
        // (T, RH, P) → EVP, AH, Td, ρ (RuuviBridge column of data-formats §10)
        for (t, rh, p, evp, ah, td, rho) in [
            (24.3, 53.49, 100044.0, 3037.50, 11.8390, 14.2621, 1.16535),
            (20.0, 50.0, 101325.0, 2336.95, 8.6391, 9.2701, 1.19973),
            (-5.0, 80.0, 101325.0, 421.99, 2.7287, -7.9140, 1.31567),
        ] {
            close(saturation_vapour_pressure_pa(t), evp, 0.01);
            close(absolute_humidity_g_m3(t, rh), ah, 0.0001);
            close(dew_point_c(t, rh).unwrap(), td, 0.0001);
            close(air_density_kg_m3(t, rh, p), rho, 0.00001);
            close(vapour_pressure_pa(t, rh), evp * rh / 100.0, 0.01);
        }
        assert_eq!(dew_point_c(20.0, 0.0), None);
    }

    #[test]
    fn iaqs_checks() {
        close(iaqs(0.0, 420.0), 100.0, 1e-9);
        close(iaqs(60.0, 2300.0), 0.0, 1e-9);
        close(iaqs(12.0, 800.0), 71.565, 0.001);
        close(iaqs(5.8, 566.0), 87.600, 0.001);
        close(iaqs(9.0, 816.0), 74.141, 0.001);
        close(iaqs(-5.0, 100.0), 100.0, 1e-9);
    }

    #[test]
    fn derived_needs_its_inputs() {
        let d = Derived::from_readings(&Readings {
            temperature_c: Some(20.0),
            ..Default::default()
        });
        assert_eq!(d, Derived::default());
        let d = Derived::from_readings(&Readings {
            accel_x_g: Some(0.0),
            accel_y_g: Some(0.6),
            accel_z_g: Some(0.8),
            ..Default::default()
        });
        close(d.acceleration_total.unwrap(), 1.0, 1e-12);
    }
}
