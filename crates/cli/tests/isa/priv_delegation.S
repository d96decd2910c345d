/* priv_delegation.S: medeleg/mideleg. Delegated U/S exceptions go to stvec with scause/sepc/
   stval and the sstatus stack; undelegated ones go to M; M-mode traps are never delegated;
   S-mode software interrupts via mideleg + sip/mip, the SIE gating rules, and sret. */
#include "macros.S"

main:
    la t0, s_trap_vector
    csrw stvec, t0
    SET_TEST(1)                          /* stvec round trip (direct mode) */
    csrr a0, stvec
    CHECK_REG(a0, t0)
    SET_TEST(2)                          /* medeleg: ecall-from-M (bit 11) is read-only zero */
    li t0, -1
    csrw medeleg, t0
    csrr a0, medeleg
#ifdef MIMIC_STRICT
    /* QEMU 10.0.2 lets medeleg[11] be written (csr_misc.S checks this in strict mode too) */
    li t0, 1 << 11
    and a1, a0, t0
    CHECK(a1, 0)
#endif
    li t0, (1 << 8) | (1 << 2)           /* these must be delegable */
    and a1, a0, t0
    CHECK_REG(a1, t0)
    csrw medeleg, zero
    csrr a0, medeleg
    CHECK(a0, 0)

    /* ---- delegated ecall from U goes to S ------------------------------------------------------------ */
    SET_TEST(10)
    li t0, 1 << CAUSE_USER_ECALL
    csrw medeleg, t0
    CLEAR_VAR(trap_count)
    CLEAR_VAR(s_trap_count)
    li t0, MSTATUS_SIE
    csrs mstatus, t0                     /* SIE = 1 before the trap: SPIE must capture it */
    S_EXPECT_TRAP(CAUSE_USER_ECALL, 1f)
    ENTER_MODE(PRV_U, 2f)
2:  ecall
    j fail
1:  /* back in U (sret to SPP = U): go to M to check */
    GOTO_M(3f)
3:  CHECK_VAR(s_trap_cause, CAUSE_USER_ECALL)
    la a1, 2b
    CHECK_VAR_REG(s_trap_epc, a1)
    CHECK_VAR(s_trap_tval, 0)
    CHECK_VAR(s_trap_count, 1)
    LOAD_VAR(a0, s_trap_status)
    andi a1, a0, MSTATUS_SPP             /* SPP = U */
    CHECK(a1, 0)
    andi a1, a0, MSTATUS_SPIE            /* SPIE <- SIE (1) */
    CHECK(a1, MSTATUS_SPIE)
    andi a1, a0, MSTATUS_SIE             /* SIE <- 0 */
    CHECK(a1, 0)
    SET_TEST(11)                         /* the only M trap was the GOTO_M ecall (from S, forwarded) */
    CHECK_VAR(trap_count, 1)
    CHECK_VAR(trap_cause, CAUSE_SUPERVISOR_ECALL)
    SET_TEST(12)                         /* mcause/mepc untouched by the delegated trap: scause differs */
    csrr a0, scause
    CHECK(a0, CAUSE_USER_ECALL)
    li t0, MSTATUS_SIE
    csrc mstatus, t0

    /* ---- not delegated: the same ecall goes to M ------------------------------------------------------ */
    SET_TEST(20)
    csrw medeleg, zero
    CLEAR_VAR(s_trap_count)
    EXPECT_TRAP_TO_M(CAUSE_USER_ECALL, 1f)
    ENTER_MODE(PRV_U, 2f)
2:  ecall
    j fail
1:  CHECK_VAR(trap_cause, CAUSE_USER_ECALL)
    CHECK_VAR(s_trap_count, 0)

    /* ---- delegated illegal instruction from S stays in S (SPP = S) ------------------------------------- */
    SET_TEST(30)
    li t0, 1 << CAUSE_ILLEGAL_INSTRUCTION
    csrw medeleg, t0
    CLEAR_VAR(s_trap_count)
    S_EXPECT_TRAP(CAUSE_ILLEGAL_INSTRUCTION, 1f)
    ENTER_MODE(PRV_S, 2f)
2:  .word 0xfe000533
    j fail
1:  csrr a0, sstatus                     /* we are in S: sstatus is accessible */
    GOTO_M(3f)
