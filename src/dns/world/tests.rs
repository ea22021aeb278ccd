//! The zone logic on real packets (built and read back with simple-dns), garbage and
//! truncated messages, and the server over UDP and TCP on a loopback port.

use super::server::{QueryLog, bind, serve_tcp, serve_udp};
use super::*;
use crate::dns::answer::tests::a_addresses as addrs;
use simple_dns::Question;
use std::io::{Read, Write};
use std::net::{TcpStream, UdpSocket};
use std::sync::Arc;
use std::time::Duration;

fn query(id: u16, name: &str, qtype: QTYPE) -> Vec<u8> {
    let mut p = Packet::new_query(id);
    p.set_flags(PacketFlag::RECURSION_DESIRED);
    p.questions.push(Question::new(
        Name::new_unchecked(name),
        qtype,
        CLASS::IN.into(),
        false,
    ));
    p.build_bytes_vec().unwrap()
}

/// A reply read back; leaked so the packet may borrow it for the whole test.
fn parsed(bytes: Vec<u8>) -> Packet<'static> {
    Packet::parse(Box::leak(bytes.into_boxed_slice())).expect("our reply parses")
}

fn ask_bytes(name: &str, qtype: TYPE) -> Vec<u8> {
    answer(&query(0x1234, name, qtype.into()))
        .expect("a reply")
        .bytes
}

fn ask(name: &str, qtype: TYPE) -> Packet<'static> {
    parsed(ask_bytes(name, qtype))
}

#[test]
fn every_name_of_the_zone_has_its_address_with_aa_and_ttl() {
    for host in zone() {
        for name in host.names {
            let r = ask(name, TYPE::A);
            assert_eq!(r.id(), 0x1234);
            assert_eq!(r.rcode(), RCODE::NoError, "{name}");
            assert!(r.has_flags(PacketFlag::RESPONSE | PacketFlag::AUTHORITATIVE_ANSWER));
            assert!(r.has_flags(PacketFlag::RECURSION_DESIRED | PacketFlag::RECURSION_AVAILABLE));
            assert_eq!(r.questions.len(), 1);
            assert_eq!(r.questions[0].qname.to_string(), *name);
            assert_eq!(addrs(&r), vec![host.addr], "{name}");
            assert_eq!(r.answers[0].ttl, TTL);
            assert_eq!(r.answers[0].name.to_string(), *name);
        }
    }
}

#[test]
fn addresses_are_distinct_and_in_the_labs_internet() {
    let all: Vec<Ipv4Addr> = zone().map(|h| h.addr).collect();
    let mut uniq = all.clone();
    uniq.sort();
    uniq.dedup();
    assert_eq!(uniq.len(), all.len(), "one address per host: {all:?}");
    for a in all {
        assert_eq!(a.octets()[..3], [203, 0, 113], "{a}");
    }
    assert!(lookup(&Name::new_unchecked("google.com")).is_some());
}

#[test]
fn names_are_case_insensitive_and_keep_the_askers_case() {
    let r = ask("WWW.Google.COM", TYPE::A);
    assert_eq!(addrs(&r), vec![Ipv4Addr::new(203, 0, 113, 22)]);
    assert_eq!(r.answers[0].name.to_string(), "WWW.Google.COM");
}

#[test]
fn a_trailing_dot_names_the_same_host() {
    let name = Name::new("example.com.").unwrap();
    assert_eq!(
        lookup(&name).map(|h| h.addr),
        Some(Ipv4Addr::new(203, 0, 113, 20))
    );
    let r = ask("example.com.", TYPE::A);
    assert_eq!(addrs(&r), vec![Ipv4Addr::new(203, 0, 113, 20)]);
}

#[test]
fn other_types_of_a_known_name_are_nodata() {
    for t in [TYPE::AAAA, TYPE::MX, TYPE::TXT, TYPE::NS, TYPE::CNAME] {
        let r = ask("google.com", t);
        assert_eq!(r.rcode(), RCODE::NoError, "{t:?}");
        assert!(r.answers.is_empty(), "{t:?}");
        assert!(r.has_flags(PacketFlag::AUTHORITATIVE_ANSWER));
    }
    let r = answer(&query(7, "google.com", QTYPE::ANY)).unwrap();
    assert_eq!(addrs(&Packet::parse(&r.bytes).unwrap()).len(), 1);
    assert_eq!(
        answer(&query(7, "google.com", TYPE::AAAA.into()))
            .unwrap()
            .log,
        "query[AAAA] google.com: NODATA"
    );
}

