//! ARM PrimeCell UART PL011 (DDI 0183), as QEMU's `virt` machine has it (`arm,pl011` at
//! `0x0900_0000`, SPI 1; Linux's `amba-pl011`, U-Boot's `pl01x` and EDK2's `PL011UartLib`).
//!
//! | offset | register | meaning here |
//! |---|---|---|
//! | `0x000` | UARTDR | read: oldest received byte (bits 7:0; error bits 11:8 read 0); write: transmit |
//! | `0x004` | UARTRSR/ECR | read: sticky overrun (bit 3); write: clear |
//! | `0x018` | UARTFR | flags: BUSY 3 = 0, RXFE 4, TXFF 5 = 0, RXFF 6, TXFE 7 = 1 |
//! | `0x020` | UARTILPR | IrDA low-power divisor (stored) |
//! | `0x024` | UARTIBRD | integer baud divisor (16 bits, stored) |
//! | `0x028` | UARTFBRD | fractional baud divisor (6 bits, stored) |
//! | `0x02c` | UARTLCR_H | line control; bit 4 FEN turns the FIFOs on (16 deep) or off (1 deep) |
//! | `0x030` | UARTCR | control: 0 UARTEN, 7 LBE (loopback), 8 TXE, 9 RXE (reset `0x300`) |
//! | `0x034` | UARTIFLS | FIFO trigger levels (reset `0x12`: half full) |
//! | `0x038` | UARTIMSC | interrupt mask set/clear (1 = enabled) |
//! | `0x03c` | UARTRIS | raw interrupt status (read-only) |
//! | `0x040` | UARTMIS | `RIS & IMSC` (read-only) |
//! | `0x044` | UARTICR | write 1 to clear raw interrupt bits |
//! | `0x048` | UARTDMACR | DMA control (stored; there is no DMA) |
//! | `0xfe0..0x1000` | PeriphID0..3, PCellID0..3 | `0x00141011` (r1p5, as QEMU), `0xb105f00d` |
//!
//! Interrupt bits (RIS/MIS/IMSC/ICR): 4 RX, 5 TX, 6 RT (receive timeout), 10 OE (overrun); the
//! modem and error bits 0–3 and 7–9 exist in IMSC but never rise. The one output line is high
//! while `RIS & IMSC` is non-zero (QEMU's `UARTINTR`, the only line `virt` wires).
//!
//! Choices worth knowing:
//! - **Transmission is instant**: a byte written to UARTDR goes straight to the output (flushed,
//!   for an interactive console), so the TX FIFO is always empty: TXFE = 1, TXFF = BUSY = 0.
//!   UARTEN and TXE are ignored for transmission, as QEMU does (early consoles write before the
//!   UART is enabled).
//! - **TX interrupt**: the FIFO drains at once, so it is always at or below the trigger level;
//!   TXIS is set after every write to UARTDR and cleared by UARTICR (Linux's driver fills the
//!   FIFO, then waits for TXIS to send more, and masks TXIM when it has nothing left).
//! - **RX and receive timeout**: RXIS is set while the FIFO holds at least the IFLS trigger level
//!   (1 byte with the FIFOs off); RTIS (the "timeout" for a FIFO below the trigger) is set at
//!   once when a byte arrives. Both are cleared by UARTICR, RXIS also when reads take the FIFO
//!   below the trigger and RTIS when they empty it.
//! - **Input has backpressure**: the board offers host bytes with [`Pl011::receive`], which takes
//!   only what fits (as [`crate::uart16550::Uart16550::receive`]). Input is taken whatever UARTEN
//!   and RXE say (QEMU only logs that case). In loopback (CR.LBE) transmitted bytes go to the RX
//!   FIFO instead of the output, and external input is refused; a full FIFO there overruns (OE).
//! - Toggling LCR_H.FEN empties the RX FIFO (as QEMU).
//! - Registers are 32 bits at word-aligned offsets. 1- and 2-byte accesses act on the low bits
//!   (Linux uses 16-bit accesses on the ARM PL011, earlycon 8-bit ones); 8-byte accesses act as
//!   32-bit ones and are logged; unaligned offsets and unknown registers are logged, read 0 and
//!   ignore writes.

