/* rv64a.S: LR/SC and every AMO (.w and .d), with sign extension, signed/unsigned min/max,
   wrap-around, rd aliasing, and misaligned-address traps. */
#include "macros.S"

#define SENTINEL 0x5ea1ed5e

/* 32-bit AMO: memory word = init (and a sentinel word after it); rd must be exp_rd (the old
   value, sign-extended), memory must become exp_mem (low 32 bits), sentinel untouched. */
#define TEST_AMO_W(id, insn, exp_rd, exp_mem, init, operand) \
    SET_TEST(id); la a1, amo_buf; li a2, init; sw a2, 0(a1); li a2, SENTINEL; sw a2, 4(a1); \
    li a2, operand; insn a0, a2, (a1); CHECK(a0, exp_rd); \
    lwu a3, 0(a1); CHECK(a3, ((exp_mem) & 0xffffffff)); lw a3, 4(a1); CHECK(a3, SENTINEL)
#define TEST_AMO_D(id, insn, exp_rd, exp_mem, init, operand) \
    SET_TEST(id); la a1, amo_buf; li a2, init; sd a2, 0(a1); li a2, SENTINEL; sd a2, 8(a1); \
    li a2, operand; insn a0, a2, (a1); CHECK(a0, exp_rd); \
    ld a3, 0(a1); CHECK(a3, exp_mem); ld a3, 8(a1); CHECK(a3, SENTINEL)

main:
    /* ---- LR/SC --------------------------------------------------------------------------------- */
    SET_TEST(1)                                     /* lr.w sign-extends, sc.w succeeds */
    la a1, amo_buf
    li a2, 0x80000001
    sw a2, 0(a1)
    lr.w a0, (a1)
    CHECK(a0, 0xffffffff80000001)
    li a2, 0x12345678
    sc.w a3, a2, (a1)
    CHECK(a3, 0)
    lw a0, 0(a1)
    CHECK(a0, 0x12345678)
    SET_TEST(2)                                     /* second sc.w without a new lr fails */
    li a2, 0x55
    sc.w a3, a2, (a1)
    beqz a3, fail_2
    lw a0, 0(a1)
    CHECK(a0, 0x12345678)
    j 1f
fail_2: j fail
1:  SET_TEST(3)                                     /* lr.d / sc.d */
    li a2, 0x8000000000000001
    sd a2, 8(a1)
    addi a4, a1, 8
    lr.d a0, (a4)
    CHECK(a0, 0x8000000000000001)
    li a2, 0xfedcba9876543210
    sc.d a3, a2, (a4)
    CHECK(a3, 0)
    ld a0, 8(a1)
    CHECK(a0, 0xfedcba9876543210)
    SET_TEST(4)                                     /* sc.d again fails, memory unchanged */
    sc.d a3, x0, (a4)
    beqz a3, fail_4
    ld a0, 8(a1)
    CHECK(a0, 0xfedcba9876543210)
    j 1f
fail_4: j fail
1:  SET_TEST(5)                                     /* sc to an address outside the reserved set fails */
    la a1, amo_buf
    la a4, amo_far
    li a2, 77
    sd a2, 0(a4)
    lr.d a0, (a1)
    li a2, 99
    sc.d a3, a2, (a4)
    beqz a3, fail_5
    ld a0, 0(a4)
    CHECK(a0, 77)
    j 1f
fail_5: j fail
1:  SET_TEST(6)                                     /* lr/sc loop (atomic increment) with .aq/.rl */
    la a1, amo_buf
    sw x0, 0(a1)
    li a5, 10
2:  lr.w.aq a0, (a1)
    addi a0, a0, 3
    sc.w.rl a3, a0, (a1)
    bnez a3, 2b
    addi a5, a5, -1
    bnez a5, 2b
    lw a0, 0(a1)
    CHECK(a0, 30)
    SET_TEST(7)                                     /* lr.d.aqrl / sc.d.aqrl */
    li a2, -1
    sd a2, 0(a1)
