//! The one-line reasons attached to Docker's rules, shared by every engine's layout so
//! that the same rule reads the same under 27, 28 and 29 (and `compare` lines them up).

use crate::ui::tr;

/// `FORWARD -j DOCKER-USER`
pub fn user_first() -> String {
    tr(
        "the administrator's own rules are consulted first",
        "先经过管理员自己的规则",
    )
}

/// The jump into the first isolation stage.
pub fn isolation_jump() -> String {
    tr(
        "keep traffic between different Docker networks apart",
        "隔离不同 Docker 网络之间的流量",
    )
}

/// `FORWARD -j DOCKER-FORWARD` (28+).
pub fn docker_forward_jump() -> String {
    tr(
        "Docker's forwarding rules live in their own chain since 28, not in FORWARD",
        "从 28 起，Docker 的转发规则放在自己的链里，不再直接写进 FORWARD",
    )
}

/// `DOCKER-FORWARD -j DOCKER-CT` (28+).
pub fn ct_jump() -> String {
    tr(
        "first: replies to connections already open",
        "先看：已经建立的连接的回包",
    )
}

/// `DOCKER-FORWARD -j DOCKER-BRIDGE` (28+).
pub fn bridge_jump() -> String {
    tr(
        "then: new connections into a bridge go through its DOCKER rules",
        "再看：进入网桥的新连接要过 DOCKER 链的规则",
    )
}

/// `DOCKER-FORWARD -j DOCKER-INTERNAL` (29).
pub fn internal_jump() -> String {
    tr(
        "the walls of --internal networks (up to 28 they were in DOCKER-ISOLATION-STAGE-1)",
        "--internal 内部网络的隔离墙（28 及以前放在 DOCKER-ISOLATION-STAGE-1 里）",
    )
}

/// nat PREROUTING's jump to DOCKER.
pub fn prerouting_jump() -> String {
    tr(
        "packets arriving for one of the host's own addresses may hit a published port",
        "发往宿主机自身地址的数据包，可能命中端口映射",
    )
}

/// nat OUTPUT's jump to DOCKER, with or without the userland proxy.
pub fn output_jump(userland_proxy: bool) -> String {
    if userland_proxy {
        tr(
            "the host's own connections to its addresses too (not 127.0.0.1: docker-proxy serves that)",
            "宿主机自己发往本机地址的连接也一样（127.0.0.1 除外，由 docker-proxy 负责）",
        )
    } else {
        tr(
            "the host's own connections, 127.0.0.1 included (no userland proxy)",
            "宿主机自己发往本机地址的连接也一样，包括 127.0.0.1（没有 userland proxy）",
        )
    }
}

/// A network's outbound MASQUERADE.
pub fn masquerade() -> String {
    tr(
        "containers reach the outside world with the host's address (outbound NAT)",
        "容器用宿主机的地址访问外部（出站地址转换）",
    )
}

/// nat `DOCKER -i br -j RETURN`.
pub fn nat_return() -> String {
    tr(
        "no DNAT for packets coming from the bridge itself (docker-proxy handles hairpin)",
        "从网桥本身进来的数据包不做 DNAT（hairpin 流量交给 docker-proxy）",
    )
}

/// Hairpin NAT's `-o br -m addrtype --src-type LOCAL -j MASQUERADE`.
pub fn hairpin_masquerade() -> String {
    tr(
        "hairpin NAT: rewrite a 127.0.0.1 source to the bridge address",
        "hairpin NAT：把源地址 127.0.0.1 改写成网桥的地址",
    )
}

/// `-i br -o br -j ACCEPT`
pub fn icc() -> String {
    tr(
        "containers on the same bridge may talk to each other (icc)",
        "同一网桥上的容器可以互相通信（icc）",
    )
}

/// `-i br -o br -j DROP`
pub fn icc_off() -> String {
    tr(
        "icc=false: containers on this bridge may not talk to each other",
        "icc=false：本网桥上的容器不能互相通信",
    )
}

/// `-i br ! -o br -j ACCEPT`
pub fn outbound() -> String {
    tr(
        "containers may go out to other networks",
        "容器可以访问别的网络",
    )
}

/// 28+'s merged `-i br -j ACCEPT`.
pub fn from_bridge() -> String {
    tr(
        "whatever the containers send is let through: out, and to each other (icc)",
        "容器发出的流量都放行：出去的，以及容器之间的（icc）",
    )
}

/// `-o br -j DOCKER`
pub fn to_docker() -> String {
    tr(
        "new connections into containers must match a published port",
        "进入容器的新连接必须匹配某个端口映射",
    )
}

/// `-o br -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`
pub fn conntrack() -> String {
    tr(
        "let replies to connections the containers opened come back in",
        "容器发起的连接，回包可以进来",
    )
}

