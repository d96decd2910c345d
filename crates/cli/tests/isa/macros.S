/*
 * macros.S: a tiny bare-metal test framework for the RISC-V ISA test programs.
 *
 * Target: QEMU-compatible `virt` machine, `-bios none -kernel prog.elf`, hart 0 starts in
 * M-mode at _start with a0 = hartid, a1 = device-tree address.
 *
 * Result reporting (SiFive test finisher at 0x100000):
 *   pass: 32-bit store of 0x5555
 *   fail: 32-bit store of (code << 16) | 0x3333, code = test id mod 255 (255 if that is 0,
 *         so the process exit status is never 0), after printing "FAIL test <id>..." on UART0.
 *
 * Register conventions used by the test macros:
 *   gp (x3)  current test id (printed on failure)
 *   t6 (x31) expected value scratch
 *   t0, t1   scratch of EXPECT_TRAP / helpers
 *   s10, s11 clobbered only on failure (the value found and the value expected, printed)
 *   a0..a3   operands / results of TEST_* macros
 * Build flag MIMIC_STRICT (the harness sets it unless it runs another emulator): check mimic's
 * documented choices where QEMU 10 differs (misaligned scalar loads/stores trap; misaligned AMOs
 * report store/AMO-misaligned, cause 6). Without it, QEMU's behaviour is accepted too.
 * Each program #includes this file and then defines `main:` (in .text), ending with PASS.
 *
 * Traps: the M-mode handler records mcause/mepc/mtval/mstatus (trap_cause, ...), and
 *   - if mcause equals the value armed with EXPECT_TRAP*, resumes at the armed label
 *     (optionally with a new mstatus.MPP), disarming the expectation;
 *   - otherwise reports "unexpected trap" and fails with the current test id.
 * An optional hook (m_trap_hook, a code address) is called first, with a0 = mcause; it may
 * use t0-t4, a0-a7 and returns a0 = 0 (continue with the expectation check) or a0 = 1
 * (trap handled: restore registers and mret to the current mepc).
 * An S-mode handler (s_trap_vector, install with `la t0, s_trap_vector; csrw stvec, t0`)
 * works the same way with S_EXPECT_TRAP* / s_trap_* variables / s_trap_hook.
 *
 * Mode switching: ENTER_MODE(PRV_S, label) (from M); GOTO_M(label) from any mode (an ecall
 * with a magic value in t5 that both handlers recognise) continues at label in M-mode.
 */
#ifndef MIMIC_ISA_MACROS_S
#define MIMIC_ISA_MACROS_S

#define FINISHER_BASE   0x100000
#define FINISHER_PASS   0x5555
#define FINISHER_FAIL   0x3333
#define UART_BASE       0x10000000
#define CLINT_BASE      0x2000000
#define CLINT_MSIP      0x2000000
#define CLINT_MTIMECMP  0x2004000
#define CLINT_MTIME     0x200bff8

#define PRV_U 0
#define PRV_S 1
#define PRV_M 3

#define MAGIC_GOTO_M    0x60f0a11d5eedc0de
#define MAGIC_FAIL      0xfa11fa11fa11fa11

#define CAUSE_MISALIGNED_FETCH    0
#define CAUSE_FETCH_ACCESS        1
#define CAUSE_ILLEGAL_INSTRUCTION 2
#define CAUSE_BREAKPOINT          3
#define CAUSE_MISALIGNED_LOAD     4
#define CAUSE_LOAD_ACCESS         5
#define CAUSE_MISALIGNED_STORE    6
#define CAUSE_STORE_ACCESS        7
#define CAUSE_USER_ECALL          8
#define CAUSE_SUPERVISOR_ECALL    9
#define CAUSE_MACHINE_ECALL       11
#define CAUSE_FETCH_PAGE_FAULT    12
#define CAUSE_LOAD_PAGE_FAULT     13
#define CAUSE_STORE_PAGE_FAULT    15
#define IRQ_S_SOFT   0x8000000000000001
#define IRQ_M_SOFT   0x8000000000000003
#define IRQ_S_TIMER  0x8000000000000005
#define IRQ_M_TIMER  0x8000000000000007
#define IRQ_S_EXT    0x8000000000000009
#define IRQ_M_EXT    0x800000000000000b

