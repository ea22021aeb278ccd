//! The one stream of steps. Every change dockernet makes to the kernel is a [`Step`]:
//! it can be performed, narrated as the command a learner would type, recorded, and
//! undone. `--explain` prints steps as they run, `--dry-run` prints them only, lessons
//! collect them, and `rm` / `lab down` / crash recovery replay the inverses.

use crate::error::{Error, Result};
use crate::firewall::{self, Batch};
use crate::link::{Netlink, parse_mac};
use crate::netns;
use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::path::PathBuf;

/// One kernel change. Namespaces are named by their /run/netns name (`dn-default-host`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Step {
    /// `ip netns add NAME`
    NetnsAdd {
        /// Namespace name.
        name: String,
    },
    /// `ip netns del NAME`
    NetnsDel {
        /// Namespace name.
        name: String,
    },
    /// A persistent UTS namespace with its own hostname (the lab host's).
    UtsAdd {
        /// Where the namespace is bind-mounted.
        path: String,
        /// Hostname inside it.
        hostname: String,
    },
    /// Remove a persistent UTS namespace.
    UtsDel {
        /// Where the namespace is bind-mounted.
        path: String,
    },
    /// `ip -n NS link add NAME address MAC type bridge; ip -n NS link set NAME up`
    BridgeAdd {
        /// Namespace.
        ns: String,
        /// Bridge name.
        name: String,
        /// Bridge MAC.
        mac: String,
    },
    /// `ip -n NS link add NAME master M up type veth peer name PEER netns PEER_NS address MAC`
    VethAdd {
        /// Namespace of the first end.
        ns: String,
        /// Name of the first end.
        name: String,
        /// Bridge to enslave the first end to.
        master: Option<String>,
        /// Name of the peer end.
        peer: String,
        /// Namespace the peer is created in.
        peer_ns: String,
        /// MAC of the peer end.
        peer_mac: Option<String>,
    },
    /// `ip -n NS link del NAME`
    LinkDel {
        /// Namespace.
        ns: String,
        /// Link name.
        name: String,
    },
    /// `ip -n NS addr add CIDR dev DEV`
    AddrAdd {
        /// Namespace.
        ns: String,
        /// Device.
        dev: String,
        /// Address with prefix length, `172.17.0.2/16`.
        cidr: String,
    },
    /// `ip -n NS link set DEV up`
    LinkUp {
        /// Namespace.
        ns: String,
        /// Device.
        dev: String,
    },
    /// `bridge -n NS link set dev DEV hairpin on`
    Hairpin {
        /// Namespace.
        ns: String,
        /// Bridge port.
        dev: String,
    },
    /// `ip -n NS route add default via GW`
    RouteDefault {
        /// Namespace.
        ns: String,
        /// Gateway.
        via: Ipv4Addr,
    },
    /// `ip netns exec NS sysctl -w KEY=VALUE`
    Sysctl {
        /// Namespace.
        ns: String,
        /// Sysctl key, dotted.
        key: String,
        /// Value.
        value: String,
    },
    /// One `iptables-restore --noflush` batch inside NS.
    Firewall {
        /// Namespace.
        ns: String,
        /// The rules.
        batch: Batch,
    },
    /// A comment for the learner; changes nothing.
    Note {
        /// Text, printed as `# text`.
        text: String,
    },
}

impl Step {
    /// The equivalent commands a learner could type, one per line.
    pub fn commands(&self) -> Vec<String> {
        match self {
            Step::NetnsAdd { name } => vec![format!("ip netns add {name}")],
            Step::NetnsDel { name } => vec![format!("ip netns del {name}")],
            Step::UtsAdd { path, hostname } => vec![format!(
                "touch {path} && unshare --uts={path} hostname {hostname}"
            )],
            Step::UtsDel { path } => vec![format!("umount {path} && rm {path}")],
            Step::BridgeAdd { ns, name, mac } => vec![
                format!("ip -n {ns} link add {name} address {mac} type bridge"),
                format!("ip -n {ns} link set {name} up"),
            ],
            Step::VethAdd {
                ns,
                name,
                master,
                peer,
                peer_ns,
                peer_mac,
            } => {
                let master = master
                    .as_ref()
                    .map(|m| format!(" master {m}"))
                    .unwrap_or_default();
                let mac = peer_mac
                    .as_ref()
                    .map(|m| format!(" address {m}"))
                    .unwrap_or_default();
                vec![format!(
                    "ip -n {ns} link add {name}{master} up type veth peer name {peer}{mac} netns {peer_ns}"
                )]
            }
            Step::LinkDel { ns, name } => vec![format!("ip -n {ns} link del {name}")],
            Step::AddrAdd { ns, dev, cidr } => {
                vec![format!("ip -n {ns} addr add {cidr} dev {dev}")]
            }
            Step::LinkUp { ns, dev } => vec![format!("ip -n {ns} link set {dev} up")],
            Step::Hairpin { ns, dev } => {
                vec![format!("bridge -n {ns} link set dev {dev} hairpin on")]
            }
            Step::RouteDefault { ns, via } => {
                vec![format!("ip -n {ns} route add default via {via}")]
            }
            Step::Sysctl { ns, key, value } => {
                vec![format!("ip netns exec {ns} sysctl -w {key}={value}")]
            }
            Step::Firewall { ns, batch } => {
                let mut out = Vec::new();
                for op in &batch.ops {
                    if let Some(why) = op.why() {
                        out.push(format!("# {why}"));
                    }
                    out.push(format!("ip netns exec {ns} {}", op.command()));
                }
                out
            }
            Step::Note { text } => vec![format!("# {text}")],
        }
    }

