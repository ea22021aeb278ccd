//! Before/after pictures of the kernel state a step can change — links, IPv4
//! addresses, routes, bridge ports and iptables rules of the lab host and of every
//! container namespace — normalised so that only real changes differ (no counters, no
//! lifetimes, no carrier flags that settle asynchronously), and their difference.

use super::exec::{Interrupted, Runner};
use super::model::Lang;
use crate::lab::Lab;
use std::collections::BTreeMap;

/// One kind of kernel object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Section {
    /// `ip -o link`
    Links,
    /// `ip -4 -o addr`
    Addresses,
    /// `ip route`
    Routes,
    /// `bridge link`
    Ports,
    /// `iptables-save`
    Rules,
}

impl Section {
    const ALL: [Section; 5] = [
        Section::Links,
        Section::Addresses,
        Section::Routes,
        Section::Ports,
        Section::Rules,
    ];

    /// Its name in the lesson's language.
    pub fn label(self, lang: Lang) -> &'static str {
        match (self, lang) {
            (Section::Links, Lang::En) => "links",
            (Section::Addresses, Lang::En) => "addresses",
            (Section::Routes, Lang::En) => "routes",
            (Section::Ports, Lang::En) => "bridge ports",
            (Section::Rules, Lang::En) => "iptables",
            (Section::Links, Lang::Zh) => "网卡",
            (Section::Addresses, Lang::Zh) => "IP 地址",
            (Section::Routes, Lang::Zh) => "路由",
            (Section::Ports, Lang::Zh) => "网桥端口",
            (Section::Rules, Lang::Zh) => "iptables",
        }
    }

    fn normalise(self, text: &str) -> Vec<String> {
        let f = match self {
            Section::Links => link_line,
            Section::Addresses => addr_line,
            Section::Routes => route_line,
            Section::Ports => port_line,
            Section::Rules => return rules(text),
        };
        text.lines().filter_map(f).collect()
    }
}

/// The state of one network namespace.
pub type Space = BTreeMap<Section, Vec<String>>;

/// The state of every namespace a step can change, by namespace name.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    /// Namespace name → its state.
    pub spaces: BTreeMap<String, Space>,
}

/// Take a snapshot of every lab host, their container namespaces and their overlay
/// networks' namespaces (`dn-<lab>[-<host>]-ctr-…`, `…-ov-…`).
pub async fn take(lab: &Lab, runner: &Runner) -> Result<Snapshot, Interrupted> {
    let mut names = Vec::new();
    for h in crate::lab::hosts::all(lab) {
        if crate::netns::exists(&h.host_ns()) {
            names.push(h.host_ns());
        }
        for kind in ["ctr-", "ov-"] {
            names.extend(crate::netns::list_with_prefix(&format!(
                "{}{kind}",
                h.host_prefix()
            )));
        }
    }
    let spaces = futures::future::join_all(names.iter().map(|ns| space(ns, runner))).await;
    let mut snap = Snapshot::default();
    for (ns, s) in names.into_iter().zip(spaces) {
        snap.spaces.insert(ns, s?);
    }
    Ok(snap)
}

async fn space(ns: &str, runner: &Runner) -> Result<Space, Interrupted> {
    let cmds: [(Section, &str, Vec<&str>); 5] = [
        (Section::Links, "ip", vec!["-n", ns, "-o", "link", "show"]),
        (
            Section::Addresses,
            "ip",
            vec!["-n", ns, "-4", "-o", "addr", "show"],
        ),
        (Section::Routes, "ip", vec!["-n", ns, "route", "show"]),
        (Section::Ports, "bridge", vec!["-n", ns, "link", "show"]),
        (
            Section::Rules,
            "ip",
            vec!["netns", "exec", ns, "iptables-save"],
        ),
    ];
    let outs = futures::future::join_all(
        cmds.iter()
            .map(|(_, prog, args)| runner.program(prog, args)),
    )
    .await;
    let mut space = Space::new();
    for ((section, _, _), out) in cmds.iter().zip(outs) {
        space.insert(*section, section.normalise(&out?.stdout));
    }
    Ok(space)
}

