//! `doctor`: the lab host checked against the classic pitfalls of Docker networking
//! (forwarding off, Docker's rules missing, a container without a route, a port taken,
//! ...). Every check reads the kernel — sysctls, `iptables-save`, netlink dumps,
//! /proc's socket tables — and compares it with what the records say should be there,
//! so it finds what someone changed by hand. Each finding names the command that fixes
//! it. The checks are grouped: `host.rs` (forwarding and the host's iptables rules),
//! `container.rs` (a container's routes, DNS redirect, bridge ports), `network.rs`
//! (overlapping subnets, published ports taken by another process).

mod container;
mod host;
mod network;
mod nft;

use crate::error::Result;
use crate::lab::{ContainerRecord, ContainerStatus, Lab, LabRecord, NetworkRecord};
use std::collections::BTreeMap;

/// One problem found: what is wrong, why it breaks traffic, and the command that fixes it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Finding {
    /// Stable identifier of the pitfall (`ip-forward-off`, `port-taken`, ...).
    pub id: &'static str,
    /// `error` (traffic breaks) or `warning` (traffic breaks in some cases).
    pub severity: &'static str,
    /// What is wrong, in the process language.
    pub what: String,
    /// Why it breaks traffic.
    pub why: String,
    /// The command (or commands, one per line) that fixes it.
    pub fix: String,
}

/// What the checks look at: the lab host's records, narrowed to one container and its
/// networks when `doctor CONTAINER` was asked.
pub struct Scope<'a> {
    /// The lab, seen from the selected host.
    pub lab: &'a Lab,
    /// The lab record (daemon settings).
    pub rec: &'a LabRecord,
    /// The networks to check.
    pub networks: Vec<NetworkRecord>,
    /// Every network of this host (overlaps are looked for against all of them).
    pub all_networks: Vec<NetworkRecord>,
    /// The running containers to check.
    pub containers: Vec<ContainerRecord>,
    /// Every container of this host (whose docker-proxies are ours).
    pub all_containers: Vec<ContainerRecord>,
}

impl Scope<'_> {
    /// `sudo dockernet [--lab L] [-H H]`: the start of every fix run through dockernet.
    pub fn dockernet(&self) -> String {
        let mut s = String::from("sudo dockernet");
        if self.lab.name != "default" {
            s.push_str(&format!(" --lab {}", self.lab.name));
        }
        if !self.lab.is_first_host() {
            s.push_str(&format!(" -H {}", self.lab.host));
        }
        s
    }

    /// A fix run in the lab host's shell: `sudo dockernet ... host -- CMD`.
    pub fn host_cmd(&self, cmd: &str) -> String {
        format!("{} host -- {cmd}", self.dockernet())
    }

    /// The network record of an id, among this host's networks.
    pub fn network(&self, id: &str) -> Option<&NetworkRecord> {
        self.all_networks.iter().find(|n| n.id == id)
    }
}

/// Build the scope: the whole host, or one container (by name or id) and its networks.
pub fn scope<'a>(
    lab: &'a Lab,
    rec: &'a LabRecord,
    store: &crate::lab::Store,
    container: Option<&str>,
) -> Result<Scope<'a>> {
    let all_networks = store.networks()?;
    let all_containers = store.containers()?;
    let (networks, containers) = match container {
        None => (
            all_networks.clone(),
            all_containers
                .iter()
                .filter(|c| c.status == ContainerStatus::Running)
                .cloned()
                .collect(),
        ),
        Some(key) => {
            let c = store.find_container(key)?;
            let nets = all_networks
                .iter()
                .filter(|n| c.endpoints.iter().any(|e| e.network_id == n.id))
                .cloned()
                .collect();
            let ctrs = if c.status == ContainerStatus::Running {
                vec![c]
            } else {
                Vec::new()
            };
            (nets, ctrs)
        }
    };
    Ok(Scope {
        lab,
        rec,
        networks,
        all_networks,
        containers,
        all_containers,
    })
}

/// Run every check of the scope, in a fixed order (host, networks, containers, ports).
pub async fn run(s: &Scope<'_>) -> Result<Vec<Finding>> {
    let mut out = Vec::new();
    let host_ns = crate::netns::path(&s.lab.host_ns());
    let saved = crate::firewall::save(&host_ns)?;
    let tables = Tables::parse(&saved);
    host::ip_forward(s, &host_ns, &mut out);
    if s.rec.firewall_backend.is_nftables() {
        // Docker's rules are not in iptables under the nftables backend: the iptables
        // checks (FORWARD, MASQUERADE, nat OUTPUT's jump) would all fire falsely.
        nft::bridge_chains(s, &host_ns, &mut out);
    } else {
        host::forward_rules(s, &tables, &mut out);
        host::masquerade(s, &tables, &mut out);
        host::output_jump(s, &tables, &mut out);
    }
    let nl = crate::link::Netlink::open(&host_ns)?;
    let links = nl.links_with_addresses().await;
    let routes = nl.routes().await;
    nl.close().await;
    let (links, routes) = (links?, routes?);
    container::bridge_ports(s, &links, &mut out);
    container::overlay_ports(s, &mut out).await;
    network::overlaps(s, &links, &mut out);
    network::route_overlaps(s, &routes, &mut out);
    container::default_routes(s, &mut out).await;
    container::dns_redirects(s, &mut out);
    network::ports_taken(s, &host_ns, &mut out);
    Ok(out)
}

