//! Container commands: run, exec, logs, stop, start, inspect (rm and the loop over
//! several names: `each.rs`).

use super::{open_lab, read_lab};
use crate::container::{self, RunSpec};
use crate::error::{EXIT_REFUSED, Error, Result};
use crate::lab::{ContainerStatus, Lab};
use crate::step::{Executor, Mode};
use clap::Args;
use std::time::Duration;

/// `run` flags (Docker's).
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Run in the background and print the container ID.
    #[arg(short = 'd', long)]
    pub detach: bool,
    /// Keep STDIN open.
    #[arg(short = 'i', long)]
    pub interactive: bool,
    /// Allocate a pseudo-TTY (the container's shim keeps it; `attach` to it again).
    #[arg(short = 't', long)]
    pub tty: bool,
    /// Override the key sequence for detaching a container (default ctrl-p,ctrl-q).
    #[arg(long = "detach-keys")]
    pub detach_keys: Option<String>,
    /// Remove the container when it exits.
    #[arg(long)]
    pub rm: bool,
    /// Assign a name to the container.
    #[arg(long)]
    pub name: Option<String>,
    /// Container host name.
    #[arg(long)]
    pub hostname: Option<String>,
    /// Connect a container to a network: bridge (default), host, none, container:NAME|ID, or a network's name.
    #[arg(long = "network", visible_alias = "net", default_value = "bridge")]
    #[arg(add = clap_complete::ArgValueCandidates::new(super::complete::networks))]
    pub network: String,
    /// Set environment variables.
    #[arg(short = 'e', long = "env")]
    pub env: Vec<String>,
    /// Publish a container's port(s) to the host (`-p 8080:80`, `-p 80`, `-p 127.0.0.1:8080:80/udp`).
    #[arg(short = 'p', long = "publish")]
    pub publish: Vec<String>,
    /// Publish all exposed ports to random ports.
    #[arg(short = 'P', long = "publish-all")]
    pub publish_all: bool,
    /// Expose a port or a range of ports (published by `-P`).
    #[arg(long)]
    pub expose: Vec<String>,
    /// Add link to another container (NAME[:ALIAS]).
    #[arg(long)]
    pub link: Vec<String>,
    /// IPv4 address (user-defined networks only).
    #[arg(long)]
    pub ip: Option<String>,
    /// Network-scoped alias (user-defined networks only).
    #[arg(long = "network-alias")]
    pub network_alias: Vec<String>,
    /// Custom DNS servers.
    #[arg(long)]
    pub dns: Vec<String>,
    /// Add a custom host-to-IP mapping (host:ip).
    #[arg(long = "add-host")]
    pub add_host: Vec<String>,
    /// Container MAC address.
    #[arg(long = "mac-address")]
    pub mac_address: Option<String>,
    /// Add Linux capabilities (`NET_ADMIN`, `ALL`, ...).
    #[arg(long = "cap-add")]
    pub cap_add: Vec<String>,
    /// Drop Linux capabilities.
    #[arg(long = "cap-drop")]
    pub cap_drop: Vec<String>,
    /// Give extended privileges to this container (all capabilities, no seccomp).
    #[arg(long)]
    pub privileged: bool,
    /// IMAGE [COMMAND] [ARG...]: a built-in image (busybox, httpd, redis, tomcat) and
    /// optionally a command; or `-- COMMAND [ARG...]` to run a host command.
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "IMAGE [COMMAND]"
    )]
    pub args: Vec<String>,
}

impl RunArgs {
    /// Split the positional words into (image, command) the way Docker reads them;
    /// `dashdash` says whether the user wrote `--` (then a non-image word starts a
    /// host command instead of naming an unknown image).
    pub fn image_and_command(&self, dashdash: bool) -> (Option<String>, Vec<String>) {
        let mut words = self.args.clone();
        if words.first().is_some_and(|w| w == "--") {
            words.remove(0);
        }
        match words.first() {
            Some(first) if crate::image::find_image(first).is_some() || !dashdash => {
                let image = words.remove(0);
                if words.first().is_some_and(|w| w == "--") {
                    words.remove(0);
                }
                (Some(image), words)
            }
            _ => (None, words),
        }
    }
}

