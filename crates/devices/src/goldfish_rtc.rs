//! Google Goldfish RTC (`google,goldfish-rtc` on QEMU's `virt` at `0x0010_1000`, driven by Linux's
//! `rtc-goldfish`): a 64-bit nanosecond wall clock with one alarm.
//!
//! | offset | register | read | write |
//! |---|---|---|---|
//! | `0x00` | TIME_LOW | time bits 31:0; latches bits 63:32 for TIME_HIGH | set time bits 31:0 |
//! | `0x04` | TIME_HIGH | the latched bits 63:32 | set time bits 63:32 |
//! | `0x08` | ALARM_LOW | alarm bits 31:0 | set alarm bits 31:0 and arm the alarm |
//! | `0x0c` | ALARM_HIGH | alarm bits 63:32 | set alarm bits 63:32 |
//! | `0x10` | IRQ_ENABLED | bit 0 | bit 0: interrupt enable |
//! | `0x14` | CLEAR_ALARM | 0 | disarm the alarm |
//! | `0x18` | ALARM_STATUS | 1 while armed | — |
//! | `0x1c` | CLEAR_INTERRUPT | 0 | acknowledge (lower) the interrupt |
//!
//! Time is nanoseconds since the Unix epoch: the host's wall-clock time when the device was made
//! ([`std::time::SystemTime`]), plus the elapsed time of the board's [`Clock`], plus an offset
//! that guest writes to TIME_LOW/TIME_HIGH move. Using the board's clock for elapsed time keeps
//! alarms on the same time base as the board's other timers (and makes tests deterministic).
//!
//! An armed alarm whose time has come disarms itself and sets the interrupt; the line is high
//! while that interrupt is set and enabled. Nothing ticks: the alarm is checked on every register
//! access and when the board calls [`GoldfishRtc::update`]; [`GoldfishRtc::next_deadline_ns`]
//! says when to call it. An alarm armed in the past fires at once (as QEMU).
//!
//! Registers are 32 bits. An aligned 8-byte access is split into 32-bit halves in the order
//! drivers use for the pairs: reads low then high (so TIME reads atomically through the latch),
//! writes high then low (so an ALARM write arms with both halves in place). Other sizes and
//! offsets are logged, read 0 and are ignored.

use crate::access::DrivenLine;
use mimic_core::{guest_error, Clock, IrqLine, Size};
use mimic_memory::MmioDevice;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

pub const TIME_LOW: u64 = 0x00;
pub const TIME_HIGH: u64 = 0x04;
pub const ALARM_LOW: u64 = 0x08;
pub const ALARM_HIGH: u64 = 0x0c;
pub const IRQ_ENABLED: u64 = 0x10;
pub const CLEAR_ALARM: u64 = 0x14;
pub const ALARM_STATUS: u64 = 0x18;
pub const CLEAR_INTERRUPT: u64 = 0x1c;
/// Size of the register window (QEMU maps 4 KiB; only the first 32 bytes decode).
pub const REG_SPACE: u64 = 0x20;

/// Guest-visible RTC state.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GoldfishRtcState {
    /// Added (wrapping) to the host-derived time; moved by guest writes to the time.
    pub offset_ns: u64,
    /// Bits 63:32 of the time as of the last TIME_LOW read.
    pub time_high: u32,
    pub alarm_ns: u64,
    pub alarm_armed: bool,
    pub irq_enabled: bool,
    pub irq_pending: bool,
}

/// A Goldfish RTC timed by `clock`, interrupting on `I`.
pub struct GoldfishRtc<I> {
    clock: Arc<dyn Clock>,
    /// Unix time in ns when `clock` read 0.
    epoch_ns: u64,
    state: GoldfishRtcState,
    irq: DrivenLine<I>,
}

impl<I> std::fmt::Debug for GoldfishRtc<I> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GoldfishRtc")
            .field("epoch_ns", &self.epoch_ns)
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

