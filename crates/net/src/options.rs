//! QEMU's `-netdev` spelling for the backends this crate has.
//!
//! `user,id=n0[,ipv4=on|off][,ipv6=on|off][,net=ADDR[/MASK]][,host=ADDR][,dhcpstart=ADDR][,dns=ADDR]
//! [,restrict=on|off][,hostname=NAME][,domainname=NAME][,dnssearch=DOMAIN]...[,tftp=DIR]
//! [,tftp-server-name=NAME][,bootfile=FILE][,ipv6-net=ADDR[/LEN]][,ipv6-host=ADDR][,ipv6-dns=ADDR]
//! [,hostfwd=[tcp|udp]:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT]...`
//!
//! `socket,id=n0,listen=[HOST]:PORT` or `socket,id=n0,connect=HOST:PORT`.
//!
//! As in QEMU, `,,` inside a value is a literal comma, the first item may be given as `type=...`,
//! and an empty `HOSTADDR` in `hostfwd=` means all host interfaces (write `127.0.0.1` to keep a
//! forward on loopback). An empty `GUESTADDR` means the first DHCP address.

use crate::Error;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::path::PathBuf;

/// A parsed `-netdev`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(clippy::large_enum_variant)]
pub enum NetdevOptions {
    User(UserOptions),
    Socket(SocketOptions),
}

impl NetdevOptions {
    /// The `id=` the NIC refers to with `netdev=`.
    pub fn id(&self) -> &str {
        match self {
            NetdevOptions::User(u) => &u.id,
            NetdevOptions::Socket(s) => &s.id,
        }
    }
}

/// Transport protocol of a forwarding rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proto {
    Tcp,
    Udp,
}

/// One `hostfwd=` rule: connections to `host_addr:host_port` on the host are forwarded to
/// `guest_addr:guest_port` in the guest network.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HostFwd {
    pub proto: Proto,
    /// `0.0.0.0` (all interfaces) when the rule leaves it empty, as in QEMU.
    pub host_addr: Ipv4Addr,
    pub host_port: u16,
    /// The DHCP start address when the rule leaves it empty.
    pub guest_addr: Ipv4Addr,
    pub guest_port: u16,
}

/// `-netdev user`: the slirp configuration, with QEMU's defaults filled in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserOptions {
    pub id: String,
    pub ipv4: bool,
    pub ipv6: bool,
    pub restrict: bool,
    pub net: Ipv4Addr,
    pub mask: Ipv4Addr,
    pub host: Ipv4Addr,
    pub dhcp_start: Ipv4Addr,
    pub dns: Ipv4Addr,
    pub ipv6_prefix: Ipv6Addr,
    pub ipv6_prefix_len: u8,
    pub ipv6_host: Ipv6Addr,
    pub ipv6_dns: Ipv6Addr,
    pub hostname: Option<String>,
    pub domainname: Option<String>,
    pub dnssearch: Vec<String>,
    pub tftp: Option<PathBuf>,
    pub tftp_server_name: Option<String>,
    pub bootfile: Option<String>,
    pub hostfwd: Vec<HostFwd>,
}

impl UserOptions {
    /// QEMU's defaults: 10.0.2.0/24, host 10.0.2.2, DNS 10.0.2.3, DHCP from 10.0.2.15, IPv6 on
    /// fec0::/64 (host fec0::2, DNS fec0::3), unrestricted, no forwards.
    pub fn new(id: &str) -> Self {
        UserOptions {
            id: id.to_string(),
            ipv4: true,
            ipv6: true,
            restrict: false,
            net: Ipv4Addr::new(10, 0, 2, 0),
            mask: Ipv4Addr::new(255, 255, 255, 0),
            host: Ipv4Addr::new(10, 0, 2, 2),
            dhcp_start: Ipv4Addr::new(10, 0, 2, 15),
            dns: Ipv4Addr::new(10, 0, 2, 3),
            ipv6_prefix: Ipv6Addr::new(0xfec0, 0, 0, 0, 0, 0, 0, 0),
            ipv6_prefix_len: 64,
            ipv6_host: Ipv6Addr::new(0xfec0, 0, 0, 0, 0, 0, 0, 2),
            ipv6_dns: Ipv6Addr::new(0xfec0, 0, 0, 0, 0, 0, 0, 3),
            hostname: None,
            domainname: None,
            dnssearch: Vec::new(),
            tftp: None,
            tftp_server_name: None,
            bootfile: None,
            hostfwd: Vec::new(),
        }
    }
}

