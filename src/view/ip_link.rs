//! `ip link show` layout (iproute2 6.x), shared with `ip addr show`.

use super::model::LinkView;

// IFF_* bits from <linux/if.h>.
const IFF_UP: u32 = 0x1;
const IFF_POINTOPOINT: u32 = 0x10;
const IFF_RUNNING: u32 = 0x40;

/// Flag names in the order iproute2's `print_link_flags` tests them.
/// IFF_RUNNING is missing on purpose: it is never printed by name.
const FLAG_NAMES: [(u32, &str); 18] = [
    (0x8, "LOOPBACK"),
    (0x2, "BROADCAST"),
    (IFF_POINTOPOINT, "POINTOPOINT"),
    (0x1000, "MULTICAST"),
    (0x80, "NOARP"),
    (0x200, "ALLMULTI"),
    (0x100, "PROMISC"),
    (0x400, "MASTER"),
    (0x800, "SLAVE"),
    (0x4, "DEBUG"),
    (0x8000, "DYNAMIC"),
    (0x4000, "AUTOMEDIA"),
    (0x2000, "PORTSEL"),
    (0x20, "NOTRAILERS"),
    (IFF_UP, "UP"),
    (0x10000, "LOWER_UP"),
    (0x20000, "DORMANT"),
    (0x40000, "ECHO"),
];

/// Renders links exactly like `ip link show`: two lines per link.
///
/// Fields the model does not carry are printed with the values Docker setups
/// always have: `mode DEFAULT group default`. See [`render_links_annotated`]
/// for the peer-ownership annotation.
#[cfg(test)]
pub fn render_links(links: &[LinkView]) -> String {
    render_links_annotated(links, false)
}

/// Like [`render_links`], but when `annotate` is true every link whose
/// `peer_owner` is known gets `  # peer: <owner>` appended to its second line
/// (after `link-netnsid N`). With `annotate` false the output matches `ip link`.
pub fn render_links_annotated(links: &[LinkView], annotate: bool) -> String {
    let mut out = String::new();
    for link in links {
        write_link_lines(&mut out, link, links, true, annotate);
    }
    out
}

/// Writes the two lines `ip` prints for a link. `do_link` selects the
/// `ip link` variant (which also prints `mode DEFAULT`) over the `ip addr` one.
/// `all` is the whole dump, used to name a same-namespace peer.
pub(super) fn write_link_lines(
    out: &mut String,
    link: &LinkView,
    all: &[LinkView],
    do_link: bool,
    annotate: bool,
) {
    out.push_str(&format!("{}: {}", link.index, link.name));
    let mut peer_down = false;
    if let Some(peer) = link.peer_index {
        if peer == 0 {
            out.push_str("@NONE");
        } else if link.link_netnsid.is_some() {
            // The peer's index means nothing in this namespace, so iproute2
            // can only print it as a number.
            out.push_str(&format!("@if{peer}"));
        } else if let Some(p) = all.iter().find(|l| l.index == peer) {
            // Same namespace: iproute2 names the peer and flags M-DOWN when
            // that peer is administratively down.
            out.push_str(&format!("@{}", p.name));
            peer_down = p.flags & IFF_UP == 0;
        } else {
            // Peer not in the slice we were given (a filtered view). iproute2
            // would have it in its cache; we cannot know its flags, so no M-DOWN.
            out.push_str(&format!("@if{peer}"));
        }
    }
    out.push_str(": ");
    out.push_str(&format_flags(link.flags, peer_down));
    out.push_str(&format!("mtu {} ", link.mtu));
    if let Some(q) = &link.qdisc {
        out.push_str(&format!("qdisc {q} "));
    }
    if let Some(m) = &link.master {
        out.push_str(&format!("master {m} "));
    }
    if !link.operstate.is_empty() {
        out.push_str(&format!("state {} ", link.operstate));
    }
    if do_link {
        out.push_str("mode DEFAULT ");
    }
    out.push_str("group default ");
    // A zero queue length is not printed at all, which leaves the trailing
    // space after `group default` (visible on Docker's own bridges).
    if let Some(q) = link.qlen.filter(|q| *q != 0) {
        out.push_str(&format!("qlen {q}"));
    }
    out.push('\n');

    out.push_str(&format!("    link/{} ", link.link_type));
    if let Some(mac) = &link.mac {
        out.push_str(mac);
    }
    if let Some(brd) = &link.broadcast {
        let word = if link.flags & IFF_POINTOPOINT != 0 {
            "peer"
        } else {
            "brd"
        };
        out.push_str(&format!(" {word} {brd}"));
    }
    match link.link_netnsid {
        // iproute2 names the peer's namespace when /run/netns has a name for that id.
        Some(_) if link.link_netns.is_some() => out.push_str(&format!(
            " link-netns {}",
            link.link_netns.as_deref().unwrap_or("")
        )),
        Some(id) if id >= 0 => out.push_str(&format!(" link-netnsid {id}")),
        Some(_) => out.push_str(" link-netnsid unknown"),
        None => {}
    }
    if annotate && let Some(owner) = &link.peer_owner {
        out.push_str(&crate::ui::tr(
            format!("  # peer: {owner}"),
            format!("  # 对端：{owner}"),
        ));
    }
    out.push('\n');
}

