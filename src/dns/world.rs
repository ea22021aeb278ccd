//! The lab's internet DNS: the name server at 203.0.113.53 in the world namespace that
//! plays "the DNS of the internet" (the machine's own resolver, 8.8.8.8 and the root
//! servers all at once). It knows a static zone of well-known names, each with one
//! address of the lab's internet (203.0.113.0/24) where the world answers ping and HTTP.
//!
//! [`answer`] is the whole query → reply logic, a pure function on wire bytes (built
//! and parsed with `simple-dns`); `server` runs it over UDP and TCP as the `named`
//! applet, started by `lab up` like the world's web server.

use crate::lab::addr;
use simple_dns::rdata::{A, PTR, RData};
use simple_dns::{
    CLASS, Name, OPCODE, Packet, PacketFlag, QCLASS, QTYPE, RCODE, ResourceRecord, TYPE,
};
use std::net::Ipv4Addr;

mod server;
#[cfg(test)]
mod tests;

pub use server::main;

/// TTL of every answer (5 minutes, a common TTL for a web site's A record).
pub const TTL: u32 = 300;
/// The applet's name (argv0), as `ps` shows it.
pub const APPLET: &str = "named";

/// One host of the lab's internet: its names (the first one is its PTR) and its address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Host {
    /// Names, lower case, without the trailing dot.
    pub names: &'static [&'static str],
    /// Its one address in 203.0.113.0/24.
    pub addr: Ipv4Addr,
}

/// The web sites of the lab's internet. Each answers ping and HTTP on its address (the
/// world's `inet0` holds the address, the world's web server listens on it).
pub const SITES: &[Host] = &[
    Host {
        names: &["example.com", "www.example.com"],
        addr: Ipv4Addr::new(203, 0, 113, 20),
    },
    Host {
        names: &["docker.com", "www.docker.com"],
        addr: Ipv4Addr::new(203, 0, 113, 21),
    },
    Host {
        names: &["google.com", "www.google.com"],
        addr: Ipv4Addr::new(203, 0, 113, 22),
    },
    Host {
        names: &["github.com"],
        addr: Ipv4Addr::new(203, 0, 113, 23),
    },
    Host {
        names: &["baidu.com", "www.baidu.com"],
        addr: Ipv4Addr::new(203, 0, 113, 24),
    },
    Host {
        names: &["debian.org", "deb.debian.org"],
        addr: Ipv4Addr::new(203, 0, 113, 25),
    },
];

/// The lab's own machines in its internet: the original "internet" web server and the
/// name server itself.
pub const LAB_HOSTS: &[Host] = &[
    Host {
        names: &["internet.lab"],
        addr: addr::INTERNET_WEB,
    },
    Host {
        names: &["ns.internet.lab"],
        addr: addr::INTERNET_DNS,
    },
];

/// Every host the zone knows: the lab's own, then the sites.
pub fn zone() -> impl Iterator<Item = &'static Host> {
    LAB_HOSTS.iter().chain(SITES)
}

/// The page a site's web server answers with: `hello from google.com (203.0.113.22)`.
pub fn site_page(site: &Host) -> String {
    format!("hello from {} ({})", site.names[0], site.addr)
}

/// What one query got: the reply's bytes and a line for the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// The reply in wire format (without TCP's length prefix).
    pub bytes: Vec<u8>,
    /// `query[A] google.com: 203.0.113.22`, `query[A] nosuch.example: NXDOMAIN`, ...
    pub log: String,
}

