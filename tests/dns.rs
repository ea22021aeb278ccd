//! The embedded DNS server (C03, C32, C34) with real queries: busybox `nslookup` and
//! `ping` inside containers, and raw UDP and TCP queries sent from a thread that entered
//! a container's namespace. Names, aliases, short ids, PTR, scoping across networks,
//! connect / disconnect / rm, forwarding to the lab's internet DNS, NXDOMAIN, a flood,
//! a malformed packet, a resolver killed with `kill -9`, and nothing left after
//! `lab down`.

mod common;

use common::*;
use simple_dns::rdata::RData;
use simple_dns::{CLASS, Name, Packet, PacketFlag, QCLASS, Question, RCODE, TYPE};
use std::io::{Read, Write};
use std::net::{Ipv4Addr, TcpStream, UdpSocket};
use std::os::fd::AsFd;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(10);

/// `exec FROM nslookup NAME`: its output, and whether it found an address.
fn nslookup(lab: &Lab, from: &str, name: &str) -> (bool, String) {
    let o = lab.dn(&["exec", from, "nslookup", name]);
    let out = format!("{}{}", stdout(&o), stderr(&o));
    let found = o.status.success() && out.contains("Address: ") && !out.contains("NXDOMAIN");
    (found, out)
}

/// The address `name` resolves to from `from` (panics if it does not).
fn resolves(lab: &Lab, from: &str, name: &str) -> Ipv4Addr {
    let (found, out) = nslookup(lab, from, name);
    assert!(found, "expected {from} to resolve {name}:\n{out}");
    let after_server = out.split("Name:").nth(1).unwrap_or("");
    after_server
        .lines()
        .find_map(|l| l.strip_prefix("Address: "))
        .and_then(|a| a.trim().parse().ok())
        .unwrap_or_else(|| panic!("no address for {name} in:\n{out}"))
}

/// A container's address on one network, from `inspect`.
fn ip_on(lab: &Lab, name: &str, net: &str) -> Ipv4Addr {
    let v = lab.inspect(name);
    v["NetworkSettings"]["Networks"][net]["IPAddress"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("expected {name}'s address on {net} in {v}"))
}

fn does_not_resolve(lab: &Lab, from: &str, name: &str) {
    let (found, out) = nslookup(lab, from, name);
    assert!(!found, "expected {from} not to resolve {name}:\n{out}");
}

fn query(id: u16, name: &str, qtype: TYPE) -> Vec<u8> {
    let mut p = Packet::new_query(id);
    p.set_flags(PacketFlag::RECURSION_DESIRED);
    p.questions.push(Question::new(
        Name::new_unchecked(name),
        qtype.into(),
        QCLASS::CLASS(CLASS::IN),
        false,
    ));
    p.build_bytes_vec().unwrap()
}

/// Run `f` on a thread that entered the network namespace `ns`.
fn in_netns<T: Send + 'static>(ns: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let path = format!("/run/netns/{ns}");
    std::thread::spawn(move || {
        let file = std::fs::File::open(&path).expect("open the namespace");
        nix::sched::setns(file.as_fd(), nix::sched::CloneFlags::CLONE_NEWNET).expect("setns");
        f()
    })
    .join()
    .expect("the namespace thread")
}

/// Send raw datagrams to 127.0.0.11:53 inside `ns`; the answers (None: no answer).
fn udp_queries(ns: &str, queries: Vec<Vec<u8>>) -> Vec<Option<Vec<u8>>> {
    in_netns(ns, move || {
        let s = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
        s.connect((Ipv4Addr::new(127, 0, 0, 11), 53)).unwrap();
        queries
            .iter()
            .map(|q| {
                s.send(q).ok()?;
                let mut buf = [0u8; 4096];
                let n = s.recv(&mut buf).ok()?;
                Some(buf[..n].to_vec())
            })
            .collect()
    })
}

