/* zicond.S: czero.eqz / czero.nez (encoded with .insn: binutils 2.40 predates Zicond).
   czero.eqz rd, rs1, rs2: rd = (rs2 == 0) ? 0 : rs1
   czero.nez rd, rs1, rs2: rd = (rs2 != 0) ? 0 : rs1 */
#include "macros.S"

#define TEST_CZ(id, op, exp, a, b) TEST_CASE(id, a0, exp, li a1, a; li a2, b; op(a0, a1, a2))

main:
    TEST_CZ(1, CZERO_EQZ, 0, 0x1234, 0)
    TEST_CZ(2, CZERO_EQZ, 0x1234, 0x1234, 1)
    TEST_CZ(3, CZERO_EQZ, -1, -1, 0x8000000000000000)      /* only bit 63 set: nonzero */
    TEST_CZ(4, CZERO_EQZ, -1, -1, 0x100000000)             /* full 64-bit test, not 32 */
    TEST_CZ(5, CZERO_EQZ, 0x8000000000000000, 0x8000000000000000, -1)
    TEST_CZ(6, CZERO_EQZ, 0, -1, 0)
    TEST_CZ(7, CZERO_EQZ, 0, 0, 5)
    TEST_CZ(10, CZERO_NEZ, 0x1234, 0x1234, 0)
    TEST_CZ(11, CZERO_NEZ, 0, 0x1234, 1)
    TEST_CZ(12, CZERO_NEZ, 0, -1, 0x8000000000000000)
    TEST_CZ(13, CZERO_NEZ, 0, -1, 0x100000000)
    TEST_CZ(14, CZERO_NEZ, -1, -1, 0)
    TEST_CZ(15, CZERO_NEZ, 0x8000000000000000, 0x8000000000000000, 0)
    TEST_CZ(16, CZERO_NEZ, 0, 0, 0)
    /* register aliasing */
    TEST_CASE(20, a1, 0x55, li a1, 0x55; CZERO_EQZ(a1, a1, a1))   /* rs2 = rs1 != 0 -> rs1 */
    TEST_CASE(21, a1, 0, li a1, 0x55; CZERO_NEZ(a1, a1, a1))      /* rs2 != 0 -> 0 */
    TEST_CASE(22, a2, 0, li a1, 7; li a2, 0; CZERO_EQZ(a2, a1, a2))
    TEST_CASE(23, a2, 7, li a1, 7; li a2, 0; CZERO_NEZ(a2, a1, a2))
    TEST_CASE(24, a0, 0, li a1, 7; CZERO_EQZ(a0, a1, x0))          /* rs2 = x0 */
    TEST_CASE(25, a0, 7, li a1, 7; CZERO_NEZ(a0, a1, x0))
    TEST_CASE(26, a0, 0, li a2, 1; CZERO_NEZ(a0, x0, a2))          /* rs1 = x0 */
    TEST_CASE(27, x0, 0, li a1, 7; li a2, 1; CZERO_EQZ(x0, a1, a2)) /* rd = x0 */
    /* the idiom: a = cond ? b : c  ==  czero.eqz(b, cond) | czero.nez(c, cond) */
    SET_TEST(30)
    li a1, 111
    li a2, 222
    li a3, 1
    CZERO_EQZ(a4, a1, a3)
    CZERO_NEZ(a5, a2, a3)
    or a0, a4, a5
    CHECK(a0, 111)
    SET_TEST(31)
    li a3, 0
    CZERO_EQZ(a4, a1, a3)
    CZERO_NEZ(a5, a2, a3)
    or a0, a4, a5
    CHECK(a0, 222)
    PASS
