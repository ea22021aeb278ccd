//! A container's console, as conmon keeps it for Podman: the shim (or `__enter`, for
//! `exec -t`) owns the master side of a pty whose slave is the command's terminal. One
//! poll loop waits at once for its signals (a signalfd: the child's end, signals to
//! forward), the master's output (to the log and to every attached client), new attach
//! clients on a unix socket and what they send.
//!
//! Client → console: frames `[kind u8][len u32 LE][payload]`, kind 0 is input for the
//! terminal, kind 1 a window size (rows u16 LE, cols u16 LE). Console → client: the
//! terminal's output, raw; end of stream when the command has ended (its exit code is
//! written first).
//!
//! Runs single-threaded, before any runtime, in processes that may have been forked by
//! the lab host's init without an exec: it relies on nothing but its arguments.

use nix::sys::signal::{SigSet, Signal, kill};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::Pid;
use std::io::{Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::Path;

/// Frame kind: input for the terminal.
pub const FRAME_DATA: u8 = 0;
/// Frame kind: the client's window size.
pub const FRAME_RESIZE: u8 = 1;
/// At most this much output waits for the first client.
const BACKLOG_MAX: usize = 64 * 1024;
/// The attach socket's name in the container's directory.
pub const SOCKET_NAME: &str = "attach.sock";

/// A pty: the master stays with the console, the slave becomes the command's terminal.
pub struct Pty {
    /// The console's side.
    pub master: OwnedFd,
    /// The command's side (stdin, stdout, stderr and controlling terminal).
    pub slave: OwnedFd,
}

/// Open a pty, both ends close-on-exec (the command gets the slave by dup2, which
/// clears the flag on the copies).
pub fn open_pty() -> Result<Pty, String> {
    let ws = libc::winsize {
        ws_row: 24,
        ws_col: 80,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    let r = nix::pty::openpty(Some(&ws), None).map_err(|e| format!("openpty: {e}"))?;
    for fd in [r.master.as_raw_fd(), r.slave.as_raw_fd()] {
        // SAFETY: fcntl on descriptors we own.
        unsafe { libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) };
    }
    Ok(Pty {
        master: r.master,
        slave: r.slave,
    })
}

/// In PID 1: open a pty (in the container's /dev) and send its master to the shim over
/// `sock` (SCM_RIGHTS); the slave is returned for the command.
pub fn open_and_send(sock: &UnixStream) -> Result<OwnedFd, String> {
    use nix::sys::socket::{ControlMessage, MsgFlags, sendmsg};
    let pty = open_pty()?;
    let fds = [pty.master.as_raw_fd()];
    let iov = [std::io::IoSlice::new(b"m")];
    sendmsg::<()>(
        sock.as_raw_fd(),
        &iov,
        &[ControlMessage::ScmRights(&fds)],
        MsgFlags::empty(),
        None,
    )
    .map_err(|e| format!("handing the pty to the shim: {e}"))?;
    Ok(pty.slave)
}

/// In the shim: the master PID 1 sends (None if it ended first).
pub fn recv_fd(sock: &UnixStream) -> Option<OwnedFd> {
    use nix::sys::socket::{ControlMessageOwned, MsgFlags, recvmsg};
    let mut byte = [0u8; 1];
    let mut iov = [std::io::IoSliceMut::new(&mut byte)];
    let mut space = nix::cmsg_space!([RawFd; 1]);
    let msg = recvmsg::<()>(
        sock.as_raw_fd(),
        &mut iov,
        Some(&mut space),
        MsgFlags::MSG_CMSG_CLOEXEC,
    )
    .ok()?;
    for c in msg.cmsgs().ok()? {
        if let ControlMessageOwned::ScmRights(fds) = c
            && let Some(&fd) = fds.first()
        {
            // SAFETY: the kernel just gave us this descriptor.
            return Some(unsafe { OwnedFd::from_raw_fd(fd) });
        }
    }
    None
}

/// A path naming `name` in `dir` that fits a unix socket address (108 bytes): through
/// an O_PATH descriptor of the directory, as `/proc/self/fd/N/name`.
pub fn short_path(dir: &Path, name: &str) -> std::io::Result<(OwnedFd, String)> {
    use std::os::unix::fs::OpenOptionsExt;
    let f = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC)
        .open(dir)?;
    let fd = OwnedFd::from(f);
    let path = format!("/proc/self/fd/{}/{name}", fd.as_raw_fd());
    Ok((fd, path))
}

