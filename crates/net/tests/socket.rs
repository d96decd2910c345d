//! The socket backend over loopback: QEMU's length-prefixed frames on TCP.

mod common;

use common::*;
use mimic_net::{parse_netdev, NetBackend, NetdevOptions, SocketMode, SocketNet, SocketOptions};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

const T: Duration = Duration::from_secs(10);

fn listen() -> SocketNet {
    let o = SocketOptions { id: "s0".into(), mode: SocketMode::Listen { host: "127.0.0.1".into(), port: 0 } };
    SocketNet::new(&o).unwrap()
}

fn connect(port: u16) -> SocketNet {
    match parse_netdev(&format!("socket,id=s1,connect=127.0.0.1:{port}")).unwrap() {
        NetdevOptions::Socket(s) => SocketNet::new(&s).unwrap(),
        o => panic!("{o:?}"),
    }
}

fn wait_until(mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + T;
    while !f() {
        assert!(Instant::now() < deadline, "timed out");
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn frame(n: usize, seed: u8) -> Vec<u8> {
    (0..n).map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed)).collect()
}

#[test]
fn two_backends_exchange_frames_intact() {
    let mut a = listen();
    let port = a.local_addr().unwrap().port();
    let mut b = connect(port);
    let wake_a = notify_channel(&mut a);
    let wake_b = notify_channel(&mut b);
    wait_until(|| a.is_connected() && b.is_connected());

    let sizes = [14, 60, 1514, 9000, 65535, 14 + 65536];
    for (i, &n) in sizes.iter().enumerate() {
        b.send(&frame(n, i as u8));
        a.send(&frame(n, 100 + i as u8));
    }
    for (i, &n) in sizes.iter().enumerate() {
        let got = wait_for(&mut a, &wake_a, T, |f| Some(f.to_vec())).expect("frame at a");
        assert_eq!(got, frame(n, i as u8), "frame {i} to a");
        let got = wait_for(&mut b, &wake_b, T, |f| Some(f.to_vec())).expect("frame at b");
        assert_eq!(got, frame(n, 100 + i as u8), "frame {i} to b");
    }
    assert_eq!(a.stats().tx_frames, sizes.len() as u64);
    assert_eq!(a.stats().rx_frames, sizes.len() as u64);
    assert_eq!(b.stats().tx_dropped, 0);

    // The peer going away is noticed; frames are then dropped and counted.
    drop(b);
    wait_until(|| !a.is_connected());
    a.send(&frame(60, 0));
    assert_eq!(a.stats().tx_dropped, 1);
}

/// A raw harness speaking the wire format: 4-byte big-endian length, then the frame.
#[test]
fn wire_format_is_qemus_and_bad_peers_are_dropped() {
    let mut be = listen();
    let addr = be.local_addr().unwrap();
    let wake = notify_channel(&mut be);
    // Nobody connected yet: dropped.
    be.send(&frame(60, 1));
    assert_eq!(be.stats().tx_dropped, 1);

    let mut peer = TcpStream::connect(addr).unwrap();
    peer.set_read_timeout(Some(T)).unwrap();
    wait_until(|| be.is_connected());
    let f = frame(100, 9);
    let mut msg = (f.len() as u32).to_be_bytes().to_vec();
    msg.extend_from_slice(&f);
    peer.write_all(&msg).unwrap();
    assert_eq!(wait_for(&mut be, &wake, T, |x| Some(x.to_vec())), Some(f));

    be.send(&frame(77, 3));
    let mut len = [0u8; 4];
    peer.read_exact(&mut len).unwrap();
    assert_eq!(u32::from_be_bytes(len), 77);
    let mut body = vec![0u8; 77];
    peer.read_exact(&mut body).unwrap();
    assert_eq!(body, frame(77, 3));

    // A second client is turned away while the first is connected.
    let mut second = TcpStream::connect(addr).unwrap();
    second.set_read_timeout(Some(T)).unwrap();
    assert_eq!(second.read(&mut [0u8; 1]).unwrap_or(0), 0);

    // Too-short frames are dropped; an absurd length ends the connection without harm.
    peer.write_all(&[0, 0, 0, 3, 1, 2, 3]).unwrap();
    peer.write_all(&u32::MAX.to_be_bytes()).unwrap();
    wait_until(|| !be.is_connected());
    assert_eq!(peer.read(&mut [0u8; 1]).unwrap_or(0), 0, "closed by the backend");
    assert_eq!(be.stats().rx_dropped, 1);

    // The next client is accepted.
    let mut third = TcpStream::connect(addr).unwrap();
    wait_until(|| be.is_connected());
    let f = frame(64, 5);
    let mut msg = (f.len() as u32).to_be_bytes().to_vec();
    msg.extend_from_slice(&f);
    third.write_all(&msg).unwrap();
    assert_eq!(wait_for(&mut be, &wake, T, |x| Some(x.to_vec())), Some(f));
}

#[test]
fn connect_without_listener_fails_and_drop_releases_port() {
    let port = free_port();
    let err =
        SocketNet::new(&SocketOptions { id: "s".into(), mode: SocketMode::Connect { host: "127.0.0.1".into(), port } })
            .unwrap_err();
    assert!(err.to_string().contains("connect"), "{err}");

    let be = listen();
    let addr = be.local_addr().unwrap();
    drop(be);
    assert!(TcpStream::connect(addr).is_err(), "listener closed");
}

/// A peer flooding a backend whose guest never reads costs bounded memory.
#[test]
fn flood_from_peer_is_bounded() {
    let mut a = listen();
    let mut b = connect(a.local_addr().unwrap().port());
    wait_until(|| a.is_connected());
    let f = frame(1000, 0);
    let deadline = Instant::now() + T;
    while a.stats().rx_dropped == 0 {
        assert!(Instant::now() < deadline, "no drop: {:?} {:?}", a.stats(), b.stats());
        for _ in 0..100 {
            b.send(&f);
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    // Frames already in the socket buffer keep arriving (and being dropped) for a moment after
    // the first drop; count the queue once the reader is idle.
    loop {
        let before = a.stats();
        std::thread::sleep(Duration::from_millis(100));
        if a.stats() == before {
            break;
        }
        assert!(Instant::now() < deadline, "reader never settled: {:?}", a.stats());
    }
    let mut got = 0;
    while a.recv().is_some() {
        got += 1;
    }
    assert_eq!(got, mimic_net::QUEUE_FRAMES);
    // Malformed sends never panic and are counted.
    b.send(&[]);
    b.send(&[0; 13]);
    assert!(b.stats().tx_dropped >= 2);
}
