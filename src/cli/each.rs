//! Commands over several named containers, as Docker runs them: `rm` (one batch for all
//! the names) and the loop `stop`, `start`, `restart` use (each name settled, printed on
//! success, its error on stderr, exit status 1 if any failed).

use super::containers::RmArgs;
use super::open_lab;
use crate::container;
use crate::error::{Error, Result};
use crate::lab::{ContainerRecord, Daemon, Lab};
use crate::step::{Executor, Mode};

/// `rm`: every container named is removed in one batch (its processes killed and
/// waited for together, its network torn down with the others'); names are printed in
/// the order given, errors on stderr, exit status 1 if any failed, as Docker does.
pub async fn rm(lab: &Lab, mode: Mode, a: RmArgs) -> Result<i32> {
    let mut ex = Executor::new(mode);
    let (_lock, mut d) = open_lab(lab, &mut ex).await?;
    // What each name became: a place in the batch, or its error.
    let mut outcome: Vec<std::result::Result<usize, Error>> = Vec::new();
    let mut batch: Vec<ContainerRecord> = Vec::new();
    for name in &a.containers {
        let r = match settled(&mut d, &mut ex, name).await {
            // Named twice: the second removal finds nothing, as Docker's would.
            Ok(rec) if batch.iter().any(|b| b.id == rec.id) => Err(no_such(name)),
            Ok(rec) => container::check_removable(&rec, a.force).map(|()| {
                batch.push(rec);
                batch.len() - 1
            }),
            Err(e) => Err(e),
        };
        outcome.push(r);
    }
    let mut results: Vec<Option<Result<()>>> = container::remove_all(&mut d, &mut ex, &mut batch)
        .await
        .into_iter()
        .map(Some)
        .collect();
    let mut failed = false;
    for (name, r) in a.containers.iter().zip(outcome) {
        match r.and_then(|i| results[i].take().unwrap_or(Ok(()))) {
            Ok(()) => println!("{name}"),
            Err(e) => {
                eprintln!("dockernet: {e}");
                failed = true;
            }
        }
    }
    ex.close().await;
    Ok(if failed { 1 } else { 0 })
}

/// Docker's answer for a container that is not (or no longer) there.
fn no_such(name: &str) -> Error {
    Error::msg(format!(
        "Error response from daemon: No such container: {name}"
    ))
}

/// Find a container by name, id or prefix and bring its record up to date with its
/// processes (it may have ended, or been removed with `--rm`, since the last command).
async fn settled(d: &mut Daemon<'_>, ex: &mut Executor, name: &str) -> Result<ContainerRecord> {
    let id = d.store.find_container(name)?.id;
    container::settle(d, ex, &id)
        .await?
        .ok_or_else(|| no_such(name))
}

/// An action on one container, for [`for_each`].
type Action<'f> = dyn for<'b, 'c> Fn(
        &'b mut Daemon<'c>,
        &'b mut Executor,
        &'b mut ContainerRecord,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<()>> + 'b>>
    + 'f;

/// Apply an action to several containers, printing each name as given on success and
/// each error on stderr (exit status 1 if any failed), as Docker does.
pub(super) async fn for_each(
    lab: &Lab,
    mode: Mode,
    names: &[String],
    f: impl for<'b, 'c> Fn(
        &'b mut Daemon<'c>,
        &'b mut Executor,
        &'b mut ContainerRecord,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<()>> + 'b>>,
) -> Result<i32> {
    let f: &Action = &f;
    let mut ex = Executor::new(mode);
    let (_lock, mut d) = open_lab(lab, &mut ex).await?;
    let mut failed = false;
    for name in names {
        let mut rec = match settled(&mut d, &mut ex, name).await {
            Ok(r) => r,
            Err(e) => {
                eprintln!("dockernet: {e}");
                failed = true;
                continue;
            }
        };
        match f(&mut d, &mut ex, &mut rec).await {
            Ok(()) => println!("{name}"),
            Err(e) => {
                eprintln!("dockernet: {e}");
                failed = true;
            }
        }
    }
    ex.close().await;
    Ok(if failed { 1 } else { 0 })
}
