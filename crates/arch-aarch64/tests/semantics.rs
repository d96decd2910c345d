//! A64 integer semantics: each snippet runs on every tier (interpreter and JIT) and all must end
//! in the same state, which is then checked against the Arm ARM's definition.

mod common;

use common::*;
use mimic_arch_aarch64::decode::enc;
use mimic_arch_aarch64::Fault;

const X: u32 = 1;
const W: u32 = 0;

#[test]
fn add_imm_shifted_by_12_adds_to_sp() {
    let f = Snippet::of(&[enc::add_imm(X, 31, 31, 0x3, 1), enc::add_imm(X, 4, 31, 8, 0)]).x(31, 0x1000).ok();
    assert_eq!(f.sp(), 0x4000);
    assert_eq!(f.x(4), 0x4008);
}
