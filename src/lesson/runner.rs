//! Running a lesson: a fresh lab, the steps in order (explain, act, show the kernel
//! difference and the views, check), prompts between steps, and removal of the lab at
//! the end — also after a failure, `q`, or Ctrl-C.

use super::check::{self, Verdict};
use super::exec::{BackgroundChild, Capture, Interrupted, Runner, Signals};
use super::keys::Key;
use super::model::{Lang, Lesson, Step};
use super::print::Printer;
use super::ui::{tr, trf};
use super::vars::{Vars, quote};
use super::{articles, snapshot};
use crate::error::{Error, Result};
use crate::lab::Lab;
use std::collections::BTreeMap;
use std::io::IsTerminal;

/// The environment variable that triggers a step's [`super::model::Sabotage`].
pub const SABOTAGE_ENV: &str = "DOCKERNET_LESSON_SABOTAGE";

/// How to run a lesson.
#[derive(Debug, Clone)]
pub struct Options {
    /// Language.
    pub lang: Lang,
    /// Run straight through without prompts.
    pub yes: bool,
    /// Start at this step (1-based); earlier steps' commands run quietly.
    pub step: usize,
    /// Leave the lab for exploring.
    pub keep: bool,
    /// A lab named with `--lab` (else the lesson's own, `lesson_<name>`).
    pub lab: Option<String>,
}

/// Why the steps stopped.
enum Stop {
    /// All steps ran.
    Done,
    /// The learner pressed q.
    Quit,
    /// A step's command failed.
    Fatal,
    /// Ctrl-C / SIGTERM / SIGHUP.
    Interrupted,
}

impl From<Interrupted> for Stop {
    fn from(_: Interrupted) -> Stop {
        Stop::Interrupted
    }
}

/// Tally of check results.
#[derive(Default, Clone)]
struct Tally {
    passed: usize,
    failed: Vec<String>,
    skipped: usize,
    /// Per check with a claim: its id, passed, failed (for the recap).
    claims: Vec<(String, bool, bool)>,
}

/// One lesson being run.
struct Session<'a> {
    lesson: &'a Lesson,
    opts: &'a Options,
    lab: Lab,
    runner: Runner,
    out: Printer,
    vars: Vars,
    tally: Tally,
    interactive: bool,
    stdin: Option<super::keys::Keys>,
    /// The last step's background output, for its checks run again (`r`).
    logs: BTreeMap<String, Capture>,
}

