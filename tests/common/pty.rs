//! A command on a pty of the test's: the pty is its controlling terminal, stdin, stdout
//! and stderr, and everything it writes is collected as it comes.

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};

/// A child on a pty: the master end, the slave end (still open here), what it printed.
pub struct OnPty {
    /// The pty's master: write keys here.
    pub master: std::fs::File,
    /// The slave end, kept open to read the terminal's settings after the child exits.
    pub slave: std::fs::File,
    /// The process.
    pub child: Child,
    /// Everything read from the master so far.
    pub seen: Arc<Mutex<Vec<u8>>>,
}

/// Start `c` in a new session whose controlling terminal is a new pty.
pub fn spawn_on_pty(mut c: Command) -> OnPty {
    let pty = nix::pty::openpty(None, None).expect("openpty");
    let slave = std::fs::File::from(pty.slave);
    c.stdin(Stdio::from(slave.try_clone().unwrap()))
        .stdout(Stdio::from(slave.try_clone().unwrap()))
        .stderr(Stdio::from(slave.try_clone().unwrap()));
    // SAFETY: setsid and ioctl between fork and exec.
    unsafe {
        c.pre_exec(|| {
            libc::setsid();
            if libc::ioctl(0, libc::TIOCSCTTY, 0) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let child = c.spawn().expect("starting dockernet");
    drop(c);
    let master = std::fs::File::from(pty.master);
    let seen = Arc::new(Mutex::new(Vec::new()));
    let (mut r, s) = (master.try_clone().unwrap(), seen.clone());
    // Reads end with EIO once no process has the slave open.
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = r.read(&mut buf) {
            if n == 0 {
                break;
            }
            s.lock().unwrap().extend_from_slice(&buf[..n]);
        }
    });
    OnPty {
        master,
        slave,
        child,
        seen,
    }
}
