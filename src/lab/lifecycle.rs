//! Building, checking and removing a lab: the world, the Docker host, the daemon's own
//! rules and its three predefined networks.

use super::plan::{first_host, host_steps, lab_steps, predefined_networks};
use super::teardown::teardown;
use super::{Lab, LabHost, LabRecord, LabStatus, SCHEMA, addr};
use crate::dns::world as world_dns;
use crate::error::{Context, Error, Result};
use crate::netns;
use crate::step::{Executor, Step};
use crate::util::ProcRef;

/// Options of `lab up`.
#[derive(Debug, Clone)]
pub struct LabUpOptions {
    /// Docker's `--userland-proxy` (default true).
    pub userland_proxy: bool,
    /// Docker's `--icc` (default true): containers on docker0 may talk to each other.
    pub icc: bool,
    /// Whose rule layout the daemon writes (default 27, the articles').
    pub engine: crate::firewall::Engine,
    /// The daemon's `--firewall-backend` (default iptables; nftables only with 29).
    pub firewall_backend: crate::firewall::Backend,
}

impl Default for LabUpOptions {
    fn default() -> Self {
        LabUpOptions {
            userland_proxy: true,
            icc: true,
            engine: crate::firewall::Engine::V27,
            firewall_backend: crate::firewall::Backend::Iptables,
        }
    }
}

/// Make sure the lab exists and is healthy, building it if needed, and the host `lab`
/// is on. The caller holds the lab lock. Returns that host's record. A host other than
/// the first is never made here (`lab host add` does), but one left damaged is rebuilt.
pub async fn ensure_up(lab: &Lab, exec: &mut Executor, opts: &LabUpOptions) -> Result<LabRecord> {
    let first = ensure_first_up(&lab.first_host(), exec, opts).await?;
    if lab.is_first_host() {
        return Ok(first);
    }
    super::hosts::ensure_up(lab, exec, &first).await
}

/// [`ensure_up`] for the first host, which also builds the world.
async fn ensure_first_up(lab: &Lab, exec: &mut Executor, opts: &LabUpOptions) -> Result<LabRecord> {
    let store = lab.store();
    if let Some(rec) = store.lab()? {
        let creator_alive = rec.creator.is_some_and(|p| p.alive());
        let healthy = rec.status == LabStatus::Up
            // Without its PID 1 the lab host's processes are gone, and none can start.
            && rec.host_init.is_none_or(|p| p.alive())
            && netns::exists(&lab.host_ns())
            && netns::exists(&lab.world_ns());
        if healthy {
            return Ok(rec);
        }
        if rec.status == LabStatus::Creating && creator_alive {
            let pid = rec.creator.map(|c| c.pid).unwrap_or(0);
            return Err(Error::msg(crate::ui::tr(
                format!(
                    "lab {} is being created by process {pid}; try again",
                    lab.name
                ),
                format!("进程 {pid} 正在创建实验环境 {}，请稍后再试", lab.name),
            )));
        }
        if exec.dry_run() {
            return Err(Error::msg(crate::ui::tr(
                format!(
                    "lab {} is broken; run `dockernet --lab {} lab down` first",
                    lab.name, lab.name
                ),
                format!(
                    "实验环境 {} 已损坏，请先运行 `dockernet --lab {} lab down`",
                    lab.name, lab.name
                ),
            )));
        }
        eprintln!(
            "{}",
            crate::ui::tr(
                format!(
                    "dockernet: lab {} was left half-built or damaged; removing it and building it again",
                    lab.name
                ),
                format!(
                    "dockernet：实验环境 {} 没有建完或已损坏，先删除再重建",
                    lab.name
                ),
            )
        );
        teardown(lab, exec).await?;
    } else if !exec.dry_run() && !netns::list_with_prefix(&lab.netns_prefix()).is_empty() {
        // Leftovers of a crash before the first state write.
        teardown(lab, exec).await?;
    }
    let rec = build(lab, exec, opts, first_host(lab)).await?;
    // What `show topology --changes` compares with until its first picture.
    crate::topology::remember_built(lab, exec).await;
    Ok(rec)
}

