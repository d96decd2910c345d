// A bare-metal A64 program for the debugger tests (crates/cli/tests/aarch64_gdb.rs): it runs at
// EL1 with the MMU off from the ELF entry, computes a few values the debugger checks, stores
// them to `results`, and powers the machine off with PSCI SYSTEM_OFF (an HVC on this board).

    .text
    .global _start
_start:
    adr     x1, results
    mov     x0, #0
    mov     x2, #10
1:  add     x0, x0, x2          // x0 = 10 + 9 + ... + 1 = 55
    subs    x2, x2, #1
    b.ne    1b
    str     x0, [x1]
    movz    x3, #0xbeef
    movk    x3, #0xdead, lsl #16
    str     w3, [x1, #8]
    .global computed
computed:
    nop
    add     x4, x0, #1          // x0 + 1: 56, or whatever the debugger set x0 to
    str     x4, [x1, #16]
    .global check
check:
    nop
    movz    x0, #0x0008
    movk    x0, #0x8400, lsl #16 // PSCI SYSTEM_OFF
    hvc     #0
2:  b       2b

    .balign 16
    .global results
results:
    .quad   0, 0, 0, 0
