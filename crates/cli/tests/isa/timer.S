/* timer.S: CLINT machine timer (mtimecmp -> MTIP, mcause 0x8000000000000007), mtime advancing,
   CLINT msip software interrupt (cause 3), wfi wake-up, and Sstc: stimecmp raising STIP
   delegated to S-mode (scause 0x8000000000000005), its access rules, and the time CSR. */
#include "macros.S"

#define CSR_STIMECMP 0x14d
#define TICKS 10000                        /* 1 ms at 10 MHz */
#define TIMEOUT 50000000                   /* 5 s */

#define TEST_ILLEGAL_IN(id, mode, code...) \
    SET_TEST(id); EXPECT_TRAP_TO_M(CAUSE_ILLEGAL_INSTRUCTION, 9993f); ENTER_MODE(mode, 9992f); \
    9992: code; j fail; 9993: CHECK_VAR(trap_cause, CAUSE_ILLEGAL_INSTRUCTION)

main:
    la t0, irq_hook
    la t1, m_trap_hook
    sd t0, 0(t1)
    la t0, s_irq_hook
    la t1, s_trap_hook
    sd t0, 0(t1)
    la t0, s_trap_vector
    csrw stvec, t0
    li s0, CLINT_MTIME
    li s1, CLINT_MTIMECMP
    li t0, -1
    sd t0, 0(s1)

    /* ---- mtime and time ---------------------------------------------------------------------------- */
    SET_TEST(1)
    ld s2, 0(s0)
    li t0, 100000
1:  addi t0, t0, -1
    bnez t0, 1b
    ld s3, 0(s0)
    bgeu s2, s3, fail_1
    SET_TEST(2)                            /* the time CSR mirrors mtime */
    ld s2, 0(s0)
    csrr s3, time
    ld s4, 0(s0)
    bltu s3, s2, fail_1
    bltu s4, s3, fail_1
    SET_TEST(3)                            /* 32-bit halves of mtime are readable */
    lwu a0, 4(s0)
    ld a1, 0(s0)
    srli a1, a1, 32
    bltu a1, a0, fail_1
    j 2f
fail_1: j fail
2:
    /* ---- MTIP follows mtime >= mtimecmp ------------------------------------------------------------ */
    SET_TEST(10)
    csrr a0, mip
    andi a0, a0, MIP_MTIP
    CHECK(a0, 0)
    SET_TEST(11)
    sd x0, 0(s1)                           /* mtimecmp = 0: pending (MIE = 0, mie = 0: not taken) */
    fence
    csrr a0, mip
    andi a0, a0, MIP_MTIP
    CHECK(a0, MIP_MTIP)
    SET_TEST(12)
    li t0, -1
    sd t0, 0(s1)
    ld a1, 0(s1)
    CHECK(a1, -1)                          /* mtimecmp reads back */
    csrr a0, mip
    andi a0, a0, MIP_MTIP
    CHECK(a0, 0)

    /* ---- machine timer interrupt --------------------------------------------------------------------- */
    SET_TEST(20)
    CLEAR_VAR(irq_count)
    li t0, MIP_MTIP
    csrw mie, t0
    csrsi mstatus, MSTATUS_MIE
    ld s2, 0(s0)
    li t0, TICKS
    add s3, s2, t0                         /* the deadline */
    sd s3, 0(s1)
    li t0, TIMEOUT
    add s4, s2, t0
1:  LOAD_VAR(a0, irq_count)
    bnez a0, 2f
    ld a1, 0(s0)
    bltu a1, s4, 1b
    j fail_1                               /* timed out */
2:  csrci mstatus, MSTATUS_MIE
    CHECK(a0, 1)
    CHECK_VAR(trap_cause, IRQ_M_TIMER)
    SET_TEST(21)                           /* not taken before the deadline */
    LOAD_VAR(a0, irq_time)
    bltu a0, s3, fail_1
    SET_TEST(22)                           /* mstatus at trap: MPIE = 1, MIE = 0, MPP = M */
    LOAD_VAR(a0, trap_status)
    andi a1, a0, MSTATUS_MIE | MSTATUS_MPIE
    CHECK(a1, MSTATUS_MPIE)
    SET_TEST(23)                           /* no interrupt while MIE = 0 even if pending */
    CLEAR_VAR(irq_count)
    sd x0, 0(s1)
    li t0, 1000
1:  addi t0, t0, -1
    bnez t0, 1b
    CHECK_VAR(irq_count, 0)
    csrr a0, mip
    andi a0, a0, MIP_MTIP
    CHECK(a0, MIP_MTIP)
    SET_TEST(24)                           /* ... taken right after MIE is set */
    csrsi mstatus, MSTATUS_MIE
