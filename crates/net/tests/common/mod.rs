//! Raw-frame builders and parsers for tests (no guest OS): ethernet, ARP, IPv4, UDP, TCP, DHCP.
#![allow(dead_code)]

use mimic_net::NetBackend;
use std::net::Ipv4Addr;
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

pub const GUEST_MAC: [u8; 6] = [0x52, 0x54, 0x00, 0x12, 0x34, 0x56];
pub const BROADCAST: [u8; 6] = [0xff; 6];
pub const GUEST_IP: Ipv4Addr = Ipv4Addr::new(10, 0, 2, 15);
pub const HOST_IP: Ipv4Addr = Ipv4Addr::new(10, 0, 2, 2);
pub const DNS_IP: Ipv4Addr = Ipv4Addr::new(10, 0, 2, 3);

pub const ETH_IPV4: u16 = 0x0800;
pub const ETH_ARP: u16 = 0x0806;
pub const IP_TCP: u8 = 6;
pub const IP_UDP: u8 = 17;

pub const FIN: u8 = 0x01;
pub const SYN: u8 = 0x02;
pub const RST: u8 = 0x04;
pub const PSH: u8 = 0x08;
pub const ACK: u8 = 0x10;

pub fn eth(dst: [u8; 6], src: [u8; 6], ethertype: u16, payload: &[u8]) -> Vec<u8> {
    let mut f = Vec::with_capacity(14 + payload.len());
    f.extend_from_slice(&dst);
    f.extend_from_slice(&src);
    f.extend_from_slice(&ethertype.to_be_bytes());
    f.extend_from_slice(payload);
    f
}

/// An ARP request from the guest (GUEST_MAC, `sender`) asking for `target`.
pub fn arp_request(sender: Ipv4Addr, target: Ipv4Addr) -> Vec<u8> {
    let mut a = vec![0, 1, 8, 0, 6, 4, 0, 1];
    a.extend_from_slice(&GUEST_MAC);
    a.extend_from_slice(&sender.octets());
    a.extend_from_slice(&[0; 6]);
    a.extend_from_slice(&target.octets());
    eth(BROADCAST, GUEST_MAC, ETH_ARP, &a)
}

/// An ARP reply from the guest telling `to_mac`/`to_ip` that `GUEST_IP` is at `GUEST_MAC`.
pub fn arp_reply(to_mac: [u8; 6], to_ip: Ipv4Addr) -> Vec<u8> {
    let mut a = vec![0, 1, 8, 0, 6, 4, 0, 2];
    a.extend_from_slice(&GUEST_MAC);
    a.extend_from_slice(&GUEST_IP.octets());
    a.extend_from_slice(&to_mac);
    a.extend_from_slice(&to_ip.octets());
    eth(to_mac, GUEST_MAC, ETH_ARP, &a)
}

/// Parsed ARP: (opcode, sender mac, sender ip, target ip).
pub fn parse_arp(f: &[u8]) -> Option<(u16, [u8; 6], Ipv4Addr, Ipv4Addr)> {
    let (_, _, ty, a) = parse_eth(f)?;
    if ty != ETH_ARP || a.len() < 28 {
        return None;
    }
    let op = u16::from_be_bytes([a[6], a[7]]);
    let smac: [u8; 6] = a[8..14].try_into().ok()?;
    let sip = Ipv4Addr::new(a[14], a[15], a[16], a[17]);
    let tip = Ipv4Addr::new(a[24], a[25], a[26], a[27]);
    Some((op, smac, sip, tip))
}

