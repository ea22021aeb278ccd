//! A lesson as a learner drives it: single keys on a real pty (`?`, space without
//! Enter, `r`, `q`, a stray key that does nothing) and the terminal put back
//! afterwards; a closed stdout that ends a lesson quietly; "did you mean" for a
//! misspelled name; a kept lab that is never removed without asking; `lesson claims`
//! covering C01–C37 in both languages; the recap at the end of a lesson.

mod common;

use common::*;
use std::io::Write;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::process::ExitStatusExt;
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long a lesson may take to print what we wait for.
const WAIT: Duration = Duration::from_secs(60);

/// dockernet on a pty of ours (its controlling terminal, stdin, stdout and stderr).
struct Term {
    master: std::fs::File,
    /// Kept open to read the terminal's settings after dockernet exits.
    slave: std::fs::File,
    child: Child,
    seen: Arc<Mutex<Vec<u8>>>,
    what: String,
}

impl Term {
    fn start(c: Command, what: &str) -> Term {
        let OnPty {
            master,
            slave,
            child,
            seen,
        } = spawn_on_pty(c);
        Term {
            master,
            slave,
            child,
            seen,
            what: what.to_string(),
        }
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.seen.lock().unwrap()).into_owned()
    }

    fn send(&mut self, bytes: &[u8]) {
        self.master.write_all(bytes).expect("writing to the pty");
    }

    /// Wait until `text` has been printed after offset `from`; the offset after it.
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

    /// Nothing more is printed for a while (a key that must do nothing).
    fn quiet_after(&self, from: usize, forbidden: &str) {
        std::thread::sleep(Duration::from_millis(700));
        let all = self.text();
        assert!(
            !all[from..].contains(forbidden),
            "`{}`: expected no {forbidden:?} yet, saw {:?}",
            self.what,
            &all[from..]
        );
    }

    fn wait(&mut self) -> i32 {
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

    /// The terminal's local flags (ICANON, ECHO…).
    fn lflag(&self) -> libc::tcflag_t {
        // SAFETY: tcgetattr fills a termios we own, on our own slave fd.
        let mut t: libc::termios = unsafe { std::mem::zeroed() };
        assert_eq!(
            unsafe { libc::tcgetattr(self.slave.as_raw_fd(), &mut t) },
            0
        );
        t.c_lflag
    }
}

/// Nothing of the lab is left: no namespace, no directory.
fn assert_no_lab(lab: &Lab, what: &str) {
    assert!(
        lab.namespaces().is_empty() && !lab.dir().exists(),
        "{what}: expected lab {} removed, saw namespaces {:?}",
        lab.name,
        lab.namespaces()
    );
}

/// `?` lists the keys, a stray key does nothing, space moves on without Enter, `r`
/// runs the checks again, `q` quits and the lab is removed, and the terminal is put
/// back as it was.
#[test]
fn single_keys_drive_a_lesson() {
    let lab = Lab::new("keys_pty");
    let mut t = Term::start(lab.command(&["lesson", "none"]), "lesson none");
    let before = t.lflag();
    let mut at = t.expect(0, "[Enter] start");
    t.send(b"?");
    at = t.expect(at, "Keys:");
    at = t.expect(at, "run this step's checks again");
    at = t.expect(at, "[Enter] start");
    t.send(b"x");
    t.quiet_after(at, "Step 1 of");
    // cbreak mode while the lesson waits: no line editing, no echo.
    let during = t.lflag();
    assert_eq!(
        during & (libc::ICANON | libc::ECHO),
        0,
        "expected cbreak mode at a prompt"
    );
    t.send(b" ");
    at = t.expect(at, "Step 1 of 3");
    at = t.expect(at, "[Enter] next step");
    t.send(b" ");
    at = t.expect(at, "Step 2 of 3");
    at = t.expect(at, "[Enter] next step");
    t.send(b"r");
    at = t.expect(at, "Checks:");
    at = t.expect(at, "✓ C08");
    at = t.expect(at, "[Enter] next step");
    t.send(b"q");
    t.expect(at, "Stopped after step 2.");
    t.expect(at, &format!("Lab {} removed.", lab.name));
    let code = t.wait();
    assert_eq!(code, 0, "exit status after q: {}", t.text());
    assert!(!t.text().contains("panicked"), "{}", t.text());
    assert_no_lab(&lab, "q");
    assert_eq!(
        t.lflag() & (libc::ICANON | libc::ECHO),
        before & (libc::ICANON | libc::ECHO),
        "expected the terminal's settings back after the lesson"
    );
}

