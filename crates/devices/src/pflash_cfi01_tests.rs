use super::*;

/// A small bank shaped like the Arm virt one (32 bits of two x16 chips): 4 blocks of 4 KiB.
const SMALL: PflashConfig = PflashConfig { sector_len: 4096, blocks: 4, ..PflashConfig::ARM_VIRT };

fn flash(cfg: PflashConfig) -> (PflashCfi01, Vec<u8>) {
    let array = (0..cfg.size()).map(|i| i as u8).collect();
    (PflashCfi01::new(cfg).unwrap(), array)
}

/// A command as U-Boot's CFI driver writes it to a 32-bit bank of x16 chips: once per chip.
fn cmd(f: &mut PflashCfi01, array: &mut [u8], offset: u64, c: u32) -> Option<Range<usize>> {
    f.write(offset, Size::B4, u64::from(c) * 0x0001_0001, array)
}

fn rd(f: &mut PflashCfi01, array: &[u8], offset: u64) -> u64 {
    f.read(offset, Size::B4, array)
}

#[test]
fn array_mode_reads_the_backing_bytes() {
    let (mut f, a) = flash(SMALL);
    assert_eq!(rd(&mut f, &a, 0x104), 0x0706_0504);
    assert_eq!(f.read(0x105, Size::B1, &a), 0x05);
}

#[test]
fn cfi_query_answers_qry_in_each_16_bit_lane() {
    let (mut f, mut a) = flash(SMALL);
    cmd(&mut f, &mut a, 0x55 * 4, 0x98);
    assert_eq!(rd(&mut f, &a, 0x10 * 4), 0x0051_0051);
    assert_eq!(rd(&mut f, &a, 0x11 * 4), 0x0052_0052);
    assert_eq!(rd(&mut f, &a, 0x12 * 4), 0x0059_0059);
    assert_eq!(rd(&mut f, &a, 0x13 * 4), 0x0001_0001, "Intel command set");
}

#[test]
fn cfi_query_of_the_virt_bank_describes_two_32_mib_chips_of_128_kib_blocks() {
    let (mut f, a) = (PflashCfi01::new(PflashConfig::ARM_VIRT).unwrap(), Vec::new());
    f.write(0, Size::B4, 0x0098_0098, &mut []);
    let q = |f: &mut PflashCfi01, i: u64| f.read(i * 4, Size::B4, &a) & 0xffff;
    assert_eq!(q(&mut f, 0x27), 25, "2^25 bytes per chip");
    assert_eq!((q(&mut f, 0x2d), q(&mut f, 0x2e)), (0xff, 0x00), "256 blocks");
    assert_eq!((q(&mut f, 0x2f), q(&mut f, 0x30)), (0x00, 0x02), "0x200 * 256 bytes per block");
    assert_eq!(q(&mut f, 0x2a), 11, "2 KiB write buffer");
    assert_eq!(q(&mut f, 0x50), 0, "past the table");
}

#[test]
fn narrow_read_in_query_mode_sees_its_own_lane() {
    let (mut f, mut a) = flash(SMALL);
    cmd(&mut f, &mut a, 0, 0x98);
    assert_eq!(f.read(0x40, Size::B1, &a), 0x51);
    assert_eq!(f.read(0x41, Size::B1, &a), 0x00);
    assert_eq!(f.read(0x42, Size::B2, &a), 0x51);
}

#[test]
fn identifier_mode_gives_manufacturer_and_device_per_chip() {
    let (mut f, mut a) = flash(SMALL);
    cmd(&mut f, &mut a, 0, 0x90);
    assert_eq!(rd(&mut f, &a, 0), 0x0089_0089);
    assert_eq!(rd(&mut f, &a, 4), 0x0018_0018);
    assert_eq!(rd(&mut f, &a, 0x1008), 0, "block 1 is unlocked");
}

#[test]
fn read_status_is_ready_in_each_lane_until_read_array() {
    let (mut f, mut a) = flash(SMALL);
    cmd(&mut f, &mut a, 0, 0x70);
    assert_eq!(rd(&mut f, &a, 0x200), 0x0080_0080);
    cmd(&mut f, &mut a, 0, 0xff);
    assert_eq!(rd(&mut f, &a, 0x200), 0x0302_0100);
}

#[test]
fn word_program_clears_bits_only_and_reports_the_bytes() {
    let (mut f, mut a) = flash(SMALL);
    a[0x100..0x104].fill(0xf0);
    cmd(&mut f, &mut a, 0x100, 0x40);
    let changed = f.write(0x100, Size::B4, 0x3c3c_3c3c, &mut a);
    assert_eq!(changed, Some(0x100..0x104));
    assert_eq!(rd(&mut f, &a, 0x100), 0x0080_0080, "reads status after programming");
    cmd(&mut f, &mut a, 0, 0xff);
    assert_eq!(rd(&mut f, &a, 0x100), 0x3030_3030);
    assert_eq!(f.take_dirty(), vec![0..0x1000], "the erase block holding the bytes");
    assert_eq!(f.take_dirty(), Vec::<Range<usize>>::new());
}

