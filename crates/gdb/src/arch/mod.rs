//! What the stub needs to know of a guest architecture ([`GdbArch`]): its register file as GDB
//! numbers it, and the target description that tells GDB so. One stub serves every
//! architecture; each has its own file ([`riscv`], [`aarch64`]).
//!
//! The register layout of a session ([`Layout`]) is built once from the architecture's list
//! of registers: the `g` packet holds every described register in ascending regnum order (GDB's
//! `remote.c` lays `g` out that way), each little-endian at its size, and `p`/`P` address one
//! register by its regnum.

pub mod aarch64;
pub mod riscv;

use std::fmt::Debug;
use std::marker::PhantomData;
use std::num::NonZeroUsize;

use gdbstub::arch::{Arch, RegId, Registers};

pub use aarch64::{Aarch64, Aarch64Regs};
pub use riscv::{Riscv64, RiscvRegs};

/// One guest architecture as GDB sees it.
pub trait GdbArch: Sized + Send + 'static {
    /// The register file the [`crate::DebugTarget`] reads and writes.
    type Regs: Clone + Debug + Default + PartialEq + Send;
    /// Which register of `Regs` a GDB register is.
    type Reg: Copy + Debug + PartialEq + Send;
    /// Regnum of the pc (its offset in `g` is the sum of the registers before it).
    const PC_REGNUM: usize;
    /// The largest regnum GDB may ask for.
    const MAX_REGNUM: usize;
    /// What `info threads` calls a CPU ("hart 0", "cpu 0").
    const CPU_NOUN: &'static str;

    /// The registers a session describes, as (register, regnum, bytes on the wire, at most 16),
    /// in any order. `extra` is [`crate::DebugTarget::csr_list`].
    fn registers(extra: &[u16]) -> Vec<(Self::Reg, usize, usize)>;
    fn get(reg: Self::Reg, regs: &Self::Regs) -> u128;
    fn set(reg: Self::Reg, regs: &mut Self::Regs, v: u128);
    /// Registers that are views of others (RISC-V's fflags/frm/fcsr): a `G` packet applies
    /// them only where they changed, so that an unchanged alias does not undo its sibling.
    fn is_alias(_reg: Self::Reg) -> bool {
        false
    }
    fn pc(regs: &Self::Regs) -> u64;
    /// The target description (`target.xml`) for these slots.
    fn target_xml(slots: &[Slot<Self::Reg>]) -> String;
}

#[derive(Clone, Debug)]
pub struct Slot<R> {
    pub reg: R,
    pub regnum: usize,
    /// Bytes on the wire (bitsize / 8).
    pub size: usize,
    /// Offset in the `g` packet.
    pub offset: usize,
}

/// The registers this session describes, in regnum (= `g` packet) order.
#[derive(Clone, Debug)]
pub(crate) struct Layout<A: GdbArch> {
    pub slots: Vec<Slot<A::Reg>>,
    pub g_len: usize,
}

impl<A: GdbArch> Layout<A> {
    pub fn new(extra: &[u16]) -> Self {
        let mut v = A::registers(extra);
        v.sort_by_key(|&(_, regnum, _)| regnum);
        v.dedup_by_key(|&mut (_, regnum, _)| regnum);
        let mut offset = 0;
        let slots = v
            .into_iter()
            .map(|(reg, regnum, size)| {
                debug_assert!(size <= 16, "register {reg:?} wider than 128 bits");
                let s = Slot { reg, regnum, size, offset };
                offset += size;
                s
            })
            .collect();
        Layout { slots, g_len: offset }
    }

    pub fn slot(&self, regnum: usize) -> Option<&Slot<A::Reg>> {
        self.slots.binary_search_by_key(&regnum, |s| s.regnum).ok().map(|i| &self.slots[i])
    }