3:  lr.d.aqrl a0, (a1)
    CHECK(a0, -1)
    sc.d.aqrl a3, x0, (a1)
    bnez a3, 3b
    ld a0, 0(a1)
    CHECK(a0, 0)
    SET_TEST(8)                                     /* sc with rd == rs2 */
    lr.w a0, (a1)
    li a2, 0x42
    sc.w a2, a2, (a1)
    CHECK(a2, 0)
    lw a0, 0(a1)
    CHECK(a0, 0x42)

    /* ---- AMO .w -------------------------------------------------------------------------------- */
    TEST_AMO_W(20, amoswap.w, 0xffffffff80000000, 0x00000001, 0x80000000, 1)
    TEST_AMO_W(21, amoswap.w, 0x0000000000000001, 0xffffffff, 0x00000001, 0xffffffffffffffff)
    TEST_AMO_W(22, amoswap.w, 0x7fffffff, 0x89abcdef, 0x7fffffff, 0x0123456789abcdef) /* rs2 low 32 */
    TEST_AMO_W(23, amoadd.w, 0x0000000000000005, 0x0000000c, 5, 7)
    TEST_AMO_W(24, amoadd.w, 0x000000007fffffff, 0x80000000, 0x7fffffff, 1)        /* wraps */
    TEST_AMO_W(25, amoadd.w, 0xffffffffffffffff, 0x00000000, 0xffffffff, 1)        /* carry dropped */
    TEST_AMO_W(26, amoadd.w, 0xffffffff80000000, 0x00000000, 0x80000000, 0x0000000180000000)
    TEST_AMO_W(27, amoxor.w, 0xffffffffff00ff00, 0xf00ff00f, 0xff00ff00, 0x0f0f0f0f)
    TEST_AMO_W(28, amoxor.w, 0x0000000012345678, 0x00000000, 0x12345678, 0x12345678)
    TEST_AMO_W(29, amoand.w, 0xffffffffff00ff00, 0x0f000f00, 0xff00ff00, 0x0f0f0f0f)
    TEST_AMO_W(30, amoand.w, 0xffffffffffffffff, 0x80000001, 0xffffffff, 0x80000001)
    TEST_AMO_W(31, amoor.w, 0xffffffffff00ff00, 0xff0fff0f, 0xff00ff00, 0x0f0f0f0f)
    TEST_AMO_W(32, amoor.w, 0x0000000000000000, 0x80000000, 0, 0x80000000)
    TEST_AMO_W(33, amomin.w, 0x0000000000000001, 0x80000000, 1, 0x80000000)       /* signed: INT_MIN < 1 */
    TEST_AMO_W(34, amomin.w, 0xffffffff80000000, 0x80000000, 0x80000000, 0x7fffffff)
    TEST_AMO_W(35, amomin.w, 0xffffffffffffffff, 0xfffffffe, 0xffffffff, 0xfffffffe)
    TEST_AMO_W(36, amomin.w, 0x0000000000000005, 0x00000005, 5, 0x0000000100000007)  /* 32-bit compare */
    TEST_AMO_W(37, amomax.w, 0x0000000000000001, 0x00000001, 1, 0x80000000)
    TEST_AMO_W(38, amomax.w, 0xffffffff80000000, 0x7fffffff, 0x80000000, 0x7fffffff)
    TEST_AMO_W(39, amomax.w, 0xffffffffffffffff, 0x00000000, 0xffffffff, 0)
    TEST_AMO_W(40, amominu.w, 0x0000000000000001, 0x00000001, 1, 0x80000000)       /* unsigned: 1 < 2^31 */
    TEST_AMO_W(41, amominu.w, 0xffffffffffffffff, 0x00000000, 0xffffffff, 0)
    TEST_AMO_W(42, amominu.w, 0xffffffff80000000, 0x7fffffff, 0x80000000, 0x7fffffff)
    TEST_AMO_W(43, amominu.w, 0x0000000000000003, 0x00000002, 3, 0xffffffff00000002) /* 32-bit compare */
    TEST_AMO_W(44, amomaxu.w, 0x0000000000000001, 0x80000000, 1, 0x80000000)
    TEST_AMO_W(45, amomaxu.w, 0x0000000000000000, 0xffffffff, 0, 0xffffffff)
    TEST_AMO_W(46, amomaxu.w, 0xffffffffffffffff, 0xffffffff, 0xffffffff, 0x7fffffff)
    TEST_AMO_W(47, amomaxu.w, 0x0000000000000002, 0x00000002, 2, 0x0000000100000001) /* 32-bit compare */
    TEST_AMO_W(48, amoadd.w.aq, 0x0000000000000001, 0x00000003, 1, 2)
    TEST_AMO_W(49, amoswap.w.rl, 0x0000000000000001, 0x00000002, 1, 2)
    TEST_AMO_W(50, amoor.w.aqrl, 0x0000000000000001, 0x00000003, 1, 2)

    /* ---- AMO .d -------------------------------------------------------------------------------- */
    TEST_AMO_D(60, amoswap.d, 0x8000000000000000, 1, 0x8000000000000000, 1)
    TEST_AMO_D(61, amoswap.d, 0x00000000ffffffff, 0xffffffffffffffff, 0xffffffff, -1)
    TEST_AMO_D(62, amoadd.d, 5, 12, 5, 7)
    TEST_AMO_D(63, amoadd.d, 0x7fffffffffffffff, 0x8000000000000000, 0x7fffffffffffffff, 1)
    TEST_AMO_D(64, amoadd.d, 0xffffffffffffffff, 0, 0xffffffffffffffff, 1)
    TEST_AMO_D(65, amoadd.d, 0x00000000ffffffff, 0x0000000100000000, 0xffffffff, 1) /* no 32-bit wrap */
    TEST_AMO_D(66, amoxor.d, 0xff00ff00ff00ff00, 0xf00ff00ff00ff00f, 0xff00ff00ff00ff00, 0x0f0f0f0f0f0f0f0f)
    TEST_AMO_D(67, amoand.d, 0xff00ff00ff00ff00, 0x0f000f000f000f00, 0xff00ff00ff00ff00, 0x0f0f0f0f0f0f0f0f)
    TEST_AMO_D(68, amoor.d, 0xff00ff00ff00ff00, 0xff0fff0fff0fff0f, 0xff00ff00ff00ff00, 0x0f0f0f0f0f0f0f0f)
    TEST_AMO_D(69, amomin.d, 1, 0x8000000000000000, 1, 0x8000000000000000)
    TEST_AMO_D(70, amomin.d, 0x8000000000000000, 0x8000000000000000, 0x8000000000000000, 0x7fffffffffffffff)
    TEST_AMO_D(71, amomin.d, 0x00000000ffffffff, 0x00000000ffffffff, 0xffffffff, 0x100000000) /* 64-bit compare */
    TEST_AMO_D(72, amomin.d, -1, -2, -1, -2)
    TEST_AMO_D(73, amomax.d, 1, 1, 1, 0x8000000000000000)
    TEST_AMO_D(74, amomax.d, 0x8000000000000000, 0x7fffffffffffffff, 0x8000000000000000, 0x7fffffffffffffff)
    TEST_AMO_D(75, amomax.d, 0x00000000ffffffff, 0x0000000100000000, 0xffffffff, 0x100000000)
    TEST_AMO_D(76, amominu.d, 1, 1, 1, 0x8000000000000000)
    TEST_AMO_D(77, amominu.d, -1, 0, -1, 0)
    TEST_AMO_D(78, amominu.d, 0x8000000000000000, 0x7fffffffffffffff, 0x8000000000000000, 0x7fffffffffffffff)
    TEST_AMO_D(79, amomaxu.d, 1, 0x8000000000000000, 1, 0x8000000000000000)
    TEST_AMO_D(80, amomaxu.d, 0, -1, 0, -1)
    TEST_AMO_D(81, amomaxu.d, -1, -1, -1, 0x7fffffffffffffff)
    TEST_AMO_D(82, amomaxu.d.aqrl, 0xffffffff, 0x100000000, 0xffffffff, 0x100000000)
    TEST_AMO_D(83, amoxor.d.aq, 0, 0x123, 0, 0x123)
    TEST_AMO_D(84, amoand.d.rl, -1, 0x123, -1, 0x123)

    /* ---- aliasing -------------------------------------------------------------------------------- */
    SET_TEST(90)                                    /* rd == rs2: rd gets the old value */
    la a1, amo_buf
    li a2, 10
    sd a2, 0(a1)
    li a2, 3
    amoadd.d a2, a2, (a1)
    CHECK(a2, 10)
    ld a0, 0(a1)
    CHECK(a0, 13)
    SET_TEST(91)                                    /* rd == x0: memory still updated */
    amoadd.w x0, a2, (a1)
    ld a0, 0(a1)
    CHECK(a0, 23)
    SET_TEST(92)                                    /* amoswap into the word at offset 4 */
    li a2, 0x1111111122222222
    sd a2, 0(a1)
    addi a4, a1, 4
    li a2, 0x80000000
    amoswap.w a0, a2, (a4)
    CHECK(a0, 0x11111111)
    ld a0, 0(a1)
    CHECK(a0, 0x8000000022222222)

    /* ---- misaligned: AMOs and SC raise store/AMO address misaligned (6), LR load misaligned (4)
            with mtval = the address (AMOs never complete misaligned in QEMU/mimic) ----------------- */
