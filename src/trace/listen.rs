//! One netlink socket that hears the nf_tables trace events of every namespace on a
//! probe's path, in the order the kernel emitted them.
//!
//! Trace events are broadcast inside the namespace the packet is in. A socket with
//! `NETLINK_LISTEN_ALL_NSID` also receives the broadcasts of every namespace its own
//! namespace has an id for, tagged with that id — one queue, hence one order, for the
//! whole path. The socket lives in an anonymous namespace made for it alone (nothing to
//! clean up: it dies with the socket, even after a `kill -9`), where the lab's
//! namespaces are given ids with `RTM_NEWNSID` (`ip netns set`), so no lab namespace
//! gets ids it did not have.

use super::event::{self, Event};
use crate::error::{Error, Result};
use std::fs::File;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::time::{Duration, Instant};

const SOL_NETLINK: libc::c_int = 270;
const NETLINK_ADD_MEMBERSHIP: libc::c_int = 1;
const NETLINK_LISTEN_ALL_NSID: libc::c_int = 8;
const NFNLGRP_NFTRACE: libc::c_int = 9;
const RTM_NEWNSID: u16 = 88;

/// An event and the namespace (by position in the list given to [`Listener::open`])
/// it happened in.
#[derive(Debug, Clone)]
pub struct Heard {
    /// Index into the namespaces given to [`Listener::open`].
    pub ns: usize,
    /// The event.
    pub event: Event,
}

/// The listening socket.
pub struct Listener {
    sock: OwnedFd,
    count: usize,
}

fn os_err(what: &str) -> Error {
    Error::msg(format!("{what}: {}", std::io::Error::last_os_error()))
}

fn socket(proto: libc::c_int) -> Result<OwnedFd> {
    // SAFETY: plain socket(2); the fd is owned at once.
    let fd = unsafe { libc::socket(libc::AF_NETLINK, libc::SOCK_RAW | libc::SOCK_CLOEXEC, proto) };
    if fd < 0 {
        return Err(os_err("netlink socket"));
    }
    // SAFETY: fd was just returned by socket(2) and is not owned elsewhere.
    let sock = unsafe { OwnedFd::from_raw_fd(fd) };
    // SAFETY: a zeroed sockaddr_nl is valid (port id 0: the kernel picks one).
    let mut addr: libc::sockaddr_nl = unsafe { std::mem::zeroed() };
    addr.nl_family = libc::AF_NETLINK as libc::sa_family_t;
    // A netlink socket hears broadcasts only once bound.
    // SAFETY: bind(2) with a sockaddr_nl on the stack, its size given.
    let r = unsafe {
        libc::bind(
            sock.as_raw_fd(),
            (&addr as *const libc::sockaddr_nl).cast(),
            std::mem::size_of::<libc::sockaddr_nl>() as libc::socklen_t,
        )
    };
    if r < 0 {
        return Err(os_err("binding a netlink socket"));
    }
    Ok(sock)
}

