//! The topology in the terminal: one box per namespace (world, each host, then its
//! overlays and containers indented under it), drawn with box characters and never
//! wider than [`WIDTH`] columns.

use super::model::{Iface, Namespace, NsKind, Topology};
use crate::ui::tr;
use colored::Colorize;

/// The widest line the picture may have, in terminal columns.
pub const WIDTH: usize = 100;

/// Terminal columns of `s`: CJK ideographs and full-width forms take two.
pub fn columns(s: &str) -> usize {
    s.chars()
        .map(|c| match c as u32 {
            0x1100..=0x115F | 0x2E80..=0xA4CF | 0xAC00..=0xD7A3 | 0xF900..=0xFAFF => 2,
            0xFE30..=0xFE4F | 0xFF00..=0xFF60 | 0xFFE0..=0xFFE6 => 2,
            _ => 1,
        })
        .sum()
}

/// `s` cut to at most `max` columns, with `…` where it was cut.
fn fit(s: &str, max: usize) -> String {
    if columns(s) <= max {
        return s.to_string();
    }
    let mut out = String::new();
    for c in s.chars() {
        if columns(&out) + columns(&c.to_string()) + 1 > max {
            break;
        }
        out.push(c);
    }
    out.push('…');
    out
}

/// One box: a title on its top edge, its lines, `indent` columns from the left.
fn draw(out: &mut String, indent: usize, title: &str, lines: &[String], color: Option<&str>) {
    let pad = " ".repeat(indent);
    let inner = WIDTH - indent - 4;
    let title = fit(title, inner - 2);
    let rule = "─".repeat(WIDTH - indent - 5 - columns(&title));
    let shown = match color {
        Some(c) => title.color(c).bold().to_string(),
        None => title.clone(),
    };
    out.push_str(&format!("{pad}┌─ {shown} {rule}┐\n"));
    for l in lines {
        let l = fit(l, inner);
        let gap = " ".repeat(inner - columns(&l));
        out.push_str(&format!("{pad}│ {l}{gap} │\n"));
    }
    out.push_str(&format!("{pad}└{}┘\n", "─".repeat(WIDTH - indent - 2)));
}

/// `name@ifN` as `ip link` prints a link with a peer or parent.
pub(super) fn at(i: &Iface) -> String {
    if let Some(p) = &i.peer_here {
        return format!("{}@{p}", i.name);
    }
    match i.peer_index {
        Some(p) => format!("{}@if{p}", i.name),
        None => i.name.clone(),
    }
}

/// A namespace in lab words: `container web1`, `host host2`, `world`.
fn owner(t: &Topology, ns: &str) -> String {
    let Some(n) = t.node(ns) else {
        return ns.to_string();
    };
    match n.kind {
        NsKind::World => tr("world", "外部世界"),
        NsKind::Host => tr(format!("host {}", n.label), format!("宿主机 {}", n.label)),
        NsKind::Overlay => format!("overlay {}", n.network.as_deref().unwrap_or(&n.label)),
        NsKind::Container => tr(
            format!("container {}", n.label),
            format!("容器 {}", n.label),
        ),
    }
}

/// ` ── container web1 eth0@if5`: where the cable from this interface leads.
fn far_end(t: &Topology, ns: &str, i: &Iface) -> String {
    let Some((_, other, kind)) = t.edge_at(ns, i.index) else {
        return String::new();
    };
    let far = t
        .node(&other.ns)
        .and_then(|n| n.interfaces.iter().find(|x| x.index == other.index))
        .map_or(other.ifname.clone(), at);
    let place = if other.ns == ns {
        tr("here", "本命名空间")
    } else {
        owner(t, &other.ns)
    };
    if kind == "macvlan" && other.ns != ns && i.kind.as_deref() == Some("macvlan") {
        return format!(
            " ── {} {place} {far}",
            tr("macvlan child of", "macvlan 子网卡，父网卡在")
        );
    }
    format!(" ── {place} {far}")
}

fn addrs(i: &Iface) -> String {
    if i.addrs.is_empty() {
        String::new()
    } else {
        format!(" {}", i.addrs.join(" "))
    }
}

