//! `ps` and `port`: listing containers and their published ports in Docker's formats.

use super::read_lab;
use crate::error::{Error, Result};
use crate::lab::{ContainerRecord, ContainerStatus, Lab};
use crate::step::Mode;
use clap::Args;

/// `ps` flags.
#[derive(Debug, Args)]
pub struct PsArgs {
    /// Show all containers (default shows just running).
    #[arg(short = 'a', long)]
    pub all: bool,
    /// Only display container IDs.
    #[arg(short = 'q', long)]
    pub quiet: bool,
    /// Don't truncate output.
    #[arg(long)]
    pub no_trunc: bool,
    /// Show the latest created container (includes all states).
    #[arg(short = 'l', long)]
    pub latest: bool,
    /// Show the N last created containers (includes all states).
    #[arg(short = 'n', long = "last", allow_negative_numbers = true)]
    pub last: Option<i64>,
    /// Filter output based on conditions provided (name=, id=, status=, network=,
    /// ancestor=, publish=, expose=, exited=, before=, since=, label=).
    #[arg(short = 'f', long = "filter")]
    pub filter: Vec<String>,
    /// Display total file sizes (not available in the lab).
    #[arg(short = 's', long)]
    pub size: bool,
    /// Format output: `table` (default), `json`, or a Go template such as
    /// `table {{.ID}}\t{{.Names}}`.
    #[arg(long, default_value = "table")]
    pub format: String,
}

/// `ps`
pub async fn ps(lab: &Lab, mode: Mode, a: PsArgs) -> Result<i32> {
    let filters = super::ps_filter::Filters::parse(&a.filter)?;
    if a.size {
        return Err(Error::msg(crate::ui::tr(
            "ps --size is not available in the lab: a container's writable layer is an overlay upper directory on tmpfs (see `dockernet inspect`), not a storage driver's layer",
            "实验环境不支持 ps --size：容器的可写层是 tmpfs 上的 overlay 上层目录（见 `dockernet inspect`），不是存储驱动的镜像层",
        )));
    }
    let mut d = read_lab(lab, mode).await?;
    let now = crate::util::now_unix();
    let mut all = d.store.containers()?;
    let ended: Vec<String> = all
        .iter()
        .filter(|c| c.status == ContainerStatus::Running && !c.shim.is_some_and(|p| p.alive()))
        .map(|c| c.id.clone())
        .collect();
    // Containers whose process ended since the last command: settled now (network
    // released) when no other command holds the lab, so what `ps` says is what the
    // kernel has; otherwise only shown as exited, and the holder settles them.
    if !ended.is_empty()
        && mode != Mode::DryRun
        && let Some(_lock) = lab.try_lock()?
    {
        let mut ex = crate::step::Executor::new(Mode::Quiet);
        if let Some(r) = d.store.lab()? {
            d.rec = r;
        }
        for id in &ended {
            crate::container::settle(&mut d, &mut ex, id).await?;
        }
        ex.close().await;
        all = d.store.containers()?;
    }
    for c in &mut all {
        if c.status == ContainerStatus::Running && !c.shim.is_some_and(|p| p.alive()) {
            shown_as_exited(&d.store, c);
        }
    }
    let every_state =
        a.all || a.latest || a.last.is_some_and(|n| n != 0) || filters.lists_all_states();
    let mut list: Vec<&ContainerRecord> = all
        .iter()
        .filter(|c| every_state || c.status == ContainerStatus::Running)
        .filter(|c| filters.matches(c, crate::view::docker_inspect::state_word(c), &all))
        .collect();
    // Newest first, like Docker; `-l` is `-n 1`, and a negative `-n` means all.
    list.sort_by(|x, y| y.created.total_cmp(&x.created));
    let limit = if a.latest {
        Some(1)
    } else {
        a.last.filter(|n| *n > 0)
    };
    if let Some(n) = limit {
        list.truncate(n as usize);
    }
    let ago = |t: f64| (now - t).max(0.0) as u64;
    let id = |c: &ContainerRecord| {
        if a.no_trunc {
            c.id.clone()
        } else {
            c.id[..12].to_string()
        }
    };
    if a.quiet {
        for c in &list {
            println!("{}", id(c));
        }
        return Ok(0);
    }
    let rows: Vec<Vec<String>> = list
        .iter()
        .map(|c| {
            let status = match c.status {
                ContainerStatus::Running => {
                    crate::docker::status_up(ago(c.started.unwrap_or(c.created)))
                }
                ContainerStatus::Exited => crate::docker::status_exited(
                    c.exit_code.unwrap_or(0),
                    ago(c.finished.unwrap_or(now)),
                ),
                ContainerStatus::Creating => crate::docker::status_created().to_string(),
            };
            vec![
                id(c),
                c.image.clone().unwrap_or_else(|| "(host)".into()),
                crate::docker::ps_command(&c.cmd, !a.no_trunc),
                crate::docker::created_ago(ago(c.created)),
                status,
                ps_ports(c),
                c.name.clone(),
            ]
        })
        .collect();
    if let Some(f) = super::format::custom_list(&a.format, super::format::PS_RAW) {
        let docs: Vec<_> = list
            .iter()
            .zip(&rows)
            .map(|(c, r)| {
                let mut doc = super::format::ps_fields(c, r);
                // The lab host it is on (dockernet's own field; `docker -H` has none).
                doc["Host"] = serde_json::json!(lab.host);
                doc
            })
            .collect();
        return super::format::print_list(&f, super::format::PS_HEADERS, &docs);
    }
    if a.format == "json" {
        for (c, r) in list.iter().zip(&rows) {
            let v = serde_json::json!({
                "Command": r[2], "CreatedAt": crate::view::docker_inspect::rfc3339(c.created), "ID": r[0],
                "Image": r[1], "Labels": "", "LocalVolumes": "0", "Mounts": "", "Names": c.name,
                "Networks": c.endpoints.iter().map(|e| e.network.clone()).collect::<Vec<_>>().join(","),
                "Ports": r[5], "RunningFor": r[3].trim_end_matches(" ago"), "Size": "0B",
                "State": crate::view::docker_inspect::state_word(c), "Status": r[4],
                "Host": lab.host
            });
            println!("{v}");
        }
        return Ok(0);
    }
    // With several hosts, say on a terminal whose containers these are (the table
    // itself stays Docker's).
    if std::io::IsTerminal::is_terminal(&std::io::stderr())
        && !crate::lab::hosts::added(lab).is_empty()
    {
        eprintln!(
            "{}",
            crate::ui::tr(
                format!(
                    "# the containers of host {} ({}); `-H NAME` for another, `lab host ls` for all",
                    lab.host, d.rec.host.lan
                ),
                format!(
                    "# 宿主机 {}（{}）上的容器；看别的宿主机用 `-H NAME`，`lab host ls` 列出全部",
                    lab.host, d.rec.host.lan
                ),
            )
        );
    }
    print!(
        "{}",
        crate::docker::render_table(
            &[
                "CONTAINER ID",
                "IMAGE",
                "COMMAND",
                "CREATED",
                "STATUS",
                "PORTS",
                "NAMES"
            ],
            &rows
        )
    );
    Ok(0)
}

