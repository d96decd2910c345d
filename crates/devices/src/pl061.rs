//! ARM PrimeCell GPIO PL061 (DDI 0190): 8 pins, as QEMU's `virt` machine has it (`arm,pl061` at
//! `0x0903_0000`, SPI 7; pin 3 is the `gpio-keys` power button Linux's `gpio-pl061` and
//! `gpio_keys` drivers turn into `KEY_POWER`).
//!
//! | offset | register | meaning |
//! |---|---|---|
//! | `0x000..0x400` | GPIODATA | address bits 9:2 mask the pins accessed: reads return the masked pin levels, writes change masked *output* pins |
//! | `0x400` | GPIODIR | 1 = output |
//! | `0x404` | GPIOIS | 1 = level-sensitive, 0 = edge |
//! | `0x408` | GPIOIBE | 1 = both edges (edge pins) |
//! | `0x40c` | GPIOIEV | 1 = rising edge / high level, 0 = falling / low |
//! | `0x410` | GPIOIE | interrupt mask (1 = enabled) |
//! | `0x414` | GPIORIS | raw interrupt status (read-only) |
//! | `0x418` | GPIOMIS | `RIS & IE` (read-only) |
//! | `0x41c` | GPIOIC | write 1 to clear edge interrupts |
//! | `0x420` | GPIOAFSEL | alternate function select (stored) |
//! | `0xfe0..0x1000` | PeriphID0..3, PCellID0..3 | `0x00041061`, `0xb105f00d` |
//!
//! A pin's level is its output bit when GPIODIR says output, otherwise the level the board last
//! drove with [`Pl061::set_input`]. Edge-sensitive pins latch an interrupt when an *input* pin
//! changes in the chosen direction (or either, with IBE); GPIOIC clears the latch. A
//! level-sensitive pin's RIS bit follows its level (GPIOIC does not clear it). The one output
//! line (QEMU's combined `GPIOINTR`) is high while `RIS & IE`.
//!
//! The board's power button: press with `set_input(3, true)` and release with
//! `set_input(3, false)` about 100 ms later (what QEMU's `gpio-key` does); Linux's `gpio_keys`
//! asks for both edges and reports a key press and release. [`Pl061::outputs`] gives the
//! levels of the output pins for a board that wires them somewhere.
//!
//! Registers are 32 bits with 8 meaningful bits at word-aligned offsets; 1- and 2-byte accesses
//! act on the low bits, 8-byte ones as 32-bit ones (logged); unaligned and unknown offsets and
//! writes to read-only registers are logged, read 0 and are ignored.

use crate::access::DrivenLine;
use crate::primecell::{id_register, narrow};
use mimic_core::{guest_error, IrqLine, Size};
use mimic_memory::MmioDevice;

/// Device-tree `compatible` (with `gpio-controller`, `#gpio-cells = <2>`, `clock-names = "apb_pclk"`; the power button is a `gpio-keys` node with `gpios = <&pl061 3 0>` and `linux,code = <116>` (KEY_POWER)).
pub const COMPATIBLE: [&str; 2] = ["arm,pl061", "arm,primecell"];
/// The PL061's peripheral ID.
pub const PERIPH_ID: u32 = 0x0004_1061;
/// Number of pins.
pub const PINS: u32 = 8;
/// The pin QEMU's `virt` wires to the `gpio-keys` power button.
pub const VIRT_POWER_BUTTON_PIN: u32 = 3;

pub const GPIODATA: u64 = 0x000;
pub const GPIODIR: u64 = 0x400;
pub const GPIOIS: u64 = 0x404;
pub const GPIOIBE: u64 = 0x408;
pub const GPIOIEV: u64 = 0x40c;
pub const GPIOIE: u64 = 0x410;
pub const GPIORIS: u64 = 0x414;
pub const GPIOMIS: u64 = 0x418;
pub const GPIOIC: u64 = 0x41c;
pub const GPIOAFSEL: u64 = 0x420;

/// Every guest-visible bit of the GPIO controller (one bit per pin).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Pl061State {
    /// Output values written by the guest (meaningful where `dir` is set).
    pub out: u8,
    /// Input pin levels as the board drives them (wires).
    pub input: u8,
    pub dir: u8,
    pub is: u8,
    pub ibe: u8,
    pub iev: u8,
    pub ie: u8,
    /// Latched edge interrupts.
    pub edge: u8,
    pub afsel: u8,
}

