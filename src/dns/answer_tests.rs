use super::*;
use crate::dns::index::tests::{ctr, nets};

fn query(id: u16, name: &str, qtype: TYPE) -> Vec<u8> {
    let mut p = Packet::new_query(id);
    p.set_flags(PacketFlag::RECURSION_DESIRED);
    p.questions.push(Question::new(
        Name::new_unchecked(name),
        qtype.into(),
        simple_dns::QCLASS::CLASS(CLASS::IN),
        false,
    ));
    p.build_bytes_vec().unwrap()
}

fn lab() -> (Index, String) {
    let mut ix = Index::default();
    ix.update(
        &ctr('a', "bbox1", &[("my_net2", "172.19.0.2", &[])], &[]),
        nets,
    );
    ix.update(
        &ctr('b', "bbox2", &[("my_net2", "172.19.0.3", &["web"])], &[]),
        nets,
    );
    (ix, "a".repeat(64))
}

fn reply_of(o: Outcome) -> Vec<u8> {
    match o {
        Outcome::Reply(b) => b,
        other => panic!("expected a reply, got {other:?}"),
    }
}

/// The A addresses of a reply (shared with the world server's tests).
pub(crate) fn a_addresses(p: &Packet) -> Vec<Ipv4Addr> {
    p.answers
        .iter()
        .filter_map(|rr| match &rr.rdata {
            RData::A(a) => Some(Ipv4Addr::from(a.address)),
            _ => None,
        })
        .collect()
}

fn a_records(bytes: &[u8]) -> Vec<Ipv4Addr> {
    a_addresses(&Packet::parse(bytes).unwrap())
}

#[test]
fn a_query_for_a_container_on_a_shared_network() {
    let (ix, me) = lab();
    let r = reply_of(answer(
        &ix,
        &me,
        &query(7, "bbox2", TYPE::A),
        Transport::Udp,
    ));
    let p = Packet::parse(&r).unwrap();
    assert_eq!(p.id(), 7);
    assert!(p.has_flags(PacketFlag::RESPONSE | PacketFlag::RECURSION_AVAILABLE));
    assert!(p.has_flags(PacketFlag::RECURSION_DESIRED));
    assert_eq!(p.rcode(), RCODE::NoError);
    assert_eq!(p.answers[0].ttl, 600);
    assert_eq!(a_records(&r), vec![Ipv4Addr::new(172, 19, 0, 3)]);
    // Aliases, short ids and upper case too.
    for name in ["web", "WEB.", "bbbbbbbbbbbb", "bbox2.my_net2"] {
        let r = reply_of(answer(&ix, &me, &query(8, name, TYPE::A), Transport::Udp));
        assert_eq!(a_records(&r), vec![Ipv4Addr::new(172, 19, 0, 3)], "{name}");
    }
}

#[test]
fn unknown_names_and_other_types_are_forwarded() {
    let (ix, me) = lab();
    assert_eq!(
        answer(&ix, &me, &query(1, "google.com", TYPE::A), Transport::Udp),
        Outcome::Forward
    );
    assert_eq!(
        answer(&ix, &me, &query(1, "bbox2", TYPE::TXT), Transport::Udp),
        Outcome::Forward
    );
    assert_eq!(
        answer(
            &ix,
            &me,
            &query(1, "8.8.8.8.in-addr.arpa", TYPE::PTR),
            Transport::Udp
        ),
        Outcome::Forward
    );
}

#[test]
fn aaaa_for_a_known_name_is_empty() {
    let (ix, me) = lab();
    let r = reply_of(answer(
        &ix,
        &me,
        &query(2, "bbox2", TYPE::AAAA),
        Transport::Udp,
    ));
    let p = Packet::parse(&r).unwrap();
    assert_eq!(p.rcode(), RCODE::NoError);
    assert!(p.answers.is_empty());
}