/// How a container whose process ended looks until the next command settles it.
fn shown_as_exited(store: &crate::lab::Store, c: &mut ContainerRecord) {
    let file = store.container_dir(&c.id).join("exitcode");
    c.exit_code = std::fs::read_to_string(&file)
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .or(Some(137));
    c.finished = std::fs::metadata(&file)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| d.as_secs_f64());
    c.status = ContainerStatus::Exited;
}

/// The PORTS column: published bindings while running, plus exposed-only ports.
fn ps_ports(c: &crate::lab::ContainerRecord) -> String {
    let mut all: Vec<crate::docker::PortBinding> = if c.status == ContainerStatus::Running {
        c.ports.clone()
    } else {
        Vec::new()
    };
    for e in &c.exposed {
        let (port, proto) = e.split_once('/').unwrap_or((e, "tcp"));
        let Ok(port) = port.parse::<u16>() else {
            continue;
        };
        if !all
            .iter()
            .any(|b| b.container_port == port && b.proto == proto)
        {
            all.push(crate::docker::PortBinding {
                host_ip: String::new(),
                host_port: 0,
                container_port: port,
                proto: proto.into(),
            });
        }
    }
    crate::docker::ps_ports(&all)
}

/// `port` flags.
#[derive(Debug, Args)]
pub struct PortArgs {
    /// Container name or ID.
    #[arg(add = clap_complete::ArgValueCandidates::new(super::complete::containers))]
    pub container: String,
    /// PRIVATE_PORT[/PROTO]
    pub port: Option<String>,
}

/// `port`: the container's published bindings, in Docker's format.
pub async fn port(lab: &Lab, mode: Mode, a: PortArgs) -> Result<i32> {
    let d = read_lab(lab, mode).await?;
    let c = d.store.find_container(&a.container)?;
    let filter = match &a.port {
        None => None,
        Some(spec) => {
            let (p, proto) = spec.split_once('/').unwrap_or((spec, "tcp"));
            let p: u16 = p
                .parse()
                .map_err(|_| Error::msg(format!("Error: invalid port ({spec}): invalid syntax")))?;
            Some((p, proto.to_string()))
        }
    };
    let lines = crate::docker::port_lines(
        &c.ports,
        filter.as_ref().map(|(p, proto)| (*p, proto.as_str())),
    );
    if lines.is_empty()
        && let Some((p, proto)) = &filter
    {
        return Err(Error::msg(format!(
            "Error: No public port '{p}/{proto}' published for {}",
            a.container
        )));
    }
    for l in lines {
        println!("{l}");
    }
    Ok(0)
}
