//! SoftFloat's rounding mode and exception flags are C globals, not arguments. Each operation in
//! this crate is therefore a small transaction on that state: set the rounding mode, clear the
//! flags, compute, read the flags back. The caller gets the flags of exactly one operation and can
//! OR them into the guest's sticky `fflags`; no state survives between calls, so nothing here has
//! to be saved or restored around guest context switches, and the order in which CPU threads or
//! tiers call in does not matter.
//!
//! Thread safety: `softfloat-sys`'s build script compiles `softfloat_state.c` with
//! `THREAD_LOCAL=_Thread_local` (`__thread` for GCC older than 4.9), so `softfloat_roundingMode`
//! and `softfloat_exceptionFlags` are per-thread (`readelf -s` on the built archive lists them as
//! `TLS`). Two vCPU threads can run FP instructions concurrently without a lock; the unit test
//! `state_is_thread_local` fails if a future build makes the state process-global, which would
//! need a lock here.
//!
//! Tininess is detected after rounding, as RISC-V requires: that is SoftFloat's RISC-V
//! specialization default (`init_detectTininess`), and the test `tininess_is_after_rounding`
//! pins it. Nothing in this crate writes that setting; if a future architecture needs
//! before-rounding detection, `with_rm` must then set it on every call like the rounding mode.

use crate::{Flags, Rm};
use softfloat_sys as sf;

/// Runs `op` with SoftFloat's rounding mode set to `rm` and the flags cleared; returns its result
/// and the flags it raised.
#[inline]
pub(crate) fn with_rm<T>(rm: Rm, op: impl FnOnce() -> T) -> (T, Flags) {
    // SAFETY: the helper stores a byte into this thread's `softfloat_roundingMode`; `Rm` values
    // are all valid SoftFloat rounding modes (same numbering).
    unsafe { sf::softfloat_roundingMode_write_helper(rm as u8) };
    with_flags(op)
}

/// Runs `op` with the flags cleared; returns its result and the flags it raised. For operations
/// that do not round (comparisons, widening) or take the mode as an argument.
#[inline]
pub(crate) fn with_flags<T>(op: impl FnOnce() -> T) -> (T, Flags) {
    // SAFETY: stores 0 into this thread's `softfloat_exceptionFlags`; no pointers involved.
    unsafe { sf::softfloat_exceptionFlags_write_helper(0) };
    let r = op();
    // SAFETY: reads this thread's `softfloat_exceptionFlags`.
    let f = unsafe { sf::softfloat_exceptionFlags_read_helper() };
    (r, Flags(f & 0x1f))
}

#[inline]
pub(crate) fn w32(v: u32) -> sf::float32_t {
    sf::float32_t { v }
}

#[inline]
pub(crate) fn w64(v: u64) -> sf::float64_t {
    sf::float64_t { v }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounding_and_flag_constants_match_riscv() {
        assert_eq!(Rm::Rne as u8, sf::softfloat_round_near_even);
        assert_eq!(Rm::Rtz as u8, sf::softfloat_round_minMag);
        assert_eq!(Rm::Rdn as u8, sf::softfloat_round_min);
        assert_eq!(Rm::Rup as u8, sf::softfloat_round_max);
        assert_eq!(Rm::Rmm as u8, sf::softfloat_round_near_maxMag);
        assert_eq!(Flags::NX.0, sf::softfloat_flag_inexact);
        assert_eq!(Flags::UF.0, sf::softfloat_flag_underflow);
        assert_eq!(Flags::OF.0, sf::softfloat_flag_overflow);
        assert_eq!(Flags::DZ.0, sf::softfloat_flag_infinite);
        assert_eq!(Flags::NV.0, sf::softfloat_flag_invalid);
    }

    #[test]
    fn tininess_is_after_rounding() {
        // SAFETY: reads this thread's `softfloat_detectTininess`.
        let t = unsafe { sf::softfloat_detectTininess_read_helper() };
        assert_eq!(t, sf::softfloat_tininess_afterRounding);
    }

    #[test]
    fn state_is_thread_local() {
        // SAFETY: writes this thread's SoftFloat state bytes.
        unsafe {
            sf::softfloat_exceptionFlags_write_helper(0x1f);
            sf::softfloat_roundingMode_write_helper(sf::softfloat_round_max);
        }
        let (flags, mode) = std::thread::spawn(|| {
            // SAFETY: reads the fresh thread's SoftFloat state bytes.
            unsafe { (sf::softfloat_exceptionFlags_read_helper(), sf::softfloat_roundingMode_read_helper()) }
        })
        .join()
        .unwrap();
        assert_eq!(flags, 0, "softfloat_exceptionFlags is shared between threads");
        assert_eq!(mode, sf::softfloat_round_near_even, "softfloat_roundingMode is shared");
        // SAFETY: reads this thread's state: the other thread must not have disturbed it.
        let mine = unsafe { sf::softfloat_exceptionFlags_read_helper() };
        assert_eq!(mine, 0x1f);
    }

    #[test]
    fn no_state_leaks_between_operations() {
        let (_, f) = with_rm(Rm::Rup, || ());
        assert_eq!(f, Flags::NONE);
        // SAFETY: raise every flag on this thread, as a previous operation might have.
        unsafe { sf::softfloat_exceptionFlags_write_helper(0x1f) };
        let (r, f) = crate::f32_add(0x3f80_0000, 0x3f80_0000, Rm::Rne);
        assert_eq!((r, f), (0x4000_0000, Flags::NONE));
    }
}
