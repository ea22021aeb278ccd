//! `trace FROM TO`: one real probe, and the way it took through the lab — every
//! namespace it crossed, the interfaces it left and entered, each iptables rule it
//! matched (shown as `iptables -S` prints it), the DNAT / SNAT that conntrack recorded,
//! the ARP and FDB lookups of a bridge, and where it was dropped.
//!
//! How: nf_tables tracing. `arm.rs` puts a small table of ours in each namespace on
//! the way that marks the probe's packets for tracing; `listen.rs` hears the kernel's
//! trace events of all those namespaces on one socket, in the kernel's order;
//! `probe.rs` sends the probe from a socket in the source namespace; `path.rs` cuts the
//! events into per-namespace passes and packets; `rules.rs` names the rules;
//! `conntrack.rs` reads the rewrites; `render.rs` prints it all, in English or Chinese.

mod arm;
mod conntrack;
mod endpoint;
mod event;
mod listen;
mod path;
mod probe;
mod render;
mod rules;

pub use probe::{Answer, Kind};

use crate::error::{Error, Result};
use crate::lab::{Lab, Store};
use crate::link::Netlink;
use crate::topology::model::{NsKind, Topology};
use serde::Serialize;
use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::time::Duration;

/// How long the probe waits for its answer.
const WAIT: Duration = Duration::from_secs(2);

/// An interface of a traced namespace, in lab words.
#[derive(Debug, Clone, Serialize)]
pub struct Port {
    /// Its name in its namespace.
    pub name: String,
    /// The bridge it is a port of.
    pub bridge: Option<String>,
    /// Where its cable leads: `container web eth0`.
    pub leads_to: Option<String>,
}

/// The ARP and FDB lookups a bridge made to send a routed packet out of a port.
#[derive(Debug, Clone, Serialize)]
pub struct Lookup {
    /// The bridge.
    pub bridge: String,
    /// The next hop's address.
    pub ip: Ipv4Addr,
    /// Its MAC, from the neighbour table (none: ARP got no answer).
    pub mac: Option<String>,
    /// The neighbour entry's state.
    pub state: Option<String>,
    /// The port the FDB has that MAC on.
    pub port: Option<String>,
    /// For a VXLAN device: the remote VTEP its FDB has that MAC behind.
    pub vtep: Option<Ipv4Addr>,
    /// For a VXLAN device: its VNI.
    pub vni: Option<u32>,
}

impl Lookup {
    /// Nothing found yet on device `name` for `ip`.
    fn of(name: &str, ip: Ipv4Addr, vni: Option<u32>) -> Lookup {
        Lookup {
            bridge: name.to_string(),
            ip,
            mac: None,
            state: None,
            port: None,
            vtep: None,
            vni,
        }
    }
}

/// One packet's way through one namespace, with names.
#[derive(Debug, Clone, Serialize)]
pub struct Hop {
    /// Namespace.
    pub ns: String,
    /// `container web`, `host host`, `world` (in the output's language).
    pub place: String,
    /// Made here rather than received.
    pub generated: bool,
    /// Came in by.
    pub came_in: Option<Port>,
    /// Routed by this bridge after coming in by one of its ports.
    pub routed_by: Option<String>,
    /// The packet as it came (or was made).
    pub first: Option<event::Packet>,
    /// The packet as it left (after NAT), when it changed.
    pub last: Option<event::Packet>,
    /// Rules matched, in order.
    pub rules: Vec<path::RuleHit>,
    /// For a frame a bridge forwarded: the bridge.
    pub bridged_by: Option<String>,
    /// How it ended: `out`, `delivered`, `dropped`, `lost`.
    pub end: String,
    /// Out by.
    pub out: Option<Port>,
    /// The lookups, when it left by a bridge.
    pub lookup: Option<Lookup>,
    /// Why the trace stops here, when the kernel says (forwarding off).
    pub why: Option<String>,
}

/// What conntrack of one namespace recorded.
#[derive(Debug, Clone, Serialize)]
pub struct Recorded {
    /// Namespace.
    pub ns: String,
    /// `host host` …
    pub place: String,
    /// The entry.
    pub entry: conntrack::Entry,
    /// The NAT it implies.
    pub rewrites: Vec<conntrack::Rewrite>,
}

/// Everything `trace` found.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Lab name.
    pub lab: String,
    /// The source.
    pub from: endpoint::Source,
    /// The target.
    pub to: endpoint::Target,
    /// The probe.
    pub probe: Kind,
    /// The probe's own port or echo id.
    pub probe_port: u16,
    /// How it ended.
    pub answer: probe::Answer,
    /// The packets, each as its hops: the probe, its answer, and the rest of the
    /// exchange (a TCP handshake's last ACK, the FIN) as the kernel traced them.
    pub packets: Vec<Vec<Hop>>,
    /// Conntrack entries of the probe's connection.
    pub conntrack: Vec<Recorded>,
    /// What the trace alone does not say: why no packet was seen, or why nothing
    /// arrived after the last hop.
    pub note: Option<String>,
}

