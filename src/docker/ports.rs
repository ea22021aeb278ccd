//! The `docker ps` PORTS column and `docker port` output.
//!
//! [`ps_ports`] ports docker/cli's `formatter.DisplayablePorts` in the form
//! shipped up to Docker 27 (plain `ip:port` concatenation, so IPv6 shows as
//! `:::8080->80/tcp`; newer CLIs print `[::]:8080->80/tcp`).
//! [`port_lines`] ports `docker port` (`cli/command/container/port.go`),
//! which uses `net.JoinHostPort` and natural sorting ([`super::sortorder`]).

use std::cmp::Ordering;

use serde::{Deserialize, Serialize};

use super::sortorder::natural_cmp;

/// One container port and, when published, its host binding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortBinding {
    /// Host address the port is published on: `"0.0.0.0"`, `"::"`, a
    /// specific address, or `""`.
    pub host_ip: String,
    /// Published host port; `0` means the port is only exposed.
    pub host_port: u16,
    /// Port inside the container.
    pub container_port: u16,
    /// `"tcp"`, `"udp"` (or `"sctp"`).
    pub proto: String,
}

/// The daemon's `container.Port` API record that `DisplayablePorts` reads.
struct ApiPort<'a> {
    ip: &'a str,
    private: u16,
    public: u16,
    kind: &'a str,
}

impl<'a> From<&'a PortBinding> for ApiPort<'a> {
    /// The daemon lists an exposed-only port with an empty IP and public
    /// port 0, and a binding with its host IP and port verbatim.
    fn from(p: &'a PortBinding) -> Self {
        let published = p.host_port != 0;
        ApiPort {
            ip: if published { &p.host_ip } else { "" },
            private: p.container_port,
            public: p.host_port,
            kind: &p.proto,
        }
    }
}

/// docker/cli `comparePorts`: private port, then IP (as a string), then
/// public port, then protocol.
fn compare_ports(a: &ApiPort<'_>, b: &ApiPort<'_>) -> Ordering {
    a.private
        .cmp(&b.private)
        .then_with(|| a.ip.cmp(b.ip))
        .then_with(|| a.public.cmp(&b.public))
        .then_with(|| a.kind.cmp(b.kind))
}

/// docker/cli `formGroup`: `key` is `"proto"` or `"ip/proto"`.
fn form_group(key: &str, first: u16, last: u16) -> String {
    let (ip, kind) = match key.split_once('/') {
        Some((ip, kind)) => (ip, kind),
        None => ("", key),
    };
    let mut group = first.to_string();
    if first != last {
        group = format!("{group}-{last}");
    }
    if !ip.is_empty() {
        group = format!("{ip}:{group}->{group}");
    }
    format!("{group}/{kind}")
}

/// The PORTS column of `docker ps` (docker/cli `DisplayablePorts`), e.g.
/// `"0.0.0.0:8000-8002->8000-8002/tcp, 0.0.0.0:32768->80/tcp, 9000/udp"`.
///
/// Rules reproduced from the Go code:
/// * ports are sorted by container port, host IP, host port, protocol;
/// * bindings whose host port equals the container port, and exposed-only
///   ports, are grouped per `ip/proto` (or `proto`) into consecutive ranges;
///   a gap closes the running range and emits it immediately, while the
///   ranges still open at the end are emitted afterwards in the order their
///   keys were first seen — so output is not globally sorted;
/// * bindings to a *different* host port are never grouped and always come
///   last as `ip:host->container/proto`;
/// * a binding with an empty host IP is treated like an exposed port.
pub fn ps_ports(ports: &[PortBinding]) -> String {
    let mut api: Vec<ApiPort<'_>> = ports.iter().map(ApiPort::from).collect();
    api.sort_by(compare_ports);

    // Insertion-ordered map: key -> (first, last) of the open range.
    let mut groups: Vec<(String, u16, u16)> = Vec::new();
    let mut result: Vec<String> = Vec::new();
    let mut host_mappings: Vec<String> = Vec::new();

    for port in &api {
        let current = port.private;
        let mut key = port.kind.to_string();
        if !port.ip.is_empty() {
            if port.public != current {
                host_mappings.push(format!(
                    "{}:{}->{}/{}",
                    port.ip, port.public, port.private, port.kind
                ));
                continue;
            }
            key = format!("{}/{}", port.ip, port.kind);
        }
        match groups.iter_mut().find(|(k, _, _)| *k == key) {
            None => groups.push((key, current, current)),
            // Go compares with group.last+1 in uint16, which wraps at 65535.
            Some((_, _, last)) if current == last.wrapping_add(1) => *last = current,
            Some((k, first, last)) => {
                result.push(form_group(k, *first, *last));
                *first = current;
                *last = current;
            }
        }
    }
    for (key, first, last) in &groups {
        result.push(form_group(key, *first, *last));
    }
    result.extend(host_mappings);
    result.join(", ")
}