#define MSTATUS_SIE   (1 << 1)
#define MSTATUS_MIE   (1 << 3)
#define MSTATUS_SPIE  (1 << 5)
#define MSTATUS_UBE   (1 << 6)
#define MSTATUS_MPIE  (1 << 7)
#define MSTATUS_SPP   (1 << 8)
#define MSTATUS_MPP   (3 << 11)
#define MSTATUS_FS    (3 << 13)
#define MSTATUS_FS_INITIAL (1 << 13)
#define MSTATUS_FS_CLEAN   (2 << 13)
#define MSTATUS_FS_DIRTY   (3 << 13)
#define MSTATUS_XS    (3 << 15)
#define MSTATUS_MPRV  (1 << 17)
#define MSTATUS_SUM   (1 << 18)
#define MSTATUS_MXR   (1 << 19)
#define MSTATUS_TVM   (1 << 20)
#define MSTATUS_TW    (1 << 21)
#define MSTATUS_TSR   (1 << 22)
#define MSTATUS_SD    0x8000000000000000

#define MIP_SSIP (1 << 1)
#define MIP_MSIP (1 << 3)
#define MIP_STIP (1 << 5)
#define MIP_MTIP (1 << 7)
#define MIP_SEIP (1 << 9)
#define MIP_MEIP (1 << 11)

/* fflags bits */
#define FF_NX 1
#define FF_UF 2
#define FF_OF 4
#define FF_DZ 8
#define FF_NV 16

/* rounding modes (frm values) */
#define FRM_RNE 0
#define FRM_RTZ 1
#define FRM_RDN 2
#define FRM_RUP 3
#define FRM_RMM 4

/* ------------------------------------------------------------------------------------------ */
/* checking helpers                                                                            */

/* Fail (with the current gp) unless reg == exp_reg. Uses a far jump so it works anywhere. */
#define CHECK_REG(reg, exp_reg) beq reg, exp_reg, 9990f; mv s10, reg; mv s11, exp_reg; j fail_values; 9990:
/* Fail unless reg == the constant exp (clobbers t6). */
#define CHECK(reg, exp) li t6, exp; CHECK_REG(reg, t6)
/* Fail unconditionally (e.g. after an instruction that should have trapped). */
#define FAIL_NOW j fail
#define SET_TEST(id) test_##id: li gp, id

#define TEST_CASE(id, reg, exp, code...) \
    SET_TEST(id); code; CHECK(reg, exp)

/* ---- integer ---------------------------------------------------------------------------- */
#define TEST_RR(id, insn, exp, a, b) \
    TEST_CASE(id, a0, exp, li a1, a; li a2, b; insn a0, a1, a2)
#define TEST_RR_SRC1_EQ_DEST(id, insn, exp, a, b) \
    TEST_CASE(id, a1, exp, li a1, a; li a2, b; insn a1, a1, a2)
#define TEST_RR_SRC2_EQ_DEST(id, insn, exp, a, b) \
    TEST_CASE(id, a2, exp, li a1, a; li a2, b; insn a2, a1, a2)
#define TEST_RR_SRC12_EQ_DEST(id, insn, exp, a) \
    TEST_CASE(id, a1, exp, li a1, a; insn a1, a1, a1)
#define TEST_RR_ZERODEST(id, insn, a, b) \
    TEST_CASE(id, x0, 0, li a1, a; li a2, b; insn x0, a1, a2)
#define TEST_IMM(id, insn, exp, a, imm) \
    TEST_CASE(id, a0, exp, li a1, a; insn a0, a1, imm)
#define TEST_IMM_SRC1_EQ_DEST(id, insn, exp, a, imm) \
    TEST_CASE(id, a1, exp, li a1, a; insn a1, a1, imm)
