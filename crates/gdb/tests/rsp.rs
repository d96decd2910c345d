//! The stub driven over a real TCP socket with hand-written RSP packets, against FakeTarget.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::thread::JoinHandle;
use std::time::Duration;

use mimic_gdb::mock::{CallLog, FakeTarget, FT0, MSTATUS, RAM_BASE};
use mimic_gdb::{serve, Error, StopOutcome};

struct Client {
    s: TcpStream,
    calls: CallLog,
    server: Option<JoinHandle<Result<StopOutcome, Error>>>,
}

fn start(fake: FakeTarget) -> Client {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let calls = fake.calls.clone();
    let server = std::thread::spawn(move || serve(listener, fake));
    let s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    Client { s, calls, server: Some(server) }
}

fn checksum(data: &[u8]) -> u8 {
    data.iter().fold(0u8, |a, &b| a.wrapping_add(b))
}

fn le_hex(v: u64, bytes: usize) -> String {
    v.to_le_bytes()[..bytes].iter().map(|b| format!("{b:02x}")).collect()
}

impl Client {
    fn byte(&mut self) -> u8 {
        let mut b = [0u8];
        self.s.read_exact(&mut b).expect("reply from the stub");
        b[0]
    }

    fn send(&mut self, pkt: &str) {
        let frame = format!("${pkt}#{:02x}", checksum(pkt.as_bytes()));
        self.s.write_all(frame.as_bytes()).unwrap();
        assert_eq!(self.byte(), b'+', "ack for {pkt}");
    }

    /// One reply packet, with run-length encoding and `}` escapes undone.
    fn recv(&mut self) -> String {
        while self.byte() != b'$' {}
        let mut raw = Vec::new();
        loop {
            match self.byte() {
                b'#' => break,
                b => raw.push(b),
            }
        }
        let cs = [self.byte(), self.byte()];
        let cs = u8::from_str_radix(std::str::from_utf8(&cs).unwrap(), 16).unwrap();
        assert_eq!(cs, checksum(&raw), "checksum of {:?}", String::from_utf8_lossy(&raw));
        self.s.write_all(b"+").unwrap();
        let mut out: Vec<u8> = Vec::new();
        let mut i = 0;
        while i < raw.len() {
            match raw[i] {
                b'}' => {
                    out.push(raw[i + 1] ^ 0x20);
                    i += 2;
                }
                b'*' => {
                    let last = *out.last().unwrap();
                    for _ in 0..raw[i + 1] - 29 {
                        out.push(last);
                    }
                    i += 2;
                }
                b => {
                    out.push(b);
                    i += 1;
                }
            }
        }
        String::from_utf8(out).unwrap()
    }

    fn cmd(&mut self, pkt: &str) -> String {
        self.send(pkt);
        self.recv()
    }

    fn calls(&self) -> Vec<String> {
        self.calls.lock().unwrap().clone()
    }

    fn pc(&mut self) -> u64 {
        let h = self.cmd("p20");
        let bytes: Vec<u8> = (0..8).map(|i| u8::from_str_radix(&h[2 * i..2 * i + 2], 16).unwrap()).collect();
        u64::from_le_bytes(bytes.try_into().unwrap())
    }

    fn handshake(&mut self) {
        let sup = self.cmd("qSupported:swbreak+;hwbreak+;vContSupported+;xmlRegisters=i386");
        for f in ["PacketSize=", "qXfer:features:read+", "swbreak+", "hwbreak+", "vContSupported+"] {
            assert!(sup.contains(f), "qSupported reply {sup:?} lacks {f}");
        }
        assert_eq!(self.cmd("?"), "T05thread:01;");
    }

    fn finish(mut self) -> Result<StopOutcome, Error> {
        self.server.take().unwrap().join().unwrap()
    }
}