use crate::access::DrivenLine;
use crate::primecell::{id_register, narrow};
use mimic_core::{guest_error, IrqLine, RateLimit, Size};
use mimic_memory::MmioDevice;
use std::collections::VecDeque;
use std::io::Write;

/// Device-tree `compatible` (with `clocks`/`clock-names = "uartclk", "apb_pclk"` (Linux's AMBA bus needs `apb_pclk`; QEMU uses one 24 MHz fixed clock for both)).
pub const COMPATIBLE: [&str; 2] = ["arm,pl011", "arm,primecell"];
/// Depth of the RX FIFO with LCR_H.FEN set.
pub const FIFO_DEPTH: usize = 16;
/// The peripheral ID QEMU's PL011 reports (part 0x011, designer ARM, revision 1).
pub const PERIPH_ID: u32 = 0x0014_1011;

pub const UARTDR: u64 = 0x000;
pub const UARTRSR: u64 = 0x004;
pub const UARTFR: u64 = 0x018;
pub const UARTILPR: u64 = 0x020;
pub const UARTIBRD: u64 = 0x024;
pub const UARTFBRD: u64 = 0x028;
pub const UARTLCR_H: u64 = 0x02c;
pub const UARTCR: u64 = 0x030;
pub const UARTIFLS: u64 = 0x034;
pub const UARTIMSC: u64 = 0x038;
pub const UARTRIS: u64 = 0x03c;
pub const UARTMIS: u64 = 0x040;
pub const UARTICR: u64 = 0x044;
pub const UARTDMACR: u64 = 0x048;

pub const FR_BUSY: u32 = 1 << 3;
pub const FR_RXFE: u32 = 1 << 4;
pub const FR_TXFF: u32 = 1 << 5;
pub const FR_RXFF: u32 = 1 << 6;
pub const FR_TXFE: u32 = 1 << 7;

pub const LCR_H_FEN: u32 = 1 << 4;

pub const CR_UARTEN: u32 = 1 << 0;
pub const CR_LBE: u32 = 1 << 7;
pub const CR_TXE: u32 = 1 << 8;
pub const CR_RXE: u32 = 1 << 9;

pub const INT_RX: u32 = 1 << 4;
pub const INT_TX: u32 = 1 << 5;
pub const INT_RT: u32 = 1 << 6;
pub const INT_OE: u32 = 1 << 10;
/// Every interrupt bit IMSC holds (bits 10:0).
pub const INT_ALL: u32 = 0x7ff;

const RSR_OE: u32 = 1 << 3;

/// Every guest-visible bit of the UART.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pl011State {
    /// Received bytes not yet read, oldest first.
    pub rx_fifo: VecDeque<u8>,
    /// The last byte read from UARTDR (read again when the FIFO is empty).
    pub last_rx: u8,
    /// Sticky receive status (overrun only).
    pub rsr: u32,
    pub ilpr: u32,
    pub ibrd: u32,
    pub fbrd: u32,
    pub lcr_h: u32,
    pub cr: u32,
    pub ifls: u32,
    pub imsc: u32,
    /// Raw interrupt status.
    pub ris: u32,
    pub dmacr: u32,
}

impl Default for Pl011State {
    /// The state after reset (DDI 0183 reset values).
    fn default() -> Self {
        Pl011State {
            rx_fifo: VecDeque::with_capacity(FIFO_DEPTH),
            last_rx: 0,
            rsr: 0,
            ilpr: 0,
            ibrd: 0,
            fbrd: 0,
            lcr_h: 0,
            cr: CR_RXE | CR_TXE,
            ifls: 0x12,
            imsc: 0,
            ris: 0,
            dmacr: 0,
        }
    }
}

