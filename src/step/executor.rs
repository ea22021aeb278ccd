//! Carrying steps out: one netlink connection per namespace, narration, rule batches
//! overlapped with netlink work, rollback of exactly what ran — and the one gate through
//! which every side effect passes (`--dry-run` is enforced here).

use super::{Step, parse_cidr};
use crate::error::{Error, Result};
use crate::firewall::{self, Batch};
use crate::link::{Netlink, parse_mac};
use crate::netns;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

mod together;

pub use together::UndoLog;

/// The environment variable that asks for phase markers in the narration
/// ([`Executor::phase`]); lessons set it for the commands they narrate.
pub const PHASES_ENV: &str = "DOCKERNET_PHASES";

/// How steps are carried out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Perform silently.
    Quiet,
    /// Perform and print each step (`--explain`).
    Explain,
    /// Print each step, perform nothing (`--dry-run`).
    DryRun,
}

/// Performs steps, keeping one netlink connection per namespace, and narrates them.
pub struct Executor {
    mode: Mode,
    netlinks: HashMap<String, Netlink>,
    /// Every command narrated so far (lessons read this).
    pub transcript: Vec<String>,
    color: bool,
}

impl Executor {
    /// A new executor.
    pub fn new(mode: Mode) -> Executor {
        Executor {
            mode,
            netlinks: HashMap::new(),
            transcript: Vec::new(),
            color: crate::ui::color_stderr(),
        }
    }

    /// The mode this executor runs in.
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// True if steps are only printed.
    pub fn dry_run(&self) -> bool {
        self.mode == Mode::DryRun
    }

    /// True when side effects are allowed (everything but `--dry-run`). The methods
    /// below are the only way dockernet writes state, files or signals processes, so
    /// `--dry-run` is enforced here, in one place.
    pub fn effects(&self) -> bool {
        self.mode != Mode::DryRun
    }

    /// Write a file in place (keeps its inode: /etc files are bind-mounted into
    /// containers, and a rename would leave the container looking at the old file).
    /// It is 0644: the container's processes read it, whatever their user.
    pub fn write_file(&self, path: &std::path::Path, data: &[u8]) -> Result<()> {
        if !self.effects() {
            return Ok(());
        }
        crate::util::write_shared(path, data)
            .map_err(|e| Error::from(e).context(format!("writing {}", path.display())))
    }

    /// Write a private file in place (0600, root only): the init's config, which holds
    /// the container's `-e` values.
    pub fn write_private(&self, path: &std::path::Path, data: &[u8]) -> Result<()> {
        if !self.effects() {
            return Ok(());
        }
        crate::util::write_private(path, data)
            .map_err(|e| Error::from(e).context(format!("writing {}", path.display())))
    }

    /// Replace a file atomically (state records).
    pub fn write_atomic(&self, path: &std::path::Path, data: &[u8]) -> Result<()> {
        if !self.effects() {
            return Ok(());
        }
        crate::util::write_atomic(path, data)
    }

    /// Create a directory and its parents, root only (0700: they hold the records).
    pub fn create_dir(&self, path: &std::path::Path) -> Result<()> {
        if !self.effects() {
            return Ok(());
        }
        crate::util::create_private_dir(path)
            .map_err(|e| Error::from(e).context(format!("creating {}", path.display())))
    }

    /// `ln -s TARGET LINK` (a record directory shared between hosts); an existing link
    /// to the same target is fine.
    pub fn symlink(&self, target: &std::path::Path, link: &std::path::Path) -> Result<()> {
        if !self.effects() {
            return Ok(());
        }
        if std::fs::read_link(link).is_ok_and(|t| t == target) {
            return Ok(());
        }
        if let Some(parent) = link.parent() {
            self.create_dir(parent)?;
        }
        std::os::unix::fs::symlink(target, link)
            .map_err(|e| Error::from(e).context(format!("linking {}", link.display())))
    }

    /// The static peers of VXLAN device `dev` in namespace `ns` (none if either is
    /// missing): what `overlay::sync_peers` compares with the records.
    pub async fn overlay_peers(&mut self, ns: &str, dev: &str) -> Result<Vec<crate::link::Peer>> {
        if !netns::exists(ns) {
            return Ok(Vec::new());
        }
        self.netlink(ns).await?.peers(dev).await
    }

