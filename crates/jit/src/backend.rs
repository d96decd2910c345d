//! One Cranelift compiler instance: a decoded block in, position-independent machine code out.
//! The tier keeps one for compiling on the CPU thread, and the background worker its own.

use crate::emit::{block_signature, region_signature, BlockMeta, Emitter};
use crate::runtime::Stubs;
use cranelift_codegen::ir::{types, AbiParam, Function, InstBuilder, MemFlagsData, Signature, UserFuncName};
use cranelift_codegen::isa::CallConv;
use cranelift_codegen::isa::OwnedTargetIsa;
use cranelift_codegen::settings::{self, Configurable};
use cranelift_codegen::{control::ControlPlane, Context};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};
use mimic_exec::{Block, Guest};

pub struct Backend {
    isa: OwnedTargetIsa,
    fctx: FunctionBuilderContext,
    cctx: Context,
}

impl Backend {
    pub fn new() -> Result<Backend, String> {
        let mut flags = settings::builder();
        let set = |f: &mut settings::Builder, k: &str, v: &str| f.set(k, v).map_err(|e| format!("cranelift {k}: {e}"));
        set(&mut flags, "opt_level", "speed")?;
        // The verifier costs compile time; debug builds keep it as a check on the emitter.
        set(&mut flags, "enable_verifier", if cfg!(debug_assertions) { "true" } else { "false" })?;
        // Tail calls between blocks need frame pointers kept on x86-64.
        set(&mut flags, "preserve_frame_pointers", "true")?;
        // The context lives in the pinned register (`Emitter::ctx`).
        set(&mut flags, "enable_pinned_reg", "true")?;
        let isa = cranelift_native::builder()
            .map_err(|e| format!("no Cranelift backend for this host: {e}"))?
            .finish(settings::Flags::new(flags))
            .map_err(|e| format!("cranelift: {e}"))?;
        Ok(Backend { isa, fctx: FunctionBuilderContext::new(), cctx: Context::new() })
    }

    /// Another compiler with the same settings (for another thread).
    pub fn fork(&self) -> Backend {
        Backend { isa: self.isa.clone(), fctx: FunctionBuilderContext::new(), cctx: Context::new() }
    }

