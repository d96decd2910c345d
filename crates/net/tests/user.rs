//! The user-mode (slirp) backend driven by hand-built frames. Only loopback is ever contacted:
//! the "host" 10.0.2.2 is slirp's alias for the host's 127.0.0.1, and hostfwd binds 127.0.0.1.

mod common;

use common::*;
use mimic_net::{parse_netdev, HostFwd, NetBackend, NetdevOptions, Proto, UserNet, UserOptions, QUEUE_FRAMES};
use std::io::{Read, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::time::{Duration, Instant};

const T: Duration = Duration::from_secs(10);

fn user(spec: &str) -> UserNet {
    match parse_netdev(spec).unwrap() {
        NetdevOptions::User(u) => UserNet::new(&u).unwrap(),
        o => panic!("{o:?}"),
    }
}

/// ARP for 10.0.2.2 from the guest: slirp answers and learns the guest's MAC.
fn arp_gateway(be: &mut UserNet, wake: &std::sync::mpsc::Receiver<()>) -> [u8; 6] {
    be.send(&arp_request(GUEST_IP, HOST_IP));
    wait_for(be, wake, T, |f| match parse_arp(f) {
        Some((2, mac, ip, tip)) if ip == HOST_IP && tip == GUEST_IP => Some(mac),
        _ => None,
    })
    .expect("ARP reply for 10.0.2.2")
}

fn accept_within(l: &TcpListener, t: Duration) -> Option<TcpStream> {
    l.set_nonblocking(true).unwrap();
    let deadline = Instant::now() + t;
    while Instant::now() < deadline {
        match l.accept() {
            Ok((s, _)) => {
                s.set_nonblocking(false).unwrap();
                return Some(s);
            }
            Err(_) => std::thread::sleep(Duration::from_millis(10)),
        }
    }
    None
}

#[test]
fn dhcp_offers_and_acks_qemu_addresses() {
    let mut be = user("user,id=n0");
    let wake = notify_channel(&mut be);
    be.send(&dhcp(DHCP_DISCOVER, 0x1234_5678, &[]));
    let offer = wait_for(&mut be, &wake, T, parse_dhcp_reply).expect("DHCP OFFER");
    assert_eq!(offer.msg_type, DHCP_OFFER);
    assert_eq!(offer.xid, 0x1234_5678);
    assert_eq!(offer.yiaddr, GUEST_IP);
    assert_eq!(offer.option(1), Some(&[255, 255, 255, 0][..]), "netmask");
    assert_eq!(offer.option(3), Some(&HOST_IP.octets()[..]), "router");
    assert_eq!(offer.option(6), Some(&DNS_IP.octets()[..]), "DNS");
    let server = offer.option(54).expect("server id").to_vec();
    assert_eq!(server, HOST_IP.octets());

    let mut extra = vec![50, 4];
    extra.extend_from_slice(&GUEST_IP.octets());
    extra.extend_from_slice(&[54, 4]);
    extra.extend_from_slice(&server);
    be.send(&dhcp(DHCP_REQUEST, 0x1234_5679, &extra));
    let ack = wait_for(&mut be, &wake, T, parse_dhcp_reply).expect("DHCP ACK");
    assert_eq!((ack.msg_type, ack.xid, ack.yiaddr), (DHCP_ACK, 0x1234_5679, GUEST_IP));
    let s = be.stats();
    assert_eq!((s.tx_frames, s.tx_dropped, s.rx_dropped), (2, 0, 0));
    assert!(s.rx_frames >= 2);
}

#[test]
fn dhcp_follows_net_option() {
    let mut be = user("user,id=n0,net=192.168.76.0/24,ipv6=off");
    let wake = notify_channel(&mut be);
    be.send(&dhcp(DHCP_DISCOVER, 7, &[]));
    let offer = wait_for(&mut be, &wake, T, parse_dhcp_reply).expect("DHCP OFFER");
    assert_eq!(offer.yiaddr, Ipv4Addr::new(192, 168, 76, 15));
    assert_eq!(offer.option(3), Some(&[192, 168, 76, 2][..]));
    assert_eq!(offer.option(6), Some(&[192, 168, 76, 3][..]));
}

#[test]
fn arp_for_gateway_and_dns_answered() {
    let mut be = user("user,id=n0");
    let wake = notify_channel(&mut be);
    let gw_mac = arp_gateway(&mut be, &wake);
    assert_ne!(gw_mac, [0; 6]);
    be.send(&arp_request(GUEST_IP, DNS_IP));
    let (op, _, ip, _) = wait_for(&mut be, &wake, T, |f| parse_arp(f).filter(|a| a.0 == 2)).expect("ARP reply");
    assert_eq!((op, ip), (2, DNS_IP));
}

/// Guest connects to 10.0.2.2:PORT; slirp connects to the host's 127.0.0.1:PORT; bytes flow both ways.
#[test]
fn tcp_to_host_alias_reaches_loopback_server() {
    let server = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = server.local_addr().unwrap().port();
    let mut be = user("user,id=n0");
    let wake = notify_channel(&mut be);
    let gw = arp_gateway(&mut be, &wake);

    let iss = 1_000_000u32;
    let seg = |seq, ack, flags, payload: &[u8]| {
        eth(
            gw,
            GUEST_MAC,
            ETH_IPV4,
            &tcp(&Tcp { src: GUEST_IP, dst: HOST_IP, sport: 40000, dport: port, seq, ack, flags, payload }),
        )
    };
    be.send(&seg(iss, 0, SYN, &[]));
    let synack = wait_for(&mut be, &wake, T, |f| parse_tcp(f).filter(|s| s.dport == 40000)).expect("SYN-ACK");
    assert_eq!((synack.src, synack.dst, synack.sport), (HOST_IP, GUEST_IP, port));
    assert_eq!(synack.flags & (SYN | ACK | RST), SYN | ACK, "flags {:#x}", synack.flags);
    assert_eq!(synack.ack, iss + 1);
    let mut conn = accept_within(&server, T).expect("the host server accepted the forwarded connection");

    let irs = synack.seq;
    be.send(&seg(iss + 1, irs + 1, ACK | PSH, b"hello"));
    let mut buf = [0u8; 5];
    conn.set_read_timeout(Some(T)).unwrap();
    conn.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"hello");

    conn.write_all(b"world").unwrap();
    let data = wait_for(&mut be, &wake, T, |f| parse_tcp(f).filter(|s| s.dport == 40000 && !s.payload.is_empty()))
        .expect("data from the host server");
    assert_eq!(data.payload, b"world");
    assert_eq!(data.seq, irs + 1);
    assert_eq!(data.ack, iss + 1 + 5);
}