    /// The step that undoes this one, if it created something that outlives its
    /// namespace's removal. Addresses, routes and sysctls die with their link or namespace.
    pub fn inverse(&self) -> Option<Step> {
        match self {
            Step::NetnsAdd { name } => Some(Step::NetnsDel { name: name.clone() }),
            Step::UtsAdd { path, .. } => Some(Step::UtsDel { path: path.clone() }),
            Step::BridgeAdd { ns, name, .. } => Some(Step::LinkDel {
                ns: ns.clone(),
                name: name.clone(),
            }),
            Step::VethAdd { ns, name, .. } => Some(Step::LinkDel {
                ns: ns.clone(),
                name: name.clone(),
            }),
            Step::Firewall { ns, batch } => {
                let inv = batch.inverse();
                (!inv.is_empty()).then(|| Step::Firewall {
                    ns: ns.clone(),
                    batch: inv,
                })
            }
            _ => None,
        }
    }
}

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
    pub fn write_file(&self, path: &std::path::Path, data: &[u8]) -> Result<()> {
        if !self.effects() {
            return Ok(());
        }
        std::fs::write(path, data)
            .map_err(|e| Error::from(e).context(format!("writing {}", path.display())))
    }

    /// Replace a file atomically (state records).
    pub fn write_atomic(&self, path: &std::path::Path, data: &[u8]) -> Result<()> {
        if !self.effects() {
            return Ok(());
        }
        crate::util::write_atomic(path, data)
    }

    /// Create a directory and its parents.
    pub fn create_dir(&self, path: &std::path::Path) -> Result<()> {
        if !self.effects() {
            return Ok(());
        }
        std::fs::create_dir_all(path)
            .map_err(|e| Error::from(e).context(format!("creating {}", path.display())))
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
    pub async fn undo(&mut self, steps: &[Step]) -> Vec<Error> {
        let mut errors = Vec::new();
        for step in steps.iter().rev() {
            if let Some(inv) = step.inverse()
                && let Err(e) = self.run(&inv).await
            {
                errors.push(e);
            }
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
            } => {
                let nl = self.netlink(ns).await?;
                let master_index = match master {
                    Some(m) => Some(nl.require(m).await?),
                    None => None,
                };
                let mac = peer_mac.as_deref().and_then(parse_mac);
                nl.add_veth_into(name, master_index, peer, &netns::path(peer_ns), mac)
                    .await
            }
            Step::LinkDel { ns, name } => {
                if !netns::exists(ns) {
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

/// Parse `172.17.0.2/16`.
pub fn parse_cidr(cidr: &str) -> Result<(Ipv4Addr, u8)> {
    let bad = || Error::msg(format!("invalid address {cidr}: expected A.B.C.D/N"));
    let (ip, len) = cidr.split_once('/').ok_or_else(bad)?;
    let ip: Ipv4Addr = ip.parse().map_err(|_| bad())?;
    let len: u8 = len.parse().map_err(|_| bad())?;
    if len > 32 {
        return Err(bad());
    }
    Ok((ip, len))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn veth_narration_is_a_real_ip_command() {
        let s = Step::VethAdd {
            ns: "dn-x-host".into(),
            name: "veth1234567".into(),
            master: Some("docker0".into()),
            peer: "eth0".into(),
            peer_ns: "dn-x-ctr-web1".into(),
            peer_mac: Some("02:42:ac:11:00:02".into()),
        };
        assert_eq!(
            s.commands(),
            vec![
                "ip -n dn-x-host link add veth1234567 master docker0 up type veth peer name eth0 address 02:42:ac:11:00:02 netns dn-x-ctr-web1"
            ]
        );
        assert_eq!(
            s.inverse(),
            Some(Step::LinkDel {
                ns: "dn-x-host".into(),
                name: "veth1234567".into()
            })
        );
    }

    #[test]
    fn addresses_and_routes_have_no_inverse() {
        let s = Step::AddrAdd {
            ns: "n".into(),
            dev: "eth0".into(),
            cidr: "172.17.0.2/16".into(),
        };
        assert_eq!(s.inverse(), None);
        assert_eq!(
            Step::NetnsAdd { name: "n".into() }.inverse(),
            Some(Step::NetnsDel { name: "n".into() })
        );
    }

    #[test]
    fn steps_serialize_for_the_undo_log() {
        let s = Step::RouteDefault {
            ns: "n".into(),
            via: Ipv4Addr::new(172, 17, 0, 1),
        };
        let json = serde_json::to_string(&s).unwrap();
        assert_eq!(
            json,
            r#"{"op":"route_default","ns":"n","via":"172.17.0.1"}"#
        );
        assert_eq!(serde_json::from_str::<Step>(&json).unwrap(), s);
    }

    #[test]
    fn cidr_parsing_rejects_garbage() {
        assert_eq!(
            parse_cidr("172.17.0.2/16").unwrap(),
            (Ipv4Addr::new(172, 17, 0, 2), 16)
        );
        assert!(parse_cidr("172.17.0.2").is_err());
        assert!(parse_cidr("172.17.0.2/33").is_err());
    }
}