    /// The `g` packet image of `regs`.
    pub fn encode(&self, regs: &A::Regs) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.g_len);
        for s in &self.slots {
            out.extend_from_slice(&A::get(s.reg, regs).to_le_bytes()[..s.size]);
        }
        out
    }

    /// Apply a `G` packet image onto `regs` (the current values). Registers whose bytes are
    /// missing (a short packet) keep their value; aliases apply only where they changed.
    pub fn decode(&self, bytes: &[u8], regs: &mut A::Regs) {
        let old = regs.clone();
        for s in &self.slots {
            let Some(b) = bytes.get(s.offset..s.offset + s.size) else { break };
            let v = le_value(b);
            if A::is_alias(s.reg) && A::get(s.reg, &old) == v {
                continue;
            }
            A::set(s.reg, regs, v);
        }
    }

    pub fn target_xml(&self) -> String {
        A::target_xml(&self.slots)
    }
}

/// A little-endian value of up to 16 bytes.
pub(crate) fn le_value(b: &[u8]) -> u128 {
    let mut le = [0u8; 16];
    let n = b.len().min(16);
    le[..n].copy_from_slice(&b[..n]);
    u128::from_le_bytes(le)
}

/// The `g`/`G` packet image, laid out by the session's register layout (which gdbstub's
/// context-free `Registers` trait cannot see, so the bytes travel raw).
pub struct GdbRegs<A> {
    pub(crate) bytes: Vec<u8>,
    arch: PhantomData<fn() -> A>,
}

impl<A> Default for GdbRegs<A> {
    fn default() -> Self {
        GdbRegs { bytes: Vec::new(), arch: PhantomData }
    }
}

impl<A> Clone for GdbRegs<A> {
    fn clone(&self) -> Self {
        GdbRegs { bytes: self.bytes.clone(), arch: PhantomData }
    }
}

impl<A> PartialEq for GdbRegs<A> {
    fn eq(&self, other: &Self) -> bool {
        self.bytes == other.bytes
    }
}

impl<A> Debug for GdbRegs<A> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GdbRegs").field("bytes", &self.bytes).finish()
    }
}

impl<A: GdbArch> GdbRegs<A> {
    pub fn new(bytes: Vec<u8>) -> Self {
        GdbRegs { bytes, arch: PhantomData }
    }
}

impl<A: GdbArch> Registers for GdbRegs<A> {
    type ProgramCounter = u64;

    /// Every register before the pc is 64 bits wide on both architectures.
    fn pc(&self) -> u64 {
        let off = A::PC_REGNUM * 8;
        self.bytes.get(off..off + 8).map_or(0, |b| le_value(b) as u64)
    }

    fn gdb_serialize(&self, mut write_byte: impl FnMut(Option<u8>)) {
        for &b in &self.bytes {
            write_byte(Some(b));
        }
    }

    fn gdb_deserialize(&mut self, bytes: &[u8]) -> Result<(), ()> {
        self.bytes = bytes.to_vec();
        Ok(())
    }
}

/// A GDB register number; validated against the session's layout when used.
pub struct RegNum<A>(pub usize, PhantomData<fn() -> A>);

impl<A> RegNum<A> {
    pub fn new(n: usize) -> Self {
        RegNum(n, PhantomData)
    }
}

impl<A> Clone for RegNum<A> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<A> Copy for RegNum<A> {}

impl<A> PartialEq for RegNum<A> {
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0
    }
}

impl<A> Debug for RegNum<A> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RegNum({})", self.0)
    }
}

impl<A: GdbArch> RegId for RegNum<A> {
    fn from_raw_id(id: usize) -> Option<(Self, Option<NonZeroUsize>)> {
        (id <= A::MAX_REGNUM).then_some((RegNum::new(id), None))
    }

    fn to_raw_id(&self) -> Option<usize> {
        Some(self.0)
    }
}

/// The gdbstub `Arch` of a [`GdbArch`]; the description comes from
/// `TargetDescriptionXmlOverride`.
pub struct StubArch<A>(PhantomData<fn() -> A>);

impl<A: GdbArch> Arch for StubArch<A> {
    type Usize = u64;
    type Registers = GdbRegs<A>;
    /// GDB sends the breakpoint instruction's length; breakpoints here are by address only.
    type BreakpointKind = usize;
    type RegId = RegNum<A>;
}
