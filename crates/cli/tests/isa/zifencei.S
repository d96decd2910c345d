/* zifencei.S: self-modifying code made visible with fence.i: patched functions, an instruction
   patched later in the same basic block, code copied to a data buffer, 16-bit patches. */
#include "macros.S"

#define ADDI_A0_X0(imm) (((imm) << 20) | (10 << 7) | 0x13)      /* addi a0, x0, imm */
#define C_LI_A0(imm)    (0x4000 | ((((imm) >> 5) & 1) << 12) | (10 << 7) | (((imm) & 31) << 2) | 1)

main:
    SET_TEST(1)
    call patch_fn
    CHECK(a0, 1)
    SET_TEST(2)
    la a1, patch_fn
    li a2, ADDI_A0_X0(2)
    sw a2, 0(a1)
    fence.i
    call patch_fn
    CHECK(a0, 2)
    SET_TEST(3)                            /* repeatedly patch and run the same code */
    li s2, 3
1:  la a1, patch_fn
    slli a2, s2, 20
    li t0, ADDI_A0_X0(0)
    or a2, a2, t0
    sw a2, 0(a1)
    fence.i
    call patch_fn
    CHECK_REG(a0, s2)
    addi s2, s2, 1
    li t0, 200
    blt s2, t0, 1b
    SET_TEST(4)                            /* patch a later instruction of the running block */
    la a1, 2f
    li a2, ADDI_A0_X0(7)
    sw a2, 0(a1)
    fence.i
    .option push
    .option norvc
2:  addi a0, x0, 3
    .option pop
    CHECK(a0, 7)
    SET_TEST(5)                            /* the same location, patched again (old code cached?) */
    li s2, 0
3:  la a1, 4f
    li a2, ADDI_A0_X0(0)
    slli t0, s2, 20
    or a2, a2, t0
    sw a2, 0(a1)
    fence.i
    .option push
    .option norvc
4:  addi a0, x0, 1000
    .option pop
    CHECK_REG(a0, s2)
    addi s2, s2, 1
    li t0, 10
    blt s2, t0, 3b
    SET_TEST(6)                            /* copy a routine into a data buffer and run it */
    la a1, tmpl_start
    la a2, code_buf
    la a3, tmpl_end
5:  lw t0, 0(a1)
    sw t0, 0(a2)
    addi a1, a1, 4
    addi a2, a2, 4
    bltu a1, a3, 5b
    fence.i
    li a0, 20
    la t1, code_buf
    jalr ra, t1
    CHECK(a0, 62)                          /* (20 + 1) * 3 - 1 */
    SET_TEST(7)                            /* modify the copy (the multiplier) and run again */
    la a2, code_buf
    li t0, (5 << 20) | (11 << 7) | 0x13    /* addi a1, x0, 5 */
    sw t0, 4(a2)
    fence.i
    li a0, 20
    la t1, code_buf
    jalr ra, t1
    CHECK(a0, 104)                         /* (20 + 1) * 5 - 1 */
    SET_TEST(8)                            /* 16-bit patch of a compressed instruction */
    call cpatch_fn
    CHECK(a0, 5)
    la a1, cpatch_fn
    li a2, C_LI_A0(9)
    sh a2, 0(a1)
    fence.i
    call cpatch_fn
    CHECK(a0, 9)
    SET_TEST(9)                            /* replace a 32-bit instruction by two 16-bit ones */
    la a1, patch_fn
    li a2, C_LI_A0(-3)
    sh a2, 0(a1)
    li a2, 0x0001                          /* c.nop */
    sh a2, 2(a1)
    fence.i
    call patch_fn
    CHECK(a0, -3)
    PASS

    .align 3
    .option push
    .option norvc
patch_fn:
    addi a0, x0, 1
    ret
tmpl_start:                                /* a0 = (a0 + 1) * a1 - 1, a1 = 3 */
    addi a0, a0, 1
    addi a1, x0, 3
    mul a0, a0, a1
    addi a0, a0, -1
    ret
tmpl_end:
    .option pop
    .option push
    .option rvc
cpatch_fn:
    c.li a0, 5
    c.jr ra
    .option pop

    .data
    .align 3
code_buf: .skip 64