impl Pl011State {
    fn fifo_enabled(&self) -> bool {
        self.lcr_h & LCR_H_FEN != 0
    }
    fn rx_capacity(&self) -> usize {
        if self.fifo_enabled() {
            FIFO_DEPTH
        } else {
            1
        }
    }
    /// Bytes in the RX FIFO at which RXIS rises (IFLS bits 5:3: 1/8, 1/4, 1/2, 3/4, 7/8 full).
    fn rx_trigger(&self) -> usize {
        if !self.fifo_enabled() {
            return 1;
        }
        match (self.ifls >> 3) & 7 {
            0 => 2,
            1 => 4,
            2 => 8,
            3 => 12,
            _ => 14,
        }
    }
    fn loopback(&self) -> bool {
        self.cr & CR_LBE != 0
    }
    fn flags(&self) -> u32 {
        let mut f = FR_TXFE;
        if self.rx_fifo.is_empty() {
            f |= FR_RXFE;
        }
        if self.rx_fifo.len() >= self.rx_capacity() {
            f |= FR_RXFF;
        }
        f
    }
    /// Bytes have arrived: raise RX at the trigger level and the (immediate) receive timeout.
    fn rx_arrived(&mut self) {
        if self.rx_fifo.len() >= self.rx_trigger() {
            self.ris |= INT_RX;
        }
        self.ris |= INT_RT;
    }
    /// A byte has been read: drop RX below the trigger and RT when empty.
    fn rx_drained(&mut self) {
        if self.rx_fifo.len() < self.rx_trigger() {
            self.ris &= !INT_RX;
        }
        if self.rx_fifo.is_empty() {
            self.ris &= !INT_RT;
        }
    }
}

/// A PL011 sending its output to `W` and signalling on `I`.
pub struct Pl011<W, I> {
    state: Pl011State,
    out: W,
    irq: DrivenLine<I>,
}

impl<W, I> std::fmt::Debug for Pl011<W, I> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pl011").field("state", &self.state).finish_non_exhaustive()
    }
}

impl<W: Write + Send, I: IrqLine> Pl011<W, I> {
    /// A UART in its reset state, writing transmitted bytes to `out` and driving `irq`.
    pub fn new(out: W, irq: I) -> Self {
        Pl011 { state: Pl011State::default(), out, irq: DrivenLine::new(irq) }
    }

    /// Offer received bytes; returns how many were taken (a prefix of `bytes`). The caller keeps
    /// the rest and offers them again after the guest reads UARTDR.
    pub fn receive(&mut self, bytes: &[u8]) -> usize {
        let n = self.can_receive().min(bytes.len());
        if n > 0 {
            self.state.rx_fifo.extend(&bytes[..n]);
            self.state.rx_arrived();
            self.update_irq();
        }
        n
    }

    /// How many bytes [`Self::receive`] would take now (0 in loopback).
    pub fn can_receive(&self) -> usize {
        if self.state.loopback() {
            return 0;
        }
        self.state.rx_capacity().saturating_sub(self.state.rx_fifo.len())
    }

    /// Hardware reset: registers to their reset values, RX FIFO emptied, line lowered.
    pub fn reset(&mut self) {
        self.state = Pl011State::default();
        self.update_irq();
    }

    pub fn state(&self) -> &Pl011State {
        &self.state
    }

    /// Restore a saved state and drive the interrupt line to match it.
    pub fn set_state(&mut self, mut state: Pl011State) {
        let cap = state.rx_capacity();
        state.rx_fifo.truncate(cap);
        state.imsc &= INT_ALL;
        state.ris &= INT_ALL;
        self.state = state;
        let level = self.state.ris & self.state.imsc != 0;
        self.irq.force(level);
    }

    /// The level this UART drives on its interrupt line.
    pub fn irq_level(&self) -> bool {
        self.irq.level()
    }

    pub fn output(&self) -> &W {
        &self.out
    }

    pub fn output_mut(&mut self) -> &mut W {
        &mut self.out
    }

    fn update_irq(&mut self) {
        let level = self.state.ris & self.state.imsc != 0;
        self.irq.set(level);
    }

