/* counters.S: mcycle/minstret and the cycle/instret/time shadows: monotonic, writable machine
   counters, mcounteren/scounteren gating of S/U access, optional mcountinhibit. */
#include "macros.S"

#define BUSY(n) li t0, n; 9980: addi t0, t0, -1; bnez t0, 9980b

main:
    SET_TEST(1)                           /* mcycle increases */
    csrr s2, mcycle
    BUSY(100)
    csrr s3, mcycle
    bgeu s2, s3, fail_1
    SET_TEST(2)                           /* minstret increases by at least the instructions run */
    csrr s2, minstret
    BUSY(100)                             /* 201 instructions */
    csrr s3, minstret
    sub a0, s3, s2
    li a1, 201
    bltu a0, a1, fail_1
    SET_TEST(3)                           /* instret/cycle (user shadows) are readable in M and track */
    csrr s2, instret
    csrr s3, minstret
    csrr s4, instret
    bltu s3, s2, fail_1
    bltu s4, s3, fail_1
    csrr s2, cycle
    csrr s3, mcycle
    bltu s3, s2, fail_1
    SET_TEST(4)                           /* instret is monotonic across many reads */
    li s5, 50
    csrr s2, instret
1:  csrr s3, instret
    bgeu s2, s3, fail_1
    mv s2, s3
    addi s5, s5, -1
    bnez s5, 1b
    j 2f
fail_1: j fail
2:  SET_TEST(5)                           /* minstret is writable */
    li a1, 0x100000000
    csrw minstret, a1
    csrr a0, minstret
    bltu a0, a1, fail_1
    li a2, 0x100000000 + 0x1000000       /* (QEMU without -icount advances minstret by host ticks) */
    bgeu a0, a2, fail_1
    SET_TEST(6)                           /* mcycle is writable */
    li a1, 0x7000000000000000
    csrw mcycle, a1
    csrr a0, mcycle
    bltu a0, a1, fail_1
    li a2, 0x7000000100000000
    bgeu a0, a2, fail_1
    SET_TEST(7)                           /* time advances too */
    csrr s2, time
    BUSY(20000)
    csrr s3, time
    bgeu s2, s3, fail_1

    /* ---- mcounteren / scounteren ------------------------------------------------------------------------ */
    csrw mcounteren, zero
    csrw scounteren, zero
#define TEST_ILLEGAL_IN(id, mode, code...) \
    SET_TEST(id); EXPECT_TRAP_TO_M(CAUSE_ILLEGAL_INSTRUCTION, 9993f); ENTER_MODE(mode, 9992f); \
    9992: code; j fail; 9993: CHECK_VAR(trap_cause, CAUSE_ILLEGAL_INSTRUCTION)
#define TEST_OK_IN(id, mode, code...) \
    SET_TEST(id); EXPECT_TRAP_TO_M(CAUSE_USER_ECALL + (mode), 9993f); \
    ENTER_MODE(mode, 9992f); 9992: code; ecall; 9993:
    TEST_ILLEGAL_IN(10, PRV_S, csrr a0, cycle)
    TEST_ILLEGAL_IN(11, PRV_S, csrr a0, instret)
    TEST_ILLEGAL_IN(12, PRV_S, csrr a0, time)
    TEST_ILLEGAL_IN(13, PRV_U, csrr a0, cycle)
    TEST_ILLEGAL_IN(14, PRV_S, csrr a0, mcycle)          /* machine counters never from S */
    csrwi mcounteren, 0x7                                /* CY, TM, IR */
    TEST_OK_IN(20, PRV_S, csrr a0, cycle; csrr a1, time; csrr a2, instret)
    TEST_ILLEGAL_IN(21, PRV_U, csrr a0, cycle)          /* scounteren still 0 */
    TEST_ILLEGAL_IN(22, PRV_U, csrr a0, time)
    TEST_ILLEGAL_IN(23, PRV_U, csrr a0, instret)
    csrwi scounteren, 0x5                                /* CY, IR */
    TEST_OK_IN(24, PRV_U, csrr a0, cycle; csrr a2, instret)
    TEST_ILLEGAL_IN(25, PRV_U, csrr a0, time)
    csrwi mcounteren, 0x2                                /* only TM in mcounteren: U needs both */
    csrwi scounteren, 0x7
    TEST_ILLEGAL_IN(26, PRV_U, csrr a0, cycle)
    TEST_OK_IN(27, PRV_U, csrr a0, time)
    TEST_ILLEGAL_IN(28, PRV_S, csrr a0, instret)
    SET_TEST(29)                                         /* instret counts in U-mode too */
    csrwi mcounteren, 0x7
    EXPECT_TRAP_TO_M(CAUSE_USER_ECALL, 1f)
    ENTER_MODE(PRV_U, 2f)
2:  csrr s2, instret
    BUSY(10)
    csrr s3, instret
    ecall
1:  sub a0, s3, s2
    li a1, 21
    bltu a0, a1, fail_1
    SET_TEST(30)                                         /* mcounteren / scounteren round trip */
    csrr a0, mcounteren
    andi a0, a0, 7
    CHECK(a0, 7)
    csrr a0, scounteren
    andi a0, a0, 7
    CHECK(a0, 7)
    csrw mcounteren, zero
    csrw scounteren, zero

    /* ---- mcountinhibit (optional: skipped when absent or not holding CY) -------------------------------------- */
    SET_TEST(40)
    EXPECT_TRAP(CAUSE_ILLEGAL_INSTRUCTION, 3f)
    csrwi mcountinhibit, 0x5                             /* inhibit CY and IR */
    DISARM_TRAP
1:  csrr a0, mcountinhibit
    andi a0, a0, 1
    beqz a0, 3f
    csrr s2, mcycle
    csrr s4, minstret
    BUSY(100)
    csrr s3, mcycle
    csrr s5, minstret
    CHECK_REG(s3, s2)
    SET_TEST(41)
    CHECK_REG(s5, s4)
    csrwi mcountinhibit, 0
    SET_TEST(42)
    csrr s2, mcycle
    BUSY(100)
    csrr s3, mcycle
    bgeu s2, s3, fail_1
3:  PASS