impl<I: IrqLine> GoldfishRtc<I> {
    /// An RTC showing the host's wall-clock time, advancing with `clock`.
    pub fn new(clock: Arc<dyn Clock>, irq: I) -> Self {
        let wall = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64);
        let epoch_ns = wall.wrapping_sub(clock.now_ns());
        Self::with_epoch(clock, epoch_ns, irq)
    }

    /// An RTC that reads `epoch_ns` (ns since the Unix epoch) when `clock` reads 0.
    pub fn with_epoch(clock: Arc<dyn Clock>, epoch_ns: u64, irq: I) -> Self {
        GoldfishRtc { clock, epoch_ns, state: GoldfishRtcState::default(), irq: DrivenLine::new(irq) }
    }

    /// The time the guest sees, in ns since the Unix epoch.
    pub fn now_ns(&self) -> u64 {
        self.epoch_ns.wrapping_add(self.clock.now_ns()).wrapping_add(self.state.offset_ns)
    }

    /// Fire the alarm if its time has come.
    pub fn update(&mut self) {
        if self.state.alarm_armed && self.now_ns() >= self.state.alarm_ns {
            self.state.alarm_armed = false;
            self.state.irq_pending = true;
        }
        self.irq.set(self.state.irq_pending && self.state.irq_enabled);
    }

    /// Nanoseconds from now until the armed alarm fires (`Some(0)` if due), `None` if disarmed.
    pub fn next_deadline_ns(&self) -> Option<u64> {
        self.state.alarm_armed.then(|| self.state.alarm_ns.saturating_sub(self.now_ns()))
    }

    /// Hardware reset: alarm disarmed, interrupt cleared and disabled. The time keeps running
    /// (it is a battery-backed clock), guest-set offset included.
    pub fn reset(&mut self) {
        self.state = GoldfishRtcState { offset_ns: self.state.offset_ns, ..GoldfishRtcState::default() };
        self.update();
    }

    pub fn state(&self) -> &GoldfishRtcState {
        &self.state
    }

    /// Restore a saved state and drive the line to match.
    pub fn set_state(&mut self, state: GoldfishRtcState) {
        self.state = state;
        self.irq.force(self.state.irq_pending && self.state.irq_enabled);
        self.update();
    }

    fn set_time(&mut self, new: u64) {
        let now = self.now_ns();
        self.state.offset_ns = self.state.offset_ns.wrapping_add(new.wrapping_sub(now));
    }

    fn read32(&mut self, offset: u64) -> Option<u32> {
        let s = &mut self.state;
        Some(match offset {
            TIME_LOW => {
                let now = self.epoch_ns.wrapping_add(self.clock.now_ns()).wrapping_add(s.offset_ns);
                s.time_high = (now >> 32) as u32;
                now as u32
            }
            TIME_HIGH => s.time_high,
            ALARM_LOW => s.alarm_ns as u32,
            ALARM_HIGH => (s.alarm_ns >> 32) as u32,
            IRQ_ENABLED => u32::from(s.irq_enabled),
            ALARM_STATUS => u32::from(s.alarm_armed),
            CLEAR_ALARM | CLEAR_INTERRUPT => 0,
            _ => return None,
        })
    }

    fn write32(&mut self, offset: u64, value: u32) -> bool {
        let value = u64::from(value);
        match offset {
            TIME_LOW => self.set_time((self.now_ns() & !0xffff_ffff) | value),
            TIME_HIGH => self.set_time((self.now_ns() & 0xffff_ffff) | (value << 32)),
            ALARM_LOW => {
                self.state.alarm_ns = (self.state.alarm_ns & !0xffff_ffff) | value;
                self.state.alarm_armed = true;
            }
            ALARM_HIGH => self.state.alarm_ns = (self.state.alarm_ns & 0xffff_ffff) | (value << 32),
            IRQ_ENABLED => self.state.irq_enabled = value & 1 != 0,
            CLEAR_ALARM => self.state.alarm_armed = false,
            CLEAR_INTERRUPT => self.state.irq_pending = false,
            _ => return false,
        }
        true
    }
}

