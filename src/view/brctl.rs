//! `brctl show` layout (bridge-utils 1.7).

use super::model::BridgeView;

/// Renders bridges exactly like `brctl show`.
///
/// bridge-utils prints `name\t\t`, the id, `\tyes|no\t\t`, then the first port
/// on the same line and every further port on its own line behind seven tabs;
/// a bridge without ports ends right after the STP column's two tabs. The tabs
/// are fixed, so long names push the columns out of line just as brctl does.
/// Bridges are sorted by name (brctl walks /sys/class/net with `alphasort`);
/// ports are printed in the order given.
pub fn render_bridges(bridges: &[BridgeView]) -> String {
    let mut sorted: Vec<&BridgeView> = bridges.iter().collect();
    sorted.sort_by(|a, b| a.name.as_bytes().cmp(b.name.as_bytes()));

    let mut out = String::from("bridge name\tbridge id\t\tSTP enabled\tinterfaces\n");
    for b in sorted {
        let stp = if b.stp { "yes" } else { "no" };
        out.push_str(&format!("{}\t\t{}\t{stp}\t\t", b.name, b.bridge_id));
        let mut ports = b.ports.iter();
        if let Some(first) = ports.next() {
            out.push_str(first);
        }
        out.push('\n');
        for port in ports {
            out.push_str(&format!("\t\t\t\t\t\t\t{port}\n"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bridge(name: &str, id: &str, stp: bool, ports: &[&str]) -> BridgeView {
        BridgeView {
            name: name.into(),
            bridge_id: id.into(),
            stp,
            ports: ports.iter().map(|p| p.to_string()).collect(),
        }
    }

    #[test]
    fn golden_brctl_show() {
        // Given out of order on purpose: brctl sorts bridges by name.
        let bridges = [
            bridge(
                "docker0",
                "8000.02424159035d",
                false,
                &["veth1a2b3c4", "vethlocal"],
            ),
            bridge("br-other", "8000.1e8c1ba55c93", true, &["vethz"]),
            bridge("br-empty", "8000.02420a630001", false, &[]),
        ];
        assert_eq!(
            render_bridges(&bridges),
            include_str!("testdata/brctl_show.txt")
        );
    }

    #[test]
    fn no_bridges_is_just_the_header() {
        assert_eq!(
            render_bridges(&[]),
            "bridge name\tbridge id\t\tSTP enabled\tinterfaces\n"
        );
    }
}
