//! SiFive CLINT (core-local interruptor), i.e. an ACLINT MSWI (machine software interrupts) and
//! MTIMER (machine timer) pair, at the layout QEMU's `virt` machine uses (`0x0200_0000`, 64 KiB):
//!
//! | offset | register | width | meaning |
//! |---|---|---|---|
//! | `0x0000 + 4h` | `msip[h]` | 32 | bit 0 drives hart h's MSIP; other bits read 0 |
//! | `0x4000 + 8h` | `mtimecmp[h]` | 64 | MTIP of hart h is high while `mtime >= mtimecmp[h]` |
//! | `0xbff8` | `mtime` | 64 | the 10 MHz platform timer, writable |
//!
//! 64-bit registers take 8-byte accesses or aligned 32-bit halves (RV32 software writes
//! `mtimecmp` as two halves). `msip` takes 4-byte accesses; an aligned 8-byte access covers two
//! harts' words. Anything else is logged, reads 0 and is ignored.
//!
//! Time: `mtime` counts at [`TIMEBASE_HZ`] (10 MHz, as QEMU's `virt` advertises in the device
//! tree), derived from a [`Clock`] (ticks = ns / 100). The counter lives in [`MTime`], a cheap
//! cloneable handle shared with the CPUs, whose `time` CSR must read the very same value; a guest
//! write to `mtime` moves an offset inside it, so the CSR follows. Nothing ticks: MTIP is
//! re-evaluated on every register access and when the board calls [`Clint::update`] (periodically
//! and when a sleeping hart wakes); [`Clint::next_deadline_ns`] tells a sleeping board how long it
//! may sleep.
//!
//! Reset (ACLINT spec): `msip = 0`, `mtime = 0`; `mtimecmp` is unspecified there and reset to
//! `u64::MAX` here (QEMU's choice too), so no timer fires until software programs one.

use crate::access::{read_part, write_part, DrivenLine};
use mimic_core::{guest_error, Clock, IrqLine, Size};
use mimic_memory::MmioDevice;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Frequency of `mtime` (the device tree's `timebase-frequency`).
pub const TIMEBASE_HZ: u64 = 10_000_000;
const NS_PER_TICK: u64 = 1_000_000_000 / TIMEBASE_HZ;

/// Offset of `msip[0]`.
pub const MSIP_BASE: u64 = 0x0;
/// Offset of `mtimecmp[0]`.
pub const MTIMECMP_BASE: u64 = 0x4000;
/// Offset of `mtime`.
pub const MTIME_OFFSET: u64 = 0xbff8;
/// Size of the register window.
pub const SIZE: u64 = 0x1_0000;
/// Most harts this layout has room for (`mtimecmp` would run into `mtime`).
pub const MAX_HARTS: usize = ((MTIME_OFFSET - MTIMECMP_BASE) / 8) as usize;

/// Building a CLINT went wrong (a board bug).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ClintError {
    #[error("a CLINT serves 1 to {MAX_HARTS} harts, not {0}")]
    HartCount(usize),
}

/// The machine timer counter, shared by the CLINT and every hart's `time` CSR.
///
/// `mtime = clock.now_ns() / 100 + offset` (wrapping), where `offset` changes only when software
/// writes `mtime`. Clones share the counter.
#[derive(Clone)]
pub struct MTime(Arc<MTimeInner>);

struct MTimeInner {
    clock: Arc<dyn Clock>,
    offset: AtomicU64,
}

impl std::fmt::Debug for MTime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MTime").field("ticks", &self.read()).finish()
    }
}

impl MTime {
    /// A counter that reads `clock`'s time in 100 ns ticks.
    pub fn new(clock: Arc<dyn Clock>) -> Self {
        MTime(Arc::new(MTimeInner { clock, offset: AtomicU64::new(0) }))
    }

    fn raw_ticks(&self) -> (u64, u64) {
        let now_ns = self.0.clock.now_ns();
        (now_ns, now_ns / NS_PER_TICK)
    }

    /// The current value of `mtime`.
    pub fn read(&self) -> u64 {
        let (_, raw) = self.raw_ticks();
        raw.wrapping_add(self.0.offset.load(Ordering::Acquire))
    }

