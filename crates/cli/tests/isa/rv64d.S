/* rv64d.S: every RV64D instruction: rounding modes (static and dynamic), fflags, canonical NaN,
   sNaN/qNaN, signed zeros, subnormals, fclass, fcvt saturation (incl. NaN/inf/negative ->
   unsigned), fmin/fmax, compare NV rules, sign injection, fused multiply-add, single<->double
   conversion (incl. improperly NaN-boxed singles), loads/stores and mstatus.FS. */
#include "macros.S"

#define PZERO 0x0000000000000000
#define NZERO 0x8000000000000000
#define ONE   0x3ff0000000000000
#define NONE  0xbff0000000000000
#define TWO   0x4000000000000000
#define THREE 0x4008000000000000
#define FIVE  0x4014000000000000
#define NFIVE 0xc014000000000000
#define HALF  0x3fe0000000000000
#define NHALF 0xbfe0000000000000
#define ONEP5 0x3ff8000000000000
#define TWOP5 0x4004000000000000
#define NTWOP5 0xc004000000000000
#define PINF  0x7ff0000000000000
#define NINF  0xfff0000000000000
#define CNAN  0x7ff8000000000000
#define QNAN  0x7ff8000000000001
#define NQNAN 0xfff8000000000000
#define SNAN  0x7ff0000000000001
#define NSNAN 0xfff0000000000001
#define MAXD  0x7fefffffffffffff
#define NMAXD 0xffefffffffffffff
#define MINN  0x0010000000000000
#define MAXS  0x000fffffffffffff
#define MINS  0x0000000000000001
#define NMINS 0x8000000000000001
#define EPS53 0x3ca0000000000000      /* 2^-53: half an ulp of 1.0 */
#define NEPS53 0xbca0000000000000
#define EPS54 0x3c90000000000000
#define EPS53X 0x3ca8000000000000     /* 1.5 * 2^-53 */
#define ONEU  0x3ff0000000000001      /* 1 + 2^-52 */

#define NV FF_NV
#define DZ FF_DZ
#define OF FF_OF
#define UF FF_UF
#define NX FF_NX

/* conversions without a rounding-mode operand in binutils 2.40 (always exact) */
#define TEST_FP_FROMINT_D_EXACT(id, insn, exp, a) \
    SET_TEST(id); li a1, a; FP_CLEAR_FLAGS; insn fa0, a1; FP_CHECK_FLAGS(0); FP_CHECK_D(fa0, exp)
#define TEST_FCVT_D_S(id, exp, flags, a) \
    SET_TEST(id); FP_LOAD_S(fa1, a); FP_CLEAR_FLAGS; fcvt.d.s fa0, fa1; FP_CHECK_FLAGS(flags); FP_CHECK_D(fa0, exp)
#define TEST_FCVT_S_D(id, exp, flags, a, rm) \
    SET_TEST(id); FP_LOAD_D(fa1, a); FP_CLEAR_FLAGS; fcvt.s.d fa0, fa1, rm; FP_CHECK_FLAGS(flags); FP_CHECK_S(fa0, exp)