/// What a namespace is: the lab host (`lab host host2` for an added one), a
/// container (`container web2 (host2)`), an overlay's (`overlay network ov`).
pub fn ns_label(lab: &Lab, ns: &str, lang: Lang) -> String {
    if ns == lab.host_ns() {
        return super::ui::tr(lang, "host");
    }
    let hosts = crate::lab::hosts::all(lab);
    if let Some(h) = hosts.iter().find(|h| h.host_ns() == ns) {
        return format!("{} {}", super::ui::tr(lang, "host"), h.host);
    }
    // The longest prefix first: `dn-L-host2-` also starts with `dn-L-`.
    let on = hosts
        .iter()
        .filter(|h| ns.starts_with(&h.host_prefix()))
        .max_by_key(|h| h.host_prefix().len());
    let Some(on) = on else {
        return ns.to_string();
    };
    let at = if on.is_first_host() {
        String::new()
    } else {
        super::print::paren(lang, &on.host)
    };
    if let Some(short) = ns.strip_prefix(&format!("{}ov-", on.host_prefix())) {
        let name = on
            .store()
            .networks()
            .unwrap_or_default()
            .into_iter()
            .find(|n| n.driver == "overlay" && n.id.starts_with(short))
            .map(|n| n.name)
            .unwrap_or_else(|| short.to_string());
        return format!("{} {name}{at}", super::ui::tr(lang, "overlay_ns"));
    }
    let prefix = format!("{}ctr-", on.host_prefix());
    match ns.strip_prefix(&prefix) {
        Some(name) => {
            // A long name's namespace is named by the id's first 12 hex
            // (`Lab::container_ns`): show the name its record gives.
            let store = on.store();
            let name = store
                .container_ids()
                .into_iter()
                .find(|id| id.starts_with(name))
                .and_then(|id| store.container(&id).ok().flatten())
                .filter(|c| c.netns == ns)
                .map(|c| c.name)
                .unwrap_or_else(|| name.to_string());
            format!("{} {name}{at}", super::ui::tr(lang, "container"))
        }
        None => ns.to_string(),
    }
}

/// The lab host's link to the LAN (`lab up` makes it; Docker does not).
const UPLINK: &str = "eth0";

/// True for a normalised line of the lab host that is the lab's plumbing, not
/// Docker's: its `lo` and its uplink `eth0`, their addresses and routes. A lesson folds
/// them when `lab up` creates the host, so that docker0 is what the learner sees.
pub fn is_plumbing(section: Section, line: &str) -> bool {
    let w = words(line);
    let ours = |dev: &str| dev == "lo" || dev.split('@').next() == Some(UPLINK);
    match section {
        // `2: eth0@if4 <...> MAC`
        Section::Links => w.get(1).is_some_and(|d| ours(d)),
        // `eth0 inet 198.51.100.2/24 ...`
        Section::Addresses => w.first().is_some_and(|d| ours(d)),
        // `default via 198.51.100.1 dev eth0`
        Section::Routes => w.windows(2).any(|p| p[0] == "dev" && ours(p[1])),
        Section::Ports | Section::Rules => false,
    }
}

fn words(line: &str) -> Vec<&str> {
    line.split_whitespace().collect()
}

/// `4: vethX@if2: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 ... master docker0 ...
/// link/ether MAC ...` → `4: vethX@if2 <BROADCAST,MULTICAST,UP> master docker0 MAC`.
fn link_line(line: &str) -> Option<String> {
    let (head, rest) = line.split_once(": ")?;
    let (name, rest) = rest.split_once(": ")?;
    let w = words(rest);
    let flags = w.first().copied().unwrap_or("");
    let flags: Vec<&str> = flags
        .trim_matches(['<', '>'])
        .split(',')
        .filter(|f| !matches!(*f, "LOWER_UP" | "NO-CARRIER" | "M-DOWN" | ""))
        .collect();
    let mut out = format!("{head}: {name} <{}>", flags.join(","));
    let after = |key: &str| w.windows(2).find(|p| p[0] == key).map(|p| p[1]);
    if let Some(m) = after("master") {
        out.push_str(&format!(" master {m}"));
    }
    if let Some(mac) = after("link/ether") {
        out.push_str(&format!(" {mac}"));
    }
    Some(out)
}

/// `3: docker0    inet 172.17.0.1/16 brd ... scope global docker0\       valid_lft ...`
/// → `docker0 inet 172.17.0.1/16 brd 172.17.255.255 scope global`.
fn addr_line(line: &str) -> Option<String> {
    let line = line.split('\\').next()?;
    let (_, rest) = line.split_once(": ")?;
    let mut w = words(rest);
    if w.len() > 2 && w.last() == w.first() {
        w.pop();
    }
    Some(w.join(" "))
}