/// `exec` flags.
#[derive(Debug, Args)]
pub struct ExecArgs {
    /// Keep STDIN open.
    #[arg(short = 'i', long)]
    pub interactive: bool,
    /// Allocate a pseudo-TTY.
    #[arg(short = 't', long)]
    pub tty: bool,
    /// Override the key sequence for detaching (default ctrl-p,ctrl-q).
    #[arg(long = "detach-keys")]
    pub detach_keys: Option<String>,
    /// Set environment variables.
    #[arg(short = 'e', long = "env")]
    pub env: Vec<String>,
    /// Container name or ID.
    #[arg(add = clap_complete::ArgValueCandidates::new(super::complete::containers))]
    pub container: String,
    /// Command and arguments.
    #[arg(required = true, trailing_var_arg = true, allow_hyphen_values = true)]
    pub command: Vec<String>,
}

/// `logs` flags.
#[derive(Debug, Args)]
pub struct LogsArgs {
    /// Follow log output.
    #[arg(short = 'f', long)]
    pub follow: bool,
    /// Container name or ID.
    #[arg(add = clap_complete::ArgValueCandidates::new(super::complete::containers))]
    pub container: String,
}

/// `stop` flags.
#[derive(Debug, Args)]
pub struct StopArgs {
    /// Seconds to wait before killing the container.
    #[arg(short = 't', long = "time", default_value_t = 10)]
    pub time: u64,
    /// Containers.
    #[arg(required = true)]
    #[arg(add = clap_complete::ArgValueCandidates::new(super::complete::containers))]
    pub containers: Vec<String>,
}

/// One or more containers.
#[derive(Debug, Args)]
pub struct NamesArgs {
    /// Containers.
    #[arg(required = true)]
    #[arg(add = clap_complete::ArgValueCandidates::new(super::complete::containers))]
    pub containers: Vec<String>,
}

/// `rm` flags.
#[derive(Debug, Args)]
pub struct RmArgs {
    /// Force the removal of a running container (uses SIGKILL).
    #[arg(short = 'f', long)]
    pub force: bool,
    /// Containers.
    #[arg(required = true)]
    #[arg(add = clap_complete::ArgValueCandidates::new(super::complete::containers))]
    pub containers: Vec<String>,
}

/// What `run` and `create` were asked for.
pub(super) fn run_spec(a: RunArgs) -> RunSpec {
    let dashdash = std::env::args_os().any(|w| w == "--");
    let (image, cmd) = a.image_and_command(dashdash);
    RunSpec {
        name: a.name,
        hostname: a.hostname,
        image,
        cmd,
        network: a.network,
        ip: a.ip,
        aliases: a.network_alias,
        env: a.env,
        detach: a.detach,
        interactive: a.interactive,
        tty: a.tty,
        auto_remove: a.rm,
        links: a.link,
        dns: a.dns,
        add_hosts: a.add_host,
        mac_address: a.mac_address,
        publish: a.publish,
        publish_all: a.publish_all,
        expose: a.expose,
        cap_add: a.cap_add,
        cap_drop: a.cap_drop,
        privileged: a.privileged,
    }
}

