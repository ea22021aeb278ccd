//! What the embedded DNS server knows: per user-defined network, the names of the
//! containers on it (Docker's `DNSNames`: name, aliases, 12-hex short id, hostname) and
//! the reverse entries; per container, the networks it may resolve in and its own
//! `--link` aliases. Built from the lab's records one container at a time, so that a
//! change costs the same whatever the size of the lab.

use crate::lab::{ContainerRecord, ContainerStatus};
use std::collections::HashMap;
use std::net::Ipv4Addr;

/// What the index needs to know about a network.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetInfo {
    /// Network name (for `<name>.<network>` and PTR answers).
    pub name: String,
    /// `--internal`: no way out, so no forwarding for sandboxes only on such networks.
    pub internal: bool,
    /// Only user-defined networks have DNS (Docker disables it on `bridge`, `host`, `none`).
    pub user_defined: bool,
}

/// One container's entries, kept so that they can be taken out again.
#[derive(Debug, Clone, Default)]
struct Entry {
    /// (network id, address, names registered there).
    registered: Vec<(String, Ipv4Addr, Vec<String>)>,
    /// Whether it may reach the outside: on a network that is not `--internal`
    /// (the default bridge counts: a container disconnected from its last user network
    /// keeps its resolver, which still forwards).
    forward: bool,
    /// `--link` aliases on user-defined networks: alias -> target name (lowercase).
    /// Docker resolves the target by name when asked, so it need not exist yet.
    links: Vec<(String, String)>,
}

#[derive(Debug, Clone, Default)]
struct NetNames {
    info: Option<NetInfo>,
    by_name: HashMap<String, Vec<Ipv4Addr>>,
    by_ip: HashMap<Ipv4Addr, String>,
}

/// One name found in a container's scope (for `dockernet dns CONTAINER`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ScopeName {
    /// The name as a query would ask it.
    pub name: String,
    /// Its address.
    pub ip: Ipv4Addr,
    /// The network it is on (or `link` for a `--link` alias).
    pub network: String,
}

/// The names the embedded DNS server answers, and who may ask for which.
#[derive(Debug, Default)]
pub struct Index {
    nets: HashMap<String, NetNames>,
    containers: HashMap<String, Entry>,
}

/// Docker's `DNSNames` of a container on one network: name, aliases, short id,
/// hostname, lowercase and without duplicates (the first one answers PTR queries).
pub fn dns_names(rec: &ContainerRecord, aliases: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let short = rec.id.get(..12).unwrap_or(&rec.id);
    for n in std::iter::once(rec.name.as_str())
        .chain(aliases.iter().map(String::as_str))
        .chain([short, rec.hostname.as_str()])
    {
        let n = n.to_ascii_lowercase();
        if !n.is_empty() && !out.contains(&n) {
            out.push(n);
        }
    }
    out
}

/// A query name as the index keys it: lowercase, without the root's trailing dot.
pub fn normalize(qname: &str) -> String {
    qname.trim_end_matches('.').to_ascii_lowercase()
}

impl Index {
    /// Take a container's entries out (it stopped, was removed, or is about to be
    /// indexed again).
    pub fn remove(&mut self, id: &str) {
        let Some(old) = self.containers.remove(id) else {
            return;
        };
        for (net, ip, names) in old.registered {
            let Some(n) = self.nets.get_mut(&net) else {
                continue;
            };
            for name in names {
                if let Some(v) = n.by_name.get_mut(&name) {
                    v.retain(|a| *a != ip);
                    if v.is_empty() {
                        n.by_name.remove(&name);
                    }
                }
            }
            n.by_ip.remove(&ip);
            if n.by_name.is_empty() {
                self.nets.remove(&net);
            }
        }
    }

    /// Index a container as its record says now. `net` tells what each network is.
    /// Containers that are not running (or starting) have no names.
    pub fn update(&mut self, rec: &ContainerRecord, net: impl Fn(&str) -> Option<NetInfo>) {
        self.remove(&rec.id);
        if !matches!(
            rec.status,
            ContainerStatus::Running | ContainerStatus::Creating
        ) {
            return;
        }
        let mut entry = Entry::default();
        for ep in rec.endpoints.iter().filter(|e| e.has_interface()) {
            let Some(info) = net(&ep.network_id) else {
                continue;
            };
            entry.forward |= !info.internal;
            if !info.user_defined {
                continue;
            }
            let aliases = rec
                .attachments
                .iter()
                .find(|a| a.network_id == ep.network_id)
                .map(|a| a.aliases.clone())
                .unwrap_or_default();
            let names = dns_names(rec, &aliases);
            let n = self.nets.entry(ep.network_id.clone()).or_default();
            n.info = Some(info.clone());
            for name in &names {
                let v = n.by_name.entry(name.clone()).or_default();
                if !v.contains(&ep.ip) {
                    v.push(ep.ip);
                }
            }
            if let Some(first) = names.first() {
                n.by_ip.insert(ep.ip, format!("{first}.{}", info.name));
            }
            entry.registered.push((ep.network_id.clone(), ep.ip, names));
        }
        // Without names and without a resolver of its own there is nothing to keep.
        if entry.registered.is_empty() && rec.dns.is_none() {
            return;
        }
        entry.links = rec
            .links
            .iter()
            .map(|l| (l.alias.to_ascii_lowercase(), l.name.to_ascii_lowercase()))
            .collect();
        self.containers.insert(rec.id.clone(), entry);
    }