/// The lines of a namespace with bridges: each bridge, then its ports under it, then
/// everything else (a veth made by hand shows there).
fn body(t: &Topology, n: &Namespace) -> Vec<String> {
    let mut lines = Vec::new();
    let bridges: Vec<&Iface> = n
        .interfaces
        .iter()
        .filter(|i| i.kind.as_deref() == Some("bridge"))
        .collect();
    for i in n
        .interfaces
        .iter()
        .filter(|i| i.master.is_none() && i.kind.as_deref() != Some("bridge"))
    {
        let mut l = format!("{}{}{}", at(i), addrs(i), far_end(t, &n.name, i));
        if i.kind.as_deref() == Some("vxlan") {
            let vni = n.vni.map(|v| format!(" VNI {v}")).unwrap_or_default();
            l = format!("{}{vni}", i.name);
        }
        lines.push(l);
        // The macvlan children of this interface, which live in containers.
        for e in t
            .links
            .iter()
            .filter(|e| e.kind == "macvlan" && e.b.ns == n.name && e.b.index == i.index)
        {
            lines.push(format!(
                "  └─ macvlan {}: {} {}",
                tr("child", "子网卡"),
                owner(t, &e.a.ns),
                e.a.ifname
            ));
        }
    }
    for b in bridges {
        let net = b
            .network
            .as_deref()
            .map(|x| format!(" ({x})"))
            .unwrap_or_default();
        lines.push(format!(
            "{} {}{}{net}",
            tr("bridge", "网桥"),
            b.name,
            addrs(b)
        ));
        let ports: Vec<&Iface> = n
            .interfaces
            .iter()
            .filter(|p| p.master.as_deref() == Some(b.name.as_str()))
            .collect();
        for (k, p) in ports.iter().enumerate() {
            let branch = if k + 1 == ports.len() {
                "└─"
            } else {
                "├─"
            };
            let vni = match (p.kind.as_deref(), n.vni) {
                (Some("vxlan"), Some(v)) => format!(" VNI {v}"),
                _ => String::new(),
            };
            lines.push(format!(
                "  {branch} {}{vni}{}",
                at(p),
                far_end(t, &n.name, p)
            ));
        }
    }
    for tun in t.tunnels.iter().filter(|x| x.ns == n.name) {
        let to = tun
            .to_host
            .as_deref()
            .map(|h| format!(" ({})", tr(format!("host {h}"), format!("宿主机 {h}"))))
            .unwrap_or_default();
        lines.push(format!(
            "vxlan0 ⇢ {} {}{to}",
            tr("tunnel to", "隧道通往"),
            tun.dst
        ));
    }
    for p in t.ports.iter().filter(|p| p.ns == n.name) {
        let who = p
            .container_ns
            .as_deref()
            .map(|c| format!(" ({})", owner(t, c)))
            .unwrap_or_default();
        lines.push(format!(
            "{} {}/{} → {}{who}",
            tr("published port", "端口映射"),
            p.port,
            p.proto,
            p.to
        ));
    }
    for s in t.shared.iter().filter(|s| s.ns == n.name) {
        let how = if s.mode == "host" {
            tr("host network mode", "host 网络模式")
        } else {
            tr("joined with container:", "以 container: 加入")
        };
        lines.push(format!(
            "{}: {} {} ({how})",
            tr("also in this namespace", "共用这个命名空间"),
            tr("container", "容器"),
            s.container
        ));
    }
    if lines.is_empty() {
        lines.push(tr("(only lo)", "（只有 lo）"));
    }
    lines
}

fn title(t: &Topology, n: &Namespace) -> String {
    let what = match n.kind {
        NsKind::Overlay => {
            let vni = n.vni.map(|v| format!(" VNI {v}")).unwrap_or_default();
            format!("overlay {}{vni}", n.network.as_deref().unwrap_or(&n.label))
        }
        _ => owner(t, &n.name),
    };
    format!("{what}  {}", n.name)
}

fn paint(kind: NsKind, color: bool) -> Option<&'static str> {
    if !color {
        return None;
    }
    Some(match kind {
        NsKind::World => "magenta",
        NsKind::Host => "yellow",
        NsKind::Overlay => "blue",
        NsKind::Container => "cyan",
    })
}

