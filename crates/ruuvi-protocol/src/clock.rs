//! The one wall clock: Unix milliseconds. Code that stamps or compares times takes a [`Clock`]
//! so tests can run it at any time they like; [`system`] is the real one.

use std::sync::Arc;

/// Now, in Unix milliseconds.
pub type Clock = Arc<dyn Fn() -> i64 + Send + Sync>;

/// The system's clock (0 before 1970, which no machine running this has).
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

pub fn system() -> Clock {
    Arc::new(now_ms)
}

/// A clock that stands still at `ms` (tests).
pub fn fixed(ms: i64) -> Clock {
    Arc::new(move || ms)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_system_clock_is_after_this_code_was_written() {
        assert!(super::now_ms() > 1_795_000_000_000);
        assert_eq!((super::fixed(5))(), 5);
    }
}