/// `run`
pub async fn run(lab: &Lab, mode: Mode, a: RunArgs) -> Result<i32> {
    // Options must come before IMAGE; a leftover option would otherwise be taken for
    // an image name.
    if let Some(flag) = a.args.first().filter(|w| w.starts_with('-') && *w != "--") {
        return Err(Error::with_code(
            // Docker's words first ("unknown flag: --x"), then ours.
            crate::ui::tr(
                format!(
                    "unknown flag: {flag} (options go before IMAGE; see 'dockernet run --help')"
                ),
                format!(
                    "unknown flag: {flag}（选项要写在镜像名之前；参见 'dockernet run --help'）"
                ),
            ),
            EXIT_REFUSED,
        ));
    }
    let keys = container::attach::parse_detach_keys(a.detach_keys.as_deref())?;
    container::attach::check_tty_input(a.tty && !a.detach, a.interactive)?;
    let spec = run_spec(a);
    // What the docker CLI refuses while parsing flags builds nothing, not even the lab.
    container::check_flags(&spec)?;
    let mut exec = Executor::new(mode);
    let (lock, mut d) = open_lab(lab, &mut exec).await?;
    let mut rec = container::create_record(&d, &spec).map_err(Error::refused)?;
    // `-t`: started as a detached container (its shim owns the pty, the lab host its
    // processes), and we attach to it below, as the docker CLI does.
    rec.detached |= spec.tty;
    let spawned = match container::start(&mut d, &mut exec, &mut rec).await {
        Ok(s) => s,
        Err(e) => {
            // Nothing of it stays: start undid its steps and claims; forget the record.
            d.store.remove_container(&exec, &rec.id, &rec.name)?;
            d.store.pending_done(&exec, &rec.id)?;
            exec.close().await;
            // The daemon refused it (a taken port, an address in use): 125, as Docker.
            return Err(e.refused());
        }
    };
    drop(lock);
    let Some(mut spawned) = spawned else {
        exec.close().await;
        return Ok(0);
    };
    if spec.detach {
        println!("{}", rec.id);
        exec.close().await;
        return Ok(0);
    }
    let status = if spec.tty {
        let dir = d.store.container_dir(&rec.id);
        let Some(code) = super::attach::run_attached(&dir, spec.interactive, &keys, &mut spawned)?
        else {
            // Detached: the container runs on, as after `docker run -it` and Ctrl-p Ctrl-q.
            exec.close().await;
            return Ok(0);
        };
        code
    } else {
        // Foreground: the container shares our terminal; wait for it, then tidy up.
        // SAFETY: ignoring terminal signals while the container owns the terminal.
        unsafe {
            libc::signal(libc::SIGINT, libc::SIG_IGN);
            libc::signal(libc::SIGQUIT, libc::SIG_IGN);
        }
        // Docker's status for a process killed by a signal: 128 + the signal (137: SIGKILL).
        spawned
            .child
            .as_mut()
            .and_then(|c| c.wait().ok())
            .and_then(|s| {
                use std::os::unix::process::ExitStatusExt;
                s.code().or_else(|| s.signal().map(|n| 128 + n))
            })
            .unwrap_or(1)
    };
    // The lab may be gone (`lab down` in another terminal killed the container): say so,
    // and do not create its directory again by locking it.
    let removed = |how: String| {
        eprintln!(
            "dockernet: {}",
            crate::ui::tr(
                format!("container {} was removed while it ran: {how}", rec.name),
                format!("容器 {} 在运行时被删除：{how}", rec.name),
            )
        );
    };
    let lab_gone = || {
        crate::ui::tr(
            format!(
                "lab {} was taken down (`lab down`) from another terminal",
                lab.name
            ),
            format!("实验环境 {} 已在另一个终端被 `lab down` 删除", lab.name),
        )
    };
    let Some(_lock) = lab.lock_if_exists()? else {
        removed(lab_gone());
        exec.close().await;
        return Ok(status);
    };
    let Some(r) = lab.store().lab()? else {
        removed(lab_gone());
        exec.close().await;
        return Ok(status);
    };
    let mut d = crate::lab::Daemon::new(lab, r);
    if container::settle(&mut d, &mut exec, &rec.id)
        .await?
        .is_none()
        && !rec.auto_remove
    {
        removed(crate::ui::tr(
            "`rm -f` from another terminal",
            "在另一个终端执行了 `rm -f`",
        ));
    }
    exec.close().await;
    Ok(status)
}