/// Bind the attach socket (mode 0600: only root attaches) in `dir`.
pub fn listen(dir: &Path) -> Result<UnixListener, String> {
    let (_dirfd, path) = short_path(dir, SOCKET_NAME).map_err(|e| format!("attach socket: {e}"))?;
    let _ = std::fs::remove_file(&path);
    // SAFETY: umask is process-wide but we are single-threaded; restored at once.
    let old = unsafe { libc::umask(0o177) };
    let l = UnixListener::bind(&path);
    unsafe { libc::umask(old) };
    let l = l.map_err(|e| format!("binding the attach socket: {e}"))?;
    l.set_nonblocking(true)
        .map_err(|e| format!("attach socket: {e}"))?;
    Ok(l)
}

/// Make the slave the calling process's terminal: new session, controlling terminal,
/// stdin/stdout/stderr. Called in the command's child, before exec.
pub fn become_terminal(slave: RawFd) -> Result<(), String> {
    let _ = nix::unistd::setsid();
    // SAFETY: ioctl and dup2 on our own descriptors.
    unsafe {
        if libc::ioctl(slave, libc::TIOCSCTTY, 0) != 0 {
            return Err(format!("TIOCSCTTY: {}", std::io::Error::last_os_error()));
        }
        for n in 0..3 {
            libc::dup2(slave, n);
        }
        if slave > 2 {
            libc::close(slave);
        }
    }
    Ok(())
}

/// Set a terminal's window size (the kernel sends SIGWINCH to its foreground group).
pub fn set_winsize(fd: RawFd, rows: u16, cols: u16) {
    let ws = libc::winsize {
        ws_row: rows,
        ws_col: cols,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCSWINSZ reads one winsize.
    unsafe { libc::ioctl(fd, libc::TIOCSWINSZ, &ws) };
}

/// One frame for the console.
pub fn frame(kind: u8, payload: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(payload.len() + 5);
    v.push(kind);
    v.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    v.extend_from_slice(payload);
    v
}

/// Split the complete frames off the front of `buf`.
pub fn take_frames(buf: &mut Vec<u8>) -> Vec<(u8, Vec<u8>)> {
    let mut out = Vec::new();
    let mut at = 0;
    while buf.len() >= at + 5 {
        let len = u32::from_le_bytes([buf[at + 1], buf[at + 2], buf[at + 3], buf[at + 4]]) as usize;
        if buf.len() < at + 5 + len {
            break;
        }
        out.push((buf[at], buf[at + 5..at + 5 + len].to_vec()));
        at += 5 + len;
    }
    buf.drain(..at);
    out
}

struct Client {
    stream: UnixStream,
    pending: Vec<u8>,
}

/// What the loop serves.
pub struct Console {
    /// The pty's master.
    pub master: OwnedFd,
    /// New clients (the shim's attach socket); None for `exec`.
    pub listener: Option<UnixListener>,
    /// A client already connected (`exec -t`: the CLI's end of a socket pair).
    pub first: Option<UnixStream>,
    /// Where the output is also written (the shim's log, its stdout).
    pub log: Option<RawFd>,
}

/// Serve the console until `child` ends; forward every other signal of `signals`
/// (blocked by the caller) to it. `on_exit` runs with the exit code before the clients
/// are let go, so that a client that sees the end finds the code on disk.
pub fn serve(mut c: Console, child: Pid, signals: &SigSet, on_exit: impl FnOnce(i32)) -> i32 {
    let sfd = match SignalFd::with_flags(signals, SfdFlags::SFD_NONBLOCK | SfdFlags::SFD_CLOEXEC) {
        Ok(s) => s,
        Err(_) => return 1,
    };
    let mut clients: Vec<Client> = Vec::new();
    if let Some(s) = c.first.take() {
        clients.push(Client {
            stream: s,
            pending: Vec::new(),
        });
    }
    let mfd = c.master.as_raw_fd();
    // SAFETY: the master stays open for the whole loop; ManuallyDrop keeps it ours.
    let mut master = std::mem::ManuallyDrop::new(unsafe { std::fs::File::from_raw_fd(mfd) });
    let mut master_open = true;
    let mut buf = vec![0u8; 32 * 1024];
    // What the command printed before anyone attached (the first prompt of `run -it`,
    // printed before the CLI connects), for the first client; bounded.
    let mut backlog = clients.is_empty().then(Vec::new);
    let code = 'outer: loop {
        let mut fds = vec![libc::pollfd {
            fd: sfd.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        }];
        let poll_fd = |fd: RawFd| libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        };
        // Negative descriptors are skipped by poll: the slots keep their places.
        fds.push(poll_fd(if master_open { mfd } else { -1 }));
        fds.push(poll_fd(c.listener.as_ref().map_or(-1, |l| l.as_raw_fd())));
        fds.extend(clients.iter().map(|cl| poll_fd(cl.stream.as_raw_fd())));
        // SAFETY: fds is a valid array of pollfd.
        let n = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, -1) };
        if n < 0 {
            continue;
        }
        if fds[0].revents != 0 {
            while let Ok(Some(info)) = sfd.read_signal() {
                let Ok(sig) = Signal::try_from(info.ssi_signo as i32) else {
                    continue;
                };
                if sig != Signal::SIGCHLD {
                    let _ = kill(child, sig);
                    continue;
                }
                while let Ok(status) = waitpid(Pid::from_raw(-1), Some(WaitPidFlag::WNOHANG)) {
                    match status {
                        WaitStatus::StillAlive => break,
                        WaitStatus::Exited(p, code) if p == child => break 'outer code,
                        WaitStatus::Signaled(p, s, _) if p == child => break 'outer 128 + s as i32,
                        _ => {}
                    }
                }
            }
        }
        if fds[1].revents != 0 {
            match master.read(&mut buf) {
                Ok(n) if n > 0 => {
                    if let Some(b) = backlog.as_mut().filter(|b| b.len() < BACKLOG_MAX) {
                        b.extend_from_slice(&buf[..n]);
                    }
                    broadcast(&buf[..n], c.log, &mut clients)
                }
                // EIO: no process has the slave open any more (it is not an end for
                // the console: the command may still run).
                _ => master_open = false,
            }
        }
        if fds[2].revents != 0
            && let Some(l) = &c.listener
        {
            while let Ok((s, _)) = l.accept() {
                let _ = s.set_nonblocking(false);
                // A client that does not read must not stall the container.
                let _ = s.set_write_timeout(Some(std::time::Duration::from_secs(2)));
                if let Some(b) = backlog.take() {
                    let _ = (&s).write_all(&b);
                }
                clients.push(Client {
                    stream: s,
                    pending: Vec::new(),
                });
            }
        }
        let mut gone = Vec::new();
        for (i, pfd) in fds[3..].iter().enumerate() {
            if pfd.revents == 0 {
                continue;
            }
            let cl = &mut clients[i];
            match cl.stream.read(&mut buf) {
                Ok(n) if n > 0 => {
                    cl.pending.extend_from_slice(&buf[..n]);
                    for (kind, payload) in take_frames(&mut cl.pending) {
                        match kind {
                            FRAME_DATA => {
                                let _ = master.write_all(&payload);
                            }
                            FRAME_RESIZE if payload.len() == 4 => set_winsize(
                                mfd,
                                u16::from_le_bytes([payload[0], payload[1]]),
                                u16::from_le_bytes([payload[2], payload[3]]),
                            ),
                            _ => {}
                        }
                    }
                }
                _ => gone.push(i),
            }
        }
        for i in gone.into_iter().rev() {
            clients.remove(i);
        }
    };
    // The command's last words are still in the pty: hand them on before the end.
    // SAFETY: fcntl on the master.
    unsafe { libc::fcntl(mfd, libc::F_SETFL, libc::O_NONBLOCK) };
    if master_open {
        while let Ok(n) = master.read(&mut buf)
            && n > 0
        {
            broadcast(&buf[..n], c.log, &mut clients);
        }
    }
    on_exit(code);
    drop(clients);
    code
}

