//! One direction of a TCP relay: socket → pipe → socket with `splice(2)`,
//! small reads copied directly, or socket → buffer → socket where splice is
//! refused.

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::os::fd::AsFd;
use std::sync::atomic::{AtomicBool, Ordering};

use super::sys::{Pipe, splice};

/// Buffer size of the read/write fallback.
pub(super) const COPY_BUF: usize = 256 * 1024;

/// Reads of up to this size are copied straight through user space.
///
/// For a few bytes, socket → pipe → socket costs more than read + write
/// (page references and pipe bookkeeping instead of one small memcpy):
/// measured on loopback, short request/response connections ran ~25%
/// faster copied. A read that fills this buffer means bulk data, and the
/// direction switches to splice for good. 8 KiB also fits any empty pipe
/// (at least 2 pages even under pipe-user-pages-soft), where a destination
/// that took only part of it parks the rest.
pub(super) const SMALL_READ: usize = 8 * 1024;

/// Per-loop resources shared by all connections: idle pipes and fallback
/// buffers kept for reuse (creating and growing a pipe costs three syscalls
/// and a fresh 256 KiB buffer an mmap plus page faults, which adds up at
/// 10k connections/s), and the scratch buffer for small reads.
#[derive(Debug)]
pub(super) struct PipePool {
    free: Vec<Pipe>,
    bufs: Vec<Vec<u8>>,
    max: usize,
    scratch: Vec<u8>,
}

impl PipePool {
    /// A pool holding at most `max` idle pipes and `max / 4` idle buffers.
    pub fn new(max: usize) -> Self {
        PipePool {
            free: Vec::new(),
            bufs: Vec::new(),
            max,
            scratch: vec![0; SMALL_READ],
        }
    }

    fn get(&mut self) -> io::Result<Pipe> {
        match self.free.pop() {
            Some(p) => Ok(p),
            None => Pipe::new(),
        }
    }

    fn put(&mut self, p: Pipe) {
        if self.free.len() < self.max {
            self.free.push(p);
        }
    }

    fn get_buf(&mut self, min: usize) -> Vec<u8> {
        match self.bufs.pop() {
            Some(b) if b.len() >= min => b,
            _ => vec![0; COPY_BUF.max(min)],
        }
    }

    fn put_buf(&mut self, b: Vec<u8>) {
        if self.bufs.len() < self.max / 4 && b.len() == COPY_BUF {
            self.bufs.push(b);
        }
    }

