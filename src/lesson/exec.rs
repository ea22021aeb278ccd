//! Running commands for a lesson: the dockernet binary itself (so the learner sees real
//! CLI output and narration), and the kernel tools behind the snapshots. Every child
//! runs in its own process group, so Ctrl-C reaches only the lesson, which stops the
//! child, tears the lab down and exits; a command that runs for more than a second shows
//! a spinner.

use super::model::Lang;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::AsyncReadExt;
use tokio::sync::watch;

/// The lesson was interrupted (Ctrl-C, SIGTERM, SIGHUP): stop and clean up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Interrupted;

/// How a command ended.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    /// Exit status, `None` if killed.
    pub status: Option<i32>,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
    /// Stopped because it ran past its time limit.
    pub timed_out: bool,
}

impl Outcome {
    /// Exit status 0.
    pub fn success(&self) -> bool {
        self.status == Some(0)
    }

    /// stdout and stderr together (stderr without dockernet's narration lines).
    pub fn text(&self) -> String {
        let mut s = self.stdout.clone();
        for l in self.stderr.lines().filter(|l| !is_narration(l)) {
            s.push_str(l);
            s.push('\n');
        }
        s
    }
}

/// True for a line of `--explain` narration (`  $ ip ...`, `  # why`, or a phase
/// marker, see [`phase_marker`]).
pub fn is_narration(line: &str) -> bool {
    line.starts_with("  $ ") || line.starts_with("  # ") || phase_marker(line).is_some()
}

/// The phase a line of narration starts (`  #@ world`), printed by a command run with
/// [`crate::step::PHASES_ENV`] set: `lab up` marks the world, the host and the daemon,
/// so that a lesson can fold the lab's plumbing into one line.
pub fn phase_marker(line: &str) -> Option<&str> {
    line.strip_prefix("  #@ ").map(str::trim)
}

/// Watches for Ctrl-C, SIGTERM and SIGHUP once [`Signals::install`] ran.
#[derive(Clone)]
pub struct Signals {
    rx: watch::Receiver<bool>,
}

impl Signals {
    /// Install the handlers: from now on these signals no longer kill the process, they
    /// set a flag that every wait in the lesson watches.
    pub fn install() -> Signals {
        let (tx, rx) = watch::channel(false);
        use tokio::signal::unix::{SignalKind, signal};
        let kinds = [
            SignalKind::interrupt(),
            SignalKind::terminate(),
            SignalKind::hangup(),
        ];
        for kind in kinds {
            if let Ok(mut s) = signal(kind) {
                let tx = tx.clone();
                tokio::spawn(async move {
                    while s.recv().await.is_some() {
                        let _ = tx.send(true);
                    }
                });
            }
        }
        Signals { rx }
    }

    /// Whether a signal arrived.
    pub fn fired(&self) -> bool {
        *self.rx.borrow()
    }

    /// Resolves when a signal arrives.
    pub async fn wait(&self) {
        let mut rx = self.rx.clone();
        let _ = rx.wait_for(|v| *v).await;
    }

    /// Sleep, unless interrupted.
    pub async fn sleep(&self, d: Duration) -> Result<(), Interrupted> {
        tokio::select! {
            _ = tokio::time::sleep(d) => Ok(()),
            _ = self.wait() => Err(Interrupted),
        }
    }
}

/// Runs the dockernet binary against the lesson's lab.
pub struct Runner {
    exe: PathBuf,
    lab: String,
    lang: Lang,
    signals: Signals,
    spinner: bool,
}

/// A child's output, read as it comes so that a grandchild keeping the pipe open (a
/// server started in the background) cannot hang the lesson.
#[derive(Clone, Default)]
pub struct Capture(Arc<Mutex<Vec<u8>>>);

impl Capture {
    fn reader<R: tokio::io::AsyncRead + Unpin + Send + 'static>(
        &self,
        mut r: R,
    ) -> tokio::task::JoinHandle<()> {
        let buf = self.0.clone();
        tokio::spawn(async move {
            let mut chunk = [0u8; 8192];
            while let Ok(n) = r.read(&mut chunk).await {
                if n == 0 {
                    break;
                }
                if let Ok(mut b) = buf.lock() {
                    b.extend_from_slice(&chunk[..n]);
                }
            }
        })
    }

    /// What was read so far, as text.
    pub fn text(&self) -> String {
        self.0
            .lock()
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default()
    }
}

/// A command running in the background for the length of a step.
pub struct BackgroundChild {
    child: tokio::process::Child,
    /// Its stdout and stderr, interleaved.
    pub output: Capture,
}

impl BackgroundChild {
    /// Stop it (its whole process group) and return what it printed.
    pub async fn stop(mut self) -> String {
        if let Some(pid) = self.child.id() {
            kill_group(pid, libc::SIGTERM);
        }
        let ended = tokio::time::timeout(Duration::from_secs(1), self.child.wait()).await;
        if ended.is_err()
            && let Some(pid) = self.child.id()
        {
            kill_group(pid, libc::SIGKILL);
            let _ = self.child.wait().await;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
        self.output.text()
    }
}

fn kill_group(pid: u32, sig: i32) {
    // SAFETY: kill(2) of the process group this lesson created for its own child.
    unsafe {
        libc::kill(-(pid as i32), sig);
    }
}

impl Runner {
    /// A runner for `lab`, talking in `lang`.
    pub fn new(lab: &str, lang: Lang, signals: Signals) -> std::io::Result<Runner> {
        Ok(Runner {
            exe: std::env::current_exe()?,
            lab: lab.to_string(),
            lang,
            signals,
            spinner: std::io::IsTerminal::is_terminal(&std::io::stderr()),
        })
    }

