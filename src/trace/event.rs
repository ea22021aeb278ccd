//! nf_tables trace events (`NFT_MSG_TRACE` on the `NFNLGRP_NFTRACE` netlink group), as
//! `nft monitor trace` reads them: parsed from the raw netlink message into
//! [`Event`], with the IPv4 and TCP / UDP / ICMP headers the kernel copies in.

use std::net::Ipv4Addr;

/// `NFNL_SUBSYS_NFTABLES << 8 | NFT_MSG_TRACE`.
pub const TRACE_MSG_TYPE: u16 = (10 << 8) | 17;

/// What kind of event: a rule matched, a chain's end fell back to its caller, or a base
/// chain's policy decided (`enum nft_trace_types`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// A rule matched (its verdict may be "continue").
    Rule,
    /// The end of a chain was reached: back to the calling chain.
    Return,
    /// The end of a base chain: its policy applies.
    Policy,
}

/// A verdict, as `nft` names them.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase", tag = "verdict", content = "chain")]
pub enum Verdict {
    /// The packet goes on (to the next rule or hook).
    Accept,
    /// The packet is thrown away.
    Drop,
    /// Next rule (a non-terminal match such as a counter or `meta nftrace set 1`).
    Continue,
    /// Jump into a chain, coming back at its end.
    Jump(String),
    /// Go to a chain, not coming back.
    Goto(String),
    /// Back to the calling chain.
    Return,
    /// Queued to user space, stolen, repeated, or a code this program does not know.
    Other(i32),
}

impl Verdict {
    fn from_code(code: i32, chain: Option<String>) -> Verdict {
        match code {
            0 => Verdict::Drop,
            1 => Verdict::Accept,
            -1 => Verdict::Continue,
            -3 => Verdict::Jump(chain.unwrap_or_default()),
            -4 => Verdict::Goto(chain.unwrap_or_default()),
            -5 => Verdict::Return,
            c => Verdict::Other(c),
        }
    }

    /// `ACCEPT`, `DROP`, `-j CHAIN` … as iptables users read them.
    pub fn word(&self) -> String {
        match self {
            Verdict::Accept => "ACCEPT".into(),
            Verdict::Drop => "DROP".into(),
            Verdict::Continue => "continue".into(),
            Verdict::Jump(c) => format!("jump {c}"),
            Verdict::Goto(c) => format!("goto {c}"),
            Verdict::Return => "RETURN".into(),
            Verdict::Other(c) => format!("verdict {c}"),
        }
    }
}

/// The IPv4 packet as the kernel saw it at that point (after any NAT done before).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Packet {
    /// Source address.
    pub src: Ipv4Addr,
    /// Destination address.
    pub dst: Ipv4Addr,
    /// `tcp`, `udp`, `icmp` or the protocol number.
    pub proto: String,
    /// TCP / UDP source port, ICMP echo id.
    pub sport: Option<u16>,
    /// TCP / UDP destination port.
    pub dport: Option<u16>,
    /// `echo-request`, `SYN`, `SYN,ACK` …: what the packet is.
    pub what: Option<String>,
}

/// One trace event.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Event {
    /// The kernel's id for the packet (the same in every chain of one hook pass).
    pub id: u32,
    /// Protocol family of the table (`ip`, `bridge`, `inet`, …).
    pub family: &'static str,
    /// Table.
    pub table: String,
    /// Chain.
    pub chain: String,
    /// The rule's handle (for [`Kind::Rule`]).
    pub handle: Option<u64>,
    /// Event kind.
    pub kind: Kind,
    /// The verdict (rule) or policy.
    pub verdict: Option<Verdict>,
    /// Input interface index.
    pub iif: Option<u32>,
    /// Output interface index.
    pub oif: Option<u32>,
    /// The packet, in the first event of each chain pass.
    pub packet: Option<Packet>,
}

fn family_name(f: u8) -> &'static str {
    match f {
        1 => "inet",
        2 => "ip",
        3 => "arp",
        5 => "netdev",
        7 => "bridge",
        10 => "ip6",
        _ => "?",
    }
}

/// Netlink attributes of a buffer: (type without flag bits, payload).
fn attributes(mut b: &[u8]) -> Vec<(u16, &[u8])> {
    let mut out = Vec::new();
    while b.len() >= 4 {
        let len = u16::from_ne_bytes([b[0], b[1]]) as usize;
        let ty = u16::from_ne_bytes([b[2], b[3]]) & 0x3fff;
        if len < 4 || len > b.len() {
            break;
        }
        out.push((ty, &b[4..len]));
        let next = (len + 3) & !3;
        b = &b[next.min(b.len())..];
    }
    out
}

