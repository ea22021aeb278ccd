//! UDP proxy tests on 127.0.0.1.

use std::net::{SocketAddr, UdpSocket};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use super::test_util::*;

/// A UDP server answering `<payload> from <source port>`, reporting each
/// source address it saw on the channel.
fn udp_echo() -> (SocketAddr, mpsc::Receiver<SocketAddr>) {
    let s = UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = s.local_addr().unwrap();
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let mut buf = [0u8; 2048];
        while let Ok((n, from)) = s.recv_from(&mut buf) {
            if tx.send(from).is_err() {
                return;
            }
            let mut reply = buf[..n].to_vec();
            reply.extend_from_slice(format!(" from {}", from.port()).as_bytes());
            let _ = s.send_to(&reply, from);
        }
    });
    (addr, rx)
}

fn client(proxy: SocketAddr) -> UdpSocket {
    let c = UdpSocket::bind("127.0.0.1:0").unwrap();
    c.connect(proxy).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    c
}

fn ask(c: &UdpSocket, msg: &str) -> String {
    c.send(msg.as_bytes()).unwrap();
    let mut buf = [0u8; 2048];
    let n = c.recv(&mut buf).unwrap();
    String::from_utf8_lossy(&buf[..n]).into_owned()
}

#[test]
fn two_clients_get_their_own_replies() {
    let _g = serial();
    let (backend, seen) = udp_echo();
    let p = udp_proxy(backend, Duration::from_secs(90));
    let (a, b) = (client(p.addr), client(p.addr));
    let ra = ask(&a, "alpha");
    let rb = ask(&b, "beta");
    assert!(ra.starts_with("alpha from "), "{ra}");
    assert!(rb.starts_with("beta from "), "{rb}");
    // Each client has its own flow, so its own source port at the backend,
    // and that flow is reused for its next datagram.
    assert_ne!(ra["alpha".len()..], rb["beta".len()..]);
    assert_eq!(ask(&a, "alpha")["alpha".len()..], ra["alpha".len()..]);
    let ports: Vec<SocketAddr> = seen.try_iter().collect();
    assert_eq!(ports.len(), 3);
    // A full-size datagram survives.
    let big = "x".repeat(1400);
    assert!(ask(&b, &big).starts_with(&big));
}

#[test]
fn idle_flow_expires() {
    let _g = serial();
    let (backend, _seen) = udp_echo();
    let p = udp_proxy(backend, Duration::from_millis(200));
    let c = client(p.addr);
    let first = ask(&c, "one");
    assert_eq!(ask(&c, "one"), first, "flow reused while active");
    thread::sleep(Duration::from_millis(500));
    let second = ask(&c, "one");
    assert_ne!(first, second, "an expired flow gets a new socket");
}

#[test]
fn udp_to_closed_port_keeps_serving() {
    let _g = serial();
    // Nothing answers: ICMP port unreachable comes back as ECONNREFUSED on
    // the flow socket, which must not end the loop.
    let dead = UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let p = udp_proxy(dead, Duration::from_secs(90));
    let c = client(p.addr);
    for _ in 0..3 {
        c.send(b"anyone?").unwrap();
    }
    thread::sleep(Duration::from_millis(100));
    drop(p); // joins: panics if the loop returned an error
}
