/* misaligned.S: misaligned scalar and FP loads/stores. The spec lets an execution environment
   either perform them or trap (load address misaligned (4) / store address misaligned (6) with
   mtval = the address). mimic performs them, as QEMU 10 does, so guests need no trap-and-emulate
   round trip; built with MIMIC_STRICT a trap is a failure and the data must be right. Without it
   either behaviour is accepted (a trap must then report the address). Built with
   MISALIGNED_TRAPS, the U-mode tests check an implementation that traps.
   Also: jalr to an odd address clears bit 0 (no fetch fault). Atomics always trap: rv64a.S. */
#include "macros.S"

/* mbuf[i] = (i + 1) | (i even ? 0x80 : 0) */
#define NO_TRAP_OK(code...) code
#ifdef MIMIC_STRICT
#define TRAP_OK j fail
#else
#define TRAP_OK
#endif

#define TEST_MLOAD(id, insn, off, exp) \
    SET_TEST(id); la a1, mbuf; addi a1, a1, off; li a0, 0x5a5a; EXPECT_TRAP(CAUSE_MISALIGNED_LOAD, 9997f); \
    insn a0, 0(a1); DISARM_TRAP; NO_TRAP_OK(CHECK(a0, exp)); j 9998f; \
    9997: TRAP_OK; CHECK_VAR_REG(trap_tval, a1); 9998:
#define TEST_MSTORE(id, stinsn, ldinsn, off, val) \
    SET_TEST(id); la a1, sbuf; sd x0, 0(a1); sd x0, 8(a1); addi a1, a1, off; li a2, val; \
    EXPECT_TRAP(CAUSE_MISALIGNED_STORE, 9997f); stinsn a2, 0(a1); DISARM_TRAP; \
    NO_TRAP_OK(ldinsn a0, 0(a1); CHECK_REG(a0, a2)); j 9998f; \
    9997: TRAP_OK; CHECK_VAR_REG(trap_tval, a1); 9998:
#define TEST_MFLOAD(id, insn, mv, off, exp) \
    SET_TEST(id); la a1, mbuf; addi a1, a1, off; EXPECT_TRAP(CAUSE_MISALIGNED_LOAD, 9997f); \
    insn fa0, 0(a1); DISARM_TRAP; NO_TRAP_OK(mv a0, fa0; CHECK(a0, exp)); j 9998f; \
    9997: TRAP_OK; CHECK_VAR_REG(trap_tval, a1); 9998:
#define TEST_MFSTORE(id, stinsn, ldinsn, off, val) \
    SET_TEST(id); la a1, sbuf; sd x0, 0(a1); sd x0, 8(a1); addi a1, a1, off; li a2, val; fmv.d.x fa0, a2; \
    EXPECT_TRAP(CAUSE_MISALIGNED_STORE, 9997f); stinsn fa0, 0(a1); DISARM_TRAP; \
    NO_TRAP_OK(ldinsn a0, 0(a1); CHECK_REG(a0, a2)); j 9998f; \
    9997: TRAP_OK; CHECK_VAR_REG(trap_tval, a1); 9998:

main:
    li t0, MSTATUS_FS_INITIAL
    csrs mstatus, t0
    /* aligned accesses of each width never trap (sanity) */
    TEST_LD(1, lh, 0x0281, 0, mbuf_sanity)
    /* ---- loads ----------------------------------------------------------------------------------- */
    TEST_MLOAD(10, lh,  1, 0xffffffffffff8302)
    TEST_MLOAD(11, lhu, 1, 0x0000000000008302)
    TEST_MLOAD(12, lh,  3, 0xffffffffffff8504)
    TEST_MLOAD(13, lh,  7, 0xffffffffffff8908)
    TEST_MLOAD(14, lw,  1, 0xffffffff85048302)
    TEST_MLOAD(15, lwu, 1, 0x0000000085048302)
    TEST_MLOAD(16, lw,  2, 0x0000000006850483)
    TEST_MLOAD(17, lw,  3, 0xffffffff87068504)
    TEST_MLOAD(18, lw,  6, 0x000000000a890887)         /* crosses an 8-byte boundary */
    TEST_MLOAD(19, ld,  1, 0x8908870685048302)
    TEST_MLOAD(20, ld,  2, 0x0a89088706850483)
    TEST_MLOAD(21, ld,  4, 0x0c8b0a8908870685)
    TEST_MLOAD(22, ld,  7, 0x8f0e8d0c8b0a8908)
    TEST_MLOAD(23, lhu, 15, 0x0000000000000010 | (0x91 << 8))
    /* ---- stores ---------------------------------------------------------------------------------- */
    TEST_MSTORE(30, sh, lhu, 1, 0x8001)
    TEST_MSTORE(31, sh, lhu, 7, 0xbeef)
    TEST_MSTORE(32, sw, lwu, 1, 0x89abcdef)
    TEST_MSTORE(33, sw, lwu, 2, 0x12345678)
    TEST_MSTORE(34, sw, lwu, 5, 0xcafef00d)
    TEST_MSTORE(35, sd, ld, 1, 0x0123456789abcdef)
    TEST_MSTORE(36, sd, ld, 4, 0xfedcba9876543210)
    TEST_MSTORE(37, sd, ld, 7, 0x8000000000000001)
    /* ---- FP loads and stores ------------------------------------------------------------------------ */
    TEST_MFLOAD(40, flw, fmv.x.w, 1, 0xffffffff85048302)
    TEST_MFLOAD(41, flw, fmv.x.w, 2, 0x0000000006850483)
    TEST_MFLOAD(42, fld, fmv.x.d, 1, 0x8908870685048302)
    TEST_MFLOAD(43, fld, fmv.x.d, 4, 0x0c8b0a8908870685)
    TEST_MFSTORE(44, fsw, lwu, 1, 0x3f800000)
    TEST_MFSTORE(45, fsd, ld, 3, 0x3ff0000000000001)
    TEST_MFSTORE(46, fsd, ld, 4, 0xfff0000000000001)
    /* ---- from U-mode: mtval is the (virtual = physical here) address, MPP = U ------------------------- */
#ifdef MISALIGNED_TRAPS
    SET_TEST(50)
    la a1, mbuf + 3
    EXPECT_TRAP_TO_M(CAUSE_MISALIGNED_LOAD, 1f)
    ENTER_MODE(PRV_U, 2f)
2:  lw a0, 0(a1)
    j fail
1:  CHECK_VAR_REG(trap_tval, a1)
    LOAD_VAR(a0, trap_status)
    li t0, MSTATUS_MPP
    and a0, a0, t0
    CHECK(a0, 0)
    SET_TEST(51)                         /* delegated to S: scause 6, stval = address */
    la t0, s_trap_vector
    csrw stvec, t0
    li t0, 1 << CAUSE_MISALIGNED_STORE
    csrw medeleg, t0
    la a1, sbuf + 5
    S_EXPECT_TRAP(CAUSE_MISALIGNED_STORE, 1f)
    ENTER_MODE(PRV_U, 2f)
2:  sd a1, 0(a1)
    j fail
1:  GOTO_M(3f)
3:  csrw medeleg, zero
    CHECK_VAR(s_trap_cause, CAUSE_MISALIGNED_STORE)
    CHECK_VAR_REG(s_trap_tval, a1)
    la a2, 2b
    CHECK_VAR_REG(s_trap_epc, a2)
#endif
    /* ---- control transfer: jalr clears bit 0, 2-byte aligned targets are fine with C ---------------- */
    SET_TEST(60)
    la a1, 1f
    addi a1, a1, 1
    jalr ra, 0(a1)
    j fail
    .balign 4
    c.nop
1:  SET_TEST(61)                          /* the target above was 2 mod 4 */
    la a1, 1b
    andi a1, a1, 3
    CHECK(a1, 2)
    SET_TEST(62)
    la a1, 2f
    jalr ra, 1(a1)                        /* odd offset: bit 0 of the sum is cleared */
    j fail
2:  nop
    PASS

    .data
    .align 4
mbuf:
    .byte 0x81, 0x02, 0x83, 0x04, 0x85, 0x06, 0x87, 0x08, 0x89, 0x0a, 0x8b, 0x0c, 0x8d, 0x0e, 0x8f, 0x10
    .byte 0x91, 0x12, 0x93, 0x14
    .align 3
mbuf_sanity:
    .dword 0x0000000000000281
    .align 4
sbuf: .skip 32