fn be32(b: &[u8]) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(..4)?.try_into().ok()?))
}

fn string(b: &[u8]) -> String {
    let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
    String::from_utf8_lossy(&b[..end]).into_owned()
}

/// Parse one netlink message (header included) if it is a trace event.
pub fn parse(msg: &[u8]) -> Option<Event> {
    if msg.len() < 20 {
        return None;
    }
    let ty = u16::from_ne_bytes([msg[4], msg[5]]);
    if ty != TRACE_MSG_TYPE {
        return None;
    }
    let len = (u32::from_ne_bytes(msg[0..4].try_into().ok()?) as usize).min(msg.len());
    let family = family_name(msg[16]);
    let mut e = Event {
        id: 0,
        family,
        table: String::new(),
        chain: String::new(),
        handle: None,
        kind: Kind::Rule,
        verdict: None,
        iif: None,
        oif: None,
        packet: None,
    };
    let mut network: Option<&[u8]> = None;
    let mut transport: Option<&[u8]> = None;
    let mut policy = None;
    for (t, v) in attributes(&msg[20..len]) {
        match t {
            1 => e.table = string(v),
            2 => e.chain = string(v),
            3 => {
                e.handle = v
                    .get(..8)
                    .map(|b| u64::from_be_bytes(b.try_into().unwrap()))
            }
            4 => {
                e.kind = match be32(v)? {
                    1 => Kind::Policy,
                    2 => Kind::Return,
                    _ => Kind::Rule,
                }
            }
            5 => {
                let mut code = None;
                let mut chain = None;
                for (vt, vv) in attributes(v) {
                    match vt {
                        1 => code = be32(vv).map(|c| c as i32),
                        2 => chain = Some(string(vv)),
                        _ => {}
                    }
                }
                e.verdict = code.map(|c| Verdict::from_code(c, chain));
            }
            6 => e.id = be32(v)?,
            8 => network = Some(v),
            9 => transport = Some(v),
            10 => e.iif = be32(v),
            12 => e.oif = be32(v),
            16 => policy = be32(v),
            _ => {}
        }
    }
    if e.kind == Kind::Policy
        && let Some(p) = policy
    {
        e.verdict = Some(Verdict::from_code(p as i32, None));
    }
    e.packet = network.and_then(|n| packet(n, transport));
    Some(e)
}

/// The IPv4 header (and the transport header, which the kernel sends apart).
fn packet(ip: &[u8], transport: Option<&[u8]>) -> Option<Packet> {
    if ip.len() < 20 || ip[0] >> 4 != 4 {
        return None;
    }
    let ihl = ((ip[0] & 0x0f) as usize) * 4;
    let proto_num = ip[9];
    let src = Ipv4Addr::new(ip[12], ip[13], ip[14], ip[15]);
    let dst = Ipv4Addr::new(ip[16], ip[17], ip[18], ip[19]);
    // The transport header comes as its own attribute; older kernels left it in the
    // network header's tail.
    let th = transport.or_else(|| ip.get(ihl..)).unwrap_or(&[]);
    let port = |i: usize| th.get(i..i + 2).map(|b| u16::from_be_bytes([b[0], b[1]]));
    let (proto, sport, dport, what) = match proto_num {
        6 => {
            let flags = th.get(13).copied().unwrap_or(0);
            ("tcp".to_string(), port(0), port(2), Some(tcp_flags(flags)))
        }
        17 => ("udp".to_string(), port(0), port(2), None),
        1 => {
            let t = th.first().copied();
            let what = t.map(|t| icmp_type(t).to_string());
            let id = if matches!(t, Some(0) | Some(8)) {
                port(4)
            } else {
                None
            };
            ("icmp".to_string(), id, None, what)
        }
        n => (n.to_string(), None, None, None),
    };
    Some(Packet {
        src,
        dst,
        proto,
        sport,
        dport,
        what,
    })
}

fn tcp_flags(f: u8) -> String {
    let names = [
        (0x02, "SYN"),
        (0x10, "ACK"),
        (0x01, "FIN"),
        (0x04, "RST"),
        (0x08, "PSH"),
    ];
    let v: Vec<&str> = names
        .iter()
        .filter(|(b, _)| f & b != 0)
        .map(|(_, n)| *n)
        .collect();
    v.join(",")
}

