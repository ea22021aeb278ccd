//! Address allocation: Docker's default IPAM hands out the lowest free address of the
//! subnet, skipping the network address, the gateway and the broadcast address.

use crate::error::{Error, Result};
use std::net::Ipv4Addr;

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

#[cfg(test)]
mod tests {
    use super::*;

    const NET: Ipv4Addr = Ipv4Addr::new(172, 17, 0, 0);
    const GW: Ipv4Addr = Ipv4Addr::new(172, 17, 0, 1);

    #[test]
    fn first_container_gets_dot_two() {
        assert_eq!(
            lowest_free(NET, 16, GW, &[]).unwrap(),
            Ipv4Addr::new(172, 17, 0, 2)
        );
    }

    #[test]
    fn holes_are_reused_lowest_first() {
        let used = [Ipv4Addr::new(172, 17, 0, 2), Ipv4Addr::new(172, 17, 0, 4)];
        assert_eq!(
            lowest_free(NET, 16, GW, &used).unwrap(),
            Ipv4Addr::new(172, 17, 0, 3)
        );
    }

    #[test]
    fn crosses_octet_boundaries_and_reports_exhaustion() {
        let used: Vec<Ipv4Addr> = (2..=254).map(|i| Ipv4Addr::new(10, 0, 0, i)).collect();
        let net = Ipv4Addr::new(10, 0, 0, 0);
        let gw = Ipv4Addr::new(10, 0, 0, 1);
        assert!(lowest_free(net, 24, gw, &used).is_err());
        assert_eq!(
            lowest_free(
                Ipv4Addr::new(172, 17, 0, 0),
                16,
                GW,
                &(2..=255)
                    .map(|i| Ipv4Addr::new(172, 17, 0, i))
                    .collect::<Vec<_>>()
            )
            .unwrap(),
            Ipv4Addr::new(172, 17, 1, 0)
        );
    }
}
