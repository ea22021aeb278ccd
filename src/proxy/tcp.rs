//! The TCP proxy: an edge-triggered epoll loop (or several sharing the
//! listener) that accepts clients, connects to the container without
//! blocking, and relays both directions of each connection.

use std::io;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::time::Duration;

use nix::errno::Errno;
use nix::sys::epoll::{Epoll, EpollCreateFlags, EpollEvent, EpollFlags, EpollTimeout};
use nix::sys::socket::{AddressFamily, SockFlag, SockType, setsockopt, socket, sockopt};

use super::relay::{Half, PipePool, Ready};
use super::slab::{Slab, token, untoken};
use super::sys::{Stop, bind_or_connect, ignore_sigpipe};

const LISTENER: u64 = u64::MAX;
const STOP: u64 = u64::MAX - 1;
const MAX_EVENTS: usize = 256;
/// Accepts per listener wakeup, so a connection storm cannot starve relays.
const ACCEPT_BATCH: usize = 64;
/// Idle pipes kept for reuse.
const POOL_PIPES: usize = 128;
/// How long to stop accepting after running out of fds.
const FD_BACKOFF: Duration = Duration::from_millis(100);

/// Tuning knobs of [`serve_tcp_opts`].
#[derive(Clone, Debug)]
pub struct TcpOptions {
    /// Relay bulk data with `splice(2)` (default; reads under 8 KiB are
    /// still copied, which is cheaper for them); `false` uses the 256 KiB
    /// read/write fallback for every connection (for tests and comparison).
    pub splice: bool,
    /// Event-loop threads sharing the listener (default 1). Each connection
    /// lives on the loop that accepted it. On a 2-vCPU VM a second loop
    /// helped only while the per-connection cost was higher (all-splice
    /// relaying); with small reads copied, one loop relayed as many or more
    /// short connections, and costs one thread per published port less.
    pub workers: usize,
}

impl Default for TcpOptions {
    fn default() -> Self {
        TcpOptions {
            splice: true,
            workers: 1,
        }
    }
}

/// Serves TCP on `listener`, relaying each client to `target`, until `stop`
/// becomes readable (an eventfd such as [`super::Stop`], or a signalfd).
///
/// Errors on single connections are logged to stderr and do not end the loop;
/// only a failing epoll instance does.
pub fn serve_tcp(
    listener: TcpListener,
    target: SocketAddr,
    stop: BorrowedFd<'_>,
) -> io::Result<()> {
    serve_tcp_opts(listener, target, stop, &TcpOptions::default())
}

/// [`serve_tcp`] with explicit [`TcpOptions`].
pub fn serve_tcp_opts(
    listener: TcpListener,
    target: SocketAddr,
    stop: BorrowedFd<'_>,
    opts: &TcpOptions,
) -> io::Result<()> {
    ignore_sigpipe();
    listener.set_nonblocking(true)?;
    let listener = &listener;
    // Loops stop each other: `stop` may be a signalfd, which only shows a
    // thread-directed signal to the thread it was sent to, and a loop that
    // fails should not leave the others serving.
    let all = Stop::new()?;
    let all = &all;
    let run = move || {
        let r = event_loop(listener, target, [stop, all.as_fd()], opts);
        all.trigger();
        r
    };
    std::thread::scope(|scope| {
        let others: Vec<_> = (1..opts.workers).map(|_| scope.spawn(run)).collect();
        let mut result = run();
        for h in others {
            let r = h
                .join()
                .unwrap_or_else(|_| Err(io::Error::other("worker panicked")));
            result = result.and(r);
        }
        result
    })
}