fn icmp_type(t: u8) -> &'static str {
    match t {
        0 => "echo-reply",
        3 => "destination-unreachable",
        8 => "echo-request",
        11 => "time-exceeded",
        _ => "icmp",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attr(ty: u16, payload: &[u8]) -> Vec<u8> {
        let mut v = Vec::new();
        v.extend_from_slice(&((4 + payload.len()) as u16).to_ne_bytes());
        v.extend_from_slice(&ty.to_ne_bytes());
        v.extend_from_slice(payload);
        while !v.len().is_multiple_of(4) {
            v.push(0);
        }
        v
    }

    fn message(family: u8, attrs: &[Vec<u8>]) -> Vec<u8> {
        let body: Vec<u8> = attrs.concat();
        let mut m = Vec::new();
        m.extend_from_slice(&((20 + body.len()) as u32).to_ne_bytes());
        m.extend_from_slice(&TRACE_MSG_TYPE.to_ne_bytes());
        m.extend_from_slice(&[0; 2 + 4 + 4]);
        m.extend_from_slice(&[family, 0, 0, 0]);
        m.extend_from_slice(&body);
        m
    }

    fn ipv4(proto: u8, src: [u8; 4], dst: [u8; 4]) -> Vec<u8> {
        let mut h = vec![0x45, 0, 0, 60, 0, 0, 0x40, 0, 64, proto, 0, 0];
        h.extend_from_slice(&src);
        h.extend_from_slice(&dst);
        h
    }

    #[test]
    fn rule_event_with_jump_and_tcp_syn() {
        let verdict = [attr(1, &(-3i32).to_be_bytes()), attr(2, b"DOCKER-USER\0")].concat();
        let mut tcp = vec![0u8; 20];
        tcp[0..2].copy_from_slice(&40001u16.to_be_bytes());
        tcp[2..4].copy_from_slice(&8080u16.to_be_bytes());
        tcp[13] = 0x02;
        let m = message(
            2,
            &[
                attr(1, b"filter\0"),
                attr(2, b"FORWARD\0"),
                attr(3, &7u64.to_be_bytes()),
                attr(4, &3u32.to_be_bytes()),
                attr(5 | 0x8000, &verdict),
                attr(6, &0xdeadu32.to_be_bytes()),
                attr(8, &ipv4(6, [198, 51, 100, 1], [172, 17, 0, 2])),
                attr(9, &tcp),
                attr(10, &4u32.to_be_bytes()),
                attr(12, &5u32.to_be_bytes()),
            ],
        );
        let e = parse(&m).unwrap();
        assert_eq!(e.family, "ip");
        assert_eq!((e.table.as_str(), e.chain.as_str()), ("filter", "FORWARD"));
        assert_eq!(e.handle, Some(7));
        assert_eq!(e.kind, Kind::Rule);
        assert_eq!(e.verdict, Some(Verdict::Jump("DOCKER-USER".into())));
        assert_eq!((e.id, e.iif, e.oif), (0xdead, Some(4), Some(5)));
        let p = e.packet.unwrap();
        assert_eq!(p.src, Ipv4Addr::new(198, 51, 100, 1));
        assert_eq!(p.dst, Ipv4Addr::new(172, 17, 0, 2));
        assert_eq!(
            (p.proto.as_str(), p.sport, p.dport),
            ("tcp", Some(40001), Some(8080))
        );
        assert_eq!(p.what.as_deref(), Some("SYN"));
    }

    #[test]
    fn policy_event_and_icmp_echo() {
        let mut icmp = vec![8u8, 0, 0, 0];
        icmp.extend_from_slice(&0x4242u16.to_be_bytes());
        icmp.extend_from_slice(&[0, 1]);
        let m = message(
            2,
            &[
                attr(1, b"filter\0"),
                attr(2, b"FORWARD\0"),
                attr(4, &1u32.to_be_bytes()),
                attr(16, &0u32.to_be_bytes()),
                attr(8, &ipv4(1, [172, 17, 0, 3], [203, 0, 113, 10])),
                attr(9, &icmp),
            ],
        );
        let e = parse(&m).unwrap();
        assert_eq!(e.kind, Kind::Policy);
        assert_eq!(e.verdict, Some(Verdict::Drop));
        let p = e.packet.unwrap();
        assert_eq!(p.sport, Some(0x4242));
        assert_eq!(p.what.as_deref(), Some("echo-request"));
    }

    #[test]
    fn other_messages_and_garbage_are_ignored() {
        let mut m = message(2, &[attr(1, b"filter\0")]);
        m[4..6].copy_from_slice(&((10u16 << 8) | 6).to_ne_bytes());
        assert!(parse(&m).is_none());
        assert!(parse(&[1, 2, 3]).is_none());
        // A truncated attribute stops parsing without a panic.
        let mut m = message(2, &[attr(1, b"filter\0")]);
        m.extend_from_slice(&[200, 0, 2, 0]);
        let len = m.len() as u32;
        m[0..4].copy_from_slice(&len.to_ne_bytes());
        assert_eq!(parse(&m).unwrap().table, "filter");
    }
}
