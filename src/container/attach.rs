//! The CLI's side of a console (`run -it`, `attach`, `exec -it`): the terminal in raw
//! mode, keystrokes to the console as frames, its output to stdout, SIGWINCH as a
//! window-size frame, and Docker's detach keys (default Ctrl-p Ctrl-q), which leave the
//! container running.

use super::console::{FRAME_DATA, FRAME_RESIZE, frame};
use crate::error::{Error, Result};
use std::io::{Read, Write};
use std::os::fd::{AsRawFd, BorrowedFd, RawFd};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::sync::atomic::{AtomicI32, Ordering};

/// Docker's default detach sequence: Ctrl-p Ctrl-q.
pub const DEFAULT_DETACH_KEYS: &[u8] = &[0x10, 0x11];

/// Parse `--detach-keys` as Docker does: comma-separated `ctrl-<c>` (c in a-z, @, [,
/// \, ], ^, _) or single characters.
pub fn parse_detach_keys(spec: Option<&str>) -> Result<Vec<u8>> {
    let Some(spec) = spec.filter(|s| !s.is_empty()) else {
        return Ok(DEFAULT_DETACH_KEYS.to_vec());
    };
    let bad = || Error::msg(format!("Invalid detach keys ({spec}) provided"));
    let mut out = Vec::new();
    for key in spec.split(',') {
        let lower = key.to_ascii_lowercase();
        if let Some(c) = lower.strip_prefix("ctrl-") {
            let b = match c.as_bytes() {
                [c @ b'a'..=b'z'] => c - b'a' + 1,
                [b'@'] => 0,
                [c @ (b'[' | b'\\' | b']' | b'^' | b'_')] => c - b'[' + 27,
                _ => return Err(bad()),
            };
            out.push(b);
        } else if key.len() == 1 {
            out.push(key.as_bytes()[0]);
        } else {
            return Err(bad());
        }
    }
    Ok(out)
}

/// The docker CLI's refusal of `-it` without a terminal to read from.
pub fn check_tty_input(tty: bool, interactive: bool) -> Result<()> {
    if tty && interactive && !std::io::IsTerminal::is_terminal(&std::io::stdin()) {
        return Err(Error::msg("the input device is not a TTY"));
    }
    Ok(())
}

/// The detach-sequence watcher: keys of the sequence are held back until it is
/// complete (detach) or broken (they go through with the key that broke it).
pub struct Escape {
    keys: Vec<u8>,
    matched: usize,
}

impl Escape {
    /// A watcher for `keys`.
    pub fn new(keys: Vec<u8>) -> Self {
        Escape { keys, matched: 0 }
    }

    /// What of `input` goes to the container, and whether the sequence was typed.
    pub fn feed(&mut self, input: &[u8]) -> (Vec<u8>, bool) {
        let mut out = Vec::with_capacity(input.len());
        for &b in input {
            if self.keys.get(self.matched) == Some(&b) {
                self.matched += 1;
                if self.matched == self.keys.len() {
                    self.matched = 0;
                    return (out, true);
                }
            } else {
                out.extend_from_slice(&self.keys[..self.matched]);
                self.matched = 0;
                out.push(b);
            }
        }
        (out, false)
    }
}

/// The terminal in raw mode while this lives (restored on drop, unwinding included).
struct RawMode {
    saved: Option<nix::sys::termios::Termios>,
}

impl RawMode {
    fn enter(fd: RawFd) -> RawMode {
        use nix::sys::termios::{SetArg, cfmakeraw, tcgetattr, tcsetattr};
        // SAFETY: fd 0 stays open for the whole process.
        let b = unsafe { BorrowedFd::borrow_raw(fd) };
        let saved = tcgetattr(b).ok();
        if let Some(t) = &saved {
            let mut raw = t.clone();
            cfmakeraw(&mut raw);
            let _ = tcsetattr(b, SetArg::TCSADRAIN, &raw);
        }
        RawMode { saved }
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        if let Some(t) = &self.saved {
            // SAFETY: fd 0 stays open for the whole process.
            let b = unsafe { BorrowedFd::borrow_raw(0) };
            let _ = nix::sys::termios::tcsetattr(b, nix::sys::termios::SetArg::TCSADRAIN, t);
        }
    }
}

/// How a relay ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Ended {
    /// The console closed: the command ended.
    Exited,
    /// The user typed the detach keys.
    Detached,
}

/// Write end of the SIGWINCH self-pipe (-1: none).
static WINCH_FD: AtomicI32 = AtomicI32::new(-1);

extern "C" fn on_winch(_: libc::c_int) {
    let fd = WINCH_FD.load(Ordering::Relaxed);
    if fd >= 0 {
        // SAFETY: write is async-signal-safe.
        unsafe { libc::write(fd, b"w".as_ptr().cast(), 1) };
    }
}

/// The window size of our terminal (stdout's, else stdin's) as a resize frame.
fn winsize_frame() -> Option<Vec<u8>> {
    for fd in [1, 0] {
        let mut ws: libc::winsize = unsafe { std::mem::zeroed() };
        // SAFETY: TIOCGWINSZ writes one winsize.
        if unsafe { libc::ioctl(fd, libc::TIOCGWINSZ, &mut ws) } == 0 && ws.ws_col > 0 {
            let mut p = ws.ws_row.to_le_bytes().to_vec();
            p.extend_from_slice(&ws.ws_col.to_le_bytes());
            return Some(frame(FRAME_RESIZE, &p));
        }
    }
    None
}