/// Run a lesson; returns the exit status (0: all checks passed; 1: a check or command
/// failed; 130: interrupted).
pub async fn run(lesson: &Lesson, opts: &Options) -> Result<i32> {
    crate::lab::require_root()?;
    if opts.step == 0 || opts.step > lesson.steps.len() {
        let n = lesson.steps.len();
        let msg = trf(opts.lang, "bad_step", &[&opts.step, &lesson.name, &n]);
        return Err(Error::with_code(msg, 2));
    }
    let own = opts.lab.is_none();
    let lab = Lab::new(opts.lab.as_deref().unwrap_or(&lesson.lab_name()))?;
    let exists =
        lab.dir().exists() || !crate::netns::list_with_prefix(&lab.netns_prefix()).is_empty();
    if exists && !own {
        return Err(Error::msg(
            tr(opts.lang, "lab_taken").replace("{0}", &lab.name),
        ));
    }
    // The lesson's own lab, kept by an earlier `--keep` (or left by a crash): never
    // removed without asking, or `--yes`.
    if exists && !opts.yes {
        if !std::io::stdin().is_terminal() {
            return Err(Error::msg(
                tr(opts.lang, "kept_refuse").replace("{0}", &lab.name),
            ));
        }
        if !super::keys::confirm(&trf(opts.lang, "kept_ask", &[&lab.name])) {
            return Err(Error::msg(trf(opts.lang, "kept_left", &[&lab.name])));
        }
    }
    let signals = Signals::install();
    let runner = Runner::new(&lab.name, opts.lang, signals.clone())
        .map_err(|e| Error::msg(format!("finding the dockernet binary: {e}")))?;
    let mut s = Session {
        lesson,
        opts,
        vars: Vars::new(&lab),
        lab,
        runner,
        out: Printer::new(opts.lang),
        tally: Tally::default(),
        interactive: !opts.yes && super::keys::wanted(),
        stdin: None,
        logs: BTreeMap::new(),
    };
    let _guard = PanicGuard(Some(s.lab.name.clone()));
    if exists {
        // Left by an earlier `--keep`: this lesson's own lab, so start afresh.
        println!("{}", trf(opts.lang, "stale_lab", &[&s.lab.name]));
        s.remove_lab().await;
    }
    let stop = s.steps().await;
    let lang = opts.lang;
    if matches!(stop, Stop::Interrupted) {
        println!();
        s.out.error(&trf(lang, "interrupted", &[&s.lab.name]));
        s.remove_lab().await;
        println!("{}", trf(lang, "lab_removed", &[&s.lab.name]));
        return Ok(130);
    }
    let t = &s.tally;
    println!(
        "{}",
        trf(lang, "summary", &[&t.passed, &t.failed.len(), &t.skipped])
    );
    if !t.failed.is_empty() {
        s.out.error(&tr(lang, "failed_list"));
        for f in &t.failed {
            s.out.error(&format!("  ✗ {f}"));
        }
    }
    let ok = t.failed.is_empty() && matches!(stop, Stop::Done | Stop::Quit);
    if opts.keep {
        s.print_keep();
    } else {
        s.remove_lab().await;
        println!("{}", trf(lang, "lab_removed", &[&s.lab.name]));
    }
    if ok {
        if matches!(stop, Stop::Done) {
            println!("{}", s.out.paint.good(&tr(lang, "done")));
        }
        Ok(0)
    } else {
        s.out.error(&trf(lang, "lesson_fail", &[&s.lesson.name]));
        Ok(1)
    }
}

/// Removes the lesson's lab if the lesson dies by a panic before its own clean-up, when
/// nothing catches it (`cli::lesson` catches a closed stdout's panic and cleans up itself).
struct PanicGuard(Option<String>);

impl Drop for PanicGuard {
    fn drop(&mut self) {
        if let Some(lab) = self.0.take()
            && std::thread::panicking()
            && let Ok(exe) = std::env::current_exe()
        {
            let _ = std::process::Command::new(exe)
                .args(["--lab", &lab, "lab", "down"])
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .status();
        }
    }
}