#define TEST_R(id, insn, exp, a) \
    TEST_CASE(id, a0, exp, li a1, a; insn a0, a1)
/* load from label+offset */
#define TEST_LD(id, insn, exp, offset, label) \
    TEST_CASE(id, a0, exp, la a1, label; insn a0, offset(a1))
/* store val with `st`, read back with `ld` */
#define TEST_ST(id, ldinsn, stinsn, exp, val, offset, label) \
    TEST_CASE(id, a0, exp, la a1, label; li a2, val; stinsn a2, offset(a1); ldinsn a0, offset(a1))
#define TEST_BR_TAKEN(id, insn, a, b) \
    SET_TEST(id); li a1, a; li a2, b; insn a1, a2, 9991f; j fail; 9991:
#define TEST_BR_NOT_TAKEN(id, insn, a, b) \
    SET_TEST(id); li a1, a; li a2, b; insn a1, a2, 9992f; j 9993f; 9992: j fail; 9993:

/* Zicond is not known to binutils 2.40: encode it (R-type, opcode OP, funct7 0000111). */
#define CZERO_EQZ(rd, rs1, rs2) .insn r 0x33, 5, 7, rd, rs1, rs2
#define CZERO_NEZ(rd, rs1, rs2) .insn r 0x33, 7, 7, rd, rs1, rs2

/* ---- floating point (bit patterns in/out; fflags checked exactly) ------------------------ */
/* Results of single ops are also checked to be NaN-boxed (upper 32 bits all ones). */
#define FP_CLEAR_FLAGS csrwi fflags, 0
#define FP_CHECK_FLAGS(flags) csrr a3, fflags; CHECK(a3, flags)
#define FP_CHECK_S(freg, exp) \
    fmv.x.d a0, freg; srai a3, a0, 32; CHECK(a3, -1); \
    fmv.x.w a0, freg; li t6, exp; addiw t6, t6, 0; CHECK_REG(a0, t6)
#define FP_CHECK_D(freg, exp) fmv.x.d a0, freg; CHECK(a0, exp)
#define FP_LOAD_S(freg, bits) li t0, bits; fmv.w.x freg, t0
#define FP_LOAD_D(freg, bits) li t0, bits; fmv.d.x freg, t0

#define TEST_FP_OP1_S(id, insn, exp, flags, a, rm) \
    SET_TEST(id); FP_LOAD_S(fa1, a); FP_CLEAR_FLAGS; insn fa0, fa1, rm; \
    FP_CHECK_FLAGS(flags); FP_CHECK_S(fa0, exp)
#define TEST_FP_OP2_S(id, insn, exp, flags, a, b, rm) \
    SET_TEST(id); FP_LOAD_S(fa1, a); FP_LOAD_S(fa2, b); FP_CLEAR_FLAGS; insn fa0, fa1, fa2, rm; \
    FP_CHECK_FLAGS(flags); FP_CHECK_S(fa0, exp)
#define TEST_FP_OP2N_S(id, insn, exp, flags, a, b) \
    SET_TEST(id); FP_LOAD_S(fa1, a); FP_LOAD_S(fa2, b); FP_CLEAR_FLAGS; insn fa0, fa1, fa2; \
    FP_CHECK_FLAGS(flags); FP_CHECK_S(fa0, exp)
#define TEST_FP_OP3_S(id, insn, exp, flags, a, b, c, rm) \
    SET_TEST(id); FP_LOAD_S(fa1, a); FP_LOAD_S(fa2, b); FP_LOAD_S(fa3, c); FP_CLEAR_FLAGS; \
    insn fa0, fa1, fa2, fa3, rm; FP_CHECK_FLAGS(flags); FP_CHECK_S(fa0, exp)
#define TEST_FP_CMP_S(id, insn, exp, flags, a, b) \
    SET_TEST(id); FP_LOAD_S(fa1, a); FP_LOAD_S(fa2, b); FP_CLEAR_FLAGS; insn a0, fa1, fa2; \
    FP_CHECK_FLAGS(flags); CHECK(a0, exp)
