//! SiFive test finisher ("syscon"; `sifive,test1` in QEMU's `virt` device tree at `0x0010_0000`):
//! one write-only register through which the guest powers off, fails a test, or resets.
//!
//! | offset | register | value written | effect |
//! |---|---|---|---|
//! | `0x0` | finisher | `0x5555` (FINISHER_PASS) | power off, exit status 0 |
//! | | | `(code << 16) \| 0x3333` (FINISHER_FAIL) | power off, exit status `code` |
//! | | | `0x7777` (FINISHER_RESET) | reset the machine |
//!
//! Linux's `syscon-poweroff` / `syscon-reboot` and OpenSBI's reset driver write it with 32-bit
//! stores; 16-bit stores work too (as on QEMU; the code is then 0). Other values, sizes and
//! offsets are logged and ignored; reads return 0.
//!
//! The device stops nothing itself: it records the request in a [`PowerLatch`] that the board
//! polls after MMIO writes (`is_set()` is one atomic load) and acts on between instructions.

use mimic_core::{guest_error, Size};
use mimic_memory::MmioDevice;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

const FINISHER_FAIL: u64 = 0x3333;
const FINISHER_PASS: u64 = 0x5555;
const FINISHER_RESET: u64 = 0x7777;

/// What the guest asked the machine to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PowerRequest {
    /// Power off; the emulator should exit with `status`.
    Off { status: i32 },
    /// Reset the machine.
    Reset,
}

/// A one-slot mailbox for [`PowerRequest`]s, shared by the finisher (and anything else that may
/// stop the machine) and the board's run loop. Clones share the slot. The first request stands
/// until it is taken.
#[derive(Clone, Debug, Default)]
pub struct PowerLatch(Arc<LatchInner>);

#[derive(Debug, Default)]
struct LatchInner {
    set: AtomicBool,
    request: Mutex<Option<PowerRequest>>,
}

impl PowerLatch {
    pub fn new() -> Self {
        Self::default()
    }

    /// Record `request` unless one is already waiting.
    pub fn request(&self, request: PowerRequest) {
        let mut slot = self.0.request.lock().unwrap_or_else(|e| e.into_inner());
        if slot.is_none() {
            *slot = Some(request);
            self.0.set.store(true, Ordering::Release);
        }
    }

    /// Whether a request is waiting (cheap: one atomic load).
    #[inline]
    pub fn is_set(&self) -> bool {
        self.0.set.load(Ordering::Acquire)
    }

    /// Take the waiting request, leaving the latch empty.
    pub fn take(&self) -> Option<PowerRequest> {
        let mut slot = self.0.request.lock().unwrap_or_else(|e| e.into_inner());
        self.0.set.store(false, Ordering::Release);
        slot.take()
    }
}

/// The test finisher, reporting to a [`PowerLatch`].
#[derive(Debug)]
pub struct SifiveTest {
    latch: PowerLatch,
}

impl SifiveTest {
    pub fn new(latch: PowerLatch) -> Self {
        SifiveTest { latch }
    }

    pub fn latch(&self) -> &PowerLatch {
        &self.latch
    }
}

impl MmioDevice for SifiveTest {
    fn read(&mut self, offset: u64, size: Size) -> u64 {
        // The register reads as zero. Linux's syscon regmap reads it (a read-modify-write of
        // the finisher), so that read is no guest error; reads elsewhere are.
        if offset != 0 {
            guest_error!("sifive_test: {}-byte read at bad offset {offset:#x}", size.bytes());
        }
        0
    }

    fn write(&mut self, offset: u64, size: Size, value: u64) {
        if offset != 0 || !matches!(size, Size::B2 | Size::B4) {
            guest_error!("sifive_test: {}-byte write of {value:#x} at bad offset {offset:#x}", size.bytes());
            return;
        }
        let value = value & ((1 << size.bits()) - 1);
        let request = match value & 0xffff {
            FINISHER_PASS => PowerRequest::Off { status: 0 },
            FINISHER_FAIL => PowerRequest::Off { status: (value >> 16) as i32 },
            FINISHER_RESET => PowerRequest::Reset,
            _ => {
                guest_error!("sifive_test: unknown command {value:#x}");
                return;
            }
        };
        tracing::debug!("sifive_test: guest requests {request:?}");
        self.latch.request(request);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finisher() -> (SifiveTest, PowerLatch) {
        let latch = PowerLatch::new();
        (SifiveTest::new(latch.clone()), latch)
    }

    #[test]
    fn finisher_pass_requests_power_off_status_zero() {
        let (mut t, latch) = finisher();
        t.write(0, Size::B4, 0x5555);
        assert_eq!(latch.take(), Some(PowerRequest::Off { status: 0 }));
    }

    #[test]
    fn finisher_fail_code_is_high_half() {
        let (mut t, latch) = finisher();
        t.write(0, Size::B4, (42 << 16) | 0x3333);
        assert_eq!(latch.take(), Some(PowerRequest::Off { status: 42 }));
    }

    #[test]
    fn finisher_reset_requests_reset() {
        let (mut t, latch) = finisher();
        t.write(0, Size::B4, 0x7777);
        assert_eq!(latch.take(), Some(PowerRequest::Reset));
    }

    #[test]
    fn finisher_16bit_pass_requests_power_off() {
        let (mut t, latch) = finisher();
        t.write(0, Size::B2, 0x5555);
        assert_eq!(latch.take(), Some(PowerRequest::Off { status: 0 }));
    }

    #[test]
    fn finisher_unknown_value_is_ignored() {
        let (mut t, latch) = finisher();
        t.write(0, Size::B4, 0x1234);
        assert!(!latch.is_set());
    }

    #[test]
    fn finisher_bad_offset_or_size_is_ignored() {
        let (mut t, latch) = finisher();
        t.write(4, Size::B4, 0x5555);
        t.write(0, Size::B1, 0x55);
        t.write(0, Size::B8, 0x5555);
        assert_eq!((latch.is_set(), t.read(0, Size::B4)), (false, 0));
    }

    #[test]
    fn latch_take_clears_is_set() {
        let latch = PowerLatch::new();
        latch.request(PowerRequest::Reset);
        latch.take();
        assert!(!latch.is_set());
    }

    #[test]
    fn latch_first_request_wins() {
        let latch = PowerLatch::new();
        latch.request(PowerRequest::Off { status: 3 });
        latch.request(PowerRequest::Reset);
        assert_eq!(latch.take(), Some(PowerRequest::Off { status: 3 }));
    }
}
