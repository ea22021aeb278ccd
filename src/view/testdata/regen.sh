#!/usr/bin/env bash
# Regenerates the golden fixtures in this directory from the real tools.
#
# Needs root, iproute2 6.x, iptables 1.8.9 (nf_tables) and bridge-utils 1.7.
# Everything happens inside throwaway namespaces named vh-*, plus one unnamed
# namespace held by a `sleep` (so that `ip` prints `link-netnsid 0` rather than
# resolving the peer namespace to a name). Nothing in the calling namespace is
# touched, and everything is removed again on exit.
#
# Every MAC address is fixed, so ifindexes, MACs and IPv6 link-local addresses
# come out the same on each run and the hand-built LinkView/RouteView values in
# ../ip_link.rs, ../ip_addr.rs and ../ip_route.rs keep matching.
set -euo pipefail
cd "$(dirname "$0")"

NS=vh-view
HOLDER_PID=

cleanup() {
	ip netns del "$NS" 2>/dev/null || true
	if [ -n "$HOLDER_PID" ]; then kill "$HOLDER_PID" 2>/dev/null || true; fi
}
trap cleanup EXIT

X="ip netns exec $NS"
ip netns add "$NS"

# "Container" side: an unnamed namespace kept alive by a sleeping process.
unshare --net sleep 600 &
HOLDER_PID=$!
sleep 0.5

$X ip link set lo up
$X ip link add docker0 type bridge
$X ip link set docker0 address 02:42:41:59:03:5d
$X ip addr add 172.17.0.1/16 brd + dev docker0
$X ip addr add fd00:dead:beef::1/64 dev docker0
$X ip link set docker0 up
$X ip link add veth1a2b3c4 address 86:9c:e1:5c:9f:78 type veth \
	peer name eth0 address 02:42:ac:11:00:02 netns "$HOLDER_PID"
$X ip link set veth1a2b3c4 master docker0 up
nsenter -t "$HOLDER_PID" -n ip link set eth0 up

# A bridge that is up but has no ports: NO-CARRIER, and its route is linkdown.
$X ip link add br-empty type bridge
$X ip link set br-empty txqueuelen 0 address 02:42:0a:63:00:01
$X ip addr add 10.99.0.1/24 dev br-empty label br-empty:lbl
$X ip link set br-empty up

# A veth pair inside one namespace: names print as @peer, and M-DOWN shows
# on the end whose peer is administratively down.
$X ip link add vethlocal address 62:05:c5:88:bc:01 type veth \
	peer name vethpeer address d6:fa:70:1f:a7:b1
$X ip link set vethpeer up

$X ip route add default via 172.17.0.254
$X ip route add 10.100.0.0/16 via 172.17.0.254 metric 100
$X ip route add 10.101.0.0/16 dev docker0 proto static scope link
$X ip route add 10.102.0.5 dev docker0 src 172.17.0.1
$X ip route add 10.103.0.0/16 via 10.99.0.254 dev br-empty
$X ip route add 10.104.0.0/16 via 172.17.0.254 proto dhcp metric 50

sleep 3 # let IPv6 link-local addresses settle (no "tentative" flag)
$X ip link show >ip_link.txt
$X ip addr show >ip_addr.txt
$X ip route show >ip_route.txt

# brctl: one STP bridge with a port, plus docker0 with two ports.
$X ip link add br-other type bridge
$X ip link set br-other address 1e:8c:1b:a5:5c:93
$X ip link set br-other type bridge stp_state 1
$X ip link set vethlocal master docker0
$X ip link add vethz address 1e:8c:1b:a5:5c:94 type veth peer name vethzp
$X ip link set vethz master br-other
$X brctl show >brctl_show.txt

$X iptables-restore --counters <iptables_rules.txt
$X iptables-save -c >iptables_save.txt
$X iptables -t filter -v -n -L >iptables_filter_vnL.txt
$X iptables -t nat -v -n -L >iptables_nat_vnL.txt
$X iptables -t nat -v -n -L DOCKER >iptables_nat_DOCKER_vnL.txt
