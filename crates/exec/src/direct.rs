//! The interpreter tier: [`Sem`] with plain `u64` values.

use crate::run::Guest;
use mimic_core::MemOp;
use mimic_ir::{BinOp, Cond, Exit, Helper, Reg, Sem, UnOp};
use mimic_memory::AddressSpace;

/// What helpers see: one CPU and the bus it is attached to.
pub struct Env<'a, G> {
    pub cpu: &'a mut G,
    pub bus: &'a mut AddressSpace,
}

/// Executes semantics immediately. `next` starts as the fall-through pc and is overwritten by
/// jumps and taken branches.
pub struct Direct<'a, G> {
    pub env: Env<'a, G>,
    pub pc: u64,
    pub next: u64,
}

impl<'a, G: Guest> Sem for Direct<'a, G> {
    type V = u64;
    type Env = Env<'a, G>;

    #[inline(always)]
    fn pc(&self) -> u64 {
        self.pc
    }
    #[inline(always)]
    fn imm(&mut self, v: u64) -> u64 {
        v
    }
    #[inline(always)]
    fn get(&mut self, r: Reg) -> u64 {
        self.env.cpu.regs()[r.0 as usize]
    }
    #[inline(always)]
    fn set(&mut self, r: Reg, v: u64) {
        self.env.cpu.regs()[r.0 as usize] = v;
    }
    #[inline(always)]
    fn bin(&mut self, op: BinOp, a: u64, b: u64) -> u64 {
        op.eval(a, b)
    }
    #[inline(always)]
    fn un(&mut self, op: UnOp, a: u64) -> u64 {
        op.eval(a)
    }
    #[inline(always)]
    fn setcond(&mut self, c: Cond, a: u64, b: u64) -> u64 {
        c.eval(a, b) as u64
    }
    #[inline(always)]
    fn select(&mut self, c: u64, t: u64, f: u64) -> u64 {
        if c != 0 {
            t
        } else {
            f
        }
    }
    #[inline(always)]
    fn load(&mut self, addr: u64, op: MemOp) -> Result<u64, Exit> {
        self.env.cpu.load(self.env.bus, addr, op)
    }
    #[inline(always)]
    fn store(&mut self, addr: u64, val: u64, op: MemOp) -> Result<(), Exit> {
        self.env.cpu.store(self.env.bus, addr, val, op)
    }
    #[inline(always)]
    fn call(&mut self, f: Helper<Self::Env>, a: u64, b: u64, c: u64) -> Result<u64, Exit> {
        f(&mut self.env, a, b, c)
    }
    #[inline(always)]
    fn jump(&mut self, target: u64) {
        self.next = target;
    }
    #[inline(always)]
    fn branch(&mut self, c: Cond, a: u64, b: u64, target: u64) {
        if c.eval(a, b) {
            self.next = target;
        }
    }
}