#define TEST_FP_TOINT_S(id, insn, exp, flags, a, rm) \
    SET_TEST(id); FP_LOAD_S(fa1, a); FP_CLEAR_FLAGS; insn a0, fa1, rm; \
    FP_CHECK_FLAGS(flags); CHECK(a0, exp)
#define TEST_FP_FROMINT_S(id, insn, exp, flags, a, rm) \
    SET_TEST(id); li a1, a; FP_CLEAR_FLAGS; insn fa0, a1, rm; \
    FP_CHECK_FLAGS(flags); FP_CHECK_S(fa0, exp)
#define TEST_FP_CLASS_S(id, exp, a) \
    SET_TEST(id); FP_LOAD_S(fa1, a); FP_CLEAR_FLAGS; fclass.s a0, fa1; FP_CHECK_FLAGS(0); CHECK(a0, exp)

#define TEST_FP_OP1_D(id, insn, exp, flags, a, rm) \
    SET_TEST(id); FP_LOAD_D(fa1, a); FP_CLEAR_FLAGS; insn fa0, fa1, rm; \
    FP_CHECK_FLAGS(flags); FP_CHECK_D(fa0, exp)
#define TEST_FP_OP2_D(id, insn, exp, flags, a, b, rm) \
    SET_TEST(id); FP_LOAD_D(fa1, a); FP_LOAD_D(fa2, b); FP_CLEAR_FLAGS; insn fa0, fa1, fa2, rm; \
    FP_CHECK_FLAGS(flags); FP_CHECK_D(fa0, exp)
#define TEST_FP_OP2N_D(id, insn, exp, flags, a, b) \
    SET_TEST(id); FP_LOAD_D(fa1, a); FP_LOAD_D(fa2, b); FP_CLEAR_FLAGS; insn fa0, fa1, fa2; \
    FP_CHECK_FLAGS(flags); FP_CHECK_D(fa0, exp)
#define TEST_FP_OP3_D(id, insn, exp, flags, a, b, c, rm) \
    SET_TEST(id); FP_LOAD_D(fa1, a); FP_LOAD_D(fa2, b); FP_LOAD_D(fa3, c); FP_CLEAR_FLAGS; \
    insn fa0, fa1, fa2, fa3, rm; FP_CHECK_FLAGS(flags); FP_CHECK_D(fa0, exp)
#define TEST_FP_CMP_D(id, insn, exp, flags, a, b) \
    SET_TEST(id); FP_LOAD_D(fa1, a); FP_LOAD_D(fa2, b); FP_CLEAR_FLAGS; insn a0, fa1, fa2; \
    FP_CHECK_FLAGS(flags); CHECK(a0, exp)
#define TEST_FP_TOINT_D(id, insn, exp, flags, a, rm) \
    SET_TEST(id); FP_LOAD_D(fa1, a); FP_CLEAR_FLAGS; insn a0, fa1, rm; \
    FP_CHECK_FLAGS(flags); CHECK(a0, exp)
#define TEST_FP_FROMINT_D(id, insn, exp, flags, a, rm) \
    SET_TEST(id); li a1, a; FP_CLEAR_FLAGS; insn fa0, a1, rm; \
    FP_CHECK_FLAGS(flags); FP_CHECK_D(fa0, exp)
#define TEST_FP_CLASS_D(id, exp, a) \
    SET_TEST(id); FP_LOAD_D(fa1, a); FP_CLEAR_FLAGS; fclass.d a0, fa1; FP_CHECK_FLAGS(0); CHECK(a0, exp)
/* generic names from the task description */
#define TEST_FP_OP2(id, insn, exp, flags, a, b, rm) TEST_FP_OP2_D(id, insn, exp, flags, a, b, rm)

