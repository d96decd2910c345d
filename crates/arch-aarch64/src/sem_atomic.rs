//! FEAT_LSE semantics: each instruction computes its address and operand here and leaves the
//! read-modify-write to a helper in [`crate::atomic`] (alignment, both permission checks and
//! the access itself), whose result it writes back. Acquire/release (`ar`, `ord`) only order
//! accesses, which one host thread running every CPU in turn already does (see `atomic.rs`).

use super::{R, T};
use crate::atomic::{self, AtomicOp};
use crate::cpu::Aarch64Cpu;
use crate::decode::*;
use mimic_exec::Env;
use mimic_ir::Sem;

impl<'a, 's, S: Sem<Env = Env<'a, Aarch64Cpu>>> T<'s, S> {
    /// LD<op>, ST<op> (Rt = XZR) and SWP.
    pub(super) fn lse_ldop(&mut self, a: &ArgsAtomic, op: AtomicOp) -> R {
        let addr = self.xsp(a.rn);
        let operand = self.x(a.rs);
        let packed = self.k(atomic::pack_ldop(self.raw, op, a.size));
        let old = self.s.call_local(atomic::ldop, addr, operand, packed)?;
        self.wx(1, a.rt, old);
        Ok(())
    }

    pub(super) fn lse_cas(&mut self, a: &ArgsCas) -> R {
        let addr = self.xsp(a.rn);
        let expected = self.x(a.rs);
        let packed = self.k(atomic::pack_cas(self.raw, a.size, a.rt));
        let old = self.s.call_local(atomic::cas, addr, expected, packed)?;
        self.wx(1, a.rs, old);
        Ok(())
    }

    /// CASP on W (`size` 0) or X (`size` 1) pairs (the decoder rejects odd first registers).
    pub(super) fn lse_casp(&mut self, a: &ArgsCas) -> R {
        let addr = self.xsp(a.rn);
        let z = self.k(0);
        let packed = self.k(atomic::pack_casp(self.raw, 2 + a.size, a.rs, a.rt));
        self.s.call_local(atomic::casp, addr, z, packed)?;
        Ok(())
    }
}
