//! NS16550A UART, as QEMU's `virt` machine has it (`ns16550a`, `reg-shift = 0`, one byte per
//! register, 8 registers; Linux, OpenSBI and U-Boot drive it with 1-byte accesses).
//!
//! | offset | DLAB=0 read | DLAB=0 write | DLAB=1 |
//! |---|---|---|---|
//! | 0 | RBR receive buffer | THR transmit holding | DLL divisor low |
//! | 1 | IER interrupt enable | IER | DLM divisor high |
//! | 2 | IIR interrupt identification | FCR FIFO control | (same as DLAB=0) |
//! | 3 | LCR line control (bit 7 = DLAB) | LCR | |
//! | 4 | MCR modem control (bit 4 = loopback) | MCR | |
//! | 5 | LSR line status | (read-only) | |
//! | 6 | MSR modem status | (read-only) | |
//! | 7 | SCR scratch | SCR | |
//!
//! IER: 0 ERBFI (received data), 1 ETBEI (THR empty), 2 ELSI (line status), 3 EDSSI (modem status).
//! IIR (bit 0 = 1: nothing pending; bits 7:6 = 11 when FIFOs are on), in priority order:
//! `0x06` receiver line status > `0x04` received data available / `0x0c` character timeout >
//! `0x02` THR empty > `0x00` modem status.
//! FCR: 0 FIFO enable, 1 RX FIFO reset, 2 TX FIFO reset, 3 DMA mode, 7:6 RX trigger (1/4/8/14).
//! LSR: 0 DR, 1 OE, 2 PE, 3 FE, 4 BI, 5 THRE, 6 TEMT, 7 error in RX FIFO.
//! MSR: 0 DCTS, 1 DDSR, 2 TERI, 3 DDCD, 4 CTS, 5 DSR, 6 RI, 7 DCD.
//!
//! Choices worth knowing:
//! - **Transmission is instant.** A byte written to THR goes straight to the output (flushed at
//!   once, for an interactive console), so THRE and TEMT always read 1 and the divisor and line
//!   settings only matter as stored values.
//! - **Character timeout is approximated as immediate**: with FIFOs on, fewer bytes than the
//!   trigger level raise the timeout interrupt (`0x0c`) at once instead of after four character
//!   times; at or above the trigger level it is `0x04`. Either way ERBFI + data present means an
//!   interrupt, which is what drivers rely on.
//! - **Input has backpressure.** [`Uart16550::receive`] takes only what fits and says how many
//!   bytes it took, so the console backend keeps the rest: external input never overruns. Only
//!   loopback can overrun (OE), as on the chip. In loopback the external input is disconnected,
//!   so `can_receive()` is 0 there.
//! - **The interrupt output is not gated by MCR.OUT2** (PC boards gate it; QEMU's `virt` does not,
//!   and neither do we).
//! - The THRE interrupt latch follows the datasheet: set when ETBEI goes 0 → 1 (THR is always
//!   empty) and after each transmitted byte; cleared by reading IIR while it is the reported
//!   source or by writing THR.
//! - Accesses wider than a byte act on the one register at that offset (reads zero-extend, writes
//!   take the low byte) and are logged; offsets 8 and up are logged, read 0 and ignore writes.

use crate::access::DrivenLine;
use mimic_core::{guest_error, IrqLine, RateLimit, Size};
use mimic_memory::MmioDevice;
use std::collections::VecDeque;
use std::io::Write;

/// Bytes of register space the UART decodes (8 one-byte registers).
pub const REG_SPACE: u64 = 8;
/// Depth of the receive FIFO.
pub const FIFO_DEPTH: usize = 16;

const RBR_THR: u64 = 0;
const IER: u64 = 1;
const IIR_FCR: u64 = 2;
const LCR: u64 = 3;
const MCR: u64 = 4;
const LSR: u64 = 5;
const MSR: u64 = 6;
const SCR: u64 = 7;

const IER_ERBFI: u8 = 0x01;
const IER_ETBEI: u8 = 0x02;
const IER_ELSI: u8 = 0x04;
const IER_EDSSI: u8 = 0x08;

const IIR_NONE: u8 = 0x01;
const IIR_MSI: u8 = 0x00;
const IIR_THRI: u8 = 0x02;
const IIR_RDI: u8 = 0x04;
const IIR_RLSI: u8 = 0x06;
const IIR_CTI: u8 = 0x0c;
const IIR_FIFOS_ON: u8 = 0xc0;

