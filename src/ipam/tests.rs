use super::*;

fn net(s: &str) -> Ipv4Net {
    s.parse().unwrap()
}

fn ip(s: &str) -> Ipv4Addr {
    s.parse().unwrap()
}

fn req(subnets: &[&str], gateways: &[&str], ip_ranges: &[&str]) -> IpamRequest {
    let own = |v: &[&str]| v.iter().map(|s| s.to_string()).collect();
    IpamRequest {
        subnets: own(subnets),
        gateways: own(gateways),
        ip_ranges: own(ip_ranges),
    }
}

fn cli_err(r: IpamRequest) -> String {
    parse_request(&r).unwrap_err().message().to_string()
}

fn create(
    subnets: &[&str],
    gateways: &[&str],
    ip_ranges: &[&str],
    existing: &[Ipv4Net],
) -> Result<Pool> {
    configure(
        &parse_request(&req(subnets, gateways, ip_ranges))?,
        existing,
    )
}

fn create_err(
    subnets: &[&str],
    gateways: &[&str],
    ip_ranges: &[&str],
    existing: &[Ipv4Net],
) -> String {
    create(subnets, gateways, ip_ranges, existing)
        .unwrap_err()
        .message()
        .to_string()
}

fn pool(subnet: &str, gateway: &str, ip_range: Option<&str>) -> Pool {
    Pool {
        subnet: net(subnet),
        gateway: ip(gateway),
        ip_range: ip_range.map(net),
    }
}

// --- default pools and automatic subnets -------------------------------------------

#[test]
fn default_pools_are_fifteen_sixteens_then_sixteen_twenties() {
    let pools = default_pools();
    assert_eq!(pools.len(), 31);
    assert_eq!(pools[0], net("172.17.0.0/16"));
    assert_eq!(pools[1], net("172.18.0.0/16"));
    assert_eq!(pools[14], net("172.31.0.0/16"));
    assert_eq!(pools[15], net("192.168.0.0/20"));
    assert_eq!(pools[16], net("192.168.16.0/20"));
    assert_eq!(pools[30], net("192.168.240.0/20"));
}

#[test]
fn first_auto_network_is_docker0s_subnet_with_gateway_dot_one() {
    assert_eq!(
        configure(&[], &[]).unwrap(),
        pool("172.17.0.0/16", "172.17.0.1", None)
    );
}

#[test]
fn auto_skips_docker0_and_a_user_192_168() {
    let existing = [net("172.17.0.0/16"), net("192.168.0.0/16")];
    assert_eq!(
        configure(&[], &existing).unwrap(),
        pool("172.18.0.0/16", "172.18.0.1", None)
    );
}

#[test]
fn auto_reuses_a_hole_lowest_first() {
    let existing = [net("172.17.0.0/16"), net("172.19.0.0/16")];
    assert_eq!(
        configure(&[], &existing).unwrap().subnet,
        net("172.18.0.0/16")
    );
}

#[test]
fn auto_skips_a_slash16_partly_used_by_a_smaller_user_subnet() {
    let existing = [
        net("172.17.0.0/16"),
        net("172.18.0.0/16"),
        net("172.19.0.0/16"),
        net("172.20.5.0/24"),
    ];
    assert_eq!(
        configure(&[], &existing).unwrap().subnet,
        net("172.21.0.0/16")
    );
}

#[test]
fn after_fourteen_auto_networks_come_the_192_168_slash20s() {
    let mut existing = vec![net("172.17.0.0/16")];
    for _ in 0..14 {
        existing.push(configure(&[], &existing).unwrap().subnet);
    }
    assert_eq!(existing.last(), Some(&net("172.31.0.0/16")));
    assert_eq!(
        configure(&[], &existing).unwrap(),
        pool("192.168.0.0/20", "192.168.0.1", None)
    );
    existing.push(net("192.168.0.0/20"));
    assert_eq!(
        configure(&[], &existing).unwrap().subnet,
        net("192.168.16.0/20")
    );
}