/// `<FLAG,FLAG,...> ` as iproute2's `print_link_flags` builds it.
fn format_flags(flags: u32, peer_down: bool) -> String {
    let mut names: Vec<String> = Vec::new();
    // NO-CARRIER is derived: administratively up but not operationally running.
    if flags & IFF_UP != 0 && flags & IFF_RUNNING == 0 {
        names.push("NO-CARRIER".into());
    }
    let mut rest = flags & !IFF_RUNNING;
    for (bit, name) in FLAG_NAMES {
        if rest & bit != 0 {
            rest &= !bit;
            names.push(name.into());
        }
    }
    // Bits without a name are dumped as one hex number.
    if rest != 0 {
        names.push(format!("{rest:x}"));
    }
    let mut s = format!("<{}", names.join(","));
    if peer_down {
        s.push_str(",M-DOWN");
    }
    s.push_str("> ");
    s
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// The links of `testdata/ip_link.txt` / `ip_addr.txt`, as the netlink
    /// code would fill them (raw `ifi_flags` include IFF_RUNNING).
    pub(in crate::view) fn fixture_links() -> Vec<LinkView> {
        let ether = |index: u32, name: &str, flags: u32, mac: &str| LinkView {
            index,
            name: name.into(),
            flags,
            mtu: 1500,
            qdisc: Some("noqueue".into()),
            operstate: "UP".into(),
            mac: Some(mac.into()),
            broadcast: Some("ff:ff:ff:ff:ff:ff".into()),
            link_type: "ether".into(),
            qlen: Some(1000),
            ..LinkView::default()
        };
        let up_running = 0x1 | 0x2 | 0x40 | 0x1000 | 0x10000;
        let up_no_carrier = 0x1 | 0x2 | 0x1000;
        vec![
            LinkView {
                index: 1,
                name: "lo".into(),
                flags: 0x1 | 0x8 | 0x40 | 0x10000,
                mtu: 65536,
                qdisc: Some("noqueue".into()),
                operstate: "UNKNOWN".into(),
                mac: Some("00:00:00:00:00:00".into()),
                broadcast: Some("00:00:00:00:00:00".into()),
                link_type: "loopback".into(),
                qlen: Some(1000),
                ..LinkView::default()
            },
            LinkView {
                kind: Some("bridge".into()),
                ..ether(2, "docker0", up_running, "02:42:41:59:03:5d")
            },
            LinkView {
                kind: Some("veth".into()),
                master: Some("docker0".into()),
                peer_index: Some(2),
                link_netnsid: Some(0),
                peer_owner: Some("container web1".into()),
                ..ether(3, "veth1a2b3c4", up_running, "86:9c:e1:5c:9f:78")
            },
            LinkView {
                operstate: "DOWN".into(),
                qlen: Some(0),
                ..ether(4, "br-empty", up_no_carrier, "02:42:0a:63:00:01")
            },
            LinkView {
                operstate: "LOWERLAYERDOWN".into(),
                peer_index: Some(6),
                ..ether(5, "vethpeer", up_no_carrier, "d6:fa:70:1f:a7:b1")
            },
            LinkView {
                operstate: "DOWN".into(),
                qdisc: Some("noop".into()),
                peer_index: Some(5),
                ..ether(6, "vethlocal", 0x2 | 0x1000, "62:05:c5:88:bc:01")
            },
        ]
    }

    #[test]
    fn golden_ip_link() {
        assert_eq!(
            render_links(&fixture_links()),
            include_str!("testdata/ip_link.txt")
        );
    }

    #[test]
    fn annotation_follows_netnsid() {
        let out = render_links_annotated(&fixture_links(), true);
        assert!(out.contains(
            "    link/ether 86:9c:e1:5c:9f:78 brd ff:ff:ff:ff:ff:ff link-netnsid 0  # peer: container web1\n"
        ));
        assert_eq!(out.matches("# peer:").count(), 1);
    }

    #[test]
    fn flag_edge_cases() {
        assert_eq!(format_flags(0, false), "<> ");
        assert_eq!(
            format_flags(0x2 | 0x80_0000, true),
            "<BROADCAST,800000,M-DOWN> "
        );
        // A peer missing from a filtered slice prints as @ifN without M-DOWN.
        let mut only = fixture_links()[4].clone();
        only.flags |= 0x40;
        let out = render_links(&[only]);
        assert!(
            out.starts_with("5: vethpeer@if6: <BROADCAST,MULTICAST,UP> "),
            "{out}"
        );
    }

    #[test]
    fn optional_fields_are_omitted() {
        let link = LinkView {
            index: 9,
            name: "tun0".into(),
            flags: 0x1 | 0x10 | 0x40 | 0x80,
            mtu: 1400,
            link_type: "none".into(),
            ..LinkView::default()
        };
        assert_eq!(
            render_links(&[link]),
            "9: tun0: <POINTOPOINT,NOARP,UP> mtu 1400 mode DEFAULT group default \n    link/none \n"
        );
    }
}