/// Disarms every namespace when dropped (an error on the way included).
struct Armed {
    namespaces: Vec<(PathBuf, bool)>,
}

impl Drop for Armed {
    fn drop(&mut self) {
        std::thread::scope(|s| {
            for (ns, bridge) in &self.namespaces {
                s.spawn(move || {
                    let _ = arm::apply(ns, &arm::disarm_script(*bridge));
                });
            }
        });
    }
}

/// Send the probe and follow it.
pub async fn trace(lab: &Lab, store: &Store, from: &str, to: &str, kind: Kind) -> Result<Report> {
    let topo = crate::topology::build(lab, None).await?;
    let src = endpoint::source(lab, store, &topo, from)?;
    let dst = endpoint::target(lab, store, &topo, &src, to)?;
    let names = endpoint::namespaces(&topo, &src, &dst);
    let paths: Vec<PathBuf> = names.iter().map(|n| crate::netns::path(n)).collect();
    let ours = probe::pick_port();
    let flow = probe::flow(kind, ours);

    let listener = listen::Listener::open(&paths)?;
    let armed = Armed {
        namespaces: names
            .iter()
            .zip(&paths)
            .map(|(n, p)| (p.clone(), has_bridge(&topo, n)))
            .collect(),
    };
    let results: Vec<Result<()>> = std::thread::scope(|s| {
        let handles: Vec<_> = armed
            .namespaces
            .iter()
            .map(|(p, b)| s.spawn(move || arm::apply(p, &arm::script(flow, *b))))
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(Error::msg("nft thread panicked")))
            })
            .collect()
    });
    results.into_iter().collect::<Result<Vec<()>>>()?;

    let answer = probe::send(
        &crate::netns::path(&src.ns),
        kind,
        src.bind,
        dst.addr,
        ours,
        WAIT,
    )?;
    let heard = listener.drain(Duration::from_millis(200), Duration::from_secs(3));
    let proto = match kind {
        Kind::Icmp => "icmp",
        Kind::Tcp(_) => "tcp",
        Kind::Udp(_) => "udp",
    };
    let mut conntrack = Vec::new();
    for (n, p) in names.iter().zip(&paths) {
        for entry in conntrack::read(p, proto, ours) {
            conntrack.push(Recorded {
                ns: n.clone(),
                place: place(&topo, n),
                rewrites: entry.rewrites(),
                entry,
            });
        }
    }
    // Rule names are read while our tables are still there: they are in the nft
    // listing but not in iptables-save, and only tables iptables knows are paired.
    let mut books: HashMap<usize, rules::RuleBook> = HashMap::new();
    for h in &heard {
        if h.event.family == "ip" && h.event.table != arm::TABLE && !books.contains_key(&h.ns) {
            books.insert(h.ns, rule_book(&paths[h.ns]));
        }
    }
    drop(armed);

    let mut passes = path::passes(&heard);
    for p in &mut passes {
        if let Some(b) = books.get(&p.ns) {
            for r in &mut p.rules {
                if r.family == "ip"
                    && let Some(h) = r.handle
                {
                    r.line = b.line(&r.table, &r.chain, h).map(|s| s.to_string());
                }
            }
        }
    }
    let mut packets = Vec::new();
    for pk in path::packets(passes) {
        let mut hops = Vec::new();
        for p in pk {
            hops.push(hop(&topo, &names, p).await);
        }
        packets.push(hops);
    }
    let note = explain(&topo, &src, &dst, &answer, &packets);
    Ok(Report {
        lab: lab.name.clone(),
        from: src,
        to: dst,
        probe: kind,
        probe_port: ours,
        answer,
        packets,
        conntrack,
        note,
    })
}