const FCR_FE: u8 = 0x01;
const FCR_RFR: u8 = 0x02;
const FCR_DMS: u8 = 0x08;
const FCR_TRIGGER: u8 = 0xc0;

const LCR_DLAB: u8 = 0x80;

const MCR_DTR: u8 = 0x01;
const MCR_RTS: u8 = 0x02;
const MCR_OUT1: u8 = 0x04;
const MCR_OUT2: u8 = 0x08;
const MCR_LOOP: u8 = 0x10;
const MCR_MASK: u8 = 0x1f;

const LSR_DR: u8 = 0x01;
const LSR_OE: u8 = 0x02;
const LSR_THRE: u8 = 0x20;
const LSR_TEMT: u8 = 0x40;

const MSR_DCTS: u8 = 0x01;
const MSR_DDSR: u8 = 0x02;
const MSR_TERI: u8 = 0x04;
const MSR_DDCD: u8 = 0x08;
const MSR_CTS: u8 = 0x10;
const MSR_DSR: u8 = 0x20;
const MSR_RI: u8 = 0x40;
const MSR_DCD: u8 = 0x80;

/// Every guest-visible bit of the UART.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UartState {
    /// Received bytes not yet read, oldest first (at most 1 with FIFOs off, 16 with them on).
    pub rx_fifo: VecDeque<u8>,
    /// The last byte read from RBR; read again when nothing new has arrived.
    pub rbr: u8,
    pub ier: u8,
    /// FIFO enable, DMA mode and trigger bits (the reset bits self-clear).
    pub fcr: u8,
    pub lcr: u8,
    pub mcr: u8,
    /// Sticky LSR error bits (OE, PE, FE, BI), cleared by reading LSR.
    pub lsr_errors: u8,
    /// Sticky MSR delta bits (DCTS, DDSR, TERI, DDCD), cleared by reading MSR.
    pub msr_delta: u8,
    pub scr: u8,
    pub dll: u8,
    pub dlm: u8,
    /// The THR-empty interrupt latch.
    pub thr_ipending: bool,
}

impl Default for UartState {
    /// The state after a hardware reset (divisor 12, i.e. 9600 baud from 1.8432 MHz, as QEMU).
    fn default() -> Self {
        UartState {
            rx_fifo: VecDeque::with_capacity(FIFO_DEPTH),
            rbr: 0,
            ier: 0,
            fcr: 0,
            lcr: 0,
            mcr: 0,
            lsr_errors: 0,
            msr_delta: 0,
            scr: 0,
            dll: 0x0c,
            dlm: 0,
            thr_ipending: false,
        }
    }
}

impl UartState {
    fn fifo_enabled(&self) -> bool {
        self.fcr & FCR_FE != 0
    }
    fn loopback(&self) -> bool {
        self.mcr & MCR_LOOP != 0
    }
    fn dlab(&self) -> bool {
        self.lcr & LCR_DLAB != 0
    }
    fn rx_capacity(&self) -> usize {
        if self.fifo_enabled() {
            FIFO_DEPTH
        } else {
            1
        }
    }
    fn rx_trigger(&self) -> usize {
        [1, 4, 8, 14][usize::from(self.fcr >> 6)]
    }
    /// The modem input lines: wired to the MCR outputs in loopback, otherwise a connected
    /// terminal (CTS, DSR and DCD asserted).
    fn modem_lines(&self) -> u8 {
        if !self.loopback() {
            return MSR_CTS | MSR_DSR | MSR_DCD;
        }
        let m = self.mcr;
        let mut v = 0;
        if m & MCR_RTS != 0 {
            v |= MSR_CTS;
        }
        if m & MCR_DTR != 0 {
            v |= MSR_DSR;
        }
        if m & MCR_OUT1 != 0 {
            v |= MSR_RI;
        }
        if m & MCR_OUT2 != 0 {
            v |= MSR_DCD;
        }
        v
    }
    fn lsr(&self) -> u8 {
        let dr = if self.rx_fifo.is_empty() { 0 } else { LSR_DR };
        dr | LSR_THRE | LSR_TEMT | self.lsr_errors
    }
    /// The interrupt identification of the highest-priority pending source.
    fn pending_iir(&self) -> u8 {
        if self.ier & IER_ELSI != 0 && self.lsr_errors != 0 {
            IIR_RLSI
        } else if self.ier & IER_ERBFI != 0 && !self.rx_fifo.is_empty() {
            if self.fifo_enabled() && self.rx_fifo.len() < self.rx_trigger() {
                IIR_CTI
            } else {
                IIR_RDI
            }
        } else if self.ier & IER_ETBEI != 0 && self.thr_ipending {
            IIR_THRI
        } else if self.ier & IER_EDSSI != 0 && self.msr_delta != 0 {
            IIR_MSI
        } else {
            IIR_NONE
        }
    }
}