    /// Whether the container is known (it is on at least one user-defined network).
    #[cfg(test)]
    pub fn knows(&self, asker: &str) -> bool {
        self.containers.contains_key(asker)
    }

    /// The networks a container may resolve names in.
    fn scope<'a>(&'a self, asker: &str) -> impl Iterator<Item = (&'a String, &'a NetNames)> {
        let nets: Vec<&String> = self
            .containers
            .get(asker)
            .map(|e| e.registered.iter().map(|(n, _, _)| n).collect())
            .unwrap_or_default();
        nets.into_iter()
            .filter_map(|id| self.nets.get_key_value(id))
    }

    /// Addresses of `qname` for `asker`: its own `--link` aliases first, then the
    /// names on the networks it shares with others, then `<name>.<network>`. Empty if
    /// nothing in its scope has that name.
    pub fn lookup(&self, asker: &str, qname: &str) -> Vec<Ipv4Addr> {
        let name = normalize(qname);
        let Some(me) = self.containers.get(asker) else {
            return Vec::new();
        };
        if let Some((_, target)) = me.links.iter().find(|(alias, _)| *alias == name) {
            let found = self.lookup_names(asker, target);
            if !found.is_empty() {
                return found;
            }
        }
        self.lookup_names(asker, &name)
    }

    /// Addresses of a (normalized) name on the asker's networks, without its links.
    fn lookup_names(&self, asker: &str, name: &str) -> Vec<Ipv4Addr> {
        let mut out = Vec::new();
        for (_, n) in self.scope(asker) {
            if let Some(v) = n.by_name.get(name) {
                for ip in v {
                    if !out.contains(ip) {
                        out.push(*ip);
                    }
                }
            }
        }
        if !out.is_empty() {
            return out;
        }
        // `web.mynet`: a name qualified by one of the asker's networks.
        if let Some((host, netname)) = name.rsplit_once('.') {
            for (_, n) in self.scope(asker) {
                if n.info
                    .as_ref()
                    .is_some_and(|i| i.name.eq_ignore_ascii_case(netname))
                    && let Some(v) = n.by_name.get(host)
                {
                    out.extend(v.iter().copied());
                }
            }
        }
        out
    }

    /// The PTR name (`web.mynet`) of an address on one of the asker's networks.
    pub fn reverse(&self, asker: &str, ip: Ipv4Addr) -> Option<String> {
        self.scope(asker)
            .find_map(|(_, n)| n.by_ip.get(&ip).cloned())
    }

    /// Whether queries the asker's networks cannot answer go to the lab's upstream:
    /// not when every network it is on is `--internal` (Docker's `proxyDNS=false`).
    pub fn may_forward(&self, asker: &str) -> bool {
        self.containers.get(asker).is_some_and(|e| e.forward)
    }

    /// Every name the asker can resolve, sorted by network then name.
    pub fn names_in_scope(&self, asker: &str) -> Vec<ScopeName> {
        let mut out = Vec::new();
        if let Some(me) = self.containers.get(asker) {
            for (alias, target) in &me.links {
                for ip in self.lookup_names(asker, target) {
                    out.push(ScopeName {
                        name: alias.clone(),
                        ip,
                        network: "link".into(),
                    });
                }
            }
        }
        // Per network (by name), per address, the names in Docker's DNSNames order.
        let scope: Vec<&String> = self.scope(asker).map(|(id, _)| id).collect();
        let mut rows: Vec<(&str, Ipv4Addr, &Vec<String>)> = Vec::new();
        for e in self.containers.values() {
            for (net, ip, names) in &e.registered {
                if scope.contains(&net) {
                    let netname = self.nets.get(net).map(info_name).unwrap_or("");
                    rows.push((netname, *ip, names));
                }
            }
        }
        rows.sort_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
        for (network, ip, names) in rows {
            for name in names {
                out.push(ScopeName {
                    name: name.clone(),
                    ip,
                    network: network.to_string(),
                });
            }
        }
        out
    }

    /// Number of containers indexed.
    pub fn len(&self) -> usize {
        self.containers.len()
    }

    /// True when no container is indexed.
    pub fn is_empty(&self) -> bool {
        self.containers.is_empty()
    }
}

fn info_name(n: &NetNames) -> &str {
    n.info.as_ref().map(|i| i.name.as_str()).unwrap_or("")
}

#[cfg(test)]
#[path = "index_tests.rs"]
pub(crate) mod tests;