/// Go's `net.JoinHostPort`: brackets hosts that contain a colon (IPv6).
pub fn join_host_port(host: &str, port: &str) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// `docker port CONTAINER [PORT[/PROTO]]` output lines, naturally sorted
/// (`sortorder.NaturalLess`), without trailing newlines.
///
/// Without a filter every published binding yields
/// `"80/tcp -> 0.0.0.0:32768"` (IPv6: `"80/tcp -> [::]:32768"`). With
/// `Some((port, proto))` only the matching bindings are listed, as bare
/// `"0.0.0.0:32768"`. Exposed-only ports (`host_port == 0`) never appear.
/// An empty result with a filter is where Docker fails with
/// `Error: No public port '<arg>' published for <container>`; producing that
/// message (with the argument as the user typed it) is left to the caller.
pub fn port_lines(ports: &[PortBinding], filter: Option<(u16, &str)>) -> Vec<String> {
    let mut out: Vec<String> = ports
        .iter()
        .filter(|p| p.host_port != 0)
        .filter(|p| filter.is_none_or(|(port, proto)| p.container_port == port && p.proto == proto))
        .map(|p| {
            let frontend = join_host_port(&p.host_ip, &p.host_port.to_string());
            match filter {
                Some(_) => frontend,
                None => format!("{}/{} -> {frontend}", p.container_port, p.proto),
            }
        })
        .collect();
    out.sort_by(|a, b| natural_cmp(a, b));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pb(ip: &str, host: u16, ctr: u16, proto: &str) -> PortBinding {
        PortBinding {
            host_ip: ip.to_string(),
            host_port: host,
            container_port: ctr,
            proto: proto.to_string(),
        }
    }

    #[test]
    fn single_published_port() {
        assert_eq!(
            ps_ports(&[pb("0.0.0.0", 32768, 80, "tcp")]),
            "0.0.0.0:32768->80/tcp"
        );
    }

    #[test]
    fn exposed_only_and_empty() {
        assert_eq!(ps_ports(&[]), "");
        assert_eq!(ps_ports(&[pb("", 0, 80, "tcp")]), "80/tcp");
        assert_eq!(
            ps_ports(&[
                pb("", 0, 80, "tcp"),
                pb("", 0, 81, "tcp"),
                pb("", 0, 53, "udp")
            ]),
            "53/udp, 80-81/tcp"
        );
    }

    #[test]
    fn consecutive_identity_bindings_are_ranged() {
        let ports = [
            pb("0.0.0.0", 8001, 8001, "tcp"),
            pb("0.0.0.0", 8000, 8000, "tcp"),
            pb("0.0.0.0", 8002, 8002, "tcp"),
        ];
        assert_eq!(ps_ports(&ports), "0.0.0.0:8000-8002->8000-8002/tcp");
    }

    #[test]
    fn ipv6_dual_stack_uses_pre_28_style() {
        let ports = [pb("0.0.0.0", 8080, 80, "tcp"), pb("::", 8080, 80, "tcp")];
        assert_eq!(ps_ports(&ports), "0.0.0.0:8080->80/tcp, :::8080->80/tcp");
        let same = [
            pb("0.0.0.0", 80, 80, "tcp"),
            pb("::", 80, 80, "tcp"),
            pb("0.0.0.0", 443, 443, "tcp"),
            pb("::", 443, 443, "tcp"),
        ];
        assert_eq!(
            ps_ports(&same),
            "0.0.0.0:80->80/tcp, :::80->80/tcp, 0.0.0.0:443->443/tcp, :::443->443/tcp"
        );
    }

    #[test]
    fn docker_cli_test_cases() {
        // docker/cli container_test.go TestDisplayablePorts (the cases that
        // do not depend on the IPv6 JoinHostPort change or on a published
        // port 0, which PortBinding cannot express).
        let cases: &[(&[PortBinding], &str)] = &[
            (&[pb("", 0, 9988, "tcp")], "9988/tcp"),
            (&[pb("", 0, 9988, "udp")], "9988/udp"),
            (&[pb("", 8899, 9988, "tcp")], "9988/tcp"),
            (
                &[pb("4.3.2.1", 8899, 9988, "tcp")],
                "4.3.2.1:8899->9988/tcp",
            ),
            (
                &[pb("4.3.2.1", 9988, 9988, "tcp")],
                "4.3.2.1:9988->9988/tcp",
            ),
            (
                &[pb("", 0, 9988, "udp"), pb("", 0, 9988, "udp")],
                "9988/udp, 9988/udp",
            ),
            (
                &[
                    pb("1.2.3.4", 9998, 9998, "udp"),
                    pb("1.2.3.4", 9999, 9999, "udp"),
                ],
                "1.2.3.4:9998-9999->9998-9999/udp",
            ),
            (
                &[
                    pb("1.2.3.4", 8887, 9998, "udp"),
                    pb("1.2.3.4", 8888, 9999, "udp"),
                ],
                "1.2.3.4:8887->9998/udp, 1.2.3.4:8888->9999/udp",
            ),
            (
                &[pb("", 0, 9998, "udp"), pb("", 0, 9999, "udp")],
                "9998-9999/udp",
            ),
            (
                &[pb("1.2.3.4", 7766, 6677, "tcp"), pb("", 8899, 9988, "udp")],
                "9988/udp, 1.2.3.4:7766->6677/tcp",
            ),
            (
                &[
                    pb("1.2.3.4", 8899, 9988, "udp"),
                    pb("1.2.3.4", 8899, 9988, "tcp"),
                    pb("4.3.2.1", 3322, 2233, "tcp"),
                ],
                "4.3.2.1:3322->2233/tcp, 1.2.3.4:8899->9988/tcp, 1.2.3.4:8899->9988/udp",
            ),
            (
                &[
                    pb("", 8899, 9988, "udp"),
                    pb("1.2.3.4", 7766, 6677, "tcp"),
                    pb("4.3.2.1", 3322, 2233, "tcp"),
                ],
                "9988/udp, 4.3.2.1:3322->2233/tcp, 1.2.3.4:7766->6677/tcp",
            ),
            (
                &[
                    pb("", 0, 80, "tcp"),
                    pb("", 0, 1024, "tcp"),
                    pb("", 0, 80, "udp"),
                    pb("", 0, 1024, "udp"),
                    pb("1.1.1.1", 80, 1024, "tcp"),
                    pb("1.1.1.1", 80, 1024, "udp"),
                    pb("1.1.1.1", 1024, 80, "tcp"),
                    pb("1.1.1.1", 1024, 80, "udp"),
                    pb("2.1.1.1", 80, 1024, "tcp"),
                    pb("2.1.1.1", 80, 1024, "udp"),
                    pb("2.1.1.1", 1024, 80, "tcp"),
                    pb("2.1.1.1", 1024, 80, "udp"),
                    pb("", 0, 12345, "sctp"),
                ],
                "80/tcp, 80/udp, 1024/tcp, 1024/udp, 12345/sctp, \
                 1.1.1.1:1024->80/tcp, 1.1.1.1:1024->80/udp, 2.1.1.1:1024->80/tcp, \
                 2.1.1.1:1024->80/udp, 1.1.1.1:80->1024/tcp, 1.1.1.1:80->1024/udp, \
                 2.1.1.1:80->1024/tcp, 2.1.1.1:80->1024/udp",
            ),
        ];
        for (ports, want) in cases {
            assert_eq!(ps_ports(ports), *want, "{ports:?}");
        }
    }

    #[test]
    fn published_port_zero_counts_as_exposed() {
        // Docker itself would print "0.0.0.0:0->9988/tcp"; in PortBinding a
        // host port of 0 means "not published".
        assert_eq!(ps_ports(&[pb("0.0.0.0", 0, 9988, "tcp")]), "9988/tcp");
    }

    #[test]
    fn gap_flushes_range_before_open_groups() {
        // 80-81 closes when 85 arrives and is emitted immediately; the open
        // groups follow in key-creation order (tcp before udp), so 85/tcp
        // precedes 82/udp; host mappings come last.
        let ports = [
            pb("", 0, 80, "tcp"),
            pb("", 0, 81, "tcp"),
            pb("", 0, 82, "udp"),
            pb("", 0, 85, "tcp"),
            pb("0.0.0.0", 32768, 22, "tcp"),
        ];
        assert_eq!(
            ps_ports(&ports),
            "80-81/tcp, 85/tcp, 82/udp, 0.0.0.0:32768->22/tcp"
        );
    }

    #[test]
    fn port_lines_all() {
        let ports = [
            pb("0.0.0.0", 32768, 80, "tcp"),
            pb("::", 32768, 80, "tcp"),
            pb("0.0.0.0", 8443, 443, "tcp"),
            pb("", 0, 9000, "tcp"),
            pb("0.0.0.0", 5353, 53, "udp"),
        ];
        assert_eq!(
            port_lines(&ports, None),
            vec![
                "53/udp -> 0.0.0.0:5353",
                "80/tcp -> 0.0.0.0:32768",
                "80/tcp -> [::]:32768",
                "443/tcp -> 0.0.0.0:8443",
            ]
        );
    }

    #[test]
    fn port_lines_filtered() {
        let ports = [
            pb("::", 32768, 80, "tcp"),
            pb("0.0.0.0", 32768, 80, "tcp"),
            pb("0.0.0.0", 32769, 80, "udp"),
        ];
        assert_eq!(
            port_lines(&ports, Some((80, "tcp"))),
            vec!["0.0.0.0:32768", "[::]:32768"]
        );
        assert_eq!(port_lines(&ports, Some((80, "udp"))), vec!["0.0.0.0:32769"]);
        assert!(port_lines(&ports, Some((81, "tcp"))).is_empty());
        assert!(port_lines(&[pb("", 0, 80, "tcp")], Some((80, "tcp"))).is_empty());
    }

    #[test]
    fn join_host_port_brackets_ipv6() {
        assert_eq!(join_host_port("0.0.0.0", "80"), "0.0.0.0:80");
        assert_eq!(join_host_port("::", "80"), "[::]:80");
        assert_eq!(join_host_port("", "80"), ":80");
    }

    #[test]
    fn serde_round_trip() {
        let p = pb("0.0.0.0", 8080, 80, "tcp");
        let json = serde_json::to_string(&p).unwrap();
        assert_eq!(
            json,
            r#"{"host_ip":"0.0.0.0","host_port":8080,"container_port":80,"proto":"tcp"}"#
        );
        assert_eq!(serde_json::from_str::<PortBinding>(&json).unwrap(), p);
    }
}
