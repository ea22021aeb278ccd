//! The probe: one ICMP echo, one TCP connection attempt or one UDP datagram, sent from
//! a socket made inside the source namespace (no `ping` or `nc` process), from a port /
//! echo id of our choosing so that the trace rules match its packets only.

use super::arm::Flow;
use crate::error::{Error, Result};
use serde::Serialize;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::os::fd::AsRawFd;
use std::path::Path;
use std::time::{Duration, Instant};

/// What the probe is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase", tag = "proto", content = "port")]
pub enum Kind {
    /// An ICMP echo request (ping).
    Icmp,
    /// A TCP connection attempt to this port.
    Tcp(u16),
    /// A UDP datagram to this port.
    Udp(u16),
}

/// How it ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Answer {
    /// An echo reply, a completed handshake, or a UDP answer.
    Answered,
    /// A TCP reset or an ICMP port unreachable: something said no.
    Refused,
    /// The kernel had no route (or the neighbour did not answer ARP).
    Unreachable(String),
    /// Nothing came back in time.
    Timeout,
}

/// The probe's own port or echo id, picked at random in 40000–59999.
pub fn pick_port() -> u16 {
    40000 + (crate::util::random_u64() % 20000) as u16
}

/// The flow the trace rules match for a probe from port / id `ours`.
pub fn flow(kind: Kind, ours: u16) -> Flow {
    match kind {
        Kind::Icmp => Flow::Icmp(ours),
        Kind::Tcp(_) => Flow::Tcp(ours),
        Kind::Udp(_) => Flow::Udp(ours),
    }
}

/// Send the probe from the namespace at `ns` (from `src` if given) to `dst`.
pub fn send(
    ns: &Path,
    kind: Kind,
    src: Option<Ipv4Addr>,
    dst: Ipv4Addr,
    ours: u16,
    wait: Duration,
) -> Result<Answer> {
    crate::netns::in_netns(ns, move || match kind {
        Kind::Icmp => icmp(src, dst, ours, wait),
        Kind::Tcp(port) => tcp(src, SocketAddrV4::new(dst, port), ours, wait),
        Kind::Udp(port) => udp(src, SocketAddrV4::new(dst, port), ours, wait),
    })?
}

fn io_answer(e: &std::io::Error) -> Option<Answer> {
    match e.raw_os_error() {
        Some(libc::ECONNREFUSED) => Some(Answer::Refused),
        Some(libc::EHOSTUNREACH) | Some(libc::ENETUNREACH) => {
            Some(Answer::Unreachable(e.to_string()))
        }
        Some(libc::ETIMEDOUT) | Some(libc::EAGAIN) => Some(Answer::Timeout),
        _ => None,
    }
}

fn udp(src: Option<Ipv4Addr>, dst: SocketAddrV4, ours: u16, wait: Duration) -> Result<Answer> {
    let sock = std::net::UdpSocket::bind((src.unwrap_or(Ipv4Addr::UNSPECIFIED), ours))
        .map_err(|e| Error::msg(format!("binding the probe's UDP port {ours}: {e}")))?;
    let _ = sock.set_read_timeout(Some(wait));
    if let Err(e) = sock
        .connect(dst)
        .and_then(|_| sock.send(b"dockernet trace\n"))
    {
        return io_answer(&e).ok_or_else(|| Error::msg(format!("sending to {dst}: {e}")));
    }
    let mut buf = [0u8; 512];
    Ok(match sock.recv(&mut buf) {
        Ok(_) => Answer::Answered,
        Err(e) => io_answer(&e).unwrap_or(Answer::Timeout),
    })
}

fn tcp(src: Option<Ipv4Addr>, dst: SocketAddrV4, ours: u16, wait: Duration) -> Result<Answer> {
    use nix::sys::socket::{
        AddressFamily, SockFlag, SockType, SockaddrIn, bind, connect, getsockopt, setsockopt,
        socket, sockopt,
    };
    let fd = socket(
        AddressFamily::Inet,
        SockType::Stream,
        SockFlag::SOCK_NONBLOCK | SockFlag::SOCK_CLOEXEC,
        None,
    )
    .map_err(|e| Error::msg(format!("a TCP socket for the probe: {e}")))?;
    let _ = setsockopt(&fd, sockopt::ReuseAddr, &true);
    bind(
        fd.as_raw_fd(),
        &SockaddrIn::from(SocketAddrV4::new(
            src.unwrap_or(Ipv4Addr::UNSPECIFIED),
            ours,
        )),
    )
    .map_err(|e| Error::msg(format!("binding the probe's TCP port {ours}: {e}")))?;
    match connect(fd.as_raw_fd(), &SockaddrIn::from(dst)) {
        Ok(()) => return Ok(Answer::Answered),
        Err(nix::errno::Errno::EINPROGRESS) => {}
        Err(e) => {
            let e = std::io::Error::from_raw_os_error(e as i32);
            return io_answer(&e).ok_or_else(|| Error::msg(format!("connecting to {dst}: {e}")));
        }
    }
    let mut pfd = libc::pollfd {
        fd: fd.as_raw_fd(),
        events: libc::POLLOUT,
        revents: 0,
    };
    // SAFETY: poll(2) on one pollfd we own.
    let r = unsafe { libc::poll(&mut pfd, 1, wait.as_millis() as libc::c_int) };
    if r <= 0 {
        return Ok(Answer::Timeout);
    }
    let err = getsockopt(&fd, sockopt::SocketError).unwrap_or(0);
    if err == 0 {
        return Ok(Answer::Answered);
    }
    let e = std::io::Error::from_raw_os_error(err);
    Ok(io_answer(&e).unwrap_or(Answer::Unreachable(e.to_string())))
}

