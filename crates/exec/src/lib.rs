//! Running guest code: which block runs next, on which tier, and what happens between blocks.
//!
//! A *block* is a straight run of decoded guest instructions that ends at a branch, a jump, an
//! instruction that changes how later ones are translated (CSR writes, fences, returns from traps),
//! or a page boundary. Blocks are decoded once and cached by (physical location, pc, flags); the
//! interpreter tier [`Direct`] replays them, calling the ISA's semantics with `V = u64`.
//!
//! ```text
//!   run() ──▶ interrupts? ──▶ cache lookup ──miss──▶ decode block (Guest::fetch/decode)
//!                                 │ hit                   │
//!                                 ▼                       ▼
//!                        Direct: exec each insn ◀─────────┘
//!                                 │ Exit (fault)  → Guest::raise(pc) → loop
//!                                 ▼ done          → pc = next → loop
//! ```
#![forbid(unsafe_code)]

mod cache;
mod direct;
pub mod region;
mod run;
mod tier;

pub use cache::{Block, BlockCache, DecodedInsn, QUEUED};
pub use direct::{Direct, Env};
pub use run::{run, run_debug, run_tiered, Debug, Guest, LogFlags, RunOutcome};
pub use tier::{Compile, Compiled, CompiledExit, Compiler, CountRuns, TierPolicy, Tiers};
