/* rv64c.S: every RV64C (and RV64DC) instruction, written with explicit c. mnemonics,
   with an assembly-time check that each one really is 2 bytes. */
#include "macros.S"

/* assert that the instructions between labels 8 and 9 occupy exactly n bytes */
#define ASSERT_SIZE(n) .if (9b - 8b) != (n); .error "not compressed"; .endif

main:
    li t0, MSTATUS_FS_INITIAL
    csrs mstatus, t0
    .option push
    .option rvc
    .option norelax

    /* ---- c.li / c.lui / c.addi / c.addiw / c.addi16sp / c.addi4spn --------------------------- */
    SET_TEST(1)
8:  c.li a0, 31
9:  ASSERT_SIZE(2)
    CHECK(a0, 31)
    SET_TEST(2)
    c.li a0, -32
    CHECK(a0, -32)
    SET_TEST(3)
    c.li s1, 0
    CHECK(s1, 0)
    SET_TEST(4)
8:  c.lui a0, 1
9:  ASSERT_SIZE(2)
    CHECK(a0, 0x1000)
    SET_TEST(5)
    c.lui a0, 31
    CHECK(a0, 0x1f000)
    SET_TEST(6)
    c.lui a0, 0xfffff                     /* nzimm = -1: sign-extended */
    CHECK(a0, 0xfffffffffffff000)
    SET_TEST(7)
    c.lui a0, 0xfffe0                     /* nzimm = -32 */
    CHECK(a0, 0xfffffffffffe0000)
    SET_TEST(8)
    li a0, 10
8:  c.addi a0, -11
9:  ASSERT_SIZE(2)
    CHECK(a0, -1)
    SET_TEST(9)
    li a0, 0x7fffffffffffffff
    c.addi a0, 1                          /* 64-bit wrap */
    CHECK(a0, 0x8000000000000000)
    SET_TEST(10)
    li a0, 5
    c.addi a0, 31
    c.addi a0, -32
    CHECK(a0, 4)
    SET_TEST(11)
    li a0, 0x7fffffff
8:  c.addiw a0, 1                         /* 32-bit add, sign-extended */
9:  ASSERT_SIZE(2)
    CHECK(a0, 0xffffffff80000000)
    SET_TEST(12)
    li a0, 0x12345678ffffffff
    c.addiw a0, 0                         /* sext.w */
    CHECK(a0, -1)
    SET_TEST(13)
    li a0, 0x100000000
    c.addiw a0, -1
    CHECK(a0, -1)
    SET_TEST(14)
    la sp, cbuf + 512
8:  c.addi16sp sp, -512
9:  ASSERT_SIZE(2)
    la a1, cbuf
    CHECK_REG(sp, a1)
    SET_TEST(15)
    c.addi16sp sp, 496
    c.addi16sp sp, 16
    la a1, cbuf + 512
    CHECK_REG(sp, a1)
    SET_TEST(16)
    la sp, cbuf
8:  c.addi4spn a0, sp, 4
9:  ASSERT_SIZE(2)
    la a1, cbuf + 4
    CHECK_REG(a0, a1)
    SET_TEST(17)
    c.addi4spn s0, sp, 1020
    la a1, cbuf + 1020
    CHECK_REG(s0, a1)

    /* ---- c.mv / c.add / c.sub / c.xor / c.or / c.and / c.addw / c.subw ----------------------- */
    SET_TEST(20)
    li a1, 0x123456789
8:  c.mv a0, a1
9:  ASSERT_SIZE(2)
    CHECK(a0, 0x123456789)
    SET_TEST(21)
    li t3, -7
    c.mv t4, t3                          /* any register */
    CHECK(t4, -7)
    SET_TEST(22)
    li a0, 0x7fffffffffffffff
    li t3, 1
8:  c.add a0, t3
9:  ASSERT_SIZE(2)
    CHECK(a0, 0x8000000000000000)
    SET_TEST(23)
    li a0, 0
    li a1, 1
8:  c.sub a0, a1
9:  ASSERT_SIZE(2)
    CHECK(a0, -1)
    SET_TEST(24)
    li a0, 0x8000000000000000
    li a1, 1
    c.sub a0, a1
    CHECK(a0, 0x7fffffffffffffff)
    SET_TEST(25)
    li a0, 0xff00ff00ff00ff00
    li a1, 0x0f0f0f0f0f0f0f0f