/// Whether a socket backend waits for its peer or dials it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SocketMode {
    /// `listen=[HOST]:PORT`; an empty host means all interfaces. Port 0 picks a free port (see
    /// [`crate::SocketNet::local_addr`]).
    Listen { host: String, port: u16 },
    /// `connect=HOST:PORT`.
    Connect { host: String, port: u16 },
}

/// `-netdev socket` with `listen=` or `connect=`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SocketOptions {
    pub id: String,
    pub mode: SocketMode,
}

fn perr(msg: impl Into<String>) -> Error {
    Error::Parse(msg.into())
}

/// Split on single commas; `,,` is a literal comma.
fn split_opts(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == ',' {
            if chars.peek() == Some(&',') {
                chars.next();
                cur.push(',');
            } else {
                out.push(std::mem::take(&mut cur));
            }
        } else {
            cur.push(c);
        }
    }
    out.push(cur);
    out
}

fn parse_bool(key: &str, v: &str) -> Result<bool, Error> {
    match v {
        "on" | "yes" | "y" | "true" => Ok(true),
        "off" | "no" | "n" | "false" => Ok(false),
        _ => Err(perr(format!("parameter '{key}' expects 'on' or 'off', got '{v}'"))),
    }
}

fn parse_ip4(key: &str, v: &str) -> Result<Ipv4Addr, Error> {
    v.parse().map_err(|_| perr(format!("parameter '{key}': invalid IPv4 address '{v}'")))
}

fn parse_ip6(key: &str, v: &str) -> Result<Ipv6Addr, Error> {
    v.parse().map_err(|_| perr(format!("parameter '{key}': invalid IPv6 address '{v}'")))
}

fn parse_port(what: &str, v: &str) -> Result<u16, Error> {
    v.parse().map_err(|_| perr(format!("invalid {what} port '{v}'")))
}

/// QEMU's classful default mask for `net=ADDR` without `/MASK`.
fn default_mask(addr: u32) -> u32 {
    if addr & 0x8000_0000 == 0 {
        0xff00_0000
    } else if addr & 0xfff0_0000 == 0xac10_0000 {
        0xfff0_0000
    } else if addr & 0xc000_0000 == 0x8000_0000 || addr & 0xffff_0000 == 0xc0a8_0000 {
        0xffff_0000
    } else if addr & 0xffff_0000 == 0xc612_0000 {
        0xfffe_0000
    } else if addr & 0xe000_0000 == 0xe000_0000 {
        0xffff_ff00
    } else {
        0xffff_fff0
    }
}

fn parse_net(v: &str) -> Result<(Ipv4Addr, Ipv4Addr), Error> {
    let (a, m) = match v.split_once('/') {
        Some((a, m)) => (a, Some(m)),
        None => (v, None),
    };
    let addr = u32::from(parse_ip4("net", a)?);
    let mask = match m {
        None => default_mask(addr),
        Some(m) => match m.parse::<u32>() {
            Ok(bits) if bits <= 32 => u32::MAX.checked_shl(32 - bits).unwrap_or(0),
            Ok(_) => return Err(perr(format!("parameter 'net': invalid netmask '{m}'"))),
            Err(_) => u32::from(parse_ip4("net", m)?),
        },
    };
    Ok((Ipv4Addr::from(addr & mask), Ipv4Addr::from(mask)))
}

fn parse_ip6_net(v: &str) -> Result<(Ipv6Addr, u8), Error> {
    let (a, len) = match v.split_once('/') {
        Some((a, l)) => {
            let len: u8 = l
                .parse()
                .ok()
                .filter(|&l| l <= 126)
                .ok_or_else(|| perr(format!("parameter 'ipv6-net': invalid prefix length '{l}'")))?;
            (a, len)
        }
        None => (v, 64),
    };
    Ok((parse_ip6("ipv6-net", a)?, len))
}

/// `[tcp|udp]:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT`; an empty guest address is resolved later.
fn parse_hostfwd(v: &str) -> Result<(HostFwd, bool), Error> {
    let bad = |why: &str| perr(format!("invalid host forwarding rule '{v}' ({why})"));
    let (proto, rest) = v.split_once(':').ok_or_else(|| bad("missing ':'"))?;
    let proto = match proto {
        "" | "tcp" => Proto::Tcp,
        "udp" => Proto::Udp,
        _ => return Err(bad("protocol must be tcp or udp")),
    };
    let (host, guest) = rest.split_once('-').ok_or_else(|| bad("missing '-'"))?;
    let (haddr, hport) = host.split_once(':').ok_or_else(|| bad("missing host port"))?;
    let (gaddr, gport) = guest.split_once(':').ok_or_else(|| bad("missing guest port"))?;
    let host_addr = if haddr.is_empty() { Ipv4Addr::UNSPECIFIED } else { parse_ip4("hostfwd", haddr)? };
    let host_port = parse_port("host", hport)?;
    let guest_port = parse_port("guest", gport)?;
    if guest_port == 0 {
        return Err(bad("guest port must not be 0"));
    }
    let guest_addr = if gaddr.is_empty() { Ipv4Addr::UNSPECIFIED } else { parse_ip4("hostfwd", gaddr)? };
    Ok((HostFwd { proto, host_addr, host_port, guest_addr, guest_port }, gaddr.is_empty()))
}

