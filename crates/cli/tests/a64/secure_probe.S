// A bare-metal A64 program for the secure=on board test (crates/cli/tests/aarch64_el3.rs):
// entered by `-kernel` in Non-secure EL1, it reads the secure-only regions of QEMU's `virt`
// map (secure RAM, flash bank 0, the secure UART), each of which must answer with a
// synchronous external abort, and Non-secure flash bank 1, which must read. It reports each
// step on the PL011 and powers off with PSCI SYSTEM_OFF (an HVC: the board's PSCI).

    .text
    .global _start
_start:
    adr     x0, vectors
    msr     vbar_el1, x0
    isb
    mrs     x0, CurrentEL
    cmp     x0, #(1 << 2)
    b.ne    fail
    adr     x0, msg_el1
    bl      puts

    // Each probe sets x20 to where the abort handler resumes; falling through means the
    // load completed, which is the failure.
    adr     x20, 1f
    ldr     x1, =0x0e000000         // secure RAM
    ldr     x2, [x1]
    b       fail
1:  adr     x0, msg_ram
    bl      puts

    adr     x20, 1f
    mov     x1, #0                  // flash bank 0
    ldr     w2, [x1]
    b       fail
1:  adr     x0, msg_flash0
    bl      puts

    adr     x20, 1f
    ldr     x1, =0x09040000         // the secure PL011
    ldr     w2, [x1, #0x18]
    b       fail
1:  adr     x0, msg_uart
    bl      puts

    adr     x20, fail               // no abort expected any more
    mov     x1, #0x04000000         // flash bank 1 (Non-secure)
    ldr     w2, [x1]
    adr     x0, msg_flash1
    bl      puts
    b       poweroff

fail:
    adr     x0, msg_fail
    bl      puts
poweroff:
    movz    x0, #0x0008
    movk    x0, #0x8400, lsl #16    // PSCI SYSTEM_OFF
    hvc     #0
2:  b       2b

// A synchronous exception at EL1: a data abort from the current EL (EC 0x25) with DFSC 0x10
// (synchronous external abort) resumes at x20; anything else fails.
sync:
    mrs     x3, esr_el1
    lsr     x4, x3, #26
    cmp     x4, #0x25
    b.ne    fail
    and     x4, x3, #0x3f
    cmp     x4, #0x10
    b.ne    fail
    msr     elr_el1, x20
    eret

// Print the NUL-terminated string at x0 on the PL011.
puts:
    ldr     x9, =0x09000000
1:  ldrb    w10, [x0], #1
    cbz     w10, 2f
    strb    w10, [x9]
    b       1b
2:  ret

    .ltorg

msg_el1:    .asciz "probe: non-secure EL1\n"
msg_ram:    .asciz "probe: secure RAM aborts\n"
msg_flash0: .asciz "probe: flash bank 0 aborts\n"
msg_uart:   .asciz "probe: secure UART aborts\n"
msg_flash1: .asciz "probe: flash bank 1 reads\n"
msg_fail:   .asciz "probe: FAIL\n"

    .balign 2048
vectors:
    .rept 4                         // current EL with SP_EL0
    b       fail
    .balign 128
    .endr
    b       sync                    // current EL with SP_ELx: synchronous
    .balign 128
    .rept 11
    b       fail
    .balign 128
    .endr
