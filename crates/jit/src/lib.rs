//! The compiling tier: hot guest blocks become host code through Cranelift.
//!
//! The CPU loop (`mimic_exec`) decides when a block is hot and asks [`Jit`] (its
//! `Compiler`) for code. The block's instructions are translated by the ISA's own semantics
//! functions, the same ones the interpreter runs, against [`emit::Emitter`], which records
//! Cranelift IR instead of computing; so no instruction's meaning is written twice.
//!
//! ```text
//!   Block ──G::translate(insn, Emitter)──▶ Cranelift IR ──compile──▶ bytes ──▶ CodeMemory
//!                                                                         │
//!   run loop ──Jit::execute──▶ Ctx{regs, tlb, ram, env} ──call──▶ host code ┘
//!                                  ▲                                 │ TLB miss / helper
//!                                  └──── runtime::{load,store}_slow, call_helper (Rust)
//! ```
//!
//! This crate owns the executable-memory `unsafe` (`code_mem`) and the calls between generated
//! code and Rust (`runtime`), each with a `// SAFETY:` comment.

mod code_mem;
mod emit;
mod runtime;

use code_mem::CodeMemory;
use cranelift_codegen::ir::{types, AbiParam, Function, InstBuilder, Signature, UserFuncName};
use cranelift_codegen::isa::{CallConv, OwnedTargetIsa};
use cranelift_codegen::settings::{self, Configurable};
use cranelift_codegen::{control::ControlPlane, Context};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};
use emit::{block_signature, BlockMeta, Emitter};
use mimic_exec::{Block, Compiled, CompiledExit, Compiler, Env, Guest};
use mimic_memory::AddressSpace;
use runtime::{Ctx, EnterFn};
use std::collections::HashMap;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicU64, Ordering};

/// Generations are unique in the process, not per tier: a block cache may outlive the tier that
/// compiled its blocks, and a new tier must never accept the old one's handles.
static NEXT_GENERATION: AtomicU64 = AtomicU64::new(1);

fn new_generation() -> u64 {
    NEXT_GENERATION.fetch_add(1, Ordering::Relaxed)
}

/// Address space reserved for generated code per tier instance; recycled whole when full.
const CODE_BYTES: usize = 256 << 20;

/// Counters for `-d` style reporting and benchmarks.
#[derive(Clone, Copy, Debug, Default)]
pub struct JitStats {
    pub compiled: u64,
    pub failed: u64,
    pub flushes: u64,
    pub code_bytes: u64,
    pub chained: u64,
}

pub struct Jit<G> {
    isa: OwnedTargetIsa,
    fctx: FunctionBuilderContext,
    cctx: Context,
    mem: CodeMemory,
    /// The stub Rust calls to enter a block (blocks use the `tail` convention).
    enter: EnterFn,
    /// Each compiled block's validity flag and jump slots, by entry address. Boxed so their
    /// addresses, baked into code, stay put; freed only when code memory is recycled.
    metas: HashMap<usize, Box<BlockMeta>>,
    /// Jump-slot address → (owning block's entry, slot index).
    slot_owner: HashMap<usize, (usize, usize)>,
    generation: u64,
    stats: JitStats,
    _guest: PhantomData<fn(&mut G)>,
}