/// A sentence for what the events cannot show: a probe that never left (no route, only
/// `lo`), or one whose last hop sent it into a cable whose far end is down.
fn explain(
    topo: &Topology,
    src: &endpoint::Source,
    dst: &endpoint::Target,
    answer: &probe::Answer,
    packets: &[Vec<Hop>],
) -> Option<String> {
    use crate::ui::tr;
    if *answer == probe::Answer::Answered {
        return None;
    }
    let Some(probe) = packets.first() else {
        let only_lo = topo.node(&src.ns).is_some_and(|n| n.interfaces.is_empty());
        let to_container = dst
            .ns
            .as_deref()
            .and_then(|ns| topo.node(ns))
            .is_some_and(|n| n.kind == NsKind::Container);
        return Some(if only_lo {
            tr(
                format!(
                    "{} has only lo (--network none): nothing can leave it",
                    src.label
                ),
                format!(
                    "{} 只有 lo（--network none）：任何数据包都出不去",
                    src.label
                ),
            )
        } else if to_container && src.ns.ends_with("-world") {
            tr(
                "container addresses are private to their Docker host: the world has no route to them. Publish a port (`run -p 8080:80`) and trace `world host --tcp 8080`",
                "容器的地址只在它所在的 Docker 宿主机内部有效，外部世界没有去往它们的路由。请做端口映射（`run -p 8080:80`），再跟踪 `world host --tcp 8080`",
            )
        } else {
            tr(
                format!(
                    "the source namespace has no route to {} (look with `ip route` there; `dockernet doctor` checks containers' routes)",
                    dst.addr
                ),
                format!(
                    "源命名空间里没有去往 {} 的路由（在那里用 `ip route` 查看；`dockernet doctor` 会检查容器的路由）",
                    dst.addr
                ),
            )
        });
    };
    let last = probe.last()?;
    if last.end != "out" {
        return None;
    }
    let out = last.out.as_ref()?;
    let iface = topo
        .node(&last.ns)?
        .interfaces
        .iter()
        .find(|i| i.name == out.name)?;
    let (_, far, _) = topo.edge_at(&last.ns, iface.index)?;
    let far_up = topo
        .node(&far.ns)
        .and_then(|n| n.interfaces.iter().find(|i| i.index == far.index))
        .is_some_and(|i| i.up);
    Some(if far_up {
        tr(
            format!(
                "nothing arrived at the far end of {} ({} in {}): no ARP answer from {}?",
                out.name,
                far.ifname,
                place(topo, &far.ns),
                dst.addr
            ),
            format!(
                "{} 的对端（{} 里的 {}）什么也没收到：{} 没有回应 ARP？",
                out.name,
                place(topo, &far.ns),
                far.ifname,
                dst.addr
            ),
        )
    } else {
        tr(
            format!(
                "nothing arrived: the far end of {}, {} in {}, is down (`ip link set {} up` there)",
                out.name,
                far.ifname,
                place(topo, &far.ns),
                far.ifname
            ),
            format!(
                "对端什么也没收到：{} 的另一端，{} 里的 {}，处于 down 状态（在那里执行 `ip link set {} up`）",
                out.name,
                place(topo, &far.ns),
                far.ifname,
                far.ifname
            ),
        )
    })
}

/// Print a report as text.
pub fn render_text(r: &Report, color: bool) -> String {
    render::text(r, color)
}

fn has_bridge(topo: &Topology, ns: &str) -> bool {
    topo.node(ns).is_some_and(|n| {
        n.interfaces
            .iter()
            .any(|i| i.kind.as_deref() == Some("bridge"))
    })
}

/// `nft -a list ruleset` and `iptables-save` of one namespace, paired.
fn rule_book(ns: &std::path::Path) -> rules::RuleBook {
    let run = |prog: &str, args: &[&str]| -> String {
        let Some(bin) = crate::util::which(prog) else {
            return String::new();
        };
        crate::firewall::command_in(ns, &bin)
            .ok()
            .and_then(|mut c| c.args(args).output().ok())
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
            .unwrap_or_default()
    };
    rules::RuleBook::new(
        &run("nft", &["-a", "list", "ruleset"]),
        &run("iptables-save", &[]),
    )
}

/// A namespace in lab words.
fn place(topo: &Topology, ns: &str) -> String {
    use crate::ui::tr;
    let Some(n) = topo.node(ns) else {
        return ns.to_string();
    };
    match n.kind {
        NsKind::World => tr("world", "外部世界"),
        NsKind::Host => tr(format!("host {}", n.label), format!("宿主机 {}", n.label)),
        NsKind::Overlay => tr(
            format!("overlay {}", n.network.as_deref().unwrap_or(&n.label)),
            format!("overlay 网络 {}", n.network.as_deref().unwrap_or(&n.label)),
        ),
        NsKind::Container => tr(
            format!("container {}", n.label),
            format!("容器 {}", n.label),
        ),
    }
}

/// An interface by index, with its bridge and where its cable leads.
fn port(topo: &Topology, ns: &str, index: u32) -> Port {
    let node = topo.node(ns);
    let iface = node.and_then(|n| n.interfaces.iter().find(|i| i.index == index));
    let name = match (iface, index) {
        (Some(i), _) => i.name.clone(),
        (None, 1) => "lo".into(),
        (None, i) => format!("if{i}"),
    };
    let leads_to = topo.edge_at(ns, index).and_then(|(_, other, kind)| {
        (kind == "veth" && other.ns != ns)
            .then(|| format!("{} {}", place(topo, &other.ns), other.ifname))
    });
    Port {
        name,
        bridge: iface.and_then(|i| i.master.clone()),
        leads_to,
    }
}

