//! Containers: their namespaces, files and processes, from `run` to `rm`.

mod create;
mod enter;
pub mod files;
pub mod init;
mod publish;
mod spawn;

pub use create::{RunSpec, create_record};
pub use enter::{enter_main, exec_in};
pub use spawn::Spawned;

use crate::driver::{self, Attachment, EtcFiles, NetworkMode};
use crate::error::{Context, Error, Result};
use crate::lab::{ContainerRecord, ContainerStatus, Lab, LabState};
use crate::step::{Executor, Step};
use crate::util::ProcRef;
use std::time::Duration;

/// Write the container's /etc files (or point at another container's) and the init config.
fn write_files(lab: &Lab, rec: &ContainerRecord, att: &Attachment) -> Result<()> {
    let dir = lab.container_dir(&rec.id);
    std::fs::create_dir_all(&dir).with_ctx(|| format!("creating {}", dir.display()))?;
    let source_dir = match &att.files {
        EtcFiles::Own { hosts, resolv } => {
            let files = [
                ("hosts", hosts.clone()),
                ("hostname", files::hostname_file(&rec.hostname)),
                ("resolv.conf", resolv.clone()),
            ];
            for (name, content) in files {
                let p = dir.join(name);
                std::fs::write(&p, content).with_ctx(|| format!("writing {}", p.display()))?;
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
    let config = init::InitConfig {
        hostname: att.hostname.clone(),
        argv: rec.cmd.clone(),
        env: rec.env.clone(),
        binds,
        fresh_proc_sys: true,
        forward_terminal_signals: rec.detached,
        new_session: rec.detached,
        exit_code_file: dir.join("exitcode").display().to_string(),
    };
    let json = serde_json::to_vec_pretty(&config).map_err(|e| Error::msg(e.to_string()))?;
    std::fs::write(dir.join("config.json"), json).ctx("writing config.json")
}

/// Build the container's network and start its process. The state is saved before any
/// kernel change (write-ahead), so a crash at any point can be rolled back.
pub async fn start(
    lab: &Lab,
    st: &mut LabState,
    exec: &mut Executor,
    id: &str,
) -> Result<Option<Spawned>> {
    let mut rec = st
        .containers
        .get(id)
        .cloned()
        .ok_or_else(|| Error::msg("no such container"))?;
    let mode = NetworkMode::from_recorded(&rec.network_mode);
    let att = driver::plan(lab, st, &rec, &mode)?;
    let mut steps = att.steps.clone();
    rec.endpoints = att.endpoints.clone();
    rec.netns = att.netns.clone();
    let (bindings, port_step) = publish::plan(lab, st, &rec)?;
    steps.extend(port_step);
    rec.ports = bindings;
    // The undo log keeps what changed the kernel; narration notes stay out of it.
    rec.steps = steps
        .iter()
        .filter(|s| !matches!(s, Step::Note { .. }))
        .cloned()
        .collect();
    rec.status = ContainerStatus::Creating;
    rec.creator = ProcRef::of(std::process::id() as i32);
    st.containers.insert(id.to_string(), rec.clone());
    if !exec.dry_run() {
        lab.save(st)?;
    }
    if !exec.dry_run() {
        write_files(lab, &rec, &att)?;
    }
    // Proxies start first and bind their ports while the network is built (Docker 28+
    // also binds before programming the rules); we collect their answers afterwards.
    let pending = if exec.dry_run() {
        Vec::new()
    } else {
        publish::launch_proxies(lab, st, &rec)?
    };
    let t0 = std::time::Instant::now();
    if let Err(e) = exec.run_all(&steps).await {
        pending
            .into_iter()
            .for_each(crate::ports::PendingProxy::abandon);
        return Err(e);
    }
    let network_time = t0.elapsed();
    let proxies = match publish::await_proxies(lab, st, &rec, pending, exec) {
        Ok(p) => p,
        Err(e) => {
            exec.undo(&steps).await;
            return Err(e);
        }
    };
    if let Some(r) = st.containers.get_mut(id) {
        r.proxies = proxies.clone();
    }
    exec.narrate(&att.spawn_narration);
    if exec.dry_run() {
        return Ok(None);
    }
    let dir = lab.container_dir(id);
    // A previous run's exit code goes before the new process starts: a command that
    // ends at once may write its own before we get to save the record.
    let _ = std::fs::remove_file(dir.join("exitcode"));
    let spawned = spawn::spawn(
        &spawn::SpawnSpec {
            netns: att.netns_path.clone(),
            join_uts: att.join_uts.clone(),
            config_path: dir.join("config.json"),
            detached: rec.detached,
            interactive: rec.interactive,
            log: Some(dir.join("log")),
        },
        &rec.cmd,
    );
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
            publish::stop_proxies(&proxies);
            exec.undo(&steps).await;
            return Err(e);
        }
    };
    let r = st.containers.get_mut(id).expect("record exists");
    r.status = ContainerStatus::Running;
    r.creator = None;
    r.shim = Some(spawned.shim);
    r.init = Some(spawned.init);
    r.started = Some(crate::util::now_unix());
    r.exit_code = None;
    r.finished = None;
    lab.save(st)?;
    Ok(Some(spawned))
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

/// Tear down a container's network (veth, namespace) after its process ended.
async fn release_network(exec: &mut Executor, rec: &mut ContainerRecord) {
    publish::stop_proxies(&std::mem::take(&mut rec.proxies));
    rec.ports.clear();
    let steps = std::mem::take(&mut rec.steps);
    exec.undo(&steps).await;
    rec.endpoints.clear();
}

/// Bring the state up to date with reality: containers whose process ended lose their
/// network and become `Exited` (or vanish with `--rm`); half-created ones whose creator
/// died are rolled back.
pub async fn reconcile(lab: &Lab, st: &mut LabState, exec: &mut Executor) -> Result<()> {
    let mut changed = false;
    let ids: Vec<String> = st.containers.keys().cloned().collect();
    for id in ids {
        let rec = st.containers.get_mut(&id).expect("listed");
        match rec.status {
            ContainerStatus::Creating if !rec.creator.is_some_and(|p| p.alive()) => {
                kill_processes(rec);
                // The creator may have died after starting the shim but before saving
                // its pids: find the shim and init
                // (and proxies) by the owner mark in their environment.
                let orphans = crate::util::processes_with_env_prefix(
                    init::OWNER_ENV,
                    &lab.container_dir(&id).display().to_string(),
                );
                for p in &orphans {
                    p.signal(libc::SIGKILL);
                }
                for p in &orphans {
                    p.wait_gone(Duration::from_secs(2));
                }
                release_network(exec, rec).await;
                let _ = std::fs::remove_dir_all(lab.container_dir(&id));
                st.containers.remove(&id);
                changed = true;
            }
            ContainerStatus::Running if !rec.shim.is_some_and(|p| p.alive()) => {
                mark_exited(lab, rec);
                release_network(exec, rec).await;
                if rec.auto_remove {
                    let _ = std::fs::remove_dir_all(lab.container_dir(&id));
                    st.containers.remove(&id);
                }
                changed = true;
            }
            _ => {}
        }
    }
    if changed && !exec.dry_run() {
        lab.save(st)?;
    }
    Ok(())
}

fn mark_exited(lab: &Lab, rec: &mut ContainerRecord) {
    let file = lab.container_dir(&rec.id).join("exitcode");
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
}

fn kill_processes(rec: &ContainerRecord) {
    for p in rec.init.iter().chain(rec.shim.iter()) {
        p.signal(libc::SIGKILL);
    }
    for p in rec.init.iter().chain(rec.shim.iter()) {
        p.wait_gone(Duration::from_secs(2));
    }
}

/// `stop`: SIGTERM to the container's PID 1 (which forwards it), SIGKILL after `timeout`.
pub async fn stop(
    lab: &Lab,
    st: &mut LabState,
    exec: &mut Executor,
    id: &str,
    timeout: Duration,
) -> Result<()> {
    let rec = st.containers.get_mut(id).expect("found by caller");
    if rec.status == ContainerStatus::Running {
        if let Some(init) = rec.init {
            init.signal(libc::SIGTERM);
            if !init.wait_gone(timeout) {
                init.signal(libc::SIGKILL);
            }
        }
        if let Some(shim) = rec.shim {
            shim.wait_gone(Duration::from_secs(5));
        }
        mark_exited(lab, rec);
        release_network(exec, rec).await;
        lab.save(st)?;
    }
    Ok(())
}

/// `rm [-f]`: remove a container; a running one only with `force`.
pub async fn remove(
    lab: &Lab,
    st: &mut LabState,
    exec: &mut Executor,
    id: &str,
    force: bool,
) -> Result<()> {
    let rec = st.containers.get_mut(id).expect("found by caller");
    if rec.status == ContainerStatus::Running && !force {
        return Err(Error::msg(format!(
            "Error response from daemon: cannot remove container \"/{}\": container is running: stop the container before removing or force remove",
            rec.name
        )));
    }
    kill_processes(rec);
    release_network(exec, rec).await;
    let _ = std::fs::remove_dir_all(lab.container_dir(id));
    st.containers.remove(id);
    lab.save(st)
}
