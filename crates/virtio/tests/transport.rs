//! The virtio-mmio transport and the common status/feature state machine, driven through
//! registers as a guest driver would.

mod common;

use common::*;
use mimic_core::Size;
use mimic_memory::MmioDevice;
use mimic_virtio::features::{status, VIRTIO_F_RING_EVENT_IDX, VIRTIO_F_RING_INDIRECT_DESC, VIRTIO_F_VERSION_1};
use mimic_virtio::mmio::*;
use mimic_virtio::mock::{r, w, Driver, TestIrq};
use mimic_virtio::VirtioMmio;

const V1: u64 = VIRTIO_F_VERSION_1;
const RUNNING: u32 = (status::ACKNOWLEDGE | status::DRIVER | status::FEATURES_OK | status::DRIVER_OK) as u32;

fn rd(dev: &mut Dev, off: u64) -> u32 {
    Driver::read32(dev, off)
}

#[test]
fn identity_registers_read_magic_version_ids() {
    let (mut dev, _) = new_dev();
    assert_eq!(
        [rd(&mut dev, MAGIC_VALUE), rd(&mut dev, VERSION), rd(&mut dev, DEVICE_ID), rd(&mut dev, VENDOR_ID)],
        [0x7472_6976, 2, ECHO_ID, 0x554d_4551]
    );
}

#[test]
fn empty_slot_reads_device_id_zero() {
    let mut dev = VirtioMmio::empty(TestIrq::new());
    assert_eq!((Driver::read32(&mut dev, MAGIC_VALUE), Driver::read32(&mut dev, DEVICE_ID)), (MAGIC, 0));
}

#[test]
fn device_features_offer_version1_ring_features_and_device_bits() {
    let (mut dev, _) = new_dev();
    let f = Driver::device_features(&mut dev);
    assert_eq!(f, V1 | VIRTIO_F_RING_INDIRECT_DESC | VIRTIO_F_RING_EVENT_IDX | ECHO_FEATURE);
}

#[test]
fn negotiate_with_version1_sets_features_ok() {
    let (mut dev, _) = new_dev();
    let st = Driver::negotiate(&mut dev, V1 | ECHO_FEATURE);
    assert_ne!(st & u32::from(status::FEATURES_OK), 0);
}

#[test]
fn negotiate_without_version1_refuses_features_ok() {
    let (mut dev, _) = new_dev();
    let st = Driver::negotiate(&mut dev, ECHO_FEATURE);
    assert_eq!(st & u32::from(status::FEATURES_OK), 0);
}

#[test]
fn negotiate_unoffered_bit_refuses_features_ok() {
    let (mut dev, _) = new_dev();
    let st = Driver::negotiate(&mut dev, V1 | (1 << 7));
    assert_eq!(st & u32::from(status::FEATURES_OK), 0);
}

#[test]
fn driver_ok_activates_device_with_negotiated_features() {
    let (dev, _, _) = ready_dev(V1 | ECHO_FEATURE);
    assert_eq!(dev.device().activated, Some(V1 | ECHO_FEATURE));
}

#[test]
fn driver_ok_without_features_ok_is_ignored() {
    let (mut dev, _) = new_dev();
    Driver::write32(&mut dev, STATUS, u32::from(status::ACKNOWLEDGE | status::DRIVER | status::DRIVER_OK));
    assert_eq!(rd(&mut dev, STATUS), u32::from(status::ACKNOWLEDGE | status::DRIVER));
}

#[test]
fn driver_features_after_features_ok_are_ignored() {
    let (mut dev, _) = new_dev();
    Driver::negotiate(&mut dev, V1);
    Driver::write32(&mut dev, DRIVER_FEATURES_SEL, 0);
    Driver::write32(&mut dev, DRIVER_FEATURES, ECHO_FEATURE as u32);
    assert_eq!(dev.common().driver_features(), V1);
}

#[test]
fn status_zero_resets_status_queues_and_device() {
    let (mut dev, _, _) = ready_dev(V1);
    Driver::write32(&mut dev, STATUS, 0);
    Driver::write32(&mut dev, QUEUE_SEL, 0);
    assert_eq!(
        (rd(&mut dev, STATUS), rd(&mut dev, QUEUE_READY), dev.device().resets, dev.common().driver_features()),
        (0, 0, 2, 0) // one reset from the driver's bring-up, one now
    );
}

#[test]
fn reset_clears_interrupt_status_and_lowers_line() {
    let (mut dev, irq, mut drv) = ready_dev(V1);
    let a = drv.buf(b"x");
    let b = drv.alloc(1);
    drv.add_chain(0, &[r(a, 1), w(b, 1)]);
    Driver::notify(&mut dev, 0);
    dev.process(&mut drv.mem);
    Driver::write32(&mut dev, STATUS, 0);
    assert_eq!((rd(&mut dev, INTERRUPT_STATUS), irq.level()), (0, false));
}