/// Ctrl-C at a prompt: exit 130, the lab removed, the terminal back in line mode.
#[test]
fn ctrl_c_at_a_prompt_puts_the_terminal_back() {
    let lab = Lab::new("keys_ctrl_c");
    let mut t = Term::start(
        lab.command(&["lesson", "none", "--lang", "zh"]),
        "lesson none",
    );
    let at = t.expect(0, "[回车] 开始");
    t.send(b" ");
    t.expect(at, "[回车] 下一步");
    t.send(&[3]);
    assert_eq!(t.wait(), 130, "exit status after Ctrl-C: {}", t.text());
    assert_no_lab(&lab, "Ctrl-C");
    assert_ne!(t.lflag() & libc::ICANON, 0, "expected line mode back");
}

/// Run `dn ARGS` with its stdout a pipe whose reading end is already closed.
fn closed_stdout(lab: &Lab, args: &[&str]) -> (std::process::ExitStatus, String) {
    let mut fds = [0; 2];
    // SAFETY: pipe(2) fills two descriptors we then own.
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    // SAFETY: both descriptors are fresh and owned here.
    let (r, w) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    drop(r);
    let mut c = lab.command(args);
    c.stdin(Stdio::null())
        .stdout(Stdio::from(w))
        .stderr(Stdio::piped());
    let child = c.spawn().expect("start dockernet");
    let out = child.wait_with_output().expect("wait for dockernet");
    (
        out.status,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `| head` closes the output: listings end quietly (exit 0 or SIGPIPE, never a
/// panic), and a running lesson stops quietly and still removes its lab.
#[test]
fn a_closed_pipe_ends_quietly() {
    let lab = Lab::new("keys_pipe");
    for args in [
        &["lesson", "bridge", "--dry-run"][..],
        &["lesson", "list"],
        &["lesson", "claims"],
        &["lesson", "claims", "--lang", "zh"],
        &["lesson", "none", "--yes"],
    ] {
        let (status, err) = closed_stdout(&lab, args);
        let what = args.join(" ");
        assert!(
            !err.contains("panicked") && !err.contains("Broken pipe"),
            "`{what}` with a closed stdout: {err}"
        );
        let quiet = status.code().is_some_and(|c| c == 0 || c == 141)
            || status.signal() == Some(libc::SIGPIPE);
        assert!(
            quiet,
            "`{what}` with a closed stdout ended with {status:?}: {err}"
        );
        assert_no_lab(&lab, &what);
    }
    // With `head`, as the issue tried it.
    let o = cmd(
        "sh",
        &[
            "-c",
            &format!("{BIN} lesson bridge --dry-run | head -2; echo done"),
        ],
    );
    assert!(
        stdout(&o).ends_with("done\n"),
        "{}",
        describe("| head -2", &o)
    );
    assert!(!stderr(&o).contains("panicked"), "{}", stderr(&o));
    assert_eq!(stdout(&o).lines().count(), 3, "{}", stdout(&o));
}

/// A misspelled lesson name gets a suggestion, in English and in Chinese.
#[test]
fn misspelled_lessons_get_a_suggestion() {
    let lab = Lab::new("keys_typo");
    let o = lab.dn(&["lesson", "brige"]);
    assert_eq!(o.status.code(), Some(2), "{}", describe("lesson brige", &o));
    assert!(
        stderr(&o).contains("did you mean `bridge`?"),
        "{}",
        describe("lesson brige", &o)
    );
    assert_eq!(stderr(&o).lines().count(), 1, "one line: {}", stderr(&o));
    let o = lab.dn(&["--lang", "zh", "lesson", "port-maping"]);
    assert!(
        stderr(&o).contains("你要找的是不是 `port-mapping`"),
        "{}",
        describe("lesson port-maping", &o)
    );
}

/// The lesson's own lab (`lesson_host`), made here as `--keep` would leave it.
struct KeptLab;

impl KeptLab {
    const NAME: &'static str = "lesson_host";

    /// `None` when someone else's `lesson_host` is already there (left alone).
    fn make() -> Option<KeptLab> {
        if std::path::Path::new("/run/dockernet")
            .join(Self::NAME)
            .exists()
            || !lab_namespaces(Self::NAME).is_empty()
        {
            return None;
        }
        let o = dn_own(&["--lab", Self::NAME, "lab", "up"]);
        assert!(o.status.success(), "{}", describe("lab up", &o));
        Some(KeptLab)
    }

    fn exists(&self) -> bool {
        !lab_namespaces(Self::NAME).is_empty()
    }
}

impl Drop for KeptLab {
    fn drop(&mut self) {
        dn_own(&["--lab", Self::NAME, "lab", "down"]);
    }
}

/// dockernet without the harness's `--lab`.
fn dn_own_command(args: &[&str]) -> Command {
    let mut c = Command::new(BIN);
    c.args(args)
        .env_remove("DOCKERNET_LAB")
        .env("NO_COLOR", "1")
        .env("LC_ALL", "C.UTF-8");
    c
}

fn dn_own(args: &[&str]) -> Output {
    run_cmd(dn_own_command(args))
}

/// A kept lab is never removed without asking: without a terminal the lesson refuses
/// (naming `--yes` and `lab down`), on a terminal it asks and "no" leaves it, and
/// `--yes` removes it and runs the lesson.
#[test]
fn a_kept_lab_is_not_removed_without_asking() {
    let Some(kept) = KeptLab::make() else {
        eprintln!("skipped: a lab {} exists already", KeptLab::NAME);
        return;
    };
    let o = dn_own(&["lesson", "host"]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{}", describe("lesson host", &o));
    assert!(
        err.contains("--yes") && err.contains("lab down") && err.lines().count() == 1,
        "expected one line naming --yes and lab down: {err}"
    );
    assert!(kept.exists(), "the refused lesson removed the kept lab");

    let mut t = Term::start(dn_own_command(&["lesson", "host"]), "lesson host");
    t.expect(0, "[y/N]");
    t.send(b"\n");
    assert_eq!(t.wait(), 1, "exit status after no: {}", t.text());
    assert!(kept.exists(), "answering no removed the kept lab");
    assert!(!t.text().contains("Step 1"), "{}", t.text());

    let o = dn_own(&["lesson", "host", "--yes", "--step", "3"]);
    assert!(o.status.success(), "{}", describe("lesson host --yes", &o));
    assert!(
        stdout(&o).contains("left by an earlier run"),
        "{}",
        stdout(&o)
    );
    assert!(
        !kept.exists(),
        "expected the lesson to remove its lab at the end"
    );
}

/// `lesson claims` lists every claim C01–C37 in both languages, as text and as JSON;
/// `lesson NAME --claims` lists that lesson's.
#[test]
fn lesson_claims_cover_every_id() {
    let lab = Lab::new("keys_claims");
    for lang in ["en", "zh"] {
        let out = lab.ok(&["lesson", "claims", "--lang", lang]);
        for n in 1..=37 {
            let id = format!("C{n:02}");
            assert!(
                out.lines().any(|l| l.starts_with(&format!("{id}  "))),
                "lesson claims --lang {lang}: no {id}:\n{out}"
            );
        }
        let waits = match lang {
            "zh" => "尚未验证",
            _ => "not checked yet",
        };
        assert_eq!(
            out.matches(waits).count(),
            0,
            "every claim is checked:\n{out}"
        );
        let json: serde_json::Value = serde_json::from_str(
            &lab.ok(&["lesson", "claims", "--lang", lang, "--format", "json"]),
        )
        .expect("JSON");
        assert_eq!(json.as_array().map(Vec::len), Some(37), "{json}");
    }
    let zh = lab.ok(&["lesson", "claims", "--lang", "zh"]);
    assert!(zh.contains("网桥") && zh.contains("验证步骤"), "{zh}");
    let one = lab.ok(&["lesson", "none", "--claims"]);
    let ids: Vec<&str> = one
        .lines()
        .filter(|l| l.starts_with('C'))
        .map(|l| &l[..3])
        .collect();
    assert_eq!(ids, ["C08", "C24"], "{one}");
    assert!(one.contains("none step 2"), "{one}");
}

/// Every lesson ends with a recap: what was built, the commands, the claims verified.
#[test]
fn a_lesson_ends_with_a_recap() {
    for (lang, words) in [
        (
            "en",
            [
                "Recap",
                "What you built",
                "The commands that matter",
                "Claims verified: C08, C24",
            ],
        ),
        (
            "zh",
            [
                "小结",
                "本课依次完成了",
                "关键的命令",
                "验证过的文章说法：C08、C24",
            ],
        ),
    ] {
        let lab = Lab::new(&format!("keys_recap_{lang}"));
        let o = lab.dn(&["lesson", "none", "--yes", "--lang", lang]);
        let out = stdout(&o);
        assert!(o.status.success(), "{}", describe("lesson none", &o));
        for w in words {
            assert!(out.contains(w), "--lang {lang}: expected {w:?} in:\n{out}");
        }
        assert!(
            out.contains("$ dockernet run -d --name n1 --net none busybox sleep 3600"),
            "{out}"
        );
        let recap = out.find(words[0]).unwrap();
        let summary = out
            .find(if lang == "zh" {
                "检查结果"
            } else {
                "Checks: "
            })
            .unwrap();
        assert!(
            recap < summary,
            "the recap comes before the summary:\n{out}"
        );
    }
}

/// `lesson --help` names the lesson's own lab, the keys and the exit codes, and no
/// longer claims the lab defaults to `default`.
#[test]
fn lesson_help_is_accurate() {
    let lab = Lab::new("keys_help");
    // clap wraps the text to the terminal: compare with single spaces.
    let help = lab
        .ok(&["lesson", "--help"])
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    for want in [
        "lesson_<name>",
        "Enter or space: next step",
        "r: run the step's checks again",
        "q: quit",
        "0 when every check passed",
        "130 when interrupted",
        "`claims` to list the articles' claims",
    ] {
        assert!(help.contains(want), "expected {want:?} in:\n{help}");
    }
    assert!(!help.contains("[default: default]"), "{help}");
}
