//! TCP proxy tests on 127.0.0.1.

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

use super::relay::{Half, PipePool, Ready};
use super::tcp::TcpOptions;
use super::test_util::*;

#[test]
fn echo_small() {
    let _g = serial();
    let backend = tcp_server(echo);
    for workers in [1, 3] {
        let p = tcp_proxy_opts(
            backend,
            TcpOptions {
                splice: true,
                workers,
            },
        );
        for _ in 0..10 {
            let mut s = TcpStream::connect(p.addr).unwrap();
            s.write_all(b"ping").unwrap();
            let mut buf = [0u8; 4];
            s.read_exact(&mut buf).unwrap();
            assert_eq!(&buf, b"ping");
        }
    }
}

#[test]
fn transfer_1mib_and_64mib() {
    let _g = serial();
    let p = tcp_proxy(tcp_server(echo), true);
    for len in [1 << 20, 64 << 20] {
        let (sent, got, n) = transfer(p.addr, len);
        assert_eq!(n, len);
        assert_eq!(sent, got, "checksum mismatch for {len} bytes");
    }
}

#[test]
fn transfer_64mib_copy_fallback() {
    let _g = serial();
    let p = tcp_proxy(tcp_server(echo), false);
    let (sent, got, n) = transfer(p.addr, 64 << 20);
    assert_eq!(n, 64 << 20);
    assert_eq!(sent, got);
}