2:  nop
    csrci mstatus, MSTATUS_MIE
    CHECK_VAR(irq_count, 1)
    la a1, 2b
    CHECK_VAR_REG(trap_epc, a1)

    /* ---- CLINT msip: machine software interrupt -------------------------------------------------------------- */
    SET_TEST(30)
    CLEAR_VAR(irq_count)
    li s5, CLINT_MSIP
    li t0, 1
    sw t0, 0(s5)
    fence
    csrr a0, mip
    andi a0, a0, MIP_MSIP
    CHECK(a0, MIP_MSIP)
    lw a0, 0(s5)
    CHECK(a0, 1)
    SET_TEST(31)
    li t0, MIP_MSIP
    csrw mie, t0
    csrsi mstatus, MSTATUS_MIE
2:  nop
    csrci mstatus, MSTATUS_MIE
    CHECK_VAR(irq_count, 1)
    CHECK_VAR(trap_cause, IRQ_M_SOFT)
    la a1, 2b
    CHECK_VAR_REG(trap_epc, a1)
    csrr a0, mip
    andi a0, a0, MIP_MSIP
    CHECK(a0, 0)
    lw a0, 0(s5)
    CHECK(a0, 0)
    SET_TEST(32)                           /* priority: MSIP is taken before MTIP when both pend */
    CLEAR_VAR(irq_count)
    li t0, MIP_MSIP | MIP_MTIP
    csrw mie, t0
    sd x0, 0(s1)
    li t0, 1
    sw t0, 0(s5)
    fence
    la t0, first_cause
    li t1, -1
    sd t1, 0(t0)
    csrsi mstatus, MSTATUS_MIE
    nop
    nop
    csrci mstatus, MSTATUS_MIE
    CHECK_VAR(irq_count, 2)
    CHECK_VAR(first_cause, IRQ_M_SOFT)
    CHECK_VAR(trap_cause, IRQ_M_TIMER)

    /* ---- wfi ---------------------------------------------------------------------------------------------- */
    SET_TEST(40)                           /* MIE = 0: wfi returns once MTIP is pending, no trap */
    CLEAR_VAR(irq_count)
    li t0, MIP_MTIP
    csrw mie, t0
    ld s2, 0(s0)
    li t0, TICKS
    add s3, s2, t0
    sd s3, 0(s1)
    li t0, TIMEOUT
    add s4, s2, t0
1:  wfi
    csrr a0, mip
    andi a0, a0, MIP_MTIP
    bnez a0, 2f
    ld a1, 0(s0)
    bltu a1, s4, 1b
    j fail_1
2:  ld a1, 0(s0)
    bltu a1, s3, fail_1
    CHECK_VAR(irq_count, 0)
    SET_TEST(41)                           /* MIE = 1: the interrupt is taken, mepc after the wfi */
    ld s2, 0(s0)
    li t0, TICKS
    add s3, s2, t0
    sd s3, 0(s1)
    li t0, TIMEOUT
    add s4, s2, t0
    csrsi mstatus, MSTATUS_MIE
1:  wfi
2:  LOAD_VAR(a0, irq_count)
    bnez a0, 3f
    ld a1, 0(s0)
    bltu a1, s4, 1b
    j fail_1
3:  csrci mstatus, MSTATUS_MIE
    CHECK_VAR(trap_cause, IRQ_M_TIMER)
    LOAD_VAR(a0, trap_epc)                 /* either after the wfi or in the polling loop */
    la a1, 1b
    beq a0, a1, fail_1
    csrw mie, zero

    /* ---- Sstc -------------------------------------------------------------------------------------------- */
    csrw mcounteren, zero
    li t0, 0x8000000000000000
    csrc menvcfg, t0                       /* STCE = 0 */
    csrwi mcounteren, 2                    /* TM */
    TEST_ILLEGAL_IN(50, PRV_S, csrr a0, CSR_STIMECMP)
    li t0, 0x8000000000000000
    csrs menvcfg, t0                       /* STCE = 1 */
    csrw mcounteren, zero
    TEST_ILLEGAL_IN(51, PRV_S, csrr a0, CSR_STIMECMP)     /* needs mcounteren.TM too */
    TEST_ILLEGAL_IN(52, PRV_S, csrr a0, time)
    csrwi mcounteren, 2
    TEST_ILLEGAL_IN(53, PRV_U, csrr a0, time)             /* scounteren.TM = 0 */
    TEST_ILLEGAL_IN(54, PRV_U, csrr a0, CSR_STIMECMP)     /* S CSR */
    SET_TEST(55)                           /* STIP follows stimecmp (M view) */
    li t0, -1
    csrw CSR_STIMECMP, t0
    csrr a0, CSR_STIMECMP
    CHECK(a0, -1)
    csrr a0, mip
    andi a0, a0, MIP_STIP
    CHECK(a0, 0)
    csrw CSR_STIMECMP, zero
    csrr a0, mip
    andi a0, a0, MIP_STIP
    CHECK(a0, MIP_STIP)
    li t0, -1
    csrw CSR_STIMECMP, t0
    csrr a0, mip
    andi a0, a0, MIP_STIP
    CHECK(a0, 0)
    SET_TEST(56)                           /* S-mode timer through stimecmp, delegated */
    CLEAR_VAR(s_irq_count)
    li t0, MIP_STIP
    csrw mideleg, t0
    csrw mie, t0                           /* sie.STIE */
    EXPECT_TRAP_TO_M(CAUSE_SUPERVISOR_ECALL, 5f)
    ENTER_MODE(PRV_S, 1f)
