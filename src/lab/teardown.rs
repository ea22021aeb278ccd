//! Removing a lab: `lab down`, and the teardown a half-built lab gets before it is
//! built again. The undo logs are replayed first; a sweep by name removes whatever no
//! record names, so a damaged or missing state never strands a lab.

use super::{Lab, NetworkRecord};
use crate::error::{Error, Result};
use crate::netns;
use crate::step::{Executor, Step};
use crate::util::ProcRef;
use std::collections::HashSet;
use std::time::Duration;

/// Remove everything of a lab: processes, namespaces, mounts, files. Replays the
/// recorded undo logs (containers, then networks, then the lab's own steps), then sweeps
/// by name whatever no record names (a damaged or missing state, a crash before a
/// write). Keeps going past failures and reports them all at the end.
pub async fn teardown(lab: &Lab, exec: &mut Executor) -> Result<()> {
    let mut errors: Vec<String> = Vec::new();
    if lab.is_first_host() {
        // The lab's other hosts first, each from its own records.
        for other in super::hosts::added(lab) {
            if let Err(e) = Box::pin(teardown(&other, exec)).await {
                errors.push(e.to_string());
            }
        }
    }
    let store = lab.store();
    let rec = store.lab().ok().flatten();
    let containers = store.containers().unwrap_or_default();
    let networks = store.networks().unwrap_or_default();
    let mut procs: Vec<ProcRef> = Vec::new();
    if let Some(r) = &rec {
        procs.extend(r.processes.iter().copied());
        procs.extend(r.resolver);
        procs.extend(r.host_init);
    }
    for c in &containers {
        procs.extend(c.processes());
    }
    procs.extend(our_processes_in(lab));
    // Shims, inits and proxies of this lab whose namespace is already gone.
    procs.extend(crate::util::processes_with_env_prefix(
        crate::util::OWNER_ENV,
        &format!("{}/", lab.dir().display()),
    ));
    if lab.is_first_host() {
        exec.narrate(&crate::ui::tr(
            format!("# stop every process of lab {}", lab.name),
            format!("# 停止实验环境 {} 的全部进程", lab.name),
        ));
    } else {
        exec.narrate(&crate::ui::tr(
            format!("# stop every process of host {}", lab.host),
            format!("# 停止宿主机 {} 的全部进程", lab.host),
        ));
    }
    exec.signal(&procs, libc::SIGKILL, Duration::from_secs(2));

    // User-defined networks before the predefined ones, newest first.
    let mut nets: Vec<&NetworkRecord> = networks.iter().collect();
    nets.sort_by(|a, b| {
        (a.predefined, -a.created)
            .partial_cmp(&(b.predefined, -b.created))
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    // Every undo log, as performed: containers, then networks, then the lab's own.
    let mut logs: Vec<Vec<Step>> = Vec::new();
    for c in &containers {
        let mut own: Vec<Step> = c.sandbox_steps.clone();
        for e in &c.endpoints {
            own.extend(e.steps.iter().cloned());
        }
        logs.push(own);
    }
    for n in nets {
        logs.push(n.steps.clone());
    }
    if let Some(r) = &rec {
        logs.push(r.steps.clone());
    }
    // What lives inside a namespace dies with it: only the namespace removals of the
    // logs (and the sweep's) need to run, not every rule and link inside them.
    let mut doomed = Doomed::new(lab.own_namespaces());
    for log in &logs {
        doomed.add_created(log);
    }
    let undo: Vec<Step> = logs
        .iter()
        // A veth whose other end stays (an added host's LAN cable on the world's
        // switch) would linger after its namespace is gone: deleted explicitly, so the
        // name is free at once for a host added again.
        .flat_map(|log| {
            log.iter()
                .rev()
                .filter(|s| !doomed.takes(s) || doomed.lingering(s).is_some())
        })
        .filter_map(Step::inverse)
        .collect();
    let mut deleted: HashSet<String> = HashSet::new();
    for s in &undo {
        if let Step::NetnsDel { name } = s
            && !deleted.insert(name.clone())
        {
            continue;
        }
        if let Err(e) = exec.run(s).await {
            errors.push(e.to_string());
        }
    }
    // The sweep: namespaces of the lab (of this host) that no record named.
    for name in lab.own_namespaces() {
        if deleted.contains(&name) && !netns::exists(&name) {
            continue;
        }
        if let Err(e) = exec.run(&Step::NetnsDel { name }).await {
            errors.push(e.to_string());
        }
    }
    if let Err(e) = exec
        .run(&Step::UtsDel {
            path: lab.host_uts_path().display().to_string(),
        })
        .await
    {
        errors.push(e.to_string());
    }
    if exec.effects() {
        // Any leftover mount under the lab directory (there should be none).
        for m in mounts_under(&lab.dir().display().to_string()) {
            let _ = nix::mount::umount2(m.as_str(), nix::mount::MntFlags::MNT_DETACH);
        }
    }
    // Everything but the lock file, which the caller still holds.
    for entry in std::fs::read_dir(lab.dir()).into_iter().flatten().flatten() {
        if entry.file_name() == "lock" {
            continue;
        }
        if let Err(e) = exec.remove_path(&entry.path()) {
            errors.push(e.to_string());
        }
    }
    if !lab.is_first_host()
        && let Err(e) = exec.remove_path(&lab.dir())
    {
        errors.push(e.to_string());
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(Error::msg(crate::ui::tr(
            format!(
                "lab {}: {} thing(s) could not be removed: {}",
                lab.name,
                errors.len(),
                errors.join("; ")
            ),
            format!(
                "实验环境 {}：有 {} 个对象无法删除：{}",
                lab.name,
                errors.len(),
                errors.join("；")
            ),
        )))
    }
}

/// Network namespaces a teardown deletes, and what of the undo logs goes with them.
///
/// Whatever lives inside a namespace dies when the namespace is deleted: its rules, its
/// links, and both ends of a veth pair with one end inside (a veth cannot live with one
/// end). Deleting those one by one first is wasted time: each explicit veth deletion
/// waits for a netdev unregister round of the kernel (~10-20 ms), while the namespaces'
/// removal unregisters all their devices in one batch (the kernel's `cleanup_net`
/// worker). `lab down` and `rm` share this.
#[derive(Debug, Default, Clone)]
pub struct Doomed {
    names: HashSet<String>,
}

impl Doomed {
    /// The namespaces `names` are to be deleted.
    pub fn new(names: impl IntoIterator<Item = String>) -> Doomed {
        Doomed {
            names: names.into_iter().collect(),
        }
    }

    /// The namespaces an undo log creates are deleted by it too.
    pub fn add_created(&mut self, log: &[Step]) {
        for s in log {
            if let Step::NetnsAdd { name } = s {
                self.names.insert(name.clone());
            }
        }
    }

    /// True if namespace `ns` is to be deleted.
    pub fn contains(&self, ns: &str) -> bool {
        self.names.contains(ns)
    }

    /// True if what `step` (a step of an undo log, as it was performed) made goes away
    /// with the doomed namespaces, so that its inverse need not run.
    pub fn takes(&self, step: &Step) -> bool {
        match step {
            Step::VethAdd { ns, peer_ns, .. } => self.contains(ns) || self.contains(peer_ns),
            // Its UDP socket lives in `ns`: deleted with the overlay's namespace only, the
            // device lingers until the kernel's cleanup_net, and a new overlay with its
            // VNI is refused meanwhile (EEXIST). So only the host's removal takes it.
            Step::VxlanAdd { ns, .. } => self.contains(ns),
            // Not a macvlan / ipvlan: it would go with its namespace, but only once the
            // kernel's cleanup_net frees it (100+ ms later, seconds under load), and until
            // then it still answers on the parent's LAN. No host-side end shows when it
            // is gone, so it is deleted explicitly (its inverse runs).
            Step::PeerAdd { ns, .. } => self.contains(ns),
            Step::BridgeAdd { ns, .. } | Step::Firewall { ns, .. } | Step::Nft { ns, .. } => {
                self.contains(ns)
            }
            _ => false,
        }
    }

    /// A link that goes with the doomed namespaces only later, as `(namespace, name)`:
    /// the end of a veth pair outside them whose peer is inside. The kernel removes it
    /// once its `cleanup_net` worker has freed the peer's namespace (asynchronously,
    /// 100+ ms after the deletion); a caller that promises nothing is left waits for it.
    pub fn lingering(&self, step: &Step) -> Option<(String, String)> {
        match step {
            Step::VethAdd {
                ns, name, peer_ns, ..
            } if !self.contains(ns) && self.contains(peer_ns) => Some((ns.clone(), name.clone())),
            _ => None,
        }
    }
}

/// Processes running our own binary inside this lab's namespaces: ours to end even
/// when the state file lost track of them (a `kill -9` between spawn and save).
fn our_processes_in(lab: &Lab) -> Vec<ProcRef> {
    let Ok(me) = std::fs::read_link("/proc/self/exe") else {
        return Vec::new();
    };
    let inodes: Vec<u64> = lab
        .own_namespaces()
        .iter()
        .filter_map(|n| netns::inode(&netns::path(n)))
        .collect();
    if inodes.is_empty() {
        return Vec::new();
    }
    crate::util::other_processes()
        .filter(|(_, dir)| {
            netns::inode(&dir.join("ns/net")).is_some_and(|ino| inodes.contains(&ino))
        })
        .filter(|(_, dir)| std::fs::read_link(dir.join("exe")).is_ok_and(|e| e == me))
        .filter_map(|(pid, _)| ProcRef::of(pid))
        .collect()
}

/// Mount points at or below `prefix`, deepest first.
pub fn mounts_under(prefix: &str) -> Vec<String> {
    let text = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    let mut v: Vec<String> = text
        .lines()
        .filter_map(|l| l.split_whitespace().nth(4))
        .filter(|m| m.starts_with(prefix))
        .map(String::from)
        .collect();
    v.sort_by_key(|m| std::cmp::Reverse(m.len()));
    v
}

/// What `lab down` found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DownResult {
    /// Nothing of the lab existed.
    Absent,
    /// Removed by replaying its records.
    Removed,
    /// The records were damaged or missing: removed by the names of its objects.
    RemovedByName,
}

/// `lab down`: remove the lab whole.
pub async fn lab_down(lab: &Lab, exec: &mut Executor) -> Result<DownResult> {
    let lab = &lab.first_host();
    let _lock = lab.lock_for(exec.dry_run())?;
    let store = lab.store();
    let readable = store.lab();
    let leftovers = !netns::list_with_prefix(&lab.netns_prefix()).is_empty();
    // The lock file is ours (just created); anything else is a trace of the lab.
    let traces = std::fs::read_dir(lab.dir())
        .into_iter()
        .flatten()
        .flatten()
        .any(|e| e.file_name() != "lock");
    let result = match &readable {
        // A damaged container record leaves teardown to find the containers by name.
        Ok(Some(_)) if store.containers().is_ok() => DownResult::Removed,
        Ok(None) if !leftovers && !traces => DownResult::Absent,
        _ => DownResult::RemovedByName,
    };
    if result == DownResult::Absent && exec.effects() {
        let _ = std::fs::remove_file(lab.dir().join("lock"));
        let _ = std::fs::remove_dir(lab.dir());
    }
    if result == DownResult::Absent {
        return Ok(result);
    }
    teardown(lab, exec).await?;
    if exec.effects() {
        let _ = std::fs::remove_file(lab.dir().join("lock"));
        let _ = std::fs::remove_dir(lab.dir());
    }
    Ok(result)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn veth(ns: &str, name: &str, peer_ns: &str) -> Step {
        Step::VethAdd {
            ns: ns.into(),
            name: name.into(),
            master: Some("docker0".into()),
            peer: "eth0".into(),
            peer_ns: peer_ns.into(),
            peer_mac: None,
            mtu: None,
        }
    }

    #[test]
    fn what_a_doomed_namespace_takes_with_it() {
        let mut d = Doomed::default();
        d.add_created(&[Step::NetnsAdd { name: "ctr".into() }]);
        assert!(d.contains("ctr") && !d.contains("host"));
        let rules = |ns: &str| Step::Firewall {
            ns: ns.into(),
            batch: Default::default(),
        };
        // The container's own rules and both ends of its veth go with its namespace...
        assert!(d.takes(&rules("ctr")));
        assert!(d.takes(&veth("host", "vethabc", "ctr")));
        // ...but the host end only later, and the host's rules stay.
        assert_eq!(
            d.lingering(&veth("host", "vethabc", "ctr")),
            Some(("host".into(), "vethabc".into()))
        );
        assert!(!d.takes(&rules("host")));
        assert!(!d.takes(&veth("host", "vethdef", "other")));
        assert_eq!(d.lingering(&veth("host", "vethdef", "other")), None);
        // A pair with its first end inside is gone at once: nothing to wait for.
        let d = Doomed::new(["host".to_string(), "ctr".to_string()]);
        assert!(d.takes(&veth("host", "vethabc", "ctr")));
        assert_eq!(d.lingering(&veth("host", "vethabc", "ctr")), None);
    }
}
