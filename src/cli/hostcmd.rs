//! `lab host add|rm|ls`: the lab's Docker hosts.

use super::{Format, require_root};
use crate::error::{Error, Result};
use crate::lab::{Lab, hosts};
use crate::step::{Executor, Mode};
use crate::ui::tr;
use clap::Subcommand;

/// `lab host` subcommands.
#[derive(Debug, Subcommand)]
pub enum HostCommand {
    /// Add a Docker host to the lab's LAN (the next free 198.51.100.x), with its own
    /// docker0, iptables, embedded DNS and containers; it joins the lab's overlays.
    Add {
        /// Its name (1-11 lowercase letters or digits): `--host NAME` selects it.
        name: String,
    },
    /// Remove Docker hosts with their containers and networks.
    #[command(alias = "remove")]
    Rm {
        /// Their names.
        #[arg(required = true)]
        names: Vec<String>,
    },
    /// List the lab's Docker hosts (`*` marks the one `--host` selects).
    #[command(alias = "list")]
    Ls {
        /// Output format.
        #[arg(long, value_enum, default_value_t)]
        format: Format,
        /// Only the names.
        #[arg(short, long)]
        quiet: bool,
    },
}

/// `lab host ...`
pub async fn host(lab: &Lab, mode: Mode, c: HostCommand) -> Result<i32> {
    require_root()?;
    match c {
        HostCommand::Add { name } => {
            let host = lab.on_host(&name)?;
            let mut ex = Executor::new(mode);
            let result = add(&host, &mut ex).await;
            ex.close().await;
            let rec = result?;
            if mode != Mode::DryRun {
                println!(
                    "{}",
                    tr(
                        format!(
                            "host {} is up: {} (eth0 {}, docker0 172.17.0.1) on the LAN of lab {}",
                            rec.host.name, rec.host.netns, rec.host.lan, lab.name
                        ),
                        format!(
                            "宿主机 {} 已就绪：{}（eth0 {}，docker0 172.17.0.1），在实验环境 {} 的局域网上",
                            rec.host.name, rec.host.netns, rec.host.lan, lab.name
                        ),
                    )
                );
            }
            Ok(0)
        }
        HostCommand::Rm { names } => {
            let mut ex = Executor::new(mode);
            let mut status = 0;
            {
                let _lock = lab.lock_for(mode == Mode::DryRun)?;
                for name in &names {
                    let r = match lab.on_host(name) {
                        Ok(h) => {
                            let gone = h.store().container_ids();
                            hosts::remove(&h, &mut ex).await.map(|()| (h, gone))
                        }
                        Err(e) => Err(e),
                    };
                    match r {
                        Ok((h, gone)) => {
                            if let Err(e) = crate::overlay::host_left(&h, &mut ex, &gone).await {
                                eprintln!("dockernet: {e}");
                                status = 1;
                            }
                            println!("{name}");
                        }
                        Err(e) => {
                            eprintln!("dockernet: {e}");
                            status = 1;
                        }
                    }
                }
            }
            ex.close().await;
            Ok(status)
        }
        HostCommand::Ls { format, quiet } => {
            let hosts = hosts::records(lab);
            if hosts.iter().all(|(_, r)| r.is_none()) {
                return Err(Error::msg(tr(
                    format!(
                        "lab {} does not exist: `dockernet --lab {} lab up` builds it",
                        lab.name, lab.name
                    ),
                    format!(
                        "实验环境 {} 不存在：`dockernet --lab {} lab up` 可以创建它",
                        lab.name, lab.name
                    ),
                )));
            }
            let rows: Vec<Row> = hosts
                .iter()
                .filter_map(|(h, r)| r.as_ref().map(|r| Row::of(h, r, lab)))
                .collect();
            if quiet {
                for r in &rows {
                    println!("{}", r.name);
                }
            } else if format == Format::Json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&rows).map_err(|e| Error::msg(e.to_string()))?
                );
            } else {
                let table: Vec<Vec<String>> = rows
                    .iter()
                    .map(|r| {
                        vec![
                            format!("{}{}", r.name, if r.selected { " *" } else { "" }),
                            r.address.clone(),
                            r.hostname.clone(),
                            r.namespace.clone(),
                            r.containers.to_string(),
                            r.status.clone(),
                        ]
                    })
                    .collect();
                print!(
                    "{}",
                    crate::docker::table::render_table(
                        &[
                            "NAME",
                            "LAN ADDRESS",
                            "HOSTNAME",
                            "NAMESPACE",
                            "CONTAINERS",
                            "STATUS"
                        ],
                        &table
                    )
                );
            }
            Ok(0)
        }
    }
}

/// Build a host with the lab lock held, the lab up first; its record on success.
async fn add(host: &Lab, ex: &mut Executor) -> Result<crate::lab::LabRecord> {
    let _lock = host.lock_for(ex.dry_run())?;
    let first = crate::lab::ensure_up(&host.first_host(), ex, &Default::default()).await?;
    if !ex.dry_run() {
        hosts::recover(host, ex).await?;
    }
    let rec = hosts::add(host, ex, &first).await?;
    // dockerd's embedded DNS server, and the swarm's overlays, from the start.
    let mut d = crate::lab::Daemon::new(host, rec.clone());
    crate::dns::ensure_running(&mut d, ex).await?;
    crate::overlay::host_joined(&d, ex).await?;
    Ok(rec)
}

/// One line of `lab host ls`.
#[derive(serde::Serialize)]
#[serde(rename_all = "PascalCase")]
struct Row {
    name: String,
    address: String,
    hostname: String,
    namespace: String,
    containers: usize,
    status: String,
    selected: bool,
}

impl Row {
    fn of(h: &Lab, r: &crate::lab::LabRecord, selected: &Lab) -> Row {
        let up = r.status == crate::lab::LabStatus::Up
            && r.host_init.is_none_or(|p| p.alive())
            && crate::netns::exists(&r.host.netns);
        Row {
            name: r.host.name.clone(),
            address: r.host.lan.to_string(),
            hostname: r.host.hostname.clone(),
            namespace: r.host.netns.clone(),
            containers: h.store().container_ids().len(),
            status: if up {
                tr("up", "运行中")
            } else {
                tr("broken", "已损坏")
            },
            selected: h.host == selected.host,
        }
    }
}