1:  csrr s2, time
    li t0, TICKS
    add s3, s2, t0
    csrw CSR_STIMECMP, s3
    li t0, TIMEOUT
    add s4, s2, t0
    csrsi sstatus, MSTATUS_SIE
2:  LOAD_VAR(a0, s_irq_count)
    bnez a0, 3f
    csrr a1, time
    bltu a1, s4, 2b
    li a0, -1                              /* timed out */
3:  csrci sstatus, MSTATUS_SIE
    ecall
5:  CHECK(a0, 1)
    CHECK_VAR(s_trap_cause, IRQ_S_TIMER)
    LOAD_VAR(a0, s_irq_time)
    bltu a0, s3, fail_1                    /* not before the deadline */
    LOAD_VAR(a0, s_trap_status)
    andi a0, a0, MSTATUS_SPP
    CHECK(a0, MSTATUS_SPP)
    SET_TEST(57)                           /* from U: taken regardless of SIE */
    CLEAR_VAR(s_irq_count)
    csrwi scounteren, 2
    EXPECT_TRAP_TO_M(CAUSE_USER_ECALL, 5f)
    ENTER_MODE(PRV_U, 1f)
1:  csrr s2, time                          /* allowed now: mcounteren.TM = scounteren.TM = 1 */
    la t0, stimecmp_req
    li t1, TICKS
    add s3, s2, t1
    sd s3, 0(t0)
    li t0, TIMEOUT
    add s4, s2, t0
    GOTO_M(6f)
6:  LOAD_VAR(t0, stimecmp_req)             /* M arms stimecmp, then back to U */
    csrw CSR_STIMECMP, t0
    ENTER_MODE(PRV_U, 2f)
2:  LOAD_VAR(a0, s_irq_count)
    bnez a0, 3f
    csrr a1, time
    bltu a1, s4, 2b
    li a0, -1
3:  ecall
5:  CHECK(a0, 1)
    CHECK_VAR(s_trap_cause, IRQ_S_TIMER)
    LOAD_VAR(a0, s_trap_status)
    andi a0, a0, MSTATUS_SPP
    CHECK(a0, 0)
    SET_TEST(58)                           /* not delegated: STIP goes to M with mcause 5 */
    CLEAR_VAR(irq_count)
    csrw mideleg, zero
    li t0, MIP_STIP
    csrw mie, t0
    csrw CSR_STIMECMP, zero
    EXPECT_TRAP_TO_M(CAUSE_SUPERVISOR_ECALL, 5f)
    ENTER_MODE(PRV_S, 1f)                  /* M interrupts are always enabled in S */
1:  nop
    ecall
5:  CHECK_VAR(irq_count, 1)
    CHECK_VAR(first_cause, IRQ_S_TIMER)
    csrw mie, zero
    li t0, -1
    csrw CSR_STIMECMP, t0
    PASS

/* M hook: handle interrupts (count, time stamp, silence the source) */
irq_hook:
    bgez a0, 9f                            /* exceptions: let the framework handle them */
    la t0, irq_count
    ld t1, 0(t0)
    bnez t1, 1f
    la t2, first_cause
    sd a0, 0(t2)
1:  addi t1, t1, 1
    sd t1, 0(t0)
    li t0, CLINT_MTIME
    ld t1, 0(t0)
    la t0, irq_time
    sd t1, 0(t0)
    li t0, IRQ_M_TIMER
    bne a0, t0, 2f
    li t0, CLINT_MTIMECMP
    li t1, -1
    sd t1, 0(t0)
    j 8f
2:  li t0, IRQ_M_SOFT
    bne a0, t0, 3f
    li t0, CLINT_MSIP
    sw x0, 0(t0)
    j 8f
3:  li t0, IRQ_S_TIMER
    bne a0, t0, 9f
    li t1, -1
    csrw CSR_STIMECMP, t1
8:  li a0, 1
    ret
9:  li a0, 0
    ret

/* S hook: the S timer */
s_irq_hook:
    li t0, IRQ_S_TIMER
    bne a0, t0, 9f
    li t1, -1
    csrw CSR_STIMECMP, t1
    csrr t1, time
    la t0, s_irq_time
    sd t1, 0(t0)
    la t0, s_irq_count
    ld t1, 0(t0)
    addi t1, t1, 1
    sd t1, 0(t0)
    li a0, 1
    ret
9:  li a0, 0
    ret

    .data
    .align 3
irq_count:    .dword 0
irq_time:     .dword 0
first_cause:  .dword 0
s_irq_count:  .dword 0
s_irq_time:   .dword 0
stimecmp_req: .dword 0
