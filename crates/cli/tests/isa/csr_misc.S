/* csr_misc.S: identification CSRs, misa, medeleg[11], menvcfg/senvcfg, mtvec/stvec modes,
   mie/mip writability, unknown CSRs and privilege checks on CSR numbers. */
#include "macros.S"

#define TEST_ILLEGAL(id, code...) TEST_TRAP(id, CAUSE_ILLEGAL_INSTRUCTION, code)
/* from S (or U), `code` must raise an illegal-instruction trap handled in M */
#define TEST_ILLEGAL_IN(id, mode, code...) \
    SET_TEST(id); EXPECT_TRAP_TO_M(CAUSE_ILLEGAL_INSTRUCTION, 9993f); ENTER_MODE(mode, 9992f); \
    9992: code; j fail; 9993: CHECK_VAR(trap_cause, CAUSE_ILLEGAL_INSTRUCTION)

main:
    /* ---- misa --------------------------------------------------------------------------------------- */
    SET_TEST(1)
    csrr a0, misa
    srli a1, a0, 62
    CHECK(a1, 2)                          /* MXL = 64 */
    SET_TEST(2)
    li t0, (1 << ('I' - 'A')) | (1 << ('M' - 'A')) | (1 << ('A' - 'A')) | (1 << ('F' - 'A')) | (1 << ('D' - 'A')) | (1 << ('C' - 'A')) | (1 << ('S' - 'A')) | (1 << ('U' - 'A'))
    and a1, a0, t0
    CHECK_REG(a1, t0)
    SET_TEST(3)                           /* E is not set with I; bits 26..61 are zero */
    li t0, (1 << ('E' - 'A'))
    and a1, a0, t0
    CHECK(a1, 0)
    li t0, 0x3ffffffffc000000
    and a1, a0, t0
    CHECK(a1, 0)
    /* ---- ids ------------------------------------------------------------------------------------------ */
    SET_TEST(10)
    csrr a0, mhartid
    CHECK(a0, 0)
    LOAD_VAR(a1, boot_hartid)             /* a0 at entry */
    CHECK(a1, 0)
    SET_TEST(11)
    csrr a0, mvendorid
    csrr a0, marchid
    csrr a0, mimpid
    SET_TEST(12)                          /* the device tree pointer from the boot ROM is in DRAM */
    LOAD_VAR(a0, boot_fdt)
    li a1, 0x80000000
    bltu a0, a1, fail_12
    lwu a2, 0(a0)                         /* FDT magic 0xd00dfeed, big-endian */
    CHECK(a2, 0xedfe0dd0)
    j 1f
fail_12: j fail
1:
    /* ---- medeleg ----------------------------------------------------------------------------------- */
#ifdef MIMIC_STRICT
    SET_TEST(20)                          /* medeleg[11] (ecall from M) is read-only zero (QEMU 10 lets it be set) */
    li t0, 1 << 11
    csrs medeleg, t0
    csrr a0, medeleg
    and a0, a0, t0
    CHECK(a0, 0)
    csrw medeleg, zero
#endif
    SET_TEST(21)
    li t0, (1 << 0) | (1 << 3) | (1 << 8) | (1 << 12) | (1 << 13) | (1 << 15)
    csrw medeleg, t0
    csrr a0, medeleg
    CHECK_REG(a0, t0)
    csrw medeleg, zero
    /* ---- menvcfg / senvcfg ----------------------------------------------------------------------------- */
    csrr s2, menvcfg
    SET_TEST(30)                          /* FIOM (bit 0) and STCE (bit 63) round trip */
    li t0, 0x8000000000000001
    csrs menvcfg, t0
    csrr a0, menvcfg
    and a1, a0, t0
    CHECK_REG(a1, t0)
    csrc menvcfg, t0
    csrr a0, menvcfg
    and a1, a0, t0
    CHECK(a1, 0)
    csrw menvcfg, s2
    SET_TEST(31)
    csrsi senvcfg, 1
    csrr a0, senvcfg
    andi a0, a0, 1
    CHECK(a0, 1)
    csrci senvcfg, 1
    csrr a0, senvcfg
    andi a0, a0, 1
    CHECK(a0, 0)
    /* ---- trap vectors ------------------------------------------------------------------------------------ */
    SET_TEST(40)                          /* mtvec: direct and vectored modes hold an aligned base */
    csrr s2, mtvec
    la t0, vec_table
    ori t1, t0, 1
    csrw mtvec, t1
    csrr a0, mtvec
    CHECK_REG(a0, t1)
    csrw mtvec, s2
    csrr a0, mtvec
    CHECK_REG(a0, s2)
    SET_TEST(41)
    csrw stvec, t1
    csrr a0, stvec
    CHECK_REG(a0, t1)
    csrw stvec, t0
    csrr a0, stvec
    CHECK_REG(a0, t0)
    SET_TEST(42)                          /* vectored mtvec: synchronous traps still use the base */
    csrw mtvec, t1
    EXPECT_TRAP(CAUSE_MACHINE_ECALL, 1f)
    ecall
    j fail
