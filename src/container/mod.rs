//! Containers: a sandbox (namespaces, `lo`, /etc files, processes) plus endpoints, from
//! `run` to `rm`.

pub mod attach;
mod claims;
pub mod console;
mod create;
mod endpoints;
mod enter;
mod exec_tty;
pub mod files;
pub mod init;
pub mod links;
pub mod privileges;
mod publish;
mod recover;
mod remove_batch;
mod rootfs_mount;
mod spawn;

pub use create::{RunSpec, check_flags, create_record};
pub use endpoints::{ConnectSpec, connect, disconnect};
pub use enter::{enter_main, exec_in};
pub use exec_tty::exec_tty;
pub use recover::{rollback, settle};
pub use remove_batch::{check_removable, remove_all};
pub use spawn::Spawned;

use claims::{claim, claim_endpoint, unclaim, unclaim_endpoint};

use crate::driver::{self, EtcFiles, NetworkMode, SandboxPlan};
use crate::error::{Context, Error, Result};
use crate::lab::{ContainerRecord, ContainerStatus, Daemon, NetworkRecord, PendingKind, Store};
use crate::step::{Executor, Step};
use crate::util::ProcRef;
use std::time::Duration;

/// Write the container's /etc files (or point at another container's) and the init config.
fn write_files(
    d: &Daemon,
    ex: &mut Executor,
    rec: &ContainerRecord,
    sb: &SandboxPlan,
) -> Result<()> {
    let dir = d.store.container_dir(&rec.id);
    ex.create_dir(&dir)?;
    let source_dir = match &sb.files {
        EtcFiles::Own {
            resolv,
            hosts_override,
        } => {
            let hosts = match hosts_override {
                Some(h) => h.clone(),
                None => files::hosts_for(rec, &link_lines(d, rec)),
            };
            let host_resolv = std::fs::read_to_string(d.lab.host_resolv_conf()).unwrap_or_default();
            let resolv = match resolv {
                driver::Resolv::Legacy => files::resolv_conf_legacy(&host_resolv),
                driver::Resolv::HostFile => host_resolv,
                driver::Resolv::Embedded => crate::dns::resolv_conf_embedded(&host_resolv),
            };
            ex.narrate(&files::resolv_narration(&dir.join("resolv.conf"), &resolv));
            let files = [
                ("hosts", hosts),
                ("hostname", files::hostname_file(&rec.hostname)),
                ("resolv.conf", resolv),
            ];
            for (name, content) in files {
                ex.write_file(&dir.join(name), content.as_bytes())?;
            }
            dir.clone()
        }
        EtcFiles::Shared { dir } => dir.clone(),
    };
    let binds = ["hosts", "hostname", "resolv.conf"]
        .iter()
        .map(|f| {
            (
                source_dir.join(f).display().to_string(),
                format!("/etc/{f}"),
            )
        })
        .collect();
    let mut env = rec.env.clone();
    env.extend(link_env(d, rec));
    let config = init::InitConfig {
        hostname: sb.hostname.clone(),
        argv: rec.cmd.clone(),
        env,
        binds,
        fresh_proc_sys: true,
        forward_terminal_signals: rec.detached,
        new_session: rec.detached,
        exit_code_file: dir.join("exitcode").display().to_string(),
        exit_notice: Some(d.store.exit_notice_path(&rec.id).display().to_string()),
        rootfs: if ex.effects() {
            let image = rec.image.as_deref().and_then(crate::image::find_image);
            Some(crate::image::rootfs::plan(
                d.lab,
                image,
                &dir,
                !rec.privileged,
            )?)
        } else {
            None
        },
        privileges: rec.privileges(),
        // `-t`: the shim keeps the pty (attach, detach keys); `run -it` attaches to it.
        console: rec.tty.then(|| dir.display().to_string()),
    };
    let json = serde_json::to_vec_pretty(&config).map_err(|e| Error::msg(e.to_string()))?;
    ex.write_private(&dir.join("config.json"), &json)
}

/// The /etc/hosts lines legacy links add (`172.17.0.2\talias hostname name`), from the
/// linked containers as they are now.
fn link_lines(d: &Daemon, rec: &ContainerRecord) -> Vec<String> {
    let mut out = Vec::new();
    for l in &rec.links {
        let Ok(Some(t)) = d.store.container(&l.target_id) else {
            continue;
        };
        // Classic links live on the default bridge; on a user-defined network a link is
        // an alias the embedded DNS server answers for this container alone.
        let Some(ep) = t.endpoints.iter().find(|e| {
            e.bridge == "docker0" && rec.attachments.iter().any(|a| a.network_id == e.network_id)
        }) else {
            continue;
        };
        out.push(links::hosts_line(ep.ip, &l.alias, &t.hostname, &t.name));
    }
    out
}