main:
    /* ---- FS = Off: D instructions are illegal ------------------------------------------------------ */
    li t0, MSTATUS_FS
    csrc mstatus, t0
    TEST_TRAP(1, CAUSE_ILLEGAL_INSTRUCTION, fadd.d fa0, fa1, fa2)
    TEST_TRAP(2, CAUSE_ILLEGAL_INSTRUCTION, la a1, dbuf; fld fa0, 0(a1))
    TEST_TRAP(3, CAUSE_ILLEGAL_INSTRUCTION, la a1, dbuf; fsd fa0, 0(a1))
    TEST_TRAP(4, CAUSE_ILLEGAL_INSTRUCTION, fmv.x.d a0, fa0)
    TEST_TRAP(5, CAUSE_ILLEGAL_INSTRUCTION, fmv.d.x fa0, a0)
    TEST_TRAP(6, CAUSE_ILLEGAL_INSTRUCTION, fcvt.d.s fa0, fa1)
    TEST_TRAP(7, CAUSE_ILLEGAL_INSTRUCTION, fcvt.s.d fa0, fa1)
    TEST_TRAP(8, CAUSE_ILLEGAL_INSTRUCTION, fnmsub.d fa0, fa1, fa2, fa3)
    TEST_TRAP(9, CAUSE_ILLEGAL_INSTRUCTION, fclass.d a0, fa0)
    SET_TEST(10)
    li t0, MSTATUS_FS_CLEAN
    csrs mstatus, t0
    la a1, dbuf
    fld fa0, 0(a1)                                   /* a load writes an f register: Dirty */
    csrr a0, mstatus
    srli a1, a0, 13
    andi a1, a1, 3
    CHECK(a1, 3)
    csrw fcsr, x0

    /* ---- fadd.d ------------------------------------------------------------------------------------ */
    TEST_FP_OP2_D(20, fadd.d, ONE,  NX, ONE, EPS53, rne)
    TEST_FP_OP2_D(21, fadd.d, ONE,  NX, ONE, EPS53, rtz)
    TEST_FP_OP2_D(22, fadd.d, ONE,  NX, ONE, EPS53, rdn)
    TEST_FP_OP2_D(23, fadd.d, ONEU, NX, ONE, EPS53, rup)
    TEST_FP_OP2_D(24, fadd.d, ONEU, NX, ONE, EPS53, rmm)
    TEST_FP_OP2_D(25, fadd.d, NONE, NX, NONE, NEPS53, rne)
    TEST_FP_OP2_D(26, fadd.d, NONE, NX, NONE, NEPS53, rtz)
    TEST_FP_OP2_D(27, fadd.d, 0xbff0000000000001, NX, NONE, NEPS53, rdn)
    TEST_FP_OP2_D(28, fadd.d, NONE, NX, NONE, NEPS53, rup)
    TEST_FP_OP2_D(29, fadd.d, 0xbff0000000000001, NX, NONE, NEPS53, rmm)
    TEST_FP_OP2_D(30, fadd.d, ONEU, NX, ONE, EPS53X, rne)
    TEST_FP_OP2_D(31, fadd.d, ONE, NX, ONE, EPS54, rne)
    TEST_FP_OP2_D(32, fadd.d, ONEU, NX, ONE, EPS54, rup)
    TEST_FP_OP2_D(33, fadd.d, THREE, 0, ONE, TWO, rne)
    TEST_FP_OP2_D(40, fadd.d, PINF, OF|NX, MAXD, MAXD, rne)
    TEST_FP_OP2_D(41, fadd.d, MAXD, OF|NX, MAXD, MAXD, rtz)
    TEST_FP_OP2_D(42, fadd.d, MAXD, OF|NX, MAXD, MAXD, rdn)
    TEST_FP_OP2_D(43, fadd.d, PINF, OF|NX, MAXD, MAXD, rup)
    TEST_FP_OP2_D(44, fadd.d, PINF, OF|NX, MAXD, MAXD, rmm)
    TEST_FP_OP2_D(45, fadd.d, NINF, OF|NX, NMAXD, NMAXD, rne)
    TEST_FP_OP2_D(46, fadd.d, NMAXD, OF|NX, NMAXD, NMAXD, rtz)
    TEST_FP_OP2_D(47, fadd.d, NINF, OF|NX, NMAXD, NMAXD, rdn)
    TEST_FP_OP2_D(48, fadd.d, NMAXD, OF|NX, NMAXD, NMAXD, rup)
    TEST_FP_OP2_D(50, fadd.d, CNAN, NV, PINF, NINF, rne)
    TEST_FP_OP2_D(51, fadd.d, PINF, 0, PINF, MAXD, rne)
    TEST_FP_OP2_D(52, fadd.d, CNAN, 0, QNAN, ONE, rne)
    TEST_FP_OP2_D(53, fadd.d, CNAN, NV, SNAN, ONE, rne)
    TEST_FP_OP2_D(54, fadd.d, CNAN, NV, NQNAN, NSNAN, rne)
    TEST_FP_OP2_D(55, fadd.d, PZERO, 0, PZERO, NZERO, rne)
    TEST_FP_OP2_D(56, fadd.d, NZERO, 0, PZERO, NZERO, rdn)
    TEST_FP_OP2_D(57, fadd.d, NZERO, 0, NZERO, NZERO, rup)
    TEST_FP_OP2_D(58, fadd.d, PZERO, 0, ONE, NONE, rmm)
    TEST_FP_OP2_D(59, fadd.d, NZERO, 0, ONE, NONE, rdn)
    TEST_FP_OP2_D(60, fadd.d, 0x0000000000000002, 0, MINS, MINS, rne)
    TEST_FP_OP2_D(61, fadd.d, MINN, 0, MAXS, MINS, rne)
    TEST_FP_OP2_D(62, fadd.d, PZERO, 0, MINS, NMINS, rne)
    /* ---- fsub.d -------------------------------------------------------------------------------------- */
    TEST_FP_OP2_D(70, fsub.d, 0x3fefffffffffffff, 0, ONE, EPS53, rne)
    TEST_FP_OP2_D(71, fsub.d, ONE, NX, ONE, EPS54, rne)             /* tie below 1.0 -> even (1.0) */
    TEST_FP_OP2_D(72, fsub.d, 0x3fefffffffffffff, NX, ONE, EPS54, rtz)
    TEST_FP_OP2_D(73, fsub.d, PZERO, 0, TWO, TWO, rne)
    TEST_FP_OP2_D(74, fsub.d, NZERO, 0, TWO, TWO, rdn)
    TEST_FP_OP2_D(75, fsub.d, CNAN, NV, NINF, NINF, rne)
    TEST_FP_OP2_D(76, fsub.d, MAXS, 0, MINN, MINS, rne)
    TEST_FP_OP2_D(77, fsub.d, NZERO, 0, NZERO, PZERO, rne)
    TEST_FP_OP2_D(78, fsub.d, NINF, OF|NX, NMAXD, MAXD, rmm)
    /* ---- fmul.d -------------------------------------------------------------------------------------- */
    TEST_FP_OP2_D(90, fmul.d, 0x4002000000000000, 0, ONEP5, ONEP5, rne)          /* 2.25 */
    TEST_FP_OP2_D(91, fmul.d, 0x3ff0000000000002, NX, ONEU, ONEU, rne)
    TEST_FP_OP2_D(92, fmul.d, 0x3ff0000000000003, NX, ONEU, ONEU, rup)
    TEST_FP_OP2_D(93, fmul.d, 0x3ff0000000000002, NX, ONEU, ONEU, rtz)
    TEST_FP_OP2_D(94, fmul.d, NZERO, 0, NZERO, FIVE, rne)
    TEST_FP_OP2_D(95, fmul.d, CNAN, NV, PINF, PZERO, rne)
    TEST_FP_OP2_D(96, fmul.d, PINF, OF|NX, MAXD, TWO, rne)
    TEST_FP_OP2_D(97, fmul.d, NMAXD, OF|NX, MAXD, 0xc000000000000000, rtz)
    TEST_FP_OP2_D(98, fmul.d, 0x0008000000000000, 0, MINN, HALF, rne)           /* exact subnormal */
    TEST_FP_OP2_D(99, fmul.d, PZERO, UF|NX, MINS, HALF, rne)
    TEST_FP_OP2_D(100, fmul.d, MINS, UF|NX, MINS, HALF, rup)
    TEST_FP_OP2_D(101, fmul.d, MINS, UF|NX, MINS, HALF, rmm)
    TEST_FP_OP2_D(102, fmul.d, NMINS, UF|NX, NMINS, HALF, rdn)
    TEST_FP_OP2_D(103, fmul.d, MINN, NX, 0x3feffffffffffffe, 0x0010000000000001, rne) /* no UF (after rounding) */
    TEST_FP_OP2_D(104, fmul.d, MAXS, UF|NX, 0x3feffffffffffffe, 0x0010000000000001, rtz)
    TEST_FP_OP2_D(105, fmul.d, MINN, 0, MINS, 0x4330000000000000, rne)          /* 2^-1074 * 2^52 */
    TEST_FP_OP2_D(106, fmul.d, CNAN, 0, NQNAN, ONE, rne)
    /* ---- fdiv.d -------------------------------------------------------------------------------------- */
    TEST_FP_OP2_D(120, fdiv.d, 0x3fd5555555555555, NX, ONE, THREE, rne)
    TEST_FP_OP2_D(121, fdiv.d, 0x3fd5555555555555, NX, ONE, THREE, rtz)
    TEST_FP_OP2_D(122, fdiv.d, 0x3fd5555555555555, NX, ONE, THREE, rdn)
    TEST_FP_OP2_D(123, fdiv.d, 0x3fd5555555555556, NX, ONE, THREE, rup)
    TEST_FP_OP2_D(124, fdiv.d, 0x3fd5555555555555, NX, ONE, THREE, rmm)
    TEST_FP_OP2_D(125, fdiv.d, 0xbfd5555555555556, NX, NONE, THREE, rdn)
    TEST_FP_OP2_D(126, fdiv.d, 0xbfd5555555555555, NX, NONE, THREE, rup)
    TEST_FP_OP2_D(127, fdiv.d, TWOP5, 0, FIVE, TWO, rne)
    TEST_FP_OP2_D(128, fdiv.d, PINF, DZ, ONE, PZERO, rne)
    TEST_FP_OP2_D(129, fdiv.d, NINF, DZ, ONE, NZERO, rne)
    TEST_FP_OP2_D(130, fdiv.d, NINF, DZ, NMINS, PZERO, rne)
    TEST_FP_OP2_D(131, fdiv.d, CNAN, NV, NZERO, PZERO, rne)
    TEST_FP_OP2_D(132, fdiv.d, CNAN, NV, NINF, PINF, rne)
    TEST_FP_OP2_D(133, fdiv.d, NINF, 0, NINF, PZERO, rne)
    TEST_FP_OP2_D(134, fdiv.d, NZERO, 0, ONE, NINF, rne)
    TEST_FP_OP2_D(135, fdiv.d, CNAN, 0, QNAN, PZERO, rne)
    TEST_FP_OP2_D(136, fdiv.d, CNAN, NV, SNAN, PZERO, rne)
    TEST_FP_OP2_D(137, fdiv.d, PZERO, UF|NX, MINS, THREE, rne)
    TEST_FP_OP2_D(138, fdiv.d, PINF, OF|NX, MAXD, HALF, rne)
    /* ---- fsqrt.d ------------------------------------------------------------------------------------- */
    TEST_FP_OP1_D(150, fsqrt.d, TWO, 0, 0x4010000000000000, rne)
    TEST_FP_OP1_D(151, fsqrt.d, 0x3ff6a09e667f3bcd, NX, TWO, rne)
    TEST_FP_OP1_D(152, fsqrt.d, 0x3ff6a09e667f3bcc, NX, TWO, rtz)
    TEST_FP_OP1_D(153, fsqrt.d, 0x3ff6a09e667f3bcc, NX, TWO, rdn)
    TEST_FP_OP1_D(154, fsqrt.d, 0x3ff6a09e667f3bcd, NX, TWO, rup)
    TEST_FP_OP1_D(155, fsqrt.d, 0x3ff6a09e667f3bcd, NX, TWO, rmm)
    TEST_FP_OP1_D(156, fsqrt.d, NZERO, 0, NZERO, rne)
    TEST_FP_OP1_D(157, fsqrt.d, CNAN, NV, NONE, rne)
    TEST_FP_OP1_D(158, fsqrt.d, PINF, 0, PINF, rne)
    TEST_FP_OP1_D(159, fsqrt.d, CNAN, NV, NINF, rne)
    TEST_FP_OP1_D(160, fsqrt.d, CNAN, 0, QNAN, rne)
    TEST_FP_OP1_D(161, fsqrt.d, CNAN, NV, SNAN, rne)
    TEST_FP_OP1_D(162, fsqrt.d, 0x2000000000000000, 0, MINN, rne)             /* 2^-511 */
    TEST_FP_OP1_D(163, fsqrt.d, 0x1e60000000000000, 0, MINS, rne)             /* sqrt(2^-1074) = 2^-537 */
    TEST_FP_OP1_D(164, fsqrt.d, CNAN, NV, NMINS, rne)
    /* ---- fmin.d / fmax.d ----------------------------------------------------------------------------- */
    TEST_FP_OP2N_D(170, fmin.d, NZERO, 0, PZERO, NZERO)
    TEST_FP_OP2N_D(171, fmin.d, NZERO, 0, NZERO, PZERO)
    TEST_FP_OP2N_D(172, fmax.d, PZERO, 0, NZERO, PZERO)
    TEST_FP_OP2N_D(173, fmax.d, PZERO, 0, PZERO, NZERO)
    TEST_FP_OP2N_D(174, fmin.d, ONE, 0, QNAN, ONE)
    TEST_FP_OP2N_D(175, fmax.d, NINF, 0, NINF, NQNAN)
    TEST_FP_OP2N_D(176, fmin.d, ONE, NV, ONE, SNAN)
    TEST_FP_OP2N_D(177, fmax.d, NZERO, NV, NSNAN, NZERO)
    TEST_FP_OP2N_D(178, fmin.d, CNAN, 0, QNAN, NQNAN)
    TEST_FP_OP2N_D(179, fmax.d, CNAN, NV, SNAN, NQNAN)
    TEST_FP_OP2N_D(180, fmin.d, NINF, 0, PINF, NINF)
    TEST_FP_OP2N_D(181, fmax.d, MAXD, 0, MAXD, NMAXD)
    TEST_FP_OP2N_D(182, fmin.d, MINS, 0, MAXS, MINS)
    TEST_FP_OP2N_D(183, fmax.d, 0x8000000000000000, 0, NMINS, NZERO)
    /* ---- compares ------------------------------------------------------------------------------------ */
    TEST_FP_CMP_D(190, feq.d, 1, 0, ONE, ONE)
    TEST_FP_CMP_D(191, feq.d, 0, 0, ONE, ONEU)
    TEST_FP_CMP_D(192, feq.d, 1, 0, NZERO, PZERO)
    TEST_FP_CMP_D(193, feq.d, 0, 0, QNAN, QNAN)
    TEST_FP_CMP_D(194, feq.d, 0, NV, SNAN, SNAN)
    TEST_FP_CMP_D(195, feq.d, 0, NV, ONE, NSNAN)
    TEST_FP_CMP_D(200, flt.d, 1, 0, ONE, ONEU)
    TEST_FP_CMP_D(201, flt.d, 0, 0, ONEU, ONE)
    TEST_FP_CMP_D(202, flt.d, 0, 0, PZERO, NZERO)
    TEST_FP_CMP_D(203, flt.d, 1, 0, NINF, NMAXD)
    TEST_FP_CMP_D(204, flt.d, 0, NV, QNAN, ONE)
    TEST_FP_CMP_D(205, flt.d, 0, NV, ONE, SNAN)
    TEST_FP_CMP_D(206, flt.d, 1, 0, NMINS, PZERO)
    TEST_FP_CMP_D(210, fle.d, 1, 0, ONE, ONE)
    TEST_FP_CMP_D(211, fle.d, 1, 0, PZERO, NZERO)
    TEST_FP_CMP_D(212, fle.d, 0, 0, ONEU, ONE)
    TEST_FP_CMP_D(213, fle.d, 0, NV, NQNAN, NINF)
    TEST_FP_CMP_D(214, fle.d, 0, NV, SNAN, ONE)
    TEST_FP_CMP_D(215, fle.d, 1, 0, PINF, PINF)
    /* ---- sign injection -------------------------------------------------------------------------------- */
    TEST_FP_OP2N_D(220, fsgnj.d, NONE, 0, ONE, NTWOP5)
    TEST_FP_OP2N_D(221, fsgnj.d, ONE, 0, NONE, TWO)
    TEST_FP_OP2N_D(222, fsgnj.d, NSNAN, 0, SNAN, NZERO)
    TEST_FP_OP2N_D(223, fsgnjn.d, ONE, 0, ONE, NONE)
    TEST_FP_OP2N_D(224, fsgnjn.d, NQNAN, 0, CNAN, PZERO)
    TEST_FP_OP2N_D(225, fsgnjx.d, ONE, 0, NONE, NTWOP5)
    TEST_FP_OP2N_D(226, fsgnjx.d, NINF, 0, PINF, NZERO)
    TEST_FP_OP2N_D(227, fsgnjx.d, QNAN, 0, QNAN, PZERO)
    /* ---- fclass.d -------------------------------------------------------------------------------------- */
    TEST_FP_CLASS_D(240, 0x001, NINF)
    TEST_FP_CLASS_D(241, 0x002, NONE)
    TEST_FP_CLASS_D(242, 0x002, NMAXD)
    TEST_FP_CLASS_D(243, 0x004, NMINS)
    TEST_FP_CLASS_D(244, 0x004, 0x800fffffffffffff)
    TEST_FP_CLASS_D(245, 0x008, NZERO)
    TEST_FP_CLASS_D(246, 0x010, PZERO)
    TEST_FP_CLASS_D(247, 0x020, MINS)
    TEST_FP_CLASS_D(248, 0x020, MAXS)
    TEST_FP_CLASS_D(249, 0x040, MINN)
    TEST_FP_CLASS_D(250, 0x040, ONE)
    TEST_FP_CLASS_D(251, 0x080, PINF)
    TEST_FP_CLASS_D(252, 0x100, SNAN)
    TEST_FP_CLASS_D(253, 0x100, 0x7ff7ffffffffffff)
    TEST_FP_CLASS_D(254, 0x200, CNAN)
    TEST_FP_CLASS_D(255, 0x200, 0xffffffffffffffff)
    TEST_FP_CLASS_D(256, 0x200, 0xffffffff3f800000)                     /* a boxed single is a double qNaN */
    /* ---- double -> integer ------------------------------------------------------------------------------- */
    TEST_FP_TOINT_D(260, fcvt.w.d, 2, NX, TWOP5, rne)
    TEST_FP_TOINT_D(261, fcvt.w.d, 3, NX, TWOP5, rmm)
    TEST_FP_TOINT_D(262, fcvt.w.d, 2, NX, TWOP5, rtz)
    TEST_FP_TOINT_D(263, fcvt.w.d, 2, NX, TWOP5, rdn)
    TEST_FP_TOINT_D(264, fcvt.w.d, 3, NX, TWOP5, rup)
    TEST_FP_TOINT_D(265, fcvt.w.d, -3, NX, NTWOP5, rdn)
    TEST_FP_TOINT_D(266, fcvt.w.d, -2, NX, NTWOP5, rup)
    TEST_FP_TOINT_D(267, fcvt.w.d, 0x7fffffff, 0, 0x41dfffffffc00000, rne)   /* 2^31-1 exact */
    TEST_FP_TOINT_D(268, fcvt.w.d, 0x7fffffff, NV, 0x41dfffffffe00000, rne)  /* 2^31-0.5 rounds to 2^31 */
    TEST_FP_TOINT_D(269, fcvt.w.d, 0x7fffffff, NX, 0x41dfffffffe00000, rtz)
    TEST_FP_TOINT_D(270, fcvt.w.d, 0xffffffff80000000, NX, 0xc1e0000000100000, rne) /* -2^31-0.5: tie -> even */
    TEST_FP_TOINT_D(271, fcvt.w.d, 0xffffffff80000000, NV, 0xc1e0000000100000, rdn)
    TEST_FP_TOINT_D(272, fcvt.w.d, 0xffffffff80000000, 0, 0xc1e0000000000000, rne)
    TEST_FP_TOINT_D(273, fcvt.w.d, 0x7fffffff, NV, CNAN, rne)
    TEST_FP_TOINT_D(274, fcvt.w.d, 0x7fffffff, NV, NSNAN, rne)
    TEST_FP_TOINT_D(275, fcvt.w.d, 0x7fffffff, NV, PINF, rne)
    TEST_FP_TOINT_D(276, fcvt.w.d, 0xffffffff80000000, NV, NINF, rne)
    TEST_FP_TOINT_D(277, fcvt.w.d, 0, 0, NZERO, rne)
    TEST_FP_TOINT_D(278, fcvt.w.d, 0, NX, MINS, rne)
    TEST_FP_TOINT_D(279, fcvt.w.d, -1, NX, NMINS, rdn)
    TEST_FP_TOINT_D(280, fcvt.wu.d, 0xffffffffffffffff, 0, 0x41efffffffe00000, rne) /* 2^32-1, sign-extended */
    TEST_FP_TOINT_D(281, fcvt.wu.d, 0xffffffffffffffff, NV, 0x41f0000000000000, rne) /* 2^32 */
    TEST_FP_TOINT_D(282, fcvt.wu.d, 0, NV, NONE, rne)
    TEST_FP_TOINT_D(283, fcvt.wu.d, 0, NX, NHALF, rne)                          /* -0.5 -> -0 */
    TEST_FP_TOINT_D(284, fcvt.wu.d, 0, NV, NHALF, rmm)                          /* -0.5 -> -1 */
    TEST_FP_TOINT_D(285, fcvt.wu.d, 0xffffffffffffffff, NV, CNAN, rne)
    TEST_FP_TOINT_D(286, fcvt.wu.d, 0xffffffffffffffff, NV, PINF, rne)
    TEST_FP_TOINT_D(287, fcvt.wu.d, 0, NV, NINF, rne)
    TEST_FP_TOINT_D(288, fcvt.wu.d, 3, NX, TWOP5, rup)
    TEST_FP_TOINT_D(290, fcvt.l.d, 0x7ffffffffffffc00, 0, 0x43dfffffffffffff, rne)
    TEST_FP_TOINT_D(291, fcvt.l.d, 0x7fffffffffffffff, NV, 0x43e0000000000000, rne) /* 2^63 */
    TEST_FP_TOINT_D(292, fcvt.l.d, 0x8000000000000000, 0, 0xc3e0000000000000, rne)  /* -2^63 exact */
    TEST_FP_TOINT_D(293, fcvt.l.d, 0x8000000000000000, NV, 0xc3e0000000000001, rne)
    TEST_FP_TOINT_D(294, fcvt.l.d, 0x7fffffffffffffff, NV, CNAN, rne)
    TEST_FP_TOINT_D(295, fcvt.l.d, 0x7fffffffffffffff, NV, NQNAN, rne)
    TEST_FP_TOINT_D(296, fcvt.l.d, 0x7fffffffffffffff, NV, PINF, rne)
    TEST_FP_TOINT_D(297, fcvt.l.d, 0x8000000000000000, NV, NINF, rne)
    TEST_FP_TOINT_D(298, fcvt.l.d, -2, NX, NTWOP5, rne)
    TEST_FP_TOINT_D(299, fcvt.l.d, -3, NX, NTWOP5, rmm)
    TEST_FP_TOINT_D(300, fcvt.l.d, 0x0000000100000000, 0, 0x41f0000000000000, rne)
    TEST_FP_TOINT_D(301, fcvt.lu.d, 0xfffffffffffff800, 0, 0x43efffffffffffff, rne)
    TEST_FP_TOINT_D(302, fcvt.lu.d, 0xffffffffffffffff, NV, 0x43f0000000000000, rne) /* 2^64 */
    TEST_FP_TOINT_D(303, fcvt.lu.d, 0x8000000000000000, 0, 0x43e0000000000000, rne)
    TEST_FP_TOINT_D(304, fcvt.lu.d, 0, NV, NONE, rne)
    TEST_FP_TOINT_D(305, fcvt.lu.d, 0, NX, NHALF, rtz)
    TEST_FP_TOINT_D(306, fcvt.lu.d, 0xffffffffffffffff, NV, CNAN, rne)
    TEST_FP_TOINT_D(307, fcvt.lu.d, 0xffffffffffffffff, NV, PINF, rne)
    TEST_FP_TOINT_D(308, fcvt.lu.d, 0, NV, NINF, rne)
    TEST_FP_TOINT_D(309, fcvt.lu.d, 0, 0, NZERO, rne)
    /* ---- integer -> double ----------------------------------------------------------------------------- */
    TEST_FP_FROMINT_D_EXACT(320, fcvt.d.w, 0x41dfffffffc00000, 0x7fffffff)
    TEST_FP_FROMINT_D_EXACT(321, fcvt.d.w, 0xc1e0000000000000, 0xffffffff80000000)
    TEST_FP_FROMINT_D_EXACT(322, fcvt.d.w, NONE, -1)
    TEST_FP_FROMINT_D_EXACT(323, fcvt.d.w, ONE, 0xabcdef0000000001)          /* low 32 bits only */
    TEST_FP_FROMINT_D_EXACT(324, fcvt.d.w, PZERO, 0)
    TEST_FP_FROMINT_D_EXACT(325, fcvt.d.wu, 0x41efffffffe00000, 0xffffffff)
    TEST_FP_FROMINT_D_EXACT(326, fcvt.d.wu, 0x41efffffffe00000, -1)          /* low 32 bits, unsigned */
    TEST_FP_FROMINT_D_EXACT(327, fcvt.d.wu, 0x41e0000000000000, 0x80000000)
    TEST_FP_FROMINT_D(330, fcvt.d.l, 0x43e0000000000000, NX, 0x7fffffffffffffff, rne)
    TEST_FP_FROMINT_D(331, fcvt.d.l, 0x43dfffffffffffff, NX, 0x7fffffffffffffff, rtz)
    TEST_FP_FROMINT_D(332, fcvt.d.l, 0x43dfffffffffffff, NX, 0x7fffffffffffffff, rdn)
    TEST_FP_FROMINT_D(333, fcvt.d.l, 0x43e0000000000000, NX, 0x7fffffffffffffff, rup)
    TEST_FP_FROMINT_D(334, fcvt.d.l, 0x43e0000000000000, NX, 0x7fffffffffffffff, rmm)
    TEST_FP_FROMINT_D(335, fcvt.d.l, 0xc3e0000000000000, 0, 0x8000000000000000, rne)
    TEST_FP_FROMINT_D(336, fcvt.d.l, 0x4340000000000000, NX, 0x20000000000001, rne)   /* 2^53+1: tie -> even */
    TEST_FP_FROMINT_D(337, fcvt.d.l, 0x4340000000000001, NX, 0x20000000000001, rmm)
    TEST_FP_FROMINT_D(338, fcvt.d.l, 0xc340000000000001, NX, -0x20000000000001, rdn)
    TEST_FP_FROMINT_D(339, fcvt.d.l, PZERO, 0, 0, rdn)
    TEST_FP_FROMINT_D(340, fcvt.d.lu, 0x43f0000000000000, NX, 0xffffffffffffffff, rne)
    TEST_FP_FROMINT_D(341, fcvt.d.lu, 0x43efffffffffffff, NX, 0xffffffffffffffff, rtz)
    TEST_FP_FROMINT_D(342, fcvt.d.lu, 0x43e0000000000000, 0, 0x8000000000000000, rne)
    TEST_FP_FROMINT_D(343, fcvt.d.lu, ONE, 0, 1, rne)
    /* ---- single <-> double ---------------------------------------------------------------------------- */
    TEST_FCVT_D_S(350, ONE, 0, 0x3f800000)
    TEST_FCVT_D_S(351, NZERO, 0, 0x80000000)
    TEST_FCVT_D_S(352, 0x36a0000000000000, 0, 0x00000001)                  /* subnormal single is normal double */
    TEST_FCVT_D_S(353, 0x47efffffe0000000, 0, 0x7f7fffff)
    TEST_FCVT_D_S(354, PINF, 0, 0x7f800000)
    TEST_FCVT_D_S(355, NINF, 0, 0xff800000)
    TEST_FCVT_D_S(356, CNAN, 0, 0x7fc00001)                                /* qNaN: canonical, no flags */
    TEST_FCVT_D_S(357, CNAN, NV, 0x7f800001)                               /* sNaN: NV */
    TEST_FCVT_D_S(358, CNAN, 0, 0xffc00000)
    TEST_FCVT_D_S(359, 0xc004000000000000, 0, 0xc0200000)
    TEST_FCVT_S_D(360, 0x3f800000, 0, ONE, rne)
    TEST_FCVT_S_D(361, 0x3f800000, NX, 0x3ff0000010000000, rne)            /* 1 + 2^-24: tie -> even */
    TEST_FCVT_S_D(362, 0x3f800001, NX, 0x3ff0000010000000, rup)
    TEST_FCVT_S_D(363, 0x3f800001, NX, 0x3ff0000010000000, rmm)
    TEST_FCVT_S_D(364, 0x3f800000, NX, 0x3ff0000010000000, rtz)
    TEST_FCVT_S_D(365, 0xbf800001, NX, 0xbff0000010000000, rdn)
    TEST_FCVT_S_D(366, 0x3eaaaaab, NX, 0x3fd5555555555555, rne)
    TEST_FCVT_S_D(367, 0x7f800000, OF|NX, MAXD, rne)
    TEST_FCVT_S_D(368, 0x7f7fffff, OF|NX, MAXD, rtz)
    TEST_FCVT_S_D(369, 0xff7fffff, OF|NX, NMAXD, rup)
    TEST_FCVT_S_D(370, 0x00000001, 0, 0x36a0000000000000, rne)             /* 2^-149 exact */
    TEST_FCVT_S_D(371, 0x00000000, UF|NX, 0x3690000000000000, rne)         /* 2^-150: tie -> 0 */
    TEST_FCVT_S_D(372, 0x00000001, UF|NX, 0x3690000000000000, rup)
    TEST_FCVT_S_D(373, 0x80000000, UF|NX, NMINS, rne)
    TEST_FCVT_S_D(374, 0x80000001, UF|NX, NMINS, rdn)
    TEST_FCVT_S_D(375, 0x7fc00000, 0, QNAN, rne)
    TEST_FCVT_S_D(376, 0x7fc00000, NV, SNAN, rne)
    TEST_FCVT_S_D(377, 0x7f800000, 0, PINF, rne)
    TEST_FCVT_S_D(378, 0x80000000, 0, NZERO, rne)
    TEST_FCVT_S_D(379, 0x7f7fffff, NX, 0x47efffffefffffff, rne)           /* just below the overflow boundary */
    SET_TEST(380)                                    /* fcvt.d.s of an improperly boxed single: canonical NaN */
    li a1, 0x000000003f800000
    fmv.d.x fa1, a1
    csrw fflags, x0
    fcvt.d.s fa0, fa1
    FP_CHECK_FLAGS(0)
    FP_CHECK_D(fa0, CNAN)
    /* ---- fused multiply-add ---------------------------------------------------------------------------- */
    TEST_FP_OP3_D(390, fmadd.d, FIVE, 0, ONE, TWO, THREE, rne)
    TEST_FP_OP3_D(391, fmsub.d, NONE, 0, ONE, TWO, THREE, rne)
    TEST_FP_OP3_D(392, fnmsub.d, ONE, 0, ONE, TWO, THREE, rne)
    TEST_FP_OP3_D(393, fnmadd.d, NFIVE, 0, ONE, TWO, THREE, rne)
    TEST_FP_OP3_D(394, fmadd.d, 0x3970000000000000, 0, ONEU, ONEU, 0xbff0000000000002, rne) /* 2^-104 */
    TEST_FP_OP3_D(395, fmsub.d, 0x3970000000000000, 0, ONEU, ONEU, 0x3ff0000000000002, rne)
    TEST_FP_OP3_D(396, fnmadd.d, 0xb970000000000000, 0, ONEU, ONEU, 0xbff0000000000002, rne)
    TEST_FP_OP3_D(397, fnmsub.d, 0xb970000000000000, 0, ONEU, ONEU, 0x3ff0000000000002, rne)
    TEST_FP_OP3_D(398, fmadd.d, MAXD, 0, MAXD, TWO, NMAXD, rne)
    TEST_FP_OP3_D(399, fmadd.d, ONE, NX, ONE, ONE, EPS53, rne)
    TEST_FP_OP3_D(400, fmadd.d, ONEU, NX, ONE, ONE, EPS53, rup)
    TEST_FP_OP3_D(401, fmadd.d, ONE, NX, ONE, ONE, EPS53, rdn)
    TEST_FP_OP3_D(402, fmadd.d, ONE, NX, ONE, ONE, EPS53, rtz)
    TEST_FP_OP3_D(403, fmadd.d, ONEU, NX, ONE, ONE, EPS53, rmm)
    TEST_FP_OP3_D(404, fmadd.d, CNAN, NV, PZERO, PINF, QNAN, rne)
    TEST_FP_OP3_D(405, fmadd.d, CNAN, NV, NINF, ONE, PINF, rne)
    TEST_FP_OP3_D(406, fmadd.d, CNAN, 0, ONE, QNAN, ONE, rne)
    TEST_FP_OP3_D(407, fmadd.d, CNAN, NV, ONE, ONE, NSNAN, rne)
    TEST_FP_OP3_D(408, fmadd.d, PZERO, 0, NZERO, ONE, PZERO, rne)
    TEST_FP_OP3_D(409, fmadd.d, NZERO, 0, NZERO, ONE, PZERO, rdn)
    TEST_FP_OP3_D(410, fnmadd.d, NZERO, 0, PZERO, ONE, PZERO, rne)
    TEST_FP_OP3_D(411, fmsub.d, NZERO, 0, PZERO, ONE, PZERO, rdn)
    TEST_FP_OP3_D(412, fnmsub.d, PZERO, 0, PZERO, ONE, PZERO, rne)
    TEST_FP_OP3_D(413, fmadd.d, PINF, OF|NX, MAXD, MAXD, NONE, rne)
    TEST_FP_OP3_D(414, fmsub.d, MAXD, OF|NX, MAXD, MAXD, ONE, rtz)
    /* ---- dynamic rounding and reserved rounding modes ----------------------------------------------------- */
    csrwi frm, FRM_RUP
    TEST_FP_OP2_D(420, fadd.d, ONEU, NX, ONE, EPS54, dyn)
    TEST_FP_OP2_D(421, fdiv.d, 0x3fd5555555555556, NX, ONE, THREE, dyn)
    TEST_FCVT_S_D(422, 0x3f800001, NX, 0x3ff0000000000001, dyn)
    csrwi frm, FRM_RDN
    TEST_FP_OP2_D(423, fsub.d, NZERO, 0, ONE, ONE, dyn)
    TEST_FP_TOINT_D(424, fcvt.l.d, -3, NX, NTWOP5, dyn)
    csrwi frm, FRM_RTZ
    TEST_FP_OP1_D(425, fsqrt.d, 0x3ff6a09e667f3bcc, NX, TWO, dyn)
    TEST_FP_FROMINT_D(426, fcvt.d.l, 0x43dfffffffffffff, NX, 0x7fffffffffffffff, dyn)
    csrwi frm, FRM_RMM
    TEST_FP_OP3_D(427, fmadd.d, ONEU, NX, ONE, ONE, EPS53, dyn)
    TEST_FP_TOINT_D(428, fcvt.w.d, 3, NX, TWOP5, dyn)
    csrwi frm, FRM_RNE
    TEST_FP_OP2_D(429, fmul.d, PZERO, UF|NX, MINS, HALF, dyn)
    csrwi frm, 5
    TEST_TRAP(430, CAUSE_ILLEGAL_INSTRUCTION, fadd.d fa0, fa1, fa2, dyn)
    csrwi frm, 7
    TEST_TRAP(431, CAUSE_ILLEGAL_INSTRUCTION, fcvt.s.d fa0, fa1, dyn)
    TEST_TRAP(432, CAUSE_ILLEGAL_INSTRUCTION, fmadd.d fa0, fa1, fa2, fa3, dyn)
    csrwi frm, FRM_RNE
    TEST_TRAP(433, CAUSE_ILLEGAL_INSTRUCTION, .insn r 0x53, 5, 0x01, fa0, fa1, fa2)   /* fadd.d rm=5 */
    TEST_TRAP(434, CAUSE_ILLEGAL_INSTRUCTION, .insn r 0x53, 6, 0x0d, fa0, fa1, fa2)   /* fdiv.d rm=6 */
    /* ---- moves, loads and stores --------------------------------------------------------------------------- */
    SET_TEST(440)
    li a1, 0x8000000000000001
    fmv.d.x fa0, a1
    fmv.x.d a0, fa0
    CHECK(a0, 0x8000000000000001)
    SET_TEST(441)
    la a1, dbuf
    li a2, 0x0123456789abcdef
    sd a2, 8(a1)
    fld fa0, 8(a1)
    fsd fa0, 16(a1)
    ld a0, 16(a1)
    CHECK(a0, 0x0123456789abcdef)
    SET_TEST(442)                                    /* sNaN bits survive load/store/move untouched */
    li a2, SNAN
    sd a2, 0(a1)
    csrw fflags, x0
    fld fa1, 0(a1)
    fmv.d fa2, fa1
    fsd fa2, -8 + 32(a1)
    ld a0, 24(a1)
    CHECK(a0, SNAN)
    FP_CHECK_FLAGS(0)
    SET_TEST(443)                                    /* fsw of a double register stores its low 32 bits */
    li a2, 0x0123456789abcdef
    fmv.d.x fa0, a2
    fsw fa0, 40(a1)
    lwu a0, 40(a1)
    CHECK(a0, 0x89abcdef)
    SET_TEST(444)                                    /* flw into a register then read as double: boxed */
    flw fa0, 40(a1)
    fmv.x.d a0, fa0
    CHECK(a0, 0xffffffff89abcdef)
    SET_TEST(445)                                    /* fadd.d on a NaN-boxed single: it is a qNaN */
    FP_LOAD_D(fa1, ONE)
    csrw fflags, x0
    fadd.d fa2, fa0, fa1
    FP_CHECK_FLAGS(0)
    FP_CHECK_D(fa2, CNAN)
    SET_TEST(446)                                    /* fflags accumulate */
    csrw fflags, x0
    FP_LOAD_D(fa1, ONE)
    FP_LOAD_D(fa2, PZERO)
    FP_LOAD_D(fa3, THREE)
    fdiv.d fa0, fa1, fa2
    fdiv.d fa0, fa1, fa3
    fmv.d.x fa4, x0
    fsqrt.d fa0, fa1
    csrr a0, fflags
    CHECK(a0, DZ|NX)
    PASS

    .data
    .align 3
dbuf: .skip 64