fn event_loop(
    listener: &TcpListener,
    target: SocketAddr,
    stops: [BorrowedFd<'_>; 2],
    opts: &TcpOptions,
) -> io::Result<()> {
    let epoll = Epoll::new(EpollCreateFlags::EPOLL_CLOEXEC)?;
    for stop in stops {
        epoll.add(stop, EpollEvent::new(EpollFlags::EPOLLIN, STOP))?;
    }
    let mut server = Server {
        epoll,
        listener,
        // Several loops on one listener: wake one of them per connection,
        // not all (the thundering herd would cost a wakeup each).
        listen_flags: if opts.workers > 1 {
            EpollFlags::EPOLLIN | EpollFlags::EPOLLEXCLUSIVE
        } else {
            EpollFlags::EPOLLIN
        },
        target,
        splice: opts.splice,
        conns: Slab::default(),
        pool: PipePool::new(POOL_PIPES),
        paused: true,
    };
    server.resume();
    if server.paused {
        return Err(io::Error::other("cannot watch the listener"));
    }
    let mut events = vec![EpollEvent::empty(); MAX_EVENTS];
    loop {
        let timeout = if server.paused {
            EpollTimeout::try_from(FD_BACKOFF).unwrap_or(EpollTimeout::ZERO)
        } else {
            EpollTimeout::NONE
        };
        let n = match server.epoll.wait(&mut events, timeout) {
            Ok(n) => n,
            Err(Errno::EINTR) => continue,
            Err(e) => return Err(e.into()),
        };
        if server.paused {
            server.resume();
        }
        for ev in &events[..n] {
            match ev.data() {
                STOP => return Ok(()),
                LISTENER => server.accept_batch(),
                tok => server.event(tok, ev.events()),
            }
        }
    }
}

/// One proxied connection.
#[derive(Debug)]
struct Conn {
    client: TcpStream,
    server: TcpStream,
    /// The non-blocking connect to the container has not completed.
    connecting: bool,
    /// Readiness of [client, server].
    ready: [Ready; 2],
    /// client → server.
    up: Half,
    /// server → client.
    down: Half,
}

impl Conn {
    /// Relays what can be relayed; `Ok(true)` once both directions ended.
    fn pump(&mut self, pool: &mut PipePool) -> io::Result<bool> {
        let [c, s] = &mut self.ready;
        self.up.pump(&self.client, c, &self.server, s, pool)?;
        self.down.pump(&self.server, s, &self.client, c, pool)?;
        Ok(self.up.done() && self.down.done())
    }
}

struct Server<'a> {
    epoll: Epoll,
    listener: &'a TcpListener,
    listen_flags: EpollFlags,
    target: SocketAddr,
    splice: bool,
    conns: Slab<Conn>,
    pool: PipePool,
    /// The listener is out of the epoll set after EMFILE and friends.
    paused: bool,
}

