//! The topology as a Graphviz graph: one cluster-free node per namespace, one edge per
//! veth pair or macvlan child (labelled with both ends), dashed edges for tunnels,
//! dotted ones for containers sharing a namespace.

use super::model::{NsKind, Topology};

/// A Graphviz identifier: quoted, with quotes and backslashes escaped, and line
/// breaks as dot's `\n`.
fn id(s: &str) -> String {
    let s = s.replace('\\', "\\\\").replace('"', "\\\"");
    format!("\"{}\"", s.replace('\n', "\\n"))
}

/// The node's label: its role, name and addresses, one per line.
pub(super) fn node_label(t: &Topology, name: &str) -> String {
    let Some(n) = t.node(name) else {
        return name.to_string();
    };
    let role = match n.kind {
        NsKind::World => "world".to_string(),
        NsKind::Host => format!("host {}", n.label),
        NsKind::Overlay => format!("overlay {}", n.network.as_deref().unwrap_or(&n.label)),
        NsKind::Container => format!("container {}", n.label),
    };
    let addrs: Vec<String> = n
        .interfaces
        .iter()
        .filter(|i| !i.addrs.is_empty())
        .map(|i| format!("{} {}", i.name, i.addrs.join(" ")))
        .collect();
    let mut parts = vec![role, n.name.clone()];
    parts.extend(addrs);
    parts.join("\n")
}

/// `name@ifN` of an end as the kernel shows it.
pub(super) fn end_label(t: &Topology, ns: &str, index: u32, ifname: &str) -> String {
    t.node(ns)
        .and_then(|n| n.interfaces.iter().find(|i| i.index == index))
        .map_or(ifname.to_string(), super::text::at)
}

/// The graph in the dot language.
pub fn render(t: &Topology) -> String {
    let mut out = format!(
        "graph {} {{\n  node [shape=box];\n",
        id(&format!("dockernet-{}", t.lab))
    );
    for n in &t.nodes {
        out.push_str(&format!(
            "  {} [label={}];\n",
            id(&n.name),
            id(&node_label(t, &n.name))
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
            "  {} -- {} [label={}];\n",
            id(&e.a.ns),
            id(&e.b.ns),
            id(&label)
        ));
    }
    for tun in &t.tunnels {
        let target = t
            .nodes
            .iter()
            .find(|n| n.kind == NsKind::Host && Some(&n.label) == tun.to_host.as_ref())
            .map_or(tun.dst.to_string(), |n| n.name.clone());
        let vni = tun.vni.map(|v| format!(" VNI {v}")).unwrap_or_default();
        out.push_str(&format!(
            "  {} -- {} [style=dashed, label={}];\n",
            id(&tun.ns),
            id(&target),
            id(&format!("vxlan0 → {}{vni}", tun.dst))
        ));
    }
    for p in &t.ports {
        if let Some(c) = &p.container_ns {
            out.push_str(&format!(
                "  {} -- {} [color=darkgreen, label={}];\n",
                id(&p.ns),
                id(c),
                id(&format!("{}/{} → {}", p.port, p.proto, p.to))
            ));
        }
    }
    for s in &t.shared {
        let me = format!("shared:{}", s.container);
        out.push_str(&format!(
            "  {} [shape=ellipse, label={}];\n  {} -- {} [style=dotted, label={}];\n",
            id(&me),
            id(&format!("container {}", s.container)),
            id(&me),
            id(&s.ns),
            id(&s.mode)
        ));
    }
    out.push_str("}\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_node_per_namespace_and_balanced() {
        let t = super::super::text::tests::sample();
        let d = render(&t);
        assert_eq!(d.matches('{').count(), d.matches('}').count());
        assert!(d.starts_with("graph \"dockernet-tp\" {"));
        for n in &t.nodes {
            let decl = format!("  \"{}\" [label=", n.name);
            assert_eq!(d.matches(&decl).count(), 1, "{d}");
        }
        assert!(d.contains("veth1a2b3c4@if2 — eth0@if5"), "{d}");
        assert!(d.contains("style=dotted"), "{d}");
    }

    #[test]
    fn quotes_are_escaped() {
        assert_eq!(id("a\"b"), "\"a\\\"b\"");
    }

    #[test]
    fn the_rendered_sample_parses() {
        let mut t = super::super::text::tests::sample();
        // A name that needs every escape.
        t.nodes[2].label = "we\"ird\\name".into();
        let dot = render(&t);
        let g = super::super::dot_syntax::parse(&dot).unwrap_or_else(|e| panic!("{e}:\n{dot}"));
        for n in &t.nodes {
            assert!(g.nodes.contains(&n.name), "{} missing:\n{dot}", n.name);
        }
        assert!(!g.edges.is_empty());
    }
}
