//! `lesson list`, `lesson claims`, `lesson NAME [--claims]` and running a lesson
//! (`lesson NAME [--yes] [--step N] [--keep] [--lab LAB]`).

use super::{Format, Lang};
use crate::error::{Error, Result};
use crate::lab::Lab;
use crate::lesson::{self, Lesson, Options};
use crate::step::Mode;
use clap::Args;
use futures::FutureExt;
use std::io::Write;

/// What `lesson --help` ends with: the lab, the keys, the exit status.
const AFTER_HELP: &str = "\
The lab: a lesson runs in a lab of its own, `lesson_<name>` (`lesson_port_mapping` for \
port-mapping), built at the start and removed at the end, also after a failed check, `q` \
or Ctrl-C; `--keep` leaves it to explore. When that lab is still there (kept by an \
earlier `--keep`), the lesson asks before removing it (y/N); without a terminal it \
refuses unless `--yes` is given. `--lab LAB` names another lab, which must not exist yet.

Keys between steps (on a terminal, without Enter): Enter or space: next step; r: run \
the step's checks again; q: quit; ?: list the keys; Ctrl-C: stop at once. Without a \
terminal the lesson reads lines (the key, then Enter); with stdin at /dev/null, or \
--yes, it runs straight through.

Exit status: 0 when every check passed, 1 when a check or a command failed, 130 when \
interrupted (Ctrl-C, SIGTERM, SIGHUP); 2 for an unknown lesson or a bad --step.";