impl Server<'_> {
    fn accept_batch(&mut self) {
        for _ in 0..ACCEPT_BATCH {
            // SAFETY: accept4 with null address pointers writes no memory.
            let fd = unsafe {
                libc::accept4(
                    self.listener.as_raw_fd(),
                    std::ptr::null_mut(),
                    std::ptr::null_mut(),
                    libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
                )
            };
            if fd >= 0 {
                // SAFETY: accept4 just returned this fd; nothing else owns it.
                let client = TcpStream::from(unsafe { OwnedFd::from_raw_fd(fd) });
                self.open(client);
                continue;
            }
            match Errno::last() {
                Errno::EAGAIN => return,
                // The connection died in the backlog, a firewall said no, or
                // a signal interrupted us: next one.
                Errno::EINTR | Errno::ECONNABORTED | Errno::EPROTO | Errno::EPERM => {}
                e @ (Errno::EMFILE | Errno::ENFILE | Errno::ENOBUFS | Errno::ENOMEM) => {
                    // The pending connection stays queued and the listener
                    // stays readable: without pausing we would spin.
                    eprintln!("docker-proxy: accept: {e}; pausing accepts");
                    self.pause();
                    return;
                }
                e => {
                    eprintln!("docker-proxy: accept: {e}");
                    return;
                }
            }
        }
    }

    // EPOLL_CTL_MOD is refused for EPOLLEXCLUSIVE entries, hence del/add.
    fn pause(&mut self) {
        if !self.paused && self.epoll.delete(self.listener).is_ok() {
            self.paused = true;
        }
    }

    fn resume(&mut self) {
        let ev = EpollEvent::new(self.listen_flags, LISTENER);
        match self.epoll.add(self.listener, ev) {
            Ok(()) => self.paused = false,
            Err(e) => eprintln!("docker-proxy: watching listener: {e}"),
        }
    }

    fn open(&mut self, client: TcpStream) {
        // Relayed request/response traffic must not wait for Nagle.
        if let Err(e) = client.set_nodelay(true) {
            eprintln!("docker-proxy: TCP_NODELAY on client: {e}");
        }
        let (server, connected) = match connect_nonblocking(self.target) {
            Ok(s) => s,
            Err(e) => {
                // Dropping the client closes it, as docker-proxy does.
                eprintln!("docker-proxy: can't forward to tcp/{}: {e}", self.target);
                return;
            }
        };
        let (mut up, mut down) = (Half::new(), Half::new());
        if !self.splice {
            up.force_copy(&mut self.pool);
            down.force_copy(&mut self.pool);
        }
        let conn = Conn {
            client,
            server,
            connecting: !connected,
            ready: [Ready::ALL; 2],
            up,
            down,
        };
        let (idx, generation) = self.conns.insert(conn);
        let flags = EpollFlags::EPOLLIN
            | EpollFlags::EPOLLOUT
            | EpollFlags::EPOLLRDHUP
            | EpollFlags::EPOLLET;
        let Some(c) = self.conns.get_mut(idx, generation) else {
            return;
        };
        let added = self
            .epoll
            .add(&c.client, EpollEvent::new(flags, token(idx, generation, 0)))
            .and_then(|()| {
                let ev = EpollEvent::new(flags, token(idx, generation, 1));
                self.epoll.add(&c.server, ev)
            });
        if let Err(e) = added {
            eprintln!("docker-proxy: epoll_ctl: {e}");
            self.close(idx);
        } else if connected {
            self.relay(idx, generation, EpollFlags::empty());
        }
    }

    fn event(&mut self, tok: u64, flags: EpollFlags) {
        let (idx, generation, side) = untoken(tok);
        let Some(c) = self.conns.get_mut(idx, generation) else {
            return; // closed earlier in this batch
        };
        let hup = EpollFlags::EPOLLHUP | EpollFlags::EPOLLERR;
        if flags.intersects(EpollFlags::EPOLLIN | EpollFlags::EPOLLRDHUP | hup) {
            c.ready[side].rd = true;
        }
        if flags.intersects(EpollFlags::EPOLLOUT | hup) {
            c.ready[side].wr = true;
        }
        if c.connecting {
            if side == 0 {
                return; // client data waits in its socket until we connect
            }
            match c.server.take_error() {
                Ok(None) if flags.contains(EpollFlags::EPOLLOUT) => c.connecting = false,
                Ok(None) => return,
                Ok(Some(e)) | Err(e) => {
                    eprintln!("docker-proxy: can't forward to tcp/{}: {e}", self.target);
                    self.close(idx);
                    return;
                }
            }
        }
        self.relay(idx, generation, flags);
    }

    fn relay(&mut self, idx: u32, generation: u32, flags: EpollFlags) {
        let Some(c) = self.conns.get_mut(idx, generation) else {
            return;
        };
        match c.pump(&mut self.pool) {
            Ok(true) => self.close(idx),
            // EPOLLERR on a socket whose reading direction already ended
            // (a reset after our FIN) would otherwise go unnoticed until the
            // other side sends something.
            Ok(false) if flags.contains(EpollFlags::EPOLLERR) => {
                let failed = [&c.client, &c.server]
                    .iter()
                    .any(|s| !matches!(s.take_error(), Ok(None)));
                if failed {
                    self.close(idx);
                }
            }
            Ok(false) => {}
            Err(e) => {
                if !is_peer_gone(&e) {
                    eprintln!("docker-proxy: relaying to tcp/{}: {e}", self.target);
                }
                self.close(idx);
            }
        }
    }

    fn close(&mut self, idx: u32) {
        // Closing the sockets also drops them from the epoll set.
        if let Some(c) = self.conns.remove(idx) {
            c.up.recycle(&mut self.pool);
            c.down.recycle(&mut self.pool);
        }
        if self.paused {
            self.resume();
        }
    }
}

/// Resets and broken pipes are how TCP connections often end; not news.
fn is_peer_gone(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::ECONNRESET | libc::EPIPE | libc::ETIMEDOUT | libc::EHOSTUNREACH)
    )
}

/// Starts a non-blocking connect; the bool says whether it already completed.
fn connect_nonblocking(target: SocketAddr) -> io::Result<(TcpStream, bool)> {
    let family = match target {
        SocketAddr::V4(_) => AddressFamily::Inet,
        SocketAddr::V6(_) => AddressFamily::Inet6,
    };
    let flags = SockFlag::SOCK_NONBLOCK | SockFlag::SOCK_CLOEXEC;
    let fd = socket(family, SockType::Stream, flags, None)?;
    setsockopt(&fd, sockopt::TcpNoDelay, &true)?;
    match bind_or_connect(&fd, target, true) {
        Ok(()) => Ok((TcpStream::from(fd), true)),
        Err(Errno::EINPROGRESS | Errno::EINTR) => Ok((TcpStream::from(fd), false)),
        Err(e) => Err(e.into()),
    }
}
