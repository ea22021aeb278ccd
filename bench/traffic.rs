//! The traffic tool of the data-path benchmark: one server and three clients, run by
//! the benchmark binary re-executing itself (`--serve`, `--client`).
//!
//! Protocol: the client's first byte picks the mode of its connection.
//! - `B` bulk: the client streams 256 KiB writes for a while, then half-closes; the
//!   server counts what arrived and answers with the count (8 bytes, little endian),
//!   so the client's clock stops only once every byte has reached the server.
//! - `E` echo: 64-byte messages, each sent straight back (ping-pong round trips).
//! - `C` connect: the server answers one byte and closes first, so TIME_WAIT lands on
//!   the server side and the client's ephemeral ports stay free for the next connects.
//!
//! Each client prints one JSON object on stdout; errors go to stderr and exit 1.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

/// Size of every bulk write and server read.
const BULK_BUF: usize = 256 * 1024;
/// Ping-pong message size.
const MSG: usize = 64;
/// Accepting threads of the server: connect tests are served inline by them.
const ACCEPTORS: usize = 4;
/// Round trips discarded at the start of a ping-pong run (caches, wakeup paths).
const WARMUP: usize = 200;

/// `--serve PORT`: serve all three modes on 0.0.0.0:PORT until killed.
pub fn serve(port: u16) -> io::Result<()> {
    let listener = listen(port)?;
    let mut threads = Vec::new();
    for _ in 0..ACCEPTORS {
        let l = listener.try_clone()?;
        threads.push(std::thread::spawn(move || accept_loop(&l)));
    }
    for t in threads {
        let _ = t.join();
    }
    Ok(())
}