/// `172.17.0.0/16 dev docker0 proto kernel scope link src 172.17.0.1 linkdown` →
/// `172.17.0.0/16 dev docker0 scope link src 172.17.0.1`: `linkdown` comes and goes
/// with the bridge's carrier, and `proto kernel` is every address's own subnet route
/// (`scope link src` says as much), left out so that a diff line fits the terminal.
fn route_line(line: &str) -> Option<String> {
    let w: Vec<&str> = words(line);
    let mut out: Vec<&str> = Vec::new();
    let mut i = 0;
    while i < w.len() {
        match (w[i], w.get(i + 1)) {
            ("linkdown", _) => i += 1,
            ("proto", Some(&"kernel")) => i += 2,
            (x, _) => {
                out.push(x);
                i += 1;
            }
        }
    }
    (!out.is_empty()).then(|| out.join(" "))
}

/// `5: vethX@if2: <...> mtu 1500 master docker0 state forwarding ...` →
/// `docker0: vethX@if2`.
fn port_line(line: &str) -> Option<String> {
    let (_, rest) = line.split_once(": ")?;
    let (name, rest) = rest.split_once(": ")?;
    let w = words(rest);
    let master = w.windows(2).find(|p| p[0] == "master").map(|p| p[1])?;
    // `bridge link` resolves the peer index in the wrong namespace: drop it.
    let name = name.split('@').next().unwrap_or(name);
    Some(format!("{master}: {name}"))
}

/// iptables-save without comments, counters and COMMIT; each rule prefixed with its
/// table; user chains as `-N CHAIN`, built-in policies only when not ACCEPT.
fn rules(text: &str) -> Vec<String> {
    let mut table = String::new();
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line == "COMMIT" {
            continue;
        }
        if let Some(t) = line.strip_prefix('*') {
            table = t.to_string();
        } else if let Some(chain) = line.strip_prefix(':') {
            let w = words(chain);
            match w.as_slice() {
                [name, "-", ..] => out.push(format!("{table:<6} -N {name}")),
                [name, policy, ..] if *policy != "ACCEPT" => {
                    out.push(format!("{table:<6} -P {name} {policy}"))
                }
                _ => {}
            }
        } else {
            out.push(format!("{table:<6} {line}"));
        }
    }
    out
}

/// What changed in one section: lines gone and lines new, in their original order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// Which section.
    pub section: Section,
    /// Lines no longer there.
    pub removed: Vec<String>,
    /// New lines.
    pub added: Vec<String>,
}

/// What changed in one namespace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpaceDiff {
    /// Namespace name.
    pub ns: String,
    /// Created (true), removed (false), or changed (None) by the step.
    pub created: Option<bool>,
    /// Its changed sections.
    pub changes: Vec<Change>,
}

