//! IPv4 fragment reassembly in front of libslirp.
//!
//! Libslirp 4.7.0 (Debian 12's) crashes on some fragment sequences a guest can send, e.g. a lone
//! last fragment (offset > 0, MF clear). So fragments never reach it: this module reassembles
//! them (bounded memory, lazy timeout) and hands libslirp the whole datagram as one unfragmented
//! packet; anything inconsistent is dropped. Frames that are not IPv4 fragments pass untouched.

use std::time::{Duration, Instant};

/// Datagrams being reassembled at once; a new one beyond this evicts the oldest.
const MAX_PENDING: usize = 16;
/// A datagram whose fragments do not all arrive within this time is dropped.
const TIMEOUT: Duration = Duration::from_secs(30);
const ETH_HLEN: usize = 14;
const MF: u16 = 0x2000;
const DF: u16 = 0x4000;

/// What to do with a frame from the guest.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Not a fragment: give it to libslirp as is.
    Pass,
    /// A fragment that was kept (datagram incomplete) or refused.
    Held,
    /// The last missing fragment: the reassembled, unfragmented frame.
    Whole(Vec<u8>),
}

struct Pending {
    key: (u32, u32, u16, u8),
    started: Instant,
    /// Ethernet header and IP header (with options) of the offset-0 fragment.
    head: Option<Vec<u8>>,
    data: Vec<u8>,
    /// Received byte ranges of `data`, sorted and merged.
    have: Vec<(usize, usize)>,
    /// Payload length, known once the last fragment arrived.
    total: Option<usize>,
}

impl Pending {
    fn add_range(&mut self, start: usize, end: usize) {
        self.have.push((start, end));
        self.have.sort_unstable();
        let mut merged: Vec<(usize, usize)> = Vec::with_capacity(self.have.len());
        for &(s, e) in &self.have {
            match merged.last_mut() {
                Some(last) if s <= last.1 => last.1 = last.1.max(e),
                _ => merged.push((s, e)),
            }
        }
        self.have = merged;
    }
}

#[derive(Default)]
pub(crate) struct Reassembler {
    pending: Vec<Pending>,
}

fn be16(b: &[u8], i: usize) -> u16 {
    u16::from_be_bytes([b[i], b[i + 1]])
}

fn be32(b: &[u8], i: usize) -> u32 {
    u32::from_be_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]])
}

fn ip_checksum(h: &[u8]) -> u16 {
    let mut sum: u32 = h.chunks(2).map(|c| u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]))).sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

