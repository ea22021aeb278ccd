//! `run -it`, `attach`, `exec -it` through a real pty, as a user's terminal drives them:
//! the shell's output, Docker's detach keys (default Ctrl-p Ctrl-q, `--detach-keys`),
//! `read escape sequence` and a container that runs on, attaching again, the shell's
//! exit code, the log of a `-t` container, and Docker's refusal for a stopped one.

mod common;

use common::*;
use std::io::Write;
use std::process::Child;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long the shell may take to answer.
const WAIT: Duration = Duration::from_secs(15);

/// dockernet on a pty of ours: its controlling terminal, stdin, stdout and stderr.
struct Term {
    master: std::fs::File,
    child: Child,
    seen: Arc<Mutex<Vec<u8>>>,
    what: String,
}

impl Term {
    fn start(lab: &Lab, args: &[&str]) -> Term {
        let p = spawn_on_pty(lab.command(args));
        let (master, child, seen) = (p.master, p.child, p.seen);
        Term {
            master,
            child,
            seen,
            what: args.join(" "),
        }
    }

    /// Resize our terminal (the kernel sends SIGWINCH to dockernet).
    fn resize(&self, rows: u16, cols: u16) {
        let ws = libc::winsize {
            ws_row: rows,
            ws_col: cols,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        // SAFETY: TIOCSWINSZ reads one winsize.
        unsafe {
            libc::ioctl(
                std::os::fd::AsRawFd::as_raw_fd(&self.master),
                libc::TIOCSWINSZ,
                &ws,
            )
        };
        std::thread::sleep(Duration::from_millis(200));
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.seen.lock().unwrap()).into_owned()
    }

    fn send(&mut self, bytes: &[u8]) {
        self.master.write_all(bytes).expect("writing to the pty");
        std::thread::sleep(Duration::from_millis(100));
    }

