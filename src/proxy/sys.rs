//! Small system-level helpers: listeners with Go-style errors, the ready fd,
//! the stop event, pipes and `splice(2)`.

use std::io::{self, Write};
use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

use nix::errno::Errno;
use nix::fcntl::{FcntlArg, OFlag, fcntl};
use nix::sys::eventfd::{EfdFlags, EventFd};
use nix::sys::socket::{
    AddressFamily, Backlog, SockFlag, SockType, listen, setsockopt, socket, sockopt,
};

/// Size requested for each relay pipe. 1 MiB is the default
/// `/proc/sys/fs/pipe-max-size`, so root always gets it; unprivileged users
/// may be refused, and then keep the 64 KiB default.
pub const PIPE_SIZE: usize = 1 << 20;

/// A level-triggered "stop now" event for the serving loops.
///
/// It wraps an eventfd: once [`Stop::trigger`] is called it stays readable, so
/// any number of loops polling it all see it.
#[derive(Debug)]
pub struct Stop(EventFd);

impl Stop {
    /// Creates an untriggered stop event.
    pub fn new() -> io::Result<Self> {
        Ok(Stop(EventFd::from_flags(
            EfdFlags::EFD_CLOEXEC | EfdFlags::EFD_NONBLOCK,
        )?))
    }

    /// Makes every loop polling this event return.
    pub fn trigger(&self) {
        if let Err(e) = self.0.write(1) {
            eprintln!("docker-proxy: stop event: {e}");
        }
    }
}

impl AsFd for Stop {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.0.as_fd()
    }
}

/// Binds a TCP listener the way Go's `net.Listen` does (`SO_REUSEADDR`,
/// `IPV6_V6ONLY` for IPv6, backlog `SOMAXCONN`), returning Go's error text on
/// failure, e.g. `listen tcp4 0.0.0.0:8080: bind: address already in use`.
pub fn bind_tcp(addr: SocketAddr) -> Result<TcpListener, String> {
    let fd = bound_socket(addr, SockType::Stream, "tcp")?;
    listen(&fd, Backlog::MAXCONN).map_err(|e| go_err("tcp", addr, "listen", e))?;
    Ok(TcpListener::from(fd))
}

/// Binds a UDP socket the way Go's `net.ListenUDP` does, with Go's error text
/// on failure, e.g. `listen udp4 0.0.0.0:53: bind: address already in use`.
pub fn bind_udp(addr: SocketAddr) -> Result<UdpSocket, String> {
    Ok(UdpSocket::from(bound_socket(
        addr,
        SockType::Datagram,
        "udp",
    )?))
}

fn bound_socket(addr: SocketAddr, ty: SockType, proto: &str) -> Result<OwnedFd, String> {
    let family = match addr {
        SocketAddr::V4(_) => AddressFamily::Inet,
        SocketAddr::V6(_) => AddressFamily::Inet6,
    };
    let flags = SockFlag::SOCK_CLOEXEC | SockFlag::SOCK_NONBLOCK;
    let fd = socket(family, ty, flags, None).map_err(|e| go_err(proto, addr, "socket", e))?;
    if ty == SockType::Stream {
        // Go sets SO_REUSEADDR on every listener so a restarted proxy can bind
        // while old connections sit in TIME_WAIT.
        setsockopt(&fd, sockopt::ReuseAddr, &true)
            .map_err(|e| go_err(proto, addr, "setsockopt", e))?;
    }
    if addr.is_ipv6() {
        // Docker publishes IPv4 and IPv6 with separate proxies; a dual-stack
        // `[::]` socket would steal the IPv4 port from the IPv4 proxy.
        set_v6only(&fd).map_err(|e| go_err(proto, addr, "setsockopt", e))?;
    }
    bind_or_connect(&fd, addr, false).map_err(|e| go_err(proto, addr, "bind", e))?;
    Ok(fd)
}

fn set_v6only(fd: &OwnedFd) -> Result<(), Errno> {
    let on: libc::c_int = 1;
    // SAFETY: the option value points at a live c_int of the length given.
    let r = unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            libc::IPPROTO_IPV6,
            libc::IPV6_V6ONLY,
            (&raw const on).cast(),
            size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    Errno::result(r).map(drop)
}

/// `bind(2)` or `connect(2)` to a std address (nix only converts std
/// addresses with its `net` feature, which this module does without).
pub fn bind_or_connect(fd: &OwnedFd, addr: SocketAddr, connect: bool) -> Result<(), Errno> {
    let call = if connect { libc::connect } else { libc::bind };
    let r = match addr {
        SocketAddr::V4(a) => {
            let sa = libc::sockaddr_in {
                sin_family: libc::AF_INET as libc::sa_family_t,
                sin_port: a.port().to_be(),
                sin_addr: libc::in_addr {
                    s_addr: u32::from_ne_bytes(a.ip().octets()),
                },
                sin_zero: [0; 8],
            };
            let len = size_of::<libc::sockaddr_in>() as libc::socklen_t;
            // SAFETY: `sa` is a fully initialized sockaddr_in of `len` bytes
            // that outlives the call.
            unsafe { call(fd.as_raw_fd(), (&raw const sa).cast(), len) }
        }
        SocketAddr::V6(a) => {
            let sa = libc::sockaddr_in6 {
                sin6_family: libc::AF_INET6 as libc::sa_family_t,
                sin6_port: a.port().to_be(),
                sin6_flowinfo: a.flowinfo(),
                sin6_addr: libc::in6_addr {
                    s6_addr: a.ip().octets(),
                },
                sin6_scope_id: a.scope_id(),
            };
            let len = size_of::<libc::sockaddr_in6>() as libc::socklen_t;
            // SAFETY: as above, for sockaddr_in6.
            unsafe { call(fd.as_raw_fd(), (&raw const sa).cast(), len) }
        }
    };
    Errno::result(r).map(drop)
}