/// The reply to one DNS message, or `None` when it deserves none: shorter than a DNS
/// header, or itself a response (answering those could start a loop between servers).
/// A message the library cannot parse, or with other than one question, gets FORMERR;
/// an opcode other than QUERY gets NOTIMP; a class other than IN gets REFUSED.
pub fn answer(query: &[u8]) -> Option<Reply> {
    // The header's first bytes are read by hand only to decide whether a message that
    // the library refuses still deserves a FORMERR (RFC 1035 4.1.1: ID, then QR).
    if query.len() < 12 || query[2] & 0x80 != 0 {
        return None;
    }
    let id = u16::from_be_bytes([query[0], query[1]]);
    let Ok(packet) = Packet::parse(query) else {
        return Some(error_reply(
            id,
            RCODE::FormatError,
            "malformed query: FORMERR",
        ));
    };
    if packet.opcode() != OPCODE::StandardQuery {
        return Some(error_reply(
            id,
            RCODE::NotImplemented,
            "not a QUERY: NOTIMP",
        ));
    }
    let [question] = packet.questions.as_slice() else {
        let text = format!("{} questions: FORMERR", packet.questions.len());
        return Some(error_reply(id, RCODE::FormatError, &text));
    };
    let mut reply = Packet::new_reply(id);
    reply.set_flags(PacketFlag::AUTHORITATIVE_ANSWER);
    // The lab's containers use this server as their resolver (it stands for the host's
    // upstream too): it offers recursion, and every name it could recurse to is its own.
    if packet.has_flags(PacketFlag::RECURSION_DESIRED) {
        reply.set_flags(PacketFlag::RECURSION_DESIRED | PacketFlag::RECURSION_AVAILABLE);
    }
    reply.questions.push(question.clone());
    let qname = &question.qname;
    let qtype = question.qtype;
    let what = format!("query[{}] {qname}", qtype_text(qtype));
    if !matches!(question.qclass, QCLASS::CLASS(CLASS::IN) | QCLASS::ANY) {
        *reply.rcode_mut() = RCODE::Refused;
        return Some(finish(&reply, format!("{what}: class not IN: REFUSED")));
    }
    let wants = |t: TYPE| qtype == QTYPE::TYPE(t) || qtype == QTYPE::ANY;
    let result = if let Some(host) = lookup(qname) {
        if wants(TYPE::A) {
            reply.answers.push(ResourceRecord::new(
                qname.clone(),
                CLASS::IN,
                TTL,
                RData::A(A::from(host.addr)),
            ));
            host.addr.to_string()
        } else {
            "NODATA".to_string()
        }
    } else if let Some(host) = reverse(qname) {
        if wants(TYPE::PTR) {
            let target = Name::new_unchecked(host.names[0]);
            reply.answers.push(ResourceRecord::new(
                qname.clone(),
                CLASS::IN,
                TTL,
                RData::PTR(PTR(target)),
            ));
            host.names[0].to_string()
        } else {
            "NODATA".to_string()
        }
    } else {
        *reply.rcode_mut() = RCODE::NameError;
        "NXDOMAIN".to_string()
    };
    Some(finish(&reply, format!("{what}: {result}")))
}

/// The host a name belongs to: labels compared case-insensitively (as DNS does), so
/// `WWW.Google.COM` is `www.google.com`. Wire names carry no trailing dot.
pub fn lookup(name: &Name) -> Option<&'static Host> {
    zone().find(|h| h.names.iter().any(|n| same_name(name, n)))
}

/// The host whose address a reverse name (`22.113.0.203.in-addr.arpa`) names.
pub fn reverse(name: &Name) -> Option<&'static Host> {
    let labels = name.get_labels();
    let [d, c, b, a, in_addr, arpa] = labels else {
        return None;
    };
    if !in_addr.as_ref().eq_ignore_ascii_case(b"in-addr")
        || !arpa.as_ref().eq_ignore_ascii_case(b"arpa")
    {
        return None;
    }
    let octet = |l: &simple_dns::Label| -> Option<u8> {
        let text = std::str::from_utf8(l.as_ref()).ok()?;
        // "022" is not a decimal octet in a reverse name: only canonical numbers.
        if text.len() > 1 && text.starts_with('0') {
            return None;
        }
        text.parse().ok()
    };
    let ip = Ipv4Addr::new(octet(a)?, octet(b)?, octet(c)?, octet(d)?);
    zone().find(|h| h.addr == ip)
}

/// Whether a wire name equals a zone name (`google.com`), label by label.
fn same_name(name: &Name, text: &str) -> bool {
    let labels = name.get_labels();
    let text = text.trim_end_matches('.');
    labels.len() == text.split('.').count()
        && labels
            .iter()
            .zip(text.split('.'))
            .all(|(l, t)| l.as_ref().eq_ignore_ascii_case(t.as_bytes()))
}

/// A header-only reply with `rcode` (nothing of the query can be echoed).
fn error_reply(id: u16, rcode: RCODE, log: &str) -> Reply {
    let mut reply = Packet::new_reply(id);
    *reply.rcode_mut() = rcode;
    finish(&reply, log.to_string())
}

fn finish(reply: &Packet, log: String) -> Reply {
    // Building can only fail on names the library would not have parsed: an empty
    // reply then, which the server does not send.
    let bytes = reply.build_bytes_vec_compressed().unwrap_or_default();
    Reply { bytes, log }
}

/// `A`, `AAAA`, `PTR`, `ANY`, ... as dnsmasq's log names query types.
fn qtype_text(q: QTYPE) -> String {
    match q {
        QTYPE::TYPE(t) => format!("{t:?}"),
        other => format!("{other:?}"),
    }
}
