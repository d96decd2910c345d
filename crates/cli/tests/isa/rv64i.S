/* rv64i.S: every RV64I instruction, with edge values. */
#include "macros.S"

main:
    /* ---- add / sub ---------------------------------------------------------------------- */
    TEST_RR(1, add, 0, 0, 0)
    TEST_RR(2, add, 2, 1, 1)
    TEST_RR(3, add, 0, -1, 1)
    TEST_RR(4, add, 0x8000000000000000, 0x7fffffffffffffff, 1)      /* signed overflow wraps */
    TEST_RR(5, add, 0xfffffffffffffffe, 0xffffffffffffffff, 0xffffffffffffffff)
    TEST_RR(6, add, 0, 0x8000000000000000, 0x8000000000000000)
    TEST_RR(7, add, 0x0000000100000000, 0x00000000ffffffff, 1)      /* no 32-bit truncation */
    TEST_RR(8, sub, 0, 0, 0)
    TEST_RR(9, sub, 0xffffffffffffffff, 0, 1)
    TEST_RR(10, sub, 0x7fffffffffffffff, 0x8000000000000000, 1)     /* overflow wraps */
    TEST_RR(11, sub, 0x8000000000000000, 0x8000000000000000, 0)
    TEST_RR(12, sub, 0x00000000ffffffff, 0x0000000100000000, 1)
    TEST_RR_SRC1_EQ_DEST(13, add, 24, 13, 11)
    TEST_RR_SRC2_EQ_DEST(14, sub, 2, 13, 11)
    TEST_RR_SRC12_EQ_DEST(15, add, 26, 13)
    TEST_RR_SRC12_EQ_DEST(16, sub, 0, 0x123456789)
    TEST_RR_ZERODEST(17, add, 1, 2)
    TEST_RR_ZERODEST(18, sub, 5, 2)

    /* ---- addi ------------------------------------------------------------------------------ */
    TEST_IMM(20, addi, 0, 0, 0)
    TEST_IMM(21, addi, 2047, 0, 2047)
    TEST_IMM(22, addi, -2048, 0, -2048)
    TEST_IMM(23, addi, 0x8000000000000000, 0x7fffffffffffffff, 1)
    TEST_IMM(24, addi, 0x7fffffffffffffff, 0x8000000000000000, -1)
    TEST_IMM(25, addi, 0x00000000800007fe, 0x000000007fffffff, 2047)
    TEST_IMM(26, addi, -1, 0, -1)
    TEST_IMM_SRC1_EQ_DEST(27, addi, 24, 13, 11)
    TEST_CASE(28, x0, 0, addi x0, x0, 5)

    /* ---- logic ----------------------------------------------------------------------------- */
    TEST_RR(30, and, 0x0f000f00ff00ff00, 0xff00ff00ff00ff00, 0x0f0f0f0fffffffff)
    TEST_RR(31, and, 0, 0xaaaaaaaaaaaaaaaa, 0x5555555555555555)
    TEST_RR(32, or, 0xffffffffffffffff, 0xaaaaaaaaaaaaaaaa, 0x5555555555555555)
    TEST_RR(33, or, 0xff0fff0fff0fff0f, 0xff00ff00ff00ff00, 0x0f0f0f0f0f0f0f0f)
    TEST_RR(34, xor, 0xf00ff00ff00ff00f, 0xff00ff00ff00ff00, 0x0f0f0f0f0f0f0f0f)
    TEST_RR(35, xor, 0, 0x123456789abcdef0, 0x123456789abcdef0)
    TEST_IMM(36, andi, 0x0000000000000700, 0xff00ff00ff00ff00, 0x70f)
    TEST_IMM(37, andi, 0xff00ff00ff00ff00, 0xff00ff00ff00ff00, -1)        /* imm sign-extended */
    TEST_IMM(38, andi, 0x0000000000000700, 0xff00ff00ff00ff00, -0x100 & 0x7ff) /* 0x700 */
    TEST_IMM(39, ori, 0xff00ff00ff00fff0, 0xff00ff00ff00ff00, 0x0f0)
    TEST_IMM(40, ori, 0xffffffffffffff0f, 0x000000000000000f, -256)     /* imm sign-extended */
    TEST_IMM(41, xori, 0xff00ff00ff00f80f, 0xff00ff00ff00ff00, 0x70f)
    TEST_IMM(42, xori, 0x00ff00ff00ff00ff, 0xff00ff00ff00ff00, -1)      /* not */
    TEST_IMM(43, xori, 0xffffffffffffff00, 0x00000000000000ff, -1)
    TEST_RR_ZERODEST(44, xor, 1, 2)

    /* ---- slt / sltu / slti / sltiu -------------------------------------------------------- */
    TEST_RR(50, slt, 0, 0, 0)
    TEST_RR(51, slt, 1, -1, 0)
    TEST_RR(52, slt, 0, 0, -1)
    TEST_RR(53, slt, 1, 0x8000000000000000, 0x7fffffffffffffff)
    TEST_RR(54, slt, 0, 0x7fffffffffffffff, 0x8000000000000000)
    TEST_RR(55, slt, 0, 5, 5)
    TEST_RR(56, slt, 1, 0x00000000ffffffff, 0x0000000100000000)
    TEST_RR(57, sltu, 0, -1, 0)
    TEST_RR(58, sltu, 1, 0, -1)
    TEST_RR(59, sltu, 0, 0x8000000000000000, 0x7fffffffffffffff)
    TEST_RR(60, sltu, 1, 0x7fffffffffffffff, 0x8000000000000000)
    TEST_RR(61, sltu, 0, 0xffffffffffffffff, 0xffffffffffffffff)
    TEST_RR(62, sltu, 1, 0, 1)                                          /* snez idiom via x0 below */
    TEST_CASE(63, a0, 1, li a1, 5; sltu a0, x0, a1)                     /* snez */
    TEST_CASE(64, a0, 0, sltu a0, x0, x0)
    TEST_IMM(65, slti, 1, -1, 0)
    TEST_IMM(66, slti, 0, 0, -1)
    TEST_IMM(67, slti, 1, 0x8000000000000000, -2048)
    TEST_IMM(68, slti, 0, 0x7fffffffffffffff, 2047)
    TEST_IMM(69, slti, 0, 2047, 2047)
    TEST_IMM(70, slti, 1, 2046, 2047)
    TEST_IMM(71, sltiu, 1, 0, 1)                                        /* seqz */
    TEST_IMM(72, sltiu, 0, 1, 1)
    TEST_IMM(73, sltiu, 1, 0xfffffffffffffffe, -1)                      /* imm sign-extends, then unsigned */
    TEST_IMM(74, sltiu, 0, 0xffffffffffffffff, -1)
    TEST_IMM(75, sltiu, 1, 0x7fffffffffffffff, -2048)
    TEST_IMM(76, sltiu, 0, 0xfffffffffffff800, -2048)
    TEST_RR_ZERODEST(77, slt, -1, 0)

    /* ---- shifts (64-bit) -------------------------------------------------------------------- */
    TEST_RR(80, sll, 0x8000000000000001, 0x8000000000000001, 0)
    TEST_RR(81, sll, 0x0000000080000000, 1, 31)
    TEST_RR(82, sll, 0x0000000100000000, 1, 32)
    TEST_RR(83, sll, 0x8000000000000000, 1, 63)
    TEST_RR(84, sll, 0x2, 1, 65)                                        /* only low 6 bits of rs2 */
    TEST_RR(85, sll, 0x8000000000000000, 1, -1)
    TEST_RR(86, srl, 0x8000000000000000, 0x8000000000000000, 0)
    TEST_RR(87, srl, 0x0000000100000000, 0x8000000000000000, 31)
    TEST_RR(88, srl, 0x0000000080000000, 0x8000000000000000, 32)
    TEST_RR(89, srl, 1, 0x8000000000000000, 63)
    TEST_RR(90, srl, 1, 0x8000000000000000, 0xffffffffffffffff)
    TEST_RR(91, sra, 0x8000000000000000, 0x8000000000000000, 0)
    TEST_RR(92, sra, 0xffffffff00000000, 0x8000000000000000, 31)
    TEST_RR(93, sra, 0xffffffff80000000, 0x8000000000000000, 32)
    TEST_RR(94, sra, 0xffffffffffffffff, 0x8000000000000000, 63)
    TEST_RR(95, sra, 0x0000000000000000, 0x7fffffffffffffff, 63)
    TEST_RR(96, sra, 0x3fffffffffffffff, 0x7fffffffffffffff, 1)
    TEST_RR(97, sra, 0xffffffffffffffff, 0x8000000000000000, 127)
    TEST_IMM(98, slli, 0x8000000000000001, 0x8000000000000001, 0)
    TEST_IMM(99, slli, 0x0000000080000000, 1, 31)
    TEST_IMM(100, slli, 0x0000000100000000, 1, 32)
    TEST_IMM(101, slli, 0x8000000000000000, 1, 63)
    TEST_IMM(102, slli, 0xfffffffe00000000, 0xffffffffffffffff, 33)
    TEST_IMM(103, srli, 0x8000000000000000, 0x8000000000000000, 0)
    TEST_IMM(104, srli, 0x0000000100000000, 0x8000000000000000, 31)
    TEST_IMM(105, srli, 0x0000000080000000, 0x8000000000000000, 32)
    TEST_IMM(106, srli, 1, 0x8000000000000000, 63)
    TEST_IMM(107, srli, 0x00000000ffffffff, 0xffffffffffffffff, 32)
    TEST_IMM(108, srai, 0x8000000000000000, 0x8000000000000000, 0)
    TEST_IMM(109, srai, 0xffffffff00000000, 0x8000000000000000, 31)
    TEST_IMM(110, srai, 0xffffffff80000000, 0x8000000000000000, 32)
    TEST_IMM(111, srai, 0xffffffffffffffff, 0x8000000000000000, 63)
    TEST_IMM(112, srai, 0x0000000000000000, 0x7fffffffffffffff, 63)
    TEST_IMM(113, srai, 0x00000000ffffffff, 0x0000ffffffff0000, 16)

    /* ---- W forms: 32-bit results sign-extended --------------------------------------------- */
    TEST_RR(120, addw, 0, 0, 0)
    TEST_RR(121, addw, 0xffffffff80000000, 0x7fffffff, 1)               /* overflow -> negative */
    TEST_RR(122, addw, 0x000000007fffffff, 0xffffffff80000000, -1)
    TEST_RR(123, addw, 0, 0xffffffff, 1)
    TEST_RR(124, addw, 3, 0x1234567800000001, 0xabcdef0000000002)        /* upper bits ignored */
    TEST_RR(125, addw, 0xfffffffffffffffe, 0x00000000ffffffff, 0x00000000ffffffff)
    TEST_RR(126, subw, 0xffffffffffffffff, 0, 1)
    TEST_RR(127, subw, 0x000000007fffffff, 0xffffffff80000000, 1)
    TEST_RR(128, subw, 0xffffffff80000000, 0x7fffffff, 0xffffffffffffffff)
    TEST_RR(129, subw, 0, 0x1111111100000005, 0x2222222200000005)
    TEST_IMM(130, addiw, 0xffffffff80000000, 0x7fffffff, 1)
    TEST_IMM(131, addiw, 0x000000007ffffffe, 0xffffffff7fffffff, -1)     /* 0x7fffffff + -1 */
    TEST_IMM(132, addiw, 0xffffffffffffffff, 0xffffffff, 0)              /* sext.w */
    TEST_IMM(133, addiw, 0x000000007fffffff, 0x123456787fffffff, 0)
    TEST_IMM(134, addiw, 0xfffffffffffff800, 0, -2048)
    TEST_IMM(135, addiw, 0x00000000000007ff, 0x100000000, 2047)
    TEST_RR(140, sllw, 0x0000000000000001, 1, 0)
    TEST_RR(141, sllw, 0xffffffff80000000, 1, 31)
    TEST_RR(142, sllw, 0x0000000000000001, 1, 32)                        /* only low 5 bits */
    TEST_RR(143, sllw, 0xffffffff80000000, 1, 63)
    TEST_RR(144, sllw, 0x0000000012345678, 0xffffffff12345678, 0)
    TEST_RR(145, sllw, 0xffffffff80000000, 0x00000000ffffffff, 31)
    TEST_RR(146, srlw, 0xffffffff80000000, 0xffffffff80000000, 0)         /* sext of bit 31 */
    TEST_RR(147, srlw, 0x0000000000000001, 0xffffffff80000000, 31)
    TEST_RR(148, srlw, 0xffffffff80000000, 0xffffffff80000000, 32)
    TEST_RR(149, srlw, 0x0000000000000001, 0x0000000080000000, 63)
    TEST_RR(150, srlw, 0x0000000040000000, 0xffffffff80000000, 1)         /* upper bits ignored */
    TEST_RR(151, srlw, 0x000000007fffffff, 0x12345678fffffffe, 1)
    TEST_RR(152, sraw, 0xffffffff80000000, 0x0000000080000000, 0)
    TEST_RR(153, sraw, 0xffffffffffffffff, 0x0000000080000000, 31)
    TEST_RR(154, sraw, 0xffffffff80000000, 0x0000000080000000, 32)
    TEST_RR(155, sraw, 0xffffffffffffffff, 0x0000000080000000, 63)
    TEST_RR(156, sraw, 0x0000000000000000, 0xffffffff7fffffff, 31)
    TEST_RR(157, sraw, 0xffffffffc0000000, 0x0000000080000000, 1)
    TEST_IMM(160, slliw, 0xffffffff80000000, 1, 31)
    TEST_IMM(161, slliw, 0x0000000000000001, 1, 0)
    TEST_IMM(162, slliw, 0x0000000000000000, 0xffffffff00000000, 1)
    TEST_IMM(163, slliw, 0xfffffffffffffffe, 0x7fffffffffffffff, 1)
    TEST_IMM(164, srliw, 0xffffffff80000000, 0x0000000080000000, 0)
    TEST_IMM(165, srliw, 0x0000000000000001, 0x0000000080000000, 31)
    TEST_IMM(166, srliw, 0x0000000000000001, 0xffffffffffffffff, 31)
    TEST_IMM(167, srliw, 0x000000007fffffff, 0x00000000ffffffff, 1)
    TEST_IMM(168, sraiw, 0xffffffff80000000, 0x0000000080000000, 0)
    TEST_IMM(169, sraiw, 0xffffffffffffffff, 0x0000000080000000, 31)
    TEST_IMM(170, sraiw, 0x0000000000000000, 0xffffffff7fffffff, 31)
    TEST_IMM(171, sraiw, 0xfffffffff8000000, 0x0000000080000000, 4)

    /* ---- lui / auipc ----------------------------------------------------------------------- */
    TEST_CASE(180, a0, 0, lui a0, 0)
    TEST_CASE(181, a0, 0xfffffffffffff000, lui a0, 0xfffff)
    TEST_CASE(182, a0, 0x000000007ffff000, lui a0, 0x7ffff)
    TEST_CASE(183, a0, 0xffffffff80000000, lui a0, 0x80000)               /* sign-extended */
    TEST_CASE(184, a0, 0x0000000000001000, lui a0, 1)
    TEST_CASE(185, a0, 0xffffffff80000800, lui a0, 0x80000; addi a0, a0, 0x800 - 0x1000 + 0x1000 - 0x800 + 0x7ff; addi a0, a0, 1)
    TEST_CASE(186, x0, 0, lui x0, 0x12345)
    /* auipc: pc-relative */
    SET_TEST(190)
