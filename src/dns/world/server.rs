//! `named`: the lab's internet DNS server as a process (the binary under argv0 `named`).
//!
//! `named [-b ADDR] [-p PORT]` answers on ADDR:PORT (default 203.0.113.53:53) over UDP
//! (one blocking loop) and TCP (RFC 7766: a 2-byte length before each message, several
//! queries per connection, one thread per connection). It is not performance critical:
//! it answers the few lookups learners and tests make. One line per query goes to
//! stderr (the lab keeps it in `named.log`), like dnsmasq's `log-queries`.

use super::answer;
use crate::lab::addr;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

const USAGE: &str = "usage: named [-b ADDR] [-p PORT]";
/// How long a TCP client may stay idle, or take to send one message, before it is
/// dropped: an idle client must not hold a connection (and its thread) for ever.
pub const TCP_TIMEOUT: Duration = Duration::from_secs(10);
/// Most TCP connections served at once; more are closed at once.
const MAX_TCP: usize = 64;
/// Query lines logged before the log stops growing (a flood must not fill /run).
const MAX_LOG_LINES: usize = 10_000;
/// Largest UDP message read; a longer datagram is cut and then gets FORMERR.
const UDP_BUF: usize = 4096;

/// Runs the applet with `args` (argv without `argv[0]`); returns only on error.
pub fn main(args: &[String]) -> i32 {
    let mut ip = addr::INTERNET_DNS.to_string();
    let mut port: u16 = 53;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let Some(value) = it.next().filter(|_| arg == "-b" || arg == "-p") else {
            say(&format!("named: bad argument '{arg}' ({USAGE})"));
            return 2;
        };
        if arg == "-b" {
            ip = value.clone();
        } else if let Ok(p) = value.parse() {
            port = p;
        } else {
            say(&format!("named: bad port '{value}' ({USAGE})"));
            return 2;
        }
    }
    let (udp, tcp) = match bind(&ip, port) {
        Ok(pair) => pair,
        Err(e) => {
            // Like the C library words it, without Rust's " (os error N)".
            let text = e.to_string();
            let text = text.split(" (os error ").next().unwrap_or(&text);
            say(&format!("named: could not bind to {ip}:{port}: {text}"));
            return 1;
        }
    };
    let names: usize = super::zone().map(|h| h.names.len()).sum();
    say(&format!(
        "named: the lab's internet DNS: {names} names, answering on {ip}:{port} (udp, tcp)"
    ));
    let log = Arc::new(QueryLog::new(Box::new(io::stderr())));
    let udp_log = Arc::clone(&log);
    if let Err(e) = thread::Builder::new()
        .name("named-udp".into())
        .spawn(move || serve_udp(&udp, &udp_log))
    {
        say(&format!("named: could not start: {e}"));
        return 1;
    }
    serve_tcp(&tcp, &log)
}

/// One line to stderr, ignoring failures (applets never panic on a closed output).
fn say(line: &str) {
    let mut err = io::stderr().lock();
    let _ = writeln!(err, "{line}").and_then(|()| err.flush());
}

/// The UDP socket and TCP listener on one address and port (with port 0, TCP takes the
/// port the kernel gave UDP, so tests can use a free port for both).
pub fn bind(ip: &str, port: u16) -> io::Result<(UdpSocket, TcpListener)> {
    let udp = UdpSocket::bind((ip, port))?;
    let port = udp.local_addr()?.port();
    let tcp = TcpListener::bind((ip, port))?;
    Ok((udp, tcp))
}

/// Where query lines go, with a cap on their number.
pub struct QueryLog {
    out: Mutex<(Box<dyn Write + Send>, usize)>,
}

impl QueryLog {
    /// A log writing to `out`.
    pub fn new(out: Box<dyn Write + Send>) -> QueryLog {
        QueryLog {
            out: Mutex::new((out, 0)),
        }
    }