8:  c.xor a0, a1
9:  ASSERT_SIZE(2)
    CHECK(a0, 0xf00ff00ff00ff00f)
    SET_TEST(26)
    li a0, 0xff00ff00ff00ff00
8:  c.or a0, a1
9:  ASSERT_SIZE(2)
    CHECK(a0, 0xff0fff0fff0fff0f)
    SET_TEST(27)
    li a0, 0xff00ff00ff00ff00
8:  c.and a0, a1
9:  ASSERT_SIZE(2)
    CHECK(a0, 0x0f000f000f000f00)
    SET_TEST(28)
    li a0, 0x7fffffff
    li a1, 1
8:  c.addw a0, a1
9:  ASSERT_SIZE(2)
    CHECK(a0, 0xffffffff80000000)
    SET_TEST(29)
    li a0, 0x1234567800000003
    li a1, 0xabcdef0000000004
    c.addw a0, a1
    CHECK(a0, 7)
    SET_TEST(30)
    li a0, 0x80000000
    li a1, 1
8:  c.subw a0, a1
9:  ASSERT_SIZE(2)
    CHECK(a0, 0x7fffffff)
    SET_TEST(31)
    li a0, 0
    li a1, 1
    c.subw a0, a1
    CHECK(a0, -1)

    /* ---- c.andi / c.srli / c.srai / c.slli ----------------------------------------------------- */
    SET_TEST(40)
    li a0, -1
8:  c.andi a0, 31
9:  ASSERT_SIZE(2)
    CHECK(a0, 31)
    SET_TEST(41)
    li a0, 0x123456789abcdef0
    c.andi a0, -32                        /* imm sign-extended */
    CHECK(a0, 0x123456789abcdee0)
    SET_TEST(42)
    li a0, 0x8000000000000000
8:  c.srli a0, 63
9:  ASSERT_SIZE(2)
    CHECK(a0, 1)
    SET_TEST(43)
    li a0, 0x8000000000000000
    c.srli a0, 32
    CHECK(a0, 0x80000000)
    SET_TEST(44)
    li a0, -2
    c.srli a0, 1
    CHECK(a0, 0x7fffffffffffffff)
    SET_TEST(45)
    li a0, 0x8000000000000000
8:  c.srai a0, 63
9:  ASSERT_SIZE(2)
    CHECK(a0, -1)
    SET_TEST(46)
    li a0, 0x8000000000000000
    c.srai a0, 32
    CHECK(a0, 0xffffffff80000000)
    SET_TEST(47)
    li a0, 0x7ffffffffffffffe
    c.srai a0, 1
    CHECK(a0, 0x3fffffffffffffff)
    SET_TEST(48)
    li t3, 1
8:  c.slli t3, 63
9:  ASSERT_SIZE(2)
    CHECK(t3, 0x8000000000000000)
    SET_TEST(49)
    li a0, 0xffffffff
    c.slli a0, 32
    CHECK(a0, 0xffffffff00000000)
    SET_TEST(50)
    li a0, 3
    c.slli a0, 1
    CHECK(a0, 6)

    /* ---- loads / stores (register-based) ------------------------------------------------------ */
    SET_TEST(60)
    la a1, cdata
8:  c.lw a0, 0(a1)
9:  ASSERT_SIZE(2)
    CHECK(a0, 0xffffffff80000001)        /* sign-extended */
    SET_TEST(61)
    c.lw a0, 4(a1)
    CHECK(a0, 0x7ffffffe)
    SET_TEST(62)
8:  c.ld a0, 0(a1)
9:  ASSERT_SIZE(2)
    CHECK(a0, 0x7ffffffe80000001)
    SET_TEST(63)
    c.ld a0, 248(a1)                      /* max offset */
    CHECK(a0, 0x8888888889abcdef)
    SET_TEST(64)
    c.lw a0, 124(a1)                      /* max offset */
    CHECK(a0, 0xffffffffcafef00d)
    SET_TEST(65)
    la a1, cstore
    li a2, 0x1122334455667788
8:  c.sd a2, 8(a1)
9:  ASSERT_SIZE(2)
    ld a0, 8(a1)
    CHECK(a0, 0x1122334455667788)
    SET_TEST(66)
    li a2, 0xdeadbeef
