//! The trace events, in the kernel's order, cut into passes: one packet's way through
//! one namespace — where it came in, the rules it matched, where it went. A packet is
//! the passes from the namespace that sent it to the one that took it (or dropped it).

use super::arm::TABLE;
use super::event::{Event, Kind, Packet, Verdict};
use super::listen::Heard;
use serde::Serialize;

/// A rule (or a chain's end) the packet met.
#[derive(Debug, Clone, Serialize)]
pub struct RuleHit {
    /// `ip`, `bridge` …
    pub family: String,
    /// Table.
    pub table: String,
    /// Chain.
    pub chain: String,
    /// What happened.
    pub kind: Kind,
    /// The verdict or policy.
    pub verdict: Option<Verdict>,
    /// nf_tables handle.
    pub handle: Option<u64>,
    /// The rule as `iptables -S` prints it (filled in later).
    pub line: Option<String>,
}

/// How a pass ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum End {
    /// Sent out of this interface (by index).
    Out(u32),
    /// Handed to a socket of this namespace.
    Delivered,
    /// Dropped by the last rule hit (or its chain's policy).
    Dropped,
    /// The trace stops here without a verdict (no route, no ARP answer).
    Lost,
}

/// One packet's way through one namespace.
#[derive(Debug, Clone, Serialize)]
pub struct Pass {
    /// Index of the namespace (into the traced list).
    pub ns: usize,
    /// Made by this namespace (a socket's packet or a reply), not received.
    pub generated: bool,
    /// The interface it came in by (by index), the first one (a bridge port, when it
    /// was bridged or routed by a bridge).
    pub came_in: Option<u32>,
    /// For a frame that came in on a bridge port and was routed: the bridge (by index).
    pub routed_by: Option<u32>,
    /// The packet as it came.
    pub first: Option<Packet>,
    /// The packet as it left (after NAT).
    pub last: Option<Packet>,
    /// The rules of the lab's own tables it matched, in order.
    pub rules: Vec<RuleHit>,
    /// For a bridged frame: (in port, out port) as the bridge forwarded it.
    pub bridged: Option<(u32, Option<u32>)>,
    /// The bridge forwarded the frame from port to port (with br_netfilter, the IP
    /// hooks still see it, as in and out of the bridge device).
    pub bridge_forwarded: bool,
    /// The interface the IP layer sent it out of (a bridge, when the bridge then
    /// picked a port).
    pub ip_out: Option<u32>,
    /// How it ended.
    pub end: End,
}

impl Pass {
    fn new(ns: usize) -> Pass {
        Pass {
            ns,
            generated: false,
            came_in: None,
            routed_by: None,
            first: None,
            last: None,
            rules: Vec::new(),
            bridged: None,
            bridge_forwarded: false,
            ip_out: None,
            end: End::Lost,
        }
    }
}

fn ours(e: &Event) -> bool {
    e.table == TABLE
}

/// The event of our marking rule itself: tracing of a packet starts in this namespace
/// (the chain's policy event that follows it starts nothing).
fn marked(e: &Event, family: &str, chain: &str) -> bool {
    ours(e) && is_rule(e) && e.family == family && e.chain == chain
}

/// A rule's own event. The kernel also sends, at a chain's start, an event of type
/// "rule" without a handle that only carries the packet; it is no rule hit.
fn is_rule(e: &Event) -> bool {
    e.kind == Kind::Rule && e.handle.is_some()
}

/// Cut the events into passes.
pub fn passes(heard: &[Heard]) -> Vec<Pass> {
    let mut out: Vec<Pass> = Vec::new();
    let mut cur: Option<Pass> = None;
    let mut saw_ip = false;
    for h in heard {
        let e = &h.event;
        // A packet made here, one that comes in again after the IP layer saw it, a
        // new frame on a bridge port: each starts a pass of its own.
        let starts = marked(e, "ip", "mark_out")
            || (marked(e, "ip", "mark_in") && saw_ip)
            || marked(e, "bridge", "mark_in");
        let split = match &cur {
            None => true,
            Some(p) => p.ns != h.ns || starts,
        };
        if split {
            if let Some(p) = cur.take() {
                out.push(p);
            }
            cur = Some(Pass::new(h.ns));
            saw_ip = false;
        }
        let p = cur.as_mut().expect("a pass");
        if e.family == "ip" {
            saw_ip = true;
        }
        if let Some(pk) = &e.packet {
            if p.first.is_none() {
                p.first = Some(pk.clone());
            }
            p.last = Some(pk.clone());
        }
        if ours(e) {
            absorb_checkpoint(p, e);
        } else if e.kind != Kind::Rule || is_rule(e) {
            p.rules.push(RuleHit {
                family: e.family.to_string(),
                table: e.table.clone(),
                chain: e.chain.clone(),
                kind: e.kind,
                verdict: e.verdict.clone(),
                handle: e.handle,
                line: None,
            });
            if matches!(e.verdict, Some(Verdict::Drop))
                && matches!(e.kind, Kind::Rule | Kind::Policy)
            {
                p.end = End::Dropped;
            }
        }
    }
    if let Some(p) = cur {
        out.push(p);
    }
    for p in &mut out {
        // Bridged, not routed: the IP hooks (br_netfilter) named the bridge as both
        // ends; the port the bridge chose is the way out.
        if p.bridge_forwarded {
            p.routed_by = None;
            p.ip_out = None;
            if let (Some((_, Some(o))), false) = (p.bridged, p.end == End::Dropped) {
                p.end = End::Out(o);
            }
        }
    }
    out
}