/// Build one Docker host of the lab (on the first host, the lab: its memory, the world
/// and its programs, the images first). Write-ahead: its record names every step
/// before the step runs; any failure tears the host down again.
pub(super) async fn build(
    lab: &Lab,
    exec: &mut Executor,
    opts: &LabUpOptions,
    host: LabHost,
) -> Result<LabRecord> {
    preflight()?;
    let store = lab.store();
    let created = crate::util::now_unix();
    let steps = if lab.is_first_host() {
        lab_steps(lab, opts)
    } else {
        host_steps(lab, &host, opts)
    };
    let mut rec = LabRecord {
        schema: SCHEMA,
        name: lab.name.clone(),
        host,
        status: LabStatus::Creating,
        creator: ProcRef::of(std::process::id() as i32),
        created,
        userland_proxy: opts.userland_proxy,
        icc: opts.icc,
        engine: opts.engine,
        firewall_backend: opts.firewall_backend,
        steps,
        processes: Vec::new(),
        ports: Vec::new(),
        resolver: None,
        host_init: None,
    };
    let mut networks = predefined_networks(created)?;
    {
        let ctx = super::Daemon::new(lab, rec.clone());
        for n in &mut networks {
            n.steps = crate::driver::for_network(n)?.create_network(&ctx, n)?;
            if n.is_default_bridge() && !opts.icc {
                n.options.insert(
                    "com.docker.network.bridge.enable_icc".into(),
                    "false".into(),
                );
            }
        }
    }
    // Write-ahead: the records name everything we are about to create, so a crash at
    // any point leaves a record that the next command can roll back.
    store.save_lab(exec, &rec)?;
    // The lab's records in memory before any but lab.json is written.
    let in_memory = rec
        .steps
        .iter()
        .take_while(|s| matches!(s, Step::TmpfsAdd { .. }))
        .count();
    exec.phase("host");
    if let Err(e) = exec.run_all(&rec.steps[..in_memory]).await {
        let cleanup = teardown(lab, exec).await.err().into_iter().collect();
        return Err(e.with_cleanup_errors(cleanup));
    }
    for n in &networks {
        store.save_network(exec, n)?;
    }
    let mut steps = rec.steps[in_memory..].to_vec();
    for n in &networks {
        steps.extend(n.steps.iter().cloned());
    }
    // In phases, marked in the narration (a lesson folds the world's and the host's).
    for (phase, part) in phases(lab, &steps) {
        exec.phase(phase);
        if let Err(e) = exec.run_all(part).await {
            let cleanup = teardown(lab, exec).await.err().into_iter().collect();
            return Err((e.context(crate::ui::tr(
                format!("building lab {}", lab.name),
                format!("创建实验环境 {}", lab.name),
            )))
            .with_cleanup_errors(cleanup));
        }
    }
    exec.phase("host");
    if let Err(e) = write_host_resolv_conf(lab, exec) {
        let cleanup = teardown(lab, exec).await.err().into_iter().collect();
        return Err((e).with_cleanup_errors(cleanup));
    }
    // The lab host's PID 1 first: everything of the host is started inside its PID
    // namespace.
    if exec.dry_run() {
        exec.narrate(&super::hostinit::command(lab));
    } else {
        match super::hostinit::start(lab) {
            Ok(p) => {
                exec.narrate(&super::hostinit::command(lab));
                rec.host_init = Some(p);
            }
            Err(e) => {
                let cleanup = teardown(lab, exec).await.err().into_iter().collect();
                return Err((e).with_cleanup_errors(cleanup));
            }
        }
    }
    exec.phase("world");
    let programs = if lab.is_first_host() {
        world_programs().into_iter().collect()
    } else {
        Vec::new()
    };
    for program in programs {
        if exec.dry_run() {
            exec.narrate(&program.command(lab));
            continue;
        }
        match program.start(lab, exec) {
            Ok(p) => rec.processes.push(p),
            Err(e) => {
                let cleanup = teardown(lab, exec).await.err().into_iter().collect();
                return Err((e).with_cleanup_errors(cleanup));
            }
        }
    }
    exec.phase("daemon");
    if exec.dry_run() {
        exec.narrate(&crate::dns::start_command(lab));
        return Ok(rec);
    }
    // dockerd's embedded DNS server: one process for the lab, in the host's namespace.
    match crate::dns::start(lab, rec.host_init.as_ref(), exec) {
        Ok(p) => rec.resolver = Some(p),
        Err(e) => {
            let cleanup = teardown(lab, exec).await.err().into_iter().collect();
            return Err((e).with_cleanup_errors(cleanup));
        }
    }
    if lab.is_first_host()
        && let Err(e) = crate::image::install_bins(lab)
    {
        let cleanup = teardown(lab, exec).await.err().into_iter().collect();
        return Err((e).with_cleanup_errors(cleanup));
    }
    for n in &mut networks {
        n.status = LabStatus::Up;
        store.save_network(exec, n)?;
    }
    rec.status = LabStatus::Up;
    rec.creator = None;
    store.save_lab(exec, &rec)?;
    Ok(rec)
}

/// `steps` (the lab's, then its networks') cut where the host's part and the daemon's
/// part begin: at the Docker host's namespace and at the first sysctl (dockerd turning
/// on forwarding), each with the note just before it.
fn phases<'a>(lab: &Lab, steps: &'a [Step]) -> Vec<(&'static str, &'a [Step])> {
    let host = lab.host_ns();
    let with_note = |i: usize| match i.checked_sub(1).map(|j| &steps[j]) {
        Some(Step::Note { .. }) => i - 1,
        _ => i,
    };
    let h = steps
        .iter()
        .position(|s| matches!(s, Step::NetnsAdd { name } if *name == host))
        .map_or(0, with_note);
    let d = steps
        .iter()
        .position(|s| matches!(s, Step::Sysctl { .. }))
        .map_or(h, with_note)
        .max(h);
    vec![
        ("world", &steps[..h]),
        ("host", &steps[h..d]),
        ("daemon", &steps[d..]),
    ]
}

