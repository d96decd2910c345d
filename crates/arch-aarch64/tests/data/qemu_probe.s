.text
.global _start
_start:
  mov x0, #0
  adr x1, buf
  mov x2, #776
  mov x8, #63
  svc #0
  adr x9, buf
  ldp q0, q1, [x9, #0]
  ldp q2, q3, [x9, #32]
  ldp q4, q5, [x9, #64]
  ldp q6, q7, [x9, #96]
  ldp q8, q9, [x9, #128]
  ldp q10, q11, [x9, #160]
  ldp q12, q13, [x9, #192]
  ldp q14, q15, [x9, #224]
  ldp q16, q17, [x9, #256]
  ldp q18, q19, [x9, #288]
  ldp q20, q21, [x9, #320]
  ldp q22, q23, [x9, #352]
  ldp q24, q25, [x9, #384]
  ldp q26, q27, [x9, #416]
  ldp q28, q29, [x9, #448]
  ldp q30, q31, [x9, #480]
  ldr x10, [x9, #512]
  msr fpcr, x10
  msr fpsr, xzr
  ldr x10, [x9, #520]
  msr nzcv, x10
  add x9, x9, #528
  ldp x0, x1, [x9, #0]
  ldp x2, x3, [x9, #16]
  ldp x4, x5, [x9, #32]
  ldp x6, x7, [x9, #48]
  ldr x8, [x9, #64]
  ldp x10, x11, [x9, #80]
  ldp x12, x13, [x9, #96]
  ldp x14, x15, [x9, #112]
  ldp x16, x17, [x9, #128]
  ldp x18, x19, [x9, #144]
  ldp x20, x21, [x9, #160]
  ldp x22, x23, [x9, #176]
  ldp x24, x25, [x9, #192]
  ldp x26, x27, [x9, #208]
  ldp x28, x29, [x9, #224]
  ldr x30, [x9, #240]
  ldr x9, [x9, #72]
insn:
  nop
  msr tpidr_el0, x0
  adr x0, out
  str x1, [x0, #8]
  str x2, [x0, #16]
  str x3, [x0, #24]
  str x4, [x0, #32]
  str x5, [x0, #40]
  str x6, [x0, #48]
  str x7, [x0, #56]
  str x8, [x0, #64]
  str x9, [x0, #72]
  str x10, [x0, #80]
  str x11, [x0, #88]
  str x12, [x0, #96]
  str x13, [x0, #104]
  str x14, [x0, #112]
  str x15, [x0, #120]
  str x16, [x0, #128]
  str x17, [x0, #136]
  str x18, [x0, #144]
  str x19, [x0, #152]
  str x20, [x0, #160]
  str x21, [x0, #168]
  str x22, [x0, #176]
  str x23, [x0, #184]
  str x24, [x0, #192]
  str x25, [x0, #200]
  str x26, [x0, #208]
  str x27, [x0, #216]
  str x28, [x0, #224]
  str x29, [x0, #232]
  str x30, [x0, #240]
  mrs x1, tpidr_el0
  str x1, [x0]
  add x0, x0, #248
  stp q0, q1, [x0, #0]
  stp q2, q3, [x0, #32]
  stp q4, q5, [x0, #64]
  stp q6, q7, [x0, #96]
  stp q8, q9, [x0, #128]
  stp q10, q11, [x0, #160]
  stp q12, q13, [x0, #192]
  stp q14, q15, [x0, #224]
  stp q16, q17, [x0, #256]
  stp q18, q19, [x0, #288]
  stp q20, q21, [x0, #320]
  stp q22, q23, [x0, #352]
  stp q24, q25, [x0, #384]
  stp q26, q27, [x0, #416]
  stp q28, q29, [x0, #448]
  stp q30, q31, [x0, #480]
  mrs x1, fpsr
  str x1, [x0, #512]
  mrs x1, nzcv
  str x1, [x0, #520]
  mov x0, #1
  adr x1, out
  mov x2, #776
  mov x8, #64
  svc #0
  mov x0, #0
  mov x8, #93
  svc #0
.balign 16
buf: .space 784
out: .space 784