/// The environment variables legacy links add, for links on the default bridge.
fn link_env(d: &Daemon, rec: &ContainerRecord) -> Vec<String> {
    let mut out = Vec::new();
    for l in &rec.links {
        let Ok(Some(t)) = d.store.container(&l.target_id) else {
            continue;
        };
        let Some(ep) = t.endpoints.iter().find(|e| e.bridge == "docker0") else {
            continue;
        };
        out.extend(links::link_env(
            &rec.name,
            &l.alias,
            ep.ip,
            &t.exposed,
            &t.user_env,
        ));
    }
    out
}

/// The networks a container's attachments name, each of which must still exist.
fn attached_networks(d: &Daemon, rec: &ContainerRecord) -> Result<Vec<NetworkRecord>> {
    rec.attachments
        .iter()
        .map(|a| {
            d.store
                .network(&a.network_id)?
                .ok_or_else(|| driver::refuse(format!("network {} not found", a.network)))
        })
        .collect()
}

/// Build the container's sandbox and endpoints and start its process. Everything is
/// recorded before any kernel change (write-ahead), so a crash at any point can be
/// rolled back by the next command.
pub async fn start(
    d: &mut Daemon<'_>,
    ex: &mut Executor,
    rec: &mut ContainerRecord,
) -> Result<Option<Spawned>> {
    let mode = NetworkMode::from_recorded(&rec.network_mode)?;
    let networks = match &mode {
        NetworkMode::Container(_) => Vec::new(),
        NetworkMode::Network(_) => attached_networks(d, rec)?,
    };
    let mut sb = driver::plan_sandbox(d, rec, &mode, networks.first())?;
    let embedded_dns = crate::dns::wants_resolver(&networks);
    if let EtcFiles::Own { resolv, .. } = &mut sb.files
        && embedded_dns
    {
        *resolv = driver::Resolv::Embedded;
    }
    rec.netns = sb.netns.clone();
    rec.sandbox_steps = sb
        .steps
        .iter()
        .filter(|s| !matches!(s, Step::Note { .. }))
        .cloned()
        .collect();
    rec.endpoints.clear();
    for (i, (att, net)) in rec.attachments.clone().iter().zip(&networks).enumerate() {
        let ep = driver::for_network(net)?.join(
            d,
            &driver::JoinRequest {
                container: rec,
                network: net,
                attachment: att,
                ifname: format!("eth{i}"),
                default_route: i == 0,
            },
        )?;
        rec.endpoints.push(ep);
    }
    // An overlay's bridge leads nowhere: the way out (and in, for published ports) is
    // this host's docker_gwbridge, as in Docker.
    if networks
        .first()
        .is_some_and(|n| n.driver == "overlay" && !n.internal)
    {
        let gw = crate::overlay::ensure_gwbridge(d, ex).await?;
        let att = crate::lab::Attachment {
            network_id: gw.id.clone(),
            network: gw.name.clone(),
            ip: None,
            aliases: Vec::new(),
        };
        let ep = driver::for_network(&gw)?.join(
            d,
            &driver::JoinRequest {
                container: rec,
                network: &gw,
                attachment: &att,
                ifname: format!("eth{}", rec.endpoints.len()),
                default_route: true,
            },
        )?;
        rec.endpoints.push(ep);
    }
    let (bindings, port_steps) = publish::plan(d, rec)?;
    if let Some(ep) = rec
        .endpoints
        .iter_mut()
        .find(|e| e.has_interface() && !driver::overlay::is_overlay_endpoint(e))
    {
        ep.steps.extend(port_steps);
        ep.steps.extend(link_rules(
            d,
            rec_links_view(&rec.links),
            ep.ip,
            &ep.bridge,
            &ep.network_id,
        )?);
    }
    rec.ports = bindings;
    rec.link_env = link_env(d, rec);
    rec.status = ContainerStatus::Creating;
    rec.creator = ProcRef::of(std::process::id() as i32);
    // Write-ahead: the record, the addresses it holds, its ports.
    d.store.pending_add(ex, &rec.id, PendingKind::Container)?;
    d.store.save_container(ex, rec)?;
    claim(d, ex, rec)?;
    write_files(d, ex, rec, &sb)?;
    if sb.steps.is_empty() {
        // A shared sandbox builds nothing: say what it is instead.
        ex.narrate(&format!("# {}", sb.note));
    }
    let mut steps: Vec<Step> = sb.steps.clone();
    for e in &rec.endpoints {
        steps.extend(e.steps.iter().cloned());
    }
    // Proxies start first and bind their ports while the network is built (Docker 28+
    // also binds before programming the rules); we collect their answers afterwards.
    let pending = if ex.effects() {
        publish::launch_proxies(d, rec)?
    } else {
        Vec::new()
    };
    let t0 = std::time::Instant::now();
    if let Err(e) = ex.run_all(&steps).await {
        pending
            .into_iter()
            .for_each(crate::ports::PendingProxy::abandon);
        unclaim(d, ex, rec)?;
        return Err(e);
    }
    if embedded_dns
        && matches!(sb.files, EtcFiles::Own { .. })
        && let Err(e) = crate::dns::attach(d, ex, rec).await
    {
        pending
            .into_iter()
            .for_each(crate::ports::PendingProxy::abandon);
        crate::dns::forget(d, ex, &rec.id);
        let cleanup = ex.undo(&steps).await;
        unclaim(d, ex, rec)?;
        return Err(e.with_cleanup_errors(cleanup));
    }
    let network_time = t0.elapsed();
    rec.proxies = match publish::await_proxies(d, rec, pending, ex) {
        Ok(p) => p,
        Err(e) => {
            crate::dns::forget(d, ex, &rec.id);
            let cleanup = ex.undo(&steps).await;
            unclaim(d, ex, rec)?;
            return Err(e.with_cleanup_errors(cleanup));
        }
    };
    let dir = d.store.container_dir(&rec.id);
    let spec = spawn::SpawnSpec {
        netns: sb.netns_path.clone(),
        join_uts: sb.join_uts.clone(),
        hostname: sb.hostname.clone(),
        config_path: dir.join("config.json"),
        detached: rec.detached,
        interactive: rec.interactive,
        log: Some(dir.join("log")),
        host_init: d.rec.host_init,
        lab_dir: d.lab.dir(),
    };
    ex.narrate(&spec.narration(&rec.cmd));
    if !ex.effects() {
        return Ok(None);
    }
    // A previous run's exit code goes before the new process starts: a command that
    // ends at once may write its own before we get to save the record.
    let _ = std::fs::remove_file(dir.join("exitcode"));
    let _ = std::fs::remove_file(d.store.exit_notice_path(&rec.id));
    let spawned = spawn::spawn(&spec, &rec.cmd);
    if std::env::var_os("DOCKERNET_TIMINGS").is_some() {
        let since_start = crate::util::STARTED
            .get()
            .map(|t| t.elapsed())
            .unwrap_or_default();
        eprintln!(
            "dockernet-timing network_ms={:.3} spawn_ms={:.3} before_network_ms={:.3}",
            network_time.as_secs_f64() * 1e3,
            (t0.elapsed() - network_time).as_secs_f64() * 1e3,
            (since_start - t0.elapsed()).as_secs_f64() * 1e3
        );
    }
    let spawned = match spawned {
        Ok(s) => s,
        Err(e) => {
            publish::stop_proxies(ex, &rec.proxies);
            crate::dns::forget(d, ex, &rec.id);
            let cleanup = ex.undo(&steps).await;
            unclaim(d, ex, rec)?;
            return Err(e.with_cleanup_errors(cleanup));
        }
    };
    rec.status = ContainerStatus::Running;
    rec.creator = None;
    rec.shim = Some(spawned.shim);
    rec.init = Some(spawned.init);
    rec.started = Some(crate::util::now_unix());
    rec.exit_code = None;
    rec.finished = None;
    d.store.save_container(ex, rec)?;
    d.store.pending_done(ex, &rec.id)?;
    let nets: Vec<String> = rec
        .endpoints
        .iter()
        .filter(|e| driver::overlay::is_overlay_endpoint(e))
        .map(|e| e.network_id.clone())
        .collect();
    crate::overlay::container_changed(d, ex, &rec.id, &nets).await?;
    Ok(Some(spawned))
}

