//! `lab up|down|status`, `host`, `world`.

use super::{Format, LabCommand, require_root};
use crate::error::{Context, Error, Result};
use crate::lab::{DownResult, Lab, LabUpOptions};
use crate::step::{Executor, Mode};
use std::os::fd::AsRawFd;

/// `lab ...`
pub async fn lab(lab: &Lab, mode: Mode, c: LabCommand) -> Result<i32> {
    match c {
        LabCommand::Up {
            userland_proxy,
            icc,
        } => {
            require_root()?;
            let mut ex = Executor::new(mode);
            let _lock = lab.lock_for(mode == Mode::DryRun)?;
            let existed = lab.store().lab()?.is_some();
            let opts = LabUpOptions {
                userland_proxy,
                icc,
            };
            let mut st = crate::lab::ensure_up(lab, &mut ex, &opts).await;
            if let Ok(rec) = &st {
                // dockerd runs with its embedded DNS server from the start.
                let mut d = crate::lab::Daemon::new(lab, rec.clone());
                if let Err(e) = crate::dns::ensure_running(&mut d, &mut ex).await {
                    st = Err(e);
                }
            }
            if existed && st.is_ok() {
                ex.narrate(&format!(
                    "# lab {} is up already: nothing to build",
                    lab.name
                ));
            }
            ex.close().await;
            let st = st?;
            if existed && (st.userland_proxy != userland_proxy || st.icc != icc) {
                return Err(Error::msg(format!(
                    "lab {} already runs with --userland-proxy={} --icc={}; run `dockernet --lab {} lab down` first to change them",
                    lab.name, st.userland_proxy, st.icc, lab.name
                )));
            }
            if mode != Mode::DryRun {
                println!(
                    "lab {} is up: host {} (eth0 198.51.100.2, docker0 172.17.0.1), world {}",
                    lab.name,
                    lab.host_ns(),
                    lab.world_ns()
                );
            }
            Ok(0)
        }
        LabCommand::Down => {
            require_root()?;
            let mut ex = Executor::new(mode);
            let result = crate::lab::lab_down(lab, &mut ex).await;
            ex.close().await;
            match result? {
                DownResult::Absent => {
                    println!("lab {} does not exist; nothing to remove", lab.name)
                }
                _ if mode == Mode::DryRun => {}
                DownResult::Removed => println!("lab {} removed", lab.name),
                DownResult::RemovedByName => println!(
                    "{}",
                    crate::ui::tr(
                        format!(
                            "lab {}: its state was damaged or missing; removed everything of it by name (namespaces dn-{}-*, processes, files)",
                            lab.name, lab.name
                        ),
                        format!(
                            "实验环境 {}：状态文件已损坏或缺失，已按名称删除它的全部对象（命名空间 dn-{}-*、进程和文件）",
                            lab.name, lab.name
                        ),
                    )
                ),
            }
            Ok(0)
        }
        LabCommand::Status { format } => {
            // The state is root's only (0700): say so, rather than report a lab that
            // cannot be read as absent or broken.
            require_root()?;
            let r = crate::lab::lab_status(lab)?;
            if format == Format::Json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&r).map_err(|e| Error::msg(e.to_string()))?
                );
            } else {
                println!("lab:        {}", r.lab);
                println!("status:     {}", r.status);
                println!(
                    "namespaces: {}",
                    if r.namespaces.is_empty() {
                        "-".into()
                    } else {
                        r.namespaces.join(" ")
                    }
                );
                println!(
                    "networks:   {}",
                    if r.networks.is_empty() {
                        "-".into()
                    } else {
                        r.networks.join(" ")
                    }
                );
                if let Some(d) = &r.resolver {
                    println!(
                        "dns:        {} (pid {}): {} containers, upstream {}",
                        crate::dns::PROCESS_NAME,
                        d.pid,
                        d.containers,
                        d.upstream.as_deref().unwrap_or("none")
                    );
                }
                for (name, state) in &r.containers {
                    println!("container:  {name} ({state})");
                }
                for p in &r.problems {
                    println!("problem:    {p}");
                }
            }
            Ok(if r.problems.is_empty() { 0 } else { 1 })
        }
    }
}

/// Where `host` / `world` run their command.
pub enum Place {
    /// The lab's Docker host.
    Host,
    /// The outside world.
    World,
}

/// `host [-- CMD]` / `world [-- CMD]`: run a command (default: a shell) in that namespace,
/// with a private /sys showing its interfaces, like `ip netns exec`.
pub async fn shell(lab: &Lab, mode: Mode, place: Place, command: Vec<String>) -> Result<i32> {
    let d = super::read_lab(lab, mode).await?;
    // The lab host's own PID and mount namespaces (its /proc, /sys, resolv.conf).
    let host_init = match place {
        Place::Host => d.rec.host_init.filter(|p| p.alive()),
        Place::World => None,
    };
    if mode == Mode::DryRun {
        return Ok(0);
    }
    let (ns, uts, label) = match place {
        Place::Host => (lab.host_ns(), Some(lab.host_uts_path()), "host"),
        Place::World => (lab.world_ns(), None, "world"),
    };
    let interactive = command.is_empty();
    let argv = if interactive {
        let sh = std::env::var("SHELL")
            .ok()
            .filter(|s| std::path::Path::new(s).exists())
            .unwrap_or_else(|| "/bin/sh".into());
        vec![sh]
    } else {
        command
    };
    let net = crate::netns::open(&crate::netns::path(&ns))?;
    let uts = match uts {
        Some(p) => Some(crate::netns::open(&p)?),
        None => None,
    };
    let mut cmd = std::process::Command::new(&argv[0]);
    cmd.args(&argv[1..]);
    if interactive {
        eprintln!("dockernet: a shell in the lab's {label} ({ns}); type `exit` to leave");
        cmd.env("PS1", format!("[{label}:{}] \\w# ", lab.name));
        cmd.env("DOCKERNET_PLACE", label);
    }
    // The host's own resolver (the lab's internet DNS), bound in the command's private
    // mount namespace. Leaked: one small string for a process that only waits.
    let resolv_conf = match place {
        Place::Host => std::ffi::CString::new(lab.host_resolv_conf().display().to_string())
            .ok()
            .filter(|_| lab.host_resolv_conf().exists())
            .map(|c| &*Box::leak(c.into_boxed_c_str())),
        Place::World => None,
    };
    let mnt = match &host_init {
        Some(p) => Some(crate::netns::open(&crate::lab::hostinit::mnt_ns(p))?),
        None => None,
    };
    // `net`, `uts` and `mnt` stay open here until the command has run.
    crate::netns::ChildSetup {
        net: Some(net.as_raw_fd()),
        uts: uts.as_ref().map(|u| u.as_raw_fd()),
        mnt: mnt.as_ref().map(|m| m.as_raw_fd()),
        fresh_sys: mnt.is_none(),
        resolv_conf: resolv_conf.filter(|_| mnt.is_none()),
        ..Default::default()
    }
    .install(&mut cmd, Vec::new());
    let status = crate::lab::hostinit::spawn(host_init.as_ref(), cmd)
        .and_then(|mut c| c.wait())
        .with_ctx(|| format!("running {}", argv[0]))?;
    drop(mnt);
    drop(net);
    drop(uts);
    Ok(status.code().unwrap_or(1))
}
