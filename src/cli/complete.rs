//! Shell completions that know the lab: `completion bash|zsh|fish|elvish|powershell`
//! prints a script that calls back into dockernet (clap's dynamic completion engine,
//! `COMPLETE=<shell> dockernet -- …`), so container, network, lesson and challenge names
//! come from the lab's state as the learner types, not only the flags.

use clap::CommandFactory;
use clap_complete::CompletionCandidate;

/// The variable through which the shell asks for completions.
const VAR: &str = "COMPLETE";

/// Answer a completion request and exit, if this run is one (before any parsing).
pub fn answer_if_asked() {
    clap_complete::CompleteEnv::with_factory(super::Cli::command)
        .var(VAR)
        .complete();
}

/// The registration script for `shell` (what `completion SHELL` prints).
pub fn script(shell: &str) -> crate::error::Result<String> {
    let shells = clap_complete::env::Shells::builtins();
    let Some(s) = shells.completer(shell) else {
        return Err(crate::error::Error::with_code(
            format!(
                "unknown shell {shell:?}: use one of {}",
                shells.names().collect::<Vec<_>>().join(", ")
            ),
            2,
        ));
    };
    let mut buf = Vec::new();
    s.write_registration(VAR, "dockernet", "dockernet", "dockernet", &mut buf)
        .map_err(|e| crate::error::Error::msg(format!("writing the script: {e}")))?;
    Ok(String::from_utf8_lossy(&buf).into_owned())
}

/// The lab a completion is for: `DOCKERNET_LAB` or the default (the command line's
/// `--lab` is not visible to a value completer).
fn lab() -> Option<crate::lab::Lab> {
    let name = std::env::var("DOCKERNET_LAB").unwrap_or_else(|_| "default".into());
    crate::lab::Lab::new(&name).ok()
}

/// Container names of the lab (nothing when it does not exist or is not readable:
/// a learner without sudo gets flags only).
pub fn containers() -> Vec<CompletionCandidate> {
    let Some(lab) = lab() else { return Vec::new() };
    let mut names: Vec<String> = lab
        .store()
        .containers()
        .unwrap_or_default()
        .into_iter()
        .map(|c| c.name)
        .collect();
    names.sort();
    names.into_iter().map(CompletionCandidate::new).collect()
}

/// Network names of the lab.
pub fn networks() -> Vec<CompletionCandidate> {
    let Some(lab) = lab() else { return Vec::new() };
    let mut names: Vec<String> = lab
        .store()
        .networks()
        .unwrap_or_default()
        .into_iter()
        .map(|n| n.name)
        .collect();
    names.sort();
    names.into_iter().map(CompletionCandidate::new).collect()
}

/// The lessons.
pub fn lessons() -> Vec<CompletionCandidate> {
    crate::lesson::lessons()
        .unwrap_or_default()
        .into_iter()
        .map(|l| CompletionCandidate::new(l.name))
        .collect()
}

/// The challenges.
pub fn challenges() -> Vec<CompletionCandidate> {
    let mut out: Vec<CompletionCandidate> = ["list", "check", "hint"]
        .into_iter()
        .map(CompletionCandidate::new)
        .collect();
    out.extend(
        crate::challenge::challenges()
            .unwrap_or_default()
            .into_iter()
            .map(|c| CompletionCandidate::new(c.name)),
    );
    out
}