1:  csrw mtvec, s2
    CHECK_VAR(trap_cause, CAUSE_MACHINE_ECALL)
    /* ---- mie / mip ----------------------------------------------------------------------------------------- */
    SET_TEST(50)
    li t0, MIP_SSIP | MIP_MSIP | MIP_STIP | MIP_MTIP | MIP_SEIP | MIP_MEIP
    csrw mie, t0
    csrr a0, mie
    and a0, a0, t0
    CHECK_REG(a0, t0)
    csrw mie, zero
    csrr a0, mie
    CHECK(a0, 0)
    SET_TEST(51)                          /* mip.MTIP / MSIP / MEIP are read-only in mip */
    csrr s3, mip
    li t0, MIP_MTIP | MIP_MSIP | MIP_MEIP
    csrs mip, t0
    csrr a0, mip
    and a0, a0, t0
    and a1, s3, t0
    CHECK_REG(a0, a1)
    SET_TEST(52)                          /* mip.SSIP is writable from M */
    csrsi mip, MIP_SSIP
    csrr a0, mip
    andi a0, a0, MIP_SSIP
    CHECK(a0, MIP_SSIP)
    csrci mip, MIP_SSIP
    csrr a0, mip
    andi a0, a0, MIP_SSIP
    CHECK(a0, 0)
    /* ---- non-existent CSRs ----------------------------------------------------------------------------------- */
    TEST_ILLEGAL(60, csrr a0, 0x7ff)
    TEST_ILLEGAL(61, csrr a0, 0x0ff)
    TEST_ILLEGAL(62, csrw 0x1ff, a0)
    TEST_ILLEGAL(63, csrr a0, 0xfff)
    TEST_ILLEGAL(64, csrr a0, 0x5ff)
    /* ---- privilege level encoded in the CSR number -------------------------------------------------------------- */
    TEST_ILLEGAL_IN(70, PRV_S, csrr a0, mstatus)
    TEST_ILLEGAL_IN(71, PRV_S, csrr a0, mscratch)
    TEST_ILLEGAL_IN(72, PRV_S, csrr a0, mhartid)
    TEST_ILLEGAL_IN(73, PRV_S, csrr a0, misa)
    TEST_ILLEGAL_IN(74, PRV_S, csrw mtvec, zero)
    TEST_ILLEGAL_IN(75, PRV_S, csrr a0, menvcfg)
    TEST_ILLEGAL_IN(76, PRV_U, csrr a0, sstatus)
    TEST_ILLEGAL_IN(77, PRV_U, csrr a0, sscratch)
    TEST_ILLEGAL_IN(78, PRV_U, csrr a0, mstatus)
    TEST_ILLEGAL_IN(79, PRV_U, csrr a0, satp)
    TEST_ILLEGAL_IN(80, PRV_U, csrr a0, senvcfg)
    SET_TEST(81)                          /* S may use its own CSRs */
    EXPECT_TRAP_TO_M(CAUSE_SUPERVISOR_ECALL, 1f)
    ENTER_MODE(PRV_S, 2f)
2:  csrr a0, sstatus
    li a1, 0x55
    csrw sscratch, a1
    csrr a2, sscratch
    csrr a0, senvcfg
    csrr a0, sie
    csrr a0, sip
    csrr a0, stvec
    ecall
1:  CHECK(a2, 0x55)
    la t0, s_save_area
    csrw sscratch, t0
    PASS

    .align 8
vec_table:                                /* synchronous traps go to BASE + 0 */
    j m_trap_vector