/// 28+'s `DOCKER ! -i br -o br -j DROP`.
pub fn drop_unpublished() -> String {
    tr(
        "anything else entering the bridge from outside is dropped (no published port matched)",
        "其余从外面进入网桥的流量一律丢弃（没有匹配到端口映射）",
    )
}

/// `STAGE-1 -i br ! -o br -j DOCKER-ISOLATION-STAGE-2`
pub fn stage1() -> String {
    tr(
        "traffic leaving this bridge for another one goes to stage 2",
        "从本网桥去往别的网桥的流量，交给 STAGE-2 处理",
    )
}

/// `STAGE-2 -o br -j DROP`
pub fn stage2() -> String {
    tr(
        "...and is dropped if it enters this bridge from another Docker network",
        "……来自别的 Docker 网络、要进入本网桥的流量被丢弃",
    )
}

/// An internal network's `! -s sub -o br -j DROP`.
pub fn internal_in() -> String {
    tr(
        "an internal network: nothing from outside may enter it",
        "内部网络：外面的流量不能进来",
    )
}

/// An internal network's `! -d sub -i br -j DROP`.
pub fn internal_out() -> String {
    tr(
        "an internal network: nothing may leave it for another network",
        "内部网络：流量不能离开它去往别的网络",
    )
}

/// 28+'s raw `PREROUTING -d C/32 ! -i br -j DROP`.
pub fn raw_direct(container: &str) -> String {
    tr(
        format!(
            "nobody may route straight to {container} from outside its bridge: only published ports lead in"
        ),
        format!("不允许从网桥外直接路由到 {container}：只有端口映射能进来"),
    )
}

/// 28+'s raw drop for a port published on 127.0.0.1.
pub fn raw_loopback(port: u16) -> String {
    tr(
        format!("port {port} is published on 127.0.0.1 only: drop it unless it comes over lo"),
        format!("{port} 端口只映射在 127.0.0.1 上：不是从 lo 进来的一律丢弃"),
    )
}

/// The per-port filter ACCEPT.
pub fn port_accept(container: &str, port: u16) -> String {
    tr(
        format!("let forwarded packets through to {container}:{port}"),
        format!("放行转发到 {container}:{port} 的数据包"),
    )
}

/// The per-port `-s C -d C` MASQUERADE.
pub fn self_masquerade() -> String {
    tr(
        "masquerade a container that reaches its own published port",
        "容器访问自己映射出去的端口时，对它做 MASQUERADE",
    )
}

/// The per-port DNAT.
pub fn dnat(host_port: u16, container: &str, port: u16) -> String {
    tr(
        format!("port forwarding: the host's port {host_port} goes to {container}:{port}"),
        format!("端口映射：宿主机的 {host_port} 端口转到 {container}:{port}"),
    )
}

/// What one of Docker's chains is for (`-N CHAIN` lines).
pub fn chain(table: &str, chain: &str) -> String {
    match (table, chain) {
        ("nat", "DOCKER") => tr(
            "Docker's nat chain: the DNAT of published ports",
            "Docker 的 nat 链：端口映射的 DNAT 规则",
        ),
        (_, "DOCKER") => tr(
            "Docker's filter chain: what may enter a bridge (published ports)",
            "Docker 的 filter 链：哪些流量可以进入网桥（端口映射）",
        ),
        (_, "DOCKER-USER") => tr(
            "for the administrator's own rules; Docker leaves it empty",
            "留给管理员写自己的规则，Docker 不往里放东西",
        ),
        (_, "DOCKER-ISOLATION-STAGE-1") => tr(
            "isolation, stage 1: traffic leaving a bridge for another one",
            "隔离第一级：离开一个网桥去往另一个网桥的流量",
        ),
        (_, "DOCKER-ISOLATION-STAGE-2") => tr(
            "isolation, stage 2: dropped if it enters another Docker bridge",
            "隔离第二级：要进入另一个 Docker 网桥的就丢弃",
        ),
        (_, "DOCKER-FORWARD") => tr(
            "since 28: all of Docker's forwarding rules, in place of FORWARD",
            "从 28 起：Docker 的全部转发规则都在这里，不再写进 FORWARD",
        ),
        (_, "DOCKER-BRIDGE") => tr(
            "since 28: sends new connections into each bridge to DOCKER",
            "从 28 起：把进入各个网桥的新连接交给 DOCKER 链",
        ),
        (_, "DOCKER-CT") => tr(
            "since 28: lets replies (conntrack) into each bridge",
            "从 28 起：放行回到各个网桥的回包（conntrack）",
        ),
        (_, "DOCKER-INTERNAL") => tr(
            "since 29: the walls of --internal networks",
            "从 29 起：--internal 内部网络的隔离墙",
        ),
        _ => String::new(),
    }
}