/* QEMU 10.0.2 reports a misaligned AMO/SC as a *load* address misaligned (cause 4): it performs
   the load half first. The spec (and spike, and mimic) say store/AMO address misaligned (6). */
#ifdef MIMIC_STRICT
#define AMO_ALT_CAUSE -1
#else
#define AMO_ALT_CAUSE CAUSE_MISALIGNED_LOAD
#endif
#define TEST_MISALIGNED_AMO(id, cause, off, code...) \
    SET_TEST(id); la a1, amo_buf; addi a1, a1, off; li a2, 1; \
    EXPECT_TRAP_ALT(cause, AMO_ALT_CAUSE, 9996f); code; j fail; 9996: CHECK_VAR_REG(trap_tval, a1)
    TEST_MISALIGNED_AMO(100, CAUSE_MISALIGNED_STORE, 1, amoadd.w a0, a2, (a1))
    TEST_MISALIGNED_AMO(101, CAUSE_MISALIGNED_STORE, 2, amoswap.w a0, a2, (a1))
    TEST_MISALIGNED_AMO(102, CAUSE_MISALIGNED_STORE, 4, amoadd.d a0, a2, (a1))
    TEST_MISALIGNED_AMO(103, CAUSE_MISALIGNED_STORE, 7, amoor.d a0, a2, (a1))
    TEST_MISALIGNED_AMO(104, CAUSE_MISALIGNED_STORE, 3, amomaxu.w a0, a2, (a1))
    TEST_MISALIGNED_AMO(105, CAUSE_MISALIGNED_STORE, 6, amomin.d a0, a2, (a1))
    TEST_MISALIGNED_AMO(106, CAUSE_MISALIGNED_LOAD, 2, lr.w a0, (a1))
    TEST_MISALIGNED_AMO(107, CAUSE_MISALIGNED_LOAD, 4, lr.d a0, (a1))
