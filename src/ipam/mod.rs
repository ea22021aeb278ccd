//! Docker's default IPAM for IPv4, as Engine 27.x behaves: which subnet a new network
//! gets, which address its gateway takes, and which address each container receives.
//!
//! Docker checks `docker network create` in three places, and the learner can tell which
//! one refused by the `Error response from daemon: ` prefix:
//!
//! 1. the CLI (`createIPAMConfig` in docker/cli v27 `cli/command/network/create.go`, the
//!    former `consolidateIpam`) pairs gateways and ranges with subnets: [`parse_request`];
//! 2. the daemon's static check (`ValidateIPAM`, moby v27 `api/types/network/ipam.go`)
//!    rejects host bits and out-of-subnet ranges or gateways;
//! 3. libnetwork then allocates: pool overlap (`ipams/defaultipam`), gateway reservation
//!    (`libnetwork/network.go`) and the bridge driver's one-subnet rule: [`configure`].
//!
//! Texts were checked against moby/moby and docker/cli sources of the 27.x era; the few
//! that could not be pinned to a 27.x revision say so where they are defined.

use crate::error::{Error, Result};
use ipnet::Ipv4Net;
use request::{Cidr, Ip, RawConfig, consolidate, join, validate_ipam};
use std::net::Ipv4Addr;

mod request;
#[cfg(test)]
mod tests;

/// What the docker CLI prints before every error that came back from the daemon.
pub const DAEMON_PREFIX: &str = "Error response from daemon: ";

/// Daemon text for `--ip` on a predefined network (`bridge`): moby v27
/// `runconfig/errors.go` `ErrUnsupportedNetworkAndIP`. Callers check this themselves,
/// because only they know whether the network is predefined.
pub const ERR_IP_ON_PREDEFINED_NETWORK: &str =
    "user specified IP address is supported on user defined networks only";

/// Daemon text for `--ip` on a user network whose subnet Docker picked from the default
/// pools (moby v27 `api/types/network/endpoint.go`). Callers check this themselves,
/// because a [`Pool`] does not record whether its subnet was user-configured.
pub const ERR_IP_NEEDS_USER_SUBNET: &str = "user specified IP address is supported only when connecting to networks with user configured subnets";

/// Daemon text when dynamic allocation finds no free address (moby
/// `libnetwork/endpoint.go` `assignAddressVersion`). Docker appends `: <network name>
/// (<full network id>)`, which this module does not know: callers add that suffix.
pub const ERR_NO_IPV4_ADDRESSES: &str =
    "no available IPv4 addresses on this network's address pools";

// ipamapi/contract.go ErrPoolOverlap, wrapped by defaultipam RequestPool ("invalid pool
// request: %v") since 27.0; 26 and older printed the bare ErrPoolOverlap text.
const POOL_OVERLAP: &str =
    "invalid pool request: Pool overlaps with other one on this address space";
// ipamapi/contract.go ErrNoMoreSubnets, new with the 27.0 allocator.
const POOLS_EXHAUSTED: &str = "all predefined address pools have been fully subnetted";
// ipamapi/contract.go ErrIPAlreadyAllocated and ErrNoAvailableIPs.
const ADDRESS_IN_USE: &str = "Address already in use";
const NO_ADDRESSES_IN_POOL: &str = "no available addresses on this pool";
// bridge driver processIPAM. The apostrophe spelling is the one in the 25+ revisions of
// bridge_linux.go found; a 27.x tag could not be pinned, older ones say "doesnt".
const MULTIPLE_SUBNETS: &str = "bridge driver doesn't support multiple subnets";
// dockernet's own refusal, not a Docker text.
const IPV6_REFUSED: &str = "IPv6 networks are not supported yet (dockernet is IPv4 only)";

/// One subnet of a network: what `network inspect` shows under IPAM.Config.
///
/// Serialised with the subnet and range as CIDR strings, the form `network inspect` uses.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Pool {
    /// The network's subnet, host bits cleared.
    #[serde(with = "net_str")]
    pub subnet: Ipv4Net,
    /// The bridge's address, reserved in the subnet.
    pub gateway: Ipv4Addr,
    /// `--ip-range`: where dynamic allocation draws from (static `--ip` may lie outside).
    #[serde(default, with = "opt_net_str")]
    pub ip_range: Option<Ipv4Net>,
}

