//! `ip route show` layout (iproute2 6.x, main table).

use super::model::RouteView;

/// Renders routes exactly like `ip route show`, one line each, in the order
/// given (the kernel's dump order is what `ip` prints).
///
/// Quirks reproduced from iproute2's `print_route`: a host route (/32, /128)
/// shows the bare address; `proto boot` and scope `universe`/`global` are the
/// defaults and are left out; `linkdown` comes last; every field is followed
/// by a space, so lines end in one.
pub fn render_routes(routes: &[RouteView]) -> String {
    let mut out = String::new();
    for r in routes {
        match r.destination {
            None => out.push_str("default "),
            Some((addr, len)) => {
                let host_len = if addr.is_ipv4() { 32 } else { 128 };
                if len == host_len {
                    out.push_str(&format!("{addr} "));
                } else {
                    out.push_str(&format!("{addr}/{len} "));
                }
            }
        }
        if let Some(gw) = r.gateway {
            out.push_str(&format!("via {gw} "));
        }
        if let Some(dev) = &r.dev {
            out.push_str(&format!("dev {dev} "));
        }
        if !matches!(r.protocol.as_str(), "" | "boot") {
            out.push_str(&format!("proto {} ", r.protocol));
        }
        if !matches!(r.scope.as_str(), "" | "universe" | "global") {
            out.push_str(&format!("scope {} ", r.scope));
        }
        if let Some(src) = r.prefsrc {
            out.push_str(&format!("src {src} "));
        }
        if let Some(metric) = r.metric {
            out.push_str(&format!("metric {metric} "));
        }
        if r.linkdown {
            out.push_str("linkdown ");
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(dst: Option<(&str, u8)>, gw: Option<&str>, dev: &str) -> RouteView {
        RouteView {
            destination: dst.map(|(a, l)| (a.parse().unwrap(), l)),
            gateway: gw.map(|g| g.parse().unwrap()),
            dev: Some(dev.into()),
            protocol: "boot".into(),
            scope: "universe".into(),
            prefsrc: None,
            metric: None,
            linkdown: false,
        }
    }

    #[test]
    fn golden_ip_route() {
        let kernel = |dst: (&str, u8), dev: &str, src: &str| RouteView {
            protocol: "kernel".into(),
            scope: "link".into(),
            prefsrc: Some(src.parse().unwrap()),
            ..route(Some(dst), None, dev)
        };
        let routes = vec![
            route(None, Some("172.17.0.254"), "docker0"),
            RouteView {
                linkdown: true,
                ..kernel(("10.99.0.0", 24), "br-empty", "10.99.0.1")
            },
            RouteView {
                metric: Some(100),
                ..route(Some(("10.100.0.0", 16)), Some("172.17.0.254"), "docker0")
            },
            RouteView {
                protocol: "static".into(),
                scope: "link".into(),
                ..route(Some(("10.101.0.0", 16)), None, "docker0")
            },
            RouteView {
                scope: "link".into(),
                prefsrc: Some("172.17.0.1".parse().unwrap()),
                ..route(Some(("10.102.0.5", 32)), None, "docker0")
            },
            RouteView {
                linkdown: true,
                ..route(Some(("10.103.0.0", 16)), Some("10.99.0.254"), "br-empty")
            },
            RouteView {
                protocol: "dhcp".into(),
                metric: Some(50),
                ..route(Some(("10.104.0.0", 16)), Some("172.17.0.254"), "docker0")
            },
            kernel(("172.17.0.0", 16), "docker0", "172.17.0.1"),
        ];
        assert_eq!(
            render_routes(&routes),
            include_str!("testdata/ip_route.txt")
        );
    }
}
