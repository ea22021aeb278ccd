//! Containers: their namespaces, files and processes, from `run` to `rm`.

mod enter;
mod files;
pub mod init;
mod spawn;

pub use enter::{enter_main, exec_in};
pub use spawn::Spawned;

use crate::error::{Context, EXIT_REFUSED, Error, Result};
use crate::image::{self, BuiltinImage};
use crate::lab::{ContainerRecord, ContainerStatus, Endpoint, Lab, LabState, addr};
use crate::link::{docker_mac, format_mac};
use crate::step::{Executor, Step};
use crate::util::{ProcRef, random_hex};
use std::net::Ipv4Addr;
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
}

fn refuse(msg: impl Into<String>) -> Error {
    Error::with_code(
        format!("Error response from daemon: {}", msg.into()),
        EXIT_REFUSED,
    )
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
    let network = match spec.network.as_str() {
        "" | "bridge" | "default" => "bridge".to_string(),
        other => {
            return Err(refuse(format!(
                "network {other} not found (this version of dockernet supports --net bridge)"
            )));
        }
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
    let hostname = spec
        .hostname
        .clone()
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
        exposed: image
            .map(|i| {
                i.exposed_ports
                    .iter()
                    .map(|(p, proto)| format!("{p}/{proto}"))
                    .collect()
            })
            .unwrap_or_default(),
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
    };
    st.containers.insert(id.clone(), rec);
    Ok(id)
}

/// Plan the bridge endpoint: next free address, Docker's MAC, a fresh veth name.
fn plan_bridge(lab: &Lab, st: &LabState, rec: &mut ContainerRecord) -> Result<Vec<Step>> {
    let used: Vec<Ipv4Addr> = st
        .containers
        .values()
        .flat_map(|c| c.endpoints.iter())
        .filter(|e| e.network == "bridge")
        .map(|e| e.ip)
        .collect();
    let ip = crate::ipam::lowest_free(Ipv4Addr::new(172, 17, 0, 0), 16, addr::DOCKER0, &used)?;
    let veth = loop {
        let v = format!("veth{}", random_hex(7));
        if !st
            .containers
            .values()
            .flat_map(|c| c.endpoints.iter())
            .any(|e| e.veth == v)
        {
            break v;
        }
    };
    let mac = format_mac(&docker_mac(ip));
    let host = lab.host_ns();
    let ns = rec.netns.clone();
    rec.endpoints = vec![Endpoint {
        network: "bridge".into(),
        network_id: st.bridge_network_id.clone(),
        endpoint_id: random_hex(64),
        ip,
        prefix_len: 16,
        gateway: addr::DOCKER0,
        mac: mac.clone(),
        veth: veth.clone(),
        ifname: "eth0".into(),
        bridge: "docker0".into(),
    }];
    Ok(vec![
        Step::Note {
            text: format!("container {}: its own network namespace", rec.name),
        },
        Step::NetnsAdd { name: ns.clone() },
        Step::Note {
            text: format!(
                "a veth pair: {veth} stays on the host and joins docker0, eth0 goes into the container"
            ),
        },
        Step::VethAdd {
            ns: host,
            name: veth,
            master: Some("docker0".into()),
            peer: "eth0".into(),
            peer_ns: ns.clone(),
            peer_mac: Some(mac),
        },
        Step::AddrAdd {
            ns: ns.clone(),
            dev: "eth0".into(),
            cidr: format!("{ip}/16"),
        },
        Step::LinkUp {
            ns: ns.clone(),
            dev: "lo".into(),
        },
        Step::LinkUp {
            ns: ns.clone(),
            dev: "eth0".into(),
        },
        Step::RouteDefault {
            ns,
            via: addr::DOCKER0,
        },
    ])
}

/// Write /etc/hosts, /etc/hostname, /etc/resolv.conf and the init config.
fn write_files(lab: &Lab, rec: &ContainerRecord) -> Result<init::InitConfig> {
    let dir = lab.container_dir(&rec.id);
    std::fs::create_dir_all(&dir).with_ctx(|| format!("creating {}", dir.display()))?;
    let own: Vec<(Ipv4Addr, String)> = rec
        .endpoints
        .iter()
        .map(|e| (e.ip, rec.hostname.clone()))
        .collect();
    let host_resolv = std::fs::read_to_string("/etc/resolv.conf").unwrap_or_default();
    let files = [
        ("hosts", files::hosts_file(&own, &[])),
        ("hostname", files::hostname_file(&rec.hostname)),
        ("resolv.conf", files::resolv_conf_legacy(&host_resolv)),
    ];
    let mut binds = Vec::new();
    for (name, content) in files {
        let p = dir.join(name);
        std::fs::write(&p, content).with_ctx(|| format!("writing {}", p.display()))?;
        binds.push((p.display().to_string(), format!("/etc/{name}")));
    }
    let config = init::InitConfig {
        hostname: Some(rec.hostname.clone()),
        argv: rec.cmd.clone(),
        env: rec.env.clone(),
        binds,
        fresh_proc_sys: true,
        forward_terminal_signals: rec.detached,
        new_session: rec.detached,
        exit_code_file: dir.join("exitcode").display().to_string(),
    };
    let json = serde_json::to_vec_pretty(&config).map_err(|e| Error::msg(e.to_string()))?;
    std::fs::write(dir.join("config.json"), json).ctx("writing config.json")?;
    Ok(config)
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
    let steps = plan_bridge(lab, st, &mut rec)?;
    rec.steps = steps.clone();
    rec.status = ContainerStatus::Creating;
    rec.creator = ProcRef::of(std::process::id() as i32);
    st.containers.insert(id.to_string(), rec.clone());
    if !exec.dry_run() {
        lab.save(st)?;
    }
    if !exec.dry_run() {
        write_files(lab, &rec)?;
    }
    let t0 = std::time::Instant::now();
    exec.run_all(&steps).await?;
    let network_time = t0.elapsed();
    let argv = rec
        .cmd
        .iter()
        .map(|a| shell_quote(a))
        .collect::<Vec<_>>()
        .join(" ");
    exec.narrate(&format!(
        "ip netns exec {} unshare --pid --mount --uts --ipc --fork --mount-proc sh -c 'hostname {}; exec {argv}'",
        rec.netns, rec.hostname
    ));
    if exec.dry_run() {
        return Ok(None);
    }
    let dir = lab.container_dir(id);
    let spawned = spawn::spawn(
        &spawn::SpawnSpec {
            netns: crate::netns::path(&rec.netns),
            join_uts: None,
            config_path: dir.join("config.json"),
            detached: rec.detached,
            interactive: rec.interactive,
            log: Some(dir.join("log")),
        },
        &rec.cmd,
    );
    if std::env::var_os("DOCKERNET_TIMINGS").is_some() {
        eprintln!(
            "dockernet-timing network_ms={:.3} spawn_ms={:.3}",
            network_time.as_secs_f64() * 1e3,
            (t0.elapsed() - network_time).as_secs_f64() * 1e3
        );
    }
    let spawned = match spawned {
        Ok(s) => s,
        Err(e) => {
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
    let _ = std::fs::remove_file(dir.join("exitcode"));
    lab.save(st)?;
    Ok(Some(spawned))
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