8:  c.sw a2, 12(a1)
9:  ASSERT_SIZE(2)
    ld a0, 8(a1)
    CHECK(a0, 0xdeadbeef55667788)
    SET_TEST(67)
    c.sw a2, 124(a1)
    lwu a0, 124(a1)
    CHECK(a0, 0xdeadbeef)
    SET_TEST(68)
    c.sd a2, 248(a1)
    ld a0, 248(a1)
    CHECK(a0, 0xdeadbeef)
    /* FP loads/stores */
    SET_TEST(69)
    la a1, cdata
8:  c.fld fa0, 8(a1)
9:  ASSERT_SIZE(2)
    fmv.x.d a0, fa0
    CHECK(a0, 0x3ff8000000000000)
    SET_TEST(70)
    la a1, cstore
8:  c.fsd fa0, 16(a1)
9:  ASSERT_SIZE(2)
    ld a0, 16(a1)
    CHECK(a0, 0x3ff8000000000000)
    SET_TEST(71)
    la a1, cdata
    c.fld fa1, 248(a1)
    fmv.x.d a0, fa1
    CHECK(a0, 0x8888888889abcdef)

    /* ---- stack-pointer-based loads / stores ---------------------------------------------------- */
    la sp, cdata
    SET_TEST(80)
8:  c.lwsp a0, 0(sp)
9:  ASSERT_SIZE(2)
    CHECK(a0, 0xffffffff80000001)
    SET_TEST(81)
    c.lwsp t3, 124(sp)
    CHECK(t3, 0xffffffffcafef00d)
    SET_TEST(82)
8:  c.ldsp a0, 0(sp)
9:  ASSERT_SIZE(2)
    CHECK(a0, 0x7ffffffe80000001)
    SET_TEST(83)
    c.ldsp t4, 248(sp)
    CHECK(t4, 0x8888888889abcdef)
    SET_TEST(84)
    c.ldsp a0, 504(sp)                    /* max offset */
    CHECK(a0, 0x5555aaaa5555aaaa)
    SET_TEST(85)
    c.lwsp a0, 252(sp)                    /* max offset */
    CHECK(a0, 0xffffffff88888888)
8:  c.fldsp fa2, 8(sp)
9:  ASSERT_SIZE(2)
    SET_TEST(86)
    fmv.x.d a0, fa2
    CHECK(a0, 0x3ff8000000000000)
    la sp, cstore
    SET_TEST(87)
    li t3, 0x0102030405060708
8:  c.sdsp t3, 0(sp)
9:  ASSERT_SIZE(2)
    ld a0, 0(sp)
    CHECK(a0, 0x0102030405060708)
    SET_TEST(88)
    li t3, 0xa5a5a5a5
8:  c.swsp t3, 4(sp)
9:  ASSERT_SIZE(2)
    ld a0, 0(sp)
    CHECK(a0, 0xa5a5a5a505060708)
    SET_TEST(89)
    c.sdsp t3, 504(sp)
    ld a0, 504(sp)
    CHECK(a0, 0xa5a5a5a5)
    SET_TEST(90)
    c.swsp t3, 252(sp)
    lwu a0, 252(sp)
    CHECK(a0, 0xa5a5a5a5)
    SET_TEST(91)
8:  c.fsdsp fa2, 32(sp)
9:  ASSERT_SIZE(2)
    ld a0, 32(sp)
    CHECK(a0, 0x3ff8000000000000)
    SET_TEST(92)
    c.fsdsp fa2, 504(sp)
    ld a0, 504(sp)
    CHECK(a0, 0x3ff8000000000000)
    c.fldsp fa3, 504(sp)
    fmv.x.d a0, fa3
    CHECK(a0, 0x3ff8000000000000)
    la sp, _stack_top

    /* ---- control transfer ---------------------------------------------------------------------- */
    SET_TEST(100)
8:  c.j 1f
9:
    j fail
1:  SET_TEST(101)
    c.j 3f                                /* forward then backward */
2:  c.j 4f
3:  c.j 2b
    j fail
4:  SET_TEST(102)
    li a0, 0
8:  c.beqz a0, 1f
9:
    j fail
1:  SET_TEST(103)
    li a0, 0x100000000                    /* 64-bit compare: nonzero */
    c.beqz a0, 2f
    j 1f
2:  j fail
1:  SET_TEST(104)
    li a0, 0x8000000000000000
8:  c.bnez a0, 1f
9:
    j fail
1:  SET_TEST(105)
    li a0, 0
    c.bnez a0, 2f
    j 1f
