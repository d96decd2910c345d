//! The split virtqueue: chains, indirect tables, notification suppression, and what a malicious
//! driver can do to it (break the queue, never the host).

mod common;

use common::*;
use mimic_memory::{FlatMemory, GuestMemory};
use mimic_virtio::features::{status, VIRTIO_F_RING_EVENT_IDX, VIRTIO_F_RING_INDIRECT_DESC, VIRTIO_F_VERSION_1};
use mimic_virtio::mmio::*;
use mimic_virtio::mock::{r, w, write_desc, Driver, RAM_BASE};
use mimic_virtio::queue::{VIRTQ_AVAIL_F_NO_INTERRUPT, VIRTQ_DESC_F_INDIRECT, VIRTQ_DESC_F_NEXT, VIRTQ_DESC_F_WRITE};
use mimic_virtio::{Queue, QueueError};
use proptest::prelude::*;

const V1: u64 = VIRTIO_F_VERSION_1;
const IND: u64 = VIRTIO_F_RING_INDIRECT_DESC;
const EVT: u64 = VIRTIO_F_RING_EVENT_IDX;
const NEEDS_RESET: u32 = status::DEVICE_NEEDS_RESET as u32;

fn needs_reset(dev: &mut Dev) -> bool {
    Driver::read32(dev, STATUS) & NEEDS_RESET != 0
}

/// Post a raw head on queue 0, notify, process.
fn kick(dev: &mut Dev, drv: &mut Driver, head: u16) {
    drv.push_avail(0, head);
    Driver::notify(dev, 0);
    dev.process(&mut drv.mem);
}

#[test]
fn chain_spanning_several_buffers_is_read_and_written_in_order() {
    let (mut dev, _, mut drv) = ready_dev(V1);
    let a = drv.buf(b"abc");
    let b = drv.buf(b"defg");
    let (o1, o2) = (drv.alloc(2), drv.alloc(8));
    drv.add_chain(0, &[r(a, 3), r(b, 4), w(o1, 2), w(o2, 8)]);
    Driver::notify(&mut dev, 0);
    dev.process(&mut drv.mem);
    assert_eq!((drv.read_mem(o1, 2), drv.read_mem(o2, 5)), (b"ab".to_vec(), b"cdefg".to_vec()));
}

#[test]
fn rings_wrap_after_more_requests_than_queue_size() {
    let (mut dev, _, mut drv) = ready_dev(V1);
    let mut lens = Vec::new();
    for i in 0..20u8 {
        let a = drv.buf(&[i]);
        let b = drv.alloc(1);
        drv.add_chain(0, &[r(a, 1), w(b, 1)]);
        Driver::notify(&mut dev, 0);
        dev.process(&mut drv.mem);
        lens.extend(drv.take_used(0).into_iter().map(|(_, l)| l));
        assert_eq!(drv.read_mem(b, 1), [i]);
    }
    assert_eq!((lens.len(), needs_reset(&mut dev)), (20, false));
}

#[test]
fn indirect_chain_is_followed_when_negotiated() {
    let (mut dev, _, mut drv) = ready_dev(V1 | IND);
    let a = drv.buf(b"xyz");
    let b = drv.alloc(3);
    let head = drv.add_indirect(0, &[r(a, 3), w(b, 3)]);
    Driver::notify(&mut dev, 0);
    dev.process(&mut drv.mem);
    assert_eq!((drv.take_used(0), drv.read_mem(b, 3)), (vec![(u32::from(head), 3)], b"xyz".to_vec()));
}

#[test]
fn direct_descriptors_followed_by_indirect_table_form_one_chain() {
    let (mut dev, _, mut drv) = ready_dev(V1 | IND);
    let a = drv.buf(b"12");
    let b = drv.alloc(2);
    let table = drv.alloc(16);
    write_desc(&mut drv.mem, table, b, 2, VIRTQ_DESC_F_WRITE, 0);
    drv.set_desc(0, 0, a, 2, VIRTQ_DESC_F_NEXT, 1);
    drv.set_desc(0, 1, table, 16, VIRTQ_DESC_F_INDIRECT, 0);
    kick(&mut dev, &mut drv, 0);
    assert_eq!(drv.read_mem(b, 2), b"12");
}