/// The lab host's /etc/resolv.conf, in the lab directory: the lab's internet DNS.
fn write_host_resolv_conf(lab: &Lab, exec: &mut Executor) -> Result<()> {
    let path = lab.host_resolv_conf();
    let comment = "# the internet DNS of the lab (named, in the world)";
    let server = format!("nameserver {}", addr::INTERNET_DNS);
    exec.narrate(&crate::ui::tr(
        format!(
            "# the lab host's resolv.conf: {}, which the default bridge's containers inherit",
            addr::INTERNET_DNS
        ),
        format!(
            "# 实验宿主机的 resolv.conf：{}，默认网桥上的容器沿用它",
            addr::INTERNET_DNS
        ),
    ));
    let dir = path.parent().unwrap_or(&path);
    exec.narrate(&format!(
        "mkdir -p {} && printf '{comment}\\n{server}\\n' > {}",
        dir.display(),
        path.display()
    ));
    exec.create_dir(dir)?;
    exec.write_file(&path, format!("{comment}\n{server}\n").as_bytes())
}

/// A long-running program of the world: this binary under another name (argv0), its
/// output kept in a log file of the lab directory.
struct WorldProgram {
    argv0: &'static str,
    args: Vec<String>,
    log: &'static str,
    what: &'static str,
}

/// The world's programs: the web server of "the internet" and of every site (one
/// listener per address, each with its own page), and the internet's DNS.
fn world_programs() -> [WorldProgram; 2] {
    let mut web = vec!["-p".to_string(), "80".to_string()];
    let pages = std::iter::once((
        addr::INTERNET_WEB,
        format!("hello from the internet ({})", addr::INTERNET_WEB),
    ))
    .chain(
        world_dns::SITES
            .iter()
            .map(|h| (h.addr, world_dns::site_page(h))),
    );
    for (ip, page) in pages {
        web.extend(["-b".to_string(), ip.to_string(), "-m".to_string(), page]);
    }
    [
        WorldProgram {
            argv0: "httpd-foreground",
            args: web,
            log: "world-web.log",
            what: "the world's web server",
        },
        WorldProgram {
            argv0: world_dns::APPLET,
            args: vec![
                "-b".into(),
                addr::INTERNET_DNS.to_string(),
                "-p".into(),
                "53".into(),
            ],
            log: "named.log",
            what: "the internet's DNS server",
        },
    ]
}

impl WorldProgram {
    /// The command a learner would type (narrated by `--explain` and `--dry-run`).
    fn command(&self, lab: &Lab) -> String {
        let args: Vec<String> = self
            .args
            .iter()
            .map(|a| crate::lesson::vars::quote(a))
            .collect();
        format!(
            "ip netns exec {} {} {} &",
            lab.world_ns(),
            self.argv0,
            args.join(" ")
        )
    }

    /// Start it inside the world namespace, in a process group of its own (a Ctrl-C
    /// of the command that built the lab must not reach it).
    fn start(&self, lab: &Lab, exec: &mut Executor) -> Result<ProcRef> {
        exec.narrate(&self.command(lab));
        let log = crate::util::create_private(&lab.dir().join(self.log))
            .with_ctx(|| format!("creating {}", self.log))?;
        let mut cmd =
            crate::firewall::command_in(&netns::path(&lab.world_ns()), &crate::image::self_exe()?)?;
        use std::os::unix::process::CommandExt;
        cmd.arg0(self.argv0)
            .args(&self.args)
            .stdin(std::process::Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .process_group(0);
        let child = cmd.spawn().with_ctx(|| format!("starting {}", self.what))?;
        ProcRef::of(child.id() as i32)
            .ok_or_else(|| Error::msg(format!("{} exited at once", self.what)))
    }
}

/// Refuse early, with the fix, when the machine lacks what a lab needs.
fn preflight() -> Result<()> {
    if !nix::unistd::geteuid().is_root() {
        return Err(Error::msg(crate::ui::tr(
            "dockernet needs root to build network namespaces: run it with sudo",
            "dockernet 需要 root 权限来创建网络命名空间：请用 sudo 运行",
        )));
    }
    for tool in ["iptables-restore", "iptables-save"] {
        if crate::util::which(tool).is_none() {
            return Err(Error::msg(crate::ui::tr(
                format!("{tool} not found: install it with `sudo apt-get install iptables`"),
                format!("找不到 {tool}：请先安装 `sudo apt-get install iptables`"),
            )));
        }
    }
    Ok(())
}