#[test]
fn registers_g_and_p() {
    let mut c = start(FakeTarget::new(2));
    c.handshake();
    assert_eq!(c.calls()[0], "attach");
    assert_eq!(c.cmd("qfThreadInfo"), "m01,02");
    assert_eq!(c.cmd("qsThreadInfo"), "l");
    let hart1: String = "hart 1".bytes().map(|b| format!("{b:02x}")).collect();
    assert_eq!(c.cmd("qThreadExtraInfo,2"), hart1);

    let g = c.cmd("g");
    // x0..x31, pc, f0..f31 (65 × 8), fflags/frm/fcsr (3 × 4), 15 CSRs, priv.
    assert_eq!(g.len(), 2 * (65 * 8 + 3 * 4 + 15 * 8 + 8));
    assert_eq!(&g[32 * 16..33 * 16], le_hex(RAM_BASE, 8));
    assert_eq!(&g[10 * 16..11 * 16], le_hex(0, 8), "a0 of hart 0");
    assert_eq!(&g[33 * 16..34 * 16], le_hex(FT0, 8));

    assert_eq!(c.cmd("p20"), le_hex(RAM_BASE, 8));
    assert_eq!(c.cmd("p0"), le_hex(0, 8));
    assert_eq!(c.cmd("p21"), le_hex(FT0, 8), "ft0 = 33");
    assert_eq!(c.cmd("p42"), "01000000", "fflags = 66");
    assert_eq!(c.cmd("p43"), "02000000", "frm = 67");
    assert_eq!(c.cmd("p44"), "41000000", "fcsr = 68");
    assert_eq!(c.cmd("p341"), le_hex(MSTATUS, 8), "mstatus = 65 + 0x300");
    assert_eq!(c.cmd("p1041"), le_hex(3, 8), "priv = 4161");
    assert!(c.cmd("p7ff").starts_with('E'), "an undescribed CSR is an error");

    // Write pc through P, read it back; fcsr writes split into frm/fflags.
    assert_eq!(c.cmd(&format!("P20={}", le_hex(RAM_BASE + 0x40, 8))), "OK");
    assert_eq!(c.pc(), RAM_BASE + 0x40);
    assert_eq!(c.cmd("P44=9f000000"), "OK");
    assert_eq!(c.cmd("p42"), "1f000000");
    assert_eq!(c.cmd("p43"), "04000000");

    // G round-trip with a changed t0.
    let g = c.cmd("g");
    let mut g2 = g.clone();
    g2.replace_range(5 * 16..6 * 16, &le_hex(0x1234_5678, 8));
    assert_eq!(c.cmd(&format!("G{g2}")), "OK");
    assert_eq!(c.cmd("g"), g2);
    assert_eq!(c.cmd("p5"), le_hex(0x1234_5678, 8));

    // The second hart: a0 = 1.
    assert_eq!(c.cmd("Hg2"), "OK");
    assert_eq!(c.cmd("pa"), le_hex(1, 8));
    assert_eq!(c.cmd("p20"), le_hex(RAM_BASE, 8));
    assert_eq!(c.cmd("D"), "OK");
    assert_eq!(c.finish().unwrap(), StopOutcome::Detached);
}

#[test]
fn memory_m_and_m_upper() {
    let mut c = start(FakeTarget::new(1));
    c.handshake();
    assert_eq!(c.cmd("m80000000,8"), "9702000093850202");
    assert_eq!(c.cmd("M80000100,4:deadbeef"), "OK");
    assert_eq!(c.cmd("m80000100,4"), "deadbeef");
    assert!(c.cmd("m0,4").starts_with('E'), "unmapped read fails");
    assert!(c.cmd("M10,1:00").starts_with('E'), "unmapped write fails");
    // A read that runs off the end of RAM returns the readable prefix.
    assert_eq!(c.cmd("m8000fffc,8"), "13000000");
    assert_eq!(c.cmd("D"), "OK");
    c.finish().unwrap();
}