fn parse_hostport(key: &str, v: &str) -> Result<(String, u16), Error> {
    let (h, p) = v.rsplit_once(':').ok_or_else(|| perr(format!("parameter '{key}' expects HOST:PORT, got '{v}'")))?;
    let h = h.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(h);
    Ok((h.to_string(), parse_port(key, p)?))
}

/// Parse a `-netdev` argument (`user,...` or `socket,...`) into options with QEMU's defaults.
pub fn parse_netdev(s: &str) -> Result<NetdevOptions, Error> {
    let mut items = split_opts(s).into_iter();
    let first = items.next().unwrap_or_default();
    let kind = first.strip_prefix("type=").unwrap_or(&first).to_string();
    let mut kv = Vec::new();
    for item in items {
        let (k, v) = item.split_once('=').ok_or_else(|| perr(format!("expected KEY=VALUE, got '{item}'")))?;
        kv.push((k.to_string(), v.to_string()));
    }
    let id = kv
        .iter()
        .find(|(k, _)| k == "id")
        .map(|(_, v)| v.clone())
        .ok_or_else(|| perr(format!("{kind}: parameter 'id' is missing")))?;
    if id.is_empty() {
        return Err(perr("parameter 'id' must not be empty"));
    }
    match kind.as_str() {
        "user" => parse_user(&id, &kv).map(NetdevOptions::User),
        "socket" => parse_socket(&id, &kv).map(NetdevOptions::Socket),
        "" => Err(perr("missing netdev type")),
        other => Err(perr(format!("netdev type '{other}' is not supported (supported: user, socket)"))),
    }
}

fn parse_user(id: &str, kv: &[(String, String)]) -> Result<UserOptions, Error> {
    let mut o = UserOptions::new(id);
    let (mut host, mut dns, mut dhcp, mut ip6host, mut ip6dns) = (None, None, None, None, None);
    let mut fwds = Vec::new();
    for (k, v) in kv {
        match k.as_str() {
            "id" => {}
            "ipv4" => o.ipv4 = parse_bool(k, v)?,
            "ipv6" => o.ipv6 = parse_bool(k, v)?,
            "restrict" => o.restrict = parse_bool(k, v)?,
            "net" => (o.net, o.mask) = parse_net(v)?,
            "host" => host = Some(parse_ip4(k, v)?),
            "dhcpstart" => dhcp = Some(parse_ip4(k, v)?),
            "dns" => dns = Some(parse_ip4(k, v)?),
            "ipv6-net" => (o.ipv6_prefix, o.ipv6_prefix_len) = parse_ip6_net(v)?,
            "ipv6-prefix" => o.ipv6_prefix = parse_ip6(k, v)?,
            "ipv6-prefixlen" => {
                o.ipv6_prefix_len = v
                    .parse()
                    .ok()
                    .filter(|&l: &u8| l <= 126)
                    .ok_or_else(|| perr(format!("parameter 'ipv6-prefixlen': invalid prefix length '{v}'")))?
            }
            "ipv6-host" => ip6host = Some(parse_ip6(k, v)?),
            "ipv6-dns" => ip6dns = Some(parse_ip6(k, v)?),
            "hostname" => o.hostname = Some(v.clone()),
            "domainname" => o.domainname = Some(v.clone()),
            "dnssearch" => o.dnssearch.push(v.clone()),
            "tftp" => o.tftp = Some(PathBuf::from(v)),
            "tftp-server-name" => o.tftp_server_name = Some(v.clone()),
            "bootfile" => o.bootfile = Some(v.clone()),
            "hostfwd" => fwds.push(parse_hostfwd(v)?),
            "guestfwd" | "smb" | "smbserver" => {
                return Err(perr(format!("user: parameter '{k}' is not supported")));
            }
            _ => return Err(perr(format!("user: invalid parameter '{k}'"))),
        }
    }
    if !o.ipv4 && !o.ipv6 {
        return Err(perr("user: IPv4 and IPv6 cannot both be disabled"));
    }
    let net = u32::from(o.net);
    let mask = u32::from(o.mask);
    let in_net = |name: &str, a: Ipv4Addr| -> Result<Ipv4Addr, Error> {
        let a32 = u32::from(a);
        if a32 & mask != net {
            return Err(perr(format!("user: {name} address {a} is not in the guest network {}/{}", o.net, o.mask)));
        }
        if a32 == net || a32 == net | !mask {
            return Err(perr(format!("user: {name} address {a} is the network or broadcast address")));
        }
        Ok(a)
    };
    o.host = in_net("host", host.unwrap_or(Ipv4Addr::from(net | 2)))?;
    o.dns = in_net("dns", dns.unwrap_or(Ipv4Addr::from(net | 3)))?;
    o.dhcp_start = in_net("dhcpstart", dhcp.unwrap_or(Ipv4Addr::from(net | 15)))?;
    if o.dns == o.host || o.dhcp_start == o.host || o.dhcp_start == o.dns {
        return Err(perr("user: host, dns and dhcpstart addresses must differ"));
    }
    o.ipv6_host = ip6host.unwrap_or(with_low_bits(o.ipv6_prefix, 2));
    o.ipv6_dns = ip6dns.unwrap_or(with_low_bits(o.ipv6_prefix, 3));
    o.hostfwd = fwds
        .into_iter()
        .map(|(mut f, default_guest)| {
            if default_guest {
                f.guest_addr = o.dhcp_start;
            }
            f
        })
        .collect();
    Ok(o)
}

