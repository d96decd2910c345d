//! Rate-limited logging of guest misbehaviour.
//!
//! A hostile or buggy guest can poke an unimplemented register millions of times a second; each
//! call site logs its first few occurrences and then only at powers of two, and counts them all.

use std::sync::atomic::{AtomicU64, Ordering};

/// Per-call-site counter behind [`guest_error!`].
#[derive(Debug, Default)]
pub struct RateLimit(AtomicU64);

impl RateLimit {
    pub const fn new() -> Self {
        RateLimit(AtomicU64::new(0))
    }
    /// Count one occurrence; true when this one should be logged.
    pub fn hit(&self) -> bool {
        let n = self.0.fetch_add(1, Ordering::Relaxed) + 1;
        n <= 8 || n.is_power_of_two()
    }
    pub fn count(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// Log a guest error (at `warn` level, target `guest_error`) without flooding the log.
#[macro_export]
macro_rules! guest_error {
    ($($arg:tt)*) => {{
        static LIMIT: $crate::RateLimit = $crate::RateLimit::new();
        if LIMIT.hit() {
            $crate::__tracing::warn!(target: "guest_error", count = LIMIT.count(), $($arg)*);
        }
    }};
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logs_first_eight_then_powers_of_two() {
        let l = RateLimit::new();
        let logged: Vec<u64> = (1..=100).filter(|_| l.hit()).map(|_| l.count()).collect();
        assert_eq!(logged, vec![1, 2, 3, 4, 5, 6, 7, 8, 16, 32, 64]);
    }
}