impl<I: IrqLine> MmioDevice for GoldfishRtc<I> {
    fn read(&mut self, offset: u64, size: Size) -> u64 {
        self.update();
        let v = match size {
            Size::B4 if offset.is_multiple_of(4) => self.read32(offset).map(u64::from),
            Size::B8 if offset.is_multiple_of(8) => {
                let lo = self.read32(offset);
                let hi = self.read32(offset + 4);
                lo.zip(hi).map(|(lo, hi)| u64::from(lo) | (u64::from(hi) << 32))
            }
            _ => None,
        };
        v.unwrap_or_else(|| {
            guest_error!("goldfish_rtc: {}-byte read at bad offset {offset:#x}", size.bytes());
            0
        })
    }

    fn write(&mut self, offset: u64, size: Size, value: u64) {
        let ok = match size {
            Size::B4 if offset.is_multiple_of(4) => self.write32(offset, value as u32),
            Size::B8 if offset.is_multiple_of(8) => {
                let hi = self.write32(offset + 4, (value >> 32) as u32);
                let lo = self.write32(offset, value as u32);
                hi && lo
            }
            _ => false,
        };
        if !ok {
            guest_error!("goldfish_rtc: {}-byte write of {value:#x} at bad offset {offset:#x}", size.bytes());
        }
        self.update();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mock::RecordingIrq;
    use mimic_core::ManualClock;

    const EPOCH: u64 = 0x1234_5678_9abc_def0;

    fn rtc() -> (GoldfishRtc<RecordingIrq>, ManualClock, RecordingIrq) {
        let clock = ManualClock::new();
        let irq = RecordingIrq::new();
        (GoldfishRtc::with_epoch(Arc::new(clock.clone()), EPOCH, irq.clone()), clock, irq)
    }

    fn r(d: &mut GoldfishRtc<RecordingIrq>, offset: u64) -> u32 {
        d.read(offset, Size::B4) as u32
    }

    fn w(d: &mut GoldfishRtc<RecordingIrq>, offset: u64, value: u64) {
        d.write(offset, Size::B4, value);
    }

    /// Arm the alarm at absolute time `t` (high half first, as Linux does).
    fn set_alarm(d: &mut GoldfishRtc<RecordingIrq>, t: u64) {
        w(d, ALARM_HIGH, t >> 32);
        w(d, ALARM_LOW, t & 0xffff_ffff);
    }

    #[test]
    fn rtc_time_reads_epoch_plus_elapsed() {
        let (mut d, clock, _) = rtc();
        clock.advance_ns(1_000);
        let lo = r(&mut d, TIME_LOW);
        let hi = r(&mut d, TIME_HIGH);
        assert_eq!((u64::from(hi) << 32) | u64::from(lo), EPOCH + 1_000);
    }

    #[test]
    fn rtc_new_reads_host_wall_clock() {
        let d = GoldfishRtc::new(Arc::new(ManualClock::new()), RecordingIrq::new());
        let host = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos() as u64;
        assert!(host.abs_diff(d.now_ns()) < 60_000_000_000);
    }

    #[test]
    fn rtc_time_high_read_returns_latched_value() {
        let (mut d, clock, _) = rtc();
        w(&mut d, TIME_HIGH, 0);
        w(&mut d, TIME_LOW, 0xffff_ffff);
        r(&mut d, TIME_LOW);
        clock.advance_ns(10); // carries into the high half
        assert_eq!(r(&mut d, TIME_HIGH), 0);
    }

    #[test]
    fn rtc_time_write_sets_guest_time() {
        let (mut d, clock, _) = rtc();
        w(&mut d, TIME_HIGH, 0x11);
        w(&mut d, TIME_LOW, 0x22);
        clock.advance_ns(5);
        assert_eq!(d.now_ns(), (0x11 << 32) + 0x22 + 5);
    }

    #[test]
    fn rtc_8byte_time_read_is_whole_time() {
        let (mut d, _, _) = rtc();
        assert_eq!(d.read(TIME_LOW, Size::B8), EPOCH);
    }

    #[test]
    fn rtc_alarm_low_write_arms_alarm() {
        let (mut d, _, _) = rtc();
        set_alarm(&mut d, EPOCH + 100);
        assert_eq!(r(&mut d, ALARM_STATUS), 1);
    }

    #[test]
    fn rtc_alarm_due_with_irq_enabled_raises_irq() {
        let (mut d, clock, irq) = rtc();
        w(&mut d, IRQ_ENABLED, 1);
        set_alarm(&mut d, EPOCH + 100);
        clock.advance_ns(100);
        d.update();
        assert_eq!((irq.level(), r(&mut d, ALARM_STATUS)), (true, 0));
    }

    #[test]
    fn rtc_alarm_not_due_keeps_irq_low() {
        let (mut d, clock, irq) = rtc();
        w(&mut d, IRQ_ENABLED, 1);
        set_alarm(&mut d, EPOCH + 100);
        clock.advance_ns(99);
        d.update();
        assert!(!irq.level());
    }

    #[test]
    fn rtc_alarm_due_with_irq_disabled_keeps_line_low_until_enabled() {
        let (mut d, clock, irq) = rtc();
        set_alarm(&mut d, EPOCH + 100);
        clock.advance_ns(100);
        d.update();
        let before = irq.level();
        w(&mut d, IRQ_ENABLED, 1);
        assert_eq!((before, irq.level()), (false, true));
    }

    #[test]
    fn rtc_alarm_in_past_fires_at_once() {
        let (mut d, _, irq) = rtc();
        w(&mut d, IRQ_ENABLED, 1);
        set_alarm(&mut d, EPOCH - 1);
        assert!(irq.level());
    }

    #[test]
    fn rtc_clear_interrupt_lowers_irq() {
        let (mut d, _, irq) = rtc();
        w(&mut d, IRQ_ENABLED, 1);
        set_alarm(&mut d, 0);
        w(&mut d, CLEAR_INTERRUPT, 1);
        assert_eq!(irq.history(), vec![true, false]);
    }

    #[test]
    fn rtc_clear_alarm_disarms() {
        let (mut d, clock, irq) = rtc();
        w(&mut d, IRQ_ENABLED, 1);
        set_alarm(&mut d, EPOCH + 100);
        w(&mut d, CLEAR_ALARM, 1);
        clock.advance_ns(1_000);
        d.update();
        assert_eq!((irq.level(), d.next_deadline_ns()), (false, None));
    }

    #[test]
    fn rtc_next_deadline_is_time_to_alarm() {
        let (mut d, clock, _) = rtc();
        set_alarm(&mut d, EPOCH + 1_000);
        clock.advance_ns(300);
        assert_eq!(d.next_deadline_ns(), Some(700));
    }

    #[test]
    fn rtc_8byte_alarm_write_arms_with_both_halves() {
        let (mut d, _, _) = rtc();
        d.write(ALARM_LOW, Size::B8, EPOCH + 50);
        assert_eq!((d.state().alarm_ns, d.next_deadline_ns()), (EPOCH + 50, Some(50)));
    }

    #[test]
    fn rtc_reset_keeps_time_and_clears_alarm() {
        let (mut d, _, irq) = rtc();
        w(&mut d, TIME_HIGH, 7);
        w(&mut d, IRQ_ENABLED, 1);
        set_alarm(&mut d, 0);
        d.reset();
        assert_eq!((d.now_ns() >> 32, irq.level(), d.state().alarm_armed), (7, false, false));
    }

    #[test]
    fn rtc_bad_offsets_and_sizes_read_zero() {
        let (mut d, _, irq) = rtc();
        w(&mut d, 0x20, 1);
        d.write(IRQ_ENABLED, Size::B1, 1);
        let reads = [
            d.read(0x20, Size::B4),
            d.read(TIME_LOW, Size::B2),
            d.read(TIME_HIGH, Size::B8),
            d.read(u64::MAX, Size::B4),
        ];
        assert_eq!((reads, d.state().irq_enabled, irq.history()), ([0; 4], false, vec![]));
    }
}