#[test]
fn block_erase_fills_the_whole_block_on_confirm() {
    let (mut f, mut a) = flash(SMALL);
    cmd(&mut f, &mut a, 0x1234, 0x20);
    assert!(a[0x1000..0x2000].iter().any(|&b| b != 0xff), "nothing before the confirm");
    let changed = cmd(&mut f, &mut a, 0x1234, 0xd0);
    assert_eq!(changed, Some(0x1000..0x2000));
    assert!(a[0x1000..0x2000].iter().all(|&b| b == 0xff));
    assert_eq!(a[0xffe], 0xfe, "the block before is kept");
    assert_eq!(a[0x2000], 0x00, "the block after is kept");
}

#[test]
fn buffered_program_commits_on_confirm() {
    let (mut f, mut a) = flash(SMALL);
    a[0x1000..0x2000].fill(0xff);
    cmd(&mut f, &mut a, 0x1000, 0xe8);
    assert_eq!(rd(&mut f, &a, 0x1000) & 0x80, 0x80, "buffer available");
    cmd(&mut f, &mut a, 0x1000, 1); // two words
    assert_eq!(f.write(0x1010, Size::B4, 0x1122_3344, &mut a), None);
    assert_eq!(f.write(0x1014, Size::B4, 0x5566_7788, &mut a), None);
    assert_eq!(a[0x1010], 0xff, "nothing before the confirm");
    assert_eq!(cmd(&mut f, &mut a, 0x1000, 0xd0), Some(0x1010..0x1018));
    cmd(&mut f, &mut a, 0, 0xff);
    assert_eq!(f.read(0x1010, Size::B8, &a), 0x5566_7788_1122_3344);
    assert_eq!(rd(&mut f, &a, 0x1018), 0xffff_ffff);
}

#[test]
fn buffered_program_without_confirm_changes_nothing_and_flags_a_sequence_error() {
    let (mut f, mut a) = flash(SMALL);
    let before = a.clone();
    cmd(&mut f, &mut a, 0x1000, 0xe8);
    cmd(&mut f, &mut a, 0x1000, 0);
    f.write(0x1000, Size::B4, 0, &mut a);
    assert_eq!(cmd(&mut f, &mut a, 0x1000, 0xff), None);
    assert_eq!(a, before);
    assert_eq!(f.state().status, sr::READY | sr::SEQUENCE_ERROR);
}

#[test]
fn buffered_program_longer_than_the_buffer_is_refused() {
    let (mut f, mut a) = flash(SMALL);
    cmd(&mut f, &mut a, 0, 0xe8);
    cmd(&mut f, &mut a, 0, 1024); // 1025 words of 4 bytes > 4 KiB
    assert_eq!(f.state(), PflashState { mode: ReadMode::Status, status: sr::READY | sr::SEQUENCE_ERROR });
}

#[test]
fn unknown_command_reads_the_array_and_flags_an_error_that_clear_status_clears() {
    let (mut f, mut a) = flash(SMALL);
    cmd(&mut f, &mut a, 0, 0x42);
    assert_eq!(rd(&mut f, &a, 0x104), 0x0706_0504, "still reading the array");
    cmd(&mut f, &mut a, 0, 0x70);
    assert_eq!(rd(&mut f, &a, 0), 0x00b0_00b0);
    cmd(&mut f, &mut a, 0, 0x50);
    assert_eq!(rd(&mut f, &a, 0), 0x0080_0080);
}

#[test]
fn read_only_bank_refuses_program_and_erase() {
    let (mut f, mut a) = flash(PflashConfig { read_only: true, ..SMALL });
    let before = a.clone();
    cmd(&mut f, &mut a, 0, 0x40);
    assert_eq!(f.write(0, Size::B4, 0, &mut a), None);
    cmd(&mut f, &mut a, 0, 0x20);
    assert_eq!(cmd(&mut f, &mut a, 0, 0xd0), None);
    assert_eq!(a, before);
    assert_eq!(f.state().status & (sr::PROGRAM_ERROR | sr::ERASE_ERROR), sr::PROGRAM_ERROR | sr::ERASE_ERROR);
}

#[test]
fn lock_commands_are_accepted_and_change_nothing() {
    let (mut f, mut a) = flash(SMALL);
    cmd(&mut f, &mut a, 0x1000, 0x60);
    assert_eq!(cmd(&mut f, &mut a, 0x1000, 0xd0), None);
    assert_eq!(f.state(), PflashState { mode: ReadMode::Status, status: sr::READY });
}

#[test]
fn bad_geometry_is_rejected() {
    assert!(PflashCfi01::new(PflashConfig { bank_width: 3, ..SMALL }).is_err());
    assert!(PflashCfi01::new(PflashConfig { device_width: 4, ..SMALL }).is_err());
    assert!(PflashCfi01::new(PflashConfig { sector_len: 1000, ..SMALL }).is_err());
}

#[test]
fn dirty_blocks_are_reported_merged_when_adjacent() {
    let (mut f, mut a) = flash(SMALL);
    for block in [0u64, 1, 3] {
        cmd(&mut f, &mut a, block * 0x1000, 0x20);
        cmd(&mut f, &mut a, block * 0x1000, 0xd0);
    }
    assert_eq!(f.take_dirty(), vec![0..0x2000, 0x3000..0x4000]);
}

#[test]
fn peek_answers_like_a_read_in_every_mode() {
    let (mut f, mut a) = flash(SMALL);
    assert_eq!(f.peek(0x104, Size::B4, &a), Some(0x0706_0504));
    cmd(&mut f, &mut a, 0, 0x70);
    assert_eq!(f.peek(0x104, Size::B4, &a), Some(rd(&mut f, &a, 0x104)));
}
