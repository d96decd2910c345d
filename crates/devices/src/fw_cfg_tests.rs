use super::*;
use mimic_memory::FlatMemory;

const RAM: u64 = 0x4000_0000;
const DESC: u64 = RAM + 0x100;
const BUF: u64 = RAM + 0x1000;

/// What a little-endian guest's 16-bit store of `key` in big-endian order hands the device.
fn select(f: &mut FwCfg, key: u16) {
    f.write(0x08, Size::B2, u64::from(key.swap_bytes()));
}

fn read_bytes(f: &mut FwCfg, n: usize) -> Vec<u8> {
    (0..n).map(|_| f.read(0, Size::B1) as u8).collect()
}

fn descriptor(mem: &mut FlatMemory, control: u32, length: u32, addr: u64) {
    let mut d = control.to_be_bytes().to_vec();
    d.extend_from_slice(&length.to_be_bytes());
    d.extend_from_slice(&addr.to_be_bytes());
    mem.write(DESC, &d).unwrap();
}

fn control(mem: &FlatMemory) -> u32 {
    let mut b = [0u8; 4];
    mem.read(DESC, &mut b).unwrap();
    u32::from_be_bytes(b)
}

/// Start a DMA operation with one 64-bit write of the big-endian descriptor address.
fn start_dma(f: &mut FwCfg, at: u64) {
    f.write(0x10, Size::B8, at.swap_bytes());
}

fn with_kernel() -> FwCfg {
    let mut f = FwCfg::new(true);
    f.add_boot_images(Some(b"KERNEL-BYTES".to_vec()), Some(vec![7; 3]), Some("console=ttyAMA0")).unwrap();
    f
}

#[test]
fn signature_item_reads_qemu() {
    let mut f = FwCfg::new(false);
    select(&mut f, key::SIGNATURE);
    assert_eq!(read_bytes(&mut f, 4), b"QEMU");
}

#[test]
fn id_reports_dma_only_when_offered() {
    let mut f = FwCfg::new(false);
    select(&mut f, key::ID);
    assert_eq!(f.read(0, Size::B4), 1);
    let mut f = FwCfg::new(true);
    select(&mut f, key::ID);
    assert_eq!(f.read(0, Size::B4), 3);
}

#[test]
fn dma_register_reads_its_big_endian_signature() {
    let mut f = FwCfg::new(true);
    assert_eq!(f.read(0x10, Size::B8).to_le_bytes(), *b"QEMU CFG");
    assert_eq!(f.read(0x14, Size::B4).to_le_bytes()[..4], *b" CFG");
}

#[test]
fn wide_data_reads_are_string_preserving_and_zero_past_the_end() {
    let mut f = with_kernel();
    select(&mut f, key::KERNEL_DATA);
    assert_eq!(f.read(0, Size::B8).to_le_bytes(), *b"KERNEL-B");
    assert_eq!(f.read(0, Size::B8).to_le_bytes(), *b"YTES\0\0\0\0");
    assert_eq!(f.read(0, Size::B4), 0);
}

#[test]
fn selecting_again_rewinds_the_item() {
    let mut f = with_kernel();
    select(&mut f, key::KERNEL_DATA);
    f.read(0, Size::B8);
    select(&mut f, key::KERNEL_DATA);
    assert_eq!(read_bytes(&mut f, 6), b"KERNEL");
}

#[test]
fn boot_images_have_little_endian_sizes_and_a_nul_terminated_command_line() {
    let mut f = with_kernel();
    select(&mut f, key::KERNEL_SIZE);
    assert_eq!(f.read(0, Size::B4), 12);
    select(&mut f, key::INITRD_SIZE);
    assert_eq!(f.read(0, Size::B4), 3);
    select(&mut f, key::CMDLINE_SIZE);
    assert_eq!(f.read(0, Size::B4), 16);
    select(&mut f, key::CMDLINE_DATA);
    assert_eq!(read_bytes(&mut f, 16), b"console=ttyAMA0\0");
}

#[test]
fn file_directory_lists_files_sorted_with_big_endian_fields() {
    let mut f = FwCfg::new(true);
    let b = f.add_file("etc/zeta", vec![1, 2, 3], false).unwrap();
    let a = f.add_file("bootorder", Vec::new(), false).unwrap();
    assert_eq!((b, a), (0x20, 0x21));
    select(&mut f, key::FILE_DIR);
    let dir = read_bytes(&mut f, 4 + 2 * 64);
    assert_eq!(dir[..4], 2u32.to_be_bytes());
    let entry = |i: usize| &dir[4 + 64 * i..4 + 64 * (i + 1)];
    assert_eq!(entry(0)[..8], [0, 0, 0, 0, 0, 0x21, 0, 0]);
    assert_eq!(&entry(0)[8..18], b"bootorder\0");
    assert_eq!(entry(1)[..8], [0, 0, 0, 3, 0, 0x20, 0, 0]);
    assert_eq!(&entry(1)[8..17], b"etc/zeta\0");
}

#[test]
fn bad_file_names_and_duplicates_are_refused() {
    let mut f = FwCfg::new(true);
    assert!(matches!(f.add_file("", vec![], false), Err(Error::Name(_))));
    assert!(matches!(f.add_file(&"x".repeat(56), vec![], false), Err(Error::Name(_))));
    f.add_file("a", vec![], false).unwrap();
    assert!(matches!(f.add_file("a", vec![], false), Err(Error::Duplicate(_))));
}