#[test]
fn unknown_names_are_nxdomain() {
    for name in [
        "no-such-name.example",
        "com",
        "evil.google.com",
        "google.com.cn",
        "bbox3",
        "x",
    ] {
        let r = ask(name, TYPE::A);
        assert_eq!(r.rcode(), RCODE::NameError, "{name}");
        assert!(r.answers.is_empty());
        assert_eq!(r.questions[0].qname.to_string(), name);
    }
    let r = answer(&query(1, "nosuch.example", TYPE::A.into())).unwrap();
    assert_eq!(r.log, "query[A] nosuch.example: NXDOMAIN");
}

#[test]
fn ptr_names_the_zones_addresses() {
    for host in zone() {
        let o = host.addr.octets();
        let rev = format!("{}.{}.{}.{}.in-addr.arpa", o[3], o[2], o[1], o[0]);
        let r = ask(&rev, TYPE::PTR);
        assert_eq!(r.rcode(), RCODE::NoError);
        match &r.answers[..] {
            [rr] => match &rr.rdata {
                RData::PTR(p) => assert_eq!(p.0.to_string(), host.names[0]),
                other => panic!("expected a PTR, got {other:?}"),
            },
            other => panic!("expected one answer for {rev}, got {other:?}"),
        }
        // A known reverse name asked for A: no data, not an error.
        let r = ask(&rev, TYPE::A);
        assert_eq!((r.rcode(), r.answers.len()), (RCODE::NoError, 0));
    }
    for rev in [
        "99.113.0.203.in-addr.arpa",
        "022.113.0.203.in-addr.arpa",
        "113.0.203.in-addr.arpa",
        "1.0.0.127.in-addr.arpa",
    ] {
        let r = ask(rev, TYPE::PTR);
        assert_eq!(r.rcode(), RCODE::NameError, "{rev}");
    }
    let r = ask("22.113.0.203.IN-ADDR.ARPA", TYPE::PTR);
    assert_eq!(r.answers.len(), 1);
}

#[test]
fn responses_and_short_messages_get_nothing() {
    let mut reply = ask_bytes("google.com", TYPE::A);
    assert_eq!(answer(&reply), None, "a response must not be answered");
    reply[2] &= 0x7f;
    assert!(answer(&reply).is_some());
    for n in 0..12 {
        assert_eq!(answer(&vec![0u8; n]), None);
    }
}

#[test]
fn truncated_queries_get_formerr_and_never_panic() {
    let q = query(0xbeef, "www.example.com", TYPE::A.into());
    for n in 12..q.len() {
        let r = answer(&q[..n]).expect("a FORMERR");
        let p = Packet::parse(&r.bytes).unwrap();
        assert_eq!(
            (p.id(), p.rcode()),
            (0xbeef, RCODE::FormatError),
            "cut at {n}"
        );
    }
}

#[test]
fn wrong_question_counts_opcodes_and_classes_are_refused_politely() {
    let mut two = Packet::new_query(9);
    for n in ["a.example", "b.example"] {
        two.questions.push(Question::new(
            Name::new_unchecked(n),
            TYPE::A.into(),
            CLASS::IN.into(),
            false,
        ));
    }
    let r = answer(&two.build_bytes_vec().unwrap()).unwrap();
    assert_eq!(Packet::parse(&r.bytes).unwrap().rcode(), RCODE::FormatError);
    let none = Packet::new_query(9).build_bytes_vec().unwrap();
    assert_eq!(
        Packet::parse(&answer(&none).unwrap().bytes)
            .unwrap()
            .rcode(),
        RCODE::FormatError
    );

    let mut notify = parsed(query(9, "google.com", TYPE::A.into()));
    *notify.opcode_mut() = OPCODE::Notify;
    let r = answer(&notify.build_bytes_vec().unwrap()).unwrap();
    assert_eq!(
        Packet::parse(&r.bytes).unwrap().rcode(),
        RCODE::NotImplemented
    );

    let mut chaos = Packet::new_query(9);
    chaos.questions.push(Question::new(
        Name::new_unchecked("version.bind"),
        TYPE::TXT.into(),
        CLASS::CH.into(),
        false,
    ));
    let r = answer(&chaos.build_bytes_vec().unwrap()).unwrap();
    assert_eq!(Packet::parse(&r.bytes).unwrap().rcode(), RCODE::Refused);
}