    /// Set `mtime` to `value` now; it keeps counting from there.
    pub fn write(&self, value: u64) {
        let (_, raw) = self.raw_ticks();
        self.0.offset.store(value.wrapping_sub(raw), Ordering::Release);
    }

    /// Nanoseconds of clock time from now until `mtime >= ticks`: `Some(0)` if it already is,
    /// `None` if that is further away than `u64::MAX` ns (for instance `ticks = u64::MAX`, the
    /// "no timer" value).
    pub fn ns_until(&self, ticks: u64) -> Option<u64> {
        let (now_ns, raw) = self.raw_ticks();
        let mtime = raw.wrapping_add(self.0.offset.load(Ordering::Acquire));
        if mtime >= ticks {
            return Some(0);
        }
        // mtime reaches `ticks` when the raw tick count reaches raw + delta, i.e. at clock time
        // (raw + delta) * 100 ns; computed in u128 so that nothing overflows.
        let target_ns = (u128::from(raw) + u128::from(ticks - mtime)) * u128::from(NS_PER_TICK);
        u64::try_from(target_ns - u128::from(now_ns)).ok()
    }
}

/// The two interrupt outputs of one hart.
#[derive(Debug)]
pub struct ClintHart<I> {
    /// Machine software interrupt (the board wires it to `mip.MSIP`).
    pub msip: I,
    /// Machine timer interrupt (to `mip.MTIP`).
    pub mtip: I,
}

/// Guest-visible CLINT state (`mtime` itself is in [`MTime`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClintState {
    pub msip: Vec<bool>,
    pub mtimecmp: Vec<u64>,
}

impl ClintState {
    fn reset(harts: usize) -> Self {
        ClintState { msip: vec![false; harts], mtimecmp: vec![u64::MAX; harts] }
    }
}

/// A CLINT for `harts.len()` harts.
pub struct Clint<I> {
    mtime: MTime,
    state: ClintState,
    msip: Vec<DrivenLine<I>>,
    mtip: Vec<DrivenLine<I>>,
}

impl<I> std::fmt::Debug for Clint<I> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Clint").field("mtime", &self.mtime).field("state", &self.state).finish_non_exhaustive()
    }
}

impl<I: IrqLine> Clint<I> {
    /// A CLINT in its reset state reading time from `mtime`, with one [`ClintHart`] of output
    /// lines per hart, in hart order. (`mtime` is not reset here: the board owns the counter.)
    pub fn new(mtime: MTime, harts: Vec<ClintHart<I>>) -> Result<Self, ClintError> {
        if harts.is_empty() || harts.len() > MAX_HARTS {
            return Err(ClintError::HartCount(harts.len()));
        }
        let n = harts.len();
        let (msip, mtip) = harts.into_iter().map(|h| (DrivenLine::new(h.msip), DrivenLine::new(h.mtip))).unzip();
        Ok(Clint { mtime, state: ClintState::reset(n), msip, mtip })
    }

    /// The shared counter (clone it for the harts' `time` CSR).
    pub fn mtime(&self) -> &MTime {
        &self.mtime
    }

    pub fn num_harts(&self) -> usize {
        self.state.msip.len()
    }

    /// Re-evaluate every hart's MTIP against the current time.
    pub fn update(&mut self) {
        let now = self.mtime.read();
        for (line, &cmp) in self.mtip.iter_mut().zip(&self.state.mtimecmp) {
            line.set(now >= cmp);
        }
    }

    /// Nanoseconds from now until the next MTIP rising edge (the earliest `mtimecmp` not yet
    /// reached), or `None` if no timer is armed. Harts whose timer already fired are left out:
    /// their line is high already and only software can change that.
    pub fn next_deadline_ns(&self) -> Option<u64> {
        let now = self.mtime.read();
        self.state.mtimecmp.iter().filter(|&&cmp| cmp > now).filter_map(|&cmp| self.mtime.ns_until(cmp)).min()
    }

    /// Hardware reset: `msip = 0`, `mtimecmp = u64::MAX`, `mtime = 0`; all lines fall.
    pub fn reset(&mut self) {
        self.state = ClintState::reset(self.num_harts());
        self.mtime.write(0);
        self.drive_all(false);
    }