/// What `network create` was given: one entry per value, as pflag's string slices yield
/// them once comma-separated lists are split.
#[derive(Debug, Clone, Default)]
pub struct IpamRequest {
    /// `--subnet` values, in command-line order.
    pub subnets: Vec<String>,
    /// `--gateway` values, in command-line order.
    pub gateways: Vec<String>,
    /// `--ip-range` values, in command-line order.
    pub ip_ranges: Vec<String>,
}

/// One parsed subnet request: (subnet as typed, `--gateway`, `--ip-range`). The subnet
/// keeps any host bits so that [`configure`] can refuse them with the daemon's text.
pub type ParsedConfig = (Ipv4Net, Option<Ipv4Addr>, Option<Ipv4Net>);

/// CLI-side validation exactly as docker/cli 27's `createIPAMConfig` (formerly
/// `consolidateIpam`): every ip-range or gateway needs a subnet, subnets must not
/// overlap, each range and gateway must fall in exactly one subnet.
///
/// Errors are CLI-side (print them without [`DAEMON_PREFIX`]), with two exceptions:
/// IPv6 subnets get dockernet's own one-line refusal, and the few values the real CLI
/// passes through unparsed (`--subnet foobar` alone, `--gateway 10.0.0.1/24`) are refused
/// the way the daemon's `ValidateIPAM` would, with [`DAEMON_PREFIX`] already included.
pub fn parse_request(req: &IpamRequest) -> Result<Vec<ParsedConfig>> {
    let configs = consolidate(req).map_err(Error::msg)?;
    if configs
        .iter()
        .any(|c| Cidr::parse(&c.subnet).is_some_and(|n| n.ip.is6()))
    {
        return Err(Error::msg(IPV6_REFUSED));
    }
    match configs.iter().map(RawConfig::to_parsed).collect() {
        Some(parsed) => Ok(parsed),
        None => {
            // Whatever could not be represented is exactly what ValidateIPAM rejects, so
            // this always has a message; run it over every config so that the bullet
            // list matches Docker's when several things are wrong at once.
            let msg = validate_ipam(&configs).unwrap_or_else(|| "invalid network config".into());
            Err(Error::msg(format!("{DAEMON_PREFIX}{msg}")))
        }
    }
}

/// Daemon side: turn a parsed request into the network's pool, given the subnets already
/// taken (every lab network including docker0, plus any host routes to avoid).
///
/// Without a subnet, the first of [`default_pools`] that overlaps nothing is used and
/// its first usable address becomes the gateway. With subnets, Docker's checks run in
/// its order: `ValidateIPAM` (host bits, range and gateway inside the subnet), pool
/// overlap, gateway reservation (with an ip-range the default gateway is the range's
/// lowest free address, as libnetwork asks for it inside the sub-pool), then the bridge
/// driver's single-subnet rule. All errors are daemon-side (prefix [`DAEMON_PREFIX`]).
///
/// Docker checks a duplicate network name after `ValidateIPAM` but before the pool
/// allocation; callers that check names first differ only when both are wrong.
pub fn configure(parsed: &[ParsedConfig], existing: &[Ipv4Net]) -> Result<Pool> {
    if parsed.is_empty() {
        let subnet = default_pools()
            .into_iter()
            .find(|p| !existing.iter().any(|e| overlaps(p, e)))
            .ok_or_else(|| Error::msg(POOLS_EXHAUSTED))?;
        let gateway = lowest_free_in(subnet, None, &[]).ok_or_else(|| {
            Error::msg(format!(
                "failed to allocate gateway (): {NO_ADDRESSES_IN_POOL}"
            ))
        })?;
        return Ok(Pool {
            subnet,
            gateway,
            ip_range: None,
        });
    }
    let raw: Vec<RawConfig> = parsed.iter().map(RawConfig::from_parsed).collect();
    if let Some(msg) = validate_ipam(&raw) {
        return Err(Error::msg(msg));
    }
    let mut taken = existing.to_vec();
    let mut pools = Vec::new();
    for &(subnet, gateway, ip_range) in parsed {
        let subnet = subnet.trunc();
        // Docker 27 skips this check when an ip-range is given (moby/moby#46756) and the
        // bridge driver then refuses with "cannot create network <id> (<bridge>):
        // conflicts with network <id> (<bridge>): networks have overlapping IPv4". Those
        // ids are not known here, so the overlap is refused with the IPAM's text.
        if taken.iter().any(|t| overlaps(t, &subnet)) {
            return Err(Error::msg(POOL_OVERLAP));
        }
        taken.push(subnet);
        let gateway = match gateway {
            Some(gw) if reserved(subnet).contains(&gw) => {
                return Err(Error::msg(format!(
                    "failed to allocate gateway ({gw}): {ADDRESS_IN_USE}"
                )));
            }
            Some(gw) => gw,
            None => lowest_free_in(subnet, ip_range, &[]).ok_or_else(|| {
                Error::msg(format!(
                    "failed to allocate gateway (): {NO_ADDRESSES_IN_POOL}"
                ))
            })?,
        };
        pools.push(Pool {
            subnet,
            gateway,
            ip_range,
        });
    }
    if pools.len() > 1 {
        return Err(Error::msg(MULTIPLE_SUBNETS));
    }
    Ok(pools.remove(0))
}