/// A listener with a backlog deep enough for connection storms (std's is 128).
fn listen(port: u16) -> io::Result<TcpListener> {
    let l = TcpListener::bind(SocketAddr::from(([0, 0, 0, 0], port)))?;
    // SAFETY: listen(2) on a socket we own; calling it again only resizes the backlog.
    if unsafe { libc::listen(l.as_raw_fd(), 4096) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(l)
}

fn accept_loop(l: &TcpListener) {
    loop {
        let Ok((mut s, _)) = l.accept() else {
            continue;
        };
        let mut mode = [0u8];
        if s.read_exact(&mut mode).is_err() {
            continue;
        }
        match mode[0] {
            // Answer and drop: we close first.
            b'C' => drop(s.write_all(b"c")),
            b'B' => drop(std::thread::spawn(move || sink(s))),
            b'E' => drop(std::thread::spawn(move || echo(s, None))),
            b'P' => drop(std::thread::spawn(move || {
                let mut cpu = [0u8];
                s.read_exact(&mut cpu)?;
                echo(s, Some(cpu[0].into()))
            })),
            m => eprintln!("serve: unknown mode byte {m:#x}"),
        }
    }
}

fn sink(mut s: TcpStream) -> io::Result<()> {
    let mut buf = vec![0u8; BULK_BUF];
    let mut total: u64 = 0;
    loop {
        match s.read(&mut buf)? {
            0 => break,
            n => total += n as u64,
        }
    }
    s.write_all(&total.to_le_bytes())
}

fn echo(mut s: TcpStream, pin: Option<usize>) -> io::Result<()> {
    if let Some(cpu) = pin {
        pin_self(cpu)?;
    }
    s.set_nodelay(true)?;
    let mut buf = [0u8; MSG];
    loop {
        match s.read_exact(&mut buf) {
            Ok(()) => s.write_all(&buf)?,
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(()),
            Err(e) => return Err(e),
        }
    }
}

/// What a `--client` run is told.
pub struct ClientArgs {
    pub mode: String,
    pub addr: SocketAddr,
    pub secs: f64,
    /// Connect-test threads.
    pub threads: usize,
    /// Spin on non-blocking reads in the ping-pong instead of sleeping in recv.
    pub busy_poll: bool,
    /// Ping-pong with client and server pinned to this CPU.
    pub pin: Option<u8>,
}

impl ClientArgs {
    /// Parses `MODE ADDR SECS [--threads N] [--busy-poll] [--pin CPU]`.
    pub fn parse(args: &[String]) -> Result<ClientArgs, String> {
        let [mode, addr, secs, rest @ ..] = args else {
            return Err(
                "usage: --client bulk|crr|rr ADDR SECS [--threads N] [--busy-poll] [--pin CPU]"
                    .into(),
            );
        };
        let mut c = ClientArgs {
            mode: mode.clone(),
            addr: addr.parse().map_err(|e| format!("{addr}: {e}"))?,
            secs: secs.parse().map_err(|e| format!("{secs}: {e}"))?,
            threads: 2,
            busy_poll: false,
            pin: None,
        };
        let mut it = rest.iter();
        while let Some(a) = it.next() {
            match a.as_str() {
                "--threads" => {
                    let n = it.next().ok_or("--threads needs a number")?;
                    c.threads = n.parse().map_err(|e| format!("--threads {n}: {e}"))?;
                }
                "--busy-poll" => c.busy_poll = true,
                "--pin" => {
                    let n = it.next().ok_or("--pin needs a CPU number")?;
                    c.pin = Some(n.parse().map_err(|e| format!("--pin {n}: {e}"))?);
                }
                other => return Err(format!("unknown client option {other}")),
            }
        }
        Ok(c)
    }
}

/// `--client ...`: run one measurement and return its JSON line.
pub fn client(c: &ClientArgs) -> io::Result<String> {
    let dur = Duration::from_secs_f64(c.secs);
    match c.mode.as_str() {
        "bulk" => bulk(c.addr, dur),
        "crr" => crr(c.addr, dur, c.threads),
        "rr" => rr(c.addr, dur, c.busy_poll, c.pin),
        m => Err(io::Error::other(format!("unknown client mode {m}"))),
    }
}

/// One stream for `dur`; Gbit/s counted up to the server's acknowledgement.
fn bulk(addr: SocketAddr, dur: Duration) -> io::Result<String> {
    let mut s = TcpStream::connect(addr)?;
    s.write_all(b"B")?;
    let buf = vec![0x5au8; BULK_BUF];
    let t = Instant::now();
    let mut sent: u64 = 0;
    while t.elapsed() < dur {
        s.write_all(&buf)?;
        sent += BULK_BUF as u64;
    }
    s.shutdown(Shutdown::Write)?;
    let mut ack = [0u8; 8];
    s.read_exact(&mut ack)?;
    let secs = t.elapsed().as_secs_f64();
    let got = u64::from_le_bytes(ack);
    if got != sent {
        return Err(io::Error::other(format!(
            "sent {sent} bytes, server got {got}"
        )));
    }
    let gbps = got as f64 * 8.0 / secs / 1e9;
    Ok(format!(
        r#"{{"bytes":{got},"secs":{secs:.4},"gbps":{gbps:.4}}}"#
    ))
}

/// One connect / 1-byte request / 1-byte reply / close; waits for the server's FIN so
/// that the client's side ends without TIME_WAIT.
fn one_conn(addr: SocketAddr) -> io::Result<()> {
    let mut s = TcpStream::connect(addr)?;
    s.set_nodelay(true)?;
    s.write_all(b"C")?;
    let mut b = [0u8; 2];
    s.read_exact(&mut b[..1])?;
    match s.read(&mut b)? {
        0 => Ok(()),
        _ => Err(io::Error::other("more than one reply byte")),
    }
}

/// New connections per second from `threads` threads for `dur`.
fn crr(addr: SocketAddr, dur: Duration, threads: usize) -> io::Result<String> {
    let t = Instant::now();
    let counts: Vec<(u64, u64, Option<String>)> = std::thread::scope(|sc| {
        let hs: Vec<_> = (0..threads)
            .map(|_| {
                sc.spawn(|| {
                    let (mut ok, mut err, mut first) = (0u64, 0u64, None);
                    while t.elapsed() < dur {
                        match one_conn(addr) {
                            Ok(()) => ok += 1,
                            Err(e) => {
                                err += 1;
                                first.get_or_insert_with(|| e.to_string());
                            }
                        }
                    }
                    (ok, err, first)
                })
            })
            .collect();
        hs.into_iter()
            .map(|h| h.join().unwrap_or((0, 1, Some("panicked".into()))))
            .collect()
    });
    let secs = t.elapsed().as_secs_f64();
    let ok: u64 = counts.iter().map(|c| c.0).sum();
    let errors: u64 = counts.iter().map(|c| c.1).sum();
    let first = counts.iter().find_map(|c| c.2.clone()).unwrap_or_default();
    // Errors are reported, not fatal: a refused connect or two is part of the result.
    let first = serde_json::to_string(&first).unwrap_or_default();
    Ok(format!(
        r#"{{"conns":{ok},"errors":{errors},"first_error":{first},"secs":{secs:.4},"per_sec":{:.1}}}"#,
        ok as f64 / secs
    ))
}

/// Reads exactly `buf.len()` bytes by spinning on a non-blocking socket.
fn spin_read(s: &mut TcpStream, buf: &mut [u8]) -> io::Result<()> {
    let mut got = 0;
    while got < buf.len() {
        match s.read(&mut buf[got..]) {
            Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => std::hint::spin_loop(),
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Pins the calling thread to `cpu`.
pub fn pin_self(cpu: usize) -> io::Result<()> {
    // SAFETY: cpu_set_t is plain data; CPU_SET writes inside it; sched_setaffinity(0)
    // changes only the calling thread.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu, &mut set);
        if libc::sched_setaffinity(0, std::mem::size_of_val(&set), &set) != 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

/// 64-byte ping-pong for `dur`; median and p99 round trip in µs.
/// With `pin`, the client and the server's echo thread run on that CPU only.
fn rr(addr: SocketAddr, dur: Duration, busy_poll: bool, pin: Option<u8>) -> io::Result<String> {
    if let Some(cpu) = pin {
        pin_self(cpu.into())?;
    }
    let mut s = TcpStream::connect(addr)?;
    s.set_nodelay(true)?;
    match pin {
        Some(cpu) => s.write_all(&[b'P', cpu])?,
        None => s.write_all(b"E")?,
    }
    s.set_nonblocking(busy_poll)?;
    let mut buf = [0x42u8; MSG];
    let mut rtts = Vec::with_capacity(1 << 16);
    let t = Instant::now();
    while t.elapsed() < dur || rtts.len() <= WARMUP {
        let t0 = Instant::now();
        // 64 bytes always fit an empty send buffer, even on a non-blocking socket.
        s.write_all(&buf)?;
        if busy_poll {
            spin_read(&mut s, &mut buf)?;
        } else {
            s.read_exact(&mut buf)?;
        }
        rtts.push(t0.elapsed().as_nanos() as f64 / 1e3);
    }
    let mut v = rtts.split_off(WARMUP);
    v.sort_by(f64::total_cmp);
    let at = |p: f64| v[((v.len() - 1) as f64 * p) as usize];
    Ok(format!(
        r#"{{"n":{},"median_us":{:.2},"p99_us":{:.2}}}"#,
        v.len(),
        at(0.5),
        at(0.99)
    ))
}