#[test]
fn indirect_without_negotiation_breaks_queue() {
    let (mut dev, _, mut drv) = ready_dev(V1);
    let b = drv.alloc(1);
    drv.add_indirect(0, &[w(b, 1)]);
    Driver::notify(&mut dev, 0);
    dev.process(&mut drv.mem);
    assert!(needs_reset(&mut dev));
}

#[test]
fn nested_indirect_breaks_queue() {
    let (mut dev, _, mut drv) = ready_dev(V1 | IND);
    let inner = drv.alloc(16);
    let outer = drv.alloc(16);
    write_desc(&mut drv.mem, outer, inner, 16, VIRTQ_DESC_F_INDIRECT, 0);
    drv.set_desc(0, 0, outer, 16, VIRTQ_DESC_F_INDIRECT, 0);
    kick(&mut dev, &mut drv, 0);
    assert!(needs_reset(&mut dev));
}

#[test]
fn indirect_with_next_flag_breaks_queue() {
    let (mut dev, _, mut drv) = ready_dev(V1 | IND);
    let table = drv.alloc(16);
    drv.set_desc(0, 0, table, 16, VIRTQ_DESC_F_INDIRECT | VIRTQ_DESC_F_NEXT, 1);
    kick(&mut dev, &mut drv, 0);
    assert!(needs_reset(&mut dev));
}

#[test]
fn indirect_length_not_multiple_of_16_breaks_queue() {
    let (mut dev, _, mut drv) = ready_dev(V1 | IND);
    let table = drv.alloc(32);
    drv.set_desc(0, 0, table, 20, VIRTQ_DESC_F_INDIRECT, 0);
    kick(&mut dev, &mut drv, 0);
    assert!(needs_reset(&mut dev));
}

#[test]
fn indirect_table_loop_breaks_queue() {
    let (mut dev, _, mut drv) = ready_dev(V1 | IND);
    let b = drv.alloc(4);
    let table = drv.alloc(32);
    write_desc(&mut drv.mem, table, b, 4, VIRTQ_DESC_F_NEXT, 1);
    write_desc(&mut drv.mem, table + 16, b, 4, VIRTQ_DESC_F_NEXT, 0);
    drv.set_desc(0, 0, table, 32, VIRTQ_DESC_F_INDIRECT, 0);
    kick(&mut dev, &mut drv, 0);
    assert!(needs_reset(&mut dev));
}

#[test]
fn descriptor_loop_breaks_queue_and_raises_config_interrupt() {
    let (mut dev, irq, mut drv) = ready_dev(V1);
    let b = drv.alloc(4);
    drv.set_desc(0, 0, b, 4, VIRTQ_DESC_F_NEXT, 1);
    drv.set_desc(0, 1, b, 4, VIRTQ_DESC_F_NEXT, 0);
    kick(&mut dev, &mut drv, 0);
    assert_eq!(
        (needs_reset(&mut dev), Driver::read32(&mut dev, INTERRUPT_STATUS), irq.level()),
        (true, INT_CONFIG, true)
    );
}

#[test]
fn head_index_outside_table_breaks_queue() {
    let (mut dev, _, mut drv) = ready_dev(V1);
    kick(&mut dev, &mut drv, 8);
    assert!(needs_reset(&mut dev));
}

#[test]
fn next_index_outside_table_breaks_queue() {
    let (mut dev, _, mut drv) = ready_dev(V1);
    let b = drv.alloc(4);
    drv.set_desc(0, 0, b, 4, VIRTQ_DESC_F_NEXT, 0xffff);
    kick(&mut dev, &mut drv, 0);
    assert!(needs_reset(&mut dev));
}

#[test]
fn readable_after_writable_breaks_queue() {
    let (mut dev, _, mut drv) = ready_dev(V1);
    let b = drv.alloc(4);
    drv.add_chain(0, &[w(b, 2), r(b + 2, 2)]);
    Driver::notify(&mut dev, 0);
    dev.process(&mut drv.mem);
    assert!(needs_reset(&mut dev));
}