/// A host client on 127.0.0.1:HOSTPORT reaches a "guest server" made of hand-built frames.
#[test]
fn hostfwd_connects_into_the_guest() {
    let hport = free_port();
    let mut be = user(&format!("user,id=n0,hostfwd=tcp:127.0.0.1:{hport}-:2222"));
    let wake = notify_channel(&mut be);
    let gw = arp_gateway(&mut be, &wake);

    let client = std::thread::spawn(move || {
        let mut c = TcpStream::connect(("127.0.0.1", hport)).unwrap();
        c.set_read_timeout(Some(T)).unwrap();
        c.write_all(b"ping").unwrap();
        let mut buf = [0u8; 4];
        c.read_exact(&mut buf).unwrap();
        buf
    });
    let syn = wait_for(&mut be, &wake, T, |f| parse_tcp(f).filter(|s| s.flags & SYN != 0)).expect("SYN into the guest");
    assert_eq!((syn.dst, syn.dport), (GUEST_IP, 2222));
    assert_eq!(syn.flags & ACK, 0);
    // slirp presents forwarded connections as coming from the host alias.
    assert_eq!(syn.src, HOST_IP);

    let iss = 77_000u32;
    let seg = |seq, ack, flags, payload: &[u8]| {
        eth(
            gw,
            GUEST_MAC,
            ETH_IPV4,
            &tcp(&Tcp { src: GUEST_IP, dst: syn.src, sport: 2222, dport: syn.sport, seq, ack, flags, payload }),
        )
    };
    be.send(&seg(iss, syn.seq + 1, SYN | ACK, &[]));
    let data = wait_for(&mut be, &wake, T, |f| parse_tcp(f).filter(|s| s.dport == 2222 && !s.payload.is_empty()))
        .expect("data");
    assert_eq!(data.payload, b"ping");
    assert_eq!(data.ack, iss + 1);
    be.send(&seg(iss + 1, data.seq + 4, ACK | PSH, b"pong"));
    assert_eq!(&client.join().unwrap(), b"pong");
}

