//! What conntrack recorded for the probe's connection in a namespace, read from
//! `/proc/net/nf_conntrack` (which shows the namespace of the thread reading it), and
//! the address rewrites it implies: an entry's reply tuple differs from the original
//! one exactly where NAT rewrote the packet.

use serde::Serialize;
use std::net::Ipv4Addr;

/// One direction of a connection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Tuple {
    /// Source address.
    pub src: Ipv4Addr,
    /// Destination address.
    pub dst: Ipv4Addr,
    /// Source port (TCP/UDP) or echo id (ICMP).
    pub sport: Option<u16>,
    /// Destination port (TCP/UDP) or echo id (ICMP).
    pub dport: Option<u16>,
}

/// A conntrack entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry {
    /// `tcp`, `udp`, `icmp`.
    pub proto: String,
    /// The TCP state (`SYN_SENT`, `ESTABLISHED`, `TIME_WAIT`), if any.
    pub state: Option<String>,
    /// As the first packet came.
    pub original: Tuple,
    /// As the answers are expected.
    pub reply: Tuple,
}

/// A rewrite that conntrack recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rewrite {
    /// `DNAT` (the destination was changed) or `SNAT` (the source).
    pub kind: &'static str,
    /// `addr:port` before.
    pub from: String,
    /// `addr:port` after.
    pub to: String,
}

fn endpoint(a: Ipv4Addr, p: Option<u16>) -> String {
    match p {
        Some(p) => format!("{a}:{p}"),
        None => a.to_string(),
    }
}

impl Entry {
    /// The rewrites: DNAT when answers come from elsewhere than the packet was sent
    /// to, SNAT (MASQUERADE) when they go back to elsewhere than it came from.
    pub fn rewrites(&self) -> Vec<Rewrite> {
        let (o, r) = (&self.original, &self.reply);
        let mut out = Vec::new();
        if r.src != o.dst || (self.proto != "icmp" && r.sport != o.dport) {
            out.push(Rewrite {
                kind: "DNAT",
                from: endpoint(o.dst, o.dport.filter(|_| self.proto != "icmp")),
                to: endpoint(r.src, r.sport.filter(|_| self.proto != "icmp")),
            });
        }
        if r.dst != o.src || r.dport != o.sport {
            out.push(Rewrite {
                kind: "SNAT",
                from: endpoint(o.src, o.sport.filter(|_| self.proto != "icmp")),
                to: endpoint(r.dst, r.dport.filter(|_| self.proto != "icmp")),
            });
        }
        out
    }
}

/// Parse `/proc/net/nf_conntrack` (IPv4 entries only).
pub fn parse(text: &str) -> Vec<Entry> {
    text.lines().filter_map(parse_line).collect()
}

/// A tuple being read: src, dst, sport, dport.
type Partial = (Option<Ipv4Addr>, Option<Ipv4Addr>, Option<u16>, Option<u16>);

fn parse_line(line: &str) -> Option<Entry> {
    let words: Vec<&str> = line.split_whitespace().collect();
    if words.first() != Some(&"ipv4") || words.len() < 5 {
        return None;
    }
    let proto = words[2].to_string();
    let state = words
        .get(5)
        .filter(|w| !w.contains('=') && w.chars().all(|c| c.is_ascii_uppercase() || c == '_'))
        .map(|s| s.to_string());
    let mut tuples: Vec<Tuple> = Vec::new();
    let mut cur: Option<Partial> = None;
    for w in &words {
        let Some((k, v)) = w.split_once('=') else {
            continue;
        };
        match k {
            "src" => {
                if let Some((Some(s), Some(d), sp, dp)) = cur.take() {
                    tuples.push(Tuple {
                        src: s,
                        dst: d,
                        sport: sp,
                        dport: dp,
                    });
                }
                cur = Some((v.parse().ok(), None, None, None));
            }
            "dst" => {
                if let Some(c) = cur.as_mut() {
                    c.1 = v.parse().ok();
                }
            }
            "sport" => {
                if let Some(c) = cur.as_mut() {
                    c.2 = v.parse().ok();
                }
            }
            "dport" => {
                if let Some(c) = cur.as_mut() {
                    c.3 = v.parse().ok();
                }
            }
            // An ICMP echo's id names both ends of the "connection".
            "id" => {
                if let Some(c) = cur.as_mut() {
                    c.2 = v.parse().ok();
                    c.3 = c.2;
                }
            }
            _ => {}
        }
    }
    if let Some((Some(s), Some(d), sp, dp)) = cur {
        tuples.push(Tuple {
            src: s,
            dst: d,
            sport: sp,
            dport: dp,
        });
    }
    if tuples.len() < 2 {
        return None;
    }
    let reply = tuples.pop()?;
    let original = tuples.pop()?;
    Some(Entry {
        proto,
        state,
        original,
        reply,
    })
}

/// The entries of the namespace at `ns` whose original direction started at our port /
/// echo id (`ours`) with protocol `proto`.
pub fn read(ns: &std::path::Path, proto: &str, ours: u16) -> Vec<Entry> {
    let text = crate::netns::in_netns(ns, || {
        std::fs::read_to_string("/proc/thread-self/net/nf_conntrack").unwrap_or_default()
    })
    .unwrap_or_default();
    parse(&text)
        .into_iter()
        .filter(|e| e.proto == proto && e.original.sport == Some(ours))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn published_port_is_a_dnat() {
        let e = parse(
            "ipv4     2 tcp      6 117 TIME_WAIT src=198.51.100.1 dst=198.51.100.2 sport=40001 dport=8080 src=172.17.0.2 dst=198.51.100.1 sport=80 dport=40001 [ASSURED] mark=0 zone=0 use=2\n",
        );
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].state.as_deref(), Some("TIME_WAIT"));
        assert_eq!(
            e[0].rewrites(),
            vec![Rewrite {
                kind: "DNAT",
                from: "198.51.100.2:8080".into(),
                to: "172.17.0.2:80".into()
            }]
        );
    }

    #[test]
    fn masquerade_is_an_snat_and_icmp_ids_count() {
        let e = parse(
            "ipv4     2 icmp     1 29 src=172.17.0.2 dst=203.0.113.10 type=8 code=0 id=77 src=203.0.113.10 dst=198.51.100.2 type=0 code=0 id=77 mark=0 zone=0 use=2\n\
             ipv6     10 udp      17 20 src=::1 dst=::1 sport=1 dport=2 src=::1 dst=::1 sport=2 dport=1 mark=0 use=2\n",
        );
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].state, None);
        assert_eq!(e[0].original.sport, Some(77));
        assert_eq!(
            e[0].rewrites(),
            vec![Rewrite {
                kind: "SNAT",
                from: "172.17.0.2".into(),
                to: "198.51.100.2".into()
            }]
        );
    }

    #[test]
    fn no_nat_no_rewrite() {
        let e = parse(
            "ipv4     2 udp      17 29 src=172.17.0.2 dst=172.17.0.3 sport=40000 dport=53 [UNREPLIED] src=172.17.0.3 dst=172.17.0.2 sport=53 dport=40000 mark=0 use=2\n",
        );
        assert!(e[0].rewrites().is_empty());
    }
}