/// The terminal's output to the log and every client (a client that fails is dropped).
fn broadcast(data: &[u8], log: Option<RawFd>, clients: &mut Vec<Client>) {
    if let Some(fd) = log {
        // SAFETY: the caller's open descriptor; ManuallyDrop keeps it open.
        let mut f = std::mem::ManuallyDrop::new(unsafe { std::fs::File::from_raw_fd(fd) });
        let _ = f.write_all(data);
    }
    clients.retain_mut(|cl| cl.stream.write_all(data).is_ok());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_split_and_keep_partial_ones() {
        let mut buf = frame(FRAME_DATA, b"ab");
        buf.extend(frame(FRAME_RESIZE, &[1, 0, 2, 0]));
        let partial = frame(FRAME_DATA, b"xyz");
        buf.extend_from_slice(&partial[..6]);
        let got = take_frames(&mut buf);
        assert_eq!(
            got,
            vec![
                (FRAME_DATA, b"ab".to_vec()),
                (FRAME_RESIZE, vec![1, 0, 2, 0])
            ]
        );
        assert_eq!(buf, partial[..6].to_vec());
        buf.extend_from_slice(&partial[6..]);
        assert_eq!(take_frames(&mut buf), vec![(FRAME_DATA, b"xyz".to_vec())]);
    }
}