fn checksum(b: &[u8]) -> u16 {
    let mut sum: u32 = 0;
    for c in b.chunks(2) {
        let w = if c.len() == 2 {
            u16::from_be_bytes([c[0], c[1]])
        } else {
            u16::from_be_bytes([c[0], 0])
        };
        sum += w as u32;
    }
    while sum >> 16 != 0 {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// An echo request on a raw socket (we are root; a ping socket would need
/// `ping_group_range` changed in the container), waiting for the reply with our id.
fn icmp(src: Option<Ipv4Addr>, dst: Ipv4Addr, id: u16, wait: Duration) -> Result<Answer> {
    use nix::sys::socket::{
        AddressFamily, MsgFlags, SockFlag, SockProtocol, SockType, SockaddrIn, bind, recv, sendto,
        socket,
    };
    let fd = socket(
        AddressFamily::Inet,
        SockType::Raw,
        SockFlag::SOCK_CLOEXEC,
        SockProtocol::Icmp,
    )
    .map_err(|e| Error::msg(format!("a raw ICMP socket for the probe: {e}")))?;
    if let Some(s) = src {
        bind(fd.as_raw_fd(), &SockaddrIn::from(SocketAddrV4::new(s, 0)))
            .map_err(|e| Error::msg(format!("binding the probe to {s}: {e}")))?;
    }
    let mut pkt = vec![8u8, 0, 0, 0];
    pkt.extend_from_slice(&id.to_be_bytes());
    pkt.extend_from_slice(&1u16.to_be_bytes());
    pkt.extend_from_slice(b"dockernet trace!");
    let sum = checksum(&pkt);
    pkt[2..4].copy_from_slice(&sum.to_be_bytes());
    if let Err(e) = sendto(
        fd.as_raw_fd(),
        &pkt,
        &SockaddrIn::from(SocketAddrV4::new(dst, 0)),
        MsgFlags::empty(),
    ) {
        let e = std::io::Error::from_raw_os_error(e as i32);
        return io_answer(&e).ok_or_else(|| Error::msg(format!("sending to {dst}: {e}")));
    }
    let deadline = Instant::now() + wait;
    let mut buf = [0u8; 1500];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Ok(Answer::Timeout);
        }
        let mut pfd = libc::pollfd {
            fd: fd.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: poll(2) on one pollfd we own.
        if unsafe { libc::poll(&mut pfd, 1, left.as_millis().max(1) as libc::c_int) } <= 0 {
            return Ok(Answer::Timeout);
        }
        let Ok(n) = recv(fd.as_raw_fd(), &mut buf, MsgFlags::MSG_DONTWAIT) else {
            continue;
        };
        // A raw socket hands over the IP header too.
        let ihl = ((buf[0] & 0x0f) as usize) * 4;
        let icmp = &buf[ihl.min(n)..n];
        if icmp.len() >= 8 && u16::from_be_bytes([icmp[4], icmp[5]]) == id && icmp[0] == 0 {
            return Ok(Answer::Answered);
        }
        // An error about our echo carries its header after the error's own.
        if icmp.len() >= 36 && matches!(icmp[0], 3 | 11) {
            let inner = &icmp[8..];
            let ihl2 = ((inner[0] & 0x0f) as usize) * 4;
            if inner.len() >= ihl2 + 8
                && u16::from_be_bytes([inner[ihl2 + 4], inner[ihl2 + 5]]) == id
            {
                return Ok(Answer::Unreachable(format!(
                    "ICMP {} from {}",
                    if icmp[0] == 3 {
                        "destination unreachable"
                    } else {
                        "time exceeded"
                    },
                    Ipv4Addr::new(buf[12], buf[13], buf[14], buf[15])
                )));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksum_of_an_echo_request() {
        // RFC 1071's example words sum to ddf2; the checksum is its complement.
        assert_eq!(
            checksum(&[0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]),
            !0xddf2
        );
        let mut pkt = vec![8u8, 0, 0, 0, 0x12, 0x34, 0, 1, b'x'];
        let s = checksum(&pkt);
        pkt[2..4].copy_from_slice(&s.to_be_bytes());
        assert_eq!(checksum(&pkt), 0);
    }

    #[test]
    fn ports_are_in_range() {
        for _ in 0..100 {
            assert!((40000..60000).contains(&pick_port()));
        }
    }
}
