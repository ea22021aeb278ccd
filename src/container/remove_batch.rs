//! Removing containers and releasing their networks as one batch: `rm c1 c2 ... c100`
//! kills every process at once and waits once, then tears all the networks down
//! together. A single container is a batch of one (`stop`, exits, rollbacks).
//!
//! What lives inside a container's namespace dies with it ([`Doomed`]): its DNS
//! redirect rules and both ends of its veth pairs. So the namespaces are deleted and
//! the host ends of the pairs, which the kernel removes asynchronously (one
//! `cleanup_net` round for all of them), are waited for once — instead of one explicit
//! veth deletion per container, each waiting for its own netdev unregister round
//! (~10-20 ms). The host's rules of every container (published ports, links) go in one
//! `iptables-restore` batch.

use super::claims::unclaim_endpoint;
use crate::error::{Error, Result};
use crate::lab::{ContainerRecord, ContainerStatus, Daemon, Doomed, Pending};
use crate::step::{Executor, UndoLog};
use crate::util::ProcRef;
use std::time::Duration;

/// How long the host ends of deleted namespaces' veth pairs may take to go before they
/// are deleted explicitly (something else may keep a namespace alive: a process that
/// entered it). The kernel's cleanup of a hundred namespaces takes well under a second.
const LINGER: Duration = Duration::from_secs(3);

/// How long killed processes may take to be gone.
const KILL_WAIT: Duration = Duration::from_secs(2);

/// How long docker-proxy may take to exit on SIGTERM before it is killed.
const PROXY_WAIT: Duration = Duration::from_secs(2);

/// Docker's refusal to remove a running container without `-f`.
pub fn check_removable(rec: &ContainerRecord, force: bool) -> Result<()> {
    if rec.status == ContainerStatus::Running && !force {
        return Err(Error::msg(format!(
            "Error response from daemon: cannot remove container \"/{}\": container is running: stop the container before removing or force remove",
            rec.name
        )));
    }
    Ok(())
}

/// Remove containers (settled, and checked with [`check_removable`]) together. The
/// removal is journaled first (one `pending/` entry for the batch, so that a `kill -9`
/// in the middle is finished by the next command: [`finish_removal`]), then
/// [`remove_journaled`] does it. One result per container, in order; a container whose
/// network could not be released whole is removed all the same, and its error returned.
pub async fn remove_all(
    d: &mut Daemon<'_>,
    ex: &mut Executor,
    recs: &mut [ContainerRecord],
) -> Vec<Result<()>> {
    for rec in recs.iter() {
        ex.narrate(&crate::ui::tr(
            format!(
                "# remove {}: kill its processes, undo its network, delete its files",
                rec.name
            ),
            format!("# 删除 {}：杀掉进程，撤销网络配置，删除文件", rec.name),
        ));
    }
    let ids: Vec<String> = recs.iter().map(|r| r.id.clone()).collect();
    let Some(journal) = ids.first() else {
        return Vec::new();
    };
    if let Err(e) = d.store.pending_add_removal(ex, &ids) {
        // Not even journaled: nothing is touched.
        return recs
            .iter()
            .map(|_| Err(Error::msg(e.to_string())))
            .collect();
    }
    let mut results = remove_journaled(d, ex, recs, journal).await;
    if let Err(e) = d.store.pending_done(ex, journal) {
        results[0] = std::mem::replace(&mut results[0], Ok(())).and(Err(e));
    }
    results
}

/// Finish the removal an interrupted `rm` journaled (its process died): whichever of its
/// containers are still there are removed as one batch. Errors are reported and the
/// journal cleared: what is left then is for `lab down`.
pub async fn finish_removal(d: &mut Daemon<'_>, ex: &mut Executor, p: &Pending) -> Result<()> {
    let mut recs = Vec::new();
    for id in p.ids() {
        if let Some(rec) = d.store.container(id)? {
            recs.push(rec);
        }
    }
    let results = remove_journaled(d, ex, &mut recs, &p.id).await;
    for (rec, r) in recs.iter().zip(results) {
        if let Err(e) = r {
            eprintln!(
                "{}",
                crate::ui::tr(
                    format!(
                        "dockernet: finishing an interrupted removal of {}: {e}",
                        rec.name
                    ),
                    format!("dockernet：完成 {} 被中断的删除：{e}", rec.name),
                )
            );
        }
    }
    d.store.pending_done(ex, &p.id)
}

