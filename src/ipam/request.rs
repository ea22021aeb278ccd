//! Docker's checks on the strings `network create` and `--ip` were given, reproduced
//! step by step so that the first error reported is the one Docker reports: docker/cli
//! v27 `createIPAMConfig`, moby v27 `network.ValidateIPAM`, and Go's address parsing
//! (`net.ParseIP`/`net.ParseCIDR` in the CLI, `netip` in the daemon), whose quirks
//! decide which string an error names.

use super::{IpamRequest, ParsedConfig};
use ipnet::Ipv4Net;
use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

/// One `--subnet` with whatever the CLI attached to it, still as typed.
#[derive(Debug, Clone)]
pub(super) struct RawConfig {
    pub(super) subnet: String,
    pub(super) ip_range: Option<String>,
    pub(super) gateway: Option<String>,
}

impl RawConfig {
    pub(super) fn from_parsed(&(subnet, gateway, ip_range): &ParsedConfig) -> RawConfig {
        RawConfig {
            subnet: subnet.to_string(),
            ip_range: ip_range.map(|r| r.to_string()),
            gateway: gateway.map(|g| g.to_string()),
        }
    }

    pub(super) fn to_parsed(&self) -> Option<ParsedConfig> {
        let v4_net = |s: &str| match Cidr::parse(s)? {
            Cidr {
                ip: Ip::V4(a),
                bits,
            } => Ipv4Net::new(a, bits).ok(),
            _ => None,
        };
        let gateway = match self.gateway.as_deref().map(Ip::parse) {
            None => None,
            Some(Some(Ip::V4(a))) => Some(a),
            Some(_) => return None,
        };
        let ip_range = match self.ip_range.as_deref() {
            None => None,
            Some(r) => Some(v4_net(r)?),
        };
        Some((v4_net(&self.subnet)?, gateway, ip_range))
    }
}

/// docker/cli v27 `createIPAMConfig`, step by step, so that the first error is Docker's.
pub(super) fn consolidate(req: &IpamRequest) -> std::result::Result<Vec<RawConfig>, String> {
    if req.subnets.len() < req.ip_ranges.len() || req.subnets.len() < req.gateways.len() {
        return Err("every ip-range or gateway must have a corresponding subnet".into());
    }
    let mut configs: Vec<RawConfig> = Vec::new();
    for s in &req.subnets {
        for k in &configs {
            // Both directions, parsed in this order: which string is reported as
            // invalid depends on it.
            let ok1 = subnet_matches(s, &k.subnet)?;
            let ok2 = subnet_matches(&k.subnet, s)?;
            if ok1 || ok2 {
                return Err("multiple overlapping subnet configuration is not supported".into());
            }
        }
        configs.push(RawConfig {
            subnet: s.clone(),
            ip_range: None,
            gateway: None,
        });
    }
    for r in &req.ip_ranges {
        let mut matched = false;
        for c in configs.iter_mut() {
            if Cidr::parse(r).is_none() {
                return Err(format!("invalid CIDR address: {r}"));
            }
            if !subnet_matches(&c.subnet, r)? {
                continue;
            }
            if let Some(prev) = &c.ip_range {
                return Err(format!(
                    "cannot configure multiple ranges ({r}, {prev}) on the same subnet ({})",
                    c.subnet
                ));
            }
            c.ip_range = Some(r.clone());
            matched = true;
        }
        if !matched {
            return Err(format!("no matching subnet for range {r}"));
        }
    }
    for g in &req.gateways {
        let mut matched = false;
        for c in configs.iter_mut() {
            if !subnet_matches(&c.subnet, g)? {
                continue;
            }
            if let Some(prev) = &c.gateway {
                return Err(format!(
                    "cannot configure multiple gateways ({g}, {prev}) for the same subnet ({})",
                    c.subnet
                ));
            }
            c.gateway = Some(g.clone());
            matched = true;
        }
        if !matched {
            return Err(format!("no matching subnet for gateway {g}"));
        }
    }
    Ok(configs)
}

/// docker/cli `subnetMatches`: does `data` (an address, or a CIDR whose typed address
/// counts) lie in `subnet`? Texts are Go's `net.ParseCIDR` errors, the subnet's wrapped.
fn subnet_matches(subnet: &str, data: &str) -> std::result::Result<bool, String> {
    let net = Cidr::parse(subnet)
        .ok_or_else(|| format!("invalid subnet: invalid CIDR address: {subnet}"))?;
    let ip = if data.contains('/') {
        Cidr::parse(data)
            .ok_or_else(|| format!("invalid CIDR address: {data}"))?
            .ip
    } else {
        // net.ParseIP yields nil, and a nil IP is in no subnet: no error here.
        match Ip::parse(data) {
            Some(ip) => ip,
            None => return Ok(false),
        }
    };
    Ok(net.contains(ip))
}