/* ---- traps ------------------------------------------------------------------------------ */
/* Arm the M-mode handler: the next trap must have mcause == cause; resume at label. */
#define EXPECT_TRAP_MPP(cause, label, mpp) EXPECT_TRAP_ALT_MPP(cause, -1, label, mpp)
/* either of two causes is accepted (alt = -1: only cause) */
#define EXPECT_TRAP_ALT_MPP(cause, alt, label, mpp) \
    la t0, trap_expect; li t1, cause; sd t1, 0(t0); la t1, label; sd t1, 8(t0); li t1, mpp; \
    sd t1, 16(t0); li t1, alt; sd t1, 24(t0)
#define EXPECT_TRAP_ALT(cause, alt, label) EXPECT_TRAP_ALT_MPP(cause, alt, label, -1)
#define EXPECT_TRAP(cause, label) EXPECT_TRAP_MPP(cause, label, -1)
/* ... and continue at label in M-mode */
#define EXPECT_TRAP_TO_M(cause, label) EXPECT_TRAP_MPP(cause, label, PRV_M)
#define S_EXPECT_TRAP_SPP(cause, label, spp) \
    la t0, s_trap_expect; li t1, cause; sd t1, 0(t0); la t1, label; sd t1, 8(t0); li t1, spp; sd t1, 16(t0)
#define S_EXPECT_TRAP(cause, label) S_EXPECT_TRAP_SPP(cause, label, -1)
#define DISARM_TRAP la t0, trap_expect; li t1, -1; sd t1, 0(t0)
/* Load a recorded trap field into reg: trap_cause, trap_epc, trap_tval, trap_status, trap_count
   (and s_trap_*). */
#define LOAD_VAR(reg, var) la reg, var; ld reg, 0(reg)
#define CHECK_VAR(var, exp) LOAD_VAR(a3, var); CHECK(a3, exp)
#define CHECK_VAR_REG(var, reg) LOAD_VAR(a3, var); CHECK_REG(a3, reg)
#define CLEAR_VAR(var) la t0, var; sd x0, 0(t0)

/* Execute `code` (one or more instructions), which must trap to M with mcause == cause at its
   first trapping instruction; execution continues after it (in the mode it trapped from). */
#define TEST_TRAP(id, cause, code...) \
    SET_TEST(id); EXPECT_TRAP(cause, 9994f); code; j fail; 9994: CHECK_VAR(trap_cause, cause)
#define TEST_S_TRAP(id, cause, code...) \
    SET_TEST(id); S_EXPECT_TRAP(cause, 9995f); code; j fail; 9995: CHECK_VAR(s_trap_cause, cause)

/* Switch from M to `mode` (PRV_U/PRV_S/PRV_M) at label. Clobbers t0. */
#define ENTER_MODE(mode, label) \
    li t0, MSTATUS_MPP; csrc mstatus, t0; li t0, ((mode) << 11); csrs mstatus, t0; \
    la t0, label; csrw mepc, t0; mret
/* From any mode: continue at label in M-mode (clobbers t4, t5). */
#define GOTO_M(label) la t4, label; li t5, MAGIC_GOTO_M; ecall; j fail

#define PASS j pass

/* ------------------------------------------------------------------------------------------ */
    .section .text.init, "ax", @progbits
    .globl _start
_start:
    la t0, boot_hartid
    sd a0, 0(t0)
    sd a1, 8(t0)
    la sp, _stack_top
    la t0, m_trap_vector
    csrw mtvec, t0
    la t0, m_save_area
    csrw mscratch, t0
    la t0, s_save_area
    csrw sscratch, t0
    li gp, 0
    csrw mie, zero
    csrw medeleg, zero
    csrw mideleg, zero
    csrw satp, zero
#ifndef NO_DEFAULT_PMP
    /* PMP entry 0: NAPOT over the whole address space, RWX, so S/U can access everything. */
    li t0, -1
    csrw pmpaddr0, t0
    li t0, 0x1f
    csrw pmpcfg0, t0
#endif
    j main

