//! Guest time. Timers read a [`Clock`] rather than the host clock directly, so that a test can
//! drive time by hand and a later deterministic mode can count instructions instead.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

/// A monotonic source of guest time in nanoseconds since the machine started.
pub trait Clock: Send + Sync {
    fn now_ns(&self) -> u64;
}

/// Host monotonic time.
#[derive(Debug, Clone)]
pub struct HostClock {
    start: Instant,
}

impl HostClock {
    pub fn new() -> Self {
        HostClock { start: Instant::now() }
    }
}

impl Clock for HostClock {
    fn now_ns(&self) -> u64 {
        self.start.elapsed().as_nanos() as u64
    }
}

/// A clock that moves only when told to; for tests.
#[derive(Debug, Clone, Default)]
pub struct ManualClock(Arc<AtomicU64>);

impl ManualClock {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn advance_ns(&self, ns: u64) {
        self.0.fetch_add(ns, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_ns(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// The machine's clock: host time that stops while the machine is stopped (monitor `stop`, a
/// debugger holding it), as QEMU's virtual clock does. Otherwise a guest that was held for a
/// while sees its timers jump and reports lockups.
#[derive(Debug)]
pub struct VmClock {
    start: Instant,
    /// Guest time at which the clock stopped, or `RUNNING`.
    frozen_at: AtomicU64,
    /// Host nanoseconds spent stopped, subtracted from host time.
    stopped_ns: AtomicU64,
}

const RUNNING: u64 = u64::MAX;

impl VmClock {
    pub fn new() -> Self {
        VmClock { start: Instant::now(), frozen_at: AtomicU64::new(RUNNING), stopped_ns: AtomicU64::new(0) }
    }

    fn host_ns(&self) -> u64 {
        self.start.elapsed().as_nanos() as u64
    }

    /// Stop guest time (idempotent).
    pub fn stop(&self) {
        if self.frozen_at.load(Ordering::SeqCst) == RUNNING {
            let now = self.host_ns() - self.stopped_ns.load(Ordering::SeqCst);
            self.frozen_at.store(now, Ordering::SeqCst);
        }
    }

    /// Let guest time run again from where it stopped (idempotent).
    pub fn resume(&self) {
        let frozen = self.frozen_at.load(Ordering::SeqCst);
        if frozen != RUNNING {
            self.stopped_ns.store(self.host_ns() - frozen, Ordering::SeqCst);
            self.frozen_at.store(RUNNING, Ordering::SeqCst);
        }
    }
}

impl Default for VmClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for VmClock {
    fn now_ns(&self) -> u64 {
        match self.frozen_at.load(Ordering::SeqCst) {
            RUNNING => self.host_ns() - self.stopped_ns.load(Ordering::SeqCst),
            frozen => frozen,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stopped_clock_does_not_advance_and_resumes_without_a_jump() {
        let c = VmClock::new();
        c.stop();
        let t0 = c.now_ns();
        std::thread::sleep(std::time::Duration::from_millis(30));
        assert_eq!(c.now_ns(), t0);
        c.resume();
        let t1 = c.now_ns();
        assert!(t1 >= t0 && t1 - t0 < 10_000_000, "no jump: {t0} -> {t1}");
    }
}