/// The whole picture; `color` only for a terminal without NO_COLOR.
pub fn render(t: &Topology, color: bool) -> String {
    let mut out = String::new();
    let head = tr(
        format!("lab {}: topology read from the kernel", t.lab),
        format!("实验环境 {}：从内核读出的拓扑", t.lab),
    );
    out.push_str(&fit(&head, WIDTH));
    out.push('\n');
    for w in t.nodes.iter().filter(|n| n.kind == NsKind::World) {
        draw(&mut out, 0, &title(t, w), &body(t, w), paint(w.kind, color));
        let lan = tr(
            "LAN 198.51.100.0/24 (the switch lan0)",
            "局域网 198.51.100.0/24（交换机 lan0）",
        );
        out.push_str(&format!("  │ {lan}\n"));
    }
    for h in t.nodes.iter().filter(|n| n.kind == NsKind::Host) {
        draw(&mut out, 0, &title(t, h), &body(t, h), paint(h.kind, color));
        for kind in [NsKind::Overlay, NsKind::Container] {
            for n in t
                .nodes
                .iter()
                .filter(|n| n.kind == kind && n.host == h.host)
            {
                draw(&mut out, 4, &title(t, n), &body(t, n), paint(n.kind, color));
            }
        }
    }
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::super::model::{Edge, End, Port, Shared};
    use super::*;

    fn iface(
        index: u32,
        name: &str,
        kind: &str,
        master: Option<&str>,
        addr: &str,
        peer: Option<u32>,
    ) -> Iface {
        Iface {
            index,
            name: name.into(),
            kind: Some(kind.into()),
            master: master.map(String::from),
            addrs: if addr.is_empty() {
                vec![]
            } else {
                vec![addr.into()]
            },
            peer_index: peer,
            up: true,
            network: None,
            peer_here: None,
        }
    }

    fn ns(name: &str, kind: NsKind, label: &str, interfaces: Vec<Iface>) -> Namespace {
        Namespace {
            name: name.into(),
            kind,
            host: (kind != NsKind::World).then(|| "host".into()),
            label: label.into(),
            vni: None,
            network: None,
            interfaces,
        }
    }

    fn end(ns: &str, ifname: &str, index: u32) -> End {
        End {
            ns: ns.into(),
            ifname: ifname.into(),
            index,
        }
    }

    /// world, a host with docker0 and one container, a port, a joiner.
    pub(crate) fn sample() -> Topology {
        let long = "a-container-with-a-very-long-name-that-goes-on-and-on-and-on-forever-and-ever";
        Topology {
            lab: "tp".into(),
            nodes: vec![
                ns(
                    "dn-tp-world",
                    NsKind::World,
                    "world",
                    vec![
                        iface(2, "lan0", "bridge", None, "198.51.100.1/24", None),
                        iface(3, "lan-host", "veth", Some("lan0"), "", Some(2)),
                    ],
                ),
                ns(
                    "dn-tp-host",
                    NsKind::Host,
                    "host",
                    vec![
                        iface(2, "eth0", "veth", None, "198.51.100.2/24", Some(3)),
                        iface(3, "docker0", "bridge", None, "172.17.0.1/16", None),
                        iface(5, "veth1a2b3c4", "veth", Some("docker0"), "", Some(2)),
                    ],
                ),
                ns(
                    &format!("dn-tp-ctr-{long}"),
                    NsKind::Container,
                    long,
                    vec![iface(2, "eth0", "veth", None, "172.17.0.2/16", Some(5))],
                ),
            ],
            links: vec![
                Edge {
                    kind: "veth".into(),
                    a: end("dn-tp-world", "lan-host", 3),
                    b: end("dn-tp-host", "eth0", 2),
                },
                Edge {
                    kind: "veth".into(),
                    a: end("dn-tp-host", "veth1a2b3c4", 5),
                    b: end(&format!("dn-tp-ctr-{long}"), "eth0", 2),
                },
            ],
            tunnels: vec![],
            ports: vec![Port {
                ns: "dn-tp-host".into(),
                proto: "tcp".into(),
                port: "8080".into(),
                to: "172.17.0.2:80".into(),
                container_ns: None,
            }],
            shared: vec![Shared {
                container: "j1".into(),
                ns: format!("dn-tp-ctr-{long}"),
                mode: "container".into(),
            }],
        }
    }

    #[test]
    fn fits_and_shows_both_veth_ends() {
        // The language is process-wide (other tests run beside this one): the
        // Chinese widths are checked through `fit` below.
        let text = render(&sample(), false);
        for l in text.lines() {
            assert!(columns(l) <= WIDTH, "{} columns: {l}", columns(l));
        }
        assert!(text.contains("veth1a2b3c4@if2"), "{text}");
        assert!(text.contains("eth0@if5 172.17.0.2/16"), "{text}");
        assert!(text.contains("8080/tcp → 172.17.0.2:80"), "{text}");
        assert!(text.contains("j1"), "{text}");
    }

    #[test]
    fn chinese_takes_two_columns() {
        assert_eq!(columns("网桥 docker0"), 12);
        let long = "共用这个命名空间：".repeat(20);
        let cut = fit(&long, 50);
        assert!(columns(&cut) <= 50 && cut.ends_with('…'), "{cut}");
        let mut out = String::new();
        draw(&mut out, 4, "容器 web1", &[long], None);
        assert!(out.lines().all(|l| columns(l) <= WIDTH - 4 + 4), "{out}");
    }

    #[test]
    fn boxes_are_closed() {
        let text = render(&sample(), false);
        let tops = text
            .lines()
            .filter(|l| l.trim_start().starts_with('┌'))
            .count();
        let bottoms = text
            .lines()
            .filter(|l| l.trim_start().starts_with("└─") && l.ends_with('┘'));
        assert_eq!(tops, bottoms.count());
        assert_eq!(tops, 3);
    }

    #[test]
    fn color_only_when_asked() {
        assert!(!render(&sample(), false).contains('\u{1b}'));
    }
}