#[test]
fn a_user_192_168_slash16_blocks_every_slash20_and_exhausts_the_pools() {
    let mut existing = vec![net("172.17.0.0/16"), net("192.168.0.0/16")];
    for _ in 0..14 {
        existing.push(configure(&[], &existing).unwrap().subnet);
    }
    let err = configure(&[], &existing).unwrap_err();
    assert_eq!(
        err.message(),
        "all predefined address pools have been fully subnetted"
    );
}

#[test]
fn thirty_one_auto_networks_then_exhaustion() {
    let mut existing = Vec::new();
    for _ in 0..31 {
        existing.push(configure(&[], &existing).unwrap().subnet);
    }
    assert_eq!(existing, default_pools());
    assert!(configure(&[], &existing).is_err());
}

// --- CLI-side validation (docker/cli create_test.go cases) -------------------------

#[test]
fn gateway_or_range_without_subnet() {
    let want = "every ip-range or gateway must have a corresponding subnet";
    assert_eq!(cli_err(req(&[], &["255.0.0.0/24"], &[])), want);
    assert_eq!(cli_err(req(&[], &[], &["255.0.0.0/24"])), want);
    assert_eq!(
        cli_err(req(&["10.0.0.0/24"], &["10.0.0.1", "10.0.0.2"], &[])),
        want
    );
}

#[test]
fn overlapping_subnets_in_one_request() {
    let want = "multiple overlapping subnet configuration is not supported";
    assert_eq!(
        cli_err(req(&["10.1.2.0/23", "10.1.3.248/30"], &[], &[])),
        want
    );
    assert_eq!(
        cli_err(req(&["10.0.0.0/24", "10.0.0.0/24"], &[], &[])),
        want
    );
}

#[test]
fn invalid_cidr_texts_follow_the_cli_parse_order() {
    let r = req(
        &["10.1.2.0.30.50"],
        &["255.0.255.0/24"],
        &["255.255.0.0/24"],
    );
    assert_eq!(
        cli_err(r),
        "invalid subnet: invalid CIDR address: 10.1.2.0.30.50"
    );
    let r = req(
        &["255.0.0.0/24"],
        &["255.0.255.0/24"],
        &["255.255.0.0.30/24"],
    );
    assert_eq!(cli_err(r), "invalid CIDR address: 255.255.0.0.30/24");
    // The second subnet is compared with the first: the bad one is named as a subnet.
    assert_eq!(
        cli_err(req(&["10.0.0.0/24", "bad"], &[], &[])),
        "invalid subnet: invalid CIDR address: bad"
    );
    // A bad earlier subnet with a slash is parsed as data first: plain CIDR text.
    assert_eq!(
        cli_err(req(&["10.0.0.0/33", "10.1.0.0/24"], &[], &[])),
        "invalid CIDR address: 10.0.0.0/33"
    );
}

#[test]
fn two_ranges_or_two_gateways_on_one_subnet() {
    let r = req(
        &["192.168.2.0/24", "192.168.1.250/24"],
        &["192.168.1.1", "192.168.1.4"],
        &["192.168.1.0/24", "192.168.1.200/24"],
    );
    assert_eq!(
        cli_err(r),
        "cannot configure multiple ranges (192.168.1.200/24, 192.168.1.0/24) on the same subnet (192.168.1.250/24)"
    );
    let r = req(
        &["192.168.2.0/24", "192.168.1.250/24"],
        &["192.168.1.1", "192.168.1.4"],
        &["192.168.1.0/24"],
    );
    assert_eq!(
        cli_err(r),
        "cannot configure multiple gateways (192.168.1.4, 192.168.1.1) for the same subnet (192.168.1.250/24)"
    );
}