    /// Machine code for `region` (a block and the blocks after it that it reaches, see
    /// [`mimic_exec::region`]), whose validity flag and jump slots live at `meta`; `None` when
    /// it cannot be compiled (the interpreter keeps it). A region of one block is entered at
    /// its start; one of several is entered through thunks ([`crate::thunks`]) that say at
    /// which block.
    pub fn compile_region<G: Guest + 'static>(
        &mut self,
        region: &[&Block<G::Insn>],
        meta: *const BlockMeta,
        stubs: Stubs,
    ) -> Option<Vec<u8>> {
        let first = region.first()?;
        let sig = if region.len() > 1 { region_signature() } else { block_signature() };
        let mut func = Function::with_name_signature(UserFuncName::default(), sig);
        if !self.build::<G>(region, &mut func, meta, stubs) {
            return None;
        }
        self.finish(func, first.pc)
    }

    /// `extern "C" fn(ctx, entry) -> status`: the stub through which Rust calls a block (blocks
    /// use the `tail` convention, which Rust cannot call).
    pub fn compile_enter_stub(&mut self) -> Option<Vec<u8>> {
        let mut sig = Signature::new(self.isa.default_call_conv());
        sig.params.extend([AbiParam::new(types::I64), AbiParam::new(types::I64)]);
        sig.returns.push(AbiParam::new(types::I64));
        let mut func = Function::with_name_signature(UserFuncName::default(), sig);
        {
            let mut b = FunctionBuilder::new(&mut func, &mut self.fctx);
            let entry = b.create_block();
            b.append_block_params_for_function_params(entry);
            b.switch_to_block(entry);
            let (ctx, target) = (b.block_params(entry)[0], b.block_params(entry)[1]);
            // The pinned register is not callee-saved once pinned, but the Rust caller expects
            // it kept: the stub saves it around the call itself.
            let saved = b.ins().get_pinned_reg(types::I64);
            b.ins().set_pinned_reg(ctx);
            let sig = b.import_signature(block_signature());
            let call = b.ins().call_indirect(sig, target, &[]);
            let status = b.inst_results(call)[0];
            b.ins().set_pinned_reg(saved);
            b.ins().return_(&[status]);
            b.seal_all_blocks();
            b.finalize(self.isa.frontend_config());
        }
        self.finish(func, 0)
    }

    /// A [`crate::runtime::Stubs`] stub for the C function at `target` taking `args` integers
    /// (the context first): it calls the function and stores the status it returns into the
    /// context, keeping every register.
    pub fn compile_stub(&mut self, target: usize, args: usize) -> Option<Vec<u8>> {
        let mut sig = Signature::new(CallConv::PreserveAll);
        sig.params.extend(std::iter::repeat_n(AbiParam::new(types::I64), args));
        let mut func = Function::with_name_signature(UserFuncName::default(), sig);
        {
            let mut b = FunctionBuilder::new(&mut func, &mut self.fctx);
            let entry = b.create_block();
            b.append_block_params_for_function_params(entry);
            b.switch_to_block(entry);
            let params = b.block_params(entry).to_vec();
            let mut c = Signature::new(self.isa.default_call_conv());
            c.params.extend(std::iter::repeat_n(AbiParam::new(types::I64), args));
            c.returns.push(AbiParam::new(types::I64));
            let c = b.import_signature(c);
            let callee = b.ins().iconst(types::I64, target as i64);
            let call = b.ins().call_indirect(c, callee, &params);
            let status = b.inst_results(call)[0];
            b.ins().store(MemFlagsData::trusted(), status, params[0], crate::runtime::OFF_STATUS);
            b.ins().return_(&[]);
            b.seal_all_blocks();
            b.finalize(self.isa.frontend_config());
        }
        self.finish(func, 0)
    }

    fn finish(&mut self, func: Function, pc: u64) -> Option<Vec<u8>> {
        self.cctx.clear();
        self.cctx.func = func;
        let code = match self.cctx.compile(&*self.isa, &mut ControlPlane::default()) {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(target: "jit", "code for {pc:#x} not compiled: {:?}", e.inner);
                return None;
            }
        };
        // Generated code reaches Rust only through absolute addresses in registers, so there is
        // nothing to relocate; anything else would be a bug in the emitter.
        if !code.buffer.relocs().is_empty() {
            tracing::warn!(target: "jit", "code for {pc:#x} needs relocations; not used");
            return None;
        }
        Some(code.code_buffer().to_vec())
    }

    /// Build the IR of `region` into `func`; false when its semantics could not be recorded.
    fn build<G: Guest + 'static>(
        &mut self,
        region: &[&Block<G::Insn>],
        func: &mut Function,
        meta: *const BlockMeta,
        stubs: Stubs,
    ) -> bool {
        if region.is_empty() || region.len() > mimic_exec::region::MAX_BLOCKS {
            return false;
        }
        let cc = self.isa.default_call_conv();
        let frontend = self.isa.frontend_config();
        let mut b = FunctionBuilder::new(func, &mut self.fctx);
        let entry = b.create_block();
        b.append_block_params_for_function_params(entry);
        b.switch_to_block(entry);
        let entry_index = b.block_params(entry).first().copied();
        let mut e: Emitter<'_, '_, '_, G> = Emitter::new(&mut b, cc, region[0].pc, meta, stubs, entry_index);
        let loops = |b: &Block<G::Insn>| {
            let e = mimic_exec::region::exits::<G>(b);
            e.target == Some(b.pc) || e.fallthrough == Some(b.pc)
        };
        if region.len() > 1 || loops(region[0]) {
            let pcs: Vec<u64> = region.iter().map(|b| b.pc).collect();
            let kills: Vec<_> = region.iter().map(|b| mimic_exec::region::killed::<G>(b, region[0].flags)).collect();
            e.enter_region(&pcs, &kills);
        }
        for (k, block) in region.iter().enumerate() {
            e.begin_block(block.pc);
            for (i, di) in block.insns.iter().enumerate() {
                e.begin_insn(i as u64, di.pc);
                if G::translate(&di.insn, region[0].flags, &mut e).is_err() {
                    // Recording never fails; an ISA that returns Exit without asking the tier is
                    // left to the interpreter rather than guessed at.
                    return false;
                }
            }
            let Some(last) = block.insns.last() else {
                return false;
            };
            // Only exits within the block's own page may be linked: the loop checked that
            // page's mapping before entering, and nothing in a linked run can change it.
            let one_page = block.pages[0] == block.pages[1];
            let page = one_page.then_some(block.pc & mimic_softmmu::PAGE_MASK);
            let fallthrough = last.pc.wrapping_add(last.len as u64);
            e.finish(block.insns.len() as u64, fallthrough, page, meta, region[0].flags, 2 * k);
        }
        e.end();
        b.seal_all_blocks();
        b.finalize(frontend);
        true
    }
}
