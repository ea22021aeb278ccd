//! Undoing several independent logs at once (the containers of one `rm`): one
//! `iptables-restore` batch per namespace for all their rule deletions, and one wait
//! for all the links that go by themselves once their namespaces are deleted.

use super::Executor;
use crate::error::{Error, Result};
use crate::firewall::{self, Batch};
use crate::netns;
use crate::step::{Mode, Step};
use std::time::{Duration, Instant};

/// One log of [`Executor::undo_together`].
#[derive(Debug, Default, Clone)]
pub struct UndoLog {
    /// Steps as they were performed; their inverses run, in reverse order.
    pub steps: Vec<Step>,
    /// Links, as `(namespace, name)`, that go by themselves once the log's namespaces
    /// are deleted: the host end of a veth pair whose other end was inside one.
    pub vanishing: Vec<(String, String)>,
}

/// How often the vanishing links are looked for.
const POLL: Duration = Duration::from_millis(5);

/// How long the wait goes on with none of the links vanishing. The kernel frees the
/// namespaces deleted together in few rounds, so links left well after the others
/// (or none going at all) are held by something else: a namespace kept alive by a
/// process that entered it (a `--net container:` neighbour). They are then deleted
/// explicitly rather than waited for until the deadline.
const STALL: Duration = Duration::from_millis(250);

/// One namespace's merged rule deletions, with each log's share (for a retry that
/// tells whose rules could not be deleted).
struct Deletions {
    ns: String,
    shares: Vec<(usize, Batch)>,
    running: Option<firewall::PendingApply>,
}

impl Executor {
    /// Undo several independent logs together and return each log's errors (cleaning
    /// goes on past failures):
    ///
    /// - every rule deletion of one namespace, whichever log it comes from, goes into
    ///   one `iptables-restore` batch (on nf_tables a deleting batch costs ~30 ms
    ///   whatever its size), started first and run in the background;
    /// - the other inverses run log by log, each log in reverse order (a namespace's
    ///   rule batch is waited for before that namespace is deleted);
    /// - the vanishing links are then waited for together, up to `linger` (the
    ///   kernel frees deleted namespaces asynchronously, all queued ones in one
    ///   batch), and the ones still there are deleted explicitly, so that nothing of
    ///   the logs is left when this returns;
    /// - a merged batch that fails whole is applied again one log at a time, rule by
    ///   rule, tolerating rules already gone.
    pub async fn undo_together(&mut self, logs: &[UndoLog], linger: Duration) -> Vec<Vec<Error>> {
        let mut errors: Vec<Vec<Error>> = logs.iter().map(|_| Vec::new()).collect();
        let mut rules: Vec<Deletions> = Vec::new();
        let mut rest: Vec<Vec<Step>> = Vec::new();
        for (i, log) in logs.iter().enumerate() {
            let mut own = Vec::new();
            for inv in log.steps.iter().rev().filter_map(Step::inverse) {
                match inv {
                    Step::Firewall { ns, batch } => match rules.iter_mut().find(|d| d.ns == ns) {
                        Some(d) => d.shares.push((i, batch)),
                        None => rules.push(Deletions {
                            ns,
                            shares: vec![(i, batch)],
                            running: None,
                        }),
                    },
                    other => own.push(other),
                }
            }
            rest.push(own);
        }
        for d in &mut rules {
            let batch = Batch {
                ops: d.shares.iter().flat_map(|(_, b)| b.ops.clone()).collect(),
            };
            let merged = Step::Firewall {
                ns: d.ns.clone(),
                batch,
            };
            for line in merged.commands() {
                self.narrate(&line);
            }
            if self.mode == Mode::DryRun || !netns::exists(&d.ns) {
                continue;
            }
            if let Step::Firewall { ns, batch } = &merged {
                // Not started: `finish` applies each log's share on its own.
                d.running = firewall::start_apply(&netns::path(ns), batch).ok();
            }
        }
        for (i, steps) in rest.iter().enumerate() {
            for inv in steps {
                if let Step::NetnsDel { name } = inv
                    && let Some(k) = rules.iter().position(|d| &d.ns == name)
                {
                    let d = rules.remove(k);
                    finish(self.mode, d, &mut errors);
                }
                if let Err(e) = self.run(inv).await {
                    errors[i].push(e);
                }
            }
        }
        self.await_vanishing(logs, linger, &mut errors).await;
        for d in rules {
            finish(self.mode, d, &mut errors);
        }
        errors
    }