    fn line(&self, proto: &str, peer: SocketAddr, text: &str) {
        // A poisoned lock or a closed stderr must not take the server down.
        let mut guard = self.out.lock().unwrap_or_else(|p| p.into_inner());
        let (out, count) = &mut *guard;
        *count += 1;
        let line = match (*count).cmp(&MAX_LOG_LINES) {
            std::cmp::Ordering::Less => format!("{proto} {}: {text}\n", peer.ip()),
            std::cmp::Ordering::Equal => {
                format!("named: {MAX_LOG_LINES} queries logged; logging stops here\n")
            }
            std::cmp::Ordering::Greater => return,
        };
        let _ = out.write_all(line.as_bytes()).and_then(|()| out.flush());
    }
}

/// [`answer`], never unwinding: should the library panic on some packet, the packet
/// goes unanswered and the server lives on.
fn safe_answer(query: &[u8]) -> Option<super::Reply> {
    std::panic::catch_unwind(|| answer(query))
        .ok()
        .flatten()
        .filter(|r| !r.bytes.is_empty())
}

/// Answers UDP queries for ever, one at a time.
pub fn serve_udp(sock: &UdpSocket, log: &QueryLog) -> ! {
    let mut buf = vec![0u8; UDP_BUF];
    loop {
        let Ok((n, peer)) = sock.recv_from(&mut buf) else {
            // e.g. ICMP errors reported on the socket: nothing to answer.
            continue;
        };
        if let Some(reply) = safe_answer(&buf[..n]) {
            log.line("udp", peer, &reply.log);
            let _ = sock.send_to(&reply.bytes, peer);
        }
    }
}

/// Accepts TCP connections for ever, each served on its own thread.
pub fn serve_tcp(listener: &TcpListener, log: &Arc<QueryLog>) -> ! {
    let open = Arc::new(AtomicUsize::new(0));
    loop {
        let Ok((stream, peer)) = listener.accept() else {
            // e.g. too many open files: back off instead of spinning.
            thread::sleep(Duration::from_millis(50));
            continue;
        };
        if open.fetch_add(1, Ordering::SeqCst) >= MAX_TCP {
            open.fetch_sub(1, Ordering::SeqCst);
            continue; // dropped: the client sees a close
        }
        let (log, counter) = (Arc::clone(log), Arc::clone(&open));
        let spawned = thread::Builder::new()
            .name("named-tcp".into())
            .spawn(move || {
                let _ = serve_connection(stream, peer, &log);
                counter.fetch_sub(1, Ordering::SeqCst);
            });
        if spawned.is_err() {
            open.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

/// One TCP connection: length-prefixed queries until the client closes, stays idle
/// past [`TCP_TIMEOUT`], or sends a message that gets no answer.
fn serve_connection(mut stream: TcpStream, peer: SocketAddr, log: &QueryLog) -> io::Result<()> {
    stream.set_write_timeout(Some(TCP_TIMEOUT))?;
    loop {
        let deadline = Instant::now() + TCP_TIMEOUT;
        let mut len = [0u8; 2];
        if !read_full(&mut stream, &mut len, deadline)? {
            return Ok(());
        }
        let mut msg = vec![0u8; usize::from(u16::from_be_bytes(len))];
        if !read_full(&mut stream, &mut msg, deadline)? {
            return Ok(());
        }
        let Some(reply) = safe_answer(&msg) else {
            return Ok(());
        };
        log.line("tcp", peer, &reply.log);
        let Ok(n) = u16::try_from(reply.bytes.len()) else {
            return Ok(());
        };
        let mut out = n.to_be_bytes().to_vec();
        out.extend_from_slice(&reply.bytes);
        stream.write_all(&out)?;
    }
}

/// Fill `buf` before `deadline` (a client dribbling bytes is held to it too). False when
/// the client closed or the deadline passed.
fn read_full(stream: &mut TcpStream, buf: &mut [u8], deadline: Instant) -> io::Result<bool> {
    let mut got = 0;
    while got < buf.len() {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Ok(false);
        }
        stream.set_read_timeout(Some(left))?;
        match stream.read(&mut buf[got..]) {
            Ok(0) => return Ok(false),
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                return Ok(false);
            }
            Err(e) => return Err(e),
        }
    }
    Ok(true)
}