impl<G: Guest + 'static> Jit<G> {
    /// A JIT for this host, or why there is none (unsupported host, no memory).
    pub fn new() -> Result<Jit<G>, String> {
        if !cfg!(target_arch = "x86_64") {
            // Other hosts need an instruction-cache flush after writing code; not done yet.
            return Err("the JIT supports x86-64 hosts only".into());
        }
        let mut flags = settings::builder();
        let set = |f: &mut settings::Builder, k: &str, v: &str| f.set(k, v).map_err(|e| format!("cranelift {k}: {e}"));
        set(&mut flags, "opt_level", "speed")?;
        // The verifier costs compile time; debug builds keep it as a check on the emitter.
        set(&mut flags, "enable_verifier", if cfg!(debug_assertions) { "true" } else { "false" })?;
        // Tail calls between blocks need frame pointers kept on x86-64.
        set(&mut flags, "preserve_frame_pointers", "true")?;
        let isa = cranelift_native::builder()
            .map_err(|e| format!("no Cranelift backend for this host: {e}"))?
            .finish(settings::Flags::new(flags))
            .map_err(|e| format!("cranelift: {e}"))?;
        let mut mem = CodeMemory::new(CODE_BYTES).map_err(|e| format!("code memory: {e}"))?;
        let mut fctx = FunctionBuilderContext::new();
        let mut cctx = Context::new();
        let enter = compile_enter_stub(&*isa, &mut fctx, &mut cctx, &mut mem)?;
        Ok(Jit {
            isa,
            fctx,
            cctx,
            mem,
            enter,
            metas: HashMap::new(),
            slot_owner: HashMap::new(),
            generation: new_generation(),
            stats: JitStats::default(),
            _guest: PhantomData,
        })
    }

    pub fn stats(&self) -> JitStats {
        JitStats { code_bytes: self.mem.used() as u64, ..self.stats }
    }

    fn call_conv(&self) -> CallConv {
        self.isa.default_call_conv()
    }

    /// Build the IR of `block` into `func`; false when its semantics could not be recorded.
    fn build(&mut self, block: &Block<G::Insn>, func: &mut Function, meta: *const BlockMeta) -> bool {
        let cc = self.call_conv();
        let frontend = self.isa.frontend_config();
        let mut b = FunctionBuilder::new(func, &mut self.fctx);
        let entry = b.create_block();
        b.append_block_params_for_function_params(entry);
        b.switch_to_block(entry);
        let ctx = b.block_params(entry)[0];
        let mut e: Emitter<'_, '_, '_, G> = Emitter::new(&mut b, ctx, cc, block.pc, meta);
        for (i, di) in block.insns.iter().enumerate() {
            e.begin_insn(i as u64, di.pc, di.pc.wrapping_add(di.len as u64));
            if G::translate(&di.insn, block.flags, &mut e).is_err() {
                // Recording never fails; an ISA that returns Exit without asking the tier is
                // left to the interpreter rather than guessed at.
                return false;
            }
        }
        let Some(last) = block.insns.last() else {
            return false;
        };
        // Only exits within the block's own page may be linked: the loop checked that page's
        // mapping before entering, and nothing in a linked run can change it.
        let one_page = block.pages[0] == block.pages[1];
        let page = one_page.then_some(block.pc & mimic_softmmu::PAGE_MASK);
        e.finish(block.insns.len() as u64, last.pc.wrapping_add(last.len as u64), page, meta);
        b.seal_all_blocks();
        b.finalize(frontend);
        true
    }
}

