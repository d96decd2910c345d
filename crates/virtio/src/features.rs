//! Device-independent feature bits and device status bits (virtio 1.2 §6 and §2.1).

/// The driver may use descriptors with `VIRTQ_DESC_F_INDIRECT`.
pub const VIRTIO_F_RING_INDIRECT_DESC: u64 = 1 << 28;
/// `used_event` / `avail_event` suppress notifications.
pub const VIRTIO_F_RING_EVENT_IDX: u64 = 1 << 29;
/// Compliance with virtio 1.x (a modern device); mandatory here.
pub const VIRTIO_F_VERSION_1: u64 = 1 << 32;

/// Features every device gets from the queue implementation.
pub const TRANSPORT_FEATURES: u64 = VIRTIO_F_RING_INDIRECT_DESC | VIRTIO_F_RING_EVENT_IDX | VIRTIO_F_VERSION_1;

/// Device status bits (§2.1).
pub mod status {
    pub const ACKNOWLEDGE: u8 = 1;
    pub const DRIVER: u8 = 2;
    pub const DRIVER_OK: u8 = 4;
    pub const FEATURES_OK: u8 = 8;
    pub const DEVICE_NEEDS_RESET: u8 = 0x40;
    pub const FAILED: u8 = 0x80;
}