fn with_low_bits(prefix: Ipv6Addr, low: u16) -> Ipv6Addr {
    let mut s = prefix.segments();
    s[7] = low;
    Ipv6Addr::from(s)
}

fn parse_socket(id: &str, kv: &[(String, String)]) -> Result<SocketOptions, Error> {
    let mut mode = None;
    for (k, v) in kv {
        match k.as_str() {
            "id" => {}
            "listen" | "connect" => {
                if mode.is_some() {
                    return Err(perr("socket: exactly one of listen= and connect= is allowed"));
                }
                let (host, port) = parse_hostport(k, v)?;
                if k == "listen" {
                    mode = Some(SocketMode::Listen { host, port });
                } else {
                    if host.is_empty() || port == 0 {
                        return Err(perr(format!("socket: connect= needs HOST:PORT, got '{v}'")));
                    }
                    mode = Some(SocketMode::Connect { host, port });
                }
            }
            "fd" | "mcast" | "udp" | "localaddr" => {
                return Err(perr(format!("socket: parameter '{k}' is not supported (use listen= or connect=)")));
            }
            _ => return Err(perr(format!("socket: invalid parameter '{k}'"))),
        }
    }
    let mode = mode.ok_or_else(|| perr("socket: one of listen= or connect= is required"))?;
    Ok(SocketOptions { id: id.to_string(), mode })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(s: &str) -> UserOptions {
        match parse_netdev(s).unwrap() {
            NetdevOptions::User(u) => u,
            o => panic!("{o:?}"),
        }
    }

    #[test]
    fn user_defaults_are_qemus() {
        let u = user("user,id=n0");
        assert_eq!(u, UserOptions::new("n0"));
        assert_eq!(u.host, Ipv4Addr::new(10, 0, 2, 2));
        assert_eq!(u.dns, Ipv4Addr::new(10, 0, 2, 3));
        assert_eq!(u.dhcp_start, Ipv4Addr::new(10, 0, 2, 15));
        assert_eq!(parse_netdev("type=user,id=x").unwrap().id(), "x");
    }

    #[test]
    fn hostfwd_spellings() {
        let u = user("user,id=n0,hostfwd=tcp::5555-:22,hostfwd=tcp:127.0.0.1:8080-10.0.2.15:80,hostfwd=udp::53-:53");
        assert_eq!(
            u.hostfwd,
            vec![
                HostFwd {
                    proto: Proto::Tcp,
                    host_addr: Ipv4Addr::UNSPECIFIED,
                    host_port: 5555,
                    guest_addr: Ipv4Addr::new(10, 0, 2, 15),
                    guest_port: 22
                },
                HostFwd {
                    proto: Proto::Tcp,
                    host_addr: Ipv4Addr::LOCALHOST,
                    host_port: 8080,
                    guest_addr: Ipv4Addr::new(10, 0, 2, 15),
                    guest_port: 80
                },
                HostFwd {
                    proto: Proto::Udp,
                    host_addr: Ipv4Addr::UNSPECIFIED,
                    host_port: 53,
                    guest_addr: Ipv4Addr::new(10, 0, 2, 15),
                    guest_port: 53
                },
            ]
        );
        // An empty protocol is tcp; the guest address follows dhcpstart, whatever the order.
        let u = user("user,id=n0,hostfwd=:127.0.0.1:1-:2,dhcpstart=10.0.2.20");
        assert_eq!(u.hostfwd[0].proto, Proto::Tcp);
        assert_eq!(u.hostfwd[0].guest_addr, Ipv4Addr::new(10, 0, 2, 20));
        for bad in
            ["tcp:5555-:22", "tcp::5555:22", "icmp::1-:2", "tcp::x-:2", "tcp::1-:0", "tcp:1.2.3:1-:2", "tcp::1-:70000"]
        {
            assert!(parse_netdev(&format!("user,id=n0,hostfwd={bad}")).is_err(), "{bad}");
        }
    }

    #[test]
    fn net_and_derived_addresses() {
        let u = user("user,id=n0,net=192.168.76.0/24,restrict=on,ipv6=off");
        assert_eq!((u.net, u.mask), (Ipv4Addr::new(192, 168, 76, 0), Ipv4Addr::new(255, 255, 255, 0)));
        assert_eq!(u.host, Ipv4Addr::new(192, 168, 76, 2));
        assert_eq!(u.dns, Ipv4Addr::new(192, 168, 76, 3));
        assert_eq!(u.dhcp_start, Ipv4Addr::new(192, 168, 76, 15));
        assert!(u.restrict && !u.ipv6);
        let u = user("user,id=n0,net=10.9.0.0/255.255.0.0,host=10.9.1.1,dns=10.9.1.2");
        assert_eq!(u.mask, Ipv4Addr::new(255, 255, 0, 0));
        assert_eq!(
            (u.host, u.dns, u.dhcp_start),
            (Ipv4Addr::new(10, 9, 1, 1), Ipv4Addr::new(10, 9, 1, 2), Ipv4Addr::new(10, 9, 0, 15))
        );
        // Classful default mask: 192.168/16.
        assert_eq!(user("user,id=n0,net=192.168.5.0").mask, Ipv4Addr::new(255, 255, 0, 0));
        let u = user("user,id=n0,ipv6-net=fd00:1::/64");
        assert_eq!(u.ipv6_host, "fd00:1::2".parse::<Ipv6Addr>().unwrap());
        assert_eq!(u.ipv6_dns, "fd00:1::3".parse::<Ipv6Addr>().unwrap());
    }

    #[test]
    fn user_errors() {
        for bad in [
            "user",
            "user,id=",
            "user,id=n0,bogus=1",
            "user,id=n0,restrict=maybe",
            "user,id=n0,dns=10.0.3.3",
            "user,id=n0,host=10.0.2.255",
            "user,id=n0,net=10.0.2.0/33",
            "user,id=n0,ipv4=off,ipv6=off",
            "user,id=n0,guestfwd=tcp:10.0.2.100:1-cmd:true",
            "user,id=n0,hostfwd",
            "tap,id=n0",
            "",
        ] {
            assert!(parse_netdev(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn socket_modes() {
        let s = |x| match parse_netdev(x).unwrap() {
            NetdevOptions::Socket(s) => s.mode,
            o => panic!("{o:?}"),
        };
        assert_eq!(s("socket,id=s,listen=127.0.0.1:1234"), SocketMode::Listen { host: "127.0.0.1".into(), port: 1234 });
        assert_eq!(s("socket,id=s,listen=:1234"), SocketMode::Listen { host: "".into(), port: 1234 });
        assert_eq!(s("socket,id=s,connect=127.0.0.1:99"), SocketMode::Connect { host: "127.0.0.1".into(), port: 99 });
        assert_eq!(s("socket,id=s,connect=[::1]:99"), SocketMode::Connect { host: "::1".into(), port: 99 });
        for bad in [
            "socket,id=s",
            "socket,id=s,listen=1234",
            "socket,id=s,connect=:99",
            "socket,id=s,listen=:1,connect=127.0.0.1:2",
            "socket,id=s,mcast=230.0.0.1:1234",
        ] {
            assert!(parse_netdev(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn double_comma_is_literal() {
        assert_eq!(split_opts("user,id=a,,b,x=1"), vec!["user", "id=a,b", "x=1"]);
        assert_eq!(user("user,id=n0,domainname=a,,b").domainname.as_deref(), Some("a,b"));
    }
}