1:  auipc a0, 0
    la a1, 1b
    CHECK_REG(a0, a1)
    SET_TEST(191)
1:  auipc a0, 1
    la a1, 1b
    li a2, 0x1000
    add a1, a1, a2
    CHECK_REG(a0, a1)
    SET_TEST(192)
1:  auipc a0, 0xfffff                                                       /* pc - 4096 */
    la a1, 1b
    li a2, -0x1000
    add a1, a1, a2
    CHECK_REG(a0, a1)
    SET_TEST(193)
1:  auipc a0, 0x80000                                                       /* pc - 2 GiB: sign-extended */
    la a1, 1b
    li a2, 0xffffffff80000000
    add a1, a1, a2
    CHECK_REG(a0, a1)

    /* ---- jal / jalr ------------------------------------------------------------------------ */
    SET_TEST(200)
    li ra, 0
    jal ra, 1f
2:  j fail
1:  la a1, 2b
    CHECK_REG(ra, a1)                                                       /* link = pc + 4 */
    SET_TEST(201)
    jal x0, 1f                                                              /* j: no link */
    j fail
1:  SET_TEST(202)
    la a1, 3f
    li a0, 0
    jalr a0, 0(a1)
4:  j fail
3:  la a2, 4b
    CHECK_REG(a0, a2)
    SET_TEST(203)                                                           /* jalr with offset */
    la a1, 3f - 8
    jalr a0, 8(a1)
    j fail