#[test]
fn random_garbage_never_panics_and_replies_parse() {
    // xorshift64: deterministic, so a failure can be replayed.
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let valid = query(1, "deb.debian.org", TYPE::A.into());
    for round in 0..20_000 {
        let len = (next() % 600) as usize;
        let mut buf: Vec<u8> = (0..len).map(|_| next() as u8).collect();
        if round % 2 == 0 && len >= 12 {
            // Half the rounds: a valid query with random bytes flipped, which reaches
            // deeper into the parser than pure noise.
            buf = valid.clone();
            for _ in 0..1 + next() % 4 {
                let at = (next() as usize) % buf.len();
                buf[at] = next() as u8;
            }
        }
        if let Some(r) = answer(&buf) {
            let p = Packet::parse(&r.bytes).expect("our reply parses");
            assert!(p.has_flags(PacketFlag::RESPONSE));
        }
    }
}

#[test]
fn replies_fit_in_a_plain_udp_datagram() {
    let long = format!(
        "{}.{}.{}.example",
        "a".repeat(63),
        "b".repeat(63),
        "c".repeat(63)
    );
    assert!(ask_bytes(&long, TYPE::A).len() <= 512);
    let longest = zone()
        .flat_map(|h| h.names.iter())
        .max_by_key(|n| n.len())
        .unwrap();
    assert!(ask_bytes(longest, TYPE::A).len() <= 512);
}

#[test]
fn the_server_answers_over_udp_and_tcp() {
    let (udp, tcp) = bind("127.0.0.1", 0).unwrap();
    let port = udp.local_addr().unwrap().port();
    let log = Arc::new(QueryLog::new(Box::new(std::io::sink())));
    let l2 = Arc::clone(&log);
    std::thread::spawn(move || serve_udp(&udp, &l2));
    std::thread::spawn(move || serve_tcp(&tcp, &log));

    let client = UdpSocket::bind("127.0.0.1:0").unwrap();
    client
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    // Garbage first: it must not stop the server.
    client.send_to(b"\xff\xff", ("127.0.0.1", port)).unwrap();
    client
        .send_to(
            &query(42, "github.com", TYPE::A.into()),
            ("127.0.0.1", port),
        )
        .unwrap();
    let mut buf = [0u8; 512];
    let n = client.recv(&mut buf).unwrap();
    let r = Packet::parse(&buf[..n]).unwrap();
    assert_eq!(
        (r.id(), addrs(&r)),
        (42, vec![Ipv4Addr::new(203, 0, 113, 23)])
    );

    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    for (id, name, want) in [
        (1, "google.com", Some([203, 0, 113, 22])),
        (2, "nosuch.example", None),
    ] {
        let q = query(id, name, TYPE::A.into());
        s.write_all(&(q.len() as u16).to_be_bytes()).unwrap();
        s.write_all(&q).unwrap();
        let mut len = [0u8; 2];
        s.read_exact(&mut len).unwrap();
        let mut msg = vec![0u8; u16::from_be_bytes(len) as usize];
        s.read_exact(&mut msg).unwrap();
        let r = Packet::parse(&msg).unwrap();
        assert_eq!(r.id(), id);
        match want {
            Some(o) => assert_eq!(addrs(&r), vec![Ipv4Addr::from(o)]),
            None => assert_eq!(r.rcode(), RCODE::NameError),
        }
    }
    // A message that gets no answer (shorter than a header) ends the connection.
    s.write_all(&[0, 3, 1, 2, 3]).unwrap();
    let mut rest = Vec::new();
    assert_eq!(s.read_to_end(&mut rest).unwrap(), 0);
}