/// The removal itself, once journaled in `pending/<journal>`: every process killed at
/// once, the networks released together while the processes die
/// ([`release_networks`]), the processes waited for once, then the records and files.
async fn remove_journaled(
    d: &mut Daemon<'_>,
    ex: &mut Executor,
    recs: &mut [ContainerRecord],
    journal: &str,
) -> Vec<Result<()>> {
    // The records name every process: `rm` starts none, and a container being created
    // (whose processes a record may miss) is rolled back before any command's work.
    // The proxies get SIGTERM with the network ([`release_networks`]).
    let procs: Vec<ProcRef> = recs
        .iter()
        .flat_map(|r| [r.init, r.shim])
        .flatten()
        .collect();
    // Killed now, waited for after the network work: they die side by side with it (a
    // namespace deleted while its last processes exit is freed when they are gone).
    let dying = ex.signal(&procs, libc::SIGKILL, Duration::ZERO);
    let released = release_networks(d, ex, recs).await;
    wait_gone(ex, &dying, KILL_WAIT);
    // Each container's files go in order (name, record and files, journals),
    // containers side by side: on a file system that discards freed blocks
    // synchronously (ext4 without a journal, mounted with `discard`, as on the
    // classroom VMs) every freed block waits for the disk, and the waits overlap. The
    // batch's journal goes last, by the caller.
    let (store, exr) = (&d.store, &*ex);
    let files = in_parallel(recs, |rec| {
        store
            .remove_container(exr, &rec.id, &rec.name)
            .and_then(|()| store.exited_done(exr, &rec.id))
            .and_then(|()| {
                if rec.id == journal {
                    Ok(())
                } else {
                    store.pending_done(exr, &rec.id)
                }
            })
    });
    released
        .into_iter()
        .zip(files)
        .map(|(released, files)| files.and(released))
        .collect()
}

/// Release the networks of containers whose processes are gone (or dying): their
/// proxies stopped, the resolver told to forget them, their addresses, memberships and
/// ports released, then every endpoint's and sandbox's steps undone together
/// ([`Executor::undo_together`]), skipping what dies with the namespaces deleted. One
/// result per container, in order; cleaning goes on past failures.
pub async fn release_networks(
    d: &mut Daemon<'_>,
    ex: &mut Executor,
    recs: &mut [ContainerRecord],
) -> Vec<Result<()>> {
    let proxies: Vec<ProcRef> = recs
        .iter_mut()
        .flat_map(|r| std::mem::take(&mut r.proxies))
        .collect();
    // SIGTERM, as Docker stops docker-proxy; they exit while the rest is undone.
    let proxies = ex.signal(&proxies, libc::SIGTERM, Duration::ZERO);
    for rec in recs.iter_mut().filter(|r| on_user_network(r)) {
        // First: the resolver's sockets in the namespace would keep it alive.
        crate::dns::forget(d, ex, &rec.id);
        rec.dns = None;
    }
    let (dd, exr) = (&*d, &*ex);
    let mut errors: Vec<Vec<Error>> = in_parallel(recs, |rec| {
        rec.endpoints
            .iter()
            .filter_map(|e| unclaim_endpoint(dd, exr, rec, e).err())
            .collect()
    });
    if let Err(e) = release_ports(d, ex, recs) {
        errors
            .iter_mut()
            .for_each(|errs| errs.push(Error::msg(e.to_string())));
    }
    let mut doomed = Doomed::default();
    for rec in recs.iter() {
        doomed.add_created(&rec.sandbox_steps);
    }
    let logs: Vec<UndoLog> = recs.iter().map(|rec| undo_log(rec, &doomed)).collect();
    let undone = ex.undo_together(&logs, LINGER).await;
    // The other hosts forget the overlay containers that left.
    let mut overlay_changes: Vec<(String, Vec<String>)> = Vec::new();
    for rec in recs.iter() {
        let nets: Vec<String> = rec
            .endpoints
            .iter()
            .filter(|e| crate::driver::overlay::is_overlay_endpoint(e))
            .map(|e| e.network_id.clone())
            .collect();
        if !nets.is_empty() {
            overlay_changes.push((rec.id.clone(), nets));
        }
    }
    for ((rec, errs), undone) in recs.iter_mut().zip(errors.iter_mut()).zip(undone) {
        errs.extend(undone);
        rec.endpoints.clear();
        rec.sandbox_steps.clear();
        rec.ports.clear();
    }
    let mut synced: Vec<String> = Vec::new();
    for (id, nets) in &overlay_changes {
        let fresh: Vec<String> = nets
            .iter()
            .filter(|n| !synced.contains(n))
            .cloned()
            .collect();
        if let Err(e) = crate::overlay::container_changed(d, ex, id, &fresh).await {
            eprintln!("dockernet: {e}");
        }
        crate::overlay::forget_dns(d.lab, ex, id);
        synced.extend(fresh);
    }
    let stubborn = wait_gone(ex, &proxies, PROXY_WAIT);
    ex.signal(&stubborn, libc::SIGKILL, Duration::from_secs(1));
    recs.iter()
        .zip(errors)
        .map(|(rec, errs)| Error::all(format!("releasing the network of {}", rec.name), errs))
        .collect()
}

