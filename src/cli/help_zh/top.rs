//! Chinese texts of dockernet itself (its global flags and exit codes), `lab`, `host`,
//! `world`, `info`, `version`, `dns`, `show` and `completion`, and the possible values.

use super::catalog::ArgTexts;

/// Command abouts by path.
pub(super) const ABOUTS: &[(&str, &str)] = &[
    (
        "",
        "用真实的内核对象一步步重建 Docker 的 Linux 网络，一切都在封闭的实验环境里进行",
    ),
    ("lab", "创建、查看或删除实验环境"),
    ("lab up", "创建实验环境（第一条需要它的命令也会自动创建）"),
    (
        "lab down",
        "删除实验环境的一切：命名空间、网卡、规则、进程和文件",
    ),
    (
        "lab status",
        "查看有哪些对象、哪些进程在运行，以及损坏或遗留的东西",
    ),
    (
        "lab host",
        "添加、删除或列出实验环境的 Docker 宿主机（局域网上的机器）",
    ),
    (
        "lab host add",
        "在实验环境的局域网上添加一台 Docker 宿主机（取下一个空闲的 198.51.100.x），\n有自己的 docker0、iptables、内嵌 DNS 和容器；\n它会加入实验环境里已有的 overlay 网络",
    ),
    ("lab host rm", "删除宿主机，连同它上面的容器和网络"),
    (
        "lab host ls",
        "列出实验环境的 Docker 宿主机（`*` 标出 `--host` 选中的那台）",
    ),
    (
        "host",
        "在实验环境的 Docker 宿主机上运行命令（默认打开 shell）",
    ),
    (
        "world",
        "在外部世界（局域网和“互联网”）运行命令（默认打开 shell）",
    ),
    ("info", "显示系统范围的信息（docker info）"),
    ("version", "显示 dockernet 的版本信息（docker version）"),
    ("dns", "列出容器内嵌的 DNS 服务器（127.0.0.11）能解析的名字"),
    ("doctor", "检查宿主机上常见的网络问题，并给出修复命令"),
    (
        "trace",
        "发出一个探测包，逐跳显示它走过的路：网卡、匹配的规则、地址改写、在哪里被丢弃",
    ),
    (
        "compare",
        "把同一个场景分别按两个版本的 Docker 搭建出来，对比双方的规则",
    ),
    ("show", "像 ip、brctl、iptables 那样显示内核的实时状态"),
    (
        "show links",
        "网卡，同 `ip link`（veth 显示为 vethX@ifN，并注明对端属于谁）",
    ),
    ("show addr", "地址，同 `ip addr`"),
    ("show routes", "路由，同 `ip route`"),
    ("show bridges", "网桥及其端口，同 `brctl show`"),
    ("show rules", "iptables 规则及计数，同 `iptables -vnL`"),
    (
        "show fdb",
        "每个 overlay 网络的 VXLAN 转发表，同 `bridge fdb show dev vxlan0`",
    ),
    (
        "show topology",
        "把实验环境画成一张图：宿主机、网桥、veth pair、容器，都从内核读出",
    ),
    (
        "completion",
        "打印 shell 补全脚本，能补全实验环境里的容器、网络和课程名：\n`source <(dockernet completion bash)`",
    ),
];