3:  SET_TEST(204)                                                           /* jalr clears bit 0 */
    la a1, 3f
    addi a1, a1, 1
    jalr a0, 0(a1)
    j fail
3:  SET_TEST(205)                                                           /* odd offset + even base */
    la a1, 3f
    addi a1, a1, -3
    jalr a0, 3(a1)
    j fail
3:  SET_TEST(206)                                                           /* rd == rs1: target uses old value */
    la a1, 3f
    jalr a1, 0(a1)
4:  j fail
3:  la a2, 4b
    CHECK_REG(a1, a2)
    SET_TEST(207)                                                           /* jalr x0 (ret) */
    la ra, 3f
    ret
    j fail
3:  SET_TEST(208)                                                           /* backwards jal */
    j 6f
5:  j 7f
6:  jal x0, 5b
    j fail
7:  SET_TEST(209)                                                           /* negative jalr offset */
    la a1, 3f + 16
    jalr x0, -16(a1)
    j fail
3:

    /* ---- branches: taken and not taken, signed/unsigned edges ------------------------------ */
    TEST_BR_TAKEN(220, beq, 0, 0)
    TEST_BR_TAKEN(221, beq, -1, -1)
    TEST_BR_TAKEN(222, beq, 0x8000000000000000, 0x8000000000000000)
    TEST_BR_NOT_TAKEN(223, beq, 0, 1)
    TEST_BR_NOT_TAKEN(224, beq, 0x100000000, 0)                            /* full 64-bit compare */
    TEST_BR_NOT_TAKEN(225, beq, 0x8000000000000000, 0)
    TEST_BR_TAKEN(226, bne, 0, 1)
    TEST_BR_TAKEN(227, bne, 0x100000000, 0)
    TEST_BR_TAKEN(228, bne, 0x8000000000000000, 0x7fffffffffffffff)
    TEST_BR_NOT_TAKEN(229, bne, 0, 0)
    TEST_BR_NOT_TAKEN(230, bne, -1, -1)
    TEST_BR_TAKEN(231, blt, 0, 1)
    TEST_BR_TAKEN(232, blt, -1, 0)
    TEST_BR_TAKEN(233, blt, -2, -1)
    TEST_BR_TAKEN(234, blt, 0x8000000000000000, 0x7fffffffffffffff)
    TEST_BR_TAKEN(235, blt, 0x8000000000000000, -1)
    TEST_BR_NOT_TAKEN(236, blt, 1, 0)
    TEST_BR_NOT_TAKEN(237, blt, 0, -1)
    TEST_BR_NOT_TAKEN(238, blt, 5, 5)
    TEST_BR_NOT_TAKEN(239, blt, 0x7fffffffffffffff, 0x8000000000000000)
    TEST_BR_NOT_TAKEN(240, blt, 0x100000000, 0xffffffff)
    TEST_BR_TAKEN(241, bge, 0, 0)
    TEST_BR_TAKEN(242, bge, 1, 0)
    TEST_BR_TAKEN(243, bge, 0, -1)
    TEST_BR_TAKEN(244, bge, 0x7fffffffffffffff, 0x8000000000000000)
    TEST_BR_TAKEN(245, bge, -1, -1)
    TEST_BR_NOT_TAKEN(246, bge, -1, 0)
    TEST_BR_NOT_TAKEN(247, bge, 0x8000000000000000, 0x7fffffffffffffff)
    TEST_BR_NOT_TAKEN(248, bge, -2, -1)
    TEST_BR_TAKEN(249, bltu, 0, 1)
    TEST_BR_TAKEN(250, bltu, 0, -1)
    TEST_BR_TAKEN(251, bltu, 0x7fffffffffffffff, 0x8000000000000000)
    TEST_BR_TAKEN(252, bltu, 0xffffffff, 0x100000000)
    TEST_BR_NOT_TAKEN(253, bltu, -1, 0)
    TEST_BR_NOT_TAKEN(254, bltu, 0x8000000000000000, 0x7fffffffffffffff)
    TEST_BR_NOT_TAKEN(255, bltu, 7, 7)
    TEST_BR_NOT_TAKEN(256, bltu, -1, -2)
    TEST_BR_TAKEN(257, bgeu, 0, 0)
    TEST_BR_TAKEN(258, bgeu, -1, 0)
    TEST_BR_TAKEN(259, bgeu, 0x8000000000000000, 0x7fffffffffffffff)
    TEST_BR_TAKEN(260, bgeu, -1, -1)
    TEST_BR_TAKEN(261, bgeu, -1, -2)
    TEST_BR_NOT_TAKEN(262, bgeu, 0, 1)
    TEST_BR_NOT_TAKEN(263, bgeu, 0, -1)
    TEST_BR_NOT_TAKEN(264, bgeu, 0x7fffffffffffffff, 0x8000000000000000)
    /* backward branch loop: counts down 5 times */
    SET_TEST(265)
    li a0, 5
    li a1, 0
