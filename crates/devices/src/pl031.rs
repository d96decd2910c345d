//! ARM PrimeCell real-time clock PL031 (DDI 0224), as QEMU's `virt` machine has it (`arm,pl031`
//! at `0x0901_0000`, SPI 2; Linux's `rtc-pl031`, EDK2's `PL031RealTimeClockLib`).
//!
//! | offset | register | read | write |
//! |---|---|---|---|
//! | `0x000` | RTCDR | the counter: seconds since the Unix epoch (32 bits, wrapping) | — |
//! | `0x004` | RTCMR | the match value | set the match value (re-arms the match) |
//! | `0x008` | RTCLR | the last value loaded | load the counter (re-arms the match) |
//! | `0x00c` | RTCCR | 1: the RTC always runs (as QEMU) | ignored |
//! | `0x010` | RTCIMSC | bit 0: match interrupt enabled | bit 0 |
//! | `0x014` | RTCRIS | bit 0: match interrupt raw status | — |
//! | `0x018` | RTCMIS | `RIS & IMSC` | — |
//! | `0x01c` | RTCICR | 0 | bit 0 = 1 clears the interrupt |
//! | `0xfe0..0x1000` | PeriphID0..3, PCellID0..3 | `0x00041031`, `0xb105f00d` | — |
//!
//! Time comes as in [`crate::goldfish_rtc`]: the host's wall-clock time when the device was
//! made, plus the elapsed time of the board's [`Clock`], plus an offset that RTCLR writes move
//! (the counter then reads the loaded value at once and counts on from there, sub-second phase
//! reset). The match interrupt fires when the counter reaches RTCMR: writing RTCMR or RTCLR arms
//! it for the next second boundary at which the counter equals RTCMR (at once if it equals it
//! now, as QEMU); firing sets RTCRIS and disarms. The line is high while `RIS & IMSC`.
//!
//! Nothing ticks: the match is checked on every register access and when the board calls
//! [`Pl031::update`]; [`Pl031::next_deadline_ns`] says when to call it.
//!
//! Registers are 32 bits at word-aligned offsets; 1- and 2-byte accesses act on the low bits,
//! 8-byte ones as 32-bit ones (logged); unaligned and unknown offsets and writes to read-only
//! registers are logged, read 0 and are ignored.

use crate::access::DrivenLine;
use crate::primecell::{id_register, narrow};
use mimic_core::{guest_error, Clock, IrqLine, Size};
use mimic_memory::MmioDevice;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

/// Device-tree `compatible` (with `clock-names = "apb_pclk"`).
pub const COMPATIBLE: [&str; 2] = ["arm,pl031", "arm,primecell"];
/// The PL031's peripheral ID.
pub const PERIPH_ID: u32 = 0x0004_1031;

pub const RTCDR: u64 = 0x000;
pub const RTCMR: u64 = 0x004;
pub const RTCLR: u64 = 0x008;
pub const RTCCR: u64 = 0x00c;
pub const RTCIMSC: u64 = 0x010;
pub const RTCRIS: u64 = 0x014;
pub const RTCMIS: u64 = 0x018;
pub const RTCICR: u64 = 0x01c;

const NS_PER_SEC: u64 = 1_000_000_000;

/// Guest-visible RTC state.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Pl031State {
    /// Added (wrapping) to the host-derived time in ns; moved by RTCLR writes.
    pub offset_ns: u64,
    pub mr: u32,
    pub lr: u32,
    pub imsc: bool,
    pub ris: bool,
    /// Guest time (ns since the epoch, as [`Pl031::now_ns`]) at which the match fires, if armed.
    pub alarm_ns: Option<u64>,
}

/// A PL031 timed by `clock`, interrupting on `I`.
pub struct Pl031<I> {
    clock: Arc<dyn Clock>,
    /// Unix time in ns when `clock` read 0.
    epoch_ns: u64,
    state: Pl031State,
    irq: DrivenLine<I>,
}