/* ---- M-mode trap handler ------------------------------------------------------------------ */
/* save area layout: t0 t1 t2 t3 t4 ra a0..a7 t6 (15 dwords) */
.macro SAVE_REGS scratch
    csrrw t6, \scratch, t6
    sd t0, 0(t6)
    sd t1, 8(t6)
    sd t2, 16(t6)
    sd t3, 24(t6)
    sd t4, 32(t6)
    sd ra, 40(t6)
    sd a0, 48(t6)
    sd a1, 56(t6)
    sd a2, 64(t6)
    sd a3, 72(t6)
    sd a4, 80(t6)
    sd a5, 88(t6)
    sd a6, 96(t6)
    sd a7, 104(t6)
    csrr t0, \scratch
    sd t0, 112(t6)          /* original t6 */
    csrw \scratch, t6
.endm
.macro RESTORE_REGS
    ld t0, 0(t6)
    ld t1, 8(t6)
    ld t2, 16(t6)
    ld t3, 24(t6)
    ld t4, 32(t6)
    ld ra, 40(t6)
    ld a0, 48(t6)
    ld a1, 56(t6)
    ld a2, 64(t6)
    ld a3, 72(t6)
    ld a4, 80(t6)
    ld a5, 88(t6)
    ld a6, 96(t6)
    ld a7, 104(t6)
    ld t6, 112(t6)
.endm

    .align 2
    .globl m_trap_vector
m_trap_vector:
    SAVE_REGS mscratch
    csrr t0, mcause
    csrr t1, mepc
    csrr t2, mtval
    csrr t3, mstatus
    la t4, trap_cause
    sd t0, 0(t4)
    sd t1, 8(t4)
    sd t2, 16(t4)
    sd t3, 24(t4)
    ld t1, 32(t4)
    addi t1, t1, 1
    sd t1, 32(t4)
    /* magic ecalls: t5 = MAGIC_* (checked for any ecall cause) */
    li t1, CAUSE_USER_ECALL
    beq t0, t1, 1f
    li t1, CAUSE_SUPERVISOR_ECALL
    beq t0, t1, 1f
    li t1, CAUSE_MACHINE_ECALL
    beq t0, t1, 1f
    j 3f
1:  li t1, MAGIC_GOTO_M
    bne t5, t1, 2f
    /* continue in M-mode at the address in (saved) t4 */
    ld t1, 32(t6)
    csrw mepc, t1
    li t1, MSTATUS_MPP
    csrs mstatus, t1
    li t5, 0                /* consume the magic value */
    j m_trap_return
2:  li t1, MAGIC_FAIL
    beq t5, t1, fail_from_s
3:  /* hook */
    la t1, m_trap_hook
    ld t1, 0(t1)
    beqz t1, 4f
    mv a0, t0
    jalr ra, t1
    bnez a0, m_trap_return
    csrr t0, mcause
4:  /* expected? */
    la t4, trap_expect
    ld t1, 0(t4)
    beq t0, t1, 5f
    ld t1, 24(t4)
    bne t0, t1, m_unexpected
5:  li t1, -1
    sd t1, 0(t4)
    sd t1, 24(t4)
    ld t1, 8(t4)
    csrw mepc, t1
    ld t1, 16(t4)
    bltz t1, m_trap_return
    li t2, MSTATUS_MPP
    csrc mstatus, t2
    slli t1, t1, 11
    csrs mstatus, t1
    .globl m_trap_return
m_trap_return:
    RESTORE_REGS
    mret

m_unexpected:
    la a0, msg_fail
    call uart_puts
    mv a0, gp
    call uart_putdec
    la a0, msg_unexpected
    call uart_puts
    csrr a0, mcause
    call uart_puthex
    la a0, msg_mepc
    call uart_puts
    csrr a0, mepc
    call uart_puthex
    la a0, msg_mtval
    call uart_puts
    csrr a0, mtval
    call uart_puthex
    j fail_exit

/* ---- S-mode trap handler ------------------------------------------------------------------ */
    .align 2
    .globl s_trap_vector