#[test]
fn ptr_names_the_container_and_its_network() {
    let (ix, me) = lab();
    let r = reply_of(answer(
        &ix,
        &me,
        &query(3, "3.0.19.172.in-addr.arpa", TYPE::PTR),
        Transport::Udp,
    ));
    let p = Packet::parse(&r).unwrap();
    match &p.answers[0].rdata {
        RData::PTR(PTR(n)) => assert_eq!(n.to_string(), "bbox2.my_net2"),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        ptr_address("3.0.19.172.in-addr.arpa."),
        Some(Ipv4Addr::new(172, 19, 0, 3))
    );
    assert_eq!(ptr_address("0.19.172.in-addr.arpa"), None);
    assert_eq!(ptr_address("x.0.19.172.in-addr.arpa"), None);
}

#[test]
fn garbage_gets_no_crash() {
    let (ix, me) = lab();
    assert_eq!(answer(&ix, &me, b"", Transport::Udp), Outcome::Drop);
    assert_eq!(answer(&ix, &me, b"\x01\x02", Transport::Udp), Outcome::Drop);
    // A header that claims questions that are not there: FORMERR.
    let hdr = [0x12, 0x34, 0x01, 0x00, 0x00, 0x05, 0, 0, 0, 0, 0, 0];
    let r = reply_of(answer(&ix, &me, &hdr, Transport::Udp));
    assert_eq!(Packet::parse(&r).unwrap().rcode(), RCODE::FormatError);
    // Every truncation of a real query, and pseudo-random bytes: never a panic.
    let q = query(9, "bbox2.my_net2", TYPE::A);
    for n in 0..q.len() {
        let _ = answer(&ix, &me, &q[..n], Transport::Udp);
    }
    let mut x: u32 = 0x1234_5678;
    for len in 0..600 {
        let bytes: Vec<u8> = (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                x as u8
            })
            .collect();
        let _ = answer(&ix, &me, &bytes, Transport::Udp);
    }
    // A compression pointer that points at itself.
    let mut looped = q[..12].to_vec();
    looped.extend_from_slice(&[0xc0, 0x0c, 0x00, 0x01, 0x00, 0x01]);
    let _ = answer(&ix, &me, &looped, Transport::Udp);
}

#[test]
fn responses_are_ignored() {
    let (ix, me) = lab();
    let r = reply_of(answer(
        &ix,
        &me,
        &query(4, "bbox2", TYPE::A),
        Transport::Udp,
    ));
    assert_eq!(answer(&ix, &me, &r, Transport::Udp), Outcome::Drop);
}

#[test]
fn big_answers_are_truncated_over_udp_only() {
    let mut ix = Index::default();
    ix.update(&ctr('a', "client", &[("n", "10.0.0.1", &[])], &[]), nets);
    let hex = "0123456789abcdef";
    for (i, c) in hex.chars().enumerate().skip(1) {
        for j in 0..3 {
            // 45 holders of one alias: more than 512 bytes of answers.
            let mut r = ctr(
                c,
                &format!("s{i}x{j}"),
                &[("n", &format!("10.0.{i}.{}", j + 2), &["many"])],
                &[],
            );
            r.id = format!("{}{j}", &r.id[..63]);
            ix.update(&r, nets);
        }
    }
    let me = "a".repeat(64);
    let r = reply_of(answer(&ix, &me, &query(5, "many", TYPE::A), Transport::Udp));
    let p = Packet::parse(&r).unwrap();
    assert!(p.has_flags(PacketFlag::TRUNCATION));
    assert!(p.answers.is_empty());
    let r = reply_of(answer(&ix, &me, &query(5, "many", TYPE::A), Transport::Tcp));
    assert_eq!(a_records(&r).len(), 45);
}

#[test]
fn failures_echo_the_question() {
    let q = query(6, "google.com", TYPE::A);
    let bytes = servfail(&q).unwrap();
    let p = Packet::parse(&bytes).unwrap();
    assert_eq!(p.id(), 6);
    assert_eq!(p.rcode(), RCODE::ServerFailure);
    assert_eq!(p.questions[0].qname.to_string(), "google.com");
    assert_eq!(
        Packet::parse(&refused(&q).unwrap()).unwrap().rcode(),
        RCODE::Refused
    );
    assert_eq!(servfail(b"abc"), None);
}