#[test]
fn notify_then_process_echoes_and_raises_irq() {
    let (mut dev, irq, mut drv) = ready_dev(V1);
    let a = drv.buf(b"hello");
    let b = drv.alloc(8);
    let head = drv.add_chain(0, &[r(a, 5), w(b, 8)]);
    Driver::notify(&mut dev, 0);
    dev.process(&mut drv.mem);
    assert_eq!(drv.take_used(0), vec![(u32::from(head), 5)]);
    assert_eq!(drv.read_mem(b, 5), b"hello");
    assert_eq!((rd(&mut dev, INTERRUPT_STATUS), irq.level()), (INT_VRING, true));
}

#[test]
fn interrupt_ack_lowers_line() {
    let (mut dev, irq, mut drv) = ready_dev(V1);
    let a = drv.buf(b"x");
    let b = drv.alloc(1);
    drv.add_chain(0, &[r(a, 1), w(b, 1)]);
    Driver::notify(&mut dev, 0);
    dev.process(&mut drv.mem);
    Driver::ack(&mut dev);
    assert!(!irq.level());
}

#[test]
fn notify_before_driver_ok_is_not_processed() {
    let (mut dev, _) = new_dev();
    let mut drv = Driver::new(1 << 16);
    Driver::negotiate(&mut dev, V1);
    drv.setup_queue(&mut dev, 0, 8);
    Driver::write32(&mut dev, QUEUE_READY, 1);
    let a = drv.buf(b"x");
    let b = drv.alloc(1);
    drv.add_chain(0, &[r(a, 1), w(b, 1)]);
    Driver::notify(&mut dev, 0);
    dev.process(&mut drv.mem);
    assert!(drv.take_used(0).is_empty());
}

#[test]
fn needs_processing_follows_notify_and_process() {
    let (mut dev, _, mut drv) = ready_dev(V1);
    let after_driver_ok = dev.needs_processing();
    dev.process(&mut drv.mem);
    let before = dev.needs_processing();
    Driver::notify(&mut dev, 0);
    let pending = dev.needs_processing();
    dev.process(&mut drv.mem);
    assert_eq!((after_driver_ok, before, pending, dev.needs_processing()), (true, false, true, false));
}

#[test]
fn backend_work_is_delivered_by_process_without_notify() {
    let (mut dev, irq, mut drv) = ready_dev(V1);
    let b = drv.alloc(4);
    drv.add_chain(1, &[w(b, 4)]);
    dev.device_mut().events.push(0xab);
    assert!(dev.needs_processing());
    dev.process(&mut drv.mem);
    assert_eq!((drv.take_used(1).len(), drv.read_mem(b, 1)[0], irq.level()), (1, 0xab, true));
}

#[test]
fn queue_num_max_reports_max_and_zero_for_missing_queue() {
    let (mut dev, _) = new_dev();
    Driver::write32(&mut dev, QUEUE_SEL, 1);
    let q1 = rd(&mut dev, QUEUE_NUM_MAX);
    Driver::write32(&mut dev, QUEUE_SEL, 2);
    assert_eq!((q1, rd(&mut dev, QUEUE_NUM_MAX)), (u32::from(QMAX), 0));
}

fn enable_with_size(size: u32) -> Dev {
    let (mut dev, _) = new_dev();
    let mut drv = Driver::new(1 << 16);
    Driver::negotiate(&mut dev, V1);
    drv.setup_queue(&mut dev, 0, 8);
    Driver::write32(&mut dev, QUEUE_NUM, size);
    Driver::write32(&mut dev, QUEUE_READY, 1);
    dev
}

#[test]
fn queue_size_not_power_of_two_sets_needs_reset() {
    let mut dev = enable_with_size(6);
    assert_eq!(
        (rd(&mut dev, QUEUE_READY), rd(&mut dev, STATUS) & u32::from(status::DEVICE_NEEDS_RESET)),
        (0, u32::from(status::DEVICE_NEEDS_RESET))
    );
}

#[test]
fn queue_size_zero_sets_needs_reset() {
    let mut dev = enable_with_size(0);
    assert_ne!(rd(&mut dev, STATUS) & u32::from(status::DEVICE_NEEDS_RESET), 0);
}

#[test]
fn queue_size_above_max_sets_needs_reset() {
    let mut dev = enable_with_size(u32::from(QMAX) * 2);
    assert_ne!(rd(&mut dev, STATUS) & u32::from(status::DEVICE_NEEDS_RESET), 0);
}

