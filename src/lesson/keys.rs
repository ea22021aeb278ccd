//! The keys at a lesson's prompts. On a terminal they act at once, without Enter: the
//! terminal is put in cbreak mode (no line editing, no echo; Ctrl-C still interrupts)
//! for the length of the lesson, and put back on every way out — the end, `q`, Ctrl-C
//! (the lesson returns normally), a panic (the hook below, and unwinding drops the
//! guard). Without a terminal (a pipe, a file) the prompts read lines, as before: the
//! key, then Enter; the end of the input means "go on" from then on.

use super::exec::{Interrupted, Signals};
use super::model::Lang;
use super::ui::{Paint, tr};
use std::io::{IsTerminal, Read, Write};
use std::os::unix::fs::FileTypeExt;
use std::sync::Mutex;
use tokio::sync::mpsc;

/// What the learner asked for at a prompt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    /// Enter or space: the next step.
    Next,
    /// `q`: stop here (the lab is cleaned up as usual).
    Quit,
    /// `r`: run the step's checks again.
    Again,
    /// `?`: list the keys.
    Help,
}

/// Whether a lesson should wait at its prompts when not told `--yes`: on a terminal,
/// and when something feeds stdin (a pipe, a socket, a file). `/dev/null` (or no
/// stdin) means nobody will answer, so the lesson runs straight through.
pub fn wanted() -> bool {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        return true;
    }
    let Ok(meta) = std::fs::metadata("/proc/self/fd/0") else {
        return false;
    };
    let t = meta.file_type();
    t.is_fifo() || t.is_socket() || t.is_file()
}

/// The terminal's settings before cbreak mode, for the panic hook to put back.
static SAVED: Mutex<Option<libc::termios>> = Mutex::new(None);

/// cbreak mode on stdin while it lives.
struct Cbreak;

impl Cbreak {
    fn enter() -> Option<Cbreak> {
        // SAFETY: tcgetattr/tcsetattr on fd 0 with a termios struct we own.
        let mut t: libc::termios = unsafe { std::mem::zeroed() };
        if unsafe { libc::tcgetattr(0, &mut t) } != 0 {
            return None;
        }
        let saved = t;
        t.c_lflag &= !(libc::ICANON | libc::ECHO);
        t.c_cc[libc::VMIN] = 1;
        t.c_cc[libc::VTIME] = 0;
        // Ctrl-\ (SIGQUIT) and Ctrl-Z (SIGTSTP) would stop the lesson where it cannot
        // put the terminal back; Ctrl-C stays a signal, which the lesson handles.
        t.c_cc[libc::VQUIT] = libc::_POSIX_VDISABLE;
        t.c_cc[libc::VSUSP] = libc::_POSIX_VDISABLE;
        if unsafe { libc::tcsetattr(0, libc::TCSANOW, &t) } != 0 {
            return None;
        }
        if let Ok(mut s) = SAVED.lock() {
            *s = Some(saved);
        }
        install_panic_hook();
        Some(Cbreak)
    }
}

/// Put the terminal back as it was (idempotent).
fn restore() {
    if let Ok(mut s) = SAVED.lock()
        && let Some(t) = s.take()
    {
        // SAFETY: tcsetattr on fd 0 with the settings read from it before.
        unsafe {
            libc::tcsetattr(0, libc::TCSANOW, &t);
        }
    }
}

impl Drop for Cbreak {
    fn drop(&mut self) {
        restore();
    }
}

fn install_panic_hook() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            restore();
            previous(info);
        }));
    });
}

/// The prompts' input: keys from a terminal, or lines from a pipe.
pub struct Keys {
    rx: mpsc::UnboundedReceiver<Option<Key>>,
    terminal: bool,
    ended: bool,
    _cbreak: Option<Cbreak>,
}

impl Keys {
    /// Start reading stdin (on a plain thread, not the runtime's blocking pool: it may
    /// stay blocked in read(2) when the lesson ends, and must not hold the process up).
    pub fn start() -> Keys {
        let cbreak = if std::io::stdin().is_terminal() {
            Cbreak::enter()
        } else {
            None
        };
        let terminal = cbreak.is_some();
        let (tx, rx) = mpsc::unbounded_channel();
        std::thread::spawn(move || {
            if terminal {
                read_keys(&tx)
            } else {
                read_lines(&tx)
            }
            let _ = tx.send(None);
        });
        Keys {
            rx,
            terminal,
            ended: false,
            _cbreak: cbreak,
        }
    }