s_trap_vector:
    SAVE_REGS sscratch
    /* magic ecalls from U that were delegated: forward to M */
    li t1, MAGIC_GOTO_M
    beq t5, t1, 5f
    li t1, MAGIC_FAIL
    bne t5, t1, 6f
5:  csrr t0, scause
    li t1, CAUSE_USER_ECALL
    bne t0, t1, 6f
    RESTORE_REGS
    ecall
6:  csrr t0, scause
    csrr t1, sepc
    csrr t2, stval
    csrr t3, sstatus
    la t4, s_trap_cause
    sd t0, 0(t4)
    sd t1, 8(t4)
    sd t2, 16(t4)
    sd t3, 24(t4)
    ld t1, 32(t4)
    addi t1, t1, 1
    sd t1, 32(t4)
    la t1, s_trap_hook
    ld t1, 0(t1)
    beqz t1, 7f
    mv a0, t0
    jalr ra, t1
    bnez a0, s_trap_return
    csrr t0, scause
7:  la t4, s_trap_expect
    ld t1, 0(t4)
    bne t0, t1, s_unexpected
    li t1, -1
    sd t1, 0(t4)
    ld t1, 8(t4)
    csrw sepc, t1
    ld t1, 16(t4)
    bltz t1, s_trap_return
    li t2, MSTATUS_SPP
    csrc sstatus, t2
    beqz t1, s_trap_return
    csrs sstatus, t2
    .globl s_trap_return
s_trap_return:
    RESTORE_REGS
    sret
s_unexpected:
    la t4, s_unexpected_flag
    li t1, 1
    sd t1, 0(t4)
    li t5, MAGIC_FAIL
    ecall
    j .

/* ---- pass / fail -------------------------------------------------------------------------- */
    .globl pass
pass:
    li t0, FINISHER_BASE
    li t1, FINISHER_PASS
    sw t1, 0(t0)
    j pass

    .globl fail_values
fail_values:
    li t4, MAGIC_FAIL
    li t5, MAGIC_FAIL
    ecall
    j .
    .globl fail
fail:
    li t4, 0
    /* Report from M-mode: works from S/U too (the ecall reaches m_trap_vector). */
    li t5, MAGIC_FAIL
    ecall
    j .

fail_from_s:
    la a0, msg_fail
    call uart_puts
    mv a0, gp
    call uart_putdec
    /* values of a failed CHECK? (t4 == MAGIC_FAIL at the ecall) */
    ld t0, 32(t6)
    li t1, MAGIC_FAIL
    bne t0, t1, 1f
    la a0, msg_got
    call uart_puts
    mv a0, s10
    call uart_puthex
    la a0, msg_expected
    call uart_puts
    mv a0, s11
    call uart_puthex
1:  la t0, s_unexpected_flag
    ld t0, 0(t0)
    beqz t0, fail_exit
    la a0, msg_s_unexpected
    call uart_puts
    la s0, s_trap_cause
    ld a0, 0(s0)
    call uart_puthex
    la a0, msg_sepc
    call uart_puts
    ld a0, 8(s0)
    call uart_puthex
    la a0, msg_stval
    call uart_puts
    ld a0, 16(s0)
    call uart_puthex
fail_exit:
    la a0, msg_nl
    call uart_puts
    /* code = (gp & 0xffff) mod 255, never 0 (the exit status is the low 8 bits of code) */
    slli t1, gp, 48
    srli t1, t1, 48
    li t2, 255
1:  bltu t1, t2, 2f
    sub t1, t1, t2
    j 1b
2:  bnez t1, 3f
    li t1, 255
3:  slli t1, t1, 16
    li t2, FINISHER_FAIL
    or t1, t1, t2
    li t0, FINISHER_BASE
    sw t1, 0(t0)
    j .

/* ---- UART helpers (M-mode, clobber t0-t3, a0, s1-s3) ----------------------------------------- */
uart_putc:
    li t0, UART_BASE