/// moby v27 `network.ValidateIPAM`: every problem of every config, joined.
pub(super) fn validate_ipam(configs: &[RawConfig]) -> Option<String> {
    let mut errs = Vec::new();
    for c in configs {
        let Some(subnet) = Cidr::parse(&c.subnet) else {
            errs.push(format!(
                "invalid subnet {}: invalid CIDR block notation",
                c.subnet
            ));
            continue;
        };
        if subnet.ip.is6() {
            // 27.x skips IPv6 configs unless --ipv6 is set; dockernet refused them earlier.
            continue;
        }
        if subnet != subnet.masked() {
            errs.push(format!(
                "invalid subnet {subnet}: it should be {}",
                subnet.masked()
            ));
        }
        if let Some(r) = &c.ip_range {
            errs.extend(validate_ip_range(r, subnet));
        }
        if let Some(g) = &c.gateway {
            let why = match Ip::parse(g) {
                None => Some("invalid address".to_string()),
                Some(Ip::V6(_)) => Some("parent subnet is an IPv4 block".to_string()),
                Some(ip) if !subnet.contains(ip) => Some(format!(
                    "parent subnet {subnet} doesn't contain this address"
                )),
                Some(_) => None,
            };
            errs.extend(why.map(|why| format!("invalid gateway {g}: {why}")));
        }
    }
    (!errs.is_empty()).then(|| format!("invalid network config:\n{}", join(&errs)))
}

fn validate_ip_range(r: &str, subnet: Cidr) -> Vec<String> {
    let prefix = match Cidr::parse(r) {
        None => return vec![format!("invalid ip-range {r}: invalid CIDR block notation")],
        Some(p) if p.ip.is6() => {
            return vec![format!(
                "invalid ip-range {r}: parent subnet is an IPv4 block"
            )];
        }
        Some(p) => p,
    };
    let mut errs = Vec::new();
    if prefix.bits < subnet.bits {
        errs.push(format!(
            "invalid ip-range {r}: CIDR block is bigger than its parent subnet {subnet}"
        ));
    }
    if prefix != prefix.masked() {
        errs.push(format!(
            "invalid ip-range {prefix}: it should be {}",
            prefix.masked()
        ));
    }
    if !subnet.contains(prefix.ip) && !prefix.contains(subnet.ip) {
        errs.push(format!(
            "invalid ip-range {r}: parent subnet {subnet} doesn't contain ip-range"
        ));
    }
    errs
}

/// moby `internal/multierror.Join` (the 25+ revision): one error stands alone, several
/// become a bullet list with continuation lines indented.
pub(super) fn join(errs: &[String]) -> String {
    if let [one] = errs {
        return one.trim().to_string();
    }
    let items: Vec<String> = errs.iter().map(|e| e.replace('\n', "\n\t")).collect();
    format!("* {}", items.join("\n* "))
}

/// An address as Go parses one. IPv4-mapped IPv6 stays IPv6: the daemon's `netip` keeps
/// the family, while the CLI's `To4()` unmaps it (see [`Ip::to4`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Ip {
    V4(Ipv4Addr),
    V6(Ipv6Addr),
}

impl Ip {
    pub(super) fn parse(s: &str) -> Option<Ip> {
        match s.parse::<Ipv4Addr>() {
            Ok(a) => Some(Ip::V4(a)),
            Err(_) => s.parse::<Ipv6Addr>().ok().map(Ip::V6),
        }
    }

    /// Go's `net.IP.To4`.
    pub(super) fn to4(self) -> Option<Ipv4Addr> {
        match self {
            Ip::V4(a) => Some(a),
            Ip::V6(a) => a.to_ipv4_mapped(),
        }
    }

    pub(super) fn is6(self) -> bool {
        matches!(self, Ip::V6(_))
    }
}

impl fmt::Display for Ip {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Ip::V4(a) => a.fmt(f),
            Ip::V6(a) => a.fmt(f),
        }
    }
}

/// A prefix as typed (host bits kept), for either family, parsed like Go's
/// `net.ParseCIDR`/`netip.ParsePrefix`, which agree on everything dockernet meets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Cidr {
    pub(super) ip: Ip,
    pub(super) bits: u8,
}

impl Cidr {
    pub(super) fn parse(s: &str) -> Option<Cidr> {
        let (addr, bits) = s.split_once('/')?;
        let ip = Ip::parse(addr)?;
        if bits.is_empty() || bits.len() > 3 || !bits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let bits: u8 = bits.parse().ok()?;
        let max = if ip.is6() { 128 } else { 32 };
        (bits <= max).then_some(Cidr { ip, bits })
    }

    fn masked(self) -> Cidr {
        let ip = match self.ip {
            Ip::V4(a) => Ip::V4(Ipv4Addr::from(u32::from(a) & mask4(self.bits))),
            Ip::V6(a) => Ip::V6(Ipv6Addr::from(u128::from(a) & mask6(self.bits))),
        };
        Cidr { ip, ..self }
    }

    /// Go's `net.IPNet.Contains`: an IPv4 network also matches IPv4-mapped addresses.
    pub(super) fn contains(self, ip: Ip) -> bool {
        match (self.ip, ip) {
            (Ip::V4(net), other) => other
                .to4()
                .is_some_and(|a| (u32::from(a) ^ u32::from(net)) & mask4(self.bits) == 0),
            (Ip::V6(net), Ip::V6(a)) => {
                a.to_ipv4_mapped().is_none()
                    && (u128::from(a) ^ u128::from(net)) & mask6(self.bits) == 0
            }
            (Ip::V6(_), Ip::V4(_)) => false,
        }
    }
}

impl From<Ipv4Net> for Cidr {
    fn from(n: Ipv4Net) -> Cidr {
        Cidr {
            ip: Ip::V4(n.addr()),
            bits: n.prefix_len(),
        }
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.ip, self.bits)
    }
}

fn mask4(bits: u8) -> u32 {
    u32::MAX.checked_shl(32 - u32::from(bits)).unwrap_or(0)
}

fn mask6(bits: u8) -> u128 {
    u128::MAX.checked_shl(128 - u32::from(bits)).unwrap_or(0)
}
