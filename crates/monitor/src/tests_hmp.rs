//! HMP tests: QEMU's output formats, command parsing, the stdio console.

use crate::hmp::*;
use crate::mock::{FakeVm, RAM_BASE};
use crate::vm::{RunState, Vm};

fn run(vm: &FakeVm, line: &str) -> String {
    execute(vm, line).text
}

#[test]
fn x_4wx_matches_qemu_layout() {
    let vm = FakeVm::new();
    assert_eq!(run(&vm, "x /4wx 0x80000000"), "0000000080000000: 0x03020100 0x07060504 0x0b0a0908 0x0f0e0d0c\n");
}

#[test]
fn x_without_space_before_slash_works() {
    let vm = FakeVm::new();
    assert_eq!(run(&vm, "x/1wx 0x80000004"), "0000000080000004: 0x07060504\n");
}

#[test]
fn x_5wx_wraps_after_16_bytes() {
    let vm = FakeVm::new();
    assert_eq!(
        run(&vm, "x /5wx 0x80000000"),
        "0000000080000000: 0x03020100 0x07060504 0x0b0a0908 0x0f0e0d0c\n0000000080000010: 0x13121110\n"
    );
}

#[test]
fn x_2gx_prints_16_digit_values() {
    let vm = FakeVm::new();
    assert_eq!(run(&vm, "x /2gx 0x80000000"), "0000000080000000: 0x0706050403020100 0x0f0e0d0c0b0a0908\n");
}

#[test]
fn xp_bytes_are_8_per_line() {
    let vm = FakeVm::new();
    assert_eq!(
        run(&vm, "xp /10xb 0x80000000"),
        "0000000080000000: 0x00 0x01 0x02 0x03 0x04 0x05 0x06 0x07\n0000000080000008: 0x08 0x09\n"
    );
}

#[test]
fn x_halfwords_hex() {
    let vm = FakeVm::new();
    assert_eq!(run(&vm, "x /3hx 0x80000000"), "0000000080000000: 0x0100 0x0302 0x0504\n");
}

#[test]
fn x_decimal_pads_to_qemu_width() {
    let vm = FakeVm::new();
    assert_eq!(run(&vm, "x /2wd 0x80000000"), "0000000080000000:   50462976  117835012\n");
}

#[test]
fn x_decimal_giant_is_signed_and_word_is_not() {
    let vm = FakeVm::new();
    vm.write_ram(RAM_BASE, &[0xff; 8]);
    assert_eq!(run(&vm, "x /1gd 0x80000000"), format!("0000000080000000: {:>20}\n", -1));
    assert_eq!(run(&vm, "x /1wd 0x80000000"), "0000000080000000: 4294967295\n");
    assert_eq!(run(&vm, "x /1wu 0x80000000"), "0000000080000000: 4294967295\n");
}

#[test]
fn x_octal_has_leading_zero_and_width() {
    let vm = FakeVm::new();
    vm.write_ram(RAM_BASE, &[0, 0, 0, 1, 2, 3]);
    assert_eq!(run(&vm, "x /3ho 0x80000000"), "0000000080000000:      0   0400  01402\n");
}

#[test]
fn x_chars_are_quoted_and_escaped() {
    let vm = FakeVm::new();
    vm.write_ram(RAM_BASE, b"A\n'\\\x01");
    assert_eq!(run(&vm, "x /5cb 0x80000000"), "0000000080000000: 'A' '\\n' '\\'' '\\\\' '\\x01'\n");
}

#[test]
fn x_unmapped_says_cannot_access_memory() {
    let vm = FakeVm::new();
    assert_eq!(run(&vm, "xp /4wx 0x1000"), "0000000000001000: Cannot access memory\n");
}

#[test]
fn x_format_is_sticky_within_a_session() {
    let vm = FakeVm::new();
    let mut s = HmpSession::new();
    s.execute(&vm, "x /2gx 0x80000000");
    assert_eq!(s.execute(&vm, "x 0x80000000").text, "0000000080000000: 0x0706050403020100\n");
}

#[test]
fn x_address_expression_adds() {
    let vm = FakeVm::new();
    assert_eq!(run(&vm, "x /1bx 0x80000000 + 0x10 - 1"), "000000008000000f: 0x0f\n");
}

#[test]
fn x_missing_address_suggests_help() {
    let vm = FakeVm::new();
    assert_eq!(run(&vm, "x /4wx"), "unexpected end of expression\nTry \"help x\" for more information\n");
}

