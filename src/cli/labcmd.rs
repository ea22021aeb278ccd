//! `lab up|down|status`, `host`, `world`.

use super::{Format, LabCommand, require_root};
use crate::error::{Context, Error, Result};
use crate::lab::{DownResult, Lab, LabUpOptions};
use crate::step::{Executor, Mode};
use crate::ui::tr;
use std::os::fd::AsRawFd;

/// `lab ...`
pub async fn lab(lab: &Lab, mode: Mode, c: LabCommand) -> Result<i32> {
    match c {
        LabCommand::Up {
            userland_proxy,
            icc,
            engine,
            firewall_backend,
        } => {
            let asked_engine = engine
                .as_deref()
                .map(crate::firewall::Engine::parse)
                .transpose()?;
            let engine = asked_engine.unwrap_or_default();
            let asked_backend = firewall_backend
                .as_deref()
                .map(|b| crate::firewall::Backend::parse(b, engine))
                .transpose()?;
            let firewall_backend = asked_backend.unwrap_or_default();
            require_root()?;
            let mut ex = Executor::new(mode);
            let _lock = lab.lock_for(mode == Mode::DryRun)?;
            let existed = lab.store().lab()?.is_some();
            let opts = LabUpOptions {
                userland_proxy: userland_proxy.unwrap_or(true),
                icc: icc.unwrap_or(true),
                engine,
                firewall_backend,
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
                ex.narrate(&tr(
                    format!("# lab {} is up already: nothing to build", lab.name),
                    format!("# 实验环境 {} 已经在运行，无需再建", lab.name),
                ));
            }
            ex.close().await;
            let st = st?;
            if existed
                && (userland_proxy.is_some_and(|v| v != st.userland_proxy)
                    || icc.is_some_and(|v| v != st.icc)
                    || asked_engine.is_some_and(|e| e != st.engine)
                    || asked_backend.is_some_and(|b| b != st.firewall_backend))
            {
                return Err(Error::msg(tr(
                    format!(
                        "lab {} already runs with --userland-proxy={} --icc={} --engine {} --firewall-backend {}; run `dockernet --lab {} lab down` first to change them",
                        lab.name,
                        st.userland_proxy,
                        st.icc,
                        st.engine,
                        st.firewall_backend,
                        lab.name
                    ),
                    format!(
                        "实验环境 {} 正以 --userland-proxy={} --icc={} --engine {} --firewall-backend {} 运行；要改这些设置，先运行 `dockernet --lab {} lab down`",
                        lab.name,
                        st.userland_proxy,
                        st.icc,
                        st.engine,
                        st.firewall_backend,
                        lab.name
                    ),
                )));
            }
            if mode != Mode::DryRun {
                println!(
                    "{}",
                    tr(
                        format!(
                            "lab {} is up: host {} (eth0 198.51.100.2, docker0 172.17.0.1), world {}; rules of {}",
                            lab.name,
                            lab.host_ns(),
                            lab.world_ns(),
                            rules_of(&st)
                        ),
                        format!(
                            "实验环境 {} 已就绪：宿主机 {}（eth0 198.51.100.2，docker0 172.17.0.1），外部世界 {}；规则布局：{}",
                            lab.name,
                            lab.host_ns(),
                            lab.world_ns(),
                            rules_of(&st)
                        ),
                    )
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
                DownResult::Absent => println!(
                    "{}",
                    tr(
                        format!("lab {} does not exist; nothing to remove", lab.name),
                        format!("实验环境 {} 不存在，无需删除", lab.name),
                    )
                ),
                _ if mode == Mode::DryRun => {}
                DownResult::Removed => println!(
                    "{}",
                    tr(
                        format!("lab {} removed", lab.name),
                        format!("实验环境 {} 已删除", lab.name),
                    )
                ),
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
                let list = |v: &[String]| {
                    if v.is_empty() {
                        "-".to_string()
                    } else {
                        v.join(" ")
                    }
                };
                println!("{}{}", label("lab", "实验环境"), r.lab);
                println!("{}{}", label("status", "状态"), status_word(&r.status));
                if let Some(e) = r.engine {
                    println!("{}{}", label("engine", "引擎"), e.describe());
                }
                if let Some(b) = r.firewall_backend {
                    println!("{}{}", label("firewall", "防火墙"), b);
                }
                println!("{}{}", label("namespaces", "命名空间"), list(&r.namespaces));
                if r.hosts.len() > 1 {
                    let hosts: Vec<String> = r
                        .hosts
                        .iter()
                        .map(|h| format!("{} ({})", h.name, h.lan))
                        .collect();
                    println!("{}{}", label("hosts", "宿主机"), hosts.join(", "));
                }
                println!("{}{}", label("networks", "网络"), list(&r.networks));
                if let Some(d) = &r.resolver {
                    let upstream = d.upstream.clone().unwrap_or_else(|| tr("none", "无"));
                    println!(
                        "{}{}",
                        label("dns", "DNS"),
                        tr(
                            format!(
                                "{} (pid {}): {} containers, upstream {upstream}",
                                crate::dns::PROCESS_NAME,
                                d.pid,
                                d.containers
                            ),
                            format!(
                                "{}（pid {}）：服务 {} 个容器，上游 {upstream}",
                                crate::dns::PROCESS_NAME,
                                d.pid,
                                d.containers
                            ),
                        )
                    );
                }
                for (name, state) in &r.containers {
                    println!("{}{name} ({state})", label("container", "容器"));
                }
                for p in &r.problems {
                    println!("{}{p}", label("problem", "问题"));
                }
            }
            Ok(if r.problems.is_empty() { 0 } else { 1 })
        }
        LabCommand::Host(c) => super::hostcmd::host(lab, mode, c).await,
    }
}

/// A `lab status` label with its colon, padded so that the values line up (a Chinese
/// character takes two columns).
/// The lab's rule layout in words: the engine's, or Docker 29's nftables table.
fn rules_of(st: &crate::lab::LabRecord) -> String {
    if st.firewall_backend.is_nftables() {
        tr(
            "Docker 29 with nftables (table ip docker-bridges, no iptables rules)",
            "Docker 29，nftables 后端（ip docker-bridges 表，不写 iptables 规则）",
        )
    } else {
        st.engine.describe()
    }
}

fn label(en: &str, zh: &str) -> String {
    let text = tr(format!("{en}:"), format!("{zh}："));
    let width = crate::docker::width::cell_width(&text);
    format!("{text}{}", " ".repeat(12usize.saturating_sub(width)))
}

/// The lab's state in the message language (`lab status --format json` keeps the key).
fn status_word(status: &str) -> String {
    let zh = match status {
        "up" => "运行中",
        "absent" => "不存在",
        "broken" => "已损坏",
        "creating" => "创建中",
        other => other,
    };
    tr(status, zh)
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
        Place::Host => (lab.host_ns(), Some(lab.host_uts_path()), lab.host.as_str()),
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
        eprintln!(
            "{}",
            tr(
                format!("dockernet: a shell in the lab's {label} ({ns}); type `exit` to leave"),
                format!(
                    "dockernet：进入实验环境的{}（{ns}），输入 `exit` 离开",
                    match place {
                        Place::Host if lab.is_first_host() => "宿主机".to_string(),
                        Place::Host => format!("宿主机 {label}"),
                        Place::World => "外部世界".to_string(),
                    }
                ),
            )
        );
        cmd.env("PS1", format!("[{label}:{}] \\w# ", lab.name));
        cmd.env(
            "DOCKERNET_PLACE",
            if matches!(place, Place::Host) {
                "host"
            } else {
                "world"
            },
        );
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
        .with_ctx(|| tr(format!("running {}", argv[0]), format!("运行 {}", argv[0])))?;
    drop(mnt);
    drop(net);
    drop(uts);
    Ok(status.code().unwrap_or(1))
}