    pub fn state(&self) -> &ClintState {
        &self.state
    }

    /// Restore saved registers (vectors of another length are cut or padded with reset values)
    /// and drive every line to match.
    pub fn set_state(&mut self, mut state: ClintState) {
        let n = self.num_harts();
        state.msip.resize(n, false);
        state.mtimecmp.resize(n, u64::MAX);
        self.state = state;
        self.drive_all(true);
    }

    fn drive_all(&mut self, force: bool) {
        let now = self.mtime.read();
        for h in 0..self.num_harts() {
            let (sw, timer) = (self.state.msip[h], now >= self.state.mtimecmp[h]);
            if force {
                self.msip[h].force(sw);
                self.mtip[h].force(timer);
            } else {
                self.msip[h].set(sw);
                self.mtip[h].set(timer);
            }
        }
    }

    fn msip_read(&self, hart: usize) -> Option<u64> {
        self.state.msip.get(hart).map(|&b| u64::from(b))
    }

    fn msip_write(&mut self, hart: usize, value: u64) -> bool {
        let Some(bit) = self.state.msip.get_mut(hart) else {
            return false;
        };
        *bit = value & 1 != 0;
        self.msip[hart].set(*bit);
        true
    }
}

impl<I: IrqLine> MmioDevice for Clint<I> {
    fn read(&mut self, offset: u64, size: Size) -> u64 {
        let v = match offset {
            MSIP_BASE..MTIMECMP_BASE => {
                let hart = ((offset - MSIP_BASE) / 4) as usize;
                match (size, offset % 8) {
                    (Size::B4, _) if offset.is_multiple_of(4) => self.msip_read(hart),
                    (Size::B8, 0) => self.msip_read(hart).map(|lo| lo | (self.msip_read(hart + 1).unwrap_or(0) << 32)),
                    _ => None,
                }
            }
            MTIMECMP_BASE..MTIME_OFFSET => {
                let hart = ((offset - MTIMECMP_BASE) / 8) as usize;
                let sub = (offset - MTIMECMP_BASE) % 8;
                self.state.mtimecmp.get(hart).and_then(|&cmp| read_part(cmp, sub, size))
            }
            MTIME_OFFSET..SIZE => read_part(self.mtime.read(), offset - MTIME_OFFSET, size),
            _ => None,
        };
        v.unwrap_or_else(|| {
            guest_error!("clint: {}-byte read at bad offset {offset:#x}", size.bytes());
            0
        })
    }

