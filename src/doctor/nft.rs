//! The nftables backend's counterpart of `host.rs`'s rule checks: under Docker 29's
//! nftables backend a bridge network's rules are its four chains in the table
//! `ip docker-bridges`, reached through the verdict maps by the bridge's name.

use super::{Finding, Scope};
use crate::ui::tr;
use std::path::Path;

/// A bridge network whose chains (or the map elements that lead to them) are missing
/// from `ip docker-bridges`: its traffic falls through Docker's forward chain unchecked,
/// and nothing masquerades it.
pub fn bridge_chains(s: &Scope<'_>, host_ns: &Path, out: &mut Vec<Finding>) {
    let listing = crate::firewall::nft::list_table(host_ns);
    let l = crate::firewall::nft::Listing::parse(&listing);
    for n in s.networks.iter().filter(|n| n.driver == "bridge") {
        let Some(br) = n.bridge.as_deref() else {
            continue;
        };
        let missing: Vec<String> = [
            "filter-forward-in",
            "filter-forward-out",
            "nat-postrouting-in",
            "nat-postrouting-out",
        ]
        .iter()
        .map(|k| format!("{k}__{br}"))
        .filter(|c| !l.has_chain(c))
        .collect();
        let unmapped = !l.has_element("filter-forward-in-jumps", br);
        if missing.is_empty() && !unmapped {
            continue;
        }
        let what = if missing.is_empty() {
            format!("the verdict maps do not name {br}")
        } else {
            missing.join(", ")
        };
        out.push(Finding {
            id: "nft-chains-missing",
            severity: "error",
            what: tr(
                format!(
                    "table ip docker-bridges lacks network {} ({br})'s chains: {what}",
                    n.name
                ),
                format!(
                    "ip docker-bridges 表缺少网络 {}（{br}）的链：{what}",
                    n.name
                ),
            ),
            why: tr(
                "Docker's per-bridge checks (replies, icc, published ports, the final drop, outbound NAT) never run for this bridge",
                "这个网桥的检查（回包、icc、端口映射、最后的丢弃、出站地址转换）都不会执行",
            ),
            fix: format!(
                "{}\n{} network rm {}   # then create it again",
                s.host_cmd("nft list table ip docker-bridges"),
                s.dockernet(),
                n.name
            ),
        });
    }
}