impl<I> std::fmt::Debug for Pl031<I> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pl031").field("epoch_ns", &self.epoch_ns).field("state", &self.state).finish_non_exhaustive()
    }
}

impl<I: IrqLine> Pl031<I> {
    /// An RTC showing the host's wall-clock time, advancing with `clock`.
    pub fn new(clock: Arc<dyn Clock>, irq: I) -> Self {
        let wall = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64);
        let epoch_ns = wall.wrapping_sub(clock.now_ns());
        Self::with_epoch(clock, epoch_ns, irq)
    }

    /// An RTC that reads `epoch_ns` (ns since the Unix epoch) when `clock` reads 0.
    pub fn with_epoch(clock: Arc<dyn Clock>, epoch_ns: u64, irq: I) -> Self {
        Pl031 { clock, epoch_ns, state: Pl031State::default(), irq: DrivenLine::new(irq) }
    }

    /// The time the guest sees, in ns since the Unix epoch.
    pub fn now_ns(&self) -> u64 {
        self.epoch_ns.wrapping_add(self.clock.now_ns()).wrapping_add(self.state.offset_ns)
    }

    /// The counter (RTCDR).
    pub fn count(&self) -> u32 {
        (self.now_ns() / NS_PER_SEC) as u32
    }

    /// Fire the match if its time has come, and drive the line.
    pub fn update(&mut self) {
        if self.state.alarm_ns.is_some_and(|t| self.now_ns() >= t) {
            self.state.alarm_ns = None;
            self.state.ris = true;
        }
        self.irq.set(self.state.ris && self.state.imsc);
    }

    /// Nanoseconds from now until the armed match fires (`Some(0)` if due), `None` if disarmed.
    pub fn next_deadline_ns(&self) -> Option<u64> {
        self.state.alarm_ns.map(|t| t.saturating_sub(self.now_ns()))
    }

    /// Hardware reset: match, load, mask and interrupt cleared. The time keeps running (it is a
    /// battery-backed clock), guest-set offset included.
    pub fn reset(&mut self) {
        self.state = Pl031State { offset_ns: self.state.offset_ns, ..Pl031State::default() };
        self.update();
    }

    pub fn state(&self) -> &Pl031State {
        &self.state
    }

    /// Restore a saved state and drive the line to match.
    pub fn set_state(&mut self, state: Pl031State) {
        self.state = state;
        self.irq.force(self.state.ris && self.state.imsc);
        self.update();
    }

    /// Arm the match for the next time the counter equals RTCMR.
    fn arm(&mut self) {
        let now = self.now_ns();
        let delta = self.state.mr.wrapping_sub((now / NS_PER_SEC) as u32);
        let next = (now / NS_PER_SEC + u64::from(delta)).saturating_mul(NS_PER_SEC);
        self.state.alarm_ns = Some(if delta == 0 { now } else { next });
    }

    fn read32(&mut self, offset: u64) -> Option<u32> {
        let s = &self.state;
        Some(match offset {
            RTCDR => self.count(),
            RTCMR => s.mr,
            RTCLR => s.lr,
            RTCCR => 1,
            RTCIMSC => u32::from(s.imsc),
            RTCRIS => u32::from(s.ris),
            RTCMIS => u32::from(s.ris && s.imsc),
            RTCICR => 0,
            _ => return id_register(offset, PERIPH_ID),
        })
    }

    fn write32(&mut self, offset: u64, value: u32) -> bool {
        match offset {
            RTCMR => {
                self.state.mr = value;
                self.arm();
            }
            RTCLR => {
                let target = u64::from(value) * NS_PER_SEC;
                let host = self.epoch_ns.wrapping_add(self.clock.now_ns());
                self.state.offset_ns = target.wrapping_sub(host);
                self.state.lr = value;
                self.arm();
            }
            RTCCR => {}
            RTCIMSC => self.state.imsc = value & 1 != 0,
            RTCICR => {
                if value & 1 != 0 {
                    self.state.ris = false;
                }
            }
            RTCDR | RTCRIS | RTCMIS => guest_error!("pl031: write {value:#x} to read-only register {offset:#x}"),
            _ => return false,
        }
        true
    }
}