impl Reassembler {
    pub(crate) fn input(&mut self, frame: &[u8], now: Instant) -> Verdict {
        if frame.len() < ETH_HLEN + 20 || be16(frame, 12) != 0x0800 {
            return Verdict::Pass;
        }
        let ip = &frame[ETH_HLEN..];
        let ihl = usize::from(ip[0] & 0x0f) * 4;
        let frag = be16(ip, 6);
        if frag & (MF | 0x1fff) == 0 {
            return Verdict::Pass;
        }
        // A fragment. Refuse anything malformed rather than let libslirp judge it.
        let total_len = usize::from(be16(ip, 2));
        if ip[0] >> 4 != 4 || ihl < 20 || ihl > total_len || total_len > ip.len() || ip_checksum(&ip[..ihl]) != 0 {
            return Verdict::Held;
        }
        let payload = &ip[ihl..total_len];
        let more = frag & MF != 0;
        let off = usize::from(frag & 0x1fff) * 8;
        let end = off + payload.len();
        if payload.is_empty() || (more && !payload.len().is_multiple_of(8)) || ihl + end > 0xffff {
            return Verdict::Held;
        }
        self.pending.retain(|p| now.duration_since(p.started) < TIMEOUT);
        let key = (be32(ip, 12), be32(ip, 16), be16(ip, 4), ip[9]);
        let idx = match self.pending.iter().position(|p| p.key == key) {
            Some(i) => i,
            None => {
                if self.pending.len() >= MAX_PENDING {
                    self.pending.remove(0);
                }
                self.pending.push(Pending {
                    key,
                    started: now,
                    head: None,
                    data: Vec::new(),
                    have: Vec::new(),
                    total: None,
                });
                self.pending.len() - 1
            }
        };
        let p = &mut self.pending[idx];
        let inconsistent = match p.total {
            Some(t) => end > t || (!more && end != t),
            None => !more && p.have.last().is_some_and(|&(_, e)| e > end),
        };
        if inconsistent {
            self.pending.remove(idx);
            return Verdict::Held;
        }
        if !more {
            p.total = Some(end);
        }
        if p.data.len() < end {
            p.data.resize(end, 0);
        }
        p.data[off..end].copy_from_slice(payload);
        p.add_range(off, end);
        if off == 0 {
            p.head = Some(frame[..ETH_HLEN + ihl].to_vec());
        }
        let complete = matches!((p.total, &p.head, p.have.as_slice()), (Some(t), Some(_), [(0, e)]) if *e == t);
        if !complete {
            return Verdict::Held;
        }
        let p = self.pending.remove(idx);
        let (Some(mut out), Some(total)) = (p.head, p.total) else { return Verdict::Held };
        let ihl = out.len() - ETH_HLEN;
        let h = &mut out[ETH_HLEN..];
        h[2..4].copy_from_slice(&((ihl + total) as u16).to_be_bytes());
        let keep_df = be16(h, 6) & DF;
        h[6..8].copy_from_slice(&keep_df.to_be_bytes());
        h[10..12].copy_from_slice(&[0, 0]);
        let c = ip_checksum(&h[..ihl]);
        h[10..12].copy_from_slice(&c.to_be_bytes());
        out.extend_from_slice(&p.data[..total]);
        Verdict::Whole(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frag(id: u16, off: usize, more: bool, payload: &[u8]) -> Vec<u8> {
        let mut f = vec![0u8; 14];
        f[12..14].copy_from_slice(&[8, 0]);
        let total = 20 + payload.len();
        let fl = (off / 8) as u16 | if more { MF } else { 0 };
        let mut h = vec![0x45, 0, (total >> 8) as u8, total as u8, (id >> 8) as u8, id as u8];
        h.extend_from_slice(&fl.to_be_bytes());
        h.extend_from_slice(&[64, 17, 0, 0, 10, 0, 2, 15, 10, 0, 2, 2]);
        let c = ip_checksum(&h);
        h[10..12].copy_from_slice(&c.to_be_bytes());
        f.extend_from_slice(&h);
        f.extend_from_slice(payload);
        f
    }

    #[test]
    fn reassembles_in_any_order() {
        let data: Vec<u8> = (0..40u8).collect();
        let parts = [frag(1, 0, true, &data[..16]), frag(1, 16, true, &data[16..32]), frag(1, 32, false, &data[32..])];
        for order in [[0, 1, 2], [2, 1, 0], [1, 2, 0], [2, 0, 1]] {
            let mut r = Reassembler::default();
            let now = Instant::now();
            let mut got = None;
            for (n, &i) in order.iter().enumerate() {
                match r.input(&parts[i], now) {
                    Verdict::Whole(f) => got = Some((n, f)),
                    v => assert_eq!(v, Verdict::Held),
                }
            }
            let (n, f) = got.expect("complete");
            assert_eq!(n, 2);
            assert_eq!(&f[34..], &data[..]);
            assert_eq!(be16(&f, 16), 60, "total length");
            assert_eq!(be16(&f, 20), 0, "no fragment bits");
            assert_eq!(ip_checksum(&f[14..34]), 0);
            assert!(r.pending.is_empty());
        }
    }

    #[test]
    fn refuses_bad_fragments_and_bounds_state() {
        let mut r = Reassembler::default();
        let now = Instant::now();
        assert_eq!(r.input(&frag(1, 0, false, b"whole"), now), Verdict::Pass);
        assert_eq!(r.input(&frag(2, 0, true, b"odd"), now), Verdict::Held, "MF with a length not a multiple of 8");
        assert_eq!(r.input(&frag(3, 65528, false, &[0; 16]), now), Verdict::Held, "beyond 64 KiB");
        let mut bad = frag(4, 8, false, &[0; 8]);
        bad[24] ^= 1;
        assert_eq!(r.input(&bad, now), Verdict::Held, "bad checksum");
        for id in 0..100 {
            r.input(&frag(id + 10, 8, false, &[0; 8]), now);
        }
        assert!(r.pending.len() <= MAX_PENDING);
        // Stale datagrams expire.
        r.input(&frag(500, 8, false, &[0; 8]), now + TIMEOUT * 2);
        assert_eq!(r.pending.len(), 1);
        // A second "last" fragment that disagrees on the length drops the datagram.
        let mut r = Reassembler::default();
        r.input(&frag(7, 16, false, &[0; 8]), now);
        assert_eq!(r.input(&frag(7, 8, false, &[0; 8]), now), Verdict::Held);
        assert!(r.pending.is_empty());
    }
}