#[test]
fn target_xml() {
    let mut c = start(FakeTarget::new(1));
    c.handshake();
    let mut xml = String::new();
    loop {
        let r = c.cmd(&format!("qXfer:features:read:target.xml:{:x},200", xml.len()));
        let (kind, data) = r.split_at(1);
        xml.push_str(data);
        if kind == "l" {
            break;
        }
        assert_eq!(kind, "m");
    }
    for want in [
        "<architecture>riscv:rv64</architecture>",
        "<feature name=\"org.gnu.gdb.riscv.cpu\">",
        "<reg name=\"zero\" bitsize=\"64\" type=\"int\" regnum=\"0\"/>",
        "<reg name=\"pc\" bitsize=\"64\" type=\"code_ptr\" regnum=\"32\"/>",
        "<feature name=\"org.gnu.gdb.riscv.fpu\">",
        "<reg name=\"ft0\" bitsize=\"64\" type=\"riscv_double\" regnum=\"33\"/>",
        "<reg name=\"ft11\" bitsize=\"64\" type=\"riscv_double\" regnum=\"64\"/>",
        "<reg name=\"fflags\" bitsize=\"32\" type=\"int\" regnum=\"66\"/>",
        "<feature name=\"org.gnu.gdb.riscv.csr\">",
        "<reg name=\"mstatus\" bitsize=\"64\" type=\"int\" regnum=\"833\"/>",
        "<reg name=\"mhartid\" bitsize=\"64\" type=\"int\" regnum=\"3925\"/>",
        "<feature name=\"org.gnu.gdb.riscv.virtual\">",
        "<reg name=\"priv\" bitsize=\"64\" type=\"int\" regnum=\"4161\"/>",
        "</target>",
    ] {
        assert!(xml.contains(want), "target.xml lacks {want}:\n{xml}");
    }
    assert!(c.cmd("qXfer:features:read:other.xml:0,100").starts_with('E'));
    assert_eq!(c.cmd("D"), "OK");
    c.finish().unwrap();
}

#[test]
fn breakpoints_and_continue() {
    let mut c = start(FakeTarget::new(2));
    c.handshake();
    assert!(c.cmd("vCont?").contains(";s"), "single-step offered");
    assert_eq!(c.cmd("Z0,80000010,4"), "OK");
    assert!(c.calls().contains(&"add_breakpoint 0x80000010".to_string()));
    assert_eq!(c.cmd("vCont;c"), "T05thread:01;swbreak:;");
    assert!(c.calls().contains(&"resume".to_string()));
    assert_eq!(c.pc(), RAM_BASE + 0x10);
    assert_eq!(c.cmd("z0,80000010,4"), "OK");
    assert!(c.calls().contains(&"remove_breakpoint 0x80000010".to_string()));

    // A hardware breakpoint reports hwbreak. Both harts stand at 0x10 now and the fake runs
    // hart 1 first this time, so it gets there first.
    assert_eq!(c.cmd("Z1,80000020,4"), "OK");
    assert_eq!(c.cmd("vCont;c"), "T05thread:02;hwbreak:;");
    assert_eq!(c.pc(), RAM_BASE + 0x20);

    // Software and hardware breakpoint at one address: removing one keeps the other.
    assert_eq!(c.cmd("Z0,80000020,4"), "OK");
    assert_eq!(c.cmd("z1,80000020,4"), "OK");
    let n = c.calls().iter().filter(|s| *s == "remove_breakpoint 0x80000020").count();
    assert_eq!(n, 0, "still set as a software breakpoint");
    // Left in place: detach must remove it.
    assert_eq!(c.cmd("D"), "OK");
    let calls = c.calls.clone();
    assert_eq!(c.finish().unwrap(), StopOutcome::Detached);
    assert!(calls.lock().unwrap().contains(&"remove_breakpoint 0x80000020".to_string()));
}