/// One query over TCP (two on the same connection, to check that it stays open).
fn tcp_queries(ns: &str, queries: Vec<Vec<u8>>) -> Vec<Vec<u8>> {
    in_netns(ns, move || {
        let mut s = TcpStream::connect((Ipv4Addr::new(127, 0, 0, 11), 53)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        queries
            .iter()
            .map(|q| {
                let mut msg = (q.len() as u16).to_be_bytes().to_vec();
                msg.extend_from_slice(q);
                s.write_all(&msg).unwrap();
                let mut len = [0u8; 2];
                s.read_exact(&mut len).unwrap();
                let mut buf = vec![0u8; u16::from_be_bytes(len) as usize];
                s.read_exact(&mut buf).unwrap();
                buf
            })
            .collect()
    })
}

fn a_records(bytes: &[u8]) -> Vec<Ipv4Addr> {
    Packet::parse(bytes)
        .unwrap()
        .answers
        .iter()
        .filter_map(|rr| match &rr.rdata {
            RData::A(a) => Some(Ipv4Addr::from(a.address)),
            _ => None,
        })
        .collect()
}

fn two_on(lab: &Lab, net: &str) -> (String, String) {
    lab.ok(&["network", "create", net]);
    let a = lab.run_d("bbox1", &["--net", net, "busybox", "sleep", "600"]);
    let b = lab.run_d(
        "bbox2",
        &[
            "--net",
            net,
            "--network-alias",
            "web",
            "busybox",
            "sleep",
            "600",
        ],
    );
    (a.trim().to_string(), b.trim().to_string())
}

/// C03 / C32: on a user-defined network containers find each other by name, alias,
/// short id and `name.network`; the PTR names the container and its network; the
/// container's resolv.conf and nat table are Docker's.
#[test]
fn c03_c32_names_on_a_user_defined_network() {
    let lab = Lab::new("dns_names");
    let (_, id2) = two_on(&lab, "my_net2");
    let ip2 = ip_on(&lab, "bbox2", "my_net2");
    for name in ["bbox2", "web", &id2[..12], "bbox2.my_net2", "BBOX2"] {
        assert_eq!(resolves(&lab, "bbox1", name), ip2, "{name}");
    }
    let ping = lab.ok(&["exec", "bbox1", "ping", "-c", "1", "-W", "2", "bbox2"]);
    assert!(ping.contains(&format!("bytes from {ip2}")), "{ping}");
    let (_, ptr) = nslookup(&lab, "bbox1", &ip2.to_string());
    assert!(
        ptr.contains("name = bbox2.my_net2"),
        "expected the PTR:\n{ptr}"
    );

    let resolv = lab.ok(&["exec", "bbox1", "cat", "/etc/resolv.conf"]);
    assert!(
        resolv.contains("\nnameserver 127.0.0.11\noptions ndots:0\n")
            && resolv.contains("# Based on host file: '/etc/resolv.conf' (internal resolver)"),
        "{resolv}"
    );
    // The container has no iptables (nor the right to use it): look from outside.
    let rules = exec_in_ok(&lab.ctr("bbox1"), &["iptables", "-t", "nat", "-S"]);
    let dns = lab.record("bbox1")["dns"].clone();
    let (udp, tcp) = (dns["udp"].as_u64().unwrap(), dns["tcp"].as_u64().unwrap());
    let want = format!(
        "-N DOCKER_OUTPUT\n-N DOCKER_POSTROUTING\n-A OUTPUT -d 127.0.0.11/32 -j DOCKER_OUTPUT\n-A POSTROUTING -d 127.0.0.11/32 -j DOCKER_POSTROUTING\n-A DOCKER_OUTPUT -d 127.0.0.11/32 -p tcp -m tcp --dport 53 -j DNAT --to-destination 127.0.0.11:{tcp}\n-A DOCKER_OUTPUT -d 127.0.0.11/32 -p udp -m udp --dport 53 -j DNAT --to-destination 127.0.0.11:{udp}\n-A DOCKER_POSTROUTING -s 127.0.0.11/32 -p tcp -m tcp --sport {tcp} -j SNAT --to-source :53\n-A DOCKER_POSTROUTING -s 127.0.0.11/32 -p udp -m udp --sport {udp} -j SNAT --to-source :53\n"
    );
    assert!(rules.ends_with(&want), "expected Docker's rules:\n{rules}");
    // The resolver really listens there, inside the container's namespace.
    let ss = lab.ok(&["exec", "bbox1", "netstat", "-lnu"]);
    assert!(ss.contains(&format!("127.0.0.11:{udp}")), "{ss}");
    // The view lists the scope.
    let view = lab.ok(&["dns", "bbox1"]);
    assert!(
        view.lines()
            .any(|l| l.starts_with("web ") && l.contains(&ip2.to_string())),
        "{view}"
    );
}

/// C34: the default bridge has no embedded DNS: container names do not resolve there,
/// the internet's do (through the lab's internet DNS in resolv.conf).
#[test]
fn c34_the_default_bridge_has_no_container_names() {
    let lab = Lab::new("dns_bridge");
    lab.run_d("bbox3", &["busybox", "sleep", "600"]);
    lab.run_d("bbox4", &["busybox", "sleep", "600"]);
    does_not_resolve(&lab, "bbox3", "bbox4");
    let resolv = lab.ok(&["exec", "bbox3", "cat", "/etc/resolv.conf"]);
    assert!(resolv.contains("nameserver 203.0.113.53"), "{resolv}");
    assert!(!resolv.contains("127.0.0.11"), "{resolv}");
    let ip = resolves(&lab, "bbox3", "google.com");
    assert!(ip.octets()[..3] == [203, 0, 113], "{ip}");
    let rules = exec_in_ok(&lab.ctr("bbox3"), &["iptables", "-t", "nat", "-S"]);
    assert!(!rules.contains("DOCKER_OUTPUT"), "{rules}");
}

/// Names follow the containers at once: connect, connect --alias, disconnect, stop,
/// start and rm, with no restart of anything; a container never resolves a name on a
/// network it does not share.
#[test]
fn names_follow_connect_disconnect_and_rm() {
    let lab = Lab::new("dns_live");
    lab.ok(&["network", "create", "net1"]);
    lab.ok(&["network", "create", "net2"]);
    lab.run_d("aa", &["--net", "net1", "busybox", "sleep", "600"]);
    lab.run_d("bb", &["--net", "net2", "busybox", "sleep", "600"]);
    lab.run_d("cc", &["busybox", "sleep", "600"]);
    does_not_resolve(&lab, "aa", "bb");
    does_not_resolve(&lab, "bb", "aa");
    // A default-bridge container connected to a user network gets the server.
    lab.ok(&["network", "connect", "--alias", "db", "net1", "cc"]);
    let resolv = lab.ok(&["exec", "cc", "cat", "/etc/resolv.conf"]);
    assert!(resolv.contains("nameserver 127.0.0.11"), "{resolv}");
    let cc_ip = ip_on(&lab, "cc", "net1");
    assert_eq!(resolves(&lab, "aa", "db"), cc_ip);
    assert_eq!(resolves(&lab, "aa", "cc"), cc_ip);
    let aa_ip = ip_on(&lab, "aa", "net1");
    assert_eq!(resolves(&lab, "cc", "aa"), aa_ip);
    lab.ok(&["network", "connect", "net1", "bb"]);
    let bb_ip = ip_on(&lab, "bb", "net1");
    assert_eq!(resolves(&lab, "aa", "bb"), bb_ip);
    lab.ok(&["network", "disconnect", "net1", "bb"]);
    does_not_resolve(&lab, "aa", "bb");
    lab.ok(&["stop", "-t", "1", "cc"]);
    does_not_resolve(&lab, "aa", "db");
    lab.ok(&["start", "cc"]);
    let again = ip_on(&lab, "cc", "net1");
    assert_eq!(resolves(&lab, "aa", "db"), again);
    lab.ok(&["rm", "-f", "cc"]);
    does_not_resolve(&lab, "aa", "cc");
    does_not_resolve(&lab, "aa", "db");
}

/// Raw queries over UDP and TCP: A with TTL 600, AAAA empty, PTR, NXDOMAIN from the
/// internet's server, a malformed packet that gets no crash, and a flood the server
/// survives.
#[test]
fn raw_udp_and_tcp_queries() {
    let lab = Lab::new("dns_raw");
    two_on(&lab, "rawnet");
    let ns = lab.ctr("bbox1");
    let ip2 = ip_on(&lab, "bbox2", "rawnet");
    let o = ip2.octets();
    let rev = format!("{}.{}.{}.{}.in-addr.arpa", o[3], o[2], o[1], o[0]);
    let answers = udp_queries(
        &ns,
        vec![
            query(1, "bbox2", TYPE::A),
            query(2, "bbox2", TYPE::AAAA),
            query(3, &rev, TYPE::PTR),
            query(4, "no-such-name.example", TYPE::A),
            query(5, "example.com", TYPE::A),
        ],
    );
    let a = answers[0].as_ref().expect("an answer to A");
    assert_eq!(a_records(a), vec![ip2]);
    let p = Packet::parse(a).unwrap();
    assert_eq!(p.id(), 1);
    assert_eq!(p.answers[0].ttl, 600);
    let aaaa = Packet::parse(answers[1].as_ref().expect("AAAA answer"))
        .unwrap()
        .clone();
    assert_eq!(aaaa.rcode(), RCODE::NoError);
    assert!(aaaa.answers.is_empty());
    let ptr = answers[2].as_ref().expect("PTR answer");
    match &Packet::parse(ptr).unwrap().answers[0].rdata {
        RData::PTR(n) => assert_eq!(n.0.to_string(), "bbox2.rawnet"),
        other => panic!("{other:?}"),
    }
    let nx = answers[3].as_ref().expect("forwarded NXDOMAIN");
    let nx = Packet::parse(nx).unwrap();
    assert_eq!((nx.id(), nx.rcode()), (4, RCODE::NameError));
    let web = a_records(answers[4].as_ref().expect("example.com answered"));
    assert!(
        web.len() == 1 && web[0].octets()[..3] == [203, 0, 113],
        "{web:?}"
    );

    // TCP, two queries on one connection, one forwarded.
    let tcp = tcp_queries(
        &ns,
        vec![query(6, "web", TYPE::A), query(7, "google.com", TYPE::A)],
    );
    assert_eq!(a_records(&tcp[0]), vec![ip2]);
    assert_eq!(Packet::parse(&tcp[1]).unwrap().id(), 7);
    assert_eq!(a_records(&tcp[1]).len(), 1);

    // Garbage and a truncated header: no answer needed, no crash.
    let mut junk = vec![
        vec![0xff; 3],
        vec![
            0x12, 0x34, 0x01, 0x00, 0x00, 0x09, 0, 0, 0, 0, 0, 0, 0xc0, 0x0c,
        ],
    ];
    junk.push(query(8, "bbox2", TYPE::A));
    let after = udp_queries(&ns, junk);
    assert_eq!(
        a_records(after[2].as_ref().expect("answered after garbage")),
        vec![ip2]
    );

    // A flood of 20 000 queries without waiting: the server keeps answering.
    in_netns(&ns, || {
        let s = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        s.connect((Ipv4Addr::new(127, 0, 0, 11), 53)).unwrap();
        let q = query(9, "bbox2", TYPE::A);
        for _ in 0..20_000 {
            let _ = s.send(&q);
        }
    });
    std::thread::sleep(Duration::from_millis(300));
    let last = udp_queries(&ns, vec![query(10, "bbox2", TYPE::A)]);
    assert_eq!(
        a_records(last[0].as_ref().expect("answered after the flood")),
        vec![ip2]
    );
    let status = lab.ok(&["lab", "status"]);
    assert!(
        status.contains("dns:"),
        "expected the server alive:\n{status}"
    );
}

/// `--internal` networks: local names resolve, nothing is forwarded (Docker's
/// proxyDNS=false): the internet's names fail at once with SERVFAIL.
#[test]
fn internal_networks_do_not_forward() {
    let lab = Lab::new("dns_internal");
    lab.ok(&["network", "create", "--internal", "inside"]);
    lab.run_d("i1", &["--net", "inside", "busybox", "sleep", "600"]);
    lab.run_d("i2", &["--net", "inside", "busybox", "sleep", "600"]);
    let ip2 = ip_on(&lab, "i2", "inside");
    assert_eq!(resolves(&lab, "i1", "i2"), ip2);
    let r = udp_queries(&lab.ctr("i1"), vec![query(1, "google.com", TYPE::A)]);
    let p = r[0].clone().expect("an answer");
    assert_eq!(Packet::parse(&p).unwrap().rcode(), RCODE::ServerFailure);
}

/// A resolver killed with `kill -9` is reported by `lab status` and started again by
/// the next command, on the same ports (the redirect rules stay true); `lab down`
/// leaves no process and no socket.
#[test]
fn a_killed_resolver_comes_back_and_lab_down_removes_it() {
    let lab = Lab::new("dns_kill");
    two_on(&lab, "knet");
    let before = lab.record("bbox1")["dns"].clone();
    let pid = lab.state()["resolver"]["pid"]
        .as_i64()
        .expect("the resolver's pid");
    cmd_ok("kill", &["-9", &pid.to_string()]);
    retry("the resolver to die", WAIT, || {
        if std::path::Path::new(&format!("/proc/{pid}/stat")).exists()
            && !std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .unwrap_or_default()
                .contains(") Z ")
        {
            Err("still alive".into())
        } else {
            Ok(())
        }
    });
    let st = lab.dn(&["lab", "status"]);
    assert!(
        stdout(&st).contains("embedded DNS server") && !st.status.success(),
        "expected lab status to report the dead server: {}",
        describe("lab status", &st)
    );
    // The next command (even one that only reads) starts it again.
    let ip2 = ip_on(&lab, "bbox2", "knet");
    assert_eq!(resolves(&lab, "bbox1", "bbox2"), ip2);
    let new_pid = lab.state()["resolver"]["pid"].as_i64().unwrap();
    assert_ne!(new_pid, pid);
    assert_eq!(
        lab.record("bbox1")["dns"],
        before,
        "the same ports, or rules rewritten"
    );
    lab.ok(&["lab", "status"]);

    // Killed again, and meanwhile something in bbox1 takes its UDP port: the server
    // listens elsewhere and the next command rewrites bbox1's redirect rules.
    let pid = lab.state()["resolver"]["pid"].as_i64().unwrap();
    cmd_ok("kill", &["-9", &pid.to_string()]);
    let port = before["udp"].as_u64().unwrap() as u16;
    let squatter = retry("the old port to be free", WAIT, || {
        in_netns(&lab.ctr("bbox1"), move || {
            UdpSocket::bind((Ipv4Addr::new(127, 0, 0, 11), port)).map_err(|e| e.to_string())
        })
    });
    assert_eq!(resolves(&lab, "bbox1", "bbox2"), ip2);
    let after = lab.record("bbox1")["dns"].clone();
    assert_ne!(after["udp"], before["udp"], "expected new ports");
    let rules = exec_in_ok(
        &lab.ctr("bbox1"),
        &["iptables", "-t", "nat", "-S", "DOCKER_OUTPUT"],
    );
    assert!(
        rules.contains(&format!("127.0.0.11:{}", after["udp"]))
            && !rules.contains(&format!("127.0.0.11:{port}\n")),
        "expected the rules rewritten to the new ports:\n{rules}"
    );
    drop(squatter);
    let sock = lab.dir().join("dns.sock");
    assert!(sock.exists());
    lab.ok(&["lab", "down"]);
    assert!(!sock.exists(), "expected the control socket gone");
    assert!(
        processes_mentioning(&format!("dockernet-dns --lab {}", lab.name)).is_empty(),
        "expected no resolver left"
    );
}

/// What a command printed, narration (stderr) included; it must succeed.
fn narration(lab: &Lab, args: &[&str]) -> String {
    let o = lab.dn(args);
    assert!(o.status.success(), "{}", describe(&args.join(" "), &o));
    format!("{}{}", stdout(&o), stderr(&o))
}

/// `--explain` narrates the resolver's sockets, the redirect rules as iptables
/// commands, and the resolv.conf when a container joins a user network.
#[test]
fn explain_narrates_the_dns_set_up() {
    let lab = Lab::new("dns_explain");
    lab.ok(&["network", "create", "enet"]);
    let out = narration(
        &lab,
        &[
            "--explain",
            "run",
            "-d",
            "--name",
            "ee",
            "--net",
            "enet",
            "busybox",
            "sleep",
            "600",
        ],
    );
    assert!(out.contains("127.0.0.11 inside"), "{out}");
    assert!(
        out.contains("printf 'nameserver 127.0.0.11\\noptions ndots:0\\n' > "),
        "expected the resolv.conf narrated:\n{out}"
    );
    assert!(
        out.contains(
            "iptables -t nat -A DOCKER_OUTPUT -d 127.0.0.11/32 -p udp -m udp --dport 53 -j DNAT"
        ),
        "{out}"
    );
    lab.run_d("ff", &["busybox", "sleep", "600"]);
    let out = narration(&lab, &["--explain", "network", "connect", "enet", "ff"]);
    assert!(out.contains("nameserver 127.0.0.11"), "{out}");
    let dry = narration(
        &lab,
        &[
            "--dry-run",
            "run",
            "-d",
            "--name",
            "gg",
            "--net",
            "enet",
            "busybox",
            "sleep",
            "1",
        ],
    );
    assert!(dry.contains("DOCKER_OUTPUT"), "{dry}");
    assert!(lab.state()["containers"].as_object().unwrap().len() == 2);
}
