/* rv64f.S: every RV64F instruction: rounding modes (static and dynamic), fflags (exact and
   accumulated), NaN boxing, canonical NaN, sNaN/qNaN, signed zeros, subnormals, fclass,
   fcvt saturation, fmin/fmax, compare NV rules, sign injection, fused multiply-add, and
   mstatus.FS handling. Values are IEEE single bit patterns. */
#include "macros.S"

#define PZERO 0x00000000
#define NZERO 0x80000000
#define ONE   0x3f800000
#define NONE  0xbf800000
#define TWO   0x40000000
#define THREE 0x40400000
#define HALF  0x3f000000
#define NHALF 0xbf000000
#define ONEP5 0x3fc00000
#define NONEP5 0xbfc00000
#define TWOP5 0x40200000
#define NTWOP5 0xc0200000
#define PINF  0x7f800000
#define NINF  0xff800000
#define CNAN  0x7fc00000
#define QNAN  0x7fc00001      /* quiet NaN with payload */
#define NQNAN 0xffc00000
#define SNAN  0x7f800001
#define NSNAN 0xff800001
#define MAXF  0x7f7fffff
#define NMAXF 0xff7fffff
#define MINN  0x00800000      /* smallest normal 2^-126 */
#define MAXS  0x007fffff      /* largest subnormal */
#define MINS  0x00000001      /* smallest subnormal 2^-149 */
#define NMINS 0x80000001
#define EPS24 0x33800000      /* 2^-24: half an ulp of 1.0 */
#define NEPS24 0xb3800000
#define EPS25 0x33000000      /* 2^-25 */
#define EPS24X 0x33c00000     /* 1.5 * 2^-24 */

#define NV FF_NV
#define DZ FF_DZ
#define OF FF_OF
#define UF FF_UF
#define NX FF_NX