    /// Wait until `text` has been printed (after what was seen when `from` was taken).
    fn expect(&self, from: usize, text: &str) -> usize {
        let deadline = Instant::now() + WAIT;
        loop {
            let all = self.text();
            if let Some(i) = all.get(from..).and_then(|t| t.find(text)) {
                return from + i + text.len();
            }
            assert!(
                Instant::now() < deadline,
                "`{}`: expected {text:?} on the terminal, saw {all:?}",
                self.what
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn wait(mut self) -> i32 {
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                return s.code().unwrap_or(-1);
            }
            if Instant::now() >= deadline {
                let _ = self.child.kill();
                panic!("`{}` did not exit; terminal: {:?}", self.what, self.text());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// The `ps -a` line of `name`.
fn ps_line(lab: &Lab, name: &str) -> String {
    lab.ok(&["ps", "-a"])
        .lines()
        .find(|l| l.split_whitespace().last() == Some(name))
        .unwrap_or_default()
        .to_string()
}

#[test]
fn run_it_detach_attach_exit() {
    let lab = Lab::new("run_it_detach_attach_exit");
    let mut t = Term::start(&lab, &["run", "-it", "--name", "c1", "busybox", "sh"]);
    t.send(b"echo hi$((1+1)) $(tty)\r");
    // The pty comes from the container's own devpts: its name resolves inside.
    let at = t.expect(0, "hi2 /dev/pts/0");
    t.send(b"\x10\x11");
    t.expect(at, "read escape sequence");
    assert_eq!(t.wait(), 0, "detaching exits 0");
    assert!(
        ps_line(&lab, "c1").contains("Up"),
        "{}",
        ps_line(&lab, "c1")
    );
    // The shim logged the terminal's output.
    assert!(lab.ok(&["logs", "c1"]).contains("hi2"));

    let mut t = Term::start(&lab, &["attach", "c1"]);
    t.send(b"echo back$((3))\r");
    let at = t.expect(0, "back3");
    // The window size follows ours: SIGWINCH, a resize frame, TIOCSWINSZ on the master.
    t.resize(33, 111);
    t.send(b"stty size\r");
    t.expect(at, "33 111");
    t.send(b"exit 3\r");
    assert_eq!(t.wait(), 3, "attach exits with the shell's code");
    let line = ps_line(&lab, "c1");
    assert!(line.contains("Exited (3)"), "{line}");
}

#[test]
fn custom_detach_keys_replace_the_default() {
    let lab = Lab::new("custom_detach_keys");
    let args = [
        "run",
        "-it",
        "--detach-keys",
        "ctrl-x,y",
        "--name",
        "c1",
        "busybox",
        "sh",
    ];
    let mut t = Term::start(&lab, &args);
    t.send(b"echo a$((1))\r");
    let at = t.expect(0, "a1");
    // Ctrl-p Ctrl-q go to the shell now; Ctrl-u clears whatever they did to its line.
    t.send(b"\x10\x11\x15echo still$((2))\r");
    let at = t.expect(at, "still2");
    t.send(b"\x18y");
    t.expect(at, "read escape sequence");
    assert_eq!(t.wait(), 0);
    assert!(ps_line(&lab, "c1").contains("Up"));
    let o = lab.fails(&["run", "-it", "--detach-keys", "ctrl-1", "busybox", "sh"]);
    assert!(stderr(&o).contains("Invalid detach keys"), "{}", stderr(&o));
    // stdin is /dev/null here: the docker CLI's refusal, before anything is built.
    let o = lab.fails(&["run", "-it", "--name", "c9", "busybox", "sh"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("the input device is not a TTY"),
        "{}",
        stderr(&o)
    );
    assert_eq!(ps_line(&lab, "c9"), "");
}

#[test]
fn run_dit_attach_and_exec_it() {
    let lab = Lab::new("run_dit_attach_exec_it");
    lab.run_d("c2", &["-it", "busybox", "sh"]);
    let mut t = Term::start(&lab, &["attach", "c2"]);
    t.send(b"echo up$((2))\r");
    let at = t.expect(0, "up2");
    t.send(b"\x10\x11");
    t.expect(at, "read escape sequence");
    assert_eq!(t.wait(), 0);

    let mut t = Term::start(&lab, &["exec", "-it", "c2", "sh"]);
    t.send(b"echo ex$((4)) $(tty)\r");
    let at = t.expect(0, "ex4 /dev/pts/");
    t.send(b"sleep 1000\r");
    t.send(b"\x10\x11");
    t.expect(at, "read escape sequence");
    assert_eq!(t.wait(), 0);
    // The exec'd shell runs on after the detach, as in Docker.
    let procs = lab.ok(&["exec", "c2", "ps"]);
    assert!(procs.contains("sleep 1000"), "{procs}");

    let mut t = Term::start(&lab, &["exec", "-it", "c2", "sh"]);
    t.send(b"exit 5\r");
    assert_eq!(t.wait(), 5, "exec -it exits with the command's code");
    assert!(ps_line(&lab, "c2").contains("Up"));
}

#[test]
fn attach_to_stopped_and_run_it_rm() {
    let lab = Lab::new("attach_stopped_rm");
    lab.run_d("c3", &["busybox", "true"]);
    let o = retry("c3 to exit", WAIT, || {
        let o = lab.dn(&["attach", "c3"]);
        if o.status.success() {
            Err("attach succeeded".into())
        } else {
            Ok(o)
        }
    });
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("You cannot attach to a stopped container, start it first"),
        "{}",
        stderr(&o)
    );

    let mut t = Term::start(
        &lab,
        &["run", "-it", "--rm", "--name", "c4", "busybox", "sh"],
    );
    t.send(b"exit 7\r");
    assert_eq!(t.wait(), 7);
    assert_eq!(ps_line(&lab, "c4"), "", "--rm removed it");
}

#[test]
fn attach_without_tty_relays_the_streams() {
    let lab = Lab::new("attach_without_tty");
    lab.run_d("c5", &["-i", "busybox", "sh"]);
    // No `-t`: no raw mode, our line goes to the container's stdin, its output comes
    // back from the log; attach ends with the container, with its code.
    let mut t = Term::start(&lab, &["attach", "c5"]);
    std::thread::sleep(Duration::from_millis(300));
    t.send(b"echo nt$((6)); exit 4\r");
    t.expect(0, "nt6");
    assert_eq!(t.wait(), 4);
    assert!(ps_line(&lab, "c5").contains("Exited (4)"));
}