    fn write(&mut self, offset: u64, size: Size, value: u64) {
        let ok = match offset {
            MSIP_BASE..MTIMECMP_BASE => {
                let hart = ((offset - MSIP_BASE) / 4) as usize;
                match (size, offset % 8) {
                    (Size::B4, _) if offset.is_multiple_of(4) => self.msip_write(hart, value),
                    (Size::B8, 0) => {
                        let lo = self.msip_write(hart, value);
                        // The upper word may lie past the last hart, like a lone 4-byte write there.
                        let hi = hart + 1 >= self.num_harts() || self.msip_write(hart + 1, value >> 32);
                        lo && hi
                    }
                    _ => false,
                }
            }
            MTIMECMP_BASE..MTIME_OFFSET => {
                let hart = ((offset - MTIMECMP_BASE) / 8) as usize;
                let sub = (offset - MTIMECMP_BASE) % 8;
                match self.state.mtimecmp.get(hart).and_then(|&cmp| write_part(cmp, sub, size, value)) {
                    Some(new) => {
                        self.state.mtimecmp[hart] = new;
                        let fired = self.mtime.read() >= new;
                        self.mtip[hart].set(fired);
                        true
                    }
                    None => false,
                }
            }
            MTIME_OFFSET..SIZE => match write_part(self.mtime.read(), offset - MTIME_OFFSET, size, value) {
                Some(new) => {
                    self.mtime.write(new);
                    self.update();
                    true
                }
                None => false,
            },
            _ => false,
        };
        if !ok {
            guest_error!("clint: {}-byte write of {value:#x} at bad offset {offset:#x}", size.bytes());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mock::RecordingIrq;
    use mimic_core::ManualClock;

    struct Rig {
        clint: Clint<RecordingIrq>,
        clock: ManualClock,
        msip: Vec<RecordingIrq>,
        mtip: Vec<RecordingIrq>,
    }

    fn rig(harts: usize) -> Rig {
        let clock = ManualClock::new();
        let mtime = MTime::new(Arc::new(clock.clone()));
        let msip: Vec<RecordingIrq> = (0..harts).map(|_| RecordingIrq::new()).collect();
        let mtip: Vec<RecordingIrq> = (0..harts).map(|_| RecordingIrq::new()).collect();
        let lines = msip.iter().zip(&mtip).map(|(s, t)| ClintHart { msip: s.clone(), mtip: t.clone() }).collect();
        Rig { clint: Clint::new(mtime, lines).unwrap(), clock, msip, mtip }
    }

    #[test]
    fn mtime_reads_clock_in_100ns_ticks() {
        let r = rig(1);
        r.clock.advance_ns(1_000_050);
        assert_eq!(r.clint.mtime().read(), 10_000);
    }

    #[test]
    fn mtime_write_sets_counter_and_keeps_counting() {
        let r = rig(1);
        r.clock.advance_ns(500);
        r.clint.mtime().write(1_000);
        r.clock.advance_ns(300);
        assert_eq!(r.clint.mtime().read(), 1_003);
    }

    #[test]
    fn mtime_clone_sees_guest_write() {
        let mut r = rig(1);
        let csr = r.clint.mtime().clone();
        r.clint.write(MTIME_OFFSET, Size::B8, 77);
        assert_eq!(csr.read(), 77);
    }

    #[test]
    fn mtime_ns_until_future_tick_is_exact() {
        let r = rig(1);
        r.clock.advance_ns(150); // mtime = 1, 50 ns into the tick
        assert_eq!(r.clint.mtime().ns_until(3), Some(150));
    }

    #[test]
    fn mtime_ns_until_past_tick_is_zero() {
        let r = rig(1);
        r.clock.advance_ns(1_000);
        assert_eq!(r.clint.mtime().ns_until(5), Some(0));
    }

    #[test]
    fn mtime_ns_until_max_is_none() {
        let r = rig(1);
        assert_eq!(r.clint.mtime().ns_until(u64::MAX), None);
    }

    #[test]
    fn clint_msip_write_raises_msip_line() {
        let mut r = rig(2);
        r.clint.write(MSIP_BASE + 4, Size::B4, 1);
        assert_eq!((r.msip[0].level(), r.msip[1].level()), (false, true));
    }

    #[test]
    fn clint_msip_keeps_bit0_only() {
        let mut r = rig(1);
        r.clint.write(MSIP_BASE, Size::B4, 0xffff_fffe);
        assert_eq!((r.clint.read(MSIP_BASE, Size::B4), r.msip[0].level()), (0, false));
    }

    #[test]
    fn clint_msip_8byte_write_covers_two_harts() {
        let mut r = rig(2);
        r.clint.write(MSIP_BASE, Size::B8, (1 << 32) | 1);
        assert_eq!(r.clint.read(MSIP_BASE, Size::B8), (1 << 32) | 1);
    }

    #[test]
    fn clint_reset_mtimecmp_is_max() {
        let mut r = rig(1);
        assert_eq!(r.clint.read(MTIMECMP_BASE, Size::B8), u64::MAX);
    }

    #[test]
    fn clint_mtimecmp_in_past_raises_mtip() {
        let mut r = rig(1);
        r.clock.advance_ns(1_000);
        r.clint.write(MTIMECMP_BASE, Size::B8, 5);
        assert!(r.mtip[0].level());
    }

    #[test]
    fn clint_mtimecmp_in_future_keeps_mtip_low() {
        let mut r = rig(1);
        r.clint.write(MTIMECMP_BASE, Size::B8, 5);
        assert!(!r.mtip[0].level());
    }

    #[test]
    fn clint_update_after_deadline_raises_mtip() {
        let mut r = rig(2);
        r.clint.write(MTIMECMP_BASE + 8, Size::B8, 10);
        r.clock.advance_ns(1_000);
        r.clint.update();
        assert_eq!((r.mtip[0].level(), r.mtip[1].level()), (false, true));
    }

    #[test]
    fn clint_mtimecmp_rewrite_to_future_lowers_mtip() {
        let mut r = rig(1);
        r.clint.write(MTIMECMP_BASE, Size::B8, 0);
        r.clint.write(MTIMECMP_BASE, Size::B8, 100);
        assert_eq!(r.mtip[0].history(), vec![true, false]);
    }

    #[test]
    fn clint_mtimecmp_32bit_halves_compose() {
        let mut r = rig(1);
        r.clint.write(MTIMECMP_BASE, Size::B4, 0x89ab_cdef);
        r.clint.write(MTIMECMP_BASE + 4, Size::B4, 0x0123_4567);
        assert_eq!(r.clint.read(MTIMECMP_BASE, Size::B8), 0x0123_4567_89ab_cdef);
    }

    #[test]
    fn clint_mtime_high_half_read_is_upper_word() {
        let mut r = rig(1);
        r.clint.write(MTIME_OFFSET, Size::B8, 0x0000_0005_0000_0007);
        assert_eq!(r.clint.read(MTIME_OFFSET + 4, Size::B4), 5);
    }

    #[test]
    fn clint_mtime_write_past_mtimecmp_raises_mtip() {
        let mut r = rig(1);
        r.clint.write(MTIMECMP_BASE, Size::B8, 1_000);
        r.clint.write(MTIME_OFFSET, Size::B8, 1_000);
        assert!(r.mtip[0].level());
    }

    #[test]
    fn clint_next_deadline_is_earliest_armed_timer() {
        let mut r = rig(2);
        r.clint.write(MTIMECMP_BASE, Size::B8, 30);
        r.clint.write(MTIMECMP_BASE + 8, Size::B8, 20);
        assert_eq!(r.clint.next_deadline_ns(), Some(2_000));
    }

    #[test]
    fn clint_next_deadline_skips_fired_timers() {
        let mut r = rig(2);
        r.clock.advance_ns(1_000);
        r.clint.write(MTIMECMP_BASE, Size::B8, 0);
        r.clint.write(MTIMECMP_BASE + 8, Size::B8, 20);
        assert_eq!(r.clint.next_deadline_ns(), Some(1_000));
    }

    #[test]
    fn clint_next_deadline_without_timers_is_none() {
        let r = rig(2);
        assert_eq!(r.clint.next_deadline_ns(), None);
    }

    #[test]
    fn clint_reset_clears_msip_mtimecmp_and_mtime() {
        let mut r = rig(1);
        r.clock.advance_ns(10_000);
        r.clint.write(MSIP_BASE, Size::B4, 1);
        r.clint.write(MTIMECMP_BASE, Size::B8, 0);
        r.clint.reset();
        assert_eq!((r.msip[0].level(), r.mtip[0].level(), r.clint.mtime().read()), (false, false, 0));
    }

    #[test]
    fn clint_msip_of_missing_hart_reads_zero() {
        let mut r = rig(1);
        r.clint.write(MSIP_BASE + 4, Size::B4, 1);
        assert_eq!(r.clint.read(MSIP_BASE + 4, Size::B4), 0);
    }

    #[test]
    fn clint_bad_sizes_and_offsets_read_zero() {
        let mut r = rig(1);
        r.clint.write(MTIMECMP_BASE, Size::B1, 0);
        r.clint.write(MTIMECMP_BASE + 2, Size::B4, 0);
        r.clint.write(0xfff8, Size::B8, 0);
        let reads = [
            r.clint.read(MSIP_BASE + 1, Size::B4),
            r.clint.read(MTIMECMP_BASE + 4, Size::B8),
            r.clint.read(MTIME_OFFSET, Size::B2),
            r.clint.read(u64::MAX, Size::B8),
        ];
        assert_eq!((reads, r.clint.read(MTIMECMP_BASE, Size::B8)), ([0; 4], u64::MAX));
    }

    #[test]
    fn clint_zero_harts_is_an_error() {
        let mtime = MTime::new(Arc::new(ManualClock::new()));
        let err = Clint::<RecordingIrq>::new(mtime, vec![]).unwrap_err();
        assert_eq!(err, ClintError::HartCount(0));
    }
}