    /// Wait for the logs' vanishing links, then delete whichever is still there.
    async fn await_vanishing(
        &mut self,
        logs: &[UndoLog],
        linger: Duration,
        errors: &mut [Vec<Error>],
    ) {
        let mut namespaces: Vec<&str> = Vec::new();
        for (ns, _) in logs.iter().flat_map(|l| &l.vanishing) {
            if !namespaces.contains(&ns.as_str()) {
                namespaces.push(ns);
            }
        }
        let deadline = Instant::now() + linger;
        for ns in namespaces {
            let owned: Vec<(usize, &str)> = logs
                .iter()
                .enumerate()
                .flat_map(|(i, l)| {
                    l.vanishing
                        .iter()
                        .filter(|(n, _)| n == ns)
                        .map(move |(_, link)| (i, link.as_str()))
                })
                .collect();
            for (_, link) in &owned {
                self.narrate(&crate::ui::tr(
                    format!(
                        "# {link} goes with its peer's namespace (a veth pair dies with either end)"
                    ),
                    format!(
                        "# {link} 随对端的命名空间一起消失（veth pair 一端被删，另一端也就没了）"
                    ),
                ));
            }
            if self.mode == Mode::DryRun || !netns::exists(ns) {
                continue;
            }
            let left = match self.links_left(ns, &owned, deadline).await {
                Ok(left) => left,
                Err(e) => {
                    for (i, _) in &owned {
                        errors[*i].push(Error::msg(e.to_string()));
                    }
                    continue;
                }
            };
            // Still there at the deadline (something kept a namespace alive): delete
            // the pair explicitly.
            for (i, link) in left {
                let del = Step::LinkDel {
                    ns: ns.to_string(),
                    name: link.to_string(),
                };
                if let Err(e) = self.run(&del).await {
                    errors[i].push(e);
                }
            }
        }
    }

    /// The links of `wanted` still present in `ns` at `deadline`, or after [`STALL`]
    /// without any of them going (none, as soon as all are gone). Links are looked up
    /// in order and the first one still present ends a round: they go together, so
    /// looking further would be wasted requests.
    async fn links_left<'a>(
        &mut self,
        ns: &str,
        wanted: &[(usize, &'a str)],
        deadline: Instant,
    ) -> Result<Vec<(usize, &'a str)>> {
        let mut left: std::collections::VecDeque<(usize, &'a str)> =
            wanted.iter().copied().collect();
        let mut progress = Instant::now();
        loop {
            let nl = self.netlink(ns).await?;
            while let Some((_, link)) = left.front() {
                if nl.index_of(link).await?.is_some() {
                    break;
                }
                left.pop_front();
                progress = Instant::now();
            }
            let now = Instant::now();
            if left.is_empty() || now >= deadline || now >= progress + STALL {
                return Ok(left.into_iter().collect());
            }
            tokio::time::sleep(POLL).await;
        }
    }
}

/// Wait for one namespace's merged rule deletions; if the batch failed (or never
/// started), apply each log's share again, rule by rule, tolerating rules already gone.
fn finish(mode: Mode, d: Deletions, errors: &mut [Vec<Error>]) {
    if mode == Mode::DryRun {
        return;
    }
    let ok = match d.running {
        Some(p) => p.wait().is_ok(),
        None => !netns::exists(&d.ns),
    };
    if ok {
        return;
    }
    for (i, batch) in &d.shares {
        if let Err(e) = firewall::apply_tolerant(&netns::path(&d.ns), batch) {
            errors[*i].push(e);
        }
    }
}