/// An NS16550A sending its output to `W` and signalling on `I`.
pub struct Uart16550<W, I> {
    state: UartState,
    out: W,
    irq: DrivenLine<I>,
}

impl<W, I> std::fmt::Debug for Uart16550<W, I> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Uart16550").field("state", &self.state).finish_non_exhaustive()
    }
}

impl<W: Write + Send, I: IrqLine> Uart16550<W, I> {
    /// A UART in its reset state, writing transmitted bytes to `out` and driving `irq`.
    pub fn new(out: W, irq: I) -> Self {
        Uart16550 { state: UartState::default(), out, irq: DrivenLine::new(irq) }
    }

    /// Offer received bytes; returns how many were taken (a prefix of `bytes`). The caller keeps
    /// the rest and offers them again later (after the guest reads RBR), so nothing is lost.
    pub fn receive(&mut self, bytes: &[u8]) -> usize {
        let n = self.can_receive().min(bytes.len());
        self.state.rx_fifo.extend(&bytes[..n]);
        self.update_irq();
        n
    }

    /// How many bytes [`Self::receive`] would take now (0 in loopback: the input is disconnected).
    pub fn can_receive(&self) -> usize {
        if self.state.loopback() {
            return 0;
        }
        self.state.rx_capacity().saturating_sub(self.state.rx_fifo.len())
    }

    /// Hardware reset: registers to their reset values, receive FIFO emptied.
    pub fn reset(&mut self) {
        self.state = UartState::default();
        self.update_irq();
    }

    pub fn state(&self) -> &UartState {
        &self.state
    }

    /// Restore a saved state and drive the interrupt line to match it.
    pub fn set_state(&mut self, mut state: UartState) {
        let cap = state.rx_capacity();
        state.rx_fifo.truncate(cap);
        state.ier &= 0x0f;
        state.mcr &= MCR_MASK;
        self.state = state;
        let level = self.state.pending_iir() != IIR_NONE;
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
        let level = self.state.pending_iir() != IIR_NONE;
        self.irq.set(level);
    }

    /// A byte arriving at the receiver from inside the chip (loopback): may overrun.
    fn loop_receive(&mut self, byte: u8) {
        let s = &mut self.state;
        if s.rx_fifo.len() < s.rx_capacity() {
            s.rx_fifo.push_back(byte);
            return;
        }
        s.lsr_errors |= LSR_OE;
        if !s.fifo_enabled() {
            // Without FIFOs the new character overwrites the holding register; with them it
            // stays in the shift register and is lost.
            s.rx_fifo.pop_front();
            s.rx_fifo.push_back(byte);
        }
    }

    fn transmit(&mut self, byte: u8) {
        // Writing THR clears the THRE interrupt ...
        self.state.thr_ipending = false;
        if self.state.loopback() {
            self.loop_receive(byte);
        } else {
            let res = self.out.write_all(&[byte]).and_then(|()| self.out.flush());
            if let Err(e) = res {
                static LIMIT: RateLimit = RateLimit::new();
                if LIMIT.hit() {
                    tracing::warn!(count = LIMIT.count(), "uart: output failed, byte dropped: {e}");
                }
            }
        }
        // ... and the byte leaves at once, so THR is empty again.
        self.state.thr_ipending = true;
    }