2:  j fail
1:  SET_TEST(106)                          /* backward c.bnez loop */
    li s0, 4
    li a0, 0
1:  c.addi a0, 2
    c.addi s0, -1
    c.bnez s0, 1b
    CHECK(a0, 8)
    SET_TEST(107)
    la t3, 1f
8:  c.jr t3
9:  ASSERT_SIZE(2)
    j fail
1:  SET_TEST(108)                          /* c.jalr links pc + 2 */
    la t3, 1f
    li ra, 0
8:  c.jalr t3
9:  ASSERT_SIZE(2)
2:  j fail
1:  la a1, 2b
    CHECK_REG(ra, a1)
    SET_TEST(109)                          /* c.jalr ra, ra: target is the old ra */
    la ra, 1f
    c.jalr ra
3:  j fail
1:  la a1, 3b
    CHECK_REG(ra, a1)
    SET_TEST(110)                          /* c.jr to a 2-byte aligned (not 4-aligned) target */
    la t3, 1f
    c.jr t3
    j fail
    .balign 4
    c.nop
1:  c.nop
    SET_TEST(111)
    la a1, 1b
    andi a1, a1, 3
    CHECK(a1, 2)

    /* ---- c.nop, c.ebreak, illegal all-zeros --------------------------------------------------- */
    SET_TEST(120)
    li a0, 7
8:  c.nop
9:  ASSERT_SIZE(2)
    CHECK(a0, 7)
    SET_TEST(121)
    EXPECT_TRAP(CAUSE_BREAKPOINT, 1f)
2:
8:  c.ebreak
9:  ASSERT_SIZE(2)
    j fail
1:  CHECK_VAR(trap_cause, CAUSE_BREAKPOINT)
    la a1, 2b
    CHECK_VAR_REG(trap_epc, a1)
    SET_TEST(122)                          /* the all-zeros 16-bit word is a defined illegal instruction */
    EXPECT_TRAP(CAUSE_ILLEGAL_INSTRUCTION, 1f)
2:  .hword 0
    j fail
1:  CHECK_VAR(trap_cause, CAUSE_ILLEGAL_INSTRUCTION)
    la a1, 2b
    CHECK_VAR_REG(trap_epc, a1)
    SET_TEST(123)                          /* c.addi4spn with nzuimm = 0 is reserved (illegal) */
    EXPECT_TRAP(CAUSE_ILLEGAL_INSTRUCTION, 1f)
    .hword 0x0004
    j fail
1:  SET_TEST(124)                          /* c.addi16sp with nzimm = 0 is reserved */
    EXPECT_TRAP(CAUSE_ILLEGAL_INSTRUCTION, 1f)
    .hword 0x6101
    j fail
1:  SET_TEST(125)                          /* c.lwsp with rd = x0 is reserved */
    EXPECT_TRAP(CAUSE_ILLEGAL_INSTRUCTION, 1f)
    .hword 0x4002
    j fail
1:  SET_TEST(126)                          /* c.jr with rs1 = x0 is reserved */
    EXPECT_TRAP(CAUSE_ILLEGAL_INSTRUCTION, 1f)
    .hword 0x8002
    j fail
1:  SET_TEST(127)                          /* c.lui with nzimm = 0 is reserved */
    EXPECT_TRAP(CAUSE_ILLEGAL_INSTRUCTION, 1f)
    .hword 0x6501                         /* c.lui a0, 0 */
    j fail
1:
    /* mixed 16/32-bit stream keeps pc correct */
    SET_TEST(130)
    li a0, 0
    c.addi a0, 1
    addi a0, a0, 2
    c.addi a0, 3
    addi a0, a0, 4
    c.slli a0, 1
    CHECK(a0, 20)
    .option pop
    PASS

    .data
    .align 3
cdata:
    .dword 0x7ffffffe80000001
    .dword 0x3ff8000000000000             /* 1.5 */
    .skip 124 - (. - cdata)
    .word 0xcafef00d                      /* offset 124 */
    .skip 248 - (. - cdata)
    .dword 0x8888888889abcdef             /* offset 248 */
    .word 0x12345678                      /* offset 256 */
    .skip 504 - (. - cdata)
    .dword 0x5555aaaa5555aaaa             /* offset 504 */
    .align 3
cstore: .skip 512
    .align 4
cbuf: .skip 1024
