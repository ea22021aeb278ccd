//! Docker's management-command forms (`container ls|run|rm|…`) and the lifecycle
//! commands that only they and a few top-level names have: `create`, `restart`, `top`,
//! `container prune`.

use super::containers::{self, ExecArgs, LogsArgs, NamesArgs, RmArgs, RunArgs, StopArgs};
use super::{Command, open_lab, ps, read_lab};
use crate::container;
use crate::error::{Error, Result};
use crate::lab::{ContainerStatus, Lab};
use crate::step::{Executor, Mode};
use clap::{Args, Subcommand};
use std::time::Duration;

/// `container` subcommands: the same flags and outputs as the short forms.
#[derive(Debug, Subcommand)]
pub enum ContainerCommand {
    /// List containers (docker container ls).
    #[command(visible_aliases = ["ps", "list"])]
    Ls(ps::PsArgs),
    /// Create and start a container.
    Run(Box<RunArgs>),
    /// Create a container without starting it.
    Create(Box<RunArgs>),
    /// Start stopped containers.
    Start(NamesArgs),
    /// Stop running containers.
    Stop(StopArgs),
    /// Restart containers.
    Restart(StopArgs),
    /// Remove containers.
    Rm(RmArgs),
    /// Show low-level information about containers.
    Inspect(super::format::InspectArgs),
    /// Run a command in a running container.
    Exec(ExecArgs),
    /// Show a container's output.
    Logs(LogsArgs),
    /// Attach to a running container's terminal or streams.
    Attach(super::attach::AttachArgs),
    /// List a container's port mappings.
    Port(ps::PortArgs),
    /// Show the processes of a container.
    Top(TopArgs),
    /// Remove all stopped containers.
    Prune(PruneArgs),
}

impl ContainerCommand {
    /// The top-level command this form stands for.
    pub fn into_command(self) -> Command {
        match self {
            ContainerCommand::Ls(a) => Command::Ps(a),
            ContainerCommand::Run(a) => Command::Run(a),
            ContainerCommand::Create(a) => Command::Create(a),
            ContainerCommand::Start(a) => Command::Start(a),
            ContainerCommand::Stop(a) => Command::Stop(a),
            ContainerCommand::Restart(a) => Command::Restart(a),
            ContainerCommand::Rm(a) => Command::Rm(a),
            ContainerCommand::Inspect(a) => Command::Inspect(a),
            ContainerCommand::Exec(a) => Command::Exec(a),
            ContainerCommand::Logs(a) => Command::Logs(a),
            ContainerCommand::Attach(a) => Command::Attach(a),
            ContainerCommand::Port(a) => Command::Port(a),
            ContainerCommand::Top(a) => Command::Top(a),
            ContainerCommand::Prune(a) => Command::ContainerPrune(a),
        }
    }
}

/// `top` flags.
#[derive(Debug, Args)]
pub struct TopArgs {
    /// The container.
    #[arg(add = clap_complete::ArgValueCandidates::new(super::complete::containers))]
    pub container: String,
    /// Options for ps (default `-ef`), as `docker top CONTAINER [ps OPTIONS]`.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub ps_options: Vec<String>,
}

/// `container prune` flags.
#[derive(Debug, Args)]
pub struct PruneArgs {
    /// Do not prompt for confirmation.
    #[arg(short = 'f', long)]
    pub force: bool,
}

/// `create`: the container's record, its name and image, and nothing of its network
/// until `start` (as Docker: a created container has no sandbox yet).
pub async fn create(lab: &Lab, mode: Mode, a: RunArgs) -> Result<i32> {
    let spec = containers::run_spec(a);
    container::check_flags(&spec)?;
    let mut exec = Executor::new(mode);
    let (_lock, d) = open_lab(lab, &mut exec).await?;
    let mut rec = container::create_record(&d, &spec).map_err(Error::refused)?;
    // Started later by `start`, in the background.
    rec.detached = true;
    rec.creator = None;
    d.store.save_container(&exec, &rec)?;
    println!("{}", rec.id);
    exec.close().await;
    Ok(0)
}

/// `restart`: stop (SIGTERM, SIGKILL after `-t`), then start again.
pub async fn restart(lab: &Lab, mode: Mode, a: StopArgs) -> Result<i32> {
    let timeout = Duration::from_secs(a.time);
    super::each::for_each(lab, mode, &a.containers, move |d, ex, rec| {
        Box::pin(async move {
            container::stop(d, ex, rec, timeout).await?;
            container::restart_stopped(d, ex, rec).await
        })
    })
    .await
}