/// The links as (alias, target id) pairs.
fn rec_links_view(links: &[crate::lab::LinkRecord]) -> Vec<(String, String)> {
    links
        .iter()
        .map(|l| (l.alias.clone(), l.target_id.clone()))
        .collect()
}

/// With icc=false on the default bridge, the ACCEPT pairs that let a linking container
/// reach its links' exposed ports.
fn link_rules(
    d: &Daemon,
    links: Vec<(String, String)>,
    ip: std::net::Ipv4Addr,
    bridge: &str,
    network_id: &str,
) -> Result<Vec<Step>> {
    let Some(net) = d.store.network(network_id)? else {
        return Ok(Vec::new());
    };
    let icc = net.icc() && (!net.is_default_bridge() || d.rec.icc);
    if icc || !net.is_default_bridge() || links.is_empty() {
        return Ok(Vec::new());
    }
    let mut batch = crate::firewall::Batch::default();
    for (_, target) in links {
        let Ok(Some(t)) = d.store.container(&target) else {
            continue;
        };
        if let Some(tep) = t.endpoints.iter().find(|e| e.network_id == network_id) {
            batch
                .ops
                .extend(links::link_rules(ip, tep.ip, bridge, &t.exposed));
        }
    }
    Ok(if batch.is_empty() {
        Vec::new()
    } else {
        vec![Step::Firewall {
            ns: d.lab.host_ns(),
            batch,
        }]
    })
}