#[test]
fn queue_layout_write_while_ready_is_ignored() {
    let (mut dev, _, drv) = ready_dev(V1);
    Driver::write32(&mut dev, QUEUE_SEL, 0);
    Driver::write32(&mut dev, QUEUE_DESC_LOW, 0x1234_0000);
    assert_eq!(dev.common().queue(0).unwrap().desc_table(), drv.queues[0].desc);
}

#[test]
fn queue_ready_zero_disables_queue() {
    let (mut dev, _, _) = ready_dev(V1);
    Driver::write32(&mut dev, QUEUE_SEL, 1);
    Driver::write32(&mut dev, QUEUE_READY, 0);
    assert_eq!(rd(&mut dev, QUEUE_READY), 0);
}

#[test]
fn config_space_reads_little_endian_bytes_at_0x100() {
    let (mut dev, _) = new_dev();
    dev.device_mut().config = [1, 2, 3, 4, 5, 6, 7, 8];
    assert_eq!(
        (dev.read(CONFIG + 1, Size::B1), dev.read(CONFIG + 2, Size::B2), dev.read(CONFIG + 4, Size::B4)),
        (2, 0x0403, 0x0807_0605)
    );
}

#[test]
fn config_space_read_past_end_is_zero() {
    let (mut dev, _) = new_dev();
    dev.device_mut().config = [0xff; 8];
    assert_eq!(dev.read(CONFIG + 6, Size::B4), 0xffff);
}

#[test]
fn config_space_write_reaches_device() {
    let (mut dev, _) = new_dev();
    dev.write(CONFIG + 2, Size::B2, 0xbeef);
    assert_eq!(dev.device().config[2..4], [0xef, 0xbe]);
}

#[test]
fn unaligned_register_read_returns_zero() {
    let (mut dev, _) = new_dev();
    assert_eq!((dev.read(MAGIC_VALUE + 1, Size::B4), dev.read(MAGIC_VALUE, Size::B2)), (0, 0));
}

#[test]
fn shared_memory_region_length_reads_minus_one() {
    let (mut dev, _) = new_dev();
    Driver::write32(&mut dev, SHM_SEL, 0);
    assert_eq!((rd(&mut dev, SHM_LEN_LOW), rd(&mut dev, SHM_LEN_HIGH)), (u32::MAX, u32::MAX));
}

#[test]
fn needs_reset_is_sticky_until_status_zero() {
    let mut dev = enable_with_size(6);
    Driver::write32(&mut dev, STATUS, u32::from(status::ACKNOWLEDGE | status::DRIVER | status::FEATURES_OK));
    let still = rd(&mut dev, STATUS) & u32::from(status::DEVICE_NEEDS_RESET);
    Driver::write32(&mut dev, STATUS, 0);
    assert_eq!((still != 0, rd(&mut dev, STATUS)), (true, 0));
}

#[test]
fn device_works_again_after_reset_from_needs_reset() {
    let mut dev = enable_with_size(6);
    let mut drv = Driver::new(1 << 16);
    drv.init(&mut dev, V1, 2, 8);
    let a = drv.buf(b"ok");
    let b = drv.alloc(2);
    drv.add_chain(0, &[r(a, 2), w(b, 2)]);
    Driver::notify(&mut dev, 0);
    dev.process(&mut drv.mem);
    assert_eq!((rd(&mut dev, STATUS), drv.read_mem(b, 2)), (RUNNING, b"ok".to_vec()));
}

#[test]
fn notify_for_missing_queue_is_ignored() {
    let (mut dev, irq, mut drv) = ready_dev(V1);
    Driver::notify(&mut dev, 7);
    dev.process(&mut drv.mem);
    assert_eq!((rd(&mut dev, STATUS), irq.level()), (RUNNING, false));
}

#[test]
fn chains_posted_before_driver_ok_are_processed_after_it() {
    let (mut dev, _) = new_dev();
    let mut drv = Driver::new(1 << 16);
    Driver::negotiate(&mut dev, V1);
    drv.setup_queue(&mut dev, 0, 8);
    Driver::write32(&mut dev, QUEUE_READY, 1);
    let a = drv.buf(b"x");
    let b = drv.alloc(1);
    drv.add_chain(0, &[r(a, 1), w(b, 1)]);
    Driver::write32(&mut dev, STATUS, RUNNING);
    dev.process(&mut drv.mem);
    assert_eq!(drv.take_used(0).len(), 1);
}

#[test]
fn queue_notify_rings_doorbell() {
    let (mut dev, _, _) = ready_dev(V1);
    let bell = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    dev.set_doorbell(bell.clone());
    Driver::notify(&mut dev, 0);
    assert!(bell.load(std::sync::atomic::Ordering::Acquire));
}