/// `top CONTAINER [ps OPTIONS]`, as dockerd does it: the machine's `ps` with the given
/// options (default `-ef`), keeping the header and the lines of the container's
/// processes (found by their PID namespace). PIDs are the machine's, as in Docker.
pub async fn top(lab: &Lab, mode: Mode, a: TopArgs) -> Result<i32> {
    let d = read_lab(lab, mode).await?;
    let rec = d.store.find_container(&a.container)?;
    let init = rec
        .init
        .filter(|p| rec.status == ContainerStatus::Running && p.alive())
        .ok_or_else(|| {
            Error::msg(format!(
                "Error response from daemon: container {} is not running",
                rec.id
            ))
        })?;
    let pids = pids_in_namespace_of(init.pid);
    let opts = if a.ps_options.is_empty() {
        vec!["-ef".to_string()]
    } else {
        a.ps_options.clone()
    };
    let out = std::process::Command::new("ps")
        .args(&opts)
        .output()
        .map_err(|e| {
            Error::msg(crate::ui::tr(
                format!("running ps: {e} (install procps)"),
                format!("运行 ps 失败：{e}（请安装 procps）"),
            ))
        })?;
    if !out.status.success() {
        return Err(Error::msg(format!(
            "Error response from daemon: ps: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let mut lines = text.lines();
    let header = lines.next().unwrap_or_default();
    let Some(col) = header.split_whitespace().position(|h| h == "PID") else {
        return Err(Error::msg(
            "Error response from daemon: Couldn't find PID field in ps output",
        ));
    };
    let mut rows = vec![header.to_string()];
    rows.extend(
        lines
            .filter(|l| {
                l.split_whitespace()
                    .nth(col)
                    .and_then(|p| p.parse::<i32>().ok())
                    .is_some_and(|p| pids.contains(&p))
            })
            .map(String::from),
    );
    // Docker re-aligns the columns; ps's own alignment is kept here.
    println!("{}", rows.join("\n"));
    Ok(0)
}

/// The processes (root-namespace PIDs) in the PID namespace of `pid`.
fn pids_in_namespace_of(pid: i32) -> Vec<i32> {
    let ns = |p: i32| std::fs::read_link(format!("/proc/{p}/ns/pid")).ok();
    let Some(want) = ns(pid) else {
        return Vec::new();
    };
    let mut out: Vec<i32> = std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter(|p| ns(*p).as_ref() == Some(&want))
        .collect();
    out.sort_unstable();
    out
}

/// `container prune`: remove every stopped (exited or created) container.
pub async fn prune(lab: &Lab, mode: Mode, a: PruneArgs) -> Result<i32> {
    if !a.force && !confirm("WARNING! This will remove all stopped containers.")? {
        return Ok(0);
    }
    let stopped: Vec<String> = {
        let d = read_lab(lab, mode).await?;
        d.store
            .containers()?
            .into_iter()
            .filter(|c| c.status != ContainerStatus::Running || !c.shim.is_some_and(|p| p.alive()))
            .map(|c| c.id)
            .collect()
    };
    let mut exec = Executor::new(mode);
    let (_lock, mut d) = open_lab(lab, &mut exec).await?;
    let mut batch = Vec::new();
    for id in stopped {
        if let Some(rec) = container::settle(&mut d, &mut exec, &id).await?
            && rec.status != ContainerStatus::Running
        {
            batch.push(rec);
        }
    }
    // One batch, as `rm` of several: their namespaces go together.
    let results = container::remove_all(&mut d, &mut exec, &mut batch).await;
    let mut deleted = Vec::new();
    for (rec, r) in batch.iter().zip(results) {
        match r {
            Ok(()) => deleted.push(rec.id.clone()),
            Err(e) => eprintln!("dockernet: {e}"),
        }
    }
    exec.close().await;
    if !deleted.is_empty() {
        println!("Deleted Containers:");
        for id in &deleted {
            println!("{id}");
        }
        println!();
    }
    println!("Total reclaimed space: 0B");
    Ok(0)
}

/// Docker's `[y/N]` prompt; anything but yes (or end of input) means no.
fn confirm(warning: &str) -> Result<bool> {
    use std::io::{BufRead, Write};
    // Docker reads the answer from stdin, terminal or not (`yes | docker … prune`).
    eprint!("{warning}\nAre you sure you want to continue? [y/N] ");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes" | "Yes"))
}