    fn transmit(&mut self, byte: u8) {
        let s = &mut self.state;
        if s.loopback() {
            if s.rx_fifo.len() < s.rx_capacity() {
                s.rx_fifo.push_back(byte);
                s.rx_arrived();
            } else {
                s.rsr |= RSR_OE;
                s.ris |= INT_OE;
            }
        } else {
            let res = self.out.write_all(&[byte]).and_then(|()| self.out.flush());
            if let Err(e) = res {
                static LIMIT: RateLimit = RateLimit::new();
                if LIMIT.hit() {
                    tracing::warn!(count = LIMIT.count(), "pl011: output failed, byte dropped: {e}");
                }
            }
        }
        // The byte left at once: the TX FIFO is at (below) its trigger level again.
        self.state.ris |= INT_TX;
    }

    fn read32(&mut self, offset: u64) -> Option<u32> {
        let s = &mut self.state;
        Some(match offset {
            UARTDR => {
                if let Some(b) = s.rx_fifo.pop_front() {
                    s.last_rx = b;
                    s.rx_drained();
                }
                u32::from(s.last_rx)
            }
            UARTRSR => s.rsr,
            UARTFR => s.flags(),
            UARTILPR => s.ilpr,
            UARTIBRD => s.ibrd,
            UARTFBRD => s.fbrd,
            UARTLCR_H => s.lcr_h,
            UARTCR => s.cr,
            UARTIFLS => s.ifls,
            UARTIMSC => s.imsc,
            UARTRIS => s.ris,
            UARTMIS => s.ris & s.imsc,
            UARTICR => 0,
            UARTDMACR => s.dmacr,
            _ => return id_register(offset, PERIPH_ID),
        })
    }

    fn write32(&mut self, offset: u64, v: u32) -> bool {
        let s = &mut self.state;
        match offset {
            UARTDR => self.transmit(v as u8),
            UARTRSR => s.rsr = 0,
            UARTILPR => s.ilpr = v & 0xff,
            UARTIBRD => s.ibrd = v & 0xffff,
            UARTFBRD => s.fbrd = v & 0x3f,
            UARTLCR_H => {
                if (s.lcr_h ^ v) & LCR_H_FEN != 0 {
                    s.rx_fifo.clear();
                    s.rx_drained();
                }
                s.lcr_h = v & 0xff;
            }
            UARTCR => s.cr = v & 0xff87,
            UARTIFLS => s.ifls = v & 0x3f,
            UARTIMSC => s.imsc = v & INT_ALL,
            UARTICR => s.ris &= !v,
            UARTDMACR => {
                if v & 7 != 0 {
                    guest_error!("pl011: DMA enabled ({v:#x}) but there is no DMA");
                }
                s.dmacr = v & 7;
            }
            UARTFR | UARTRIS | UARTMIS => guest_error!("pl011: write {v:#x} to read-only register {offset:#x}"),
            _ => return false,
        }
        true
    }
}

impl<W: Write + Send, I: IrqLine> MmioDevice for Pl011<W, I> {
    fn read(&mut self, offset: u64, size: Size) -> u64 {
        if size == Size::B8 {
            guest_error!("pl011: 8-byte read at {offset:#x}, registers are 32 bits");
        }
        let v = if offset.is_multiple_of(4) { self.read32(offset) } else { None };
        let Some(v) = v else {
            guest_error!("pl011: {}-byte read at bad offset {offset:#x}", size.bytes());
            return 0;
        };
        self.update_irq();
        narrow(v, size)
    }