#[test]
fn range_or_gateway_outside_every_subnet() {
    let r = req(
        &["255.255.255.0/24", "255.255.0.255/24"],
        &["255.0.255.0/24"],
        &["255.255.200.0/24", "255.255.120.0/24"],
    );
    assert_eq!(cli_err(r), "no matching subnet for range 255.255.200.0/24");
    let r = req(
        &["192.168.2.0/24", "192.168.1.250/24"],
        &["192.168.4.1", "192.168.5.4"],
        &["192.168.1.0/24"],
    );
    assert_eq!(cli_err(r), "no matching subnet for gateway 192.168.4.1");
    assert_eq!(
        cli_err(req(&["10.0.0.0/24"], &["nonsense"], &[])),
        "no matching subnet for gateway nonsense"
    );
    assert_eq!(
        cli_err(req(&["10.0.0.0/24"], &["2001:db8::1"], &[])),
        "no matching subnet for gateway 2001:db8::1"
    );
}

#[test]
fn ipv6_subnets_are_refused_in_one_line() {
    let msg = cli_err(req(&["2001:db8::/64"], &[], &[]));
    assert!(
        msg.starts_with("IPv6 networks are not supported yet"),
        "{msg}"
    );
    assert!(!msg.contains('\n'));
}

#[test]
fn values_the_cli_lets_through_get_the_daemons_validate_text() {
    assert_eq!(
        cli_err(req(&["foobar"], &[], &[])),
        "Error response from daemon: invalid network config:\ninvalid subnet foobar: invalid CIDR block notation"
    );
    assert_eq!(
        cli_err(req(&["10.0.0.0/24"], &["10.0.0.1/24"], &[])),
        "Error response from daemon: invalid network config:\ninvalid gateway 10.0.0.1/24: invalid address"
    );
    // Every problem is listed, as ValidateIPAM collects them all.
    assert_eq!(
        cli_err(req(&["10.0.0.5/24"], &["::ffff:10.0.0.1"], &[])),
        "Error response from daemon: invalid network config:\n\
         * invalid subnet 10.0.0.5/24: it should be 10.0.0.0/24\n\
         * invalid gateway ::ffff:10.0.0.1: parent subnet is an IPv4 block"
    );
}

#[test]
fn a_clean_request_parses_in_subnet_order() {
    let parsed = parse_request(&req(
        &["10.1.0.0/16", "10.2.0.0/16"],
        &["10.2.0.9"],
        &["10.1.4.0/24"],
    ))
    .unwrap();
    assert_eq!(
        parsed,
        vec![
            (net("10.1.0.0/16"), None, Some(net("10.1.4.0/24"))),
            (net("10.2.0.0/16"), Some(ip("10.2.0.9")), None)
        ]
    );
}

// --- daemon side: ValidateIPAM, overlap, gateway ------------------------------------

#[test]
fn host_bits_pass_the_cli_and_are_refused_by_the_daemon() {
    assert!(parse_request(&req(&["10.0.0.5/24"], &[], &[])).is_ok());
    assert_eq!(
        create_err(&["10.0.0.5/24"], &[], &[], &[]),
        "invalid network config:\ninvalid subnet 10.0.0.5/24: it should be 10.0.0.0/24"
    );
    assert_eq!(
        create_err(&["10.0.0.0/16"], &[], &["10.0.1.5/24"], &[]),
        "invalid network config:\ninvalid ip-range 10.0.1.5/24: it should be 10.0.1.0/24"
    );
}

#[test]
fn daemon_lists_every_problem_of_an_api_request() {
    let parsed = [(
        net("10.0.0.5/24"),
        Some(ip("10.9.9.9")),
        Some(net("10.0.0.0/16")),
    )];
    assert_eq!(
        configure(&parsed, &[]).unwrap_err().message(),
        "invalid network config:\n\
         * invalid subnet 10.0.0.5/24: it should be 10.0.0.0/24\n\
         * invalid ip-range 10.0.0.0/16: CIDR block is bigger than its parent subnet 10.0.0.5/24\n\
         * invalid gateway 10.9.9.9: parent subnet 10.0.0.5/24 doesn't contain this address"
    );
    let parsed = [(net("10.0.0.0/24"), None, Some(net("10.1.0.0/24")))];
    assert_eq!(
        configure(&parsed, &[]).unwrap_err().message(),
        "invalid network config:\ninvalid ip-range 10.1.0.0/24: parent subnet 10.0.0.0/24 doesn't contain ip-range"
    );
}