/// Argument helps.
pub(super) const ARGS: &[ArgTexts] = &[
    ArgTexts {
        paths: &[""],
        args: &[
            ("lab", "使用哪个实验环境（每个都有自己的一组命名空间）"),
            (
                "on_host",
                "在实验环境的哪台 Docker 宿主机上操作\n（`lab host ls` 列出它们）",
            ),
            ("explain", "边执行边把每个内核步骤打印成等价的命令"),
            ("dry_run", "只打印步骤，不做任何改动"),
            ("lang", "说明和消息的语言（默认取自 LANG / LC_ALL）"),
            ("no_color", "输出不带颜色（也遵循 NO_COLOR）"),
        ],
    },
    ArgTexts {
        paths: &["lab up"],
        args: &[
            (
                "userland_proxy",
                "Docker 的 --userland-proxy（默认 true）：设为 false 时\n改用 hairpin NAT 和 route_localnet",
            ),
            (
                "icc",
                "Docker 的 --icc（默认 true）：设为 false 时，\ndocker0 上的容器不能互相通信（旧式 link 除外）",
            ),
            (
                "engine",
                "按哪个版本的 Docker 写 iptables 规则：27（默认，经典\n布局，和文章一致）、28（DOCKER-FORWARD 链、raw 表丢弃）\n或 29（DOCKER-INTERNAL 链）",
            ),
            (
                "firewall_backend",
                "Docker 的 --firewall-backend：iptables（默认），\n或 nftables（仅限 Docker 29：写自己的\nip docker-bridges 表，不写 iptables 规则）",
            ),
        ],
    },
    ArgTexts {
        paths: &["lab status", "lab host ls"],
        args: &[("format", "输出格式")],
    },
    ArgTexts {
        paths: &["lab host add"],
        args: &[(
            "name",
            "它的名字（1-11 个小写字母或数字）：用 `--host NAME` 选中它",
        )],
    },
    ArgTexts {
        paths: &["lab host rm"],
        args: &[("names", "要删除的宿主机名")],
    },
    ArgTexts {
        paths: &["lab host ls"],
        args: &[("quiet", "只列出名字")],
    },
    ArgTexts {
        paths: &["host", "world"],
        args: &[("command", "要运行的命令及其参数（默认：交互式 shell）")],
    },
    ArgTexts {
        paths: &["info"],
        args: &[(
            "format",
            "用自定义模板格式化输出：'json' 输出 JSON；\n'{{ .Plugins.Network }}' 执行这个 Go 模板",
        )],
    },
    ArgTexts {
        paths: &["version"],
        args: &[(
            "format",
            "用自定义模板格式化输出：'json' 输出 JSON；\n'{{.Server.Version}}' 执行这个 Go 模板",
        )],
    },
    ArgTexts {
        paths: &["dns"],
        args: &[("container", "容器名或 ID"), ("format", "输出格式")],
    },
    ArgTexts {
        paths: &["trace"],
        args: &[
            (
                "from",
                "探测包从哪里发出：容器（名字或 ID）、`host`、\n某台实验主机的名字、`world`，或实验环境里的一个 IPv4 地址",
            ),
            (
                "to",
                "发往哪里：容器、`host`、某台实验主机的名字、`world`，\n或一个 IPv4 地址（端口映射：宿主机地址加 `--tcp PORT`）",
            ),
            ("tcp", "用一次 TCP 连接尝试探测端口 PORT"),
            ("udp", "向端口 PORT 发一个 UDP 数据报来探测"),
            ("icmp", "用 ICMP echo 请求（ping）探测（默认）"),
            ("format", "输出格式"),
        ],
    },
    ArgTexts {
        paths: &["compare"],
        args: &[
            (
                "scenario",
                "搭建什么：default、usernet、portmap、noproxy、noicc\n或 internal（Docker 文档里的几个场景）；不写则照搬\n当前实验环境的网络、容器和端口映射",
            ),
            ("engines", "要对比的两个引擎版本，先左后右（27、28、29）"),
            (
                "side_by_side",
                "左右两栏并排显示（左边是第一个引擎），不用差异格式",
            ),
            ("format", "输出格式"),
        ],
    },
    ArgTexts {
        paths: &["doctor"],
        args: &[
            ("container", "只检查这个容器及其网络（容器名或 ID）"),
            ("format", "输出格式"),
        ],
    },
    ArgTexts {
        paths: &[
            "show links",
            "show addr",
            "show routes",
            "show bridges",
            "show rules",
        ],
        args: &[("on", "`host`（默认）、`world`，或容器名、容器 ID")],
    },
    ArgTexts {
        paths: &["show links", "show addr", "show routes", "show bridges"],
        args: &[("raw", "原样打印真实工具的输出（不加对端注释）")],
    },
    ArgTexts {
        paths: &["show rules"],
        args: &[("table", "只看这张表（`filter`、`nat` 等）")],
    },
    ArgTexts {
        paths: &["show fdb"],
        args: &[
            (
                "network",
                "只看这个 overlay 网络（默认：宿主机上的全部 overlay）",
            ),
            (
                "raw",
                "原样打印 `bridge fdb show dev vxlan0` 的输出\n（不注明容器，不列邻居表）",
            ),
        ],
    },
    ArgTexts {
        paths: &["show topology"],
        args: &[
            (
                "format",
                "输出格式：`text`（方框图）、`dot`（Graphviz）、\n`mermaid`（流程图）、`json`",
            ),
            (
                "changes",
                "用 `+` 标出自上次 `--changes` 以来新出现的部分\n（第一次：自实验环境建好以来），并列出消失的部分",
            ),
        ],
    },
    ArgTexts {
        paths: &["completion"],
        args: &[("shell", "哪种 shell")],
    },
];

/// Texts after the options.
pub(super) const AFTER_HELP: &[(&str, &str)] = &[(
    "",
    "退出码与 Docker 相同：
  125  `run` / `create` 被拒绝（端口或名称已被占用、参数不对）
  126  容器的命令无法调用
  127  找不到容器的命令
其余情况是容器命令自己的退出码；其他错误为 1，用法错误为 2。",
)];

/// Possible values' helps, by value name.
pub(super) const VALUES: &[(&str, &str)] = &[
    ("en", "English"),
    ("zh", "中文"),
    ("table", "Docker 的表格布局"),
    ("json", "JSON，供程序读取"),
];
