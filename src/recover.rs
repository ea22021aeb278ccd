//! Crash recovery and exit handling, done by every command that changes the lab before
//! it does its own work: creations whose process died are rolled back, and containers
//! whose process ended release their networks. Only the lab's `pending/` and `exited/`
//! journals are read, so this costs nothing when there is nothing to do.

use crate::error::Result;
use crate::lab::{Daemon, PendingKind};
use crate::step::Executor;

/// Roll back interrupted work and settle exited containers.
pub async fn run(d: &mut Daemon<'_>, ex: &mut Executor) -> Result<()> {
    if !ex.effects() {
        return Ok(());
    }
    let me = std::process::id() as i32;
    for p in d.store.pending() {
        if p.creator.is_some_and(|c| c.pid != me && c.alive()) {
            continue;
        }
        match p.kind {
            PendingKind::Network => crate::network::rollback(d, ex, &p.id).await?,
            PendingKind::Container | PendingKind::Connect | PendingKind::Remove => {
                crate::container::rollback(d, ex, &p).await?
            }
        }
    }
    for id in d.store.exited() {
        crate::container::settle(d, ex, &id).await?;
    }
    Ok(())
}