#[test]
fn overlap_with_an_existing_network_is_refused() {
    let want = "invalid pool request: Pool overlaps with other one on this address space";
    let docker0 = [net("172.17.0.0/16")];
    assert_eq!(create_err(&["172.17.0.0/16"], &[], &[], &docker0), want);
    assert_eq!(create_err(&["172.17.5.0/24"], &[], &[], &docker0), want);
    assert_eq!(create_err(&["172.16.0.0/12"], &[], &[], &docker0), want);
    assert_eq!(
        create(&["172.16.0.0/16"], &[], &[], &docker0).unwrap(),
        pool("172.16.0.0/16", "172.16.0.1", None)
    );
}

#[test]
fn gateway_is_first_usable_unless_given() {
    assert_eq!(
        create(&["10.5.0.0/24"], &[], &[], &[]).unwrap(),
        pool("10.5.0.0/24", "10.5.0.1", None)
    );
    assert_eq!(
        create(&["10.5.0.0/24"], &["10.5.0.254"], &[], &[])
            .unwrap()
            .gateway,
        ip("10.5.0.254")
    );
}

#[test]
fn gateway_on_the_network_or_broadcast_address_is_in_use() {
    assert_eq!(
        create_err(&["10.5.0.0/24"], &["10.5.0.0"], &[], &[]),
        "failed to allocate gateway (10.5.0.0): Address already in use"
    );
    assert_eq!(
        create_err(&["10.5.0.0/24"], &["10.5.0.255"], &[], &[]),
        "failed to allocate gateway (10.5.0.255): Address already in use"
    );
}

#[test]
fn default_gateway_with_an_ip_range_is_the_ranges_first_address() {
    let p = create(&["10.0.0.0/16"], &[], &["10.0.1.0/24"], &[]).unwrap();
    assert_eq!(p, pool("10.0.0.0/16", "10.0.1.0", Some("10.0.1.0/24")));
    // A range at the start of the subnet cannot give out the network address.
    assert_eq!(
        create(&["10.0.0.0/24"], &[], &["10.0.0.0/28"], &[])
            .unwrap()
            .gateway,
        ip("10.0.0.1")
    );
}

#[test]
fn bridge_refuses_two_subnets_after_the_pools_are_checked() {
    assert_eq!(
        create_err(&["10.1.0.0/16", "10.2.0.0/16"], &[], &[], &[]),
        "bridge driver doesn't support multiple subnets"
    );
    assert_eq!(
        create_err(
            &["10.1.0.0/16", "172.17.0.0/24"],
            &[],
            &[],
            &[net("172.17.0.0/16")]
        ),
        "invalid pool request: Pool overlaps with other one on this address space"
    );
}

// --- dynamic allocation ---------------------------------------------------------------

#[test]
fn allocation_is_lowest_free_and_skips_the_gateway() {
    let p = pool("172.18.0.0/16", "172.18.0.1", None);
    assert_eq!(allocate(&p, &[]).unwrap(), ip("172.18.0.2"));
    assert_eq!(
        allocate(&p, &[ip("172.18.0.2"), ip("172.18.0.4")]).unwrap(),
        ip("172.18.0.3")
    );
    let p = pool("10.0.0.0/24", "10.0.0.2", None);
    assert_eq!(allocate(&p, &[]).unwrap(), ip("10.0.0.1"));
}

#[test]
fn allocation_inside_an_ip_range_hands_out_its_dot_zero() {
    let p = pool("10.0.0.0/16", "10.0.0.1", Some("10.0.1.0/30"));
    let mut used = Vec::new();
    for want in ["10.0.1.0", "10.0.1.1", "10.0.1.2", "10.0.1.3"] {
        let got = allocate(&p, &used).unwrap();
        assert_eq!(got, ip(want));
        used.push(got);
    }
    assert_eq!(
        allocate(&p, &used).unwrap_err().message(),
        "no available IPv4 addresses on this network's address pools"
    );
}

