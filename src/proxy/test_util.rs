//! Helpers shared by the proxy's tests: running proxies, backends, fd counts.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::os::fd::AsFd;
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use super::serve_udp;
use super::sys::Stop;
use super::tcp::{TcpOptions, serve_tcp_opts};

/// Tests that count fds or bind fixed things run one at a time.
static SERIAL: Mutex<()> = Mutex::new(());

/// Takes the lock that serializes the socket tests.
pub fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// A proxy loop running in a thread; stopped and joined on drop.
pub struct Running {
    /// Where clients connect.
    pub addr: SocketAddr,
    stop: Arc<Stop>,
    handle: Option<JoinHandle<io::Result<()>>>,
}

impl Drop for Running {
    fn drop(&mut self) {
        self.stop.trigger();
        if let Some(h) = self.handle.take() {
            h.join()
                .expect("proxy thread panicked")
                .expect("proxy loop failed");
        }
    }
}

/// Starts a TCP proxy on an ephemeral 127.0.0.1 port relaying to `target`,
/// with one loop (or two if `splice` is true: the default setup's shape).
pub fn tcp_proxy(target: SocketAddr, splice: bool) -> Running {
    let workers = if splice { 2 } else { 1 };
    tcp_proxy_opts(target, TcpOptions { splice, workers })
}

/// [`tcp_proxy`] with explicit options.
pub fn tcp_proxy_opts(target: SocketAddr, opts: TcpOptions) -> Running {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let stop = Arc::new(Stop::new().unwrap());
    let s = stop.clone();
    let handle = thread::spawn(move || serve_tcp_opts(listener, target, s.as_fd(), &opts));
    Running {
        addr,
        stop,
        handle: Some(handle),
    }
}

/// Starts a UDP proxy on an ephemeral 127.0.0.1 port relaying to `target`.
pub fn udp_proxy(target: SocketAddr, idle: Duration) -> Running {
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = sock.local_addr().unwrap();
    let stop = Arc::new(Stop::new().unwrap());
    let s = stop.clone();
    let handle = thread::spawn(move || serve_udp(sock, target, idle, s.as_fd()));
    Running {
        addr,
        stop,
        handle: Some(handle),
    }
}

/// A TCP server calling `f` on each connection in its own thread; it lives
/// as long as the test process.
pub fn tcp_server(f: fn(TcpStream)) -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    thread::spawn(move || {
        for s in l.incoming().flatten() {
            thread::spawn(move || f(s));
        }
    });
    addr
}

/// Echoes until EOF, then half-closes.
pub fn echo(mut s: TcpStream) {
    let mut r = s.try_clone().unwrap();
    let _ = io::copy(&mut r, &mut s);
    let _ = s.shutdown(Shutdown::Write);
}

/// Reads until EOF, then answers `got N bytes` and closes.
pub fn count_then_reply(mut s: TcpStream) {
    let mut n = 0usize;
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(k) => n += k,
        }
    }
    let _ = s.write_all(format!("got {n} bytes").as_bytes());
}

/// An address nothing listens on (a port just freed).
pub fn closed_port() -> SocketAddr {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
}

/// Open fds of this process.
pub fn fd_count() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

/// Deterministic test data: byte `i` of stream `seed`.
pub fn pattern(seed: u64, off: u64, buf: &mut [u8]) {
    for (i, b) in buf.iter_mut().enumerate() {
        let x = (off + i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ seed;
        *b = (x >> 29) as u8;
    }
}

/// FNV-1a, to compare large streams without keeping them.
pub fn fnv(h: &mut u64, data: &[u8]) {
    for &b in data {
        *h = (*h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
    }
}

/// FNV-1a start value.
pub const FNV0: u64 = 0xcbf2_9ce4_8422_2325;

/// Sends `len` pattern bytes through `addr` (an echo path) from a writer
/// thread while reading the echo; returns (sent hash, received hash, count).
pub fn transfer(addr: SocketAddr, len: u64) -> (u64, u64, u64) {
    let s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut w = s.try_clone().unwrap();
    let writer = thread::spawn(move || {
        let mut h = FNV0;
        let mut buf = vec![0u8; 100_003];
        let mut off = 0;
        while off < len {
            let n = buf.len().min((len - off) as usize);
            pattern(7, off, &mut buf[..n]);
            fnv(&mut h, &buf[..n]);
            w.write_all(&buf[..n]).unwrap();
            off += n as u64;
        }
        w.shutdown(Shutdown::Write).unwrap();
        h
    });
    let (mut h, mut got) = (FNV0, 0u64);
    let mut buf = vec![0u8; 1 << 16];
    let mut r = &s;
    loop {
        let n = r.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        fnv(&mut h, &buf[..n]);
        got += n as u64;
    }
    (writer.join().unwrap(), h, got)
}