1:  lbu t1, 5(t0)
    andi t1, t1, 0x20
    beqz t1, 1b
    sb a0, 0(t0)
    ret
uart_puts:
    mv s1, ra
    mv s2, a0
1:  lbu a0, 0(s2)
    beqz a0, 2f
    call uart_putc
    addi s2, s2, 1
    j 1b
2:  mv ra, s1
    ret
uart_puthex:
    mv s1, ra
    mv s2, a0
    li a0, '0'
    call uart_putc
    li a0, 'x'
    call uart_putc
    li s3, 60
1:  srl a0, s2, s3
    andi a0, a0, 15
    li t2, 10
    blt a0, t2, 2f
    addi a0, a0, 'a' - 10 - '0'
2:  addi a0, a0, '0'
    call uart_putc
    addi s3, s3, -4
    bgez s3, 1b
    mv ra, s1
    ret
/* decimal without M-extension instructions: subtract powers of ten */
uart_putdec:
    mv s1, ra
    mv s2, a0
    la s3, pow10
    li s4, 0                 /* printed a digit yet */
1:  ld t2, 0(s3)
    beqz t2, 4f
    li a0, 0
2:  bltu s2, t2, 3f
    sub s2, s2, t2
    addi a0, a0, 1
    j 2b
3:  li t3, 1
    beq t2, t3, 5f           /* always print the last digit */
    bnez a0, 5f
    beqz s4, 6f
5:  li s4, 1
    addi a0, a0, '0'
    call uart_putc
6:  addi s3, s3, 8
    j 1b
4:  mv ra, s1
    ret

/* ---- data --------------------------------------------------------------------------------- */
    .section .data.framework, "aw", @progbits
    .align 3
    .globl boot_hartid, boot_fdt
boot_hartid: .dword 0
boot_fdt:    .dword 0
    .globl trap_expect, trap_resume, trap_mpp
trap_expect: .dword -1
trap_resume: .dword 0
trap_mpp:    .dword -1
trap_expect_alt: .dword -1
    .globl trap_cause, trap_epc, trap_tval, trap_status, trap_count
trap_cause:  .dword 0
trap_epc:    .dword 0
trap_tval:   .dword 0
trap_status: .dword 0
trap_count:  .dword 0
    .globl m_trap_hook, s_trap_hook
m_trap_hook: .dword 0
s_trap_hook: .dword 0
    .globl s_trap_expect, s_trap_resume, s_trap_spp
s_trap_expect: .dword -1
s_trap_resume: .dword 0
s_trap_spp:    .dword -1
    .globl s_trap_cause, s_trap_epc, s_trap_tval, s_trap_status, s_trap_count
s_trap_cause:  .dword 0
s_trap_epc:    .dword 0
s_trap_tval:   .dword 0
s_trap_status: .dword 0
s_trap_count:  .dword 0
s_unexpected_flag: .dword 0
pow10: .dword 10000000000000000000, 1000000000000000000, 100000000000000000, 10000000000000000
       .dword 1000000000000000, 100000000000000, 10000000000000, 1000000000000, 100000000000
       .dword 10000000000, 1000000000, 100000000, 10000000, 1000000, 100000, 10000, 1000, 100
       .dword 10, 1, 0
msg_fail:         .asciz "FAIL test "
msg_unexpected:   .asciz ": unexpected trap mcause="
msg_s_unexpected: .asciz ": unexpected S-mode trap scause="
msg_mepc:         .asciz " mepc="
msg_mtval:        .asciz " mtval="
msg_sepc:         .asciz " sepc="
msg_stval:        .asciz " stval="
msg_nl:           .asciz "\n"
msg_got:          .asciz ": got "
msg_expected:     .asciz ", expected "

    .section .bss.framework, "aw", @nobits
    .align 4
m_save_area: .skip 128
s_save_area: .skip 128
    .align 4
    .skip 16384
    .globl _stack_top
_stack_top:

    .text
#endif
