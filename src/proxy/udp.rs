//! The UDP proxy: one listener socket, one `connect()`ed socket per client
//! flow, all in one epoll loop; idle flows expire.

use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, UdpSocket};
use std::os::fd::BorrowedFd;
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::sys::epoll::{Epoll, EpollCreateFlags, EpollEvent, EpollFlags, EpollTimeout};

use super::slab::{Slab, token, untoken};

/// Largest UDP payload over IPv4 (65535 - 20 IP - 8 UDP).
pub const UDP_BUF: usize = 65507;
/// docker-proxy's `UDPConnTrackTimeout`: a flow idle this long is forgotten.
pub const UDP_IDLE_TIMEOUT: Duration = Duration::from_secs(90);

const LISTENER: u64 = u64::MAX;
const STOP: u64 = u64::MAX - 1;
const MAX_EVENTS: usize = 128;
/// Datagrams handled per wakeup of one socket, for fairness between flows.
const BATCH: usize = 64;

struct Flow {
    client: SocketAddr,
    sock: UdpSocket,
    last: Instant,
}

/// Serves UDP on `socket`, relaying each client's datagrams to `target`
/// through its own socket, until `stop` becomes readable. A flow that saw no
/// datagram either way for `idle` is closed.
///
/// Errors on single datagrams or flows are logged to stderr and skipped.
pub fn serve_udp(
    socket: UdpSocket,
    target: SocketAddr,
    idle: Duration,
    stop: BorrowedFd<'_>,
) -> io::Result<()> {
    socket.set_nonblocking(true)?;
    let epoll = Epoll::new(EpollCreateFlags::EPOLL_CLOEXEC)?;
    epoll.add(&socket, EpollEvent::new(EpollFlags::EPOLLIN, LISTENER))?;
    epoll.add(stop, EpollEvent::new(EpollFlags::EPOLLIN, STOP))?;
    let mut p = Udp {
        epoll,
        listener: socket,
        target,
        idle,
        flows: Slab::default(),
        by_client: HashMap::new(),
        buf: vec![0; UDP_BUF],
        next_sweep: None,
    };
    let mut events = vec![EpollEvent::empty(); MAX_EVENTS];
    loop {
        let timeout = p.expire(Instant::now());
        let n = match p.epoll.wait(&mut events, timeout) {
            Ok(n) => n,
            Err(Errno::EINTR) => continue,
            Err(e) => return Err(e.into()),
        };
        for ev in &events[..n] {
            match ev.data() {
                STOP => return Ok(()),
                LISTENER => p.relay_from_clients(),
                tok => {
                    let (idx, generation, _) = untoken(tok);
                    p.relay_from_container(idx, generation);
                }
            }
        }
    }
}

struct Udp {
    epoll: Epoll,
    listener: UdpSocket,
    target: SocketAddr,
    idle: Duration,
    flows: Slab<Flow>,
    by_client: HashMap<SocketAddr, (u32, u32)>,
    buf: Vec<u8>,
    /// When the next expiry sweep is due (None: no flows).
    next_sweep: Option<Instant>,
}

impl Udp {
    /// Drops idle flows; returns how long epoll may sleep until the next one
    /// may be due. Flows only get younger, so the earliest deadline seen by
    /// the last sweep is a safe time for the next one: no scan per wakeup.
    fn expire(&mut self, now: Instant) -> EpollTimeout {
        if let Some(at) = self.next_sweep.filter(|at| now < *at) {
            return timeout_until(at - now);
        }
        let mut dead = Vec::new();
        let mut next: Option<Duration> = None;
        for (idx, f) in self.flows.iter() {
            let age = now.saturating_duration_since(f.last);
            if age >= self.idle {
                dead.push(idx);
            } else {
                let left = self.idle - age;
                next = Some(next.map_or(left, |n| n.min(left)));
            }
        }
        for idx in dead {
            if let Some(f) = self.flows.remove(idx) {
                self.by_client.remove(&f.client);
            }
        }
        self.next_sweep = next.map(|d| now + d);
        next.map_or(EpollTimeout::NONE, timeout_until)
    }