    /// Reads once from `src` into the scratch buffer and writes it on to
    /// `dst`; what `dst` does not take is parked in `pipe` (taken from the
    /// pool if needed). Returns the bytes read (0 at EOF).
    fn relay_small(
        &mut self,
        src: &TcpStream,
        dst: &TcpStream,
        d: &mut Ready,
        pipe: &mut Option<Pipe>,
        len: &mut usize,
    ) -> io::Result<usize> {
        let n = (&*src).read(&mut self.scratch)?;
        let mut m = 0;
        if n > 0 && d.wr {
            match (&*dst).write(&self.scratch[..n]) {
                Ok(k) => m = k,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => d.wr = false,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        if m < n {
            let p = match pipe {
                Some(p) => p,
                None => pipe.insert(self.get()?),
            };
            let mut parked = m;
            while parked < n {
                match nix::unistd::write(&p.w, &self.scratch[parked..n]) {
                    Ok(k) => parked += k,
                    Err(nix::errno::Errno::EINTR) => {}
                    // Not EAGAIN as such: the caller would take it for an
                    // empty source and forget the bytes just read.
                    Err(e) => return Err(io::Error::other(format!("parking in pipe: {e}"))),
                }
            }
            *len += n - m;
        }
        Ok(n)
    }
}

#[derive(Debug)]
enum Stage {
    /// `len` bytes sit in the pipe, which is taken when first needed.
    /// While `small`, reads into an empty pipe go through the scratch buffer.
    Pipe {
        pipe: Option<Pipe>,
        len: usize,
        small: bool,
    },
    /// `buf[start..end]` is pending.
    Copy {
        buf: Vec<u8>,
        start: usize,
        end: usize,
    },
}

/// Edge-triggered readiness of one socket, as far as we know.
#[derive(Debug, Clone, Copy)]
pub(super) struct Ready {
    /// Reading might not return EAGAIN.
    pub rd: bool,
    /// Writing might not return EAGAIN.
    pub wr: bool,
}

impl Ready {
    /// Assume both until the kernel says otherwise.
    pub const ALL: Ready = Ready { rd: true, wr: true };
}

/// State of one relay direction.
#[derive(Debug)]
pub(super) struct Half {
    stage: Stage,
    /// The source returned EOF.
    eof: bool,
    /// EOF was passed on with `shutdown(SHUT_WR)`: this direction is over.
    shut: bool,
}

static FALLBACK_LOGGED: AtomicBool = AtomicBool::new(false);

impl Half {
    /// A direction that has moved nothing yet.
    pub fn new() -> Self {
        Half {
            stage: Stage::Pipe {
                pipe: None,
                len: 0,
                small: true,
            },
            eof: false,
            shut: false,
        }
    }

    /// Whether EOF has been passed on.
    pub fn done(&self) -> bool {
        self.shut
    }

    /// Gives an empty pipe or buffer back to the pool.
    pub fn recycle(self, pool: &mut PipePool) {
        match self.stage {
            Stage::Pipe {
                pipe: Some(pipe),
                len: 0,
                ..
            } => pool.put(pipe),
            Stage::Copy { buf, .. } => pool.put_buf(buf),
            _ => {}
        }
    }

    /// Bytes read but not yet written on.
    pub fn pending(&self) -> usize {
        match &self.stage {
            Stage::Pipe { len, .. } => *len,
            Stage::Copy { start, end, .. } => end - start,
        }
    }

    /// Moves data from `src` to `dst` until both would block, the pipe is
    /// full and `dst` would block, or EOF has been passed on.
    pub fn pump(
        &mut self,
        src: &TcpStream,
        s: &mut Ready,
        dst: &TcpStream,
        d: &mut Ready,
        pool: &mut PipePool,
    ) -> io::Result<()> {
        if self.shut {
            return Ok(());
        }
        loop {
            let mut progress = false;
            if !self.eof && s.rd {
                match self.fill(src, dst, d, pool) {
                    Ok(Some(0)) => {
                        self.eof = true;
                        progress = true;
                    }
                    Ok(Some(_)) => progress = true,
                    // Full: the socket may still hold data; the flush below
                    // makes room and the loop comes back.
                    Ok(None) => {}
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                        // With a non-empty pipe, EAGAIN may mean "pipe slots
                        // full" (a pipe of N pages holds N skb fragments, not
                        // N pages of bytes), so the socket may still hold
                        // data that no new edge will announce: retry later.
                        s.rd = self.pending() > 0;
                    }
                    Err(e) if is_splice_unsupported(&e) && self.is_splice() => {
                        self.switch_to_copy(pool)?;
                        progress = true;
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => progress = true,
                    Err(e) => return Err(e),
                }
            }
            if self.pending() > 0 && d.wr {
                match self.flush(dst) {
                    Ok(_) => progress = true,
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => d.wr = false,
                    Err(e) if is_splice_unsupported(&e) && self.is_splice() => {
                        self.switch_to_copy(pool)?;
                        progress = true;
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => progress = true,
                    Err(e) => return Err(e),
                }
            }
            if self.eof && self.pending() == 0 {
                match dst.shutdown(Shutdown::Write) {
                    // The peer may have reset already; the other direction
                    // will see that error itself.
                    Err(e) if e.kind() != io::ErrorKind::NotConnected => return Err(e),
                    _ => {}
                }
                self.shut = true;
                return Ok(());
            }
            if !progress {
                return Ok(());
            }
        }
    }

    fn is_splice(&self) -> bool {
        matches!(self.stage, Stage::Pipe { .. })
    }

    /// Reads into the pipe/buffer (small reads go on to `dst` at once):
    /// `Some(0)` at EOF, `None` when full.
    fn fill(
        &mut self,
        src: &TcpStream,
        dst: &TcpStream,
        d: &mut Ready,
        pool: &mut PipePool,
    ) -> io::Result<Option<usize>> {
        match &mut self.stage {
            Stage::Pipe { pipe, len, small } => {
                // Only into an empty pipe, so bytes cannot overtake parked ones.
                if *small && *len == 0 {
                    let n = pool.relay_small(src, dst, d, pipe, len)?;
                    *small = n < SMALL_READ;
                    return Ok(Some(n));
                }
                let p = match pipe {
                    Some(p) => p,
                    None => pipe.insert(pool.get()?),
                };
                let room = p.cap - *len;
                if room == 0 {
                    return Ok(None);
                }
                let n = splice(src.as_fd(), p.w.as_fd(), room, true)?;
                *len += n;
                Ok(Some(n))
            }
            Stage::Copy { buf, start, end } => {
                if start == end {
                    (*start, *end) = (0, 0);
                }
                if *end == buf.len() {
                    return Ok(None);
                }
                let n = (&*src).read(&mut buf[*end..])?;
                *end += n;
                Ok(Some(n))
            }
        }
    }

    fn flush(&mut self, dst: &TcpStream) -> io::Result<usize> {
        match &mut self.stage {
            Stage::Pipe { pipe: None, .. } => Ok(0),
            Stage::Pipe {
                pipe: Some(pipe),
                len,
                ..
            } => {
                let n = splice(pipe.r.as_fd(), dst.as_fd(), *len, false)?;
                *len -= n;
                Ok(n)
            }
            Stage::Copy { buf, start, end } => {
                let n = (&*dst).write(&buf[*start..*end])?;
                *start += n;
                Ok(n)
            }
        }
    }

    /// Switches to the read/write fallback, keeping bytes already in the pipe.
    fn switch_to_copy(&mut self, pool: &mut PipePool) -> io::Result<()> {
        if !FALLBACK_LOGGED.swap(true, Ordering::Relaxed) {
            eprintln!("docker-proxy: splice refused (EINVAL), falling back to read/write");
        }
        let empty = Stage::Pipe {
            pipe: None,
            len: 0,
            small: false,
        };
        let Stage::Pipe { pipe, len, .. } = std::mem::replace(&mut self.stage, empty) else {
            return Ok(());
        };
        let mut buf = pool.get_buf(len);
        let mut end = 0;
        if let Some(pipe) = pipe {
            let mut r = std::fs::File::from(pipe.r);
            while end < len {
                match r.read(&mut buf[end..len])? {
                    0 => break,
                    n => end += n,
                }
            }
        }
        self.stage = Stage::Copy { buf, start: 0, end };
        Ok(())
    }

    /// Uses the read/write fallback from the start.
    pub fn force_copy(&mut self, pool: &mut PipePool) {
        self.stage = Stage::Copy {
            buf: pool.get_buf(0),
            start: 0,
            end: 0,
        };
    }
}

/// splice(2) answers EINVAL when neither end supports it (e.g. some socket
/// types or a kTLS socket); that is the only error worth a fallback.
fn is_splice_unsupported(e: &io::Error) -> bool {
    e.raw_os_error() == Some(libc::EINVAL)
}
