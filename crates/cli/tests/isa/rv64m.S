/* rv64m.S: every RV64M instruction with edge values (signs, overflow, division by zero). */
#include "macros.S"

#define IMIN 0x8000000000000000
#define IMAX 0x7fffffffffffffff

main:
    /* ---- mul ----------------------------------------------------------------------------------- */
    TEST_RR(1, mul, 0, 0, 0)
    TEST_RR(2, mul, 1, 1, 1)
    TEST_RR(3, mul, 15, 3, 5)
    TEST_RR(4, mul, 0xfffffffffffffff1, -3, 5)
    TEST_RR(5, mul, 15, -3, -5)
    TEST_RR(6, mul, IMIN, IMIN, -1)                  /* low bits of INT_MIN * -1 */
    TEST_RR(7, mul, 0, IMIN, 2)
    TEST_RR(8, mul, 1, IMAX, IMAX)
    TEST_RR(9, mul, 0xfffffffe00000001, 0xffffffff, 0xffffffff)
    TEST_RR(10, mul, 0x0000000100000000, 0x10000, 0x10000)
    TEST_RR(11, mul, 1, -1, -1)
    TEST_RR_SRC12_EQ_DEST(12, mul, 169, 13)
    TEST_RR_ZERODEST(13, mul, 3, 4)
    /* ---- mulh (signed x signed, high 64) --------------------------------------------------------- */
    TEST_RR(20, mulh, 0, 0, 0)
    TEST_RR(21, mulh, 0, 1, 1)
    TEST_RR(22, mulh, 0xffffffffffffffff, -1, 1)
    TEST_RR(23, mulh, 0, -1, -1)
    TEST_RR(24, mulh, 0x4000000000000000, IMIN, IMIN)
    TEST_RR(25, mulh, 0, IMIN, -1)                   /* +2^63 fits in 128 bits: high = 0 */
    TEST_RR(26, mulh, 0xc000000000000000, IMIN, IMAX)
    TEST_RR(27, mulh, 0x3fffffffffffffff, IMAX, IMAX)
    TEST_RR(28, mulh, 0xffffffffffffffff, -2, 3)
    TEST_RR(29, mulh, 0x0000000000000001, 0x100000000, 0x100000000)
    TEST_RR(30, mulh, 0xfffffffffffffffe, 0xfffffffeffffffff, 0x100000000) /* -(2^32+1)*2^32 */
    /* ---- mulhsu (signed rs1 x unsigned rs2) ------------------------------------------------------ */
    TEST_RR(40, mulhsu, 0, 0, 0)
    TEST_RR(41, mulhsu, 0xffffffffffffffff, -1, 1)
    TEST_RR(42, mulhsu, 0xffffffffffffffff, -1, -1)  /* -1 * (2^64-1) = -(2^64-1): high = -1 */
    TEST_RR(43, mulhsu, 0xc000000000000000, IMIN, IMIN)   /* -2^63 * 2^63 = -2^126 */
    TEST_RR(44, mulhsu, 0x8000000000000000, IMIN, -1)     /* -2^63 * (2^64-1) */
    TEST_RR(45, mulhsu, 0x7ffffffffffffffe, IMAX, -1)     /* (2^63-1)(2^64-1) */
    TEST_RR(46, mulhsu, 0x0000000000000000, 1, -1)
    TEST_RR(47, mulhsu, 0xffffffffffffffff, -2, IMIN)     /* -2 * 2^63 = -2^64 */
    TEST_RR(48, mulhsu, 0x3fffffffffffffff, IMAX, IMIN)
    /* ---- mulhu ---------------------------------------------------------------------------------- */
    TEST_RR(50, mulhu, 0, 0, 0)
    TEST_RR(51, mulhu, 0xfffffffffffffffe, -1, -1)
    TEST_RR(52, mulhu, 0, -1, 1)
    TEST_RR(53, mulhu, 0x4000000000000000, IMIN, IMIN)
    TEST_RR(54, mulhu, 0x7fffffffffffffff, IMIN, -1)
    TEST_RR(55, mulhu, 0x0000000000000001, 0x100000000, 0x100000000)
    TEST_RR(56, mulhu, 0x3fffffffffffffff, IMAX, IMAX)
    TEST_RR(57, mulhu, 0x00000000fffffffe, 0xffffffffffffffff, 0xffffffff)
    /* ---- mulw: low 32 bits, sign-extended ---------------------------------------------------------- */
    TEST_RR(60, mulw, 0, 0, 0)
    TEST_RR(61, mulw, 15, 3, 5)
    TEST_RR(62, mulw, 0xfffffffffffffff1, -3, 5)
    TEST_RR(63, mulw, 0xffffffff80000000, 0x80000000, -1)  /* INT32_MIN * -1 = INT32_MIN */
    TEST_RR(64, mulw, 0x0000000000000001, 0xffffffff, 0xffffffff)
    TEST_RR(65, mulw, 0, 0x10000, 0x10000)
    TEST_RR(66, mulw, 0xffffffff80000000, 0x10000, 0x8000)
    TEST_RR(67, mulw, 6, 0x1234567800000002, 0xabcdef0000000003) /* upper input bits ignored */
    TEST_RR(68, mulw, 0x000000007ffffffe, 0x7fffffff, 0x80000002)
    /* ---- div ------------------------------------------------------------------------------------ */
    TEST_RR(70, div, 3, 20, 6)
    TEST_RR(71, div, -3, -20, 6)                      /* rounds toward zero */
    TEST_RR(72, div, -3, 20, -6)
    TEST_RR(73, div, 3, -20, -6)
    TEST_RR(74, div, IMIN, IMIN, 1)
    TEST_RR(75, div, IMIN, IMIN, -1)                  /* overflow: result = dividend */
    TEST_RR(76, div, -1, 1, 0)                        /* by zero: all ones */
    TEST_RR(77, div, -1, -5, 0)
    TEST_RR(78, div, -1, 0, 0)
    TEST_RR(79, div, -1, IMIN, 0)
    TEST_RR(80, div, 0, 5, 7)
    TEST_RR(81, div, 1, IMIN, IMIN)
    TEST_RR(82, div, 0, IMAX, IMIN)
    TEST_RR(83, div, -1, IMIN, IMAX)
    /* ---- divu ----------------------------------------------------------------------------------- */
    TEST_RR(90, divu, 3, 20, 6)
    TEST_RR(91, divu, 3074457345618258599, -20, 6)    /* (2^64-20)/6 */
    TEST_RR(92, divu, 0, 20, -6)
    TEST_RR(93, divu, 0, -20, -6)
    TEST_RR(94, divu, 0, IMIN, -1)
    TEST_RR(95, divu, -1, 1, 0)                       /* by zero: 2^64-1 */
    TEST_RR(96, divu, -1, 0, 0)
    TEST_RR(97, divu, -1, -1, 0)
    TEST_RR(98, divu, 1, -1, -1)
    TEST_RR(99, divu, IMIN, IMIN, 1)
    TEST_RR(100, divu, 1, -1, IMIN)
    /* ---- rem (sign follows the dividend) -------------------------------------------------------- */
    TEST_RR(110, rem, 2, 20, 6)
    TEST_RR(111, rem, -2, -20, 6)
    TEST_RR(112, rem, 2, 20, -6)
    TEST_RR(113, rem, -2, -20, -6)
    TEST_RR(114, rem, 0, IMIN, 1)
    TEST_RR(115, rem, 0, IMIN, -1)                    /* overflow: remainder 0 */
    TEST_RR(116, rem, 1, 1, 0)                        /* by zero: dividend */
    TEST_RR(117, rem, -5, -5, 0)
    TEST_RR(118, rem, 0, 0, 0)
    TEST_RR(119, rem, IMIN, IMIN, 0)
    TEST_RR(120, rem, -1, IMIN, IMAX)
    TEST_RR(121, rem, IMAX, IMAX, IMIN)
    /* ---- remu ----------------------------------------------------------------------------------- */
    TEST_RR(130, remu, 2, 20, 6)
    TEST_RR(131, remu, 2, -20, 6)                     /* 2^64-20 = 6*3074457345618258599 + 2 */
    TEST_RR(132, remu, 20, 20, -6)
    TEST_RR(133, remu, -20, -20, -6)
    TEST_RR(134, remu, IMIN, IMIN, -1)
    TEST_RR(135, remu, 1, 1, 0)                       /* by zero: dividend */
    TEST_RR(136, remu, -1, -1, 0)
    TEST_RR(137, remu, 0, 0, 0)
    TEST_RR(138, remu, 0, -1, -1)
    TEST_RR(139, remu, IMAX, -1, IMIN)
    /* ---- divw / divuw / remw / remuw: 32-bit operands, sign-extended 32-bit results --------------- */
    TEST_RR(150, divw, 3, 20, 6)
    TEST_RR(151, divw, -3, -20, 6)
    TEST_RR(152, divw, 3, -20, -6)
    TEST_RR(153, divw, 0xffffffff80000000, 0x80000000, -1)   /* INT32_MIN / -1 overflow */
    TEST_RR(154, divw, -1, 5, 0)                             /* by zero */
    TEST_RR(155, divw, -1, 0, 0)
    TEST_RR(156, divw, -1, 5, 0x100000000)                   /* divisor's low 32 bits are 0 */
    TEST_RR(157, divw, 0xffffffff80000000, 0xffffffff80000000, 1)
    TEST_RR(158, divw, 2, 0x1234567800000006, 0xffffffff00000003) /* upper bits ignored */
    TEST_RR(159, divw, 0xffffffffc0000000, 0x80000000, 2)        /* dividend is negative as 32-bit */
    TEST_RR(160, divuw, 3, 20, 6)
    TEST_RR(161, divuw, 715827879, -20, 6)                   /* (2^32-20)/6 */
    TEST_RR(162, divuw, 0, 20, -6)
    TEST_RR(163, divuw, 0, 0x80000000, -1)
    TEST_RR(164, divuw, -1, 5, 0)                            /* by zero: all ones (sign-extended) */
    TEST_RR(165, divuw, -1, 0, 0)
    TEST_RR(166, divuw, 0xffffffffffffffff, 0xffffffff, 1)   /* 0xffffffff sign-extends */
    TEST_RR(167, divuw, 0x0000000040000000, 0x80000000, 2)
    TEST_RR(168, divuw, 0xffffffff80000000, 0x80000000, 1)
    TEST_RR(170, remw, 2, 20, 6)
    TEST_RR(171, remw, -2, -20, 6)
    TEST_RR(172, remw, 2, 20, -6)
    TEST_RR(173, remw, 0, 0x80000000, -1)                    /* overflow: 0 */
    TEST_RR(174, remw, 5, 5, 0)                              /* by zero: dividend */
    TEST_RR(175, remw, 0xffffffff80000000, 0x80000000, 0)    /* dividend sign-extended */
    TEST_RR(176, remw, -5, 0x12345678fffffffb, 0)
    TEST_RR(177, remw, 1, 0x1234567800000007, 0x100000003)
    TEST_RR(180, remuw, 2, 20, 6)
    TEST_RR(181, remuw, 2, -20, 6)                           /* 2^32-20 = 6*715827879 + 2 */
    TEST_RR(182, remuw, 20, 20, -6)
    TEST_RR(183, remuw, 0xffffffff80000000, 0x80000000, 0)   /* by zero: dividend, sign-extended */
    TEST_RR(184, remuw, 5, 5, 0)
    TEST_RR(185, remuw, -1, 0xffffffff, 0)
    TEST_RR(186, remuw, 0xffffffff80000000, 0x80000000, 0xffffffff)
    TEST_RR(187, remuw, 0, 0xffffffff, 0xffffffff)
    TEST_RR_SRC1_EQ_DEST(188, divw, 4, 13, 3)
    TEST_RR_SRC2_EQ_DEST(189, remuw, 1, 13, 3)
    TEST_RR_ZERODEST(190, div, 13, 3)
    PASS