#[test]
fn hostfwd_port_in_use_is_an_error_and_drop_frees_ports() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let mut o = UserOptions::new("n0");
    o.hostfwd.push(HostFwd {
        proto: Proto::Tcp,
        host_addr: Ipv4Addr::LOCALHOST,
        host_port: port,
        guest_addr: GUEST_IP,
        guest_port: 22,
    });
    let err = UserNet::new(&o).unwrap_err().to_string();
    assert!(err.contains("host forwarding") && err.contains(&port.to_string()), "{err}");
    drop(taken);

    // Once the backend is gone its forward no longer listens.
    let be = UserNet::new(&o).expect("port free again");
    assert!(TcpStream::connect(("127.0.0.1", port)).is_ok());
    drop(be);
    assert!(TcpStream::connect(("127.0.0.1", port)).is_err());
}

#[test]
fn restrict_on_keeps_the_guest_off_the_host() {
    let server = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = server.local_addr().unwrap().port();
    let mut be = user("user,id=n0,restrict=on");
    let wake = notify_channel(&mut be);
    let gw = arp_gateway(&mut be, &wake);
    be.send(&eth(
        gw,
        GUEST_MAC,
        ETH_IPV4,
        &tcp(&Tcp { src: GUEST_IP, dst: HOST_IP, sport: 40001, dport: port, seq: 1, ack: 0, flags: SYN, payload: &[] }),
    ));
    let reply = wait_for(&mut be, &wake, T, |f| parse_tcp(f).filter(|s| s.dport == 40001)).expect("a reply");
    assert_ne!(reply.flags & RST, 0, "refused with RST, flags {:#x}", reply.flags);
    assert!(accept_within(&server, Duration::from_millis(300)).is_none());
}

#[test]
fn malformed_frames_never_panic() {
    let mut be = user("user,id=n0,restrict=on");
    let wake = notify_channel(&mut be);
    // Too short for an ethernet header, or longer than any frame: dropped and counted.
    for f in [&[][..], &[0u8; 1], &[0xff; 13], &vec![0u8; mimic_net::MAX_FRAME_LEN + 1]] {
        be.send(f);
    }
    assert_eq!(be.stats().tx_dropped, 4);

    // Truncated versions of every valid frame type at every length.
    let gw = [0x52, 0x55, 10, 0, 2, 2];
    let samples = [
        arp_request(GUEST_IP, HOST_IP),
        dhcp(DHCP_DISCOVER, 1, &[]),
        eth(
            gw,
            GUEST_MAC,
            ETH_IPV4,
            &tcp(&Tcp { src: GUEST_IP, dst: HOST_IP, sport: 1, dport: 9, seq: 1, ack: 0, flags: SYN, payload: &[] }),
        ),
        eth(gw, GUEST_MAC, ETH_IPV4, &udp(GUEST_IP, HOST_IP, 5, 9, b"xyz")),
    ];
    for s in &samples {
        for len in 14..s.len() {
            be.send(&s[..len]);
        }
    }
    // Pseudo-random garbage. Every IPv4/IPv6 packet is aimed at the host alias (10.0.2.2 / fec0::2,
    // i.e. loopback) and the backend is restricted, so nothing can leave the machine.
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    let mut rnd = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    for i in 0..8000 {
        let len = 14 + (rnd() % 1600) as usize;
        let mut f: Vec<u8> = (0..len).map(|_| rnd() as u8).collect();
        let ty: u16 = match i % 5 {
            0 | 1 => 0x0800,
            2 => 0x86dd,
            3 => 0x0806,
            _ => rnd() as u16,
        };
        f[12..14].copy_from_slice(&ty.to_be_bytes());
        if ty == 0x0800 && f.len() >= 34 {
            f[30..34].copy_from_slice(&HOST_IP.octets());
            if i % 2 == 0 {
                // A well-formed IPv4 header (random protocol and payload) reaches the upper layers.
                f[14] = 0x45;
                let total = (f.len() - 14) as u16;
                f[16..18].copy_from_slice(&total.to_be_bytes());
                f[20] &= 0x1f; // no fragment offset
                f[24..26].copy_from_slice(&[0, 0]);
                f[26..30].copy_from_slice(&GUEST_IP.octets());
                f[23] = [1, 6, 17, f[23]][i / 2 % 4]; // ICMP, TCP, UDP or anything
                let c = checksum(&f[14..34], 0);
                f[24..26].copy_from_slice(&c.to_be_bytes());
            }
        }
        if ty == 0x86dd && f.len() >= 54 {
            f[38..54].copy_from_slice(&"fec0::2".parse::<std::net::Ipv6Addr>().unwrap().octets());
        }
        be.send(&f);
        if i % 256 == 0 {
            // Let the slirp thread keep up so the bounded queue does not drop the fuzz input.
            std::thread::sleep(Duration::from_millis(5));
            while be.recv().is_some() {}
        }
    }
    // Still alive and answering.
    while be.recv().is_some() {}
    arp_gateway(&mut be, &wake);
}

