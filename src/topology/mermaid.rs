//! The topology as a Mermaid flowchart: the same graph as the dot output, with node
//! ids made of letters and digits only (Mermaid's parser reads `-` as an edge).

use super::dot::{end_label, node_label};
use super::model::{NsKind, Topology};

/// A Mermaid node id for namespace number `i`.
fn nid(t: &Topology, ns: &str) -> String {
    t.nodes
        .iter()
        .position(|n| n.name == ns)
        .map_or_else(|| format!("x{}", ns.len()), |i| format!("n{i}"))
}

/// Text inside `"..."`: Mermaid has no escape for `"`, so it becomes `#quot;`.
fn text(s: &str) -> String {
    s.replace('"', "#quot;").replace('\n', "<br/>")
}

/// The flowchart.
pub fn render(t: &Topology) -> String {
    let mut out = String::from("flowchart TB\n");
    for n in &t.nodes {
        let shape = match n.kind {
            NsKind::Container => ("([", "])"),
            _ => ("[", "]"),
        };
        out.push_str(&format!(
            "  {}{}\"{}\"{}\n",
            nid(t, &n.name),
            shape.0,
            text(&node_label(t, &n.name)),
            shape.1
        ));
    }
    for e in &t.links {
        let label = format!(
            "{} {} — {}",
            e.kind,
            end_label(t, &e.a.ns, e.a.index, &e.a.ifname),
            end_label(t, &e.b.ns, e.b.index, &e.b.ifname)
        );
        out.push_str(&format!(
            "  {} ---|\"{}\"| {}\n",
            nid(t, &e.a.ns),
            text(&label),
            nid(t, &e.b.ns)
        ));
    }
    for tun in &t.tunnels {
        let target = t
            .nodes
            .iter()
            .find(|n| n.kind == NsKind::Host && Some(&n.label) == tun.to_host.as_ref());
        if let Some(h) = target {
            let vni = tun.vni.map(|v| format!(" VNI {v}")).unwrap_or_default();
            out.push_str(&format!(
                "  {} -.-|\"vxlan0 → {}{vni}\"| {}\n",
                nid(t, &tun.ns),
                tun.dst,
                nid(t, &h.name)
            ));
        }
    }
    for p in &t.ports {
        if let Some(c) = &p.container_ns {
            out.push_str(&format!(
                "  {} ==>|\"{}/{} → {}\"| {}\n",
                nid(t, &p.ns),
                p.port,
                p.proto,
                p.to,
                nid(t, c)
            ));
        }
    }
    for (k, s) in t.shared.iter().enumerate() {
        out.push_str(&format!(
            "  s{k}([\"container {}\"]) -.-|{}| {}\n",
            text(&s.container),
            s.mode,
            nid(t, &s.ns)
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flowchart_has_every_namespace() {
        let t = super::super::text::tests::sample();
        let m = render(&t);
        assert!(m.starts_with("flowchart TB\n"));
        for i in 0..t.nodes.len() {
            assert!(m.contains(&format!("  n{i}")), "{m}");
        }
        assert!(m.contains("veth1a2b3c4@if2 — eth0@if5"), "{m}");
        assert!(!m.contains("dn-tp-host ---"), "ids must not hold '-': {m}");
    }
}
