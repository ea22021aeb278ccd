//! UDP in batches: `recvmmsg(2)` reads up to [`BATCH`] queries in one system call and
//! `sendmmsg(2)` sends their answers in one, which is what lets one thread keep up
//! with a client that has a hundred queries outstanding.

use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::os::fd::RawFd;

/// Queries read per system call.
pub const BATCH: usize = 32;
/// Largest datagram we read (EDNS clients may send up to this).
const MAX_DATAGRAM: usize = 4096;

/// Buffers for one batch of received datagrams, with the `mmsghdr`s that point into
/// them set up once: the vectors are never resized, so their heap storage (and the
/// pointers into it) stays put when the `Batch` itself moves.
pub struct Batch {
    bufs: Vec<[u8; MAX_DATAGRAM]>,
    addrs: Vec<libc::sockaddr_in>,
    iovs: Vec<libc::iovec>,
    hdrs: Vec<libc::mmsghdr>,
}

// SAFETY: the raw pointers only point into the Batch's own heap buffers.
unsafe impl Send for Batch {}

impl Default for Batch {
    fn default() -> Self {
        Batch::new()
    }
}

impl Batch {
    /// Empty buffers for [`BATCH`] datagrams.
    pub fn new() -> Batch {
        let mut bufs = vec![[0u8; MAX_DATAGRAM]; BATCH];
        // SAFETY: sockaddr_in is plain old data; all zeroes is a valid value.
        let mut addrs: Vec<libc::sockaddr_in> = vec![unsafe { std::mem::zeroed() }; BATCH];
        let mut iovs: Vec<libc::iovec> = bufs
            .iter_mut()
            .map(|buf| libc::iovec {
                iov_base: buf.as_mut_ptr().cast(),
                iov_len: MAX_DATAGRAM,
            })
            .collect();
        // SAFETY: mmsghdr is plain old data; the pointers are set just below.
        let mut hdrs: Vec<libc::mmsghdr> = vec![unsafe { std::mem::zeroed() }; BATCH];
        for (i, h) in hdrs.iter_mut().enumerate() {
            h.msg_hdr.msg_name = (&mut addrs[i] as *mut libc::sockaddr_in).cast();
            h.msg_hdr.msg_iov = &mut iovs[i];
            h.msg_hdr.msg_iovlen = 1;
        }
        Batch {
            bufs,
            addrs,
            iovs,
            hdrs,
        }
    }

    /// How many datagrams one call reads at most.
    pub fn capacity(&self) -> usize {
        BATCH
    }

    /// The sender and bytes of datagram `i` of the last [`recv_batch`].
    pub fn message(&self, i: usize) -> (SocketAddr, &[u8]) {
        let a = &self.addrs[i];
        let addr = SocketAddr::V4(SocketAddrV4::new(
            Ipv4Addr::from(u32::from_be(a.sin_addr.s_addr)),
            u16::from_be(a.sin_port),
        ));
        let len = (self.hdrs[i].msg_len as usize).min(self.iovs[i].iov_len);
        (addr, &self.bufs[i][..len])
    }
}

/// Read what is waiting on a non-blocking socket, up to [`BATCH`] datagrams; 0 when
/// nothing is.
pub fn recv_batch(fd: RawFd, b: &mut Batch) -> usize {
    for h in b.hdrs.iter_mut() {
        // The kernel overwrites the name length with the sender's: reset it.
        h.msg_hdr.msg_namelen = std::mem::size_of::<libc::sockaddr_in>() as u32;
        h.msg_len = 0;
    }
    // SAFETY: every header points at live buffers of the stated sizes (see Batch::new).
    let n = unsafe {
        libc::recvmmsg(
            fd,
            b.hdrs.as_mut_ptr(),
            BATCH as u32,
            libc::MSG_DONTWAIT,
            std::ptr::null_mut(),
        )
    };
    if n <= 0 { 0 } else { n as usize }
}

/// Send each reply to its address in as few system calls as the kernel allows.
pub fn send_batch(fd: RawFd, replies: &[(SocketAddr, Vec<u8>)]) {
    if replies.is_empty() {
        return;
    }
    let mut addrs: Vec<libc::sockaddr_in> = replies
        .iter()
        .map(|(a, _)| {
            // SAFETY: plain old data.
            let mut s: libc::sockaddr_in = unsafe { std::mem::zeroed() };
            s.sin_family = libc::AF_INET as libc::sa_family_t;
            if let SocketAddr::V4(v4) = a {
                s.sin_port = v4.port().to_be();
                s.sin_addr.s_addr = u32::from(*v4.ip()).to_be();
            }
            s
        })
        .collect();
    let mut iovs: Vec<libc::iovec> = replies
        .iter()
        .map(|(_, b)| libc::iovec {
            iov_base: b.as_ptr() as *mut libc::c_void,
            iov_len: b.len(),
        })
        .collect();
    // SAFETY: plain old data, pointers set below.
    let mut hdrs: Vec<libc::mmsghdr> = vec![unsafe { std::mem::zeroed() }; replies.len()];
    for (i, h) in hdrs.iter_mut().enumerate() {
        h.msg_hdr.msg_name = (&mut addrs[i] as *mut libc::sockaddr_in).cast();
        h.msg_hdr.msg_namelen = std::mem::size_of::<libc::sockaddr_in>() as u32;
        h.msg_hdr.msg_iov = &mut iovs[i];
        h.msg_hdr.msg_iovlen = 1;
    }
    let mut sent = 0;
    while sent < hdrs.len() {
        // SAFETY: the headers from `sent` on point at live buffers.
        let n = unsafe {
            libc::sendmmsg(
                fd,
                hdrs[sent..].as_mut_ptr(),
                (hdrs.len() - sent) as u32,
                libc::MSG_DONTWAIT,
            )
        };
        if n <= 0 {
            // A full send buffer: the rest is lost, as a datagram may be; the
            // clients ask again.
            return;
        }
        sent += n as usize;
    }
}