pub fn checksum(data: &[u8], initial: u32) -> u16 {
    let mut sum = initial;
    for c in data.chunks(2) {
        let w = if c.len() == 2 { u16::from_be_bytes([c[0], c[1]]) } else { u16::from(c[0]) << 8 };
        sum += u32::from(w);
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

fn pseudo_sum(src: Ipv4Addr, dst: Ipv4Addr, proto: u8, len: usize) -> u32 {
    let s = src.octets();
    let d = dst.octets();
    u32::from(u16::from_be_bytes([s[0], s[1]]))
        + u32::from(u16::from_be_bytes([s[2], s[3]]))
        + u32::from(u16::from_be_bytes([d[0], d[1]]))
        + u32::from(u16::from_be_bytes([d[2], d[3]]))
        + u32::from(proto)
        + len as u32
}

pub fn ipv4(src: Ipv4Addr, dst: Ipv4Addr, proto: u8, payload: &[u8]) -> Vec<u8> {
    let total = 20 + payload.len();
    let mut h = vec![0x45, 0, (total >> 8) as u8, total as u8, 0x12, 0x34, 0x40, 0, 64, proto, 0, 0];
    h.extend_from_slice(&src.octets());
    h.extend_from_slice(&dst.octets());
    let c = checksum(&h, 0);
    h[10..12].copy_from_slice(&c.to_be_bytes());
    h.extend_from_slice(payload);
    h
}

pub fn udp(src: Ipv4Addr, dst: Ipv4Addr, sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    let len = 8 + payload.len();
    let mut u = Vec::with_capacity(len);
    u.extend_from_slice(&sport.to_be_bytes());
    u.extend_from_slice(&dport.to_be_bytes());
    u.extend_from_slice(&(len as u16).to_be_bytes());
    u.extend_from_slice(&[0, 0]);
    u.extend_from_slice(payload);
    let mut c = checksum(&u, pseudo_sum(src, dst, IP_UDP, len));
    if c == 0 {
        c = 0xffff;
    }
    u[6..8].copy_from_slice(&c.to_be_bytes());
    ipv4(src, dst, IP_UDP, &u)
}

pub struct Tcp<'a> {
    pub src: Ipv4Addr,
    pub dst: Ipv4Addr,
    pub sport: u16,
    pub dport: u16,
    pub seq: u32,
    pub ack: u32,
    pub flags: u8,
    pub payload: &'a [u8],
}

/// A TCP segment in an IPv4 packet; a SYN carries an MSS option of 1460.
pub fn tcp(t: &Tcp) -> Vec<u8> {
    let opts: &[u8] = if t.flags & SYN != 0 { &[2, 4, 0x05, 0xb4] } else { &[] };
    let hlen = 20 + opts.len();
    let mut s = Vec::with_capacity(hlen + t.payload.len());
    s.extend_from_slice(&t.sport.to_be_bytes());
    s.extend_from_slice(&t.dport.to_be_bytes());
    s.extend_from_slice(&t.seq.to_be_bytes());
    s.extend_from_slice(&t.ack.to_be_bytes());
    s.push(((hlen / 4) as u8) << 4);
    s.push(t.flags);
    s.extend_from_slice(&64240u16.to_be_bytes());
    s.extend_from_slice(&[0, 0, 0, 0]);
    s.extend_from_slice(opts);
    s.extend_from_slice(t.payload);
    let c = checksum(&s, pseudo_sum(t.src, t.dst, IP_TCP, s.len()));
    s[16..18].copy_from_slice(&c.to_be_bytes());
    ipv4(t.src, t.dst, IP_TCP, &s)
}

/// (destination, source, ethertype, payload)
pub type EthParts<'a> = ([u8; 6], [u8; 6], u16, &'a [u8]);

pub fn parse_eth(f: &[u8]) -> Option<EthParts<'_>> {
    if f.len() < 14 {
        return None;
    }
    Some((f[0..6].try_into().ok()?, f[6..12].try_into().ok()?, u16::from_be_bytes([f[12], f[13]]), &f[14..]))
}

/// Parsed IPv4: (src, dst, proto, payload), checking the header checksum.
pub fn parse_ipv4(f: &[u8]) -> Option<(Ipv4Addr, Ipv4Addr, u8, &[u8])> {
    let (_, _, ty, p) = parse_eth(f)?;
    if ty != ETH_IPV4 || p.len() < 20 || p[0] >> 4 != 4 {
        return None;
    }
    let ihl = usize::from(p[0] & 15) * 4;
    let total = usize::from(u16::from_be_bytes([p[2], p[3]]));
    if ihl < 20 || total < ihl || total > p.len() || checksum(&p[..ihl], 0) != 0 {
        return None;
    }
    let src = Ipv4Addr::new(p[12], p[13], p[14], p[15]);
    let dst = Ipv4Addr::new(p[16], p[17], p[18], p[19]);
    Some((src, dst, p[9], &p[ihl..total]))
}

/// Parsed UDP: (src ip, dst ip, sport, dport, payload).
pub fn parse_udp(f: &[u8]) -> Option<(Ipv4Addr, Ipv4Addr, u16, u16, &[u8])> {
    let (src, dst, proto, u) = parse_ipv4(f)?;
    if proto != IP_UDP || u.len() < 8 {
        return None;
    }
    let len = usize::from(u16::from_be_bytes([u[4], u[5]]));
    if len < 8 || len > u.len() {
        return None;
    }
    Some((src, dst, u16::from_be_bytes([u[0], u[1]]), u16::from_be_bytes([u[2], u[3]]), &u[8..len]))
}

#[derive(Debug, Clone)]
pub struct TcpSeg {
    pub src: Ipv4Addr,
    pub dst: Ipv4Addr,
    pub sport: u16,
    pub dport: u16,
    pub seq: u32,
    pub ack: u32,
    pub flags: u8,
    pub payload: Vec<u8>,
}