3:  CHECK_VAR(s_trap_cause, CAUSE_ILLEGAL_INSTRUCTION)
    la a1, 2b
    CHECK_VAR_REG(s_trap_epc, a1)
    LOAD_VAR(a0, s_trap_status)
    andi a1, a0, MSTATUS_SPP
    CHECK(a1, MSTATUS_SPP)
    SET_TEST(31)                         /* stval: 0 or the instruction bits */
    LOAD_VAR(a0, s_trap_tval)
    beqz a0, 4f
    CHECK(a0, 0xfe000533)
4:  SET_TEST(32)                         /* delegation never applies to traps taken in M */
    CLEAR_VAR(s_trap_count)
    EXPECT_TRAP(CAUSE_ILLEGAL_INSTRUCTION, 1f)
    .word 0xfe000533
    j fail
1:  CHECK_VAR(trap_cause, CAUSE_ILLEGAL_INSTRUCTION)
    CHECK_VAR(s_trap_count, 0)
    SET_TEST(33)                         /* delegated breakpoint from U */
    li t0, (1 << CAUSE_BREAKPOINT)
    csrw medeleg, t0
    S_EXPECT_TRAP(CAUSE_BREAKPOINT, 1f)
    ENTER_MODE(PRV_U, 2f)
2:  ebreak
    j fail
1:  GOTO_M(3f)
3:  CHECK_VAR(s_trap_cause, CAUSE_BREAKPOINT)
    la a1, 2b
    CHECK_VAR_REG(s_trap_epc, a1)
    csrw medeleg, zero

    /* ---- S CSRs hold what is written -------------------------------------------------------------------- */
    SET_TEST(40)
    li a1, 0x123456789abcdef0
    csrw stval, a1
    csrr a0, stval
    CHECK_REG(a0, a1)
    li a1, 0x8000000000000001
    csrw scause, a1
    csrr a0, scause
    CHECK_REG(a0, a1)
    li a1, 12
    csrw scause, a1
    csrr a0, scause
    CHECK(a0, 12)

    /* ---- mideleg: S software interrupt ----------------------------------------------------------------- */
    SET_TEST(50)
    li t0, MIP_SSIP | MIP_STIP | MIP_SEIP
    csrs mideleg, t0
    csrr a0, mideleg
    and a1, a0, t0
    CHECK_REG(a1, t0)                    /* the S-level interrupts are delegable */
    li t0, MIP_STIP | MIP_SEIP
    csrc mideleg, t0
    la t0, clear_ssip_hook
    la t1, s_trap_hook
    sd t0, 0(t1)
    li t0, MIP_SSIP
    csrs mie, t0                         /* sie.SSIE (mie and sie share the bit) */
    CLEAR_VAR(s_trap_count)
    SET_TEST(51)                         /* S with SIE = 1: setting sip.SSIP traps at once */
    S_EXPECT_TRAP(IRQ_S_SOFT, 1f)
    ENTER_MODE(PRV_S, 2f)
2:  csrsi sstatus, MSTATUS_SIE
3:  csrsi sip, MIP_SSIP
4:  nop
    nop
    j fail
1:  csrci sstatus, MSTATUS_SIE
    GOTO_M(5f)
5:  CHECK_VAR(s_trap_cause, IRQ_S_SOFT)
    CHECK_VAR(s_trap_count, 1)
    LOAD_VAR(a0, s_trap_epc)             /* sepc = the instruction after the csrs (not yet executed) */
    la a1, 4b
    CHECK_REG(a0, a1)
    LOAD_VAR(a0, s_trap_status)
    andi a1, a0, MSTATUS_SPIE            /* SPIE <- SIE = 1 */
    CHECK(a1, MSTATUS_SPIE)
    andi a1, a0, MSTATUS_SPP
    CHECK(a1, MSTATUS_SPP)
    SET_TEST(52)                         /* the hook cleared SSIP */
    csrr a0, mip
    andi a0, a0, MIP_SSIP
    CHECK(a0, 0)
    SET_TEST(53)                         /* S with SIE = 0: pending but not taken; then in U it is taken */
    CLEAR_VAR(s_trap_count)
    S_EXPECT_TRAP(IRQ_S_SOFT, 1f)
    ENTER_MODE(PRV_S, 2f)