/// Compare two snapshots: the host first, then containers by name.
pub fn diff(before: &Snapshot, after: &Snapshot) -> Vec<SpaceDiff> {
    let empty = Space::new();
    let mut names: Vec<&String> = before.spaces.keys().chain(after.spaces.keys()).collect();
    names.sort_by_key(|n| (!n.ends_with("-host"), n.to_string()));
    names.dedup();
    let mut out = Vec::new();
    for ns in names {
        let (b, a) = (before.spaces.get(ns), after.spaces.get(ns));
        let created = match (b, a) {
            (None, Some(_)) => Some(true),
            (Some(_), None) => Some(false),
            _ => None,
        };
        let (b, a) = (b.unwrap_or(&empty), a.unwrap_or(&empty));
        let mut changes = Vec::new();
        for section in Section::ALL {
            let none = Vec::new();
            let (bl, al) = (
                b.get(&section).unwrap_or(&none),
                a.get(&section).unwrap_or(&none),
            );
            let removed: Vec<String> = bl.iter().filter(|l| !al.contains(l)).cloned().collect();
            let added: Vec<String> = al.iter().filter(|l| !bl.contains(l)).cloned().collect();
            if !removed.is_empty() || !added.is_empty() {
                changes.push(Change {
                    section,
                    removed,
                    added,
                });
            }
        }
        if !changes.is_empty() || created.is_some() {
            out.push(SpaceDiff {
                ns: ns.clone(),
                created,
                changes,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_lose_carrier_flags_and_keep_master_and_mac() {
        let l = "4: vethedf0fd8@if2: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue master docker0 state UP mode DEFAULT group default qlen 1000\\    link/ether ae:dc:1b:2a:c1:5e brd ff:ff:ff:ff:ff:ff link-netnsid 1";
        assert_eq!(
            link_line(l).unwrap(),
            "4: vethedf0fd8@if2 <BROADCAST,MULTICAST,UP> master docker0 ae:dc:1b:2a:c1:5e"
        );
        let d = "3: docker0: <NO-CARRIER,BROADCAST,MULTICAST,UP> mtu 1500 qdisc noqueue state DOWN mode DEFAULT group default qlen 1000\\    link/ether 02:42:bd:6c:4d:26 brd ff:ff:ff:ff:ff:ff";
        assert_eq!(
            link_line(d).unwrap(),
            "3: docker0 <BROADCAST,MULTICAST,UP> 02:42:bd:6c:4d:26"
        );
    }

    #[test]
    fn addresses_routes_and_ports_are_normalised() {
        assert_eq!(
            addr_line("3: docker0    inet 172.17.0.1/16 brd 172.17.255.255 scope global docker0\\       valid_lft forever preferred_lft forever").unwrap(),
            "docker0 inet 172.17.0.1/16 brd 172.17.255.255 scope global"
        );
        assert_eq!(
            route_line("172.17.0.0/16 dev docker0 proto kernel scope link src 172.17.0.1 linkdown")
                .unwrap(),
            "172.17.0.0/16 dev docker0 scope link src 172.17.0.1"
        );
        assert_eq!(
            port_line("5: veth1@if2: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 master docker0 state forwarding priority 32 cost 2").unwrap(),
            "docker0: veth1"
        );
    }

    #[test]
    fn the_host_plumbing_is_told_apart_from_docker0() {
        for (section, line) in [
            (Section::Links, "1: lo <LOOPBACK,UP>"),
            (
                Section::Links,
                "2: eth0@if4 <BROADCAST,MULTICAST,UP> ea:82:10:8f:21:78",
            ),
            (
                Section::Addresses,
                "eth0 inet 198.51.100.2/24 brd 198.51.100.255 scope global",
            ),
            (Section::Routes, "default via 198.51.100.1 dev eth0"),
        ] {
            assert!(is_plumbing(section, line), "{line}");
        }
        for (section, line) in [
            (
                Section::Links,
                "3: docker0 <BROADCAST,MULTICAST,UP> 02:42:d4:c5:c1:08",
            ),
            (
                Section::Addresses,
                "docker0 inet 172.17.0.1/16 brd 172.17.255.255 scope global",
            ),
            (
                Section::Routes,
                "172.17.0.0/16 dev docker0 scope link src 172.17.0.1",
            ),
            (
                Section::Rules,
                "nat    -A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE",
            ),
        ] {
            assert!(!is_plumbing(section, line), "{line}");
        }
    }

    #[test]
    fn rules_drop_counters_and_comments() {
        let save = "# Generated by iptables-nft-save\n*nat\n:PREROUTING ACCEPT [0:0]\n:DOCKER - [0:0]\n-A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE\nCOMMIT\n*filter\n:FORWARD DROP [0:0]\nCOMMIT\n";
        assert_eq!(
            rules(save),
            [
                "nat    -N DOCKER",
                "nat    -A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE",
                "filter -P FORWARD DROP"
            ]
        );
    }

    #[test]
    fn diff_reports_new_gone_and_changed_namespaces() {
        let mut before = Snapshot::default();
        let mut after = Snapshot::default();
        let host = |lines: &[&str]| {
            let mut s = Space::new();
            s.insert(
                Section::Links,
                lines.iter().map(|l| l.to_string()).collect(),
            );
            s
        };
        before
            .spaces
            .insert("dn-x-host".into(), host(&["1: lo", "2: veth1"]));
        before.spaces.insert("dn-x-ctr-a".into(), host(&["1: lo"]));
        after
            .spaces
            .insert("dn-x-host".into(), host(&["1: lo", "3: veth2"]));
        after.spaces.insert("dn-x-ctr-b".into(), host(&["1: lo"]));
        let d = diff(&before, &after);
        assert_eq!(d.len(), 3);
        assert_eq!(d[0].ns, "dn-x-host");
        assert_eq!(d[0].changes[0].removed, ["2: veth1"]);
        assert_eq!(d[0].changes[0].added, ["3: veth2"]);
        assert_eq!(
            (d[1].ns.as_str(), d[1].created),
            ("dn-x-ctr-a", Some(false))
        );
        assert_eq!((d[2].ns.as_str(), d[2].created), ("dn-x-ctr-b", Some(true)));
        assert!(diff(&after, &after).is_empty());
    }
}
