//! Chinese texts of `network …` (Docker's network commands).

use super::catalog::ArgTexts;

/// Command abouts by path.
pub(super) const ABOUTS: &[(&str, &str)] = &[
    ("network", "管理网络（docker network）"),
    ("network create", "创建网络"),
    ("network ls", "列出网络"),
    ("network inspect", "显示一个或多个网络的详细信息"),
    ("network rm", "删除一个或多个网络"),
    ("network prune", "删除所有未使用的网络"),
    ("network connect", "把容器连到网络"),
    ("network disconnect", "把容器从网络断开"),
];

/// Argument helps.
pub(super) const ARGS: &[ArgTexts] = &[
    ArgTexts {
        paths: &["network create"],
        args: &[
            (
                "driver",
                "网络驱动：bridge、overlay、macvlan（-o parent=eth0）、\nipvlan（内核支持时）",
            ),
            ("subnet", "CIDR 格式的子网，代表一个网段"),
            ("gateway", "主子网的 IPv4 网关"),
            ("ip_range", "只从这个子范围分配容器 IP"),
            ("internal", "禁止从这个网络访问外部"),
            ("attachable", "允许手动把容器连到这个网络"),
            ("label", "为网络设置元数据（KEY=VALUE）"),
            (
                "opt",
                "设置驱动专用的选项（com.docker.network.bridge.name=NAME、\n...enable_icc=false、...enable_ip_masquerade=false）",
            ),
            ("name", "网络名称"),
        ],
    },
    ArgTexts {
        paths: &["network ls"],
        args: &[
            ("quiet", "只显示网络 ID"),
            ("no_trunc", "不截断输出"),
            (
                "filter",
                "过滤条件（如 driver=bridge、name=my、type=custom）",
            ),
            (
                "format",
                "输出格式：`table`（默认）、`json`，或 Go 模板，\n如 `{{.Name}}` 或 `table {{.ID}}\\t{{.Name}}`",
            ),
        ],
    },
    ArgTexts {
        paths: &["network inspect"],
        args: &[
            (
                "format",
                "用自定义模板格式化输出：'json' 输出紧凑的 JSON；\n'{{range .IPAM.Config}}{{.Subnet}}{{end}}'\n对每个网络执行这个 Go 模板",
            ),
            ("networks", "网络"),
        ],
    },
    ArgTexts {
        paths: &["network rm"],
        args: &[("networks", "网络")],
    },
    ArgTexts {
        paths: &["network prune"],
        args: &[("force", "不经确认直接删除")],
    },
    ArgTexts {
        paths: &["network connect"],
        args: &[
            ("ip", "IPv4 地址（如 172.30.100.104）"),
            ("alias", "为容器添加网络内的别名"),
            ("network", "网络"),
            ("container", "容器"),
        ],
    },
    ArgTexts {
        paths: &["network disconnect"],
        args: &[
            ("force", "强制把容器从网络断开"),
            ("network", "网络"),
            ("container", "容器"),
        ],
    },
];