    fn read_reg(&mut self, reg: u64) -> u8 {
        let s = &mut self.state;
        match reg {
            RBR_THR if s.dlab() => s.dll,
            RBR_THR => {
                if let Some(b) = s.rx_fifo.pop_front() {
                    s.rbr = b;
                }
                s.rbr
            }
            IER if s.dlab() => s.dlm,
            IER => s.ier,
            IIR_FCR => {
                let id = s.pending_iir();
                if id == IIR_THRI {
                    s.thr_ipending = false;
                }
                let fifos = if s.fifo_enabled() { IIR_FIFOS_ON } else { 0 };
                id | fifos
            }
            LCR => s.lcr,
            MCR => s.mcr,
            LSR => {
                let v = s.lsr();
                s.lsr_errors = 0;
                v
            }
            MSR => {
                let v = s.modem_lines() | s.msr_delta;
                s.msr_delta = 0;
                v
            }
            SCR => s.scr,
            _ => 0,
        }
    }

    fn write_reg(&mut self, reg: u64, v: u8) {
        let s = &mut self.state;
        match reg {
            RBR_THR if s.dlab() => s.dll = v,
            RBR_THR => self.transmit(v),
            IER if s.dlab() => s.dlm = v,
            IER => {
                let old = s.ier;
                s.ier = v & 0x0f;
                if s.ier & !old & IER_ETBEI != 0 {
                    // THR is always empty, so enabling ETBEI raises the THRE interrupt.
                    s.thr_ipending = true;
                }
            }
            IIR_FCR => {
                if v & FCR_FE == 0 {
                    // The other FCR bits can be written only together with FIFO enable.
                    if s.fifo_enabled() {
                        s.rx_fifo.clear();
                    }
                    s.fcr = 0;
                    return;
                }
                if !s.fifo_enabled() || v & FCR_RFR != 0 {
                    // Switching the FIFOs on empties them; so does RX FIFO reset. (TX FIFO
                    // reset has nothing to do: transmission is instant.)
                    s.rx_fifo.clear();
                }
                s.fcr = v & (FCR_FE | FCR_DMS | FCR_TRIGGER);
            }
            LCR => s.lcr = v,
            MCR => {
                let before = s.modem_lines();
                s.mcr = v & MCR_MASK;
                let after = s.modem_lines();
                let changed = before ^ after;
                if changed & MSR_CTS != 0 {
                    s.msr_delta |= MSR_DCTS;
                }
                if changed & MSR_DSR != 0 {
                    s.msr_delta |= MSR_DDSR;
                }
                if changed & MSR_DCD != 0 {
                    s.msr_delta |= MSR_DDCD;
                }
                if before & MSR_RI != 0 && after & MSR_RI == 0 {
                    s.msr_delta |= MSR_TERI;
                }
            }
            LSR | MSR => guest_error!("uart: write {v:#04x} to read-only register {reg}"),
            SCR => s.scr = v,
            _ => {}
        }
    }
}

impl<W: Write + Send, I: IrqLine> MmioDevice for Uart16550<W, I> {
    fn read(&mut self, offset: u64, size: Size) -> u64 {
        if offset >= REG_SPACE {
            guest_error!("uart: read at bad offset {offset:#x}");
            return 0;
        }
        if size != Size::B1 {
            guest_error!("uart: {}-byte read at {offset:#x}, registers are 1 byte", size.bytes());
        }
        let v = self.read_reg(offset);
        self.update_irq();
        u64::from(v)
    }