    /// Show `prompt` and wait for a key: Enter / space, `q`, or (when `again`) `r`;
    /// `?` lists the keys and asks again; other keys do nothing.
    pub async fn ask(
        &mut self,
        prompt: &str,
        again: bool,
        lang: Lang,
        paint: &Paint,
        signals: &Signals,
    ) -> Result<Key, Interrupted> {
        if self.ended {
            return Ok(Key::Next);
        }
        if self.terminal {
            // Keys pressed while the step ran were not meant for this prompt.
            while self.rx.try_recv().is_ok() {}
        }
        loop {
            print!("{} ", paint.dim(prompt));
            let _ = std::io::stdout().flush();
            let key = loop {
                let got = tokio::select! {
                    k = self.rx.recv() => k.flatten(),
                    _ = signals.wait() => return Err(Interrupted),
                };
                match got {
                    None => {
                        self.ended = true;
                        break Key::Next;
                    }
                    Some(Key::Again) if !again => {}
                    Some(k) => break k,
                }
            };
            println!();
            if key == Key::Help {
                print_help(lang, paint, self.terminal);
                continue;
            }
            if key != Key::Quit {
                println!();
            }
            return Ok(key);
        }
    }
}

/// The key a byte from the terminal stands for, if any.
fn key_of(b: u8) -> Option<Key> {
    match b {
        b'\n' | b'\r' | b' ' => Some(Key::Next),
        b'q' | b'Q' => Some(Key::Quit),
        b'r' | b'R' => Some(Key::Again),
        b'?' => Some(Key::Help),
        _ => None,
    }
}

/// The key a line of piped input stands for: as before, anything else goes on.
fn key_of_line(line: &str) -> Key {
    match line.trim() {
        "q" | "Q" => Key::Quit,
        "r" | "R" => Key::Again,
        "?" => Key::Help,
        _ => Key::Next,
    }
}

fn read_keys(tx: &mpsc::UnboundedSender<Option<Key>>) {
    let mut buf = [0u8; 64];
    let mut stdin = std::io::stdin();
    while let Ok(n) = stdin.read(&mut buf) {
        if n == 0 {
            return;
        }
        // An escape sequence (an arrow key: ESC [ A) is not a key of ours: skip it
        // whole, so that its letters do nothing.
        let mut bytes = buf[..n].iter().copied();
        while let Some(b) = bytes.next() {
            if b == 0x1b {
                for c in bytes.by_ref() {
                    if c.is_ascii_alphabetic() || c == b'~' {
                        break;
                    }
                }
                continue;
            }
            if let Some(k) = key_of(b)
                && tx.send(Some(k)).is_err()
            {
                return;
            }
        }
    }
}

fn read_lines(tx: &mpsc::UnboundedSender<Option<Key>>) {
    let mut line = String::new();
    while std::io::stdin().read_line(&mut line).unwrap_or(0) > 0 {
        if tx.send(Some(key_of_line(&line))).is_err() {
            return;
        }
        line.clear();
    }
}

/// The keys, one a line.
pub fn print_help(lang: Lang, paint: &Paint, terminal: bool) {
    let rows = [
        (tr(lang, "key_enter"), tr(lang, "key_next")),
        ("r".to_string(), tr(lang, "key_again")),
        ("q".to_string(), tr(lang, "key_quit")),
        ("?".to_string(), tr(lang, "key_help")),
        ("Ctrl-C".to_string(), tr(lang, "key_ctrl_c")),
    ];
    let w = rows
        .iter()
        .map(|r| super::ui::text_width(&r.0))
        .max()
        .unwrap_or(0);
    println!("  {}", paint.bold(&tr(lang, "keys")));
    for (k, what) in rows {
        let pad = " ".repeat(w - super::ui::text_width(&k) + 3);
        println!("    {}{pad}{what}", paint.cmd(&k));
    }
    if !terminal {
        println!("  {}", paint.dim(&tr(lang, "key_lines")));
    }
    println!();
}

/// Ask a yes/no question on the terminal (a line: `y` then Enter); no on anything
/// else or at the end of the input.
pub fn confirm(question: &str) -> bool {
    // On stderr, so that it shows even when stdout goes to a pipe or a file; a closed
    // stderr must not panic here (the answer would never come: no is the safe side).
    let mut err = std::io::stderr();
    let _ = write!(err, "{question} ").and_then(|_| err.flush());
    let mut line = String::new();
    if std::io::stdin().read_line(&mut line).unwrap_or(0) == 0 {
        let _ = writeln!(err);
        return false;
    }
    matches!(line.trim(), "y" | "Y" | "yes" | "Yes" | "是")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_and_lines_map_to_keys() {
        assert_eq!(key_of(b' '), Some(Key::Next));
        assert_eq!(key_of(b'\r'), Some(Key::Next));
        assert_eq!(key_of(b'q'), Some(Key::Quit));
        assert_eq!(key_of(b'x'), None);
        assert_eq!(key_of_line("\n"), Key::Next);
        assert_eq!(key_of_line("q\n"), Key::Quit);
        assert_eq!(key_of_line("anything\n"), Key::Next);
    }
}