1:  addi a1, a1, 1
    addi a0, a0, -1
    bnez a0, 1b
    CHECK(a1, 5)
    /* branch with x0 operands */
    SET_TEST(266)
    beq x0, x0, 1f
    j fail
1:  bne x0, x0, fail_far_266
    j 2f
fail_far_266: j fail
2:

    /* ---- loads: every width, sign/zero extension ------------------------------------------- */
    TEST_LD(280, lb, 0xffffffffffffff88, 0, ldata)
    TEST_LD(281, lb, 0x0000000000000077, 1, ldata)
    TEST_LD(282, lb, 0xffffffffffffff80, 7, ldata)
    TEST_LD(283, lb, 0x000000000000007f, 8, ldata)
    TEST_LD(284, lbu, 0x0000000000000088, 0, ldata)
    TEST_LD(285, lbu, 0x0000000000000080, 7, ldata)
    TEST_LD(286, lbu, 0x0000000000000077, 1, ldata)
    TEST_LD(287, lh, 0x0000000000007788, 0, ldata)
    TEST_LD(288, lh, 0xffffffffffff8011, 6, ldata)
    TEST_LD(289, lh, 0x0000000000005566, 2, ldata)
    TEST_LD(290, lhu, 0x0000000000008011, 6, ldata)
    TEST_LD(291, lhu, 0x0000000000007788, 0, ldata)
    TEST_LD(292, lhu, 0x000000000000ffff, 10, ldata)
    TEST_LD(293, lw, 0x0000000055667788, 0, ldata)
    TEST_LD(294, lw, 0xffffffff80112233, 4, ldata)
    TEST_LD(295, lwu, 0x0000000080112233, 4, ldata)
    TEST_LD(296, lwu, 0x0000000055667788, 0, ldata)
    TEST_LD(297, lwu, 0x00000000ffff007f, 8, ldata)
    TEST_LD(298, lw, 0xffffffffffff007f, 8, ldata)
    TEST_LD(299, ld, 0x8011223355667788, 0, ldata)
    TEST_LD(300, ld, 0x00000000ffff007f, 8, ldata)
    TEST_LD(301, ld, 0x8011223355667788, -16, ldata + 16)                /* negative offset */
    TEST_LD(302, lw, 0xffffffff80112233, -2044, ldata + 2048)             /* large negative offset */
    TEST_LD(303, lbu, 0x0000000000000088, 2047 - 2047, ldata)
    TEST_LD(304, lh, 0xffffffffffff8011, 2047 - 2041, ldata)
    TEST_CASE(305, x0, 0, la a1, ldata; ld x0, 0(a1))                    /* x0 dest ignored */

    /* ---- stores: every width, only the addressed bytes change ------------------------------ */
    SET_TEST(320)
    la a1, sdata
    li a2, -1
    sd a2, 0(a1)
    sd a2, 8(a1)
    li a2, 0x1234567890abcdef
    sb a2, 1(a1)
    ld a0, 0(a1)
    CHECK(a0, 0xffffffffffffefff)
    SET_TEST(321)
    sh a2, 4(a1)
    ld a0, 0(a1)
    CHECK(a0, 0xffffcdefffffefff)
    SET_TEST(322)
    sw a2, 8(a1)
    ld a0, 8(a1)
    CHECK(a0, 0xffffffff90abcdef)
    SET_TEST(323)
    sd a2, 0(a1)
    ld a0, 0(a1)
    CHECK(a0, 0x1234567890abcdef)
    TEST_ST(324, lb, sb, 0xffffffffffffffaa, 0xaa, 3, sdata)
    TEST_ST(325, lbu, sb, 0xaa, 0xffffffffffffffaa, 3, sdata)
    TEST_ST(326, lh, sh, 0xffffffffffffaa00, 0xaa00, 6, sdata)
    TEST_ST(327, lhu, sh, 0xaa00, 0xaa00, 6, sdata)
    TEST_ST(328, lw, sw, 0xffffffffaa00aa00, 0xaa00aa00, 12, sdata)
    TEST_ST(329, lwu, sw, 0xaa00aa00, 0xaa00aa00, 12, sdata)
    TEST_ST(330, ld, sd, 0xaa00aa00aa00aa00, 0xaa00aa00aa00aa00, 16, sdata)
    TEST_ST(331, ld, sd, 0x5a5a5a5a5a5a5a5a, 0x5a5a5a5a5a5a5a5a, -8, sdata + 32)
    SET_TEST(332)                                                            /* store with negative offset */
    la a1, sdata + 16
    li a2, 0x77
    sb a2, -1(a1)
    lbu a0, -1(a1)
    CHECK(a0, 0x77)
    ld a0, -8(a1)
    CHECK(a0, 0x7700aa0090abcdef)
    SET_TEST(333)                                                            /* store x0 */
    sd x0, -8(a1)
    ld a0, -8(a1)
    CHECK(a0, 0)

    /* ---- x0 writes are ignored for every format --------------------------------------------- */
    SET_TEST(340)
    li a1, 123
    addi x0, a1, 1
    slli x0, a1, 3
    lui x0, 0x1
    auipc x0, 0
    la a2, ldata
    lw x0, 0(a2)
    lbu x0, 0(a2)
    jal x0, 1f