/// `exec`
pub async fn exec(lab: &Lab, mode: Mode, a: ExecArgs) -> Result<i32> {
    // `-e` is checked as the docker CLI parses it, before anything else.
    let user_env = crate::docker::flags::user_env(&a.env)?;
    let keys = container::attach::parse_detach_keys(a.detach_keys.as_deref())?;
    container::attach::check_tty_input(a.tty, a.interactive)?;
    let d = read_lab(lab, mode).await?;
    let c = d.store.find_container(&a.container)?;
    let running = c.status == ContainerStatus::Running && c.init.is_some_and(|p| p.alive());
    if !running {
        return Err(Error::msg(format!(
            "Error response from daemon: container {} is not running",
            c.id
        )));
    }
    let Some(init) = c.init else {
        return Err(Error::msg(
            "Error response from daemon: container is not running",
        ));
    };
    let mut env = c.env.clone();
    env.extend(c.link_env.iter().cloned());
    env.extend(user_env);
    if a.tty {
        env.push("TERM=xterm".into());
    }
    if mode == Mode::DryRun {
        return Ok(0);
    }
    let image = c.image.as_deref().and_then(crate::image::find_image);
    if a.tty {
        return container::exec_tty(
            init,
            c.privileges(),
            crate::image::rootfs::workdir(image),
            &env,
            &a.command,
            a.interactive,
            &keys,
        );
    }
    container::exec_in(
        init,
        c.privileges(),
        crate::image::rootfs::workdir(image),
        &env,
        &a.command,
        a.interactive,
    )
}

/// `logs`
pub async fn logs(lab: &Lab, mode: Mode, a: LogsArgs) -> Result<i32> {
    let d = read_lab(lab, mode).await?;
    let c = d.store.find_container(&a.container)?;
    let path = d.store.container_dir(&c.id).join("log");
    if !c.detached {
        return Err(Error::msg(crate::ui::tr(
            format!(
                "{} ran in the foreground: its output went to the terminal, there is no log",
                c.name
            ),
            format!("{} 在前台运行：输出直接到了终端，没有日志", c.name),
        )));
    }
    let mut file = std::fs::File::open(&path)
        .map_err(|e| Error::from(e).context(format!("opening {}", path.display())))?;
    let mut out = std::io::stdout();
    loop {
        std::io::copy(&mut file, &mut out)?;
        if !a.follow || !c.shim.is_some_and(|p| p.alive()) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    std::io::copy(&mut file, &mut out)?;
    Ok(0)
}

/// `stop`
pub async fn stop(lab: &Lab, mode: Mode, a: StopArgs) -> Result<i32> {
    // A process that ignores SIGTERM takes the whole grace period: show that we wait.
    let spinner = std::io::IsTerminal::is_terminal(&std::io::stderr()).then(|| {
        let pb = indicatif::ProgressBar::new_spinner();
        pb.set_message(format!(
            "stopping {} (SIGTERM, then SIGKILL after {}s)",
            a.containers.join(", "),
            a.time
        ));
        pb.enable_steady_tick(Duration::from_millis(100));
        pb
    });
    let r = super::each::for_each(lab, mode, &a.containers, |d, ex, rec| {
        Box::pin(container::stop(d, ex, rec, Duration::from_secs(a.time)))
    })
    .await;
    if let Some(pb) = spinner {
        pb.finish_and_clear();
    }
    r
}

/// `start`
pub async fn start(lab: &Lab, mode: Mode, a: NamesArgs) -> Result<i32> {
    super::each::for_each(lab, mode, &a.containers, |d, ex, rec| {
        Box::pin(container::restart_stopped(d, ex, rec))
    })
    .await
}

/// `inspect`
pub async fn inspect(lab: &Lab, mode: Mode, a: super::format::InspectArgs) -> Result<i32> {
    // Docker parses the template before it looks anything up.
    let format = super::format::InspectFormat::parse(a.format.as_deref())?;
    let d = read_lab(lab, mode).await?;
    let mut values = Vec::new();
    let mut failed = false;
    for name in &a.containers {
        match d.store.find_container(name) {
            Ok(c) => values.push(crate::view::docker_inspect::container_json(&d, &c)),
            // A known name whose record cannot be read is damage: say so, with the way out.
            Err(e) if d.store.container_by_name(name).is_some() => {
                eprintln!("dockernet: {e}");
                failed = true;
            }
            Err(_) => {
                eprintln!("dockernet: Error: No such object: {name}");
                failed = true;
            }
        }
    }
    failed |= format.print(&values);
    Ok(if failed { 1 } else { 0 })
}