impl<I: IrqLine> MmioDevice for Pl031<I> {
    fn read(&mut self, offset: u64, size: Size) -> u64 {
        self.update();
        if size == Size::B8 {
            guest_error!("pl031: 8-byte read at {offset:#x}, registers are 32 bits");
        }
        let v = if offset.is_multiple_of(4) { self.read32(offset) } else { None };
        v.map_or_else(
            || {
                guest_error!("pl031: {}-byte read at bad offset {offset:#x}", size.bytes());
                0
            },
            |v| narrow(v, size),
        )
    }

    fn write(&mut self, offset: u64, size: Size, value: u64) {
        if size == Size::B8 {
            guest_error!("pl031: 8-byte write at {offset:#x}, registers are 32 bits");
        }
        let value = narrow(value as u32, size) as u32;
        if !offset.is_multiple_of(4) || !self.write32(offset, value) {
            guest_error!("pl031: {}-byte write of {value:#x} at bad offset {offset:#x}", size.bytes());
        }
        self.update();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mock::RecordingIrq;
    use mimic_core::ManualClock;

    /// 2026-01-01T00:00:00Z plus half a second.
    const EPOCH: u64 = 1_767_225_600 * NS_PER_SEC + NS_PER_SEC / 2;
    const SECS: u32 = 1_767_225_600;

    fn rtc() -> (Pl031<RecordingIrq>, ManualClock, RecordingIrq) {
        let clock = ManualClock::new();
        let irq = RecordingIrq::new();
        (Pl031::with_epoch(Arc::new(clock.clone()), EPOCH, irq.clone()), clock, irq)
    }

    fn r(d: &mut Pl031<RecordingIrq>, offset: u64) -> u32 {
        d.read(offset, Size::B4) as u32
    }

    fn w(d: &mut Pl031<RecordingIrq>, offset: u64, value: u32) {
        d.write(offset, Size::B4, u64::from(value));
    }

    #[test]
    fn pl031_dr_reads_epoch_seconds_plus_elapsed() {
        let (mut d, clock, _) = rtc();
        clock.advance_ns(3 * NS_PER_SEC);
        assert_eq!(r(&mut d, RTCDR), SECS + 3);
    }

    #[test]
    fn pl031_new_reads_host_wall_clock() {
        let mut d = Pl031::new(Arc::new(ManualClock::new()), RecordingIrq::new());
        let host = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs();
        assert!(host.abs_diff(u64::from(r(&mut d, RTCDR))) < 60);
    }

    #[test]
    fn pl031_lr_write_loads_counter_and_reads_back() {
        let (mut d, clock, _) = rtc();
        w(&mut d, RTCLR, 1000);
        clock.advance_ns(2 * NS_PER_SEC);
        assert_eq!((r(&mut d, RTCDR), r(&mut d, RTCLR)), (1002, 1000));
    }

    #[test]
    fn pl031_match_with_mask_raises_irq_when_reached() {
        let (mut d, clock, irq) = rtc();
        w(&mut d, RTCIMSC, 1);
        w(&mut d, RTCMR, SECS + 2);
        clock.advance_ns(NS_PER_SEC);
        d.update();
        let early = irq.level();
        clock.advance_ns(NS_PER_SEC / 2);
        d.update();
        assert_eq!((early, irq.level(), r(&mut d, RTCMIS)), (false, true, 1));
    }

    #[test]
    fn pl031_match_without_mask_sets_only_ris() {
        let (mut d, clock, irq) = rtc();
        w(&mut d, RTCMR, SECS + 1);
        clock.advance_ns(NS_PER_SEC);
        assert_eq!((r(&mut d, RTCRIS), r(&mut d, RTCMIS), irq.level()), (1, 0, false));
    }

    #[test]
    fn pl031_match_equal_to_counter_fires_at_once() {
        let (mut d, _, irq) = rtc();
        w(&mut d, RTCIMSC, 1);
        w(&mut d, RTCMR, SECS);
        assert!(irq.level());
    }

    #[test]
    fn pl031_icr_clears_interrupt() {
        let (mut d, _, irq) = rtc();
        w(&mut d, RTCIMSC, 1);
        w(&mut d, RTCMR, SECS);
        w(&mut d, RTCICR, 1);
        assert_eq!((irq.history(), r(&mut d, RTCRIS)), (vec![true, false], 0));
    }

    #[test]
    fn pl031_next_deadline_is_next_second_boundary_of_match() {
        let (mut d, _, _) = rtc();
        w(&mut d, RTCMR, SECS + 1);
        assert_eq!(d.next_deadline_ns(), Some(NS_PER_SEC / 2));
    }

    #[test]
    fn pl031_match_fires_once() {
        let (mut d, clock, _) = rtc();
        w(&mut d, RTCMR, SECS + 1);
        clock.advance_ns(NS_PER_SEC);
        d.update();
        w(&mut d, RTCICR, 1);
        clock.advance_ns(NS_PER_SEC);
        assert_eq!((r(&mut d, RTCRIS), d.next_deadline_ns()), (0, None));
    }

    #[test]
    fn pl031_cr_reads_one_and_ignores_writes() {
        let (mut d, _, _) = rtc();
        w(&mut d, RTCCR, 0);
        assert_eq!(r(&mut d, RTCCR), 1);
    }

    #[test]
    fn pl031_id_registers_read_primecell_ids() {
        let (mut d, _, _) = rtc();
        let ids: Vec<u32> = (0..8).map(|i| r(&mut d, 0xfe0 + 4 * i)).collect();
        assert_eq!(ids, vec![0x31, 0x10, 0x04, 0x00, 0x0d, 0xf0, 0x05, 0xb1]);
    }

    #[test]
    fn pl031_bad_accesses_read_zero_without_effect() {
        let (mut d, _, irq) = rtc();
        w(&mut d, RTCDR, 5);
        w(&mut d, 0x020, 1);
        d.write(RTCIMSC + 1, Size::B1, 1);
        let reads = [d.read(0x020, Size::B4), d.read(RTCDR + 2, Size::B2), d.read(u64::MAX, Size::B4)];
        assert_eq!((reads, d.state(), irq.history()), ([0; 3], &Pl031State::default(), vec![]));
    }

    #[test]
    fn pl031_reset_keeps_time_and_clears_interrupt() {
        let (mut d, _, irq) = rtc();
        w(&mut d, RTCLR, 77);
        w(&mut d, RTCIMSC, 1);
        w(&mut d, RTCMR, 77);
        d.reset();
        assert_eq!((r(&mut d, RTCDR), irq.level(), d.next_deadline_ns()), (77, false, None));
    }

    #[test]
    fn pl031_set_state_restores_and_drives_irq() {
        let (mut d, _, _) = rtc();
        w(&mut d, RTCIMSC, 1);
        w(&mut d, RTCMR, SECS);
        let saved = d.state().clone();
        let (mut e, _, irq) = rtc();
        e.set_state(saved);
        assert_eq!((irq.level(), r(&mut e, RTCMIS)), (true, 1));
    }

    proptest::proptest! {
        /// Random register traffic and time never panic and keep the line equal to MIS.
        #[test]
        fn pl031_random_accesses_never_panic(
            ops in proptest::collection::vec((0u64..0x1008, 0u8..4, proptest::prelude::any::<u32>(), proptest::prelude::any::<bool>(), 0u64..3_000_000_000), 1..60),
        ) {
            let (mut d, clock, irq) = rtc();
            for (offset, size, v, write, dt) in ops {
                let size = [Size::B1, Size::B2, Size::B4, Size::B8][usize::from(size)];
                if write { d.write(offset, size, u64::from(v)); } else { d.read(offset, size); }
                clock.advance_ns(dt);
                d.update();
                d.next_deadline_ns();
            }
            let mis = d.read(RTCMIS, Size::B4);
            proptest::prop_assert_eq!(irq.level(), mis != 0);
        }
    }
}