/// Formats an error as Go's `net.OpError` prints it.
fn go_err(proto: &str, addr: SocketAddr, syscall: &str, e: Errno) -> String {
    let v = if addr.is_ipv4() { "4" } else { "6" };
    format!("listen {proto}{v} {addr}: {syscall}: {}", errno_text(e))
}

/// Go spells errno strings like glibc but starting lower-case.
pub fn errno_text(e: Errno) -> String {
    let desc = e.desc();
    let mut chars = desc.chars();
    match chars.next() {
        Some(c) => c.to_lowercase().chain(chars).collect(),
        None => desc.to_string(),
    }
}

/// The write end of the readiness pipe (`-ready-fd`).
#[derive(Debug)]
pub struct ReadyFd(OwnedFd);

impl ReadyFd {
    /// Takes ownership of `fd`, which the parent handed us on the command line.
    pub fn take(fd: RawFd) -> Result<Self, String> {
        // Refuse fds that are not open rather than later closing whatever
        // the process opens under that number.
        fcntl(
            // SAFETY: the borrow only lives for this F_GETFD probe, which
            // accepts any integer and fails with EBADF for a closed one.
            unsafe { BorrowedFd::borrow_raw(fd) },
            FcntlArg::F_GETFD,
        )
        .map_err(|e| format!("invalid -ready-fd {fd}: {}", errno_text(e)))?;
        // SAFETY: the fd is open (checked above) and was given to this process
        // for the proxy to own; nothing else here uses or closes it.
        Ok(ReadyFd(unsafe { OwnedFd::from_raw_fd(fd) }))
    }

    /// Reports success (`"0\n"`) and closes the fd.
    pub fn ready(self) {
        self.send(b"0\n");
    }

    /// Reports failure (`"1\n<error>"`) and closes the fd.
    pub fn fail(self, msg: &str) {
        self.send(format!("1\n{msg}").as_bytes());
    }

    fn send(self, msg: &[u8]) {
        let mut f = std::fs::File::from(self.0);
        if let Err(e) = f.write_all(msg) {
            eprintln!("docker-proxy: writing to ready fd: {e}");
        }
    }
}

/// Ignores SIGPIPE for the whole process.
///
/// `splice(2)` into a socket has no MSG_NOSIGNAL equivalent, so a peer that
/// reset its connection would otherwise kill the proxy with SIGPIPE instead
/// of returning EPIPE. Rust binaries already do this before `main`; doing it
/// again keeps the module safe when embedded elsewhere.
pub fn ignore_sigpipe() {
    // SAFETY: setting a signal to SIG_IGN installs no handler code, so it
    // cannot violate async-signal-safety; it is idempotent.
    unsafe { libc::signal(libc::SIGPIPE, libc::SIG_IGN) };
}

/// A non-blocking pipe used as the kernel-side buffer of one relay direction.
#[derive(Debug)]
pub struct Pipe {
    /// Read end.
    pub r: OwnedFd,
    /// Write end.
    pub w: OwnedFd,
    /// Capacity in bytes, as the kernel granted it.
    pub cap: usize,
}

impl Pipe {
    /// Creates a pipe and tries to grow it to [`PIPE_SIZE`].
    pub fn new() -> io::Result<Self> {
        let (r, w) = nix::unistd::pipe2(OFlag::O_CLOEXEC | OFlag::O_NONBLOCK)?;
        // Growing can fail with EPERM once an unprivileged user holds more
        // than pipe-user-pages-soft worth of pipes; the 64 KiB default still
        // works, just with more wakeups, so keep whatever we got.
        let cap = match fcntl(&w, FcntlArg::F_SETPIPE_SZ(PIPE_SIZE as libc::c_int)) {
            Ok(n) => n as usize,
            Err(_) => fcntl(&w, FcntlArg::F_GETPIPE_SZ).map_or(1 << 16, |n| n as usize),
        };
        Ok(Pipe { r, w, cap })
    }
}

/// `splice(2)` between two fds (one must be a pipe), never blocking on the pipe.
///
/// `SPLICE_F_MOVE` asks for page moves instead of copies. `more` adds
/// `SPLICE_F_MORE`, which becomes MSG_MORE on a socket: TCP then holds a
/// partial segment back (like TCP_CORK) waiting for more data, which would
/// stall request/response traffic by up to 200 ms. So callers pass it only
/// when splicing *into* the pipe, where it is harmless; the kernel already
/// sets MSG_MORE on its own while the pipe holds more than one send's worth.
pub fn splice(
    from: BorrowedFd<'_>,
    to: BorrowedFd<'_>,
    len: usize,
    more: bool,
) -> io::Result<usize> {
    let mut flags = libc::SPLICE_F_MOVE | libc::SPLICE_F_NONBLOCK;
    if more {
        flags |= libc::SPLICE_F_MORE;
    }
    // SAFETY: both fds are open for the duration of the call (borrowed), the
    // offsets are null (pipes and sockets have no file offset), and splice
    // does not touch user memory.
    let n = unsafe {
        libc::splice(
            from.as_raw_fd(),
            std::ptr::null_mut(),
            to.as_raw_fd(),
            std::ptr::null_mut(),
            len,
            flags,
        )
    };
    if n < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(n as usize)
    }
}