2:  csrci sstatus, MSTATUS_SIE
    csrsi sip, MIP_SSIP
    nop
    nop
    csrr a0, sip
    andi a0, a0, MIP_SSIP
    beqz a0, 6f                          /* must be pending */
    li t0, MSTATUS_SPP
    csrc sstatus, t0
    la t0, 3f
    csrw sepc, t0
    sret                                 /* to U: S interrupts are always enabled in U */
3:  nop
    j 6f
1:  GOTO_M(5f)
6:  GOTO_M(fail)
5:  CHECK_VAR(s_trap_cause, IRQ_S_SOFT)
    CHECK_VAR(s_trap_count, 1)
    LOAD_VAR(a0, s_trap_status)
    andi a1, a0, MSTATUS_SPP             /* taken from U */
    CHECK(a1, 0)
    LOAD_VAR(a0, s_trap_epc)
    la a1, 3b
    CHECK_REG(a0, a1)
    SET_TEST(54)                         /* a delegated interrupt is never taken in M, even with MIE = 1 */
    CLEAR_VAR(s_trap_count)
    CLEAR_VAR(trap_count)
    li t0, MIP_SSIP
    csrs mip, t0
    csrsi mstatus, MSTATUS_MIE | MSTATUS_SIE
    nop
    nop
    csrci mstatus, MSTATUS_MIE | MSTATUS_SIE
    CHECK_VAR(s_trap_count, 0)
    CHECK_VAR(trap_count, 0)
    SET_TEST(55)                         /* ... and is taken as soon as S is entered */
    S_EXPECT_TRAP(IRQ_S_SOFT, 1f)
    li t0, MSTATUS_SPIE
    csrs mstatus, t0
    li t0, MSTATUS_MPP
    csrc mstatus, t0
    li t0, (PRV_S << 11)
    csrs mstatus, t0
    csrsi mstatus, MSTATUS_SIE
    la t0, 2f
    csrw mepc, t0
    mret
2:  nop
    j 6b
1:  GOTO_M(5f)
5:  CHECK_VAR(s_trap_count, 1)
    LOAD_VAR(a0, s_trap_epc)
    la a1, 2b
    CHECK_REG(a0, a1)
    csrci mstatus, MSTATUS_SIE

    /* ---- not delegated: the S software interrupt goes to M ----------------------------------------------- */
    SET_TEST(60)
    csrci mstatus, MSTATUS_MIE           /* (mret of GOTO_M restored MIE from MPIE) */
    csrw mideleg, zero
    csrr a0, mideleg
    andi a0, a0, MIP_SSIP
    CHECK(a0, 0)
    la t0, m_clear_ssip_hook
    la t1, m_trap_hook
    sd t0, 0(t1)
    CLEAR_VAR(s_trap_count)
    li t0, MIP_SSIP
    csrs mip, t0                         /* pending, mie.SSIE = 1, M with MIE = 0: not taken */
    nop
    EXPECT_TRAP_TO_M(IRQ_S_SOFT, 1f)
    ENTER_MODE(PRV_S, 2f)                /* in S, M-level handling is always enabled */
2:  nop
    j fail
1:  CHECK_VAR(trap_cause, IRQ_S_SOFT)
    CHECK_VAR(s_trap_count, 0)
    la a1, 2b
    CHECK_VAR_REG(trap_epc, a1)
    SET_TEST(61)                         /* not delegated: sip.SSIP is not writable from S */
    csrr a0, mip
    andi a0, a0, MIP_SSIP
    CHECK(a0, 0)
    CLEAR_VAR(trap_count)
    EXPECT_TRAP_TO_M(CAUSE_SUPERVISOR_ECALL, 1f)
    ENTER_MODE(PRV_S, 2f)
2:  csrsi sip, MIP_SSIP
    csrr a0, sip
    ecall
1:  CHECK_VAR(trap_count, 1)             /* no interrupt happened */
    csrr a0, mip
    andi a0, a0, MIP_SSIP
    CHECK(a0, 0)
    PASS

clear_ssip_hook:
    csrci sip, MIP_SSIP
    li a0, 0
    ret
m_clear_ssip_hook:
    csrci mip, MIP_SSIP
    li a0, 0
    ret