#[test]
fn buffer_outside_guest_memory_breaks_queue() {
    let (mut dev, _, mut drv) = ready_dev(V1);
    let b = drv.alloc(4);
    drv.add_chain(0, &[r(0x1000, 4), w(b, 4)]);
    Driver::notify(&mut dev, 0);
    dev.process(&mut drv.mem);
    assert!(needs_reset(&mut dev));
}

#[test]
fn buffer_address_wrapping_breaks_queue() {
    let (mut dev, _, mut drv) = ready_dev(V1);
    drv.add_chain(0, &[r(u64::MAX - 2, 16)]);
    Driver::notify(&mut dev, 0);
    dev.process(&mut drv.mem);
    assert!(needs_reset(&mut dev));
}

#[test]
fn huge_length_is_refused_by_device_limit_without_breaking_queue() {
    let (mut dev, _, mut drv) = ready_dev(V1);
    let b = drv.alloc(4);
    let head = drv.add_chain(0, &[r(RAM_BASE, u32::MAX), r(RAM_BASE, u32::MAX), w(b, 4)]);
    Driver::notify(&mut dev, 0);
    dev.process(&mut drv.mem);
    assert_eq!((drv.take_used(0), needs_reset(&mut dev)), (vec![(u32::from(head), 0)], false));
}

#[test]
fn available_index_jumping_past_size_breaks_queue() {
    let (mut dev, _, mut drv) = ready_dev(V1);
    let avail = drv.queues[0].avail;
    drv.write_u16(avail + 2, 9);
    Driver::notify(&mut dev, 0);
    dev.process(&mut drv.mem);
    assert!(needs_reset(&mut dev));
}

#[test]
fn rings_outside_guest_memory_break_queue() {
    let (mut dev, _) = new_dev();
    let mut drv = Driver::new(1 << 16);
    Driver::negotiate(&mut dev, V1);
    for (reg, v) in [(QUEUE_NUM, 8), (QUEUE_DESC_LOW, 0x10), (QUEUE_DRIVER_LOW, 0x20), (QUEUE_DEVICE_LOW, 0x40)] {
        Driver::write32(&mut dev, reg, v);
    }
    Driver::write32(&mut dev, QUEUE_READY, 1);
    Driver::write32(&mut dev, STATUS, 0xf);
    Driver::notify(&mut dev, 0);
    dev.process(&mut drv.mem);
    assert!(needs_reset(&mut dev));
}

#[test]
fn broken_queue_processes_nothing_more() {
    let (mut dev, _, mut drv) = ready_dev(V1);
    kick(&mut dev, &mut drv, 8);
    let a = drv.buf(b"x");
    let b = drv.alloc(1);
    drv.add_chain(0, &[r(a, 1), w(b, 1)]);
    Driver::notify(&mut dev, 0);
    dev.process(&mut drv.mem);
    assert!(drv.take_used(0).is_empty());
}

fn echo_one(dev: &mut Dev, drv: &mut Driver) {
    let a = drv.buf(b"x");
    let b = drv.alloc(1);
    drv.add_chain(0, &[r(a, 1), w(b, 1)]);
    Driver::notify(dev, 0);
    dev.process(&mut drv.mem);
}

#[test]
fn no_interrupt_flag_suppresses_interrupt_without_event_idx() {
    let (mut dev, irq, mut drv) = ready_dev(V1);
    drv.set_avail_flags(0, VIRTQ_AVAIL_F_NO_INTERRUPT);
    echo_one(&mut dev, &mut drv);
    assert_eq!((drv.take_used(0).len(), irq.level()), (1, false));
}

#[test]
fn event_idx_first_used_buffer_interrupts() {
    let (mut dev, irq, mut drv) = ready_dev(V1 | EVT);
    echo_one(&mut dev, &mut drv);
    assert!(irq.level());
}