impl Pl061State {
    fn pins(&self) -> u8 {
        (self.out & self.dir) | (self.input & !self.dir)
    }
    fn ris(&self) -> u8 {
        let level = !(self.pins() ^ self.iev) & self.is;
        (self.edge & !self.is) | level
    }
    /// Latch edge interrupts for input pins that went from `old` to `new`.
    fn detect_edges(&mut self, old: u8, new: u8) {
        let changed = (old ^ new) & !self.dir & !self.is;
        let rising = changed & new;
        let falling = changed & !new;
        self.edge |= (changed & self.ibe) | (rising & self.iev & !self.ibe) | (falling & !self.iev & !self.ibe);
    }
}

/// A PL061 signalling on `I`.
pub struct Pl061<I> {
    state: Pl061State,
    irq: DrivenLine<I>,
}

impl<I> std::fmt::Debug for Pl061<I> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pl061").field("state", &self.state).finish_non_exhaustive()
    }
}

impl<I: IrqLine> Pl061<I> {
    /// A controller in its reset state (every pin an input at low level), driving `irq`.
    pub fn new(irq: I) -> Self {
        Pl061 { state: Pl061State::default(), irq: DrivenLine::new(irq) }
    }

    /// Drive input pin `pin` (0..8) to `level`; other pins are ignored with a warning.
    pub fn set_input(&mut self, pin: u32, level: bool) {
        if pin >= PINS {
            tracing::warn!("pl061: set_input on nonexistent pin {pin}");
            return;
        }
        let old = self.state.input;
        let b = 1u8 << pin;
        let new = if level { old | b } else { old & !b };
        self.state.input = new;
        self.state.detect_edges(old, new);
        self.update_irq();
    }

    /// The levels of the pins configured as outputs (bit per pin; input pins read 0).
    pub fn outputs(&self) -> u8 {
        self.state.out & self.state.dir
    }

    /// The level this controller drives on its interrupt line.
    pub fn irq_level(&self) -> bool {
        self.irq.level()
    }

    /// Hardware reset: registers cleared. Input levels are wires and stay.
    pub fn reset(&mut self) {
        self.state = Pl061State { input: self.state.input, ..Pl061State::default() };
        self.update_irq();
    }

    pub fn state(&self) -> &Pl061State {
        &self.state
    }

    /// Restore a saved state and drive the interrupt line to match.
    pub fn set_state(&mut self, state: Pl061State) {
        self.state = state;
        let level = self.state.ris() & self.state.ie != 0;
        self.irq.force(level);
    }

    fn update_irq(&mut self) {
        let level = self.state.ris() & self.state.ie != 0;
        self.irq.set(level);
    }

    fn read32(&self, offset: u64) -> Option<u32> {
        let s = &self.state;
        let v = match offset {
            0x000..0x400 => s.pins() & ((offset >> 2) as u8),
            GPIODIR => s.dir,
            GPIOIS => s.is,
            GPIOIBE => s.ibe,
            GPIOIEV => s.iev,
            GPIOIE => s.ie,
            GPIORIS => s.ris(),
            GPIOMIS => s.ris() & s.ie,
            GPIOIC => 0,
            GPIOAFSEL => s.afsel,
            _ => return id_register(offset, PERIPH_ID),
        };
        Some(u32::from(v))
    }

    fn write32(&mut self, offset: u64, value: u32) -> bool {
        let v = value as u8;
        let s = &mut self.state;
        match offset {
            0x000..0x400 => {
                let mask = (offset >> 2) as u8 & s.dir;
                s.out = (s.out & !mask) | (v & mask);
            }
            GPIODIR => s.dir = v,
            GPIOIS => s.is = v,
            GPIOIBE => s.ibe = v,
            GPIOIEV => s.iev = v,
            GPIOIE => s.ie = v,
            GPIOIC => s.edge &= !v,
            GPIOAFSEL => s.afsel = v,
            GPIORIS | GPIOMIS => guest_error!("pl061: write {value:#x} to read-only register {offset:#x}"),
            _ => return false,
        }
        true
    }
}

impl<I: IrqLine> MmioDevice for Pl061<I> {
    fn read(&mut self, offset: u64, size: Size) -> u64 {
        if size == Size::B8 {
            guest_error!("pl061: 8-byte read at {offset:#x}, registers are 32 bits");
        }
        let v = if offset.is_multiple_of(4) { self.read32(offset) } else { None };
        v.map_or_else(
            || {
                guest_error!("pl061: {}-byte read at bad offset {offset:#x}", size.bytes());
                0
            },
            |v| narrow(v, size),
        )
    }