#[test]
fn half_close_still_gets_reply() {
    let _g = serial();
    for splice in [true, false] {
        let p = tcp_proxy(tcp_server(count_then_reply), splice);
        let mut s = TcpStream::connect(p.addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        s.write_all(b"hello").unwrap();
        s.shutdown(Shutdown::Write).unwrap();
        let mut reply = String::new();
        s.read_to_string(&mut reply).unwrap();
        assert_eq!(reply, "got 5 bytes");
    }
}

#[test]
fn concurrent_200() {
    let _g = serial();
    let p = tcp_proxy(tcp_server(echo), true);
    let mut conns: Vec<TcpStream> = (0..200)
        .map(|_| TcpStream::connect(p.addr).unwrap())
        .collect();
    for (i, s) in conns.iter_mut().enumerate() {
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut msg = vec![0u8; 8192];
        pattern(i as u64, 0, &mut msg);
        s.write_all(&msg).unwrap();
    }
    for (i, s) in conns.iter_mut().enumerate() {
        let mut want = vec![0u8; 8192];
        pattern(i as u64, 0, &mut want);
        let mut got = vec![0u8; 8192];
        s.read_exact(&mut got).unwrap();
        assert!(got == want, "connection {i} got someone else's bytes");
    }
    // And from 8 threads at once.
    let addr = p.addr;
    let workers: Vec<_> = (0..8)
        .map(|_| {
            thread::spawn(move || {
                for _ in 0..25 {
                    let (a, b, n) = transfer(addr, 10_000);
                    assert_eq!((a, n), (b, 10_000));
                }
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
}

#[test]
fn closed_target_closes_client() {
    let _g = serial();
    let p = tcp_proxy(closed_port(), true);
    let mut s = TcpStream::connect(p.addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut buf = [0u8; 16];
    match s.read(&mut buf) {
        Ok(0) => {}
        Err(e) if e.kind() == ErrorKind::ConnectionReset => {}
        other => panic!("expected EOF or reset, got {other:?}"),
    }
}

#[test]
fn no_fd_leak_over_2000_connections() {
    let _g = serial();
    let backend = tcp_server(echo);
    let refused_target = closed_port();
    let before_proxy = settle(usize::MAX);
    // One loop: its fd count must be back to the warmed-up level while it
    // keeps running (with several loops, each pool fills at its own pace).
    let p = tcp_proxy_opts(
        backend,
        TcpOptions {
            splice: true,
            workers: 1,
        },
    );
    let round = |n: usize| {
        for _ in 0..n {
            let mut s = TcpStream::connect(p.addr).unwrap();
            s.write_all(b"x").unwrap();
            let mut b = [0u8; 1];
            s.read_exact(&mut b).unwrap();
        }
    };
    // Warm up so the pipe pool holds what it will hold.
    let burst: Vec<_> = (0..150)
        .map(|_| TcpStream::connect(p.addr).unwrap())
        .collect();
    for mut s in &burst {
        s.write_all(b"y").unwrap();
        let mut b = [0u8; 1];
        s.read_exact(&mut b).unwrap();
    }
    drop(burst);
    round(10);
    let baseline = settle(usize::MAX);
    round(2000);
    let after = settle(baseline);
    eprintln!("fds: {baseline} before 2000 connections, {after} after");
    assert!(after <= baseline, "fds: {baseline} before, {after} after");
    drop(p);

    // Several loops, connections the target refuses, clients that reset:
    // everything is gone once the proxy stops.
    let multi = tcp_proxy_opts(
        backend,
        TcpOptions {
            splice: true,
            workers: 2,
        },
    );
    let refused = tcp_proxy(refused_target, true);
    for _ in 0..500 {
        let mut s = TcpStream::connect(multi.addr).unwrap();
        s.write_all(b"x").unwrap();
        let mut s2 = TcpStream::connect(refused.addr).unwrap();
        let _ = s2.read(&mut [0u8; 1]);
    }
    drop((multi, refused));
    let after = settle(before_proxy);
    assert!(
        after <= before_proxy,
        "fds: {before_proxy} before, {after} after"
    );
}

/// Waits (up to 5 s) for the fd count to drop to `target`; returns it.
fn settle(target: usize) -> usize {
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut last = fd_count();
    while Instant::now() < deadline {
        thread::sleep(Duration::from_millis(100));
        let n = fd_count();
        if n <= target || (target == usize::MAX && n == last) {
            return n;
        }
        last = n;
    }
    last
}

fn tcp_pair() -> (TcpStream, TcpStream) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let a = TcpStream::connect(l.local_addr().unwrap()).unwrap();
    let (b, _) = l.accept().unwrap();
    (a, b)
}

#[test]
fn small_read_parks_in_pipe_when_destination_is_full() {
    let (mut client, src) = tcp_pair();
    let (dst, mut reader) = tcp_pair();
    src.set_nonblocking(true).unwrap();
    dst.set_nonblocking(true).unwrap();
    // Fill dst's send path while nobody reads, until the reader's window
    // is closed too (send buffer space comes back as loopback delivers).
    let mut filler = 0usize;
    let chunk = [0xAAu8; 65536];
    loop {
        let before = filler;
        loop {
            match (&dst).write(&chunk) {
                Ok(n) => filler += n,
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) => panic!("{e}"),
            }
        }
        if filler == before {
            break;
        }
        thread::sleep(Duration::from_millis(50));
    }
    let mut pool = PipePool::new(4);
    let mut half = Half::new();
    let (mut rs, mut rd) = (Ready::ALL, Ready::ALL);
    let mut pump = |half: &mut Half| {
        thread::sleep(Duration::from_millis(20)); // let loopback deliver
        (rs, rd) = (Ready::ALL, Ready::ALL); // as if both edges fired
        half.pump(&src, &mut rs, &dst, &mut rd, &mut pool).unwrap();
    };
    client.write_all(b"first small message").unwrap();
    pump(&mut half);
    assert_eq!(half.pending(), 19, "the unwritten read waits in the pipe");
    client.write_all(b"; second one").unwrap();
    pump(&mut half);
    assert_eq!(half.pending(), 31, "later bytes queue behind it");
    client.shutdown(Shutdown::Write).unwrap();
    pump(&mut half);
    assert!(!half.done(), "EOF waits for the parked bytes");

    reader
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut got = Vec::new();
    let mut buf = vec![0u8; 1 << 16];
    while !half.done() || got.len() < filler + 31 {
        let n = reader.read(&mut buf).unwrap();
        assert!(n > 0, "EOF before all data");
        got.extend_from_slice(&buf[..n]);
        pump(&mut half);
    }
    assert_eq!(&got[filler..], b"first small message; second one");
    assert_eq!(reader.read(&mut buf).unwrap(), 0, "EOF passed on");
}