/// Parsed TCP segment, checking the TCP checksum.
pub fn parse_tcp(f: &[u8]) -> Option<TcpSeg> {
    let (src, dst, proto, s) = parse_ipv4(f)?;
    if proto != IP_TCP || s.len() < 20 {
        return None;
    }
    let off = usize::from(s[12] >> 4) * 4;
    if off < 20 || off > s.len() || checksum(s, pseudo_sum(src, dst, IP_TCP, s.len())) != 0 {
        return None;
    }
    let be16 = |i: usize| u16::from_be_bytes([s[i], s[i + 1]]);
    let be32 = |i: usize| u32::from_be_bytes([s[i], s[i + 1], s[i + 2], s[i + 3]]);
    Some(TcpSeg {
        src,
        dst,
        sport: be16(0),
        dport: be16(2),
        seq: be32(4),
        ack: be32(8),
        flags: s[13],
        payload: s[off..].to_vec(),
    })
}

pub const DHCP_DISCOVER: u8 = 1;
pub const DHCP_OFFER: u8 = 2;
pub const DHCP_REQUEST: u8 = 3;
pub const DHCP_ACK: u8 = 5;

/// A DHCP message from the guest (broadcast), with `extra` options after the message type.
pub fn dhcp(msg_type: u8, xid: u32, extra: &[u8]) -> Vec<u8> {
    let mut b = vec![0u8; 236];
    b[0] = 1; // BOOTREQUEST
    b[1] = 1; // ethernet
    b[2] = 6;
    b[4..8].copy_from_slice(&xid.to_be_bytes());
    b[10] = 0x80; // broadcast flag
    b[28..34].copy_from_slice(&GUEST_MAC);
    b.extend_from_slice(&[99, 130, 83, 99, 53, 1, msg_type]);
    b.extend_from_slice(extra);
    b.extend_from_slice(&[55, 3, 1, 3, 6, 255]);
    b.resize(236 + 312, 0);
    eth(BROADCAST, GUEST_MAC, ETH_IPV4, &udp(Ipv4Addr::UNSPECIFIED, Ipv4Addr::BROADCAST, 68, 67, &b))
}

#[derive(Debug)]
pub struct DhcpReply {
    pub xid: u32,
    pub yiaddr: Ipv4Addr,
    pub msg_type: u8,
    pub options: Vec<(u8, Vec<u8>)>,
}

impl DhcpReply {
    pub fn option(&self, code: u8) -> Option<&[u8]> {
        self.options.iter().find(|(c, _)| *c == code).map(|(_, v)| v.as_slice())
    }
}

pub fn parse_dhcp_reply(f: &[u8]) -> Option<DhcpReply> {
    let (_, _, sport, dport, b) = parse_udp(f)?;
    if sport != 67 || dport != 68 || b.len() < 240 || b[0] != 2 || b[236..240] != [99, 130, 83, 99] {
        return None;
    }
    let mut options = Vec::new();
    let mut i = 240;
    while i < b.len() {
        match b[i] {
            0 => i += 1,
            255 => break,
            code => {
                let len = usize::from(*b.get(i + 1)?);
                options.push((code, b.get(i + 2..i + 2 + len)?.to_vec()));
                i += 2 + len;
            }
        }
    }
    let msg_type = options.iter().find(|(c, _)| *c == 53).and_then(|(_, v)| v.first().copied())?;
    Some(DhcpReply {
        xid: u32::from_be_bytes(b[4..8].try_into().ok()?),
        yiaddr: Ipv4Addr::new(b[16], b[17], b[18], b[19]),
        msg_type,
        options,
    })
}

/// Install a notify closure that signals the returned channel.
pub fn notify_channel(be: &mut dyn NetBackend) -> Receiver<()> {
    let (tx, rx) = mpsc::channel();
    be.set_notify(Box::new(move || {
        let _ = tx.send(());
    }));
    rx
}

/// Receive frames (discarding those that do not match) until `pred` returns `Some`.
pub fn wait_for<T>(
    be: &mut dyn NetBackend,
    wake: &Receiver<()>,
    timeout: Duration,
    mut pred: impl FnMut(&[u8]) -> Option<T>,
) -> Option<T> {
    let deadline = Instant::now() + timeout;
    loop {
        while let Some(f) = be.recv() {
            if let Some(t) = pred(&f) {
                return Some(t);
            }
        }
        let left = deadline.checked_duration_since(Instant::now())?;
        let _ = wake.recv_timeout(left.min(Duration::from_millis(100)));
    }
}

/// A loopback port that was free a moment ago.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}