impl Session<'_> {
    async fn remove_lab(&self) {
        let mut ex = crate::step::Executor::new(crate::step::Mode::Quiet);
        if let Err(e) = crate::lab::lab_down(&self.lab, &mut ex).await {
            eprintln!("dockernet: removing lab {}: {e}", self.lab.name);
        }
        ex.close().await;
    }

    fn print_keep(&self) {
        let n = &self.lab.name;
        self.out.text(&trf(self.opts.lang, "lab_kept", &[n]));
        for c in ["ps", "show links", "show bridges", "show rules --table nat"] {
            println!(
                "  {}",
                self.out.paint.cmd(&format!("sudo dockernet --lab {n} {c}"))
            );
        }
        self.out.text(&tr(self.opts.lang, "remove_with"));
        println!(
            "  {}",
            self.out
                .paint
                .cmd(&format!("sudo dockernet --lab {n} lab down"))
        );
    }

    /// Wait for a key (see [`super::keys`]); without prompts, go on. `again`: whether
    /// `r` (the step's checks again) means something here.
    async fn prompt(&mut self, key: &str, again: bool) -> std::result::Result<Key, Interrupted> {
        if !self.interactive {
            return Ok(Key::Next);
        }
        let keys = self.stdin.get_or_insert_with(super::keys::Keys::start);
        let signals = self.runner.signals().clone();
        let (lang, paint) = (self.opts.lang, self.out.paint);
        keys.ask(&tr(lang, key), again, lang, &paint, &signals)
            .await
    }

    /// Run a step's checks again (`r`), in place of their first results.
    async fn again(&mut self, step: &Step, mark: &Tally) -> std::result::Result<(), Stop> {
        self.tally = mark.clone();
        let mut only = step.clone();
        only.show.clear();
        let logs = std::mem::take(&mut self.logs);
        let result = self.views_and_checks(&only, &logs).await;
        self.logs = logs;
        result
    }

    async fn steps(&mut self) -> Stop {
        match self.steps_inner().await {
            Ok(()) => Stop::Done,
            Err(s) => s,
        }
    }

    async fn steps_inner(&mut self) -> std::result::Result<(), Stop> {
        let articles = articles().unwrap_or_default();
        let lang = self.opts.lang;
        self.out.header(self.lesson, &articles, &self.lab.name);
        if self.prompt("prompt_start", false).await? == Key::Quit {
            return Err(Stop::Quit);
        }
        let label = trf(lang, "setup", &[&self.lab.name]);
        for c in &self.lesson.setup {
            self.quiet(c, &label).await?;
        }
        let start = self.opts.step;
        if start > 1 {
            let label = trf(lang, "catching_up", &[&(start - 1)]);
            println!("{label}");
            for step in &self.lesson.steps[..start - 1] {
                for c in &step.run {
                    self.quiet(c, &label).await?;
                }
            }
        }
        let total = self.lesson.steps.len();
        for (i, step) in self.lesson.steps.iter().enumerate().skip(start - 1) {
            self.out.step_head(i + 1, total, step, &articles);
            let mark = self.tally.clone();
            self.step(step).await?;
            let prompt = if i + 1 < total {
                "prompt"
            } else {
                "prompt_end"
            };
            loop {
                match self.prompt(prompt, true).await? {
                    Key::Again => self.again(step, &mark).await?,
                    Key::Quit if i + 1 < total => {
                        println!("{}", trf(lang, "stopped_at", &[&(i + 1)]));
                        return Err(Stop::Quit);
                    }
                    _ => break,
                }
            }
        }
        self.recap();
        if let Some(o) = &self.lesson.outro {
            self.out.text(o.get(lang));
            println!();
        }
        Ok(())
    }

    /// The recap before the outro: the steps that ran, their commands, the claims.
    fn recap(&self) {
        let steps: Vec<usize> = (self.opts.step - 1..self.lesson.steps.len()).collect();
        let mut commands: Vec<String> = Vec::new();
        for &i in &steps {
            for c in &self.lesson.steps[i].run {
                let shown = match self.vars.argv(c) {
                    Ok(argv) => self.shown(&argv),
                    Err(_) => format!("dockernet {c}"),
                };
                if !commands.contains(&shown) {
                    commands.push(shown);
                }
            }
        }
        let o = super::claims::Outcomes {
            steps,
            commands,
            checks: self.tally.claims.clone(),
        };
        super::claims::print_recap(&self.out, self.lesson, &o);
    }

    /// Run a setup command without showing it; a failure ends the lesson.
    async fn quiet(&mut self, command: &str, label: &str) -> std::result::Result<(), Stop> {
        let argv = self.argv(command)?;
        let out = self.runner.dockernet(&argv, false, None, label).await?;
        self.vars.refresh(&self.lab);
        if !out.success() {
            self.out.command(&self.shown(&argv));
            self.out.outcome(&out);
            self.out.error(&tr(self.opts.lang, "command_failed"));
            return Err(Stop::Fatal);
        }
        Ok(())
    }

    fn argv(&self, command: &str) -> std::result::Result<Vec<String>, Stop> {
        self.vars.argv(command).map_err(|e| {
            self.out.error(&format!("dockernet {command}: {e}"));
            Stop::Fatal
        })
    }

    fn shown(&self, argv: &[String]) -> String {
        let words: Vec<String> = argv.iter().map(|w| quote(w)).collect();
        format!("dockernet {}", words.join(" "))
    }

    /// Run a command shown to the learner, with its narration. A failed command ends
    /// the lesson; a failed view (`view`) is only shown.
    async fn visible(&mut self, command: &str, explain: bool) -> std::result::Result<(), Stop> {
        let argv = self.argv(command)?;
        let shown = self.shown(&argv);
        self.out.command(&shown);
        let view = !explain;
        let timeout = view.then(|| std::time::Duration::from_secs(10));
        let out = self
            .runner
            .dockernet(&argv, explain, timeout, &shown)
            .await?;
        self.out.outcome(&out);
        self.vars.refresh(&self.lab);
        if !out.success() && !view {
            self.out.error(&tr(self.opts.lang, "command_failed"));
            return Err(Stop::Fatal);
        }
        Ok(())
    }

    async fn step(&mut self, step: &Step) -> std::result::Result<(), Stop> {
        let lang = self.opts.lang;
        let before = snapshot::take(&self.lab, &self.runner).await?;
        for c in &step.run {
            self.visible(c, true).await?;
        }
        let mut sabotaged = false;
        if let Some(sab) = &step.sabotage
            && std::env::var(SABOTAGE_ENV).is_ok_and(|v| v == sab.key)
        {
            self.out.note(&trf(lang, "sabotage", &[&sab.key]));
            self.visible(&sab.run, true).await?;
            sabotaged = true;
        }
        let mut background: Vec<(String, BackgroundChild)> = Vec::new();
        let mut logs: BTreeMap<String, Capture> = BTreeMap::new();
        for b in &step.background {
            if let Some(p) = &b.requires
                && crate::util::which(p).is_none()
            {
                let why = tr(lang, "not_installed").replace("{}", p);
                self.out
                    .note(&format!("{}: {} ({why})", tr(lang, "skipped"), b.run));
                continue;
            }
            let argv = self.argv(&b.run)?;
            println!(
                "  {}",
                self.out.paint.bold(&format!("$ {} &", self.shown(&argv)))
            );
            match self.runner.background(&argv) {
                Ok(child) => {
                    logs.insert(b.id.clone(), child.output.clone());
                    background.push((b.id.clone(), child));
                }
                Err(e) => self.out.error(&format!("{}: {e}", b.run)),
            }
        }
        if !step.run.is_empty() || !step.background.is_empty() {
            println!();
        }
        let acted = !step.run.is_empty() || !background.is_empty() || sabotaged;
        let after = snapshot::take(&self.lab, &self.runner).await;
        let result = match after {
            Ok(after) => {
                // A step that only looks changes nothing: no difference to show.
                if acted {
                    self.out.diff(&self.lab, &snapshot::diff(&before, &after));
                }
                self.views_and_checks(step, &logs).await
            }
            Err(i) => Err(i.into()),
        };
        for (id, child) in background {
            let text = child.stop().await;
            self.out.background_output(&id, &text);
        }
        self.logs = logs;
        result
    }

    async fn views_and_checks(
        &mut self,
        step: &Step,
        logs: &BTreeMap<String, Capture>,
    ) -> std::result::Result<(), Stop> {
        for v in &step.show {
            self.visible(v, false).await?;
            println!();
        }
        if step.checks.is_empty() {
            return Ok(());
        }
        if step.checks.iter().any(|c| !check::is_record(c)) {
            self.out.checks_head();
        }
        for c in &step.checks {
            let mut ctx = check::Context {
                runner: &self.runner,
                vars: &mut self.vars,
                logs,
                lang: self.opts.lang,
            };
            let verdict = check::evaluate(c, &mut ctx).await?;
            // A value recorded for later is not a check: shown only if it failed.
            if check::is_record(c) && !matches!(verdict, Verdict::Fail { .. }) {
                continue;
            }
            if let Some(id) = &c.claim {
                let (pass, fail) = (
                    matches!(verdict, Verdict::Pass(_)),
                    matches!(verdict, Verdict::Fail { .. }),
                );
                self.tally.claims.push((id.clone(), pass, fail));
            }
            let commands = check::commands(c, &self.vars);
            self.out.check(c, &commands, &verdict);
            match verdict {
                Verdict::Pass(_) => self.tally.passed += 1,
                Verdict::Skip(_) => self.tally.skipped += 1,
                Verdict::Fail { .. } => {
                    let claim = c
                        .claim
                        .as_deref()
                        .map(|c| format!("{c} "))
                        .unwrap_or_default();
                    self.tally
                        .failed
                        .push(format!("{claim}{}", c.what.get(self.opts.lang)));
                }
            }
        }
        println!();
        Ok(())
    }
}
