//! Containers: their namespaces, files and processes, from `run` to `rm`.

mod enter;
pub mod files;
pub mod init;
mod publish;
mod spawn;

pub use enter::{enter_main, exec_in};
pub use spawn::Spawned;

use crate::driver::{self, Attachment, EtcFiles, NetworkMode};
use crate::error::{Context, EXIT_REFUSED, Error, Result};
use crate::image::{self, BuiltinImage};
use crate::lab::{ContainerRecord, ContainerStatus, Lab, LabState};
use crate::step::{Executor, Step};
use crate::util::{ProcRef, random_hex};
use std::time::Duration;

/// What `run` asks for.
#[derive(Debug, Clone, Default)]
pub struct RunSpec {
    /// `--name`
    pub name: Option<String>,
    /// `--hostname`
    pub hostname: Option<String>,
    /// IMAGE (a built-in), if given.
    pub image: Option<String>,
    /// Command and arguments (empty: the image's default).
    pub cmd: Vec<String>,
    /// `--net` / `--network`
    pub network: String,
    /// `-e K=V`
    pub env: Vec<String>,
    /// `-d`
    pub detach: bool,
    /// `-i`
    pub interactive: bool,
    /// `-t`
    pub tty: bool,
    /// `--rm`
    pub auto_remove: bool,
    /// `--link` values.
    pub links: Vec<String>,
    /// `--dns` values.
    pub dns: Vec<String>,
    /// `--add-host` values.
    pub add_hosts: Vec<String>,
    /// `--mac-address`.
    pub mac_address: Option<String>,
    /// `-p` values.
    pub publish: Vec<String>,
    /// `-P`.
    pub publish_all: bool,
    /// `--expose` values.
    pub expose: Vec<String>,
}

/// Validate a `run` request and record the new container (status `Creating`).
/// Nothing in the kernel changes yet.
pub fn create_record(lab: &Lab, st: &mut LabState, spec: &RunSpec) -> Result<String> {
    let image: Option<&BuiltinImage> = match &spec.image {
        Some(name) => Some(
            image::find_image(name)
                .ok_or_else(|| Error::with_code(image::unknown_image_error(name), EXIT_REFUSED))?,
        ),
        None => None,
    };
    let mode = NetworkMode::parse(&spec.network)?;
    driver::validate(
        &mode,
        &driver::ModeFlags {
            hostname: spec.hostname.is_some(),
            links: &spec.links,
            dns: &spec.dns,
            add_hosts: &spec.add_hosts,
            mac_address: spec.mac_address.is_some(),
            publish: !spec.publish.is_empty() || spec.publish_all,
            expose: !spec.expose.is_empty(),
        },
    )?;
    let not_yet = |flag: &str, feature: &str| {
        Error::with_code(
            format!("{flag} is not supported yet in dockernet (it comes with {feature})"),
            EXIT_REFUSED,
        )
    };
    let publishing = !spec.publish.is_empty() || spec.publish_all;
    if mode == NetworkMode::Host && publishing {
        eprintln!("WARNING: Published ports are discarded when using host network mode");
    }
    let mut extra_exposed = Vec::new();
    for e in &spec.expose {
        for (port, proto) in crate::ports::parse_expose(e)? {
            extra_exposed.push(format!("{port}/{proto}"));
        }
    }
    // Validate -p now (bad specs are refused before anything is built).
    for p in &spec.publish {
        crate::ports::parse_publish(p)?;
    }
    if !spec.links.is_empty() {
        return Err(not_yet("--link", "legacy links"));
    }
    if !spec.dns.is_empty() || !spec.add_hosts.is_empty() || spec.mac_address.is_some() {
        return Err(not_yet(
            "--dns/--add-host/--mac-address",
            "DNS and user-defined networks",
        ));
    }
    // Container mode: the target must run now; its hostname becomes ours.
    let (network, shared_hostname) = match &mode {
        NetworkMode::Container(t) => {
            let target = driver::join_target(st, t)?;
            (
                mode.recorded(Some(&target.id)),
                Some(target.hostname.clone()),
            )
        }
        NetworkMode::Host => (
            mode.recorded(None),
            Some(crate::lab::addr::HOST_HOSTNAME.to_string()),
        ),
        _ => (mode.recorded(None), None),
    };
    if let Some(n) = &spec.name {
        crate::docker::validate_name(n).map_err(|e| {
            Error::with_code(format!("Error response from daemon: {e}"), EXIT_REFUSED)
        })?;
        if let Some(other) = st.containers.values().find(|c| &c.name == n) {
            return Err(Error::with_code(
                format!(
                    "Error response from daemon: Conflict. The container name \"/{n}\" is already in use by container \"{}\". You have to remove (or rename) that container to be able to reuse that name.",
                    other.id
                ),
                EXIT_REFUSED,
            ));
        }
    }
    let cmd: Vec<String> = if !spec.cmd.is_empty() {
        spec.cmd.clone()
    } else if let Some(img) = image {
        img.default_cmd.iter().map(|s| s.to_string()).collect()
    } else {
        return Err(Error::with_code(
            "no image and no command: give a built-in image (busybox, httpd, redis, tomcat) or `-- CMD ARGS`",
            EXIT_REFUSED,
        ));
    };
    let path = image::container_path(lab, image)?;
    let id = random_hex(64);
    let name = match &spec.name {
        Some(n) => n.clone(),
        None => crate::docker::random_name(crate::util::random_u64(), &|n| {
            st.containers.values().any(|c| c.name == n)
        }),
    };
    let hostname = shared_hostname
        .or_else(|| spec.hostname.clone())
        .unwrap_or_else(|| id[..12].to_string());
    let mut env = vec![format!("PATH={path}"), format!("HOSTNAME={hostname}")];
    if spec.tty {
        env.push("TERM=xterm".into());
    }
    env.extend(spec.env.iter().cloned());
    env.push("HOME=/root".into());
    let netns = lab.container_ns(&name);
    let rec = ContainerRecord {
        id: id.clone(),
        name,
        image: image.map(|i| i.name.to_string()),
        cmd,
        hostname,
        env,
        network_mode: network,
        netns,
        endpoints: Vec::new(),
        exposed: {
            let mut v: Vec<String> = image
                .map(|i| {
                    i.exposed_ports
                        .iter()
                        .map(|(p, proto)| format!("{p}/{proto}"))
                        .collect()
                })
                .unwrap_or_default();
            for e in extra_exposed {
                if !v.contains(&e) {
                    v.push(e);
                }
            }
            v
        },
        status: ContainerStatus::Creating,
        creator: ProcRef::of(std::process::id() as i32),
        shim: None,
        init: None,
        created: crate::util::now_unix(),
        started: None,
        finished: None,
        exit_code: None,
        detached: spec.detach,
        interactive: spec.interactive,
        tty: spec.tty,
        auto_remove: spec.auto_remove,
        steps: Vec::new(),
        port_specs: Vec::new(),
        ports: Vec::new(),
        proxies: Vec::new(),
    };
    let mut rec = rec;
    // Only bridge containers publish; host mode discards the ports (warned above).
    if mode == NetworkMode::Bridge {
        rec.port_specs = publish::requested(&rec, &spec.publish, spec.publish_all)?;
    }
    st.containers.insert(id.clone(), rec);
    Ok(id)
}

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
    let t0 = std::time::Instant::now();
    exec.run_all(&steps).await?;
    let network_time = t0.elapsed();
    let proxies = match publish::start_proxies(lab, st, &rec, exec) {
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