/// A guest that never reads costs bounded memory: surplus frames are dropped and counted.
#[test]
fn guest_that_never_reads_is_bounded() {
    let mut be = user("user,id=n0,ipv6=off");
    let deadline = Instant::now() + Duration::from_secs(30);
    while be.stats().rx_dropped == 0 {
        assert!(Instant::now() < deadline, "no drop after {:?}", be.stats());
        for _ in 0..64 {
            be.send(&arp_request(GUEST_IP, HOST_IP));
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    let mut n = 0;
    while be.recv().is_some() {
        n += 1;
    }
    assert!(n <= QUEUE_FRAMES, "{n} frames queued");
    assert!(n >= QUEUE_FRAMES / 2, "{n} frames queued");
    // Working again once drained.
    let wake = notify_channel(&mut be);
    arp_gateway(&mut be, &wake);
}

#[test]
fn open_by_spec_and_libslirp_version() {
    let opts = parse_netdev("user,id=u1,ipv6=off").unwrap();
    let mut be = mimic_net::open(&opts).unwrap();
    let wake = notify_channel(be.as_mut());
    be.send(&arp_request(GUEST_IP, HOST_IP));
    assert!(wait_for(be.as_mut(), &wake, T, |f| parse_arp(f).filter(|a| a.0 == 2)).is_some());
    assert!(UserNet::libslirp_version().starts_with('4'), "{}", UserNet::libslirp_version());
}

/// IPv4 fragment as the guest would send it (UDP datagram split by the guest's IP layer).
fn ip_fragment(gw: [u8; 6], id: u16, off: usize, more: bool, proto: u8, payload: &[u8]) -> Vec<u8> {
    let mut ip = ipv4(GUEST_IP, HOST_IP, proto, payload);
    ip[4..6].copy_from_slice(&id.to_be_bytes());
    let fl = (off / 8) as u16 | if more { 0x2000 } else { 0 };
    ip[6..8].copy_from_slice(&fl.to_be_bytes());
    ip[10..12].copy_from_slice(&[0, 0]);
    let c = checksum(&ip[..20], 0);
    ip[10..12].copy_from_slice(&c.to_be_bytes());
    eth(gw, GUEST_MAC, ETH_IPV4, &ip)
}

/// A fragmented UDP datagram (fragments out of order) reaches a host socket on 127.0.0.1 whole,
/// and hostile fragment sequences (which crash libslirp 4.7.0 if passed through) are harmless.
#[test]
fn ipv4_fragments_are_reassembled_and_hostile_ones_harmless() {
    let sock = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.set_read_timeout(Some(T)).unwrap();
    let port = sock.local_addr().unwrap().port();
    let mut be = user("user,id=n0");
    let wake = notify_channel(&mut be);
    let gw = arp_gateway(&mut be, &wake);

    // Hostile first: a lone last fragment, a lone middle one, overlaps, and one past 64 KiB.
    be.send(&ip_fragment(gw, 1, 64, false, IP_UDP, &[0; 64]));
    be.send(&ip_fragment(gw, 2, 64, true, IP_UDP, &[0; 64]));
    be.send(&ip_fragment(gw, 3, 0, true, IP_UDP, &[0; 64]));
    be.send(&ip_fragment(gw, 3, 8, false, IP_UDP, &[0; 8]));
    be.send(&ip_fragment(gw, 4, 65528, false, IP_UDP, &[0; 64]));
    be.send(&ip_fragment(gw, 5, 0, true, 99, &[0; 64]));
    be.send(&ip_fragment(gw, 5, 64, false, 99, &[0; 8]));

    let data: Vec<u8> = (0..3000u32).map(|i| (i * 7) as u8).collect();
    let datagram = udp(GUEST_IP, HOST_IP, 5555, port, &data);
    let l4 = &datagram[20..];
    let cuts = [0, 1480, 2960, l4.len()];
    for i in (0..3).rev() {
        be.send(&ip_fragment(gw, 0x4242, cuts[i], i < 2, IP_UDP, &l4[cuts[i]..cuts[i + 1]]));
    }
    let mut buf = vec![0u8; 4096];
    let (n, _) = sock.recv_from(&mut buf).expect("reassembled datagram at the host socket");
    assert_eq!(&buf[..n], &data[..]);
    arp_gateway(&mut be, &wake);
}