main:
    /* ---- FS = Off: every F instruction is illegal ------------------------------------------------ */
    li t0, MSTATUS_FS
    csrc mstatus, t0
    TEST_TRAP(1, CAUSE_ILLEGAL_INSTRUCTION, fadd.s fa0, fa1, fa2)
    TEST_TRAP(2, CAUSE_ILLEGAL_INSTRUCTION, la a1, fbuf; flw fa0, 0(a1))
    TEST_TRAP(3, CAUSE_ILLEGAL_INSTRUCTION, la a1, fbuf; fsw fa0, 0(a1))
    TEST_TRAP(4, CAUSE_ILLEGAL_INSTRUCTION, fmv.x.w a0, fa0)
    TEST_TRAP(5, CAUSE_ILLEGAL_INSTRUCTION, fmv.w.x fa0, a0)
    TEST_TRAP(6, CAUSE_ILLEGAL_INSTRUCTION, fcvt.s.w fa0, a0)
    TEST_TRAP(7, CAUSE_ILLEGAL_INSTRUCTION, fmadd.s fa0, fa1, fa2, fa3)
    TEST_TRAP(8, CAUSE_ILLEGAL_INSTRUCTION, fclass.s a0, fa0)
    TEST_TRAP(9, CAUSE_ILLEGAL_INSTRUCTION, feq.s a0, fa0, fa1)
    /* FS = Initial: an FP instruction that writes an f register makes it Dirty (and SD = 1) */
    SET_TEST(10)
    li t0, MSTATUS_FS_INITIAL
    csrs mstatus, t0
    li a1, ONE
    fmv.w.x fa0, a1
    csrr a0, mstatus
    srli a1, a0, 13
    andi a1, a1, 3
    CHECK(a1, 3)
    srli a1, a0, 63
    CHECK(a1, 1)
    csrw fcsr, x0

    /* ---- fadd.s: all rounding modes on a tie, a below-half and an above-half case ----------------- */
    TEST_FP_OP2_S(20, fadd.s, ONE,        NX, ONE, EPS24, rne)        /* tie -> even */
    TEST_FP_OP2_S(21, fadd.s, ONE,        NX, ONE, EPS24, rtz)
    TEST_FP_OP2_S(22, fadd.s, ONE,        NX, ONE, EPS24, rdn)
    TEST_FP_OP2_S(23, fadd.s, 0x3f800001, NX, ONE, EPS24, rup)
    TEST_FP_OP2_S(24, fadd.s, 0x3f800001, NX, ONE, EPS24, rmm)        /* tie -> away */
    TEST_FP_OP2_S(25, fadd.s, NONE,       NX, NONE, NEPS24, rne)
    TEST_FP_OP2_S(26, fadd.s, NONE,       NX, NONE, NEPS24, rtz)
    TEST_FP_OP2_S(27, fadd.s, 0xbf800001, NX, NONE, NEPS24, rdn)
    TEST_FP_OP2_S(28, fadd.s, NONE,       NX, NONE, NEPS24, rup)
    TEST_FP_OP2_S(29, fadd.s, 0xbf800001, NX, NONE, NEPS24, rmm)
    TEST_FP_OP2_S(30, fadd.s, 0x3f800001, NX, ONE, EPS24X, rne)       /* 0.75 ulp */
    TEST_FP_OP2_S(31, fadd.s, ONE,        NX, ONE, EPS24X, rtz)
    TEST_FP_OP2_S(32, fadd.s, ONE,        NX, ONE, EPS25, rne)        /* 0.25 ulp */
    TEST_FP_OP2_S(33, fadd.s, 0x3f800001, NX, ONE, EPS25, rup)
    TEST_FP_OP2_S(34, fadd.s, ONE,        NX, ONE, EPS25, rmm)
    TEST_FP_OP2_S(35, fadd.s, THREE,      0,  ONE, TWO, rne)          /* exact: no flags */
    TEST_FP_OP2_S(36, fadd.s, 0x3f800002, NX, 0x3f800001, 0x34400000, rne) /* 1 + 2.5 ulp: tie -> even (1 + 2 ulp) */
    TEST_FP_OP2_S(37, fadd.s, 0x3f800003, NX, 0x3f800001, 0x34400000, rmm)
    /* overflow in every mode */
    TEST_FP_OP2_S(40, fadd.s, PINF, OF|NX, MAXF, MAXF, rne)
    TEST_FP_OP2_S(41, fadd.s, MAXF, OF|NX, MAXF, MAXF, rtz)
    TEST_FP_OP2_S(42, fadd.s, MAXF, OF|NX, MAXF, MAXF, rdn)
    TEST_FP_OP2_S(43, fadd.s, PINF, OF|NX, MAXF, MAXF, rup)
    TEST_FP_OP2_S(44, fadd.s, PINF, OF|NX, MAXF, MAXF, rmm)
    TEST_FP_OP2_S(45, fadd.s, NINF, OF|NX, NMAXF, NMAXF, rne)
    TEST_FP_OP2_S(46, fadd.s, NMAXF, OF|NX, NMAXF, NMAXF, rtz)
    TEST_FP_OP2_S(47, fadd.s, NINF, OF|NX, NMAXF, NMAXF, rdn)
    TEST_FP_OP2_S(48, fadd.s, NMAXF, OF|NX, NMAXF, NMAXF, rup)
    TEST_FP_OP2_S(49, fadd.s, NINF, OF|NX, NMAXF, NMAXF, rmm)
    /* infinities, NaNs, signed zeros, subnormals */
    TEST_FP_OP2_S(50, fadd.s, CNAN, NV, PINF, NINF, rne)
    TEST_FP_OP2_S(51, fadd.s, PINF, 0, PINF, ONE, rne)
    TEST_FP_OP2_S(52, fadd.s, PINF, 0, PINF, PINF, rne)
    TEST_FP_OP2_S(53, fadd.s, CNAN, 0, QNAN, ONE, rne)                /* payload not propagated */
    TEST_FP_OP2_S(54, fadd.s, CNAN, NV, SNAN, ONE, rne)
    TEST_FP_OP2_S(55, fadd.s, CNAN, NV, ONE, NSNAN, rne)
    TEST_FP_OP2_S(56, fadd.s, CNAN, NV, QNAN, SNAN, rne)
    TEST_FP_OP2_S(57, fadd.s, CNAN, 0, NQNAN, PINF, rne)
    TEST_FP_OP2_S(58, fadd.s, PZERO, 0, PZERO, NZERO, rne)
    TEST_FP_OP2_S(59, fadd.s, NZERO, 0, PZERO, NZERO, rdn)            /* x + -x = -0 only in RDN */
    TEST_FP_OP2_S(60, fadd.s, NZERO, 0, NZERO, NZERO, rne)
    TEST_FP_OP2_S(61, fadd.s, PZERO, 0, ONE, NONE, rne)
    TEST_FP_OP2_S(62, fadd.s, PZERO, 0, ONE, NONE, rup)
    TEST_FP_OP2_S(63, fadd.s, NZERO, 0, ONE, NONE, rdn)
    TEST_FP_OP2_S(64, fadd.s, 0x00000002, 0, MINS, MINS, rne)         /* subnormal arithmetic is exact */
    TEST_FP_OP2_S(65, fadd.s, MINN, 0, MAXS, MINS, rne)               /* subnormal -> normal */
    TEST_FP_OP2_S(66, fadd.s, PZERO, 0, MINS, NMINS, rne)
    TEST_FP_OP2_S(67, fadd.s, NMINS, 0, NMINS, NZERO, rne)
    TEST_FP_OP2_S(68, fadd.s, MINS, 0, MINS, NZERO, rne)
    /* ---- fsub.s ---------------------------------------------------------------------------------- */
    TEST_FP_OP2_S(70, fsub.s, 0x3f7fffff, 0, ONE, EPS24, rne)         /* exact below 1.0 */
    TEST_FP_OP2_S(71, fsub.s, PZERO, 0, ONE, ONE, rne)
    TEST_FP_OP2_S(72, fsub.s, NZERO, 0, ONE, ONE, rdn)
    TEST_FP_OP2_S(73, fsub.s, CNAN, NV, PINF, PINF, rne)
    TEST_FP_OP2_S(74, fsub.s, NINF, 0, NINF, PINF, rne)
    TEST_FP_OP2_S(75, fsub.s, NZERO, 0, NZERO, PZERO, rne)
    TEST_FP_OP2_S(76, fsub.s, PZERO, 0, PZERO, PZERO, rne)
    TEST_FP_OP2_S(77, fsub.s, MAXS, 0, MINN, MINS, rne)               /* normal -> subnormal, exact */
    TEST_FP_OP2_S(78, fsub.s, NINF, OF|NX, NMAXF, MAXF, rne)
    TEST_FP_OP2_S(79, fsub.s, NMAXF, OF|NX, NMAXF, MAXF, rup)
    TEST_FP_OP2_S(80, fsub.s, CNAN, NV, SNAN, SNAN, rne)
    TEST_FP_OP2_S(81, fsub.s, ONE, NX, ONE, EPS25, rne)               /* 1 - half ulp below 1.0: tie -> even (1.0) */
    TEST_FP_OP2_S(82, fsub.s, 0x3f7fffff, NX, ONE, EPS25, rtz)
    /* ---- fmul.s ------------------------------------------------------------------------------------ */
    TEST_FP_OP2_S(90, fmul.s, 0x40100000, 0, ONEP5, ONEP5, rne)       /* 2.25 */
    TEST_FP_OP2_S(91, fmul.s, 0x3f800002, NX, 0x3f800001, 0x3f800001, rne)
    TEST_FP_OP2_S(92, fmul.s, 0x3f800003, NX, 0x3f800001, 0x3f800001, rup)
    TEST_FP_OP2_S(93, fmul.s, 0x3f800002, NX, 0x3f800001, 0x3f800001, rtz)
    TEST_FP_OP2_S(94, fmul.s, 0x3f800002, NX, 0x3f800001, 0x3f800001, rdn)
    TEST_FP_OP2_S(95, fmul.s, 0x3f800002, NX, 0x3f800001, 0x3f800001, rmm)
    TEST_FP_OP2_S(96, fmul.s, NZERO, 0, NZERO, 0x40a00000, rne)
    TEST_FP_OP2_S(97, fmul.s, PZERO, 0, NZERO, NONE, rne)
    TEST_FP_OP2_S(98, fmul.s, CNAN, NV, PZERO, PINF, rne)
    TEST_FP_OP2_S(99, fmul.s, CNAN, NV, NINF, NZERO, rne)
    TEST_FP_OP2_S(100, fmul.s, NINF, 0, PINF, NONE, rne)
    TEST_FP_OP2_S(101, fmul.s, PINF, OF|NX, MAXF, TWO, rne)
    TEST_FP_OP2_S(102, fmul.s, MAXF, OF|NX, MAXF, TWO, rtz)
    TEST_FP_OP2_S(103, fmul.s, MINN, 0, 0x20000000, 0x20000000, rne)  /* 2^-63 * 2^-63 */
    TEST_FP_OP2_S(104, fmul.s, 0x00400000, 0, MINN, HALF, rne)        /* exact subnormal: no UF */
    TEST_FP_OP2_S(105, fmul.s, PZERO, UF|NX, MINS, HALF, rne)         /* 2^-150: tie -> 0 */
    TEST_FP_OP2_S(106, fmul.s, MINS, UF|NX, MINS, HALF, rup)
    TEST_FP_OP2_S(107, fmul.s, PZERO, UF|NX, MINS, HALF, rtz)
    TEST_FP_OP2_S(108, fmul.s, MINS, UF|NX, MINS, HALF, rmm)
    TEST_FP_OP2_S(109, fmul.s, NZERO, UF|NX, NMINS, HALF, rne)
    TEST_FP_OP2_S(110, fmul.s, NMINS, UF|NX, NMINS, HALF, rdn)
    TEST_FP_OP2_S(111, fmul.s, MINN, NX, 0x3f7ffffe, 0x00800001, rne) /* tiny before, not after rounding: no UF */
    TEST_FP_OP2_S(112, fmul.s, MAXS, UF|NX, 0x3f7ffffe, 0x00800001, rtz) /* tiny after rounding: UF */
    TEST_FP_OP2_S(113, fmul.s, MINN, 0, MINS, 0x4b000000, rne)        /* 2^-149 * 2^23 */
    TEST_FP_OP2_S(114, fmul.s, CNAN, 0, QNAN, ONE, rne)
    TEST_FP_OP2_S(115, fmul.s, CNAN, NV, SNAN, PZERO, rne)
    /* ---- fdiv.s ------------------------------------------------------------------------------------ */
    TEST_FP_OP2_S(120, fdiv.s, 0x3eaaaaab, NX, ONE, THREE, rne)
    TEST_FP_OP2_S(121, fdiv.s, 0x3eaaaaaa, NX, ONE, THREE, rtz)
    TEST_FP_OP2_S(122, fdiv.s, 0x3eaaaaaa, NX, ONE, THREE, rdn)
    TEST_FP_OP2_S(123, fdiv.s, 0x3eaaaaab, NX, ONE, THREE, rup)
    TEST_FP_OP2_S(124, fdiv.s, 0x3eaaaaab, NX, ONE, THREE, rmm)
    TEST_FP_OP2_S(125, fdiv.s, 0xbeaaaaab, NX, NONE, THREE, rne)
    TEST_FP_OP2_S(126, fdiv.s, 0xbeaaaaaa, NX, NONE, THREE, rtz)
    TEST_FP_OP2_S(127, fdiv.s, 0xbeaaaaab, NX, NONE, THREE, rdn)
    TEST_FP_OP2_S(128, fdiv.s, 0xbeaaaaaa, NX, NONE, THREE, rup)
    TEST_FP_OP2_S(129, fdiv.s, 0x40200000, 0, 0x40a00000, TWO, rne)   /* 5/2 exact */
    TEST_FP_OP2_S(130, fdiv.s, PINF, DZ, ONE, PZERO, rne)
    TEST_FP_OP2_S(131, fdiv.s, NINF, DZ, NONE, PZERO, rne)
    TEST_FP_OP2_S(132, fdiv.s, NINF, DZ, ONE, NZERO, rne)
    TEST_FP_OP2_S(133, fdiv.s, PINF, DZ, NMINS, NZERO, rne)           /* subnormal / -0 */
    TEST_FP_OP2_S(134, fdiv.s, CNAN, NV, PZERO, PZERO, rne)
    TEST_FP_OP2_S(135, fdiv.s, CNAN, NV, PINF, NINF, rne)
    TEST_FP_OP2_S(136, fdiv.s, PINF, 0, PINF, PZERO, rne)             /* inf / 0: no DZ */
    TEST_FP_OP2_S(137, fdiv.s, NZERO, 0, PZERO, NINF, rne)
    TEST_FP_OP2_S(138, fdiv.s, PZERO, 0, NZERO, NONE, rne)
    TEST_FP_OP2_S(139, fdiv.s, CNAN, 0, QNAN, PZERO, rne)             /* NaN / 0: no DZ */
    TEST_FP_OP2_S(140, fdiv.s, CNAN, NV, ONE, SNAN, rne)
    TEST_FP_OP2_S(141, fdiv.s, PZERO, UF|NX, MINS, THREE, rne)
    TEST_FP_OP2_S(142, fdiv.s, MINS, UF|NX, MINS, THREE, rup)
    TEST_FP_OP2_S(143, fdiv.s, PINF, OF|NX, MAXF, HALF, rne)
    TEST_FP_OP2_S(144, fdiv.s, MAXF, OF|NX, MAXF, HALF, rdn)
    /* ---- fsqrt.s ---------------------------------------------------------------------------------- */
    TEST_FP_OP1_S(150, fsqrt.s, TWO, 0, 0x40800000, rne)
    TEST_FP_OP1_S(151, fsqrt.s, 0x3fb504f3, NX, TWO, rne)
    TEST_FP_OP1_S(152, fsqrt.s, 0x3fb504f3, NX, TWO, rtz)
    TEST_FP_OP1_S(153, fsqrt.s, 0x3fb504f3, NX, TWO, rdn)
    TEST_FP_OP1_S(154, fsqrt.s, 0x3fb504f4, NX, TWO, rup)
    TEST_FP_OP1_S(155, fsqrt.s, 0x3fb504f3, NX, TWO, rmm)
    TEST_FP_OP1_S(156, fsqrt.s, NZERO, 0, NZERO, rne)                 /* sqrt(-0) = -0 */
    TEST_FP_OP1_S(157, fsqrt.s, PZERO, 0, PZERO, rne)
    TEST_FP_OP1_S(158, fsqrt.s, CNAN, NV, NONE, rne)
    TEST_FP_OP1_S(159, fsqrt.s, PINF, 0, PINF, rne)
    TEST_FP_OP1_S(160, fsqrt.s, CNAN, NV, NINF, rne)
    TEST_FP_OP1_S(161, fsqrt.s, CNAN, 0, QNAN, rne)
    TEST_FP_OP1_S(162, fsqrt.s, CNAN, NV, SNAN, rne)
    TEST_FP_OP1_S(163, fsqrt.s, CNAN, NV, NMINS, rne)                 /* negative subnormal */
    TEST_FP_OP1_S(164, fsqrt.s, 0x20000000, 0, MINN, rne)             /* sqrt(2^-126) = 2^-63 */
    TEST_FP_OP1_S(165, fsqrt.s, 0x1a3504f3, NX, MINS, rne)            /* sqrt(2^-149) = 2^-74.5 */
    /* ---- fmin.s / fmax.s --------------------------------------------------------------------------- */
    TEST_FP_OP2N_S(170, fmin.s, NZERO, 0, PZERO, NZERO)
    TEST_FP_OP2N_S(171, fmin.s, NZERO, 0, NZERO, PZERO)
    TEST_FP_OP2N_S(172, fmax.s, PZERO, 0, PZERO, NZERO)
    TEST_FP_OP2N_S(173, fmax.s, PZERO, 0, NZERO, PZERO)
    TEST_FP_OP2N_S(174, fmin.s, ONE, 0, QNAN, ONE)                    /* one NaN: the other operand */
    TEST_FP_OP2N_S(175, fmin.s, ONE, 0, ONE, NQNAN)
    TEST_FP_OP2N_S(176, fmax.s, NINF, 0, QNAN, NINF)
    TEST_FP_OP2N_S(177, fmin.s, ONE, NV, SNAN, ONE)                   /* sNaN: NV, still the number */
    TEST_FP_OP2N_S(178, fmax.s, NZERO, NV, NZERO, NSNAN)
    TEST_FP_OP2N_S(179, fmin.s, CNAN, 0, QNAN, NQNAN)                 /* both NaN: canonical NaN */
    TEST_FP_OP2N_S(180, fmax.s, CNAN, NV, SNAN, QNAN)
    TEST_FP_OP2N_S(181, fmax.s, CNAN, NV, SNAN, SNAN)
    TEST_FP_OP2N_S(182, fmin.s, NINF, 0, NINF, PINF)
    TEST_FP_OP2N_S(183, fmax.s, PINF, 0, NINF, PINF)
    TEST_FP_OP2N_S(184, fmin.s, NTWOP5, 0, ONE, NTWOP5)
    TEST_FP_OP2N_S(185, fmax.s, ONE, 0, ONE, NTWOP5)
    TEST_FP_OP2N_S(186, fmin.s, MINS, 0, MINS, MAXS)
    TEST_FP_OP2N_S(187, fmax.s, MAXS, 0, MINS, MAXS)
    TEST_FP_OP2N_S(188, fmin.s, NMINS, 0, NMINS, PZERO)
    /* ---- feq.s / flt.s / fle.s --------------------------------------------------------------------- */
    TEST_FP_CMP_S(190, feq.s, 1, 0, ONE, ONE)
    TEST_FP_CMP_S(191, feq.s, 0, 0, ONE, TWO)
    TEST_FP_CMP_S(192, feq.s, 1, 0, PZERO, NZERO)
    TEST_FP_CMP_S(193, feq.s, 0, 0, QNAN, QNAN)                       /* quiet compare: no NV */
    TEST_FP_CMP_S(194, feq.s, 0, 0, ONE, QNAN)
    TEST_FP_CMP_S(195, feq.s, 0, NV, SNAN, ONE)
    TEST_FP_CMP_S(196, feq.s, 0, NV, ONE, NSNAN)
    TEST_FP_CMP_S(197, feq.s, 1, 0, PINF, PINF)
    TEST_FP_CMP_S(200, flt.s, 1, 0, ONE, TWO)
    TEST_FP_CMP_S(201, flt.s, 0, 0, TWO, ONE)
    TEST_FP_CMP_S(202, flt.s, 0, 0, ONE, ONE)
    TEST_FP_CMP_S(203, flt.s, 0, 0, NZERO, PZERO)
    TEST_FP_CMP_S(204, flt.s, 1, 0, NINF, PINF)
    TEST_FP_CMP_S(205, flt.s, 1, 0, NTWOP5, NONE)
    TEST_FP_CMP_S(206, flt.s, 0, NV, QNAN, ONE)                       /* signaling compare: NV on qNaN */
    TEST_FP_CMP_S(207, flt.s, 0, NV, ONE, QNAN)
    TEST_FP_CMP_S(208, flt.s, 0, NV, SNAN, ONE)
    TEST_FP_CMP_S(209, flt.s, 1, 0, NMINS, MINS)
    TEST_FP_CMP_S(210, fle.s, 1, 0, ONE, ONE)
    TEST_FP_CMP_S(211, fle.s, 1, 0, ONE, TWO)
    TEST_FP_CMP_S(212, fle.s, 0, 0, TWO, ONE)
    TEST_FP_CMP_S(213, fle.s, 1, 0, NZERO, PZERO)
    TEST_FP_CMP_S(214, fle.s, 1, 0, PZERO, NZERO)
    TEST_FP_CMP_S(215, fle.s, 0, NV, QNAN, QNAN)
    TEST_FP_CMP_S(216, fle.s, 0, NV, NINF, SNAN)
    TEST_FP_CMP_S(217, fle.s, 1, 0, NINF, NINF)
    /* ---- sign injection (no canonicalisation, no flags) --------------------------------------------- */
    TEST_FP_OP2N_S(220, fsgnj.s, NONE, 0, ONE, NTWOP5)
    TEST_FP_OP2N_S(221, fsgnj.s, ONE, 0, NONE, TWO)
    TEST_FP_OP2N_S(222, fsgnj.s, NQNAN, 0, CNAN, NONE)
    TEST_FP_OP2N_S(223, fsgnj.s, SNAN, 0, NSNAN, PZERO)               /* sNaN kept, no NV */
    TEST_FP_OP2N_S(224, fsgnj.s, NZERO, 0, PZERO, NQNAN)
    TEST_FP_OP2N_S(225, fsgnjn.s, ONE, 0, ONE, NTWOP5)
    TEST_FP_OP2N_S(226, fsgnjn.s, NONE, 0, ONE, TWO)
    TEST_FP_OP2N_S(227, fsgnjn.s, NSNAN, 0, SNAN, ONE)
    TEST_FP_OP2N_S(228, fsgnjn.s, PINF, 0, NINF, NZERO)
    TEST_FP_OP2N_S(229, fsgnjx.s, ONE, 0, NONE, NTWOP5)
    TEST_FP_OP2N_S(230, fsgnjx.s, NONE, 0, ONE, NTWOP5)
    TEST_FP_OP2N_S(231, fsgnjx.s, NONE, 0, NONE, TWO)
    TEST_FP_OP2N_S(232, fsgnjx.s, NQNAN, 0, QNAN - 1, NQNAN)
    /* fmv.s / fneg.s / fabs.s pseudo-instructions */
    SET_TEST(233)
    FP_LOAD_S(fa1, NTWOP5)
    fabs.s fa0, fa1
    FP_CHECK_S(fa0, TWOP5)
    fneg.s fa0, fa0
    FP_CHECK_S(fa0, NTWOP5)
    fmv.s fa2, fa0
    FP_CHECK_S(fa2, NTWOP5)
    /* ---- fclass.s: all ten classes ------------------------------------------------------------------ */
    TEST_FP_CLASS_S(240, 0x001, NINF)
    TEST_FP_CLASS_S(241, 0x002, NONE)
    TEST_FP_CLASS_S(242, 0x002, NMAXF)
    TEST_FP_CLASS_S(243, 0x004, NMINS)
    TEST_FP_CLASS_S(244, 0x004, 0x807fffff)
    TEST_FP_CLASS_S(245, 0x008, NZERO)
    TEST_FP_CLASS_S(246, 0x010, PZERO)
    TEST_FP_CLASS_S(247, 0x020, MINS)
    TEST_FP_CLASS_S(248, 0x020, MAXS)
    TEST_FP_CLASS_S(249, 0x040, MINN)
    TEST_FP_CLASS_S(250, 0x040, MAXF)
    TEST_FP_CLASS_S(251, 0x080, PINF)
    TEST_FP_CLASS_S(252, 0x100, SNAN)
    TEST_FP_CLASS_S(253, 0x100, NSNAN)
    TEST_FP_CLASS_S(254, 0x100, 0x7fbfffff)
    TEST_FP_CLASS_S(255, 0x200, CNAN)
    TEST_FP_CLASS_S(256, 0x200, 0xffffffff)
    /* ---- fcvt.w.s / fcvt.wu.s ------------------------------------------------------------------------ */
    TEST_FP_TOINT_S(260, fcvt.w.s, 2, NX, ONEP5, rne)
    TEST_FP_TOINT_S(261, fcvt.w.s, 1, NX, ONEP5, rtz)
    TEST_FP_TOINT_S(262, fcvt.w.s, 1, NX, ONEP5, rdn)
    TEST_FP_TOINT_S(263, fcvt.w.s, 2, NX, ONEP5, rup)
    TEST_FP_TOINT_S(264, fcvt.w.s, 2, NX, ONEP5, rmm)
    TEST_FP_TOINT_S(265, fcvt.w.s, 2, NX, TWOP5, rne)                 /* tie -> even */
    TEST_FP_TOINT_S(266, fcvt.w.s, 3, NX, TWOP5, rmm)                 /* tie -> away */
    TEST_FP_TOINT_S(267, fcvt.w.s, -2, NX, NTWOP5, rne)
    TEST_FP_TOINT_S(268, fcvt.w.s, -2, NX, NTWOP5, rtz)
    TEST_FP_TOINT_S(269, fcvt.w.s, -3, NX, NTWOP5, rdn)
    TEST_FP_TOINT_S(270, fcvt.w.s, -2, NX, NTWOP5, rup)
    TEST_FP_TOINT_S(271, fcvt.w.s, -3, NX, NTWOP5, rmm)
    TEST_FP_TOINT_S(272, fcvt.w.s, -2, NX, NONEP5, rne)
    TEST_FP_TOINT_S(273, fcvt.w.s, 0, 0, NZERO, rne)
    TEST_FP_TOINT_S(274, fcvt.w.s, 0, NX, NHALF, rne)
    TEST_FP_TOINT_S(275, fcvt.w.s, 0, NX, MINS, rne)
    TEST_FP_TOINT_S(276, fcvt.w.s, 0x7fffffff, NV, CNAN, rne)
    TEST_FP_TOINT_S(277, fcvt.w.s, 0x7fffffff, NV, NQNAN, rne)        /* any NaN -> max */
    TEST_FP_TOINT_S(278, fcvt.w.s, 0x7fffffff, NV, SNAN, rne)
    TEST_FP_TOINT_S(279, fcvt.w.s, 0x7fffffff, NV, PINF, rne)
    TEST_FP_TOINT_S(280, fcvt.w.s, 0xffffffff80000000, NV, NINF, rne)
    TEST_FP_TOINT_S(281, fcvt.w.s, 0x7fffffff, NV, 0x4f000000, rne)   /* 2^31 */
    TEST_FP_TOINT_S(282, fcvt.w.s, 0xffffffff80000000, 0, 0xcf000000, rne) /* -2^31 exact */
    TEST_FP_TOINT_S(283, fcvt.w.s, 0xffffffff80000000, NV, 0xcf000001, rne)
    TEST_FP_TOINT_S(284, fcvt.w.s, 0x7fffff80, 0, 0x4effffff, rne)    /* largest float < 2^31 */
    TEST_FP_TOINT_S(285, fcvt.w.s, 0x7fffffff, NV, MAXF, rtz)
    TEST_FP_TOINT_S(290, fcvt.wu.s, 2, NX, ONEP5, rne)
    TEST_FP_TOINT_S(291, fcvt.wu.s, 1, NX, ONEP5, rtz)
    TEST_FP_TOINT_S(292, fcvt.wu.s, 0, NX, NHALF, rtz)                /* rounds to -0: in range */
    TEST_FP_TOINT_S(293, fcvt.wu.s, 0, NV, NHALF, rdn)                /* rounds to -1: invalid */
    TEST_FP_TOINT_S(294, fcvt.wu.s, 0, NV, NONE, rne)
    TEST_FP_TOINT_S(295, fcvt.wu.s, 0, NV, NINF, rne)
    TEST_FP_TOINT_S(296, fcvt.wu.s, 0xffffffffffffffff, NV, PINF, rne) /* result sign-extended */
    TEST_FP_TOINT_S(297, fcvt.wu.s, 0xffffffffffffffff, NV, CNAN, rne)
    TEST_FP_TOINT_S(298, fcvt.wu.s, 0xffffffffffffffff, NV, 0x4f800000, rne) /* 2^32 */
    TEST_FP_TOINT_S(299, fcvt.wu.s, 0xffffffffffffff00, 0, 0x4f7fffff, rne)  /* 4294967040 */
    TEST_FP_TOINT_S(300, fcvt.wu.s, 0xffffffff80000000, 0, 0x4f000000, rne)  /* 2^31, sign-extended */
    TEST_FP_TOINT_S(301, fcvt.wu.s, 0, 0, NZERO, rne)
    /* ---- fcvt.l.s / fcvt.lu.s ------------------------------------------------------------------------ */
    TEST_FP_TOINT_S(310, fcvt.l.s, 2, NX, TWOP5, rne)
    TEST_FP_TOINT_S(311, fcvt.l.s, 3, NX, TWOP5, rup)
    TEST_FP_TOINT_S(312, fcvt.l.s, -3, NX, NTWOP5, rdn)
    TEST_FP_TOINT_S(313, fcvt.l.s, 0x7fffffffffffffff, NV, CNAN, rne)
    TEST_FP_TOINT_S(314, fcvt.l.s, 0x7fffffffffffffff, NV, PINF, rne)
    TEST_FP_TOINT_S(315, fcvt.l.s, 0x8000000000000000, NV, NINF, rne)
    TEST_FP_TOINT_S(316, fcvt.l.s, 0x7fffffffffffffff, NV, 0x5f000000, rne) /* 2^63 */
    TEST_FP_TOINT_S(317, fcvt.l.s, 0x8000000000000000, 0, 0xdf000000, rne)  /* -2^63 exact */
    TEST_FP_TOINT_S(318, fcvt.l.s, 0x7fffff8000000000, 0, 0x5effffff, rne)
    TEST_FP_TOINT_S(319, fcvt.l.s, 0x0000000080000000, 0, 0x4f000000, rne)  /* no 32-bit saturation */
    TEST_FP_TOINT_S(320, fcvt.l.s, 0x7fffffffffffffff, NV, SNAN, rtz)
    TEST_FP_TOINT_S(321, fcvt.lu.s, 2, NX, TWOP5, rne)
    TEST_FP_TOINT_S(322, fcvt.lu.s, 0, NV, NONE, rne)
    TEST_FP_TOINT_S(323, fcvt.lu.s, 0, NX, NHALF, rup)                /* rounds to -0 */
    TEST_FP_TOINT_S(324, fcvt.lu.s, 0xffffffffffffffff, NV, 0x5f800000, rne) /* 2^64 */
    TEST_FP_TOINT_S(325, fcvt.lu.s, 0xffffffffffffffff, NV, CNAN, rne)
    TEST_FP_TOINT_S(326, fcvt.lu.s, 0xffffffffffffffff, NV, PINF, rne)
    TEST_FP_TOINT_S(327, fcvt.lu.s, 0, NV, NINF, rne)
    TEST_FP_TOINT_S(328, fcvt.lu.s, 0xffffff0000000000, 0, 0x5f7fffff, rne)
    TEST_FP_TOINT_S(329, fcvt.lu.s, 0x8000000000000000, 0, 0x5f000000, rne)
    /* ---- fcvt.s.w / wu / l / lu -------------------------------------------------------------------- */
    TEST_FP_FROMINT_S(340, fcvt.s.w, ONE, 0, 1, rne)
    TEST_FP_FROMINT_S(341, fcvt.s.w, NONE, 0, -1, rne)
    TEST_FP_FROMINT_S(342, fcvt.s.w, PZERO, 0, 0, rdn)                /* +0 even in RDN */
    TEST_FP_FROMINT_S(343, fcvt.s.w, 0x4f000000, NX, 0x7fffffff, rne)
    TEST_FP_FROMINT_S(344, fcvt.s.w, 0x4effffff, NX, 0x7fffffff, rtz)
    TEST_FP_FROMINT_S(345, fcvt.s.w, 0x4effffff, NX, 0x7fffffff, rdn)
    TEST_FP_FROMINT_S(346, fcvt.s.w, 0x4f000000, NX, 0x7fffffff, rup)
    TEST_FP_FROMINT_S(347, fcvt.s.w, 0x4f000000, NX, 0x7fffffff, rmm)
    TEST_FP_FROMINT_S(348, fcvt.s.w, 0xcf000000, 0, 0xffffffff80000000, rne)
    TEST_FP_FROMINT_S(349, fcvt.s.w, ONE, 0, 0x100000001, rne)        /* only the low 32 bits */
    TEST_FP_FROMINT_S(350, fcvt.s.w, 0x4b800000, NX, 16777217, rne)   /* 2^24+1: tie -> even */
    TEST_FP_FROMINT_S(351, fcvt.s.w, 0x4b800001, NX, 16777217, rmm)
    TEST_FP_FROMINT_S(352, fcvt.s.w, 0x4b800000, NX, 16777217, rtz)
    TEST_FP_FROMINT_S(353, fcvt.s.w, 0xcb800001, NX, -16777217, rdn)
    TEST_FP_FROMINT_S(354, fcvt.s.wu, 0x4f800000, NX, 0xffffffff, rne)
    TEST_FP_FROMINT_S(355, fcvt.s.wu, 0x4f7fffff, NX, 0xffffffff, rtz)
    TEST_FP_FROMINT_S(356, fcvt.s.wu, ONE, 0, 0xffffffff00000001, rne)
    TEST_FP_FROMINT_S(357, fcvt.s.wu, 0x4f000000, 0, 0x80000000, rne)
    TEST_FP_FROMINT_S(358, fcvt.s.wu, PZERO, 0, 0, rne)
    TEST_FP_FROMINT_S(359, fcvt.s.l, 0x5f000000, NX, 0x7fffffffffffffff, rne)
    TEST_FP_FROMINT_S(360, fcvt.s.l, 0x5effffff, NX, 0x7fffffffffffffff, rtz)
    TEST_FP_FROMINT_S(361, fcvt.s.l, 0xdf000000, 0, 0x8000000000000000, rne)
    TEST_FP_FROMINT_S(362, fcvt.s.l, NONE, 0, -1, rne)
    TEST_FP_FROMINT_S(363, fcvt.s.l, 0x4f800000, 0, 0x100000000, rne) /* full 64-bit source */
    TEST_FP_FROMINT_S(364, fcvt.s.lu, 0x5f800000, NX, 0xffffffffffffffff, rne)
    TEST_FP_FROMINT_S(365, fcvt.s.lu, 0x5f7fffff, NX, 0xffffffffffffffff, rtz)
    TEST_FP_FROMINT_S(366, fcvt.s.lu, 0x5f000000, 0, 0x8000000000000000, rne)
    TEST_FP_FROMINT_S(367, fcvt.s.lu, PZERO, 0, 0, rdn)
    TEST_FP_FROMINT_S(368, fcvt.s.lu, 0x5f800000, NX, 0xffffffffffffffff, rup)
    /* ---- fused multiply-add ---------------------------------------------------------------------------- */
    TEST_FP_OP3_S(380, fmadd.s, 0x40a00000, 0, ONE, TWO, THREE, rne)   /* 1*2+3 = 5 */
    TEST_FP_OP3_S(381, fmsub.s, NONE, 0, ONE, TWO, THREE, rne)         /* 1*2-3 = -1 */
    TEST_FP_OP3_S(382, fnmsub.s, ONE, 0, ONE, TWO, THREE, rne)         /* -(1*2)+3 = 1 */
    TEST_FP_OP3_S(383, fnmadd.s, 0xc0a00000, 0, ONE, TWO, THREE, rne)  /* -(1*2)-3 = -5 */
    TEST_FP_OP3_S(384, fmadd.s, 0x28800000, 0, 0x3f800001, 0x3f800001, 0xbf800002, rne) /* single rounding: 2^-46 */
    TEST_FP_OP3_S(385, fmsub.s, 0x28800000, 0, 0x3f800001, 0x3f800001, 0x3f800002, rne)
    TEST_FP_OP3_S(386, fnmadd.s, 0xa8800000, 0, 0x3f800001, 0x3f800001, 0xbf800002, rne)
    TEST_FP_OP3_S(387, fnmsub.s, 0xa8800000, 0, 0x3f800001, 0x3f800001, 0x3f800002, rne)
    TEST_FP_OP3_S(388, fmadd.s, MAXF, 0, MAXF, TWO, NMAXF, rne)        /* no intermediate overflow */
    TEST_FP_OP3_S(389, fmadd.s, ONE, NX, ONE, ONE, EPS24, rne)
    TEST_FP_OP3_S(390, fmadd.s, ONE, NX, ONE, ONE, EPS24, rtz)
    TEST_FP_OP3_S(391, fmadd.s, ONE, NX, ONE, ONE, EPS24, rdn)
    TEST_FP_OP3_S(392, fmadd.s, 0x3f800001, NX, ONE, ONE, EPS24, rup)
    TEST_FP_OP3_S(393, fmadd.s, 0x3f800001, NX, ONE, ONE, EPS24, rmm)
    TEST_FP_OP3_S(394, fmadd.s, CNAN, NV, PINF, PZERO, QNAN, rne)      /* inf*0 + qNaN: NV */
    TEST_FP_OP3_S(395, fmadd.s, CNAN, NV, PINF, ONE, NINF, rne)
    TEST_FP_OP3_S(396, fmadd.s, CNAN, 0, ONE, ONE, QNAN, rne)
    TEST_FP_OP3_S(397, fmadd.s, CNAN, NV, ONE, ONE, SNAN, rne)
    TEST_FP_OP3_S(398, fmadd.s, CNAN, NV, SNAN, ONE, ONE, rne)
    TEST_FP_OP3_S(399, fmadd.s, PZERO, 0, PZERO, ONE, NZERO, rne)      /* +0 + -0 = +0 */
    TEST_FP_OP3_S(400, fmadd.s, NZERO, 0, PZERO, ONE, NZERO, rdn)
    TEST_FP_OP3_S(401, fnmadd.s, NZERO, 0, PZERO, ONE, PZERO, rne)     /* -(+0) - +0 = -0 */
    TEST_FP_OP3_S(402, fmsub.s, PZERO, 0, PZERO, ONE, PZERO, rne)
    TEST_FP_OP3_S(403, fmsub.s, NZERO, 0, PZERO, ONE, PZERO, rdn)
    TEST_FP_OP3_S(404, fnmsub.s, PZERO, 0, PZERO, ONE, PZERO, rne)     /* -0 + +0 = +0 */
    TEST_FP_OP3_S(405, fmadd.s, PINF, OF|NX, MAXF, MAXF, ONE, rne)
    TEST_FP_OP3_S(406, fnmadd.s, NINF, OF|NX, MAXF, MAXF, ONE, rne)
    TEST_FP_OP3_S(407, fmadd.s, MINS, UF|NX, MINS, HALF, MINS - 1, rup) /* tiny inexact: 2^-150 + 0 */
    TEST_FP_OP3_S(408, fmadd.s, NINF, 0, NINF, ONE, NINF, rne)
    TEST_FP_OP3_S(409, fnmsub.s, CNAN, NV, PINF, ONE, PINF, rne)       /* -inf + inf */

    /* ---- dynamic rounding through frm, and reserved rounding modes ----------------------------------- */
    csrwi frm, FRM_RUP
    TEST_FP_OP2_S(420, fadd.s, 0x3f800001, NX, ONE, EPS25, dyn)
    TEST_FP_OP2_S(421, fdiv.s, 0xbeaaaaaa, NX, NONE, THREE, dyn)
    TEST_FP_TOINT_S(422, fcvt.w.s, -2, NX, NTWOP5, dyn)
    csrwi frm, FRM_RDN
    TEST_FP_OP2_S(423, fadd.s, NZERO, 0, ONE, NONE, dyn)
    TEST_FP_OP1_S(424, fsqrt.s, 0x3fb504f3, NX, TWO, dyn)
    TEST_FP_OP3_S(425, fmadd.s, ONE, NX, ONE, ONE, EPS24, dyn)
    csrwi frm, FRM_RTZ
    TEST_FP_OP2_S(426, fadd.s, MAXF, OF|NX, MAXF, MAXF, dyn)
    TEST_FP_FROMINT_S(427, fcvt.s.w, 0x4effffff, NX, 0x7fffffff, dyn)
    csrwi frm, FRM_RMM
    TEST_FP_OP2_S(428, fadd.s, 0x3f800001, NX, ONE, EPS24, dyn)
    TEST_FP_TOINT_S(429, fcvt.l.s, 3, NX, TWOP5, dyn)
    csrwi frm, FRM_RNE
    TEST_FP_OP2_S(430, fadd.s, ONE, NX, ONE, EPS24, dyn)
    TEST_FP_OP2_S(431, fmul.s, PZERO, UF|NX, MINS, HALF, dyn)
    /* static rounding mode overrides frm */
    csrwi frm, FRM_RUP
    TEST_FP_OP2_S(432, fadd.s, ONE, NX, ONE, EPS24, rne)
    /* frm = 5, 6, 7 with dyn: illegal; a static rm of 5 or 6: illegal */
    csrwi frm, 5
    TEST_TRAP(433, CAUSE_ILLEGAL_INSTRUCTION, fadd.s fa0, fa1, fa2, dyn)
    csrwi frm, 6
    TEST_TRAP(434, CAUSE_ILLEGAL_INSTRUCTION, fmul.s fa0, fa1, fa2, dyn)
    csrwi frm, 7
    TEST_TRAP(435, CAUSE_ILLEGAL_INSTRUCTION, fcvt.w.s a0, fa1, dyn)
    TEST_TRAP(436, CAUSE_ILLEGAL_INSTRUCTION, fsqrt.s fa0, fa1, dyn)
    SET_TEST(437)                                   /* ops without rounding ignore a bad frm */
    FP_LOAD_S(fa1, ONE)
    FP_LOAD_S(fa2, TWO)
    fmin.s fa0, fa1, fa2
    FP_CHECK_S(fa0, ONE)
    fsgnjn.s fa0, fa1, fa2
    FP_CHECK_S(fa0, NONE)
    feq.s a0, fa1, fa1
    CHECK(a0, 1)
    csrwi frm, FRM_RNE
    TEST_TRAP(438, CAUSE_ILLEGAL_INSTRUCTION, .insn r 0x53, 5, 0x00, fa0, fa1, fa2)  /* fadd.s rm=5 */
    TEST_TRAP(439, CAUSE_ILLEGAL_INSTRUCTION, .insn r 0x53, 6, 0x08, fa0, fa1, fa2)  /* fmul.s rm=6 */

    /* ---- fflags accumulate (sticky) ---------------------------------------------------------------- */
    SET_TEST(450)
    csrw fflags, x0
    FP_LOAD_S(fa1, ONE)
    FP_LOAD_S(fa2, THREE)
    FP_LOAD_S(fa3, PZERO)
    fdiv.s fa0, fa1, fa2                            /* NX */
    fdiv.s fa0, fa1, fa3                            /* DZ */
    fadd.s fa0, fa1, fa1                            /* exact: does not clear */
    csrr a0, fflags
    CHECK(a0, NX|DZ)
    FP_LOAD_S(fa4, SNAN)
    feq.s a0, fa4, fa1                              /* NV */
    FP_LOAD_S(fa4, MAXF)
    fmul.s fa0, fa4, fa4                            /* OF NX */
    FP_LOAD_S(fa4, MINS)
    fdiv.s fa0, fa4, fa2                            /* UF NX */
    csrr a0, fflags
    CHECK(a0, NV|DZ|OF|UF|NX)
    csrr a0, fcsr
    CHECK(a0, 0x1f)                                 /* frm = RNE */

    /* ---- NaN boxing ------------------------------------------------------------------------------------ */
    SET_TEST(460)                                   /* fmv.w.x boxes, fmv.x.w sign-extends bit 31 */
    li a1, 0x1234567880000000
    fmv.w.x fa0, a1
    fmv.x.d a0, fa0
    CHECK(a0, 0xffffffff80000000)
    fmv.x.w a0, fa0
    CHECK(a0, 0xffffffff80000000)
    SET_TEST(461)
    li a1, 0x7fffffff
    fmv.w.x fa0, a1
    fmv.x.w a0, fa0
    CHECK(a0, 0x7fffffff)
    SET_TEST(462)                                   /* flw boxes */
    la a1, fbuf
    li a2, 0xdeadbeefc0490fdb
    sd a2, 0(a1)
    flw fa0, 0(a1)
    fmv.x.d a0, fa0
    CHECK(a0, 0xffffffffc0490fdb)
    SET_TEST(463)                                   /* fsw stores the low 32 bits only */
    li a2, -1
    sd a2, 8(a1)
    fsw fa0, 8(a1)
    ld a0, 8(a1)
    CHECK(a0, 0xffffffffc0490fdb)
    flw fa1, 4(a1)                                  /* 0xdeadbeef */
    fsw fa1, -4 + 16(a1)
    lwu a0, 12(a1)
    CHECK(a0, 0xdeadbeef)
    /* improperly boxed singles are treated as the canonical NaN by arithmetic... */
    SET_TEST(464)
    li a1, 0x000000003f800000                       /* 1.0 without the box */
    fmv.d.x fa1, a1
    FP_LOAD_S(fa2, ONE)
    csrw fflags, x0
    fadd.s fa0, fa1, fa2
    FP_CHECK_FLAGS(0)                               /* quiet: no NV */
    FP_CHECK_S(fa0, CNAN)
    SET_TEST(465)
    fclass.s a0, fa1
    CHECK(a0, 0x200)
    SET_TEST(466)
    feq.s a0, fa1, fa1
    CHECK(a0, 0)
    csrr a0, fflags
    CHECK(a0, 0)
    SET_TEST(467)
    fmin.s fa0, fa1, fa2                            /* NaN operand ignored */
    FP_CHECK_S(fa0, ONE)
    SET_TEST(468)
    fsgnj.s fa0, fa1, fa2                           /* sign injection sees canonical NaN too */
    FP_CHECK_S(fa0, CNAN)
    fsgnjn.s fa0, fa2, fa1                          /* rs2 = canonical NaN (sign 0) */
    FP_CHECK_S(fa0, NONE)
    fsgnjx.s fa0, fa2, fa1
    FP_CHECK_S(fa0, ONE)
    SET_TEST(469)
    csrw fflags, x0
    fcvt.w.s a0, fa1, rtz
    CHECK(a0, 0x7fffffff)
    FP_CHECK_FLAGS(NV)
    SET_TEST(470)
    li a1, 0xffffffef3f800000                       /* upper bits not all ones */
    fmv.d.x fa1, a1
    fmul.s fa0, fa1, fa2
    FP_CHECK_S(fa0, CNAN)
    /* ... but moves and stores just transfer the low 32 bits */
    SET_TEST(471)
    fmv.x.w a0, fa1
    CHECK(a0, 0x3f800000)
    la a1, fbuf
    fsw fa1, 0(a1)
    lwu a0, 0(a1)
    CHECK(a0, 0x3f800000)
    SET_TEST(472)                                   /* fmv.s (fsgnj.s) of a bad box yields canonical NaN */
    fmv.s fa0, fa1
    FP_CHECK_S(fa0, CNAN)
    PASS

    .data
    .align 3
fbuf: .skip 64