#ifdef MIMIC_STRICT
    TEST_MISALIGNED_AMO(108, CAUSE_MISALIGNED_STORE, 1, sc.w a0, a2, (a1))
    TEST_MISALIGNED_AMO(109, CAUSE_MISALIGNED_STORE, 4, sc.d a0, a2, (a1))
#else
    /* QEMU 10.0.2 checks the reservation first and fails a misaligned SC without trapping;
       accept either a trap or a failed SC (rd != 0, memory unchanged, checked by test 110). */
#define TEST_MISALIGNED_SC(id, off, code...) \
    SET_TEST(id); la a1, amo_buf; addi a1, a1, off; li a2, 1; \
    EXPECT_TRAP(CAUSE_MISALIGNED_STORE, 9997f); code; beqz a0, fail_sc; DISARM_TRAP; j 9998f; \
    9997: CHECK_VAR_REG(trap_tval, a1); 9998:
    TEST_MISALIGNED_SC(108, 1, sc.w a0, a2, (a1))
    TEST_MISALIGNED_SC(109, 4, sc.d a0, a2, (a1))
    j 1f
fail_sc: j fail
1:
#endif
    SET_TEST(110)                                   /* memory untouched by the trapping AMO */
    la a1, amo_buf
    ld a0, 0(a1)
    CHECK(a0, 0x8000000022222222)
    PASS

    .data
    .align 6
amo_buf: .skip 64
    .align 12
    .skip 4096
amo_far: .dword 0
