//! `-p` / `--publish` parsing, following Docker's `nat.ParsePortSpec`:
//! `[IP:][HOSTPORT:]CONTAINERPORT[/PROTO]`, where ports may be ranges (`8000-8002`),
//! `IP::CPORT` asks for a random host port on IP, and IPv6 addresses are bracketed.

use crate::error::{EXIT_REFUSED, Error, Result};
use std::net::IpAddr;

/// One container port to publish, after expanding ranges.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Publish {
    /// Host address to bind (`""` means all: 0.0.0.0).
    pub host_ip: String,
    /// Host port; `None` means "allocate one from `host_range` or the ephemeral range".
    pub host_port: Option<u16>,
    /// A host port range to allocate from (`-p 8000-8010:80`).
    pub host_range: Option<(u16, u16)>,
    /// Container port.
    pub container_port: u16,
    /// `tcp` or `udp`.
    pub proto: String,
}

fn err(msg: String) -> Error {
    Error::with_code(msg, EXIT_REFUSED)
}

/// Why an IPv6 host address cannot be published, with the IPv4 spelling to use. The
/// lab's networks are IPv4 only (no `--ipv6`, no ip6tables rules), so Docker's answer
/// here — a binding the iptables-restore of the IPv4 rules cannot take — would only
/// surface as a raw iptables error after the network is half-built.
fn no_ipv6(spec: &str, ip: &IpAddr) -> String {
    let v4 = match ip {
        IpAddr::V6(v6) if v6.is_loopback() => "127.0.0.1".to_string(),
        IpAddr::V6(v6) if v6.is_unspecified() => "0.0.0.0".to_string(),
        _ => "198.51.100.2".to_string(),
    };
    let bracketed = format!("[{ip}]:");
    let suggestion = match spec.find(']') {
        Some(end) if spec.starts_with('[') => format!("{v4}{}", &spec[end + 1..]),
        _ => spec.replacen(&bracketed, &format!("{v4}:"), 1),
    };
    crate::ui::tr(
        format!(
            "-p {spec}: IPv6 is not available in the lab (its networks are IPv4 only): publish on an IPv4 address of the host, e.g. -p {suggestion}"
        ),
        format!(
            "-p {spec}：实验环境不支持 IPv6（其网络只有 IPv4）：请把端口映射到宿主机的 IPv4 地址上，例如 -p {suggestion}"
        ),
    )
}

/// Parse `N` or `N-M` into an inclusive range; `what` names the field for errors.
fn parse_range(s: &str, what: &str) -> Result<(u16, u16)> {
    let bad = || err(format!("invalid {what}: {s}"));
    let (a, b) = match s.split_once('-') {
        Some((a, b)) => (a, b),
        None => (s, s),
    };
    let a: u16 = a.parse().map_err(|_| bad())?;
    let b: u16 = b.parse().map_err(|_| bad())?;
    if b < a || (what == "containerPort" && a == 0) {
        return Err(bad());
    }
    Ok((a, b))
}

/// Split off the IP part, honouring `[v6]` brackets.
fn split_ip(spec: &str) -> (Option<&str>, &str) {
    if let Some(rest) = spec.strip_prefix('[')
        && let Some(end) = rest.find("]:")
    {
        return (Some(&rest[..end]), &rest[end + 2..]);
    }
    let parts: Vec<&str> = spec.split(':').collect();
    if parts.len() == 3 {
        let cut = parts[0].len() + 1;
        return (Some(parts[0]), &spec[cut..]);
    }
    (None, spec)
}

/// Parse one `-p` value into the ports it publishes.
pub fn parse_publish(spec: &str) -> Result<Vec<Publish>> {
    let (raw, proto) = match spec.rsplit_once('/') {
        Some((r, p)) => (r, p.to_ascii_lowercase()),
        None => (spec, "tcp".to_string()),
    };
    if !matches!(proto.as_str(), "tcp" | "udp") {
        return Err(err(format!("invalid proto: {proto}")));
    }
    let (ip, rest) = split_ip(raw);
    if rest.split(':').count() > 2 {
        return Err(err(format!("invalid port specification: \"{spec}\"")));
    }
    let (host, container) = match rest.split_once(':') {
        Some((h, c)) => (h, c),
        None => ("", rest),
    };
    let host_ip = match ip {
        Some("") | None => String::new(),
        Some(ip) => {
            let parsed: IpAddr = ip
                .parse()
                .map_err(|_| err(format!("invalid IP address: {ip}")))?;
            if parsed.is_ipv6() {
                return Err(err(no_ipv6(spec, &parsed)));
            }
            parsed.to_string()
        }
    };
    if container.is_empty() {
        return Err(err(format!("no port specified: {spec}<empty>")));
    }
    let (cs, ce) = parse_range(container, "containerPort")?;
    let hostr = if host.is_empty() {
        None
    } else {
        Some(parse_range(host, "hostPort")?)
    };
    let mut out = Vec::new();
    for (i, cport) in (cs..=ce).enumerate() {
        let (host_port, host_range) = match hostr {
            None => (None, None),
            // A host range with a single container port: allocate within the range.
            Some((hs, he)) if cs == ce && hs != he => (None, Some((hs, he))),
            Some((hs, he)) => {
                if he - hs != ce - cs {
                    return Err(err(format!(
                        "invalid ranges specified for container and host Ports: {container} and {host}"
                    )));
                }
                (Some(hs + i as u16), None)
            }
        };
        out.push(Publish {
            host_ip: host_ip.clone(),
            host_port,
            host_range,
            container_port: cport,
            proto: proto.clone(),
        });
    }
    Ok(out)
}