    /// Remove a file or a directory tree; one already gone is fine.
    pub fn remove_path(&self, path: &std::path::Path) -> Result<()> {
        if !self.effects() {
            return Ok(());
        }
        let r = match std::fs::symlink_metadata(path) {
            Ok(m) if m.is_dir() => std::fs::remove_dir_all(path),
            Ok(_) => std::fs::remove_file(path),
            Err(_) => return Ok(()),
        };
        match r {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                Err(Error::from(e).context(format!("removing {}", path.display())))
            }
            _ => Ok(()),
        }
    }

    /// Send `sig` to processes we started (each checked by its start time), then wait
    /// up to `wait` for them to be gone. Returns those still alive.
    pub fn signal(
        &self,
        procs: &[crate::util::ProcRef],
        sig: i32,
        wait: std::time::Duration,
    ) -> Vec<crate::util::ProcRef> {
        if !self.effects() {
            return Vec::new();
        }
        for p in procs {
            p.signal(sig);
        }
        procs
            .iter()
            .filter(|p| !p.wait_gone(wait))
            .copied()
            .collect()
    }

    /// Print a line of narration (when explaining or dry-running) and record it.
    pub fn narrate(&mut self, line: &str) {
        self.transcript.push(line.to_string());
        if self.mode != Mode::Quiet {
            eprintln!("{}", crate::ui::narration(line, self.color));
        }
    }

    /// Mark the start of a phase of the narration (`world`, `host`, `daemon`) for a
    /// program that reads it: a lesson folds the lab's plumbing into one line. Printed
    /// only when narrating with [`PHASES_ENV`] set, so `--explain` for a person is as
    /// before.
    pub fn phase(&mut self, name: &str) {
        if self.mode != Mode::Quiet && std::env::var_os(PHASES_ENV).is_some() {
            eprintln!("  #@ {name}");
        }
    }

    /// Narrate and perform one step.
    pub async fn run(&mut self, step: &Step) -> Result<()> {
        for line in step.commands() {
            self.narrate(&line);
        }
        if self.mode == Mode::DryRun {
            return Ok(());
        }
        self.apply(step).await
    }

    /// Perform a sequence of steps; on failure undo the ones already done (validate,
    /// mutate, roll back — nothing half-built is left).
    ///
    /// Rule batches that add rules run in the background while the netlink steps after
    /// them proceed (they only name the bridge and addresses, which exist or are not
    /// needed yet); their results are collected before returning.
    pub async fn run_all(&mut self, steps: &[Step]) -> Result<()> {
        let add_only = |batch: &Batch| {
            !batch
                .ops
                .iter()
                .any(|o| matches!(o, firewall::Op::Delete(_)))
        };
        // Batches whose namespace already exists start before anything else (a
        // container's port rules only name docker0 and addresses): the iptables-restore
        // process runs while the netlink steps do. The others start at their turn.
        // Only the first batch of each namespace: a later one may use chains an earlier
        // one creates (the daemon's chains, then a network's rules), so batches of one
        // namespace are applied in order.
        let mut early: HashMap<usize, firewall::PendingApply> = HashMap::new();
        if self.mode != Mode::DryRun {
            let mut seen: std::collections::HashSet<&str> = std::collections::HashSet::new();
            for (i, step) in steps.iter().enumerate() {
                if let Step::Firewall { ns, batch } = step
                    && seen.insert(ns.as_str())
                    && add_only(batch)
                    && netns::exists(ns)
                {
                    match firewall::start_apply(&netns::path(ns), batch) {
                        Ok(p) => {
                            early.insert(i, p);
                        }
                        Err(e) => {
                            for (_, p) in early {
                                let _ = p.wait();
                            }
                            self.undo(&steps[..i]).await;
                            return Err(e);
                        }
                    }
                }
            }
        }
        let mut pending: Vec<(String, firewall::PendingApply)> = Vec::new();
        let mut failure = None;
        for (i, step) in steps.iter().enumerate() {
            let r = match step {
                Step::Firewall { ns, batch } if self.mode != Mode::DryRun && add_only(batch) => {
                    for line in step.commands() {
                        self.narrate(&line);
                    }
                    match early.remove(&i) {
                        Some(p) => {
                            pending.push((ns.clone(), p));
                            Ok(())
                        }
                        None => wait_ns(&mut pending, ns).and_then(|()| {
                            firewall::start_apply(&netns::path(ns), batch)
                                .map(|p| pending.push((ns.clone(), p)))
                        }),
                    }
                }
                Step::Firewall { ns, .. } if self.mode != Mode::DryRun => {
                    wait_ns(&mut pending, ns).and(self.run(step).await)
                }
                _ => self.run(step).await,
            };
            if let Err(e) = r {
                failure = Some((i, e));
                break;
            }
        }
        // Rule batches started early for steps never reached were applied all the same:
        // they are waited for, and undone with the steps that ran.
        let unreached: Vec<usize> = early.keys().copied().collect();
        for (_, p) in early {
            pending.push((String::new(), p));
        }
        for (_, p) in pending {
            if let Err(e) = p.wait()
                && failure.is_none()
            {
                failure = Some((steps.len(), e));
            }
        }
        if let Some((done, e)) = failure {
            // Exactly what ran: the steps before the failure, plus the early batches
            // past it (never the netlink steps that did not run).
            let mut ran: Vec<Step> = steps[..done.min(steps.len())].to_vec();
            for i in unreached.into_iter().filter(|&i| i >= done) {
                ran.push(steps[i].clone());
            }
            let cleanup = self.undo(&ran).await;
            return Err(e.with_cleanup_errors(cleanup));
        }
        Ok(())
    }

    /// Undo steps in reverse order, continuing past failures (objects already gone are
    /// fine). Returns the errors it met, for reporting.
    ///
    /// Rule deletions run in the background while the netlink steps after them proceed:
    /// on nf_tables a deleting `iptables-restore` spends ~35 ms in its commit, which
    /// overlaps the ~40 ms the kernel takes to unregister a bridge or a veth. They are
    /// waited for before anything else touches their namespace's rules or removes it, and
    /// a batch that fails whole is retried rule by rule (rules already gone are fine).
    pub async fn undo(&mut self, steps: &[Step]) -> Vec<Error> {
        let mut errors = Vec::new();
        let mut pending: Vec<(String, Batch, firewall::PendingApply)> = Vec::new();
        for step in steps.iter().rev() {
            let Some(inv) = step.inverse() else { continue };
            let ns_of = match &inv {
                Step::Firewall { ns, .. } => Some(ns.clone()),
                Step::NetnsDel { name } => Some(name.clone()),
                _ => None,
            };
            if let Some(ns) = &ns_of {
                errors.extend(finish_deletions(&mut pending, ns));
            }
            if let Step::Firewall { ns, batch } = &inv
                && self.mode != Mode::DryRun
                && netns::exists(ns)
            {
                for line in inv.commands() {
                    self.narrate(&line);
                }
                match firewall::start_apply(&netns::path(ns), batch) {
                    Ok(p) => pending.push((ns.clone(), batch.clone(), p)),
                    Err(e) => errors.push(e),
                }
                continue;
            }
            if let Err(e) = self.run(&inv).await {
                errors.push(e);
            }
        }
        let all: Vec<String> = pending.iter().map(|(ns, _, _)| ns.clone()).collect();
        for ns in all {
            errors.extend(finish_deletions(&mut pending, &ns));
        }
        errors
    }

    async fn netlink(&mut self, ns: &str) -> Result<&Netlink> {
        if !self.netlinks.contains_key(ns) {
            let nl = Netlink::open(&netns::path(ns))?;
            self.netlinks.insert(ns.to_string(), nl);
        }
        Ok(&self.netlinks[ns])
    }

    async fn apply(&mut self, step: &Step) -> Result<()> {
        match step {
            Step::NetnsAdd { name } => netns::create(name),
            Step::NetnsDel { name } => {
                if let Some(nl) = self.netlinks.remove(name) {
                    nl.close().await;
                }
                netns::delete(name)
            }
            Step::UtsAdd { path, hostname } => netns::create_uts(&PathBuf::from(path), hostname),
            Step::UtsDel { path } => netns::remove_ns_file(&PathBuf::from(path)),
            Step::TmpfsAdd {
                path,
                options,
                linked,
            } => crate::util::mount_tmpfs(Path::new(path), options, linked),
            Step::Umount { path } => crate::util::unmount(Path::new(path)),
            Step::BridgeAdd { ns, name, mac } => {
                let mac = parse_mac(mac).ok_or_else(|| Error::msg(format!("bad MAC {mac}")))?;
                self.netlink(ns)
                    .await?
                    .add_bridge(name, Some(mac))
                    .await
                    .map(drop)
            }
            Step::VethAdd {
                ns,
                name,
                master,
                peer,
                peer_ns,
                peer_mac,
                mtu,
            } => {
                let nl = self.netlink(ns).await?;
                let master_index = match master {
                    Some(m) => Some(nl.require(m).await?),
                    None => None,
                };
                let mac = peer_mac.as_deref().and_then(parse_mac);
                nl.add_veth_into(name, master_index, peer, &netns::path(peer_ns), mac, *mtu)
                    .await
            }
            Step::VxlanAdd {
                ns,
                target_ns,
                name,
                vni,
                local,
                port,
                mtu,
                master,
            } => {
                let v = crate::link::Vxlan {
                    name,
                    vni: *vni,
                    local: *local,
                    port: *port,
                    mtu: *mtu,
                };
                self.netlink(ns)
                    .await?
                    .add_vxlan_into(&v, &netns::path(target_ns))
                    .await?;
                self.netlink(target_ns)
                    .await?
                    .set_master_up(name, master)
                    .await
            }
            Step::MacvlanAdd {
                ns,
                parent,
                name,
                peer_ns,
                mac,
                mode,
            } => {
                let mac = mac.as_deref().and_then(parse_mac);
                self.netlink(ns)
                    .await?
                    .add_macvlan_into(name, parent, &netns::path(peer_ns), mac, mode.as_deref())
                    .await
            }
            Step::IpvlanAdd {
                ns,
                parent,
                name,
                peer_ns,
                mode,
                flag,
            } => {
                self.netlink(ns)
                    .await?
                    .add_ipvlan_into(name, parent, &netns::path(peer_ns), mode, flag)
                    .await
            }
            Step::PeerAdd {
                ns,
                dev,
                mac,
                ip,
                vtep,
            } => {
                let mac = parse_mac(mac).ok_or_else(|| Error::msg(format!("bad MAC {mac}")))?;
                let p = crate::link::Peer {
                    mac,
                    ip: *ip,
                    vtep: *vtep,
                };
                self.netlink(ns).await?.add_peer(dev, &p).await
            }
            Step::PeerDel {
                ns,
                dev,
                mac,
                ip,
                vtep,
            } => {
                if !netns::is_bound(ns) {
                    return Ok(());
                }
                let mac = parse_mac(mac).ok_or_else(|| Error::msg(format!("bad MAC {mac}")))?;
                let p = crate::link::Peer {
                    mac,
                    ip: *ip,
                    vtep: *vtep,
                };
                self.netlink(ns).await?.del_peer(dev, &p).await
            }
            Step::LinkDel { ns, name } => {
                if !netns::is_bound(ns) {
                    return Ok(());
                }
                self.netlink(ns).await?.delete_link(name).await.map(drop)
            }
            Step::AddrAdd { ns, dev, cidr } => {
                let (ip, len) = parse_cidr(cidr)?;
                self.netlink(ns)
                    .await?
                    .add_address(dev, ip.into(), len)
                    .await
            }
            Step::LinkUp { ns, dev } => self.netlink(ns).await?.set_up(dev).await,
            Step::Hairpin { ns, dev } => self.netlink(ns).await?.set_hairpin(dev).await,
            Step::RouteDefault { ns, via } => self.netlink(ns).await?.add_default_route(*via).await,
            Step::Sysctl { ns, key, value } => netns::sysctl(&netns::path(ns), key, value),
            Step::Firewall { ns, batch } => {
                if batch
                    .ops
                    .iter()
                    .all(|o| matches!(o, firewall::Op::Delete(_)))
                {
                    if !netns::exists(ns) {
                        return Ok(());
                    }
                    firewall::apply_tolerant(&netns::path(ns), batch).map(drop)
                } else {
                    firewall::apply(&netns::path(ns), batch)
                }
            }
            Step::Nft { ns, ops } => {
                // An undo (deletions only) of a namespace already gone has nothing to do.
                if !netns::exists(ns) && ops.iter().all(crate::firewall::nft::NftOp::is_deletion) {
                    return Ok(());
                }
                crate::firewall::nft::apply(&netns::path(ns), ops)
            }
            Step::Note { .. } => Ok(()),
        }
    }

    /// Close every netlink connection (each one keeps its namespace alive).
    pub async fn close(self) {
        for (_, nl) in self.netlinks {
            nl.close().await;
        }
    }
}

/// Wait for the deletion batches started in `ns`; a batch that failed whole is applied
/// again rule by rule, tolerating rules already gone.
fn finish_deletions(
    pending: &mut Vec<(String, Batch, firewall::PendingApply)>,
    ns: &str,
) -> Vec<Error> {
    let mut errors = Vec::new();
    let mut i = 0;
    while i < pending.len() {
        if pending[i].0 == ns {
            let (ns, batch, p) = pending.remove(i);
            if p.wait().is_err()
                && let Err(e) = firewall::apply_tolerant(&netns::path(&ns), &batch)
            {
                errors.push(e);
            }
        } else {
            i += 1;
        }
    }
    errors
}

/// Wait for the rule batches already started in `ns` (batches of one namespace apply
/// in order); the first failure is returned.
fn wait_ns(pending: &mut Vec<(String, firewall::PendingApply)>, ns: &str) -> Result<()> {
    let mut result = Ok(());
    let mut i = 0;
    while i < pending.len() {
        if pending[i].0 == ns {
            let (_, p) = pending.remove(i);
            if let Err(e) = p.wait()
                && result.is_ok()
            {
                result = Err(e);
            }
        } else {
            i += 1;
        }
    }
    result
}