/// Relay between the terminal and a console until the command ends or the user
/// detaches; `stdin` says whether our input goes to the container (`-i`).
pub fn relay(mut stream: UnixStream, stdin: bool, keys: &[u8]) -> Result<Ended> {
    let (wr, ww) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC | nix::fcntl::OFlag::O_NONBLOCK)
        .map_err(|e| Error::msg(format!("creating a pipe: {e}")))?;
    WINCH_FD.store(ww.as_raw_fd(), Ordering::Relaxed);
    // SAFETY: installing a handler that only writes to a pipe.
    unsafe {
        let mut sa: libc::sigaction = std::mem::zeroed();
        sa.sa_sigaction = on_winch as *const () as usize;
        sa.sa_flags = libc::SA_RESTART;
        libc::sigaction(libc::SIGWINCH, &sa, std::ptr::null_mut());
    }
    let result = relay_loop(&mut stream, stdin, keys, wr.as_raw_fd());
    // SAFETY: back to the default disposition before the pipe goes.
    unsafe { libc::signal(libc::SIGWINCH, libc::SIG_DFL) };
    WINCH_FD.store(-1, Ordering::Relaxed);
    drop(ww);
    if result == Ended::Detached {
        eprintln!("read escape sequence");
    }
    Ok(result)
}

fn relay_loop(stream: &mut UnixStream, stdin: bool, keys: &[u8], winch: RawFd) -> Ended {
    let tty_in = stdin && std::io::IsTerminal::is_terminal(&std::io::stdin());
    let _raw = tty_in.then(|| RawMode::enter(0));
    if let Some(f) = winsize_frame() {
        let _ = stream.write_all(&f);
    }
    let mut escape = Escape::new(keys.to_vec());
    let mut stdin_open = stdin;
    let mut buf = vec![0u8; 32 * 1024];
    let mut out = std::io::stdout().lock();
    loop {
        let mut fds = [
            libc::pollfd {
                fd: stream.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            },
            libc::pollfd {
                fd: winch,
                events: libc::POLLIN,
                revents: 0,
            },
            libc::pollfd {
                fd: if stdin_open { 0 } else { -1 },
                events: libc::POLLIN,
                revents: 0,
            },
        ];
        // SAFETY: a valid array of pollfd.
        if unsafe { libc::poll(fds.as_mut_ptr(), 3, -1) } < 0 {
            continue;
        }
        if fds[0].revents != 0 {
            match stream.read(&mut buf) {
                Ok(n) if n > 0 => {
                    let _ = out.write_all(&buf[..n]);
                    let _ = out.flush();
                }
                _ => return Ended::Exited,
            }
        }
        if fds[1].revents != 0 {
            let mut drain = [0u8; 64];
            // SAFETY: reading our own non-blocking pipe.
            while unsafe { libc::read(winch, drain.as_mut_ptr().cast(), drain.len()) } > 0 {}
            if let Some(f) = winsize_frame() {
                let _ = stream.write_all(&f);
            }
        }
        if fds[2].revents != 0 {
            // SAFETY: reading fd 0 into our buffer.
            let n = unsafe { libc::read(0, buf.as_mut_ptr().cast(), buf.len()) };
            if n <= 0 {
                // End of our input: the container keeps its terminal (Docker's `-t`).
                stdin_open = false;
                continue;
            }
            let (data, detach) = escape.feed(&buf[..n as usize]);
            if !data.is_empty() && stream.write_all(&frame(FRAME_DATA, &data)).is_err() {
                return Ended::Exited;
            }
            if detach {
                return Ended::Detached;
            }
        }
    }
}

/// Connect to a container's attach socket.
pub fn connect(dir: &Path) -> Result<UnixStream> {
    let (_dirfd, path) = super::console::short_path(dir, super::console::SOCKET_NAME)
        .map_err(|e| Error::msg(format!("opening {}: {e}", dir.display())))?;
    UnixStream::connect(&path)
        .map_err(|e| Error::msg(format!("attaching to the container's console: {e}")))
}

/// The exit code the shim recorded in `dir` (it is written before the console closes;
/// a moment's grace for a shim killed on the way).
pub fn recorded_exit_code(dir: &Path) -> i32 {
    for _ in 0..50 {
        if let Some(c) = std::fs::read_to_string(dir.join("exitcode"))
            .ok()
            .and_then(|s| s.trim().parse().ok())
        {
            return c;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detach_keys_parse_as_docker() {
        assert_eq!(parse_detach_keys(None).unwrap(), vec![0x10, 0x11]);
        assert_eq!(
            parse_detach_keys(Some("ctrl-x,y")).unwrap(),
            vec![0x18, b'y']
        );
        assert_eq!(
            parse_detach_keys(Some("ctrl-@,ctrl-[,ctrl-\\,ctrl-],ctrl-^,ctrl-_")).unwrap(),
            vec![0, 27, 28, 29, 30, 31]
        );
        assert!(parse_detach_keys(Some("ctrl-1")).is_err());
        assert!(parse_detach_keys(Some("ab")).is_err());
    }

    #[test]
    fn escape_holds_back_and_passes_through() {
        let mut e = Escape::new(vec![0x10, 0x11]);
        assert_eq!(e.feed(b"ab\x10"), (b"ab".to_vec(), false));
        assert_eq!(e.feed(b"x"), (b"\x10x".to_vec(), false));
        assert_eq!(e.feed(b"\x10"), (vec![], false));
        assert_eq!(e.feed(b"\x11"), (vec![], true));
        assert_eq!(e.feed(b"q\x10\x11"), (b"q".to_vec(), true));
    }
}