/// Parse `--expose` values (`80`, `8000-8002`, `53/udp`) into (port, proto).
pub fn parse_expose(spec: &str) -> Result<Vec<(u16, String)>> {
    let (raw, proto) = match spec.rsplit_once('/') {
        Some((r, p)) => (r, p.to_ascii_lowercase()),
        None => (spec, "tcp".to_string()),
    };
    if !matches!(proto.as_str(), "tcp" | "udp") {
        return Err(err(format!("invalid proto: {proto}")));
    }
    let (a, b) = parse_range(raw, "range format for --expose").map_err(|_| {
        err(format!(
            "invalid range format for --expose: {spec}, error: invalid syntax"
        ))
    })?;
    Ok((a..=b).map(|p| (p, proto.clone())).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(spec: &str) -> Publish {
        let v = parse_publish(spec).unwrap();
        assert_eq!(v.len(), 1, "{spec}");
        v[0].clone()
    }

    #[test]
    fn every_docker_form_parses() {
        assert_eq!(
            one("8080:80"),
            Publish {
                host_ip: "".into(),
                host_port: Some(8080),
                host_range: None,
                container_port: 80,
                proto: "tcp".into()
            }
        );
        assert_eq!(one("80").host_port, None);
        let p = one("127.0.0.1:8080:80/udp");
        assert_eq!(
            (p.host_ip.as_str(), p.host_port, p.proto.as_str()),
            ("127.0.0.1", Some(8080), "udp")
        );
        let p = one("198.51.100.2::80");
        assert_eq!((p.host_ip.as_str(), p.host_port), ("198.51.100.2", None));
        let v = parse_publish("8000-8002:80-82").unwrap();
        let pairs: Vec<_> = v
            .iter()
            .map(|p| (p.host_port.unwrap(), p.container_port))
            .collect();
        assert_eq!(pairs, [(8000, 80), (8001, 81), (8002, 82)]);
        let p = one("8000-8010:80");
        assert_eq!((p.host_port, p.host_range), (None, Some((8000, 8010))));
        assert_eq!(parse_publish("80-81").unwrap().len(), 2);
    }

    #[test]
    fn bad_specs_get_dockers_messages() {
        let e = |s: &str| parse_publish(s).unwrap_err().to_string();
        assert_eq!(e("abc"), "invalid containerPort: abc");
        assert_eq!(e("99999:80"), "invalid hostPort: 99999");
        assert_eq!(e("1.2.3:80:80"), "invalid IP address: 1.2.3");
        assert_eq!(e("80/xyz"), "invalid proto: xyz");
        assert_eq!(
            e("8000-8002:80-81"),
            "invalid ranges specified for container and host Ports: 80-81 and 8000-8002"
        );
        assert_eq!(e("8080:"), "no port specified: 8080:<empty>");
        assert_eq!(parse_publish("0").unwrap_err().exit_code(), 125);
    }

    #[test]
    fn host_port_zero_asks_for_a_random_port() {
        // Docker's `-p 0:80`: HostPort "0", a port from the ephemeral range.
        let p = one("0:80");
        assert_eq!((p.host_port, p.host_range), (Some(0), None));
        assert_eq!(one("127.0.0.1:0:80").host_port, Some(0));
    }

    #[test]
    fn ipv6_host_addresses_are_refused_before_anything_is_built() {
        let e = |s: &str| parse_publish(s).unwrap_err();
        crate::ui::set_lang(Some(false));
        let x = e("[::1]:8082:80");
        assert_eq!(x.exit_code(), 125);
        assert_eq!(
            x.to_string(),
            "-p [::1]:8082:80: IPv6 is not available in the lab (its networks are IPv4 only): publish on an IPv4 address of the host, e.g. -p 127.0.0.1:8082:80"
        );
        assert!(
            e("[::]:8080:80")
                .to_string()
                .ends_with("e.g. -p 0.0.0.0:8080:80")
        );
        assert!(
            e("[2001:db8::1]::80/udp")
                .to_string()
                .ends_with("e.g. -p 198.51.100.2::80/udp")
        );
        // Not bracketed: not an address at all, as in Docker.
        assert!(
            e("::1:8080:80")
                .to_string()
                .starts_with("invalid port specification")
        );
    }

    #[test]
    fn expose_accepts_ranges_and_protocols() {
        assert_eq!(parse_expose("80").unwrap(), [(80, "tcp".to_string())]);
        assert_eq!(parse_expose("53/udp").unwrap(), [(53, "udp".to_string())]);
        assert_eq!(parse_expose("8000-8001").unwrap().len(), 2);
        assert!(parse_expose("x").is_err());
    }
}