/// A command line, quoted for a POSIX shell (for narration).
pub fn shell_words(argv: &[String]) -> String {
    argv.iter()
        .map(|a| shell_quote(a))
        .collect::<Vec<_>>()
        .join(" ")
}

fn shell_quote(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=@%+,".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// Tear down a container's endpoints and sandbox after its process ended: a batch of
/// one for [`remove_batch::release_networks`] (proxies stopped, the resolver told, the
/// claims released, the steps undone but for what dies with the namespace).
async fn release_network(
    d: &mut Daemon<'_>,
    ex: &mut Executor,
    rec: &mut ContainerRecord,
) -> Result<()> {
    remove_batch::release_networks(d, ex, std::slice::from_mut(rec))
        .await
        .pop()
        .unwrap_or(Ok(()))
}

/// Record that a container's process ended: exit code and time from what its shim wrote.
fn mark_exited(store: &Store, rec: &mut ContainerRecord) {
    let file = store.container_dir(&rec.id).join("exitcode");
    rec.exit_code = Some(
        std::fs::read_to_string(&file)
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(137),
    );
    rec.finished = Some(
        std::fs::metadata(&file)
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map(|d| d.as_secs_f64())
            .unwrap_or_else(crate::util::now_unix),
    );
    rec.status = ContainerStatus::Exited;
    rec.shim = None;
    rec.init = None;
    rec.creator = None;
}

/// `stop`: SIGTERM to the container's PID 1 (which forwards it), SIGKILL after `timeout`.
pub async fn stop(
    d: &mut Daemon<'_>,
    ex: &mut Executor,
    rec: &mut ContainerRecord,
    timeout: Duration,
) -> Result<()> {
    if rec.status != ContainerStatus::Running {
        return Ok(());
    }
    if !ex.effects() {
        ex.narrate(&crate::ui::tr(
            format!(
                "# stop {}: SIGTERM to its PID 1, SIGKILL after {}s",
                rec.name,
                timeout.as_secs()
            ),
            format!(
                "# 停止 {}：向 PID 1 发送 SIGTERM，{} 秒后仍未退出就发送 SIGKILL",
                rec.name,
                timeout.as_secs()
            ),
        ));
        return Ok(());
    }
    if let Some(init) = rec.init {
        let left = ex.signal(&[init], libc::SIGTERM, timeout);
        ex.signal(&left, libc::SIGKILL, Duration::from_secs(5));
    }
    if let Some(shim) = rec.shim {
        ex.signal(&[shim], 0, Duration::from_secs(5));
    }
    mark_exited(&d.store, rec);
    let r = release_network(d, ex, rec).await;
    d.store.save_container(ex, rec)?;
    d.store.exited_done(ex, &rec.id)?;
    r
}

/// `start` of a stopped container: a new sandbox and endpoints, from its attachments.
pub async fn restart_stopped(
    d: &mut Daemon<'_>,
    ex: &mut Executor,
    rec: &mut ContainerRecord,
) -> Result<()> {
    if rec.status == ContainerStatus::Running {
        return Ok(());
    }
    rec.detached = true;
    match start(d, ex, rec).await {
        Ok(_) => Ok(()),
        Err(e) => {
            mark_exited(&d.store, rec);
            rec.endpoints.clear();
            rec.sandbox_steps.clear();
            rec.ports.clear();
            d.store.save_container(ex, rec)?;
            d.store.pending_done(ex, &rec.id)?;
            Err(e)
        }
    }
}

/// Write a container's /etc/hosts again (after connect / disconnect): in place, since
/// the file is bind-mounted into the container.
fn rewrite_hosts(d: &Daemon, ex: &Executor, rec: &ContainerRecord) -> Result<()> {
    if rec.network_mode.starts_with("container:") || rec.network_mode == "host" {
        return Ok(());
    }
    let path = d.store.container_dir(&rec.id).join("hosts");
    ex.write_file(&path, files::hosts_for(rec, &link_lines(d, rec)).as_bytes())
        .ctx("updating /etc/hosts")
}
