//! The topology in the terminal: one box per namespace (world, each host, then its
//! overlays and containers indented under it), drawn with box characters and never
//! wider than [`WIDTH`] columns.

use super::model::{Iface, Namespace, NsKind, Topology, is_sub_interface};
use crate::ui::tr;
use colored::Colorize;

/// The widest line the picture may have, in terminal columns.
pub const WIDTH: usize = 100;

/// Set by a caller that indents the picture (the lesson runner shows views 4 columns
/// in): the picture is drawn that much narrower, between 60 and [`WIDTH`] columns.
pub const WIDTH_ENV: &str = "DOCKERNET_TOPOLOGY_WIDTH";

/// The width to draw at: [`WIDTH`], or [`WIDTH_ENV`]'s value when it is set.
pub fn width() -> usize {
    std::env::var(WIDTH_ENV)
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
        .map_or(WIDTH, |w| w.clamp(60, WIDTH))
}

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
pub(super) fn fit(s: &str, max: usize) -> String {
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

/// What is new in the picture, asked per box (`line` None: the box itself) by
/// [`draw_all`]: `show topology --changes` marks those parts.
pub type IsNew<'a> = &'a dyn Fn(&str, Option<&str>) -> bool;

/// The gutter mark of a new box or line (plain text: also without colours).
pub const NEW_MARK: &str = "+";

/// One box: a title on its top edge, its lines, `indent` columns from the left. A new
/// box has [`NEW_MARK`] at its top-left corner, a new line in its left gutter; with
/// `green` they are coloured too.
fn draw(out: &mut String, f: &Frame, color: Option<&str>, is_new: IsNew<'_>, green: bool) {
    let pad = " ".repeat(f.indent);
    let inner = width() - f.indent - 4;
    let title = fit(&f.title, inner - 2);
    let rule = "─".repeat(width() - f.indent - 5 - columns(&title));
    let shown = match color {
        Some(c) => title.color(c).bold().to_string(),
        None => title.clone(),
    };
    let new_box = is_new(&f.key, None);
    let mark = |new: bool, plain: &str| match (new, green) {
        (true, true) => NEW_MARK.green().bold().to_string(),
        (true, false) => NEW_MARK.to_string(),
        (false, _) => plain.to_string(),
    };
    out.push_str(&format!("{pad}┌{} {shown} {rule}┐\n", mark(new_box, "─")));
    for (l, k) in f.lines.iter().zip(&f.keys) {
        let new = new_box || is_new(&f.key, Some(k));
        let cut = fit(l, inner);
        let gap = " ".repeat(inner - columns(&cut));
        let text = if new && green {
            cut.green().to_string()
        } else {
            cut
        };
        out.push_str(&format!("{pad}│{}{text}{gap} │\n", mark(new, " ")));
    }
    out.push_str(&format!("{pad}└{}┘\n", "─".repeat(width() - f.indent - 2)));
}

/// One box of the picture before it is drawn: its namespace (what tells boxes apart
/// from one picture to the next), its place and its text.
#[derive(Debug, Clone)]
pub struct Frame {
    /// The namespace's name.
    pub key: String,
    /// Columns from the left: 0 for the world and hosts, 4 under a host.
    pub indent: usize,
    /// The top edge's title.
    pub title: String,
    /// The lines inside, uncut.
    pub lines: Vec<String>,
    /// What tells each line apart from one picture to the next (see [`line_key`]).
    pub keys: Vec<String>,
    /// What the namespace plays (its colour).
    pub kind: NsKind,
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
    if is_sub_interface(kind) {
        return format!(
            " ── {} {place} {far}",
            tr(
                format!("{kind} child of"),
                format!("{kind} 子网卡，父网卡在")
            )
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
        // The macvlan / ipvlan children of this interface, which live in containers.
        let children: Vec<_> = t
            .links
            .iter()
            .filter(|e| is_sub_interface(&e.kind) && e.b.ns == n.name && e.b.index == i.index)
            .collect();
        for (k, e) in children.iter().enumerate() {
            let branch = if k + 1 == children.len() {
                "└─"
            } else {
                "├─"
            };
            let who = owner(t, &e.a.ns);
            lines.push(format!(
                "  {branch} {} {} {}",
                e.kind,
                tr(format!("child: {who}"), format!("子网卡：{who}")),
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

/// A line without its tree branch (`├─ ` / `└─ `, which changes when a port is added
/// below it) and the spaces around: what compares from one picture to the next.
pub fn line_key(line: &str) -> String {
    line.trim_start()
        .trim_start_matches(['├', '└', '─'])
        .trim()
        .to_string()
}

/// The heading of the picture.
pub fn heading(t: &Topology) -> String {
    tr(
        format!("lab {}: topology read from the kernel", t.lab),
        format!("实验环境 {}：从内核读出的拓扑", t.lab),
    )
}

/// The boxes in drawing order: the world, then each host followed by its overlays and
/// containers.
pub fn layout(t: &Topology) -> Vec<Frame> {
    let frame = |n: &Namespace, indent| {
        let lines = body(t, n);
        Frame {
            key: n.name.clone(),
            indent,
            title: title(t, n),
            keys: lines.iter().map(|l| line_key(l)).collect(),
            lines,
            kind: n.kind,
        }
    };
    let mut out: Vec<Frame> = t
        .nodes
        .iter()
        .filter(|n| n.kind == NsKind::World)
        .map(|w| frame(w, 0))
        .collect();
    for h in t.nodes.iter().filter(|n| n.kind == NsKind::Host) {
        out.push(frame(h, 0));
        for kind in [NsKind::Overlay, NsKind::Container] {
            for n in t
                .nodes
                .iter()
                .filter(|n| n.kind == kind && n.host == h.host)
            {
                out.push(frame(n, 4));
            }
        }
    }
    out
}

/// Draw the heading and the boxes (the LAN under the world's); `color` only for a
/// terminal without NO_COLOR, `is_new` marks what [`NEW_MARK`] flags.
pub fn draw_all(head: &str, frames: &[Frame], color: bool, is_new: IsNew<'_>) -> String {
    let mut out = fit(head, width());
    out.push('\n');
    for f in frames {
        draw(&mut out, f, paint(f.kind, color), is_new, color);
        if f.kind == NsKind::World {
            let lan = tr(
                "LAN 198.51.100.0/24 (the switch lan0)",
                "局域网 198.51.100.0/24（交换机 lan0）",
            );
            out.push_str(&format!("  │ {lan}\n"));
        }
    }
    out
}

/// The whole picture; `color` only for a terminal without NO_COLOR.
pub fn render(t: &Topology, color: bool) -> String {
    draw_all(&heading(t), &layout(t), color, &|_, _| false)
}

#[cfg(test)]
#[path = "text_tests.rs"]
pub(crate) mod tests;
