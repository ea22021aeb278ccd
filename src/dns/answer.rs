//! One query in, one decision out: the embedded DNS server's answering rules, as a pure
//! function over the [`Index`] so that they are tested without sockets. The wire format
//! is the `simple-dns` crate's.
//!
//! Docker's rules (`libnetwork/resolver.go`): A for names in the asker's scope; AAAA for
//! such a name is an empty NOERROR (IPv4-only networks); PTR for addresses on the
//! asker's networks (`<first name>.<network>.`); MX for a known name is empty; TTL 600;
//! anything else goes to the lab's upstream.

use super::index::Index;
use simple_dns::rdata::{A, PTR, RData};
use simple_dns::{
    CLASS, Name, OPCODE, Packet, PacketFlag, QTYPE, Question, RCODE, ResourceRecord, TYPE,
};
use std::net::Ipv4Addr;

/// Docker's `respTTL`.
pub const TTL: u32 = 600;

/// Classic DNS over UDP: answers larger than this are truncated unless EDNS says more.
const UDP_LIMIT: usize = 512;

/// What to do with one query.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Send these bytes back.
    Reply(Vec<u8>),
    /// Not ours: ask the upstream server (or fail, if the asker may not).
    Forward,
    /// Not a query at all (a response, or bytes that are not DNS): ignore it.
    Drop,
}

/// Transport of the query: UDP answers are truncated to what the client can take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// Datagrams.
    Udp,
    /// A stream (length-prefixed messages).
    Tcp,
}

/// Answer `query` for the container `asker`.
pub fn answer(ix: &Index, asker: &str, query: &[u8], transport: Transport) -> Outcome {
    let Ok(q) = Packet::parse(query) else {
        return match header_id(query) {
            Some(id) => Outcome::Reply(error_reply(id, query, RCODE::FormatError)),
            None => Outcome::Drop,
        };
    };
    if q.has_flags(PacketFlag::RESPONSE) {
        return Outcome::Drop;
    }
    if q.opcode() != OPCODE::StandardQuery {
        return Outcome::Reply(error_reply(q.id(), query, RCODE::NotImplemented));
    }
    let [question] = q.questions.as_slice() else {
        return Outcome::Reply(error_reply(q.id(), query, RCODE::FormatError));
    };
    let name = question.qname.to_string();
    let limit = match transport {
        Transport::Tcp => usize::from(u16::MAX),
        Transport::Udp => q
            .opt()
            .map(|o| usize::from(o.udp_packet_size).max(UDP_LIMIT))
            .unwrap_or(UDP_LIMIT),
    };
    let answers: Vec<RData> = match question.qtype {
        QTYPE::TYPE(TYPE::A) => {
            let mut ips = ix.lookup(asker, &name);
            if ips.is_empty() {
                return Outcome::Forward;
            }
            // Several holders of one alias: every answer, in a different order each
            // time (Docker shuffles; round-robin is what clients see).
            let turn = usize::from(q.id()) % ips.len();
            ips.rotate_left(turn);
            ips.into_iter().map(|ip| RData::A(A::from(ip))).collect()
        }
        QTYPE::TYPE(TYPE::AAAA) | QTYPE::TYPE(TYPE::MX) => {
            if ix.lookup(asker, &name).is_empty() {
                return Outcome::Forward;
            }
            Vec::new()
        }
        QTYPE::TYPE(TYPE::PTR) => {
            let Some(target) = ptr_address(&name).and_then(|ip| ix.reverse(asker, ip)) else {
                return Outcome::Forward;
            };
            let target = format!("{target}.");
            return Outcome::Reply(ptr_reply(&q, question, &target, limit));
        }
        _ => return Outcome::Forward,
    };
    Outcome::Reply(reply(&q, question, answers, RCODE::NoError, limit))
}

/// The reply telling the client that nobody could answer (no upstream, or it failed).
pub fn servfail(query: &[u8]) -> Option<Vec<u8>> {
    header_id(query).map(|id| error_reply(id, query, RCODE::ServerFailure))
}

/// The reply refusing a query (too many forwarded queries in flight).
pub fn refused(query: &[u8]) -> Option<Vec<u8>> {
    header_id(query).map(|id| error_reply(id, query, RCODE::Refused))
}

/// The id of something that looks like a DNS query header (12 bytes, QR clear).
fn header_id(query: &[u8]) -> Option<u16> {
    (query.len() >= 12 && query[2] & 0x80 == 0).then(|| u16::from_be_bytes([query[0], query[1]]))
}

fn base_reply<'a>(q: &Packet<'_>, question: &Question<'a>) -> Packet<'a> {
    let mut r = Packet::new_reply(q.id());
    r.set_flags(PacketFlag::RECURSION_AVAILABLE);
    if q.has_flags(PacketFlag::RECURSION_DESIRED) {
        r.set_flags(PacketFlag::RECURSION_DESIRED);
    }
    r.questions.push(question.clone());
    r
}

fn reply(
    q: &Packet<'_>,
    question: &Question<'_>,
    answers: Vec<RData<'_>>,
    rcode: RCODE,
    limit: usize,
) -> Vec<u8> {
    let mut r = base_reply(q, question);
    *r.rcode_mut() = rcode;
    for rdata in answers {
        r.answers.push(ResourceRecord::new(
            question.qname.clone(),
            CLASS::IN,
            TTL,
            rdata,
        ));
    }
    finish(r, limit)
}

fn ptr_reply(q: &Packet<'_>, question: &Question<'_>, target: &str, limit: usize) -> Vec<u8> {
    let Ok(name) = Name::new(target) else {
        return reply(q, question, Vec::new(), RCODE::ServerFailure, limit);
    };
    reply(
        q,
        question,
        vec![RData::PTR(PTR(name))],
        RCODE::NoError,
        limit,
    )
}

/// Bytes of a reply; one too large for the client is sent without its answers and
/// with TC set, so that the client asks again over TCP.
fn finish(mut r: Packet<'_>, limit: usize) -> Vec<u8> {
    let bytes = r.build_bytes_vec().unwrap_or_default();
    if bytes.len() <= limit {
        return bytes;
    }
    r.answers.clear();
    r.set_flags(PacketFlag::TRUNCATION);
    r.build_bytes_vec_compressed().unwrap_or_default()
}

/// An error reply echoing the question when it can be read, only the header otherwise.
fn error_reply(id: u16, query: &[u8], rcode: RCODE) -> Vec<u8> {
    let mut r = Packet::new_reply(id);
    r.set_flags(PacketFlag::RECURSION_AVAILABLE);
    *r.rcode_mut() = rcode;
    if let Ok(q) = Packet::parse(query) {
        if let [question] = q.questions.as_slice() {
            r.questions.push(question.clone());
        }
        return r.build_bytes_vec().unwrap_or_default();
    }
    r.build_bytes_vec().unwrap_or_default()
}

/// `3.0.19.172.in-addr.arpa` → 172.19.0.3.
pub fn ptr_address(name: &str) -> Option<Ipv4Addr> {
    let rest = name
        .trim_end_matches('.')
        .to_ascii_lowercase()
        .strip_suffix(".in-addr.arpa")?
        .to_string();
    let mut octets: Vec<u8> = Vec::with_capacity(4);
    for part in rest.split('.') {
        octets.push(part.parse().ok()?);
    }
    let [d, c, b, a] = octets.as_slice() else {
        return None;
    };
    Some(Ipv4Addr::new(*a, *b, *c, *d))
}

#[cfg(test)]
#[path = "answer_tests.rs"]
pub(crate) mod tests;
