/* zba.S: every Zba instruction (address generation), with edge values. */
#include "macros.S"

main:
    TEST_RR(1, add.uw, 0x00000000ffffffff, 0xffffffffffffffff, 0)      /* zero-extends rs1 */
    TEST_RR(2, add.uw, 0x0000000080000001, 0x1234567880000000, 1)
    TEST_RR(3, add.uw, 0, 0x100000000, 0)
    TEST_RR(4, add.uw, 0x00000000fffffffe, 0xffffffff, 0xffffffffffffffff)  /* rs2 full 64 bits */
    TEST_RR(5, add.uw, 0x1000000000000000, 0, 0x1000000000000000)
    TEST_CASE(6, a0, 0x00000000ffffffff, li a1, -1; add.uw a0, a1, x0)   /* zext.w */
    TEST_RR(10, sh1add, 5, 2, 1)
    TEST_RR(11, sh1add, 0xfffffffffffffffe, 0xffffffffffffffff, 0)
    TEST_RR(12, sh1add, 0x0000000000000000, 0x8000000000000000, 0)        /* bit 63 shifted out */
    TEST_RR(13, sh1add, 0x7fffffffffffffff, 0xbfffffffffffffff, 1)
    TEST_RR(14, sh2add, 9, 2, 1)
    TEST_RR(15, sh2add, 0xfffffffffffffffc, -1, 0)
    TEST_RR(16, sh2add, 0, 0x4000000000000000, 0)
    TEST_RR(17, sh2add, 0x0000000400000003, 0x100000000, 3)
    TEST_RR(18, sh3add, 17, 2, 1)
    TEST_RR(19, sh3add, 0xfffffffffffffff8, -1, 0)
    TEST_RR(20, sh3add, 0, 0x2000000000000000, 0)
    TEST_RR(21, sh3add, 0xfffffffffffffff7, -1, -1)
    TEST_RR(30, sh1add.uw, 0x00000001fffffffe, 0xffffffffffffffff, 0)
    TEST_RR(31, sh1add.uw, 0x0000000100000001, 0x1234567880000000, 1)
    TEST_RR(32, sh1add.uw, 5, 0xffffffff00000002, 1)
    TEST_RR(33, sh1add.uw, 0x00000001fffffffd, 0xffffffff, -1)
    TEST_RR(34, sh2add.uw, 0x00000003fffffffc, 0xffffffffffffffff, 0)
    TEST_RR(35, sh2add.uw, 0x0000000200000001, 0x1234567880000000, 1)
    TEST_RR(36, sh2add.uw, 9, 0xffffffff00000002, 1)
    TEST_RR(37, sh3add.uw, 0x00000007fffffff8, 0xffffffffffffffff, 0)
    TEST_RR(38, sh3add.uw, 0x0000000400000001, 0x1234567880000000, 1)
    TEST_RR(39, sh3add.uw, 17, 0xffffffff00000002, 1)
    TEST_RR(40, sh3add.uw, 0x8000000000000007, 0, 0x8000000000000007)
    TEST_IMM(50, slli.uw, 0x00000000ffffffff, 0xffffffffffffffff, 0)
    TEST_IMM(51, slli.uw, 0x00000001fffffffe, 0xffffffffffffffff, 1)
    TEST_IMM(52, slli.uw, 0x8000000000000000, 0x0000000080000000, 32)
    TEST_IMM(53, slli.uw, 0x8000000000000000, 0xffffffff00000001, 63)
    TEST_IMM(54, slli.uw, 0x7fffffff80000000, 0x12345678ffffffff, 31)
    TEST_IMM(55, slli.uw, 0, 0xffffffff00000000, 5)
    TEST_RR_SRC1_EQ_DEST(60, sh2add, 0x13, 4, 3)
    TEST_RR_SRC12_EQ_DEST(61, sh1add.uw, 0x2fffffffd, 0xffffffff)
    TEST_RR_ZERODEST(62, sh3add, 1, 2)
    PASS