/// The default pools in order (for tests and for the lesson text): 172.17.0.0/16 up to
/// 172.31.0.0/16, then 192.168.0.0/16 cut into sixteen /20s (moby `ipamutils`), 31 in all.
pub fn default_pools() -> Vec<Ipv4Net> {
    let sixteens = (17..=31).map(|b| Ipv4Net::new(Ipv4Addr::new(172, b, 0, 0), 16));
    let twenties = (0..16).map(|i| Ipv4Net::new(Ipv4Addr::new(192, 168, i * 16, 0), 20));
    sixteens
        .chain(twenties)
        .map(|n| n.expect("prefix lengths are valid"))
        .collect()
}

/// Dynamic allocation: the lowest free address inside the ip-range (or the subnet when
/// there is none), never the subnet's network or broadcast address, nor the gateway.
///
/// Only the subnet's own network and broadcast addresses are kept back, so inside a
/// range that starts mid-subnet Docker really hands out its `.0` (docker/for-linux#170).
/// Exhaustion is daemon-side: [`ERR_NO_IPV4_ADDRESSES`], to which the caller appends
/// `: <network name> (<network id>)`.
pub fn allocate(pool: &Pool, used: &[Ipv4Addr]) -> Result<Ipv4Addr> {
    let mut taken = used.to_vec();
    taken.push(pool.gateway);
    lowest_free_in(pool.subnet, pool.ip_range, &taken)
        .ok_or_else(|| Error::msg(ERR_NO_IPV4_ADDRESSES))
}

/// `--ip` / `connect --ip` on a user network with a user-configured subnet: the address
/// must parse as IPv4 and lie in the subnet (since 25.0.1 it may lie outside the
/// ip-range, moby/moby#47132), and must not be taken.
///
/// All errors are daemon-side. Validation failures read `invalid endpoint settings:\n…`
/// (moby v27 `validateEndpointSettings`); for `run`/`create` Docker prefixes them with
/// `invalid config for network <name>: `, which the caller adds. An address already held
/// (a container, the gateway, the network or broadcast address) is `Address already in
/// use`, which Docker reports when the container starts. Callers check
/// [`ERR_IP_ON_PREDEFINED_NETWORK`] and [`ERR_IP_NEEDS_USER_SUBNET`] first.
pub fn request_static(pool: &Pool, ip: &str, used: &[Ipv4Addr]) -> Result<Ipv4Addr> {
    let parsed = Ip::parse(ip);
    // The CLI puts --ip into IPv4Address without parsing it; the daemon runs both
    // checks and reports every failure, so "foo" earns two bullets.
    let v4 = parsed.and_then(Ip::to4).filter(|a| !a.is_unspecified());
    let mut errs = Vec::new();
    if v4.is_none() {
        errs.push(format!("invalid IPv4 address: {ip}"));
    }
    if !parsed.is_some_and(|p| Cidr::from(pool.subnet).contains(p)) {
        errs.push(format!(
            "no configured subnet or ip-range contain the IP address {ip}"
        ));
    }
    let addr = match v4 {
        Some(addr) if errs.is_empty() => addr,
        _ => {
            return Err(Error::msg(format!(
                "invalid endpoint settings:\n{}",
                join(&errs)
            )));
        }
    };
    if addr == pool.gateway || reserved(pool.subnet).contains(&addr) || used.contains(&addr) {
        return Err(Error::msg(ADDRESS_IN_USE));
    }
    Ok(addr)
}

