//! Switching tracing on for one probe's packets, and off again.
//!
//! A table of our own, `dockernet_trace`, in each namespace on the path: its chains at
//! priority -350 (before Docker's raw, nat and filter chains) set `meta nftrace` on the
//! probe's packets only — matched by the probe's TCP/UDP source port or ICMP echo id,
//! in both directions, plus ICMP errors —, and a few "checkpoint" chains that run after
//! NAT and filtering record where the packet went (their events carry the interfaces
//! and the rewritten addresses). Docker's own tables are not touched, so `iptables -S`
//! shows the same rules during a trace. The mark does not survive a veth into another
//! namespace (the kernel scrubs it), hence one table per namespace. A table left by a
//! killed trace is replaced by the next one and goes with the lab's namespaces.

use crate::error::{Error, Result};
use std::io::Write;
use std::path::Path;
use std::process::Stdio;

/// The name of our table, in the `ip` and `bridge` families.
pub const TABLE: &str = "dockernet_trace";

/// The probe's packets, as nft matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// ICMP echo with this id.
    Icmp(u16),
    /// TCP with this port on our side.
    Tcp(u16),
    /// UDP with this port on our side.
    Udp(u16),
}

impl Flow {
    /// The nft match expressions, one per rule (both directions).
    fn matches(self) -> Vec<String> {
        let errors = "icmp type { destination-unreachable, time-exceeded }".to_string();
        match self {
            Flow::Icmp(id) => vec![format!(
                "icmp type {{ echo-request, echo-reply }} icmp id {id}"
            )],
            Flow::Tcp(p) => vec![format!("tcp sport {p}"), format!("tcp dport {p}"), errors],
            Flow::Udp(p) => vec![format!("udp sport {p}"), format!("udp dport {p}"), errors],
        }
    }
}

/// The checkpoints of the `ip` family, empty chains: the policy event at their end
/// carries the interfaces and the packet as it is there: (chain, hook, priority). After DNAT (nat is at
/// -100), after filtering (filter is at 0) and after SNAT (nat is at 100).
const IP_CHECKPOINTS: &[(&str, &str, i32)] = &[
    ("prerouting", "prerouting", -90),
    ("input", "input", 300),
    ("forward", "forward", 300),
    ("output", "output", -90),
    ("postrouting", "postrouting", 300),
];

/// The nft script that (re)creates our tables. `bridge`: also watch bridged frames
/// (a namespace with a bridge: a lab host, an overlay, the world's LAN switch).
pub fn script(flow: Flow, bridge: bool) -> String {
    let mut s = String::new();
    s.push_str(&disarm_script(bridge));
    s.push_str(&format!("table ip {TABLE} {{\n"));
    for (chain, hook) in [("mark_in", "prerouting"), ("mark_out", "output")] {
        s.push_str(&format!(
            "  chain {chain} {{\n    type filter hook {hook} priority -350; policy accept;\n"
        ));
        for m in flow.matches() {
            s.push_str(&format!("    {m} meta nftrace set 1\n"));
        }
        s.push_str("  }\n");
    }
    for (chain, hook, prio) in IP_CHECKPOINTS {
        s.push_str(&format!(
            "  chain {chain} {{\n    type filter hook {hook} priority {prio}; policy accept;\n  }}\n"
        ));
    }
    s.push_str("}\n");
    if bridge {
        s.push_str(&format!(
            "table bridge {TABLE} {{\n  chain mark_in {{\n    type filter hook prerouting priority -350; policy accept;\n"
        ));
        for m in flow.matches() {
            s.push_str(&format!("    {m} meta nftrace set 1\n"));
        }
        s.push_str(
            "  }\n  chain forward {\n    type filter hook forward priority 300; policy accept;\n  }\n  chain output {\n    type filter hook output priority 300; policy accept;\n  }\n}\n",
        );
    }
    s
}

/// The nft script that removes our tables (and does not fail when they are absent).
pub fn disarm_script(bridge: bool) -> String {
    let mut s = format!("table ip {TABLE}\ndelete table ip {TABLE}\n");
    if bridge {
        s.push_str(&format!(
            "table bridge {TABLE}\ndelete table bridge {TABLE}\n"
        ));
    }
    s
}

/// The `nft` binary, or a one-line error naming the package.
fn nft() -> Result<std::path::PathBuf> {
    crate::util::which("nft").ok_or_else(|| {
        Error::msg(crate::ui::tr(
            "nft not found: `trace` uses nf_tables tracing; install it with `sudo apt-get install nftables`",
            "找不到 nft：`trace` 依靠 nf_tables 的跟踪功能，请先安装 `sudo apt-get install nftables`",
        ))
    })
}

/// Run an nft script inside the namespace at `ns`.
pub fn apply(ns: &Path, script: &str) -> Result<()> {
    let mut child = crate::firewall::command_in(ns, &nft()?)?
        .args(["-f", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| Error::msg(format!("starting nft: {e}")))?;
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(script.as_bytes());
    }
    let out = child
        .wait_with_output()
        .map_err(|e| Error::msg(format!("nft: {e}")))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        return Err(Error::msg(format!(
            "nft in {}: {}",
            ns.display(),
            err.lines().next().unwrap_or("failed")
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tcp_script_marks_both_directions_and_errors() {
        let s = script(Flow::Tcp(40001), false);
        assert!(s.starts_with("table ip dockernet_trace\ndelete table ip dockernet_trace\n"));
        assert!(s.contains("tcp sport 40001 meta nftrace set 1"));
        assert!(s.contains("tcp dport 40001 meta nftrace set 1"));
        assert!(s.contains("destination-unreachable"));
        assert!(s.contains("type filter hook postrouting priority 300;"));
        assert!(!s.contains("table bridge"));
    }

    #[test]
    fn icmp_script_with_bridge_table() {
        let s = script(Flow::Icmp(7), true);
        assert!(s.contains("icmp id 7 meta nftrace set 1"));
        assert!(s.contains("table bridge dockernet_trace {"));
        assert!(s.contains("delete table bridge dockernet_trace"));
        assert_eq!(s.matches("meta nftrace set 1").count(), 3);
    }
}