#[test]
fn event_idx_used_event_ahead_suppresses_interrupt() {
    let (mut dev, irq, mut drv) = ready_dev(V1 | EVT);
    echo_one(&mut dev, &mut drv);
    Driver::ack(&mut dev);
    drv.set_used_event(0, 5); // "interrupt me when used idx passes 5"
    echo_one(&mut dev, &mut drv); // used idx 1 → 2
    assert_eq!((drv.take_used(0).len(), irq.level()), (2, false));
}

#[test]
fn event_idx_used_event_reached_interrupts() {
    let (mut dev, irq, mut drv) = ready_dev(V1 | EVT);
    echo_one(&mut dev, &mut drv);
    Driver::ack(&mut dev);
    drv.set_used_event(0, 1);
    echo_one(&mut dev, &mut drv); // used idx 1 → 2 crosses event 1
    assert!(irq.level());
}

#[test]
fn event_idx_avail_event_tracks_consumed_index() {
    let (mut dev, _, mut drv) = ready_dev(V1 | EVT);
    echo_one(&mut dev, &mut drv);
    echo_one(&mut dev, &mut drv);
    assert_eq!(drv.avail_event(0), 2);
}

#[test]
fn no_interrupt_flag_is_ignored_with_event_idx() {
    let (mut dev, irq, mut drv) = ready_dev(V1 | EVT);
    drv.set_avail_flags(0, VIRTQ_AVAIL_F_NO_INTERRUPT);
    echo_one(&mut dev, &mut drv);
    assert!(irq.level());
}

/// A queue programmed directly (no transport) over `mem`.
fn raw_queue(size: u16, indirect: bool, event_idx: bool) -> Queue {
    let mut q = Queue::new(size);
    q.set_size(size);
    q.set_desc_table(RAM_BASE);
    q.set_avail_ring(RAM_BASE + 0x1000);
    q.set_used_ring(RAM_BASE + 0x2000);
    q.set_features(event_idx, indirect);
    q.enable().unwrap();
    q
}

#[test]
fn queue_pop_reports_lengths_of_both_parts() {
    let mut mem = FlatMemory::new(RAM_BASE, 0x4000);
    write_desc(&mut mem, RAM_BASE, RAM_BASE + 0x3000, 10, VIRTQ_DESC_F_NEXT, 1);
    write_desc(&mut mem, RAM_BASE + 16, RAM_BASE + 0x3100, 7, VIRTQ_DESC_F_WRITE, 0);
    mem.write(RAM_BASE + 0x1002, &1u16.to_le_bytes()).unwrap();
    let mut q = raw_queue(4, false, false);
    let c = q.pop(&mut mem).unwrap();
    assert_eq!((c.head(), c.readable_len(), c.writable_len(), c.readable().len()), (0, 10, 7, 1));
}

#[test]
fn read_to_vec_over_limit_is_too_large() {
    let mut mem = FlatMemory::new(RAM_BASE, 0x4000);
    write_desc(&mut mem, RAM_BASE, RAM_BASE + 0x3000, 100, 0, 0);
    mem.write(RAM_BASE + 0x1002, &1u16.to_le_bytes()).unwrap();
    let mut q = raw_queue(4, false, false);
    let c = q.pop(&mut mem).unwrap();
    assert_eq!(c.read_to_vec(&mem, 99), Err(QueueError::TooLarge { len: 100, limit: 99 }));
}

#[test]
fn undo_pop_hands_out_same_chain_again() {
    let mut mem = FlatMemory::new(RAM_BASE, 0x4000);
    write_desc(&mut mem, RAM_BASE + 32, RAM_BASE + 0x3000, 4, 0, 0);
    mem.write(RAM_BASE + 0x1002, &1u16.to_le_bytes()).unwrap();
    mem.write(RAM_BASE + 0x1004, &2u16.to_le_bytes()).unwrap();
    let mut q = raw_queue(4, false, false);
    let first = q.pop(&mut mem).unwrap();
    q.undo_pop();
    assert_eq!(q.pop(&mut mem), Some(first));
}

const MEM: usize = 0x4000;