#[test]
fn allocation_never_gives_the_subnet_broadcast() {
    let p = pool("10.0.0.0/30", "10.0.0.1", None);
    assert_eq!(allocate(&p, &[]).unwrap(), ip("10.0.0.2"));
    assert!(allocate(&p, &[ip("10.0.0.2")]).is_err());
    let p = pool("10.0.0.0/24", "10.0.0.1", Some("10.0.0.252/30"));
    assert_eq!(
        allocate(&p, &[ip("10.0.0.252"), ip("10.0.0.253"), ip("10.0.0.254")])
            .unwrap_err()
            .message(),
        ERR_NO_IPV4_ADDRESSES
    );
}

#[test]
fn point_to_point_subnets_reserve_nothing() {
    let p = create(&["10.9.0.0/31"], &[], &[], &[]).unwrap();
    assert_eq!(p.gateway, ip("10.9.0.0"));
    assert_eq!(allocate(&p, &[]).unwrap(), ip("10.9.0.1"));
}

// --- static addresses -----------------------------------------------------------------

#[test]
fn static_ip_may_lie_outside_the_ip_range() {
    let p = pool("10.0.0.0/16", "10.0.1.0", Some("10.0.1.0/24"));
    assert_eq!(request_static(&p, "10.0.7.7", &[]).unwrap(), ip("10.0.7.7"));
    assert_eq!(
        request_static(&p, "::ffff:10.0.0.9", &[]).unwrap(),
        ip("10.0.0.9")
    );
}

#[test]
fn static_ip_taken_is_address_already_in_use() {
    let p = pool("10.0.0.0/24", "10.0.0.1", None);
    for taken in ["10.0.0.1", "10.0.0.0", "10.0.0.255", "10.0.0.5"] {
        let err = request_static(&p, taken, &[ip("10.0.0.5")]).unwrap_err();
        assert_eq!(err.message(), "Address already in use", "{taken}");
    }
}

#[test]
fn static_ip_outside_the_subnet_or_not_ipv4() {
    let p = pool("10.0.0.0/24", "10.0.0.1", None);
    assert_eq!(
        request_static(&p, "10.9.9.9", &[]).unwrap_err().message(),
        "invalid endpoint settings:\nno configured subnet or ip-range contain the IP address 10.9.9.9"
    );
    for bad in ["foo", "2001:db8::5", "0.0.0.0"] {
        assert_eq!(
            request_static(&p, bad, &[]).unwrap_err().message(),
            format!(
                "invalid endpoint settings:\n* invalid IPv4 address: {bad}\n\
                 * no configured subnet or ip-range contain the IP address {bad}"
            )
        );
    }
}

// --- helpers and serialisation --------------------------------------------------------

#[test]
fn overlap_is_symmetric_and_ignores_host_bits() {
    assert!(overlaps(&net("10.0.0.0/8"), &net("10.5.0.0/16")));
    assert!(overlaps(&net("10.5.0.0/16"), &net("10.0.0.0/8")));
    assert!(overlaps(&net("10.0.0.5/24"), &net("10.0.0.0/24")));
    assert!(!overlaps(&net("10.0.0.0/24"), &net("10.0.1.0/24")));
}

#[test]
fn pool_serialises_as_cidr_strings() {
    let p = pool("172.18.0.0/16", "172.18.0.1", Some("172.18.5.0/24"));
    let text = serde_json::to_string(&p).unwrap();
    assert_eq!(
        text,
        r#"{"subnet":"172.18.0.0/16","gateway":"172.18.0.1","ip_range":"172.18.5.0/24"}"#
    );
    assert_eq!(serde_json::from_str::<Pool>(&text).unwrap(), p);
    let bare: Pool =
        serde_json::from_str(r#"{"subnet":"10.0.0.0/24","gateway":"10.0.0.1"}"#).unwrap();
    assert_eq!(bare.ip_range, None);
}

// --- lowest_free (used by the default bridge) -------------------------------------

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