#[test]
fn single_step_only_moves_the_stepped_hart() {
    let mut c = start(FakeTarget::new(2));
    c.handshake();
    assert_eq!(c.cmd("vCont;s:1"), "T05thread:01;");
    assert_eq!(c.calls().last().unwrap(), "step 0");
    assert_eq!(c.pc(), RAM_BASE + 4);
    // GDB's usual form: step thread 2, "continue" the rest; only hart 1 moves.
    assert_eq!(c.cmd("vCont;s:2;c"), "T05thread:02;");
    assert_eq!(c.calls().last().unwrap(), "step 1");
    assert_eq!(c.pc(), RAM_BASE + 4, "the stop selected thread 2, which stepped once");
    assert_eq!(c.cmd("Hg1"), "OK");
    assert_eq!(c.pc(), RAM_BASE + 4, "hart 0 did not run");
    assert!(!c.calls().contains(&"resume".to_string()));
    assert_eq!(c.cmd("D"), "OK");
    c.finish().unwrap();
}

#[test]
fn ctrl_c_interrupts_a_running_machine() {
    let mut c = start(FakeTarget::new(1).running());
    c.handshake();
    c.send("vCont;c");
    std::thread::sleep(Duration::from_millis(50));
    c.s.write_all(&[0x03]).unwrap();
    assert_eq!(c.recv(), "T02thread:01;");
    assert!(c.calls().contains(&"interrupt".to_string()));
    assert!(c.pc() > RAM_BASE, "it ran");
    assert_eq!(c.cmd("D"), "OK");
    c.finish().unwrap();
}

#[test]
fn write_watchpoint() {
    let mut fake = FakeTarget::new(1);
    fake.stores.push((RAM_BASE + 8, RAM_BASE + 0x800));
    let mut c = start(fake);
    c.handshake();
    assert_eq!(c.cmd("Z2,80000800,8"), "OK");
    assert!(c.calls().contains(&"add_watchpoint 0x80000800 8 Write".to_string()));
    assert_eq!(c.cmd("vCont;c"), "T05thread:01;watch:80000800;");
    assert_eq!(c.pc(), RAM_BASE + 8, "stops before the store");
    assert_eq!(c.cmd("m80000800,8"), "1300000013000000");
    assert_eq!(c.cmd("z2,80000800,8"), "OK");
    assert_eq!(c.cmd("vCont;s:1"), "T05thread:01;");
    assert_eq!(c.cmd("m80000800,8"), le_hex(RAM_BASE + 8, 8));
    assert!(c.calls().contains(&"remove_watchpoint 0x80000800 8 Write".to_string()));
    assert_eq!(c.cmd("D"), "OK");
    c.finish().unwrap();
}

#[test]
fn kill_ends_the_session() {
    let mut c = start(FakeTarget::new(1));
    c.handshake();
    c.send("k");
    assert_eq!(c.finish().unwrap(), StopOutcome::Killed);
}

#[test]
fn machine_exit_is_reported() {
    let mut fake = FakeTarget::new(1);
    fake.exit_pc = Some(RAM_BASE + 0x30);
    let mut c = start(fake);
    c.handshake();
    assert_eq!(c.cmd("vCont;c"), "W00");
    assert_eq!(c.finish().unwrap(), StopOutcome::Exited(0));
}

#[test]
fn dropped_connection_stops_the_machine() {
    let mut c = start(FakeTarget::new(1));
    c.handshake();
    // Far enough that the fake machine (64 instructions per 2 ms) is still running when the
    // connection drops 30 ms later, however loaded the host: at 0xf00 it sometimes was not.
    assert_eq!(c.cmd("Z0,8000fff0,4"), "OK");
    c.send("vCont;c");
    std::thread::sleep(Duration::from_millis(30));
    c.s.shutdown(std::net::Shutdown::Both).unwrap();
    let calls = c.calls.clone();
    assert_eq!(c.finish().unwrap(), StopOutcome::Disconnected);
    let calls = calls.lock().unwrap();
    assert!(calls.contains(&"interrupt".to_string()), "{calls:?}");
    assert!(calls.contains(&"remove_breakpoint 0x8000fff0".to_string()), "{calls:?}");
}