/// True if the embedded DNS server may know the container: it serves containers on
/// user-defined networks only (`attach` when the first one is joined), so one only
/// on `bridge`, `host` or `none` costs no round trip to it.
fn on_user_network(rec: &ContainerRecord) -> bool {
    rec.dns.is_some()
        || rec
            .attachments
            .iter()
            .map(|a| a.network.as_str())
            .chain(rec.endpoints.iter().map(|e| e.network.as_str()))
            .any(|n| !matches!(n, "bridge" | "host" | "none"))
}

/// Wait up to `wait` for processes already signalled to be gone; returns those left.
fn wait_gone(ex: &Executor, procs: &[ProcRef], wait: Duration) -> Vec<ProcRef> {
    // Signal 0 sends nothing: it only checks that the process is still there.
    ex.signal(procs, 0, wait)
}

/// The host ports the containers hold, released in one write of the lab record.
fn release_ports(d: &mut Daemon, ex: &Executor, recs: &[ContainerRecord]) -> Result<()> {
    let held = |id: &str| recs.iter().any(|r| r.id == id);
    if !d.rec.ports.iter().any(|p| held(&p.container)) {
        return Ok(());
    }
    d.rec.ports.retain(|p| !held(&p.container));
    d.store.save_lab(ex, &d.rec)
}

/// What must be undone of one container, as it was built (sandbox, then endpoints),
/// without what dies with the namespaces deleted, and the links that go with them later.
fn undo_log(rec: &ContainerRecord, doomed: &Doomed) -> UndoLog {
    let built = rec
        .sandbox_steps
        .iter()
        .chain(rec.endpoints.iter().flat_map(|e| &e.steps));
    let mut log = UndoLog::default();
    for s in built {
        if let Some(link) = doomed.lingering(s) {
            log.vanishing.push(link);
        }
        if !doomed.takes(s) {
            log.steps.push(s.clone());
        }
    }
    log
}

/// How many threads remove files side by side.
const FILE_WORKERS: usize = 16;

/// `f` applied to every item, on up to [`FILE_WORKERS`] threads; results in order.
fn in_parallel<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    if items.len() <= 1 {
        return items.iter().map(f).collect();
    }
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut out: Vec<(usize, R)> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..FILE_WORKERS.min(items.len()))
            .map(|_| {
                s.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(item) = items.get(i) else {
                            return done;
                        };
                        done.push((i, f(item)));
                    }
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    });
    out.sort_by_key(|(i, _)| *i);
    out.into_iter().map(|(_, r)| r).collect()
}