async fn hop(topo: &Topology, names: &[String], p: path::Pass) -> Hop {
    let ns = names[p.ns].clone();
    let name_of = |i: u32| port(topo, &ns, i).name;
    let (end, out) = match &p.end {
        path::End::Out(o) => ("out", Some(port(topo, &ns, *o))),
        path::End::Delivered => ("delivered", None),
        path::End::Dropped => ("dropped", None),
        path::End::Lost => ("lost", None),
    };
    let mut lookup = None;
    if let (Some(o), Some(pk)) = (&p.ip_out, &p.last)
        && let Some(iface) = topo
            .node(&ns)
            .and_then(|n| n.interfaces.iter().find(|i| i.index == *o))
        && iface.kind.as_deref() == Some("bridge")
    {
        lookup = Some(bridge_lookup(&ns, iface.index, &iface.name, pk.dst, topo).await);
    }
    if let (path::End::Out(o), Some(pk)) = (&p.end, &p.last)
        && let Some(iface) = topo
            .node(&ns)
            .and_then(|n| n.interfaces.iter().find(|i| i.index == *o))
        && iface.kind.as_deref() == Some("vxlan")
    {
        let vni = topo.node(&ns).and_then(|n| n.vni);
        lookup = Some(vxlan_lookup(&ns, iface.index, &iface.name, pk.dst, vni).await);
    }
    let last = match (&p.first, &p.last) {
        (Some(a), Some(b)) if a != b => Some(b.clone()),
        _ => None,
    };
    Hop {
        place: place(topo, &ns),
        generated: p.generated,
        came_in: p.came_in.map(|i| port(topo, &ns, i)),
        routed_by: p.routed_by.map(name_of),
        first: p.first,
        last,
        rules: p.rules,
        bridged_by: p
            .bridged
            .filter(|_| p.bridge_forwarded)
            .and_then(|(i, _)| port(topo, &ns, i).bridge),
        why: (end == "lost" && !p.generated)
            .then(|| forwarding_off(&ns))
            .flatten(),
        end: end.into(),
        out,
        lookup,
        ns,
    }
}

async fn bridge_lookup(ns: &str, bridge: u32, name: &str, ip: Ipv4Addr, topo: &Topology) -> Lookup {
    let mut l = Lookup::of(name, ip, None);
    let Ok(nl) = Netlink::open(&crate::netns::path(ns)) else {
        return l;
    };
    if let Ok(Some(n)) = nl.neighbour(bridge, ip).await {
        l.mac = Some(crate::link::format_mac(&n.mac));
        l.state = Some(n.state);
        if let Ok(Some(port_index)) = nl.fdb_port(bridge, n.mac).await {
            l.port = Some(port(topo, ns, port_index).name);
        }
    }
    nl.close().await;
    l
}

/// A VXLAN device's two tables: the neighbour entry of the inner destination (the
/// overlay's proxy ARP) and the FDB entry naming the VTEP that MAC is behind.
async fn vxlan_lookup(ns: &str, dev: u32, name: &str, ip: Ipv4Addr, vni: Option<u32>) -> Lookup {
    let mut l = Lookup::of(name, ip, vni);
    let Ok(nl) = Netlink::open(&crate::netns::path(ns)) else {
        return l;
    };
    if let Ok(Some(n)) = nl.neighbour(dev, ip).await {
        l.mac = Some(crate::link::format_mac(&n.mac));
        l.state = Some(n.state);
        l.vtep = nl
            .fdb(dev)
            .await
            .unwrap_or_default()
            .into_iter()
            .find_map(|f| f.dst.filter(|_| f.mac == n.mac));
    }
    nl.close().await;
    l
}

/// Why a received packet went nowhere: forwarding is off in that namespace.
fn forwarding_off(ns: &str) -> Option<String> {
    let v = crate::netns::sysctl_get(&crate::netns::path(ns), "net.ipv4.ip_forward").ok()?;
    (v == "0").then(|| {
        crate::ui::tr(
            "forwarding is off here (net.ipv4.ip_forward = 0): the kernel routes nothing between its interfaces (`dockernet doctor` gives the fix)",
            "这里关闭了转发（net.ipv4.ip_forward = 0）：内核不在网卡之间转发任何数据包（`dockernet doctor` 会给出修复命令）",
        )
    })
}
