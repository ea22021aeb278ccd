//! `compare`: the same scenario built under two Docker engines' rule layouts, each in a
//! throwaway lab of its own, and their rules lined up with the reason for each. The
//! labs are built by running dockernet itself (the same code paths as a learner's
//! commands), both at once, and removed again whatever happens; labs left by a
//! `compare` that was killed are removed by the next one.

pub mod collect;
pub mod diff;
pub mod render;
pub mod scenario;

use crate::error::{Error, Result};
use crate::firewall::Engine;
use crate::lab::Lab;
use crate::lesson::exec::{Runner, Signals};
use crate::lesson::model::Lang;
use crate::step::{Executor, Mode};
use crate::ui::tr;
use scenario::Scenario;
use std::time::Duration;

/// Prefix of the throwaway labs: `cmp<engine>_<pid>`.
const PREFIX: &str = "cmp";

/// How long one command of a scenario may take.
const STEP_TIMEOUT: Duration = Duration::from_secs(60);

/// The throwaway lab for `engine` in this process.
fn lab_name(engine: Engine, pid: u32) -> String {
    format!("{PREFIX}{engine}_{pid}")
}

/// The pid in a throwaway lab's name, if it is one.
fn owner(name: &str) -> Option<i32> {
    let rest = name.strip_prefix(PREFIX)?;
    let (engine, pid) = rest.split_once('_')?;
    Engine::parse(engine).ok()?;
    pid.parse().ok()
}

/// Remove labs left by a `compare` that did not get to remove them (killed).
async fn sweep() {
    let Ok(dir) = std::fs::read_dir(crate::lab::STATE_ROOT) else {
        return;
    };
    for entry in dir.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) = owner(&name) else { continue };
        if crate::util::ProcRef::of(pid).is_some_and(|p| p.alive()) {
            continue;
        }
        remove(&name).await;
    }
}

/// `lab down` in this process, quietly (also after Ctrl-C, which stops only children).
async fn remove(name: &str) {
    if let Ok(lab) = Lab::new(name) {
        let mut ex = Executor::new(Mode::Quiet);
        let _ = crate::lab::lab_down(&lab, &mut ex).await;
        ex.close().await;
    }
}

/// Build `s` under `engine` in the lab `name`: `lab up` with the engine and the
/// scenario's daemon options, then its commands. Errors name the command that failed.
async fn build(name: &str, engine: Engine, s: &Scenario, signals: &Signals) -> Result<()> {
    let lang = if crate::ui::chinese() {
        Lang::Zh
    } else {
        Lang::En
    };
    let runner = Runner::new(name, lang, signals.clone()).map_err(|e| Error::msg(e.to_string()))?;
    let up: Vec<String> = [
        "lab",
        "up",
        "--engine",
        &engine.to_string(),
        "--userland-proxy",
        &s.userland_proxy.to_string(),
        "--icc",
        &s.icc.to_string(),
    ]
    .iter()
    .map(|x| x.to_string())
    .collect();
    for args in std::iter::once(&up).chain(s.commands.iter()) {
        let out = runner
            .dockernet(args, false, Some(STEP_TIMEOUT), "")
            .await
            .map_err(|_| interrupted())?;
        if !out.success() {
            let why = out
                .stderr
                .lines()
                .rfind(|l| !l.trim().is_empty())
                .unwrap_or("failed")
                .trim()
                .to_string();
            return Err(Error::msg(tr(
                format!(
                    "building the scenario under Docker {engine} failed at `dockernet {}`: {why}",
                    args.join(" ")
                ),
                format!(
                    "在 Docker {engine} 下搭建场景时，`dockernet {}` 失败：{why}",
                    args.join(" ")
                ),
            )));
        }
    }
    Ok(())
}

fn interrupted() -> Error {
    Error::with_code(
        tr(
            "interrupted: the throwaway labs are removed",
            "已中断：临时实验环境已删除",
        ),
        130,
    )
}

/// How `compare` shows the result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    /// `-`/`+` lines with reasons.
    Diff,
    /// Two columns.
    SideBySide,
    /// JSON for machines.
    Json,
}

/// Build `s` under both engines and compare; returns the text to print.
pub async fn run(s: &Scenario, engines: [Engine; 2], view: View) -> Result<String> {
    crate::lab::require_root()?;
    sweep().await;
    let pid = std::process::id();
    let names = engines.map(|e| lab_name(e, pid));
    let signals = Signals::install();
    let spinner = (std::io::IsTerminal::is_terminal(&std::io::stderr()) && view != View::Json)
        .then(|| {
            let bar = indicatif::ProgressBar::new_spinner();
            bar.set_message(tr(
                format!(
                    "building the scenario under Docker {} and Docker {}…",
                    engines[0], engines[1]
                ),
                format!(
                    "正在 Docker {} 和 Docker {} 下搭建场景……",
                    engines[0], engines[1]
                ),
            ));
            bar.enable_steady_tick(Duration::from_millis(100));
            bar
        });
    let (ra, rb) = tokio::join!(
        build(&names[0], engines[0], s, &signals),
        build(&names[1], engines[1], s, &signals)
    );
    let result = match (ra, rb) {
        (Ok(()), Ok(())) => (|| {
            let a = collect::read(&Lab::new(&names[0])?)?;
            let b = collect::read(&Lab::new(&names[1])?)?;
            Ok(diff::compare(engines, &a, &b))
        })(),
        (Err(e), _) | (_, Err(e)) => Err(e),
    };
    if let Some(bar) = spinner {
        bar.finish_and_clear();
    }
    for n in &names {
        remove(n).await;
    }
    let c = result?;
    Ok(match view {
        View::Diff => render::diff(&c, s),
        View::SideBySide => render::side_by_side(&c, s),
        View::Json => {
            let doc = serde_json::json!({
                "scenario": s,
                "engines": engines.map(|e| e.major()),
                "tables": c.tables,
                "rules": {
                    "first": c.counts().0,
                    "second": c.counts().1,
                    "same": c.counts().2,
                },
                "changes": Engine::ALL
                    .into_iter()
                    .filter(|e| *e > engines[0].min(engines[1]) && *e <= engines[0].max(engines[1]))
                    .flat_map(|e| e.changes())
                    .collect::<Vec<_>>(),
            });
            serde_json::to_string_pretty(&doc).map_err(|e| Error::msg(e.to_string()))? + "\n"
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throwaway_labs_are_recognised_by_name() {
        let n = lab_name(Engine::V29, 4242);
        assert_eq!(n, "cmp29_4242");
        assert!(Lab::new(&n).is_ok());
        assert_eq!(owner(&n), Some(4242));
        assert_eq!(owner("cmpx_1"), None);
        assert_eq!(owner("lesson_bridge"), None);
    }
}