fn addr_strategy() -> impl Strategy<Value = u64> {
    prop_oneof![
        4 => (0u64..MEM as u64).prop_map(|o| RAM_BASE + o),
        1 => any::<u64>(),
        1 => (0u64..64).prop_map(|o| u64::MAX - o),
        1 => Just(0u64),
    ]
}

fn len_strategy() -> impl Strategy<Value = u32> {
    prop_oneof![4 => 0u32..256, 1 => any::<u32>(), 1 => (0u32..8).prop_map(|k| 16 * k)]
}

fn desc_strategy() -> impl Strategy<Value = (u64, u32, u16, u16)> {
    (addr_strategy(), len_strategy(), 0u16..8, prop_oneof![4 => 0u16..16, 1 => any::<u16>()])
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// Random descriptor tables, available rings and memory contents (which serve as indirect
    /// tables) must never panic or hang: each pop either yields a well-formed chain or breaks
    /// the queue, and a broken queue yields nothing more.
    #[test]
    fn random_rings_never_panic(
        size_log in 0u32..5,
        indirect in any::<bool>(),
        event_idx in any::<bool>(),
        descs in prop::collection::vec(desc_strategy(), 16),
        ring in prop::collection::vec(any::<u16>(), 16),
        avail_idx in prop_oneof![0u16..20, any::<u16>()],
        noise in prop::collection::vec(any::<u8>(), 512),
    ) {
        let size = 1u16 << size_log;
        let mut mem = FlatMemory::new(RAM_BASE, MEM);
        mem.write(RAM_BASE + 0x3000, &noise).unwrap();
        for (i, (a, l, f, n)) in descs.iter().enumerate() {
            write_desc(&mut mem, RAM_BASE + 16 * i as u64, *a, *l, *f, *n);
        }
        for (i, h) in ring.iter().enumerate() {
            mem.write(RAM_BASE + 0x1004 + 2 * i as u64, &h.to_le_bytes()).unwrap();
        }
        mem.write(RAM_BASE + 0x1002, &avail_idx.to_le_bytes()).unwrap();
        let mut q = raw_queue(size, indirect, event_idx);
        for _ in 0..40 {
            match q.pop(&mut mem) {
                Some(c) => {
                    prop_assert!(c.readable().iter().chain(c.writable()).all(|b| b.addr.checked_add(u64::from(b.len)).is_some()));
                    let mut buf = vec![0; 64];
                    let _ = c.read_at(&mem, 3, &mut buf);
                    let _ = c.write_at(&mut mem, 1, &buf);
                    let _ = c.read_to_vec(&mem, 4096);
                    q.add_used(&mut mem, c.head(), 1);
                    let _ = q.needs_notification(&mem);
                }
                None => break,
            }
        }
        if q.error().is_some() {
            prop_assert!(q.pop(&mut mem).is_none());
        }
    }

    /// The same through the MMIO transport and the echo device, with random register writes
    /// mixed in: the host never panics.
    #[test]
    fn random_transport_traffic_never_panics(
        writes in prop::collection::vec((0u64..0x40, any::<u32>()), 0..40),
        descs in prop::collection::vec(desc_strategy(), 8),
        avail_idx in 0u16..12,
    ) {
        let (mut dev, _, mut drv) = ready_dev(V1 | IND | EVT);
        for (i, (a, l, f, n)) in descs.iter().enumerate() {
            drv.set_desc(0, i as u16, *a, *l, *f, *n);
            drv.set_desc(1, i as u16, *a, *l, *f | VIRTQ_DESC_F_WRITE, *n);
        }
        for q in 0..2 {
            for i in 0..avail_idx {
                drv.push_avail(q, i % 10);
            }
        }
        dev.device_mut().events = vec![1, 2, 3];
        for (k, (reg, v)) in writes.iter().enumerate() {
            Driver::write32(&mut dev, reg * 4, *v);
            if k % 4 == 0 {
                Driver::notify(&mut dev, 0);
                dev.process(&mut drv.mem);
            }
        }
        Driver::notify(&mut dev, 0);
        Driver::notify(&mut dev, 1);
        dev.process(&mut drv.mem);
    }
}