    /// The signal watcher.
    pub fn signals(&self) -> &Signals {
        &self.signals
    }

    fn command(&self, args: &[String], explain: bool) -> tokio::process::Command {
        let mut c = tokio::process::Command::new(&self.exe);
        c.arg("--lab")
            .arg(&self.lab)
            .arg("--lang")
            .arg(match self.lang {
                Lang::En => "en",
                Lang::Zh => "zh",
            });
        if explain {
            // Phase markers in the narration: the printer folds the lab's plumbing.
            c.arg("--explain").env(crate::step::PHASES_ENV, "1");
        }
        c.args(args)
            .env("NO_COLOR", "1")
            // Views are shown 4 columns in: the topology fits 100 columns with them.
            .env(crate::topology::WIDTH_ENV, "96")
            .env_remove("DOCKERNET_LAB")
            .env_remove("DOCKERNET_LESSON_SABOTAGE");
        c
    }

    /// Run `dockernet --lab LAB ARGS...` (with `--explain` if asked) to completion.
    pub async fn dockernet(
        &self,
        args: &[String],
        explain: bool,
        timeout: Option<Duration>,
        label: &str,
    ) -> Result<Outcome, Interrupted> {
        let cmd = self.command(args, explain);
        // A command that changes the lab is left to finish when the lesson is
        // interrupted (they take milliseconds), so that `lab down` finds every
        // container complete and recorded; anything else is stopped at once.
        let changes = matches!(
            args.first().map(String::as_str),
            Some("run" | "rm" | "start" | "stop" | "lab" | "network")
        );
        self.run(cmd, timeout, label, changes).await
    }

    /// Run a program (a kernel tool) to completion.
    pub async fn program(&self, prog: &str, args: &[&str]) -> Result<Outcome, Interrupted> {
        let mut cmd = tokio::process::Command::new(prog);
        cmd.args(args);
        self.run(cmd, Some(Duration::from_secs(20)), "", false)
            .await
    }

    /// Start `dockernet --lab LAB ARGS...` in the background.
    pub fn background(&self, args: &[String]) -> std::io::Result<BackgroundChild> {
        let mut cmd = self.command(args, false);
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .kill_on_drop(true);
        let mut child = cmd.spawn()?;
        let output = Capture::default();
        if let Some(o) = child.stdout.take() {
            output.reader(o);
        }
        if let Some(e) = child.stderr.take() {
            output.reader(e);
        }
        Ok(BackgroundChild { child, output })
    }

    async fn run(
        &self,
        mut cmd: tokio::process::Command,
        timeout: Option<Duration>,
        label: &str,
        finish_on_interrupt: bool,
    ) -> Result<Outcome, Interrupted> {
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .kill_on_drop(true);
        let mut child = match cmd.spawn() {
            Ok(c) => c,
            Err(e) => {
                return Ok(Outcome {
                    status: Some(127),
                    stderr: format!("cannot start {:?}: {e}\n", cmd.as_std().get_program()),
                    ..Outcome::default()
                });
            }
        };
        let pid = child.id().unwrap_or(0);
        let (out, err) = (Capture::default(), Capture::default());
        let readers = [
            child.stdout.take().map(|o| out.reader(o)),
            child.stderr.take().map(|e| err.reader(e)),
        ];
        let start = Instant::now();
        let far = start + Duration::from_secs(86400 * 365);
        let deadline = timeout.map(|t| start + t).unwrap_or(far);
        let mut spinner: Option<indicatif::ProgressBar> = None;
        let mut timed_out = false;
        let status = loop {
            tokio::select! {
                s = child.wait() => break s.ok().and_then(|s| s.code()),
                _ = tokio::time::sleep_until((start + Duration::from_secs(1)).into()),
                    if spinner.is_none() && self.spinner && !label.is_empty() => {
                    spinner = Some(make_spinner(label));
                }
                _ = tokio::time::sleep_until(deadline.into()), if !timed_out => {
                    timed_out = true;
                    kill_group(pid, libc::SIGKILL);
                }
                _ = self.signals.wait() => {
                    if finish_on_interrupt {
                        let grace = tokio::time::timeout(Duration::from_secs(15), child.wait());
                        if grace.await.is_err() {
                            kill_group(pid, libc::SIGKILL);
                        }
                    } else {
                        kill_group(pid, libc::SIGKILL);
                    }
                    let _ = child.wait().await;
                    if let Some(s) = spinner { s.finish_and_clear(); }
                    return Err(Interrupted);
                }
            }
        };
        if let Some(s) = spinner {
            s.finish_and_clear();
        }
        // The pipes close when the child exits, unless something it started in the
        // background still holds them: then take what was read.
        for r in readers.into_iter().flatten() {
            let _ = tokio::time::timeout(Duration::from_millis(500), r).await;
        }
        Ok(Outcome {
            status: if timed_out { None } else { status },
            stdout: out.text(),
            stderr: err.text(),
            timed_out,
        })
    }
}

fn make_spinner(label: &str) -> indicatif::ProgressBar {
    let pb = indicatif::ProgressBar::new_spinner();
    pb.set_draw_target(indicatif::ProgressDrawTarget::stderr());
    pb.set_message(label.to_string());
    pb.enable_steady_tick(Duration::from_millis(100));
    pb
}