impl<G: Guest + 'static> Compiler<G> for Jit<G> {
    fn compile(&mut self, block: &Block<G::Insn>) -> Option<Compiled> {
        let meta = Box::new(BlockMeta { valid: 1, slots: [0; 2] });
        let mut func = Function::with_name_signature(UserFuncName::default(), block_signature());
        if !self.build(block, &mut func, &*meta) {
            self.stats.failed += 1;
            return None;
        }
        self.cctx.clear();
        self.cctx.func = func;
        let code = match self.cctx.compile(&*self.isa, &mut ControlPlane::default()) {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(target: "jit", "block at {:#x} not compiled: {:?}", block.pc, e.inner);
                self.stats.failed += 1;
                return None;
            }
        };
        // Generated code reaches Rust only through absolute addresses in registers, so there is
        // nothing to relocate; anything else would be a bug in the emitter.
        if !code.buffer.relocs().is_empty() {
            self.stats.failed += 1;
            return None;
        }
        let bytes = code.code_buffer().to_vec();
        let entry = match self.mem.push(&bytes) {
            Some(e) => e,
            None => {
                // Full: recycle all code memory; every earlier handle is void from now on, and
                // with the old code gone so are the slots and flags it used.
                self.mem.reset();
                self.metas.clear();
                self.slot_owner.clear();
                self.enter = compile_enter_stub(&*self.isa, &mut self.fctx, &mut self.cctx, &mut self.mem).ok()?;
                self.generation = new_generation();
                self.stats.flushes += 1;
                self.mem.push(&bytes)?
            }
        };
        for i in 0..2 {
            self.slot_owner.insert(&meta.slots[i] as *const u64 as usize, (entry, i));
        }
        self.metas.insert(entry, meta);
        self.stats.compiled += 1;
        Some(Compiled { entry, generation: self.generation })
    }

    fn execute(&mut self, code: Compiled, cpu: &mut G, bus: &mut AddressSpace, budget: u64) -> CompiledExit {
        assert_eq!(code.generation, self.generation, "stale compiled code");
        let mut env = Env { cpu, bus };
        let mut ctx = Ctx {
            regs: std::ptr::null_mut(),
            tlb: std::ptr::null(),
            ram: std::ptr::null_mut(),
            env: (&mut env as *mut Env<'_, G>).cast(),
            ret: 0,
            exit_pc: 0,
            executed: 0,
            retired: 0,
            budget,
            stop: 0,
            exit_slot: 0,
            generation: self.generation,
        };
        // SAFETY: `ctx.env` points at `env`, which lives across the call and is used by nothing
        // else until it returns. `code.entry` is the start of a function this tier compiled with
        // the `BlockFn` signature into code memory of the current generation (checked above), so
        // it is still there; the function touches only what `ctx` points at, through the
        // entry points in `runtime` instantiated for this `G`, and jumps only to blocks linked
        // into its slots, which are of the same generation.
        let status = unsafe {
            runtime::refresh::<G>(&mut ctx);
            (self.enter)(&mut ctx, code.entry)
        };
        let rest = ctx.executed.saturating_sub(ctx.retired);
        env.cpu.retire_n(rest);
        let executed = ctx.executed as u32;
        if status == runtime::OK {
            let link = (ctx.stop == 0 && ctx.exit_slot != 0).then_some(ctx.exit_slot as usize);
            CompiledExit::Next { next: ctx.exit_pc, executed, link }
        } else {
            CompiledExit::Fault { pc: ctx.exit_pc, executed }
        }
    }

    fn chain(&mut self, link: usize, to: Compiled) {
        if to.generation != self.generation {
            return;
        }
        // `link` came from a slot address baked into a block of this generation; write through
        // its owner rather than through an unchecked address.
        let Some(&(owner, i)) = self.slot_owner.get(&link) else {
            return;
        };
        if let Some(meta) = self.metas.get_mut(&owner) {
            meta.slots[i] = to.entry as u64;
            self.stats.chained += 1;
        }
    }

    fn invalidate(&mut self, code: Compiled) {
        if code.generation == self.generation {
            if let Some(meta) = self.metas.get_mut(&code.entry) {
                meta.valid = 0;
            }
        }
    }

    fn generation(&self) -> u64 {
        self.generation
    }
}

/// `extern "C" fn(ctx, entry) -> status`: call the `tail`-convention block at `entry`.
fn compile_enter_stub(
    isa: &dyn cranelift_codegen::isa::TargetIsa,
    fctx: &mut FunctionBuilderContext,
    cctx: &mut Context,
    mem: &mut CodeMemory,
) -> Result<EnterFn, String> {
    let mut sig = Signature::new(isa.default_call_conv());
    sig.params.extend([AbiParam::new(types::I64), AbiParam::new(types::I64)]);
    sig.returns.push(AbiParam::new(types::I64));
    let mut func = Function::with_name_signature(UserFuncName::default(), sig);
    {
        let mut b = FunctionBuilder::new(&mut func, fctx);
        let entry = b.create_block();
        b.append_block_params_for_function_params(entry);
        b.switch_to_block(entry);
        let (ctx, target) = (b.block_params(entry)[0], b.block_params(entry)[1]);
        let sig = b.import_signature(block_signature());
        let call = b.ins().call_indirect(sig, target, &[ctx]);
        let status = b.inst_results(call)[0];
        b.ins().return_(&[status]);
        b.seal_all_blocks();
        b.finalize(isa.frontend_config());
    }
    cctx.clear();
    cctx.func = func;
    let code = cctx.compile(isa, &mut ControlPlane::default()).map_err(|e| format!("entry stub: {:?}", e.inner))?;
    let addr = mem.push(code.code_buffer()).ok_or("code memory full")?;
    // SAFETY: `addr` is the start of the function just compiled with exactly this signature and
    // calling convention (the ISA's default, which is C's on this host).
    Ok(unsafe { std::mem::transmute::<usize, EnterFn>(addr) })
}