1:  sub x0, a1, x0
    addw x0, a1, a1
    CHECK_REG(x0, zero)
    li a0, 0
    add a0, x0, x0
    CHECK(a0, 0)

    /* ---- fence / fence.tso / pause / nop / ecall-free hints ------------------------------------ */
    SET_TEST(350)
    la a1, sdata
    li a2, 99
    sd a2, 0(a1)
    fence
    fence rw, rw
    fence w, r
    fence iorw, iorw
    fence.tso
    ld a0, 0(a1)
    CHECK(a0, 99)
    SET_TEST(351)
    nop
    addi x0, x0, 0
    .word 0x0100000f                 /* pause (fence w,0) is a hint: behaves as a fence */
    CHECK(a0, 99)

    /* ---- all registers are usable ------------------------------------------------------------ */
    SET_TEST(360)
    li x1, 1
    li x2, 2
    li x4, 4
    li x5, 5
    li x6, 6
    li x7, 7
    li x8, 8
    li x9, 9
    li x10, 10
    li x11, 11
    li x12, 12
    li x13, 13
    li x14, 14
    li x15, 15
    li x16, 16
    li x17, 17
    li x18, 18
    li x19, 19
    li x20, 20
    li x21, 21
    li x22, 22
    li x23, 23
    li x24, 24
    li x25, 25
    li x26, 26
    li x27, 27
    li x28, 28
    li x29, 29
    li x30, 30
    add x30, x30, x1
    add x30, x30, x2
    add x30, x30, x4
    add x30, x30, x5
    add x30, x30, x6
    add x30, x30, x7
    add x30, x30, x8
    add x30, x30, x9
    add x30, x30, x10
    add x30, x30, x11
    add x30, x30, x12
    add x30, x30, x13
    add x30, x30, x14
    add x30, x30, x15
    add x30, x30, x16
    add x30, x30, x17
    add x30, x30, x18
    add x30, x30, x19
    add x30, x30, x20
    add x30, x30, x21
    add x30, x30, x22
    add x30, x30, x23
    add x30, x30, x24
    add x30, x30, x25
    add x30, x30, x26
    add x30, x30, x27
    add x30, x30, x28
    add x30, x30, x29
    CHECK(x30, 462)      /* 30 + (1+2+...+29) - 3 = 30 + 435 - 3 */
    la sp, _stack_top

    PASS

    .data
    .align 3
ldata:
    .dword 0x8011223355667788
    .dword 0x00000000ffff007f
    .skip 2048
    .align 3
sdata:
    .skip 64