/// `lesson` arguments.
#[derive(Debug, Args)]
#[command(after_help = AFTER_HELP)]
pub struct LessonArgs {
    /// The lesson to run (`bridge`, `host`, `none`, `container`, `port-mapping`,
    /// `outbound`, `link`, `connect`, `custom-network`, `dns`, `macvlan`), `list` (the
    /// default) to list them, or `claims` to list the articles' claims and the steps that
    /// check them.
    #[arg(default_value = "list", add = clap_complete::ArgValueCandidates::new(super::complete::lessons))]
    pub name: String,
    /// Run straight through without waiting for a key (for projectors and CI), and
    /// remove the lesson's lab kept by an earlier --keep without asking.
    #[arg(short = 'y', long)]
    pub yes: bool,
    /// Start at step N (earlier steps' commands run quietly).
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub step: usize,
    /// Keep the lab at the end, to explore it (and print how to remove it).
    #[arg(long)]
    pub keep: bool,
    /// The lab to run in (default: the lesson's own, lesson_<name>; a lab named here must
    /// not exist yet).
    #[arg(long, value_name = "LAB")]
    pub lab: Option<String>,
    /// Print the lesson's claims (what each says, and which step checks it) instead of
    /// running it.
    #[arg(long)]
    pub claims: bool,
    /// Output format of `lesson list`, `lesson claims` and --claims.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

/// Print `text`; a closed stdout (`| head`) ends the output quietly.
fn out(text: &str) {
    let mut o = std::io::stdout().lock();
    let _ = o.write_all(text.as_bytes()).and_then(|_| o.flush());
}

fn json<T: serde::Serialize>(v: &T) -> Result<String> {
    serde_json::to_string_pretty(v)
        .map(|s| s + "\n")
        .map_err(|e| Error::msg(e.to_string()))
}

/// `lesson claims`, or one lesson's with `--claims`.
fn claims(lang: Lang, format: Format, one: Option<&Lesson>) -> Result<i32> {
    let all = lesson::lessons()?;
    let rows = match one {
        Some(l) => {
            let ids = l.claims();
            lesson::claims::rows(lang, std::slice::from_ref(l), Some(&ids))?
        }
        None => lesson::claims::rows(lang, &all, None)?,
    };
    match format {
        Format::Json => out(&json(&rows)?),
        Format::Table => {
            let paint = lesson::ui::Paint {
                on: crate::ui::color_stdout(),
            };
            let head = match one {
                None => format!("{}\n\n", paint.bold(&lesson::ui::tr(lang, "claims_title"))),
                Some(_) => String::new(),
            };
            let body = lesson::claims::render(&rows, lang, &paint, lesson::ui::width());
            out(&(head + &body))
        }
    }
    Ok(0)
}

/// `lesson ...`
pub async fn lesson(lab: &Lab, mode: Mode, lang: Option<Lang>, a: LessonArgs) -> Result<i32> {
    let lang = lesson::ui::language(lang);
    if a.name == "list" {
        let rows = lesson::summaries(lang)?;
        match a.format {
            Format::Json => out(&json(&rows)?),
            Format::Table => out(&lesson::render_list(&rows, lang)),
        }
        return Ok(0);
    }
    if a.name == "claims" {
        return claims(lang, a.format, None);
    }
    let l = lesson::find(&a.name)?;
    if a.claims {
        return claims(lang, a.format, Some(&l));
    }
    if mode == Mode::DryRun {
        lesson::print_script(&l, lang);
        return Ok(0);
    }
    // clap hands this `--lab` the global one's value too (`dockernet --lab X lesson`,
    // DOCKERNET_LAB, or its default `default`, which means "the lesson's own").
    let named = a
        .lab
        .clone()
        .or_else(|| Some(lab.name.clone()))
        .filter(|n| n != "default");
    let opts = Options {
        lang,
        yes: a.yes,
        step: a.step,
        keep: a.keep,
        lab: named,
    };
    run(&l, &opts).await
}

/// Run a lesson so that a closed stdout (`lesson bridge --yes | head`) ends it quietly
/// and still removes its lab: SIGPIPE, which would kill the lesson before its clean-up,
/// is ignored meanwhile, so the next print fails with EPIPE and panics; that panic is
/// kept quiet, caught here, and the lab removed.
async fn run(l: &Lesson, opts: &Options) -> Result<i32> {
    // SAFETY: setting a signal disposition; the runtime's threads do not rely on it.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_IGN);
    }
    quiet_broken_pipes();
    let result = std::panic::AssertUnwindSafe(lesson::run(l, opts))
        .catch_unwind()
        .await;
    let panic = match result {
        Ok(r) => return r,
        Err(p) => p,
    };
    let broken_pipe = is_broken_pipe(panic_text(&panic));
    if broken_pipe {
        // Nothing more can be shown: later prints go nowhere.
        if let Ok(null) = std::fs::OpenOptions::new().write(true).open("/dev/null") {
            use std::os::fd::AsRawFd;
            // SAFETY: dup2 onto our own stdout/stderr from a file we opened.
            unsafe {
                libc::dup2(null.as_raw_fd(), 1);
                libc::dup2(null.as_raw_fd(), 2);
            }
        }
    }
    // The lesson's future is gone (dropped after the catch), and its own guard with it:
    // the lab is removed here — kept only when asked to and the output merely closed.
    if !(broken_pipe && opts.keep) {
        let name = opts.lab.clone().unwrap_or_else(|| l.lab_name());
        if let Ok(lab) = Lab::new(&name) {
            let mut ex = crate::step::Executor::new(Mode::Quiet);
            let _ = crate::lab::lab_down(&lab, &mut ex).await;
            ex.close().await;
        }
    }
    if broken_pipe {
        Ok(141)
    } else {
        std::panic::resume_unwind(panic)
    }
}

fn panic_text(p: &Box<dyn std::any::Any + Send>) -> &str {
    p.downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| p.downcast_ref::<&str>().copied())
        .unwrap_or("")
}

/// The panic of `print!` when its output is closed.
fn is_broken_pipe(text: &str) -> bool {
    text.starts_with("failed printing to std") && text.contains("Broken pipe")
}

/// No panic message for a closed output; every other panic as before.
fn quiet_broken_pipes() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let text = info
                .payload()
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| info.payload().downcast_ref::<&str>().copied())
                .unwrap_or("");
            if !is_broken_pipe(text) {
                previous(info);
            }
        }));
    });
}