    fn relay_from_clients(&mut self) {
        for _ in 0..BATCH {
            let (n, client) = match self.listener.recv_from(&mut self.buf) {
                Ok(r) => r,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    eprintln!("docker-proxy: udp recvfrom: {e}");
                    return;
                }
            };
            let Some((idx, generation)) = self.flow(client) else {
                continue;
            };
            let Some(f) = self.flows.get_mut(idx, generation) else {
                continue;
            };
            f.last = Instant::now();
            match f.sock.send(&self.buf[..n]) {
                Ok(_) => {}
                // ECONNREFUSED reports an ICMP port-unreachable for an
                // *earlier* datagram on this connected socket; EAGAIN means
                // a full socket buffer. UDP may drop either way.
                Err(e) if is_transient(&e) => {}
                Err(e) => eprintln!("docker-proxy: udp send to {}: {e}", self.target),
            }
        }
    }

    /// The key of `client`'s flow, created on its first datagram.
    fn flow(&mut self, client: SocketAddr) -> Option<(u32, u32)> {
        if let Some(&key) = self.by_client.get(&client) {
            return Some(key);
        }
        let sock = match connected_socket(self.target) {
            Ok(s) => s,
            Err(e) => {
                eprintln!(
                    "docker-proxy: can't proxy a datagram to udp/{}: {e}",
                    self.target
                );
                return None;
            }
        };
        let (idx, generation) = self.flows.insert(Flow {
            client,
            sock,
            last: Instant::now(),
        });
        let f = self.flows.get_mut(idx, generation)?;
        let ev = EpollEvent::new(EpollFlags::EPOLLIN, token(idx, generation, 0));
        if let Err(e) = self.epoll.add(&f.sock, ev) {
            eprintln!("docker-proxy: epoll_ctl: {e}");
            self.flows.remove(idx);
            return None;
        }
        self.by_client.insert(client, (idx, generation));
        if self.next_sweep.is_none() {
            self.next_sweep = Some(Instant::now() + self.idle);
        }
        Some((idx, generation))
    }

    fn relay_from_container(&mut self, idx: u32, generation: u32) {
        let Some(f) = self.flows.get_mut(idx, generation) else {
            return; // expired earlier in this batch
        };
        for _ in 0..BATCH {
            let n = match f.sock.recv(&mut self.buf) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if is_transient(&e) => continue,
                Err(e) => {
                    eprintln!("docker-proxy: udp recv from {}: {e}", self.target);
                    return;
                }
            };
            f.last = Instant::now();
            match self.listener.send_to(&self.buf[..n], f.client) {
                Ok(_) => {}
                Err(e) if is_transient(&e) => {}
                Err(e) => eprintln!("docker-proxy: udp send to {}: {e}", f.client),
            }
        }
    }
}

/// Rounds up: waking a millisecond early would only loop once more.
fn timeout_until(d: Duration) -> EpollTimeout {
    EpollTimeout::try_from(d + Duration::from_millis(1)).unwrap_or(EpollTimeout::MAX)
}

fn is_transient(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::ECONNREFUSED | libc::EAGAIN | libc::EINTR | libc::ENOBUFS)
    )
}

/// A non-blocking UDP socket `connect()`ed to `target`, so the kernel filters
/// replies to that address for us and `send`/`recv` need no address.
fn connected_socket(target: SocketAddr) -> io::Result<UdpSocket> {
    let any = match target {
        SocketAddr::V4(_) => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        SocketAddr::V6(_) => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
    };
    let sock = UdpSocket::bind(SocketAddr::new(any, 0))?;
    sock.connect(target)?;
    sock.set_nonblocking(true)?;
    Ok(sock)
}