/// An `iptables-save` output by table: each chain's policy and its rules (`-A CHAIN
/// ...`, counters and spacing stripped) in order.
#[derive(Debug, Default)]
pub struct Tables {
    /// Table name -> (chain -> policy).
    pub policies: BTreeMap<String, BTreeMap<String, String>>,
    /// Table name -> rule lines as `iptables -S` prints them.
    pub rules: BTreeMap<String, Vec<String>>,
}

impl Tables {
    /// Parse `iptables-save [-c]` output.
    pub fn parse(text: &str) -> Tables {
        let mut t = Tables::default();
        let mut table = String::new();
        for line in text.lines() {
            let line = line.trim();
            if let Some(name) = line.strip_prefix('*') {
                table = name.to_string();
            } else if let Some(rest) = line.strip_prefix(':') {
                let mut parts = rest.split_whitespace();
                if let (Some(chain), Some(policy)) = (parts.next(), parts.next()) {
                    t.policies
                        .entry(table.clone())
                        .or_default()
                        .insert(chain.into(), policy.into());
                }
            } else {
                // `-c` puts the counters first: `[12:3400] -A FORWARD ...`.
                let rule = match line.strip_prefix('[') {
                    Some(r) => r.split_once(']').map(|(_, r)| r.trim()).unwrap_or(""),
                    None => line,
                };
                if rule.starts_with("-A ") {
                    let norm = rule.split_whitespace().collect::<Vec<_>>().join(" ");
                    t.rules.entry(table.clone()).or_default().push(norm);
                }
            }
        }
        t
    }

    /// Whether `table` holds exactly the rule `-A CHAIN ARGS`.
    pub fn has(&self, table: &str, chain: &str, args: &str) -> bool {
        let want = format!("-A {chain} {args}");
        self.rules.get(table).is_some_and(|r| r.contains(&want))
    }

    /// The rules of one chain (`-A CHAIN` lines).
    pub fn chain<'a>(&'a self, table: &str, chain: &'a str) -> impl Iterator<Item = &'a str> {
        let prefix = format!("-A {chain} ");
        self.rules
            .get(table)
            .into_iter()
            .flatten()
            .filter(move |l| l.starts_with(&prefix))
            .map(String::as_str)
    }

    /// A chain's policy (`DROP`, `ACCEPT`; `-` for a user chain).
    pub fn policy(&self, table: &str, chain: &str) -> Option<&str> {
        self.policies.get(table)?.get(chain).map(String::as_str)
    }
}

/// The findings as text: one block per finding, then the count line.
pub fn render_text(findings: &[Finding]) -> String {
    use crate::ui::tr;
    let mut s = String::new();
    for f in findings {
        let label = if f.severity == "error" {
            tr("problem", "问题")
        } else {
            tr("warning", "警告")
        };
        // A Chinese label takes the full-width colon, with no space after it.
        let colon = tr(": ", "：");
        s.push_str(&format!("[{}] {label}{colon}{}\n", f.id, f.what));
        s.push_str(&format!("  {}{colon}{}\n", tr("why", "原因"), f.why));
        s.push_str(&format!("  {}{}\n", tr("fix", "修复"), colon.trim_end()));
        for line in f.fix.lines() {
            s.push_str(&format!("    {line}\n"));
        }
        s.push('\n');
    }
    if findings.is_empty() {
        s.push_str(&tr("no problems found", "没有发现问题"));
    } else {
        s.push_str(&tr(
            format!("{} problem(s) found", findings.len()),
            format!("发现 {} 个问题", findings.len()),
        ));
    }
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_policies_and_rules_with_counters() {
        let t = Tables::parse(
            "*filter\n:FORWARD DROP [0:0]\n:DOCKER - [0:0]\n[3:180] -A FORWARD -o docker0  -j DOCKER\nCOMMIT\n*nat\n-A OUTPUT -m addrtype --dst-type LOCAL -j DOCKER\nCOMMIT\n",
        );
        assert_eq!(t.policy("filter", "FORWARD"), Some("DROP"));
        assert!(t.has("filter", "FORWARD", "-o docker0 -j DOCKER"));
        assert!(!t.has("nat", "FORWARD", "-o docker0 -j DOCKER"));
        assert_eq!(t.chain("nat", "OUTPUT").count(), 1);
    }

    #[test]
    fn text_ends_with_the_count() {
        let f = Finding {
            id: "ip-forward-off",
            severity: "error",
            what: "w".into(),
            why: "y".into(),
            fix: "a\nb".into(),
        };
        let text = render_text(&[f]);
        assert!(text.contains("[ip-forward-off]"));
        assert!(text.contains("    a\n    b\n"));
        assert!(render_text(&[]).ends_with("\n"));
    }
}