    fn write(&mut self, offset: u64, size: Size, value: u64) {
        if size == Size::B8 {
            guest_error!("pl061: 8-byte write at {offset:#x}, registers are 32 bits");
        }
        let value = narrow(value as u32, size) as u32;
        if !offset.is_multiple_of(4) || !self.write32(offset, value) {
            guest_error!("pl061: {}-byte write of {value:#x} at bad offset {offset:#x}", size.bytes());
            return;
        }
        self.update_irq();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mock::RecordingIrq;

    fn gpio() -> (Pl061<RecordingIrq>, RecordingIrq) {
        let irq = RecordingIrq::new();
        (Pl061::new(irq.clone()), irq)
    }

    fn r(d: &mut Pl061<RecordingIrq>, offset: u64) -> u32 {
        d.read(offset, Size::B4) as u32
    }

    fn w(d: &mut Pl061<RecordingIrq>, offset: u64, value: u32) {
        d.write(offset, Size::B4, u64::from(value));
    }

    /// GPIODATA offset whose address mask selects the pins in `mask`.
    fn data(mask: u8) -> u64 {
        u64::from(mask) << 2
    }

    /// What Linux's gpio_keys asks for: pin 3 an input, both edges, unmasked.
    fn power_button_setup(d: &mut Pl061<RecordingIrq>) {
        w(d, GPIOIBE, 1 << 3);
        w(d, GPIOIE, 1 << 3);
    }

    #[test]
    fn pl061_data_read_is_masked_by_address() {
        let (mut d, _) = gpio();
        d.set_input(1, true);
        d.set_input(3, true);
        assert_eq!((r(&mut d, data(0xff)), r(&mut d, data(0x02)), r(&mut d, data(0x04))), (0x0a, 0x02, 0));
    }

    #[test]
    fn pl061_data_write_changes_only_masked_outputs() {
        let (mut d, _) = gpio();
        w(&mut d, GPIODIR, 0x0f);
        w(&mut d, data(0x03), 0xff);
        assert_eq!((d.outputs(), r(&mut d, data(0xff))), (0x03, 0x03));
    }

    #[test]
    fn pl061_data_write_to_input_pin_is_ignored() {
        let (mut d, _) = gpio();
        w(&mut d, data(0xff), 0xff);
        w(&mut d, GPIODIR, 0xff);
        assert_eq!(d.outputs(), 0);
    }

    #[test]
    fn pl061_rising_edge_with_iev_raises_irq() {
        let (mut d, irq) = gpio();
        w(&mut d, GPIOIEV, 1 << 2);
        w(&mut d, GPIOIE, 1 << 2);
        d.set_input(2, true);
        assert_eq!((irq.level(), r(&mut d, GPIOMIS)), (true, 1 << 2));
    }

    #[test]
    fn pl061_falling_edge_without_iev_raises_irq() {
        let (mut d, irq) = gpio();
        d.set_input(2, true);
        w(&mut d, GPIOIE, 1 << 2);
        let before = irq.level();
        d.set_input(2, false);
        assert_eq!((before, irq.level()), (false, true));
    }

    #[test]
    fn pl061_rising_edge_without_iev_is_ignored() {
        let (mut d, irq) = gpio();
        w(&mut d, GPIOIE, 1 << 2);
        d.set_input(2, true);
        assert_eq!((irq.level(), r(&mut d, GPIORIS)), (false, 0));
    }

    #[test]
    fn pl061_power_button_press_and_release_each_interrupt() {
        let (mut d, irq) = gpio();
        power_button_setup(&mut d);
        d.set_input(VIRT_POWER_BUTTON_PIN, true);
        let pressed = (irq.level(), r(&mut d, data(1 << 3)));
        w(&mut d, GPIOIC, 1 << 3);
        d.set_input(VIRT_POWER_BUTTON_PIN, false);
        assert_eq!((pressed, irq.history()), ((true, 1 << 3), vec![true, false, true]));
    }

    #[test]
    fn pl061_ic_clears_edge_interrupt() {
        let (mut d, irq) = gpio();
        power_button_setup(&mut d);
        d.set_input(3, true);
        w(&mut d, GPIOIC, 1 << 3);
        assert_eq!((irq.level(), r(&mut d, GPIORIS)), (false, 0));
    }

    #[test]
    fn pl061_level_interrupt_follows_pin_and_ignores_ic() {
        let (mut d, irq) = gpio();
        w(&mut d, GPIOIS, 1 << 5);
        w(&mut d, GPIOIEV, 1 << 5);
        w(&mut d, GPIOIE, 1 << 5);
        d.set_input(5, true);
        w(&mut d, GPIOIC, 1 << 5);
        let held = irq.level();
        d.set_input(5, false);
        assert_eq!((held, irq.level()), (true, false));
    }

    #[test]
    fn pl061_masked_interrupt_sets_only_ris() {
        let (mut d, irq) = gpio();
        w(&mut d, GPIOIBE, 1);
        d.set_input(0, true);
        assert_eq!((irq.level(), r(&mut d, GPIORIS), r(&mut d, GPIOMIS)), (false, 1, 0));
    }

    #[test]
    fn pl061_output_pin_input_changes_do_not_interrupt() {
        let (mut d, irq) = gpio();
        w(&mut d, GPIODIR, 1);
        w(&mut d, GPIOIBE, 1);
        w(&mut d, GPIOIE, 1);
        d.set_input(0, true);
        assert!(!irq.level());
    }

    #[test]
    fn pl061_registers_read_back() {
        let (mut d, _) = gpio();
        for (reg, v) in [(GPIODIR, 0x11), (GPIOIS, 0x22), (GPIOIBE, 0x33), (GPIOIEV, 0x44), (GPIOAFSEL, 0x55)] {
            w(&mut d, reg, v);
        }
        let got: Vec<u32> = [GPIODIR, GPIOIS, GPIOIBE, GPIOIEV, GPIOAFSEL].iter().map(|&o| r(&mut d, o)).collect();
        assert_eq!(got, vec![0x11, 0x22, 0x33, 0x44, 0x55]);
    }

    #[test]
    fn pl061_id_registers_read_primecell_ids() {
        let (mut d, _) = gpio();
        let ids: Vec<u32> = (0..8).map(|i| r(&mut d, 0xfe0 + 4 * i)).collect();
        assert_eq!(ids, vec![0x61, 0x10, 0x04, 0x00, 0x0d, 0xf0, 0x05, 0xb1]);
    }

    #[test]
    fn pl061_bad_accesses_read_zero_without_effect() {
        let (mut d, irq) = gpio();
        d.set_input(1, true);
        let before = d.state().clone();
        w(&mut d, 0x424, 1);
        w(&mut d, GPIORIS, 0xff);
        d.write(GPIODIR + 1, Size::B1, 0xff);
        let reads = [d.read(0x424, Size::B4), d.read(GPIODATA + 2, Size::B2), d.read(u64::MAX, Size::B4)];
        assert_eq!((reads, d.state() == &before, irq.history()), ([0; 3], true, vec![]));
    }

    #[test]
    fn pl061_set_input_on_missing_pin_is_ignored() {
        let (mut d, _) = gpio();
        d.set_input(8, true);
        assert_eq!(d.state(), &Pl061State::default());
    }

    #[test]
    fn pl061_reset_keeps_inputs_and_lowers_irq() {
        let (mut d, irq) = gpio();
        power_button_setup(&mut d);
        d.set_input(3, true);
        d.reset();
        assert_eq!((irq.level(), r(&mut d, data(0xff)), r(&mut d, GPIOIE)), (false, 1 << 3, 0));
    }

    #[test]
    fn pl061_set_state_restores_and_drives_irq() {
        let (mut d, _) = gpio();
        power_button_setup(&mut d);
        d.set_input(3, true);
        let saved = d.state().clone();
        let (mut e, irq) = gpio();
        e.set_state(saved);
        assert_eq!((irq.level(), r(&mut e, GPIOMIS)), (true, 1 << 3));
    }

    proptest::proptest! {
        /// Random register traffic and pin changes never panic and keep the line equal to MIS.
        #[test]
        fn pl061_random_accesses_never_panic(
            ops in proptest::collection::vec((0u64..0x1008, 0u8..4, proptest::prelude::any::<u32>(), proptest::prelude::any::<bool>(), 0u32..10), 1..60),
        ) {
            let (mut d, irq) = gpio();
            for (offset, size, v, write, pin) in ops {
                let size = [Size::B1, Size::B2, Size::B4, Size::B8][usize::from(size)];
                if write { d.write(offset, size, u64::from(v)); } else { d.read(offset, size); }
                d.set_input(pin, v & 1 != 0);
            }
            let mis = d.read(GPIOMIS, Size::B4);
            proptest::prop_assert_eq!(irq.level(), mis != 0);
        }
    }
}
