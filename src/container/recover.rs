//! Containers left behind: half-created ones whose creator died (rolled back), and
//! ones whose process ended (their network released). Only the containers named in
//! the lab's `pending/` and `exited/` journals are read, so the cost of a command does
//! not grow with the number of containers.

use super::{mark_exited, release_network};
use crate::error::Result;
use crate::lab::{ContainerRecord, ContainerStatus, Daemon, Pending, PendingKind};
use crate::step::Executor;
use std::time::Duration;

/// Roll back a creation, start or connect that a dead process left half-done, or
/// finish the removal it was doing.
pub async fn rollback(d: &mut Daemon<'_>, ex: &mut Executor, p: &Pending) -> Result<()> {
    if p.kind == PendingKind::Remove {
        return super::remove_batch::finish_removal(d, ex, p).await;
    }
    let Some(mut rec) = d.store.container(&p.id)? else {
        return d.store.pending_done(ex, &p.id);
    };
    match p.kind {
        PendingKind::Connect => {
            super::endpoints::rollback_connect(d, ex, &mut rec, p.network.as_deref()).await?;
        }
        _ => {
            // The creator may have died after starting the shim but before saving its
            // pids: find the shim, init and proxies by the owner mark in their environment.
            let mut procs = rec.processes();
            procs.extend(crate::util::processes_with_env_prefix(
                super::init::OWNER_ENV,
                &d.store.container_dir(&rec.id).display().to_string(),
            ));
            ex.signal(&procs, libc::SIGKILL, Duration::from_secs(2));
            // Keep rolling back past a failed undo, and say what could not be undone.
            if let Err(e) = release_network(d, ex, &mut rec).await {
                eprintln!(
                    "{}",
                    crate::ui::tr(
                        format!(
                            "dockernet: rolling back an interrupted run of {}: {e}",
                            rec.name
                        ),
                        format!("dockernet：回滚 {} 被中断的 run：{e}", rec.name),
                    )
                );
            }
            if rec.finished.is_none() {
                // Never ran: `run` died before the container existed.
                d.store.remove_container(ex, &rec.id, &rec.name)?;
            } else {
                mark_exited(&d.store, &mut rec);
                d.store.save_container(ex, &rec)?;
            }
        }
    }
    d.store.pending_done(ex, &p.id)
}

/// Bring one container's record up to date with its processes: a running container
/// whose shim is gone becomes `Exited` (or vanishes with `--rm`) and loses its network.
/// Returns the record as it is now (None if it was removed).
pub async fn settle(
    d: &mut Daemon<'_>,
    ex: &mut Executor,
    id: &str,
) -> Result<Option<ContainerRecord>> {
    let Some(mut rec) = d.store.container(id)? else {
        d.store.exited_done(ex, id)?;
        return Ok(None);
    };
    if rec.status != ContainerStatus::Running || rec.shim.is_some_and(|p| p.alive()) {
        return Ok(Some(rec));
    }
    if !ex.effects() {
        return Ok(Some(rec));
    }
    mark_exited(&d.store, &mut rec);
    let released = release_network(d, ex, &mut rec).await;
    let out = if rec.auto_remove {
        d.store.remove_container(ex, &rec.id, &rec.name)?;
        None
    } else {
        d.store.save_container(ex, &rec)?;
        Some(rec)
    };
    d.store.exited_done(ex, id)?;
    released?;
    Ok(out)
}
