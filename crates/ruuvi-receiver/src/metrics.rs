//! The Prometheus text exposition format (version 0.0.4), written by hand: a few families of
//! counters and gauges do not need a metrics library.

use std::fmt::Write;

/// One `/metrics` page being written.
#[derive(Debug, Default)]
pub struct MetricsText(String);

/// `kind`: what Prometheus is told the family is.
#[derive(Debug, Clone, Copy)]
pub enum MetricKind {
    Counter,
    Gauge,
}

impl MetricsText {
    /// One family: `name` (`[a-z_]`), its help line and its samples (label pairs, value).
    pub fn family(
        &mut self,
        name: &str,
        kind: MetricKind,
        help: &str,
        samples: &[(&[(&str, &str)], f64)],
    ) {
        let kind = match kind {
            MetricKind::Counter => "counter",
            MetricKind::Gauge => "gauge",
        };
        let _ = writeln!(self.0, "# HELP {name} {}", help.replace('\n', " "));
        let _ = writeln!(self.0, "# TYPE {name} {kind}");
        for (labels, value) in samples {
            self.0.push_str(name);
            if !labels.is_empty() {
                self.0.push('{');
                for (i, (k, v)) in labels.iter().enumerate() {
                    if i > 0 {
                        self.0.push(',');
                    }
                    let v = v
                        .replace('\\', "\\\\")
                        .replace('"', "\\\"")
                        .replace('\n', "\\n");
                    let _ = write!(self.0, "{k}=\"{v}\"");
                }
                self.0.push('}');
            }
            let _ = writeln!(self.0, " {value}");
        }
    }

    /// A family with one unlabelled sample.
    pub fn single(&mut self, name: &str, kind: MetricKind, help: &str, value: f64) {
        self.family(name, kind, help, &[(&[], value)]);
    }

    pub fn finish(self) -> String {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_the_text_format() {
        let mut m = MetricsText::default();
        m.family(
            "ruuvi_posts_total",
            MetricKind::Counter,
            "Posts.",
            &[
                (&[("outcome", "stored")], 3.0),
                (&[("outcome", "a\"b")], 1.0),
            ],
        );
        m.single("ruuvi_queue", MetricKind::Gauge, "Queued.", 0.5);
        assert_eq!(
            m.finish(),
            "# HELP ruuvi_posts_total Posts.\n# TYPE ruuvi_posts_total counter\n\
             ruuvi_posts_total{outcome=\"stored\"} 3\nruuvi_posts_total{outcome=\"a\\\"b\"} 1\n\
             # HELP ruuvi_queue Queued.\n# TYPE ruuvi_queue gauge\nruuvi_queue 0.5\n"
        );
    }
}