fn setsockopt_int(fd: RawFd, level: libc::c_int, opt: libc::c_int, v: libc::c_int) -> Result<()> {
    // SAFETY: the option value is a c_int on the stack, its size given.
    let r = unsafe {
        libc::setsockopt(
            fd,
            level,
            opt,
            (&v as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if r < 0 {
        return Err(os_err("setsockopt on the trace socket"));
    }
    Ok(())
}

fn nla(ty: u16, payload: &[u8]) -> Vec<u8> {
    let mut v = ((4 + payload.len()) as u16).to_ne_bytes().to_vec();
    v.extend_from_slice(&ty.to_ne_bytes());
    v.extend_from_slice(payload);
    while !v.len().is_multiple_of(4) {
        v.push(0);
    }
    v
}

/// `ip netns set`: give the namespace behind `ns` the id `id` in this thread's namespace.
fn assign_nsid(rt: &OwnedFd, ns: &File, id: i32, seq: u32) -> Result<()> {
    let mut body = vec![libc::AF_UNSPEC as u8, 0, 0, 0];
    body.extend(nla(1, &id.to_ne_bytes())); // NETNSA_NSID
    body.extend(nla(3, &(ns.as_raw_fd() as u32).to_ne_bytes())); // NETNSA_FD
    let mut msg = ((16 + body.len()) as u32).to_ne_bytes().to_vec();
    msg.extend_from_slice(&RTM_NEWNSID.to_ne_bytes());
    msg.extend_from_slice(&((libc::NLM_F_REQUEST | libc::NLM_F_ACK) as u16).to_ne_bytes());
    msg.extend_from_slice(&seq.to_ne_bytes());
    msg.extend_from_slice(&0u32.to_ne_bytes());
    msg.extend(body);
    // SAFETY: send(2) of a buffer we own.
    if unsafe { libc::send(rt.as_raw_fd(), msg.as_ptr().cast(), msg.len(), 0) } < 0 {
        return Err(os_err("RTM_NEWNSID"));
    }
    let mut buf = [0u8; 1024];
    // SAFETY: recv(2) into a buffer we own, its length given.
    let n = unsafe { libc::recv(rt.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len(), 0) };
    if n < 20 {
        return Err(os_err("RTM_NEWNSID answer"));
    }
    let code = i32::from_ne_bytes(buf[16..20].try_into().unwrap());
    if code != 0 {
        return Err(Error::msg(format!(
            "giving a namespace an id for tracing: {}",
            std::io::Error::from_raw_os_error(-code)
        )));
    }
    Ok(())
}

impl Listener {
    /// Subscribe to the trace events of `namespaces` (paths of namespace files).
    pub fn open(namespaces: &[std::path::PathBuf]) -> Result<Listener> {
        let files = namespaces
            .iter()
            .map(|p| crate::netns::open(p))
            .collect::<Result<Vec<_>>>()?;
        let count = files.len();
        let sock = std::thread::scope(|s| {
            s.spawn(move || -> Result<OwnedFd> {
                nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNET)
                    .map_err(|e| Error::msg(format!("a namespace for the trace listener: {e}")))?;
                let rt = socket(libc::NETLINK_ROUTE)?;
                for (i, f) in files.iter().enumerate() {
                    assign_nsid(&rt, f, i as i32, i as u32 + 1)?;
                }
                let sock = socket(libc::NETLINK_NETFILTER)?;
                let fd = sock.as_raw_fd();
                // Room for every event of a probe, read only after it.
                let _ = setsockopt_int(fd, libc::SOL_SOCKET, libc::SO_RCVBUFFORCE, 8 << 20);
                setsockopt_int(fd, SOL_NETLINK, NETLINK_LISTEN_ALL_NSID, 1)?;
                setsockopt_int(fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, NFNLGRP_NFTRACE)?;
                Ok(sock)
            })
            .join()
            .unwrap_or_else(|_| Err(Error::msg("trace listener thread panicked")))
        })?;
        Ok(Listener { sock, count })
    }

    /// Read what has arrived, waiting until nothing more came for `quiet`.
    pub fn drain(&self, quiet: Duration, limit: Duration) -> Vec<Heard> {
        let deadline = Instant::now() + limit;
        let mut out = Vec::new();
        let mut buf = vec![0u8; 1 << 16];
        let mut cbuf = [0u8; 64];
        while Instant::now() < deadline {
            let mut pfd = libc::pollfd {
                fd: self.sock.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            };
            // SAFETY: poll(2) on one pollfd we own.
            let r = unsafe { libc::poll(&mut pfd, 1, quiet.as_millis() as libc::c_int) };
            if r <= 0 {
                break;
            }
            let Some((n, nsid)) = self.recv(&mut buf, &mut cbuf) else {
                break;
            };
            let Some(ns) = nsid.filter(|&i| i >= 0 && (i as usize) < self.count) else {
                continue;
            };
            let mut rest = &buf[..n];
            while rest.len() >= 16 {
                let len = u32::from_ne_bytes(rest[0..4].try_into().unwrap()) as usize;
                if len < 16 || len > rest.len() {
                    break;
                }
                if let Some(event) = event::parse(&rest[..len]) {
                    out.push(Heard {
                        ns: ns as usize,
                        event,
                    });
                }
                rest = &rest[((len + 3) & !3).min(rest.len())..];
            }
        }
        out
    }

    /// One datagram and the namespace id of its `NETLINK_LISTEN_ALL_NSID` tag.
    fn recv(&self, buf: &mut [u8], cbuf: &mut [u8]) -> Option<(usize, Option<i32>)> {
        let mut iov = libc::iovec {
            iov_base: buf.as_mut_ptr().cast(),
            iov_len: buf.len(),
        };
        // SAFETY: a zeroed msghdr is valid; its pointers are set to buffers we own.
        let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        msg.msg_control = cbuf.as_mut_ptr().cast();
        msg.msg_controllen = cbuf.len() as _;
        // SAFETY: recvmsg(2) with the msghdr above.
        let n = unsafe { libc::recvmsg(self.sock.as_raw_fd(), &mut msg, libc::MSG_DONTWAIT) };
        if n < 0 {
            // ENOBUFS: events were lost; what is left is still worth showing.
            return (std::io::Error::last_os_error().raw_os_error() == Some(libc::ENOBUFS))
                .then_some((0, None));
        }
        let mut nsid = None;
        // SAFETY: CMSG_* walk the control buffer recvmsg filled, within msg_controllen.
        unsafe {
            let mut c = libc::CMSG_FIRSTHDR(&msg);
            while !c.is_null() {
                if (*c).cmsg_level == SOL_NETLINK && (*c).cmsg_type == NETLINK_LISTEN_ALL_NSID {
                    nsid = Some(std::ptr::read_unaligned(libc::CMSG_DATA(c).cast::<i32>()));
                }
                c = libc::CMSG_NXTHDR(&msg, c);
            }
        }
        Some((n as usize, nsid))
    }
}