#[test]
fn dma_select_and_read_copies_the_item_and_clears_control() {
    let mut f = with_kernel();
    let mut mem = FlatMemory::new(RAM, 0x10000);
    descriptor(&mut mem, u32::from(key::KERNEL_DATA) << 16 | ctl::SELECT | ctl::READ, 12, BUF);
    start_dma(&mut f, DESC);
    assert!(f.dma_pending());
    f.process(&mut mem);
    let mut got = [0u8; 12];
    mem.read(BUF, &mut got).unwrap();
    assert_eq!(&got, b"KERNEL-BYTES");
    assert_eq!(control(&mem), 0);
    assert!(!f.dma_pending());
}

#[test]
fn dma_started_by_two_32_bit_writes_uses_both_halves() {
    let mut f = with_kernel();
    let mut mem = FlatMemory::new(0x1_0000_0000, 0x10000);
    let at = 0x1_0000_0100u64;
    let mut d = (u32::from(key::INITRD_DATA) << 16 | ctl::SELECT | ctl::READ).to_be_bytes().to_vec();
    d.extend_from_slice(&3u32.to_be_bytes());
    d.extend_from_slice(&0x1_0000_2000u64.to_be_bytes());
    mem.write(at, &d).unwrap();
    f.write(0x10, Size::B4, u64::from(1u32.swap_bytes()));
    assert!(!f.dma_pending(), "the high half alone starts nothing");
    f.write(0x14, Size::B4, u64::from(0x100u32.swap_bytes()));
    f.process(&mut mem);
    let mut got = [0u8; 3];
    mem.read(0x1_0000_2000, &mut got).unwrap();
    assert_eq!(got, [7, 7, 7]);
}

#[test]
fn dma_read_past_the_end_fills_zeros_and_skip_advances() {
    let mut f = with_kernel();
    let mut mem = FlatMemory::new(RAM, 0x10000);
    mem.write(BUF, &[0xee; 16]).unwrap();
    descriptor(&mut mem, u32::from(key::KERNEL_DATA) << 16 | ctl::SELECT | ctl::SKIP, 7, 0);
    start_dma(&mut f, DESC);
    f.process(&mut mem);
    descriptor(&mut mem, ctl::READ, 8, BUF);
    start_dma(&mut f, DESC);
    f.process(&mut mem);
    let mut got = [0u8; 9];
    mem.read(BUF, &mut got).unwrap();
    assert_eq!(&got, b"BYTES\0\0\0\xee");
    assert_eq!(control(&mem), 0);
}

#[test]
fn dma_read_to_memory_outside_ram_sets_the_error_bit() {
    let mut f = with_kernel();
    let mut mem = FlatMemory::new(RAM, 0x10000);
    descriptor(&mut mem, u32::from(key::KERNEL_DATA) << 16 | ctl::SELECT | ctl::READ, 12, RAM + 0xfff8);
    start_dma(&mut f, DESC);
    f.process(&mut mem);
    assert_eq!(control(&mem), ctl::ERROR);
}

#[test]
fn dma_huge_length_to_a_wrapping_address_fails_without_panicking() {
    let mut f = with_kernel();
    let mut mem = FlatMemory::new(RAM, 0x10000);
    descriptor(&mut mem, u32::from(key::KERNEL_DATA) << 16 | ctl::SELECT | ctl::READ, u32::MAX, u64::MAX - 4);
    start_dma(&mut f, DESC);
    f.process(&mut mem);
    assert_eq!(control(&mem), ctl::ERROR);
}

#[test]
fn dma_descriptor_outside_ram_is_dropped() {
    let mut f = with_kernel();
    let mut mem = FlatMemory::new(RAM, 0x10000);
    start_dma(&mut f, 0x10);
    f.process(&mut mem);
    assert!(!f.dma_pending());
    assert_eq!(mem.bytes.iter().filter(|&&b| b != 0).count(), 0);
}

#[test]
fn dma_write_changes_a_writable_file_but_not_a_read_only_one() {
    let mut f = FwCfg::new(true);
    let rw = f.add_file("etc/rw", vec![0; 4], true).unwrap();
    let ro = f.add_file("etc/ro", vec![0; 4], false).unwrap();
    let mut mem = FlatMemory::new(RAM, 0x10000);
    mem.write(BUF, &[1, 2, 3, 4]).unwrap();
    descriptor(&mut mem, u32::from(rw) << 16 | ctl::SELECT | ctl::WRITE, 4, BUF);
    start_dma(&mut f, DESC);
    f.process(&mut mem);
    assert_eq!(control(&mem), 0);
    assert_eq!(f.item(rw), [1, 2, 3, 4]);
    descriptor(&mut mem, u32::from(ro) << 16 | ctl::SELECT | ctl::WRITE, 4, BUF);
    start_dma(&mut f, DESC);
    f.process(&mut mem);
    assert_eq!(control(&mem), ctl::ERROR);
    assert_eq!(f.item(ro), [0; 4]);
}

#[test]
fn dma_write_past_the_end_of_an_item_changes_nothing() {
    let mut f = FwCfg::new(true);
    let rw = f.add_file("etc/rw", vec![0; 4], true).unwrap();
    let mut mem = FlatMemory::new(RAM, 0x10000);
    mem.write(BUF, &[9; 8]).unwrap();
    descriptor(&mut mem, u32::from(rw) << 16 | ctl::SELECT | ctl::WRITE, 8, BUF);
    start_dma(&mut f, DESC);
    f.process(&mut mem);
    assert_eq!(control(&mem), ctl::ERROR);
    assert_eq!(f.item(rw), [0; 4]);
}

#[test]
fn without_dma_the_register_reads_zero_and_writes_start_nothing() {
    let mut f = FwCfg::new(false);
    assert_eq!(f.read(0x10, Size::B8), 0);
    start_dma(&mut f, DESC);
    assert!(!f.dma_pending());
}