    fn write(&mut self, offset: u64, size: Size, value: u64) {
        if size == Size::B8 {
            guest_error!("pl011: 8-byte write at {offset:#x}, registers are 32 bits");
        }
        let value = narrow(value as u32, size) as u32;
        if !offset.is_multiple_of(4) || !self.write32(offset, value) {
            guest_error!("pl011: {}-byte write of {value:#x} at bad offset {offset:#x}", size.bytes());
            return;
        }
        self.update_irq();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mock::{FailingWriter, RecordingIrq, SharedWriter};

    type TestUart = Pl011<SharedWriter, RecordingIrq>;

    fn uart() -> (TestUart, SharedWriter, RecordingIrq) {
        let out = SharedWriter::new();
        let irq = RecordingIrq::new();
        (Pl011::new(out.clone(), irq.clone()), out, irq)
    }

    fn rd(u: &mut TestUart, reg: u64) -> u32 {
        u.read(reg, Size::B4) as u32
    }

    fn wr(u: &mut TestUart, reg: u64, v: u32) {
        u.write(reg, Size::B4, u64::from(v));
    }

    /// Linux's setup: 8N1 with FIFOs, UART, TX and RX enabled.
    fn linux_setup(u: &mut TestUart) {
        wr(u, UARTLCR_H, 0x60 | LCR_H_FEN);
        wr(u, UARTCR, CR_UARTEN | CR_TXE | CR_RXE);
    }

    #[test]
    fn pl011_dr_write_emits_byte_and_flushes() {
        let (mut u, out, _) = uart();
        wr(&mut u, UARTDR, u32::from(b'A'));
        assert_eq!((out.contents(), out.flushes()), (b"A".to_vec(), 1));
    }

    #[test]
    fn pl011_dr_write_while_disabled_still_transmits() {
        let (mut u, out, _) = uart();
        wr(&mut u, UARTCR, 0);
        u.write(UARTDR, Size::B1, u64::from(b'e'));
        assert_eq!(out.contents(), b"e".to_vec());
    }

    #[test]
    fn pl011_reset_flags_report_empty_fifos() {
        let (mut u, _, _) = uart();
        assert_eq!(rd(&mut u, UARTFR), FR_TXFE | FR_RXFE);
    }

    #[test]
    fn pl011_reset_values_match_datasheet() {
        let (mut u, _, _) = uart();
        assert_eq!((rd(&mut u, UARTCR), rd(&mut u, UARTIFLS), rd(&mut u, UARTIMSC)), (0x300, 0x12, 0));
    }

    #[test]
    fn pl011_receive_clears_rxfe() {
        let (mut u, _, _) = uart();
        u.receive(b"x");
        assert_eq!(rd(&mut u, UARTFR) & FR_RXFE, 0);
    }

    #[test]
    fn pl011_receive_without_fifo_takes_one_byte_and_sets_rxff() {
        let (mut u, _, _) = uart();
        let n = u.receive(b"ab");
        assert_eq!((n, rd(&mut u, UARTFR) & FR_RXFF), (1, FR_RXFF));
    }

    #[test]
    fn pl011_receive_with_fifo_takes_sixteen() {
        let (mut u, _, _) = uart();
        linux_setup(&mut u);
        let n = u.receive(&[b'z'; 20]);
        assert_eq!((n, u.can_receive(), rd(&mut u, UARTFR) & FR_RXFF), (16, 0, FR_RXFF));
    }

    #[test]
    fn pl011_dr_read_returns_bytes_in_order() {
        let (mut u, _, _) = uart();
        linux_setup(&mut u);
        u.receive(b"abc");
        let got: Vec<u32> = (0..3).map(|_| rd(&mut u, UARTDR)).collect();
        assert_eq!(got, vec![0x61, 0x62, 0x63]);
    }

    #[test]
    fn pl011_dr_read_of_last_byte_sets_rxfe() {
        let (mut u, _, _) = uart();
        u.receive(b"x");
        rd(&mut u, UARTDR);
        assert_eq!(rd(&mut u, UARTFR) & FR_RXFE, FR_RXFE);
    }

    #[test]
    fn pl011_rx_with_rxim_raises_irq() {
        let (mut u, _, irq) = uart();
        wr(&mut u, UARTIMSC, INT_RX);
        u.receive(b"x");
        assert_eq!((irq.level(), rd(&mut u, UARTMIS)), (true, INT_RX));
    }

    #[test]
    fn pl011_rx_without_mask_keeps_irq_low() {
        let (mut u, _, irq) = uart();
        u.receive(b"x");
        assert_eq!((irq.level(), rd(&mut u, UARTRIS) & INT_RX), (false, INT_RX));
    }

    #[test]
    fn pl011_rx_below_trigger_raises_only_timeout() {
        let (mut u, _, irq) = uart();
        linux_setup(&mut u);
        wr(&mut u, UARTIMSC, INT_RX | INT_RT);
        u.receive(b"ab"); // trigger is 8 (IFLS reset: half full)
        assert_eq!((irq.level(), rd(&mut u, UARTMIS)), (true, INT_RT));
    }

    #[test]
    fn pl011_rx_at_trigger_raises_rx() {
        let (mut u, _, _) = uart();
        linux_setup(&mut u);
        wr(&mut u, UARTIMSC, INT_RX | INT_RT);
        u.receive(b"abcdefgh");
        assert_eq!(rd(&mut u, UARTMIS), INT_RX | INT_RT);
    }

    #[test]
    fn pl011_draining_fifo_lowers_irq() {
        let (mut u, _, irq) = uart();
        linux_setup(&mut u);
        wr(&mut u, UARTIMSC, INT_RX | INT_RT);
        u.receive(b"abcdefgh");
        for _ in 0..8 {
            rd(&mut u, UARTDR);
        }
        assert_eq!((irq.level(), rd(&mut u, UARTRIS)), (false, 0));
    }

    #[test]
    fn pl011_icr_clears_timeout() {
        let (mut u, _, irq) = uart();
        wr(&mut u, UARTIMSC, INT_RT);
        u.receive(b"x");
        wr(&mut u, UARTICR, INT_RT);
        assert_eq!(irq.history(), vec![true, false]);
    }

    #[test]
    fn pl011_dr_write_sets_txis() {
        let (mut u, _, irq) = uart();
        wr(&mut u, UARTIMSC, INT_TX);
        let before = irq.level();
        wr(&mut u, UARTDR, u32::from(b'x'));
        assert_eq!((before, irq.level(), rd(&mut u, UARTMIS)), (false, true, INT_TX));
    }

    #[test]
    fn pl011_masking_txim_lowers_irq() {
        let (mut u, _, irq) = uart();
        wr(&mut u, UARTIMSC, INT_TX);
        wr(&mut u, UARTDR, u32::from(b'x'));
        wr(&mut u, UARTIMSC, 0);
        assert_eq!((irq.level(), rd(&mut u, UARTRIS) & INT_TX), (false, INT_TX));
    }

    #[test]
    fn pl011_icr_clears_txis() {
        let (mut u, _, irq) = uart();
        wr(&mut u, UARTIMSC, INT_TX);
        wr(&mut u, UARTDR, u32::from(b'x'));
        wr(&mut u, UARTICR, INT_TX);
        assert_eq!((irq.level(), rd(&mut u, UARTRIS)), (false, 0));
    }

    #[test]
    fn pl011_fen_toggle_empties_rx_fifo() {
        let (mut u, _, _) = uart();
        linux_setup(&mut u);
        u.receive(b"abc");
        wr(&mut u, UARTLCR_H, 0x60);
        assert_eq!((rd(&mut u, UARTFR) & FR_RXFE, u.can_receive()), (FR_RXFE, 1));
    }

    #[test]
    fn pl011_loopback_dr_write_reads_back_without_output() {
        let (mut u, out, _) = uart();
        wr(&mut u, UARTCR, CR_UARTEN | CR_TXE | CR_RXE | CR_LBE);
        wr(&mut u, UARTDR, u32::from(b'L'));
        assert_eq!((rd(&mut u, UARTDR), out.contents(), u.can_receive()), (u32::from(b'L'), vec![], 0));
    }

    #[test]
    fn pl011_loopback_overrun_sets_oe() {
        let (mut u, _, irq) = uart();
        wr(&mut u, UARTIMSC, INT_OE);
        wr(&mut u, UARTCR, CR_LBE);
        wr(&mut u, UARTDR, 1);
        wr(&mut u, UARTDR, 2);
        assert_eq!((irq.level(), rd(&mut u, UARTRSR), rd(&mut u, UARTDR)), (true, RSR_OE, 1));
    }

    #[test]
    fn pl011_ecr_write_clears_overrun() {
        let (mut u, _, _) = uart();
        wr(&mut u, UARTCR, CR_LBE);
        wr(&mut u, UARTDR, 1);
        wr(&mut u, UARTDR, 2);
        wr(&mut u, UARTRSR, 0);
        assert_eq!(rd(&mut u, UARTRSR), 0);
    }

    #[test]
    fn pl011_divisors_and_lcr_read_back_masked() {
        let (mut u, _, _) = uart();
        wr(&mut u, UARTIBRD, 0x1_0027);
        wr(&mut u, UARTFBRD, 0xff);
        wr(&mut u, UARTLCR_H, 0x170);
        let got = (rd(&mut u, UARTIBRD), rd(&mut u, UARTFBRD), rd(&mut u, UARTLCR_H));
        assert_eq!(got, (0x27, 0x3f, 0x70));
    }

    #[test]
    fn pl011_id_registers_read_primecell_ids() {
        let (mut u, _, _) = uart();
        let ids: Vec<u32> = (0..8).map(|i| rd(&mut u, 0xfe0 + 4 * i)).collect();
        assert_eq!(ids, vec![0x11, 0x10, 0x14, 0x00, 0x0d, 0xf0, 0x05, 0xb1]);
    }

    #[test]
    fn pl011_16bit_access_works_on_low_bits() {
        let (mut u, _, _) = uart();
        u.write(UARTIMSC, Size::B2, 0x50);
        assert_eq!(u.read(UARTIMSC, Size::B2), 0x50);
    }

    #[test]
    fn pl011_bad_offsets_read_zero_and_ignore_writes() {
        let (mut u, out, irq) = uart();
        u.write(0x001, Size::B1, 0x41);
        u.write(0x800, Size::B4, 0x41);
        u.write(UARTFR, Size::B4, 0);
        let reads = [u.read(0x002, Size::B2), u.read(0x04c, Size::B4), u.read(u64::MAX, Size::B4)];
        assert_eq!((reads, out.contents(), irq.history()), ([0; 3], vec![], vec![]));
    }

    #[test]
    fn pl011_output_error_is_dropped_without_panic() {
        let mut u = Pl011::new(FailingWriter, RecordingIrq::new());
        u.write(UARTDR, Size::B4, u64::from(b'x'));
        assert_eq!(u.read(UARTRIS, Size::B4) as u32, INT_TX);
    }

    #[test]
    fn pl011_reset_lowers_irq_and_empties_fifo() {
        let (mut u, _, irq) = uart();
        wr(&mut u, UARTIMSC, INT_RX);
        u.receive(b"a");
        u.reset();
        assert_eq!((irq.level(), rd(&mut u, UARTFR)), (false, FR_TXFE | FR_RXFE));
    }

    #[test]
    fn pl011_set_state_restores_and_drives_irq() {
        let (mut u, _, _) = uart();
        wr(&mut u, UARTIMSC, INT_RX);
        u.receive(b"a");
        let saved = u.state().clone();
        let (mut v, _, irq2) = uart();
        v.set_state(saved);
        assert_eq!((irq2.level(), rd(&mut v, UARTDR)), (true, u32::from(b'a')));
    }

    proptest::proptest! {
        /// Random register traffic and input never panic and keep the line equal to MIS != 0.
        #[test]
        fn pl011_random_accesses_never_panic(
            ops in proptest::collection::vec((0u64..0x1008, 0u8..4, proptest::prelude::any::<u32>(), proptest::prelude::any::<bool>()), 1..60),
        ) {
            let (mut u, _, irq) = uart();
            for (offset, size, v, write) in ops {
                let size = [Size::B1, Size::B2, Size::B4, Size::B8][usize::from(size)];
                if write { u.write(offset, size, u64::from(v)); } else { u.read(offset, size); }
                u.receive(&v.to_le_bytes()[..(v % 5) as usize]);
            }
            let mis = u.read(UARTMIS, Size::B4);
            proptest::prop_assert_eq!(irq.level(), mis != 0);
        }
    }
}