#[test]
fn x_bad_format_char_is_reported() {
    let vm = FakeVm::new();
    assert!(run(&vm, "x /4wz 0x80000000").starts_with("invalid char in format: 'z'\n"));
}

#[test]
fn info_status_running_and_paused() {
    let vm = FakeVm::new();
    assert_eq!(run(&vm, "info status"), "VM status: running\n");
    vm.stop().unwrap();
    assert_eq!(run(&vm, "info status"), "VM status: paused\n");
    vm.set_status(RunState::Prelaunch);
    assert_eq!(run(&vm, "info status"), "VM status: paused (prelaunch)\n");
}

#[test]
fn info_cpus_marks_current_cpu() {
    let vm = FakeVm::new();
    assert_eq!(run(&vm, "info cpus"), "* CPU #0: thread_id=1000\n  CPU #1: thread_id=1001\n");
    let mut s = HmpSession::new();
    assert_eq!(s.execute(&vm, "cpu 1").text, "");
    assert_eq!(s.execute(&vm, "info cpus").text, "  CPU #0: thread_id=1000\n* CPU #1: thread_id=1001\n");
}

#[test]
fn info_registers_all_cpus_has_headers() {
    let vm = FakeVm::new();
    let out = run(&vm, "info registers -a");
    assert!(out.starts_with("\nCPU#0\n pc       0000000080000000\n"), "{out}");
    assert!(out.contains("\nCPU#1\n"), "{out}");
}

#[test]
fn info_mtree_qtree_version_come_through() {
    let vm = FakeVm::new();
    assert!(run(&vm, "info mtree").contains("riscv.virt.ram"));
    assert!(run(&vm, "info qtree").starts_with("bus: main-system-bus"));
    assert_eq!(run(&vm, "info version"), "10.0.0 (mimic 0.1.0)\n");
}

#[test]
fn info_unknown_subcommand_is_unknown_command() {
    let vm = FakeVm::new();
    assert_eq!(run(&vm, "info bogus"), "unknown command: 'info bogus'\n");
}

#[test]
fn unknown_command_is_reported_quoted() {
    let vm = FakeVm::new();
    assert_eq!(run(&vm, "foo bar"), "unknown command: 'foo'\n");
}

#[test]
fn stop_cont_reset_powerdown_reach_the_vm_silently() {
    let vm = FakeVm::new();
    for cmd in ["stop", "c", "system_reset", "system_powerdown"] {
        assert_eq!(run(&vm, cmd), "", "{cmd}");
    }
    assert_eq!(vm.calls(), vec!["stop", "cont", "system_reset", "system_powerdown"]);
}

#[test]
fn cont_error_is_printed() {
    let vm = FakeVm::new();
    vm.set_status(RunState::Shutdown);
    assert_eq!(run(&vm, "cont"), "Error: Resetting the Virtual Machine is required\n");
}

#[test]
fn quit_sets_quit_without_calling_vm() {
    let vm = FakeVm::new();
    let out = execute(&vm, "q");
    assert!(out.quit);
    assert!(vm.calls().is_empty());
}

#[test]
fn help_lists_commands_in_qemu_layout() {
    let vm = FakeVm::new();
    let out = run(&vm, "help");
    assert!(out.contains("cont|c  -- resume emulation\n"), "{out}");
    assert!(out.contains("x /fmt addr -- virtual memory dump starting at 'addr'\n"), "{out}");
    assert_eq!(run(&vm, "? xp"), "xp /fmt addr -- physical memory dump starting at 'addr'\n");
    assert!(run(&vm, "help info").contains("info status  -- show the current VM status"));
}

#[test]
fn serve_stdio_prints_banner_prompts_and_quits() {
    let vm = FakeVm::new();
    let mut out = Vec::new();
    serve_stdio(&vm, &b"info status\nquit\ninfo status\n"[..], &mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    assert_eq!(text, "mimic 0.1.0 monitor - type 'help' for more information\r\n(qemu) VM status: running\r\n(qemu) ");
    assert_eq!(vm.calls(), vec!["quit"]);
}

#[test]
fn serve_stdio_ends_at_eof_without_quitting() {
    let vm = FakeVm::new();
    let mut out = Vec::new();
    serve_stdio(&vm, &b"stop\n"[..], &mut out).unwrap();
    assert!(String::from_utf8(out).unwrap().ends_with("(qemu) (qemu) "));
    assert_eq!(vm.calls(), vec!["stop"]);
}