/// What one of our chains' events says about the packet's way.
fn absorb_checkpoint(p: &mut Pass, e: &Event) {
    // Only a chain's first event carries the interfaces and the packet.
    if e.packet.is_none() {
        return;
    }
    match (e.family, e.chain.as_str()) {
        ("ip", "mark_out") => p.generated = true,
        ("ip", "mark_in") => {
            if p.came_in.is_none() {
                p.came_in = e.iif;
            } else if p.bridged.is_some() {
                // A frame from a bridge port, routed by the bridge device itself.
                p.routed_by = e.iif;
                p.bridged = None;
            }
        }
        ("bridge", "mark_in") => {
            p.came_in = e.iif;
            p.bridged = e.iif.map(|i| (i, None));
        }
        ("bridge", "forward") => {
            p.bridge_forwarded = true;
            if let (Some(i), Some(o)) = (e.iif.or(p.came_in), e.oif) {
                p.bridged = Some((i, Some(o)));
            }
        }
        ("bridge", "output") => {
            if let (Some(i), Some(o)) = (e.iif.or(p.came_in), e.oif) {
                p.bridged = Some((i, Some(o)));
            }
            if let Some(o) = e.oif
                && p.end != End::Dropped
            {
                p.end = End::Out(o);
            }
        }
        ("ip", "input") if p.end != End::Dropped => p.end = End::Delivered,
        ("ip", "postrouting") if p.end != End::Dropped => {
            p.ip_out = e.oif;
            if let Some(o) = e.oif {
                p.end = End::Out(o);
            }
        }
        _ => {}
    }
}

/// Group passes into packets: each begins where a namespace made one.
pub fn packets(passes: Vec<Pass>) -> Vec<Vec<Pass>> {
    let mut out: Vec<Vec<Pass>> = Vec::new();
    for p in passes {
        if p.generated || out.is_empty() {
            out.push(vec![p]);
        } else if let Some(last) = out.last_mut() {
            last.push(p);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    fn ev(
        ns: usize,
        family: &'static str,
        table: &str,
        chain: &str,
        iif: Option<u32>,
        oif: Option<u32>,
    ) -> Heard {
        Heard {
            ns,
            event: Event {
                id: 1,
                family,
                table: table.into(),
                chain: chain.into(),
                handle: Some(3),
                kind: Kind::Rule,
                verdict: Some(Verdict::Continue),
                iif,
                oif,
                packet: Some(Packet {
                    src: Ipv4Addr::new(172, 17, 0, 2),
                    dst: Ipv4Addr::new(203, 0, 113, 10),
                    proto: "icmp".into(),
                    sport: Some(7),
                    dport: None,
                    what: Some("echo-request".into()),
                }),
            },
        }
    }

    #[test]
    fn a_routed_packet_and_its_answer() {
        let mut drop = ev(1, "ip", "filter", "FORWARD", Some(3), Some(2));
        drop.event.kind = Kind::Policy;
        drop.event.verdict = Some(Verdict::Drop);
        let heard = vec![
            // The container sends it.
            ev(0, "ip", TABLE, "mark_out", None, None),
            ev(0, "ip", TABLE, "postrouting", None, Some(4)),
            // The host: in by a docker0 port, routed by docker0, out by eth0.
            ev(1, "bridge", TABLE, "mark_in", Some(5), None),
            ev(1, "ip", TABLE, "mark_in", Some(3), None),
            ev(1, "ip", "filter", "FORWARD", Some(3), Some(2)),
            ev(1, "ip", TABLE, "postrouting", None, Some(2)),
            // The world takes it and answers.
            ev(2, "ip", TABLE, "mark_in", Some(9), None),
            ev(2, "ip", TABLE, "input", Some(9), None),
            ev(2, "ip", TABLE, "mark_out", None, None),
            ev(2, "ip", TABLE, "postrouting", None, Some(9)),
            // The answer is dropped on the host.
            ev(1, "ip", TABLE, "mark_in", Some(2), None),
            drop,
        ];
        let p = passes(&heard);
        assert_eq!(p.len(), 5);
        assert!(p[0].generated && p[0].end == End::Out(4));
        assert_eq!(
            (p[1].came_in, p[1].routed_by, p[1].end.clone()),
            (Some(5), Some(3), End::Out(2))
        );
        assert_eq!(p[1].rules.len(), 1);
        assert_eq!(p[2].end, End::Delivered);
        assert!(p[3].generated && p[3].ns == 2);
        assert_eq!(p[4].end, End::Dropped);
        let pk = packets(p);
        assert_eq!(pk.iter().map(|k| k.len()).collect::<Vec<_>>(), vec![3, 2]);
    }

    #[test]
    fn a_bridged_frame() {
        let heard = vec![
            ev(1, "bridge", TABLE, "mark_in", Some(5), None),
            ev(1, "bridge", TABLE, "forward", Some(5), Some(6)),
        ];
        let p = passes(&heard);
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].bridged, Some((5, Some(6))));
        assert_eq!(p[0].end, End::Out(6));
    }
}
