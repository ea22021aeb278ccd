//! `ip addr show` layout (iproute2 6.x).

use std::net::IpAddr;

use super::ip_link::write_link_lines;
use super::model::{AddrView, LinkView};

/// Renders links with their addresses exactly like `ip addr show`.
///
/// Each link gets the same two lines as `ip link` minus `mode DEFAULT`, then
/// per address an `inet`/`inet6` line and a `valid_lft ... preferred_lft ...`
/// line. IPv4 addresses come before IPv6 ones (the kernel dumps each family in
/// turn), otherwise in the order given. The model has no lifetimes or address
/// flags, so every address is shown as permanent (`forever`) with no flags,
/// which is what addresses configured by Docker or by hand look like.
pub fn render_addrs(links: &[LinkView]) -> String {
    let mut out = String::new();
    for link in links {
        write_link_lines(&mut out, link, links, false, false);
        let v4 = link.addrs.iter().filter(|a| a.addr.is_ipv4());
        let v6 = link.addrs.iter().filter(|a| a.addr.is_ipv6());
        for addr in v4.chain(v6) {
            write_addr(&mut out, link, addr);
        }
    }
    out
}

fn write_addr(out: &mut String, link: &LinkView, a: &AddrView) {
    let family = match a.addr {
        IpAddr::V4(_) => "inet",
        IpAddr::V6(_) => "inet6",
    };
    out.push_str(&format!("    {family} {}/{} ", a.addr, a.prefix_len));
    if let Some(brd) = a.broadcast {
        out.push_str(&format!("brd {brd} "));
    }
    // RT_SCOPE_UNIVERSE (0) is spelled "global" by rtnl_rtscope_n2a.
    let scope = match a.scope.as_str() {
        "" | "universe" => "global",
        s => s,
    };
    out.push_str(&format!("scope {scope} "));
    // Only IPv4 addresses carry IFA_LABEL; IPv6 lines keep the trailing space.
    if a.addr.is_ipv4() {
        out.push_str(a.label.as_deref().unwrap_or(&link.name));
    }
    out.push_str("\n       valid_lft forever preferred_lft forever\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::view::ip_link::tests::fixture_links;

    fn addr(text: &str, prefix_len: u8, scope: &str) -> AddrView {
        AddrView {
            addr: text.parse().unwrap(),
            prefix_len,
            broadcast: None,
            scope: scope.into(),
            label: None,
        }
    }

    #[test]
    fn golden_ip_addr() {
        let mut links = fixture_links();
        // Deliberately out of family order: IPv4 must still print first.
        links[0].addrs = vec![addr("::1", 128, "host"), addr("127.0.0.1", 8, "host")];
        links[1].addrs = vec![
            AddrView {
                broadcast: Some("172.17.255.255".parse().unwrap()),
                label: Some("docker0".into()),
                ..addr("172.17.0.1", 16, "global")
            },
            addr("fd00:dead:beef::1", 64, "global"),
            addr("fe80::42:41ff:fe59:35d", 64, "link"),
        ];
        links[2].addrs = vec![addr("fe80::849c:e1ff:fe5c:9f78", 64, "link")];
        links[3].addrs = vec![AddrView {
            label: Some("br-empty:lbl".into()),
            ..addr("10.99.0.1", 24, "global")
        }];
        let got = render_addrs(&links);
        let want = include_str!("testdata/ip_addr.txt");
        for (n, (g, w)) in got.lines().zip(want.lines()).enumerate() {
            assert_eq!(g, w, "line {}", n + 1);
        }
        assert_eq!(got, want);
    }
}