    fn write(&mut self, offset: u64, size: Size, value: u64) {
        if offset >= REG_SPACE {
            guest_error!("uart: write {value:#x} at bad offset {offset:#x}");
            return;
        }
        if size != Size::B1 {
            guest_error!("uart: {}-byte write at {offset:#x}, registers are 1 byte", size.bytes());
        }
        self.write_reg(offset, value as u8);
        self.update_irq();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mock::{FailingWriter, RecordingIrq, SharedWriter};

    type TestUart = Uart16550<SharedWriter, RecordingIrq>;

    fn uart() -> (TestUart, SharedWriter, RecordingIrq) {
        let out = SharedWriter::new();
        let irq = RecordingIrq::new();
        (Uart16550::new(out.clone(), irq.clone()), out, irq)
    }

    fn rd(u: &mut TestUart, reg: u64) -> u8 {
        u.read(reg, Size::B1) as u8
    }

    fn wr(u: &mut TestUart, reg: u64, v: u8) {
        u.write(reg, Size::B1, u64::from(v));
    }

    #[test]
    fn uart_thr_write_emits_byte_and_flushes() {
        let (mut u, out, _) = uart();
        wr(&mut u, RBR_THR, b'A');
        assert_eq!((out.contents(), out.flushes()), (b"A".to_vec(), 1));
    }

    #[test]
    fn uart_reset_lsr_reports_thr_empty() {
        let (mut u, _, _) = uart();
        assert_eq!(rd(&mut u, LSR), LSR_THRE | LSR_TEMT);
    }

    #[test]
    fn uart_rx_with_erbfi_raises_irq() {
        let (mut u, _, irq) = uart();
        wr(&mut u, IER, IER_ERBFI);
        u.receive(b"x");
        assert!(irq.level());
    }

    #[test]
    fn uart_rx_without_erbfi_keeps_irq_low() {
        let (mut u, _, irq) = uart();
        u.receive(b"x");
        assert!(!irq.level());
    }

    #[test]
    fn uart_rx_sets_dr() {
        let (mut u, _, _) = uart();
        u.receive(b"x");
        assert_eq!(rd(&mut u, LSR) & LSR_DR, LSR_DR);
    }

    #[test]
    fn uart_rbr_read_of_last_byte_clears_dr_and_irq() {
        let (mut u, _, irq) = uart();
        wr(&mut u, IER, IER_ERBFI);
        u.receive(b"x");
        let b = rd(&mut u, RBR_THR);
        assert_eq!((b, rd(&mut u, LSR) & LSR_DR, irq.level()), (b'x', 0, false));
    }

    #[test]
    fn uart_rbr_read_with_fifo_returns_bytes_in_order() {
        let (mut u, _, _) = uart();
        wr(&mut u, IIR_FCR, FCR_FE);
        u.receive(b"abc");
        let got: Vec<u8> = (0..3).map(|_| rd(&mut u, RBR_THR)).collect();
        assert_eq!(got, b"abc");
    }

    #[test]
    fn uart_receive_with_fifo_accepts_at_most_sixteen() {
        let (mut u, _, _) = uart();
        wr(&mut u, IIR_FCR, FCR_FE);
        let taken = u.receive(&[b'z'; 20]);
        assert_eq!((taken, u.can_receive()), (16, 0));
    }

    #[test]
    fn uart_receive_without_fifo_accepts_one_byte() {
        let (mut u, _, _) = uart();
        assert_eq!(u.receive(b"ab"), 1);
    }

    #[test]
    fn uart_receive_after_rbr_read_accepts_more() {
        let (mut u, _, _) = uart();
        u.receive(b"a");
        rd(&mut u, RBR_THR);
        assert_eq!(u.receive(b"b"), 1);
    }

    #[test]
    fn uart_dlab_set_redirects_offset0_to_dll() {
        let (mut u, out, _) = uart();
        wr(&mut u, LCR, LCR_DLAB);
        wr(&mut u, RBR_THR, 0x03);
        assert_eq!((rd(&mut u, RBR_THR), u.state().dll, out.contents()), (0x03, 0x03, vec![]));
    }

    #[test]
    fn uart_dlab_set_redirects_offset1_to_dlm() {
        let (mut u, _, _) = uart();
        wr(&mut u, LCR, LCR_DLAB);
        wr(&mut u, IER, 0x01);
        assert_eq!((u.state().dlm, u.state().ier), (0x01, 0));
    }

    #[test]
    fn uart_dlab_clear_restores_rbr_and_ier() {
        let (mut u, _, _) = uart();
        wr(&mut u, LCR, LCR_DLAB);
        wr(&mut u, RBR_THR, 0x03);
        wr(&mut u, LCR, 0x03);
        u.receive(b"q");
        assert_eq!(rd(&mut u, RBR_THR), b'q');
    }

    #[test]
    fn uart_etbei_enable_raises_thre_irq() {
        let (mut u, _, irq) = uart();
        wr(&mut u, IER, IER_ETBEI);
        assert_eq!((irq.level(), rd(&mut u, IIR_FCR)), (true, IIR_THRI));
    }

    #[test]
    fn uart_iir_read_clears_thre_irq() {
        let (mut u, _, irq) = uart();
        wr(&mut u, IER, IER_ETBEI);
        rd(&mut u, IIR_FCR);
        assert_eq!((irq.level(), rd(&mut u, IIR_FCR)), (false, IIR_NONE));
    }

    #[test]
    fn uart_thr_write_with_etbei_reraises_thre() {
        let (mut u, _, irq) = uart();
        wr(&mut u, IER, IER_ETBEI);
        rd(&mut u, IIR_FCR);
        wr(&mut u, RBR_THR, b'x');
        assert!(irq.level());
    }

    #[test]
    fn uart_etbei_reenable_raises_thre_again() {
        let (mut u, _, irq) = uart();
        wr(&mut u, IER, IER_ETBEI);
        rd(&mut u, IIR_FCR);
        wr(&mut u, IER, 0);
        wr(&mut u, IER, IER_ETBEI);
        assert!(irq.level());
    }

    #[test]
    fn uart_iir_with_rx_and_thre_reports_rx_first() {
        let (mut u, _, _) = uart();
        wr(&mut u, IER, IER_ERBFI | IER_ETBEI);
        u.receive(b"x");
        assert_eq!(rd(&mut u, IIR_FCR), IIR_RDI);
    }

    #[test]
    fn uart_iir_read_with_rx_pending_keeps_thre_latched() {
        let (mut u, _, _) = uart();
        wr(&mut u, IER, IER_ERBFI | IER_ETBEI);
        u.receive(b"x");
        rd(&mut u, IIR_FCR);
        rd(&mut u, RBR_THR);
        assert_eq!(rd(&mut u, IIR_FCR), IIR_THRI);
    }

    #[test]
    fn uart_fifo_below_trigger_reports_timeout() {
        let (mut u, _, _) = uart();
        wr(&mut u, IIR_FCR, FCR_FE | 0x40); // trigger at 4
        wr(&mut u, IER, IER_ERBFI);
        u.receive(b"ab");
        assert_eq!(rd(&mut u, IIR_FCR), IIR_FIFOS_ON | IIR_CTI);
    }

    #[test]
    fn uart_fifo_at_trigger_reports_data_available() {
        let (mut u, _, _) = uart();
        wr(&mut u, IIR_FCR, FCR_FE | 0x40); // trigger at 4
        wr(&mut u, IER, IER_ERBFI);
        u.receive(b"abcd");
        assert_eq!(rd(&mut u, IIR_FCR), IIR_FIFOS_ON | IIR_RDI);
    }

    #[test]
    fn uart_fcr_rx_reset_empties_fifo() {
        let (mut u, _, _) = uart();
        wr(&mut u, IIR_FCR, FCR_FE);
        u.receive(b"abc");
        wr(&mut u, IIR_FCR, FCR_FE | FCR_RFR);
        assert_eq!(rd(&mut u, LSR) & LSR_DR, 0);
    }

    #[test]
    fn uart_fcr_fifo_disable_empties_fifo() {
        let (mut u, _, _) = uart();
        wr(&mut u, IIR_FCR, FCR_FE);
        u.receive(b"abc");
        wr(&mut u, IIR_FCR, 0);
        assert_eq!((rd(&mut u, LSR) & LSR_DR, u.can_receive()), (0, 1));
    }

    #[test]
    fn uart_loopback_thr_write_reads_back_without_output() {
        let (mut u, out, _) = uart();
        wr(&mut u, MCR, MCR_LOOP);
        wr(&mut u, RBR_THR, b'L');
        assert_eq!((rd(&mut u, RBR_THR), out.contents()), (b'L', vec![]));
    }

    #[test]
    fn uart_loopback_msr_reflects_mcr() {
        let (mut u, _, _) = uart();
        wr(&mut u, MCR, MCR_LOOP | MCR_OUT2 | MCR_RTS);
        assert_eq!(rd(&mut u, MSR) & 0xf0, MSR_DCD | MSR_CTS);
    }

    #[test]
    fn uart_loopback_refuses_external_input() {
        let (mut u, _, _) = uart();
        wr(&mut u, MCR, MCR_LOOP);
        assert_eq!((u.can_receive(), u.receive(b"x")), (0, 0));
    }

    #[test]
    fn uart_loopback_overrun_sets_oe_and_line_status_irq() {
        let (mut u, _, irq) = uart();
        wr(&mut u, IER, IER_ELSI);
        wr(&mut u, MCR, MCR_LOOP);
        wr(&mut u, RBR_THR, b'1');
        wr(&mut u, RBR_THR, b'2');
        assert_eq!((irq.level(), rd(&mut u, IIR_FCR)), (true, IIR_RLSI));
    }

    #[test]
    fn uart_overrun_without_fifo_keeps_newest_byte() {
        let (mut u, _, _) = uart();
        wr(&mut u, MCR, MCR_LOOP);
        wr(&mut u, RBR_THR, b'1');
        wr(&mut u, RBR_THR, b'2');
        assert_eq!(rd(&mut u, RBR_THR), b'2');
    }

    #[test]
    fn uart_lsr_read_clears_oe() {
        let (mut u, _, _) = uart();
        wr(&mut u, MCR, MCR_LOOP);
        wr(&mut u, RBR_THR, b'1');
        wr(&mut u, RBR_THR, b'2');
        let first = rd(&mut u, LSR) & LSR_OE;
        assert_eq!((first, rd(&mut u, LSR) & LSR_OE), (LSR_OE, 0));
    }

    #[test]
    fn uart_mcr_change_in_loopback_with_edssi_raises_modem_irq() {
        let (mut u, _, irq) = uart();
        wr(&mut u, MCR, MCR_LOOP);
        rd(&mut u, MSR);
        wr(&mut u, IER, IER_EDSSI);
        wr(&mut u, MCR, MCR_LOOP | MCR_RTS);
        assert_eq!((irq.level(), rd(&mut u, IIR_FCR)), (true, IIR_MSI));
    }

    #[test]
    fn uart_msr_read_clears_delta_and_irq() {
        let (mut u, _, irq) = uart();
        wr(&mut u, IER, IER_EDSSI);
        wr(&mut u, MCR, MCR_LOOP | MCR_RTS);
        let first = rd(&mut u, MSR);
        assert_eq!((first & 0x0f != 0, rd(&mut u, MSR) & 0x0f, irq.level()), (true, 0, false));
    }

    #[test]
    fn uart_msr_outside_loopback_reports_connected_terminal() {
        let (mut u, _, _) = uart();
        assert_eq!(rd(&mut u, MSR), MSR_DCD | MSR_DSR | MSR_CTS);
    }

    #[test]
    fn uart_scr_write_reads_back() {
        let (mut u, _, _) = uart();
        wr(&mut u, SCR, 0x5a);
        assert_eq!(rd(&mut u, SCR), 0x5a);
    }

    #[test]
    fn uart_ier_write_keeps_low_nibble_only() {
        let (mut u, _, _) = uart();
        wr(&mut u, IER, 0xff);
        assert_eq!(rd(&mut u, IER), 0x0f);
    }

    #[test]
    fn uart_bad_offset_reads_zero_and_ignores_write() {
        let (mut u, out, _) = uart();
        u.write(8, Size::B1, 0x41);
        assert_eq!((u.read(0xff, Size::B1), out.contents()), (0, vec![]));
    }

    #[test]
    fn uart_wide_write_acts_on_one_register_low_byte() {
        let (mut u, _, _) = uart();
        u.write(SCR, Size::B4, 0x1234_5678);
        assert_eq!(u.read(SCR, Size::B8), 0x78);
    }

    #[test]
    fn uart_output_error_is_dropped_without_panic() {
        let mut u = Uart16550::new(FailingWriter, RecordingIrq::new());
        u.write(RBR_THR, Size::B1, u64::from(b'x'));
        assert_eq!(u.read(LSR, Size::B1) as u8, LSR_THRE | LSR_TEMT);
    }

    #[test]
    fn uart_irq_line_is_driven_only_on_change() {
        let (mut u, _, irq) = uart();
        wr(&mut u, IER, IER_ERBFI);
        u.receive(b"a");
        wr(&mut u, SCR, 1);
        rd(&mut u, RBR_THR);
        assert_eq!(irq.history(), vec![true, false]);
    }

    #[test]
    fn uart_reset_lowers_irq_and_empties_fifo() {
        let (mut u, _, irq) = uart();
        wr(&mut u, IER, IER_ERBFI);
        u.receive(b"a");
        u.reset();
        assert_eq!((irq.level(), u.can_receive(), u.state().dll), (false, 1, 0x0c));
    }

    #[test]
    fn uart_set_state_restores_and_drives_irq() {
        let (mut u, _, _) = uart();
        wr(&mut u, IER, IER_ERBFI);
        u.receive(b"a");
        let saved = u.state().clone();
        let (mut v, _, irq2) = uart();
        v.set_state(saved);
        assert_eq!((irq2.level(), rd(&mut v, RBR_THR)), (true, b'a'));
    }
}