/// Whether two subnets share any address (host bits ignored).
pub fn overlaps(a: &Ipv4Net, b: &Ipv4Net) -> bool {
    let (a, b) = (a.trunc(), b.trunc());
    a.contains(&b.network()) || b.contains(&a.network())
}

#[cfg(test)]
/// Lowest free host address in `subnet/prefix_len`, given the addresses in use.
pub fn lowest_free(
    subnet: Ipv4Addr,
    prefix_len: u8,
    gateway: Ipv4Addr,
    in_use: &[Ipv4Addr],
) -> Result<Ipv4Addr> {
    let base = u32::from(subnet);
    let size: u64 = 1u64 << (32 - prefix_len as u32);
    let mut used: Vec<u32> = in_use.iter().map(|a| u32::from(*a)).collect();
    used.push(u32::from(gateway));
    used.sort_unstable();
    for offset in 1..size.saturating_sub(1) {
        let candidate = base + offset as u32;
        if used.binary_search(&candidate).is_err() {
            return Ok(Ipv4Addr::from(candidate));
        }
    }
    Err(Error::msg(format!(
        "no available IPv4 addresses on this network's address pools: bridge ({subnet}/{prefix_len})"
    )))
}

/// The addresses the IPAM reserves when it creates a pool. RFC 3021: a /31 or /32 has
/// no network or broadcast address, so nothing is kept back there.
fn reserved(subnet: Ipv4Net) -> Vec<Ipv4Addr> {
    if subnet.prefix_len() < 31 {
        vec![subnet.network(), subnet.broadcast()]
    } else {
        Vec::new()
    }
}

/// The lowest address of the range (or subnet) that is neither reserved nor taken:
/// Docker's bitmap `SetAny`/`SetAnyInRange` without the serial option local networks use.
fn lowest_free_in(subnet: Ipv4Net, range: Option<Ipv4Net>, taken: &[Ipv4Addr]) -> Option<Ipv4Addr> {
    let scope = range.unwrap_or(subnet).trunc();
    let mut taken: Vec<u32> = taken
        .iter()
        .chain(&reserved(subnet))
        .map(|a| u32::from(*a))
        .collect();
    taken.sort_unstable();
    (u32::from(scope.network())..=u32::from(scope.broadcast()))
        .find(|a| taken.binary_search(a).is_err())
        .map(Ipv4Addr::from)
}

/// `Ipv4Net` as its CIDR string; ipnet's own serde support is a feature not enabled here.
mod net_str {
    use ipnet::Ipv4Net;
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    pub fn serialize<S: Serializer>(net: &Ipv4Net, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(net)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Ipv4Net, D::Error> {
        String::deserialize(d)?.parse().map_err(D::Error::custom)
    }
}

/// `Option<Ipv4Net>` as an optional CIDR string.
mod opt_net_str {
    use ipnet::Ipv4Net;
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    pub fn serialize<S: Serializer>(net: &Option<Ipv4Net>, s: S) -> Result<S::Ok, S::Error> {
        match net {
            Some(net) => s.serialize_some(&net.to_string()),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Ipv4Net>, D::Error> {
        let text = Option::<String>::deserialize(d)?;
        text.map(|t| t.parse().map_err(D::Error::custom))
            .transpose()
    }
}
