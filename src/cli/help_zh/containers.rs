//! Chinese texts of the container commands (`run`, `ps`, `exec`, …) and of their
//! `container …` forms, which take the same flags.

use super::catalog::ArgTexts;

/// Command abouts by path.
pub(super) const ABOUTS: &[(&str, &str)] = &[
    ("run", "创建并启动容器（docker run）"),
    ("create", "创建容器但不启动（docker create）"),
    ("exec", "在运行中的容器里执行命令（docker exec）"),
    ("ps", "列出容器（docker ps）"),
    ("logs", "显示容器的输出（docker logs）"),
    ("attach", "连接到运行中的容器（docker attach）"),
    ("stop", "停止运行中的容器（docker stop）"),
    ("start", "启动已停止的容器（docker start）"),
    ("restart", "重启容器（docker restart）"),
    (
        "top",
        "显示容器里的进程（docker top CONTAINER [ps OPTIONS]）",
    ),
    ("rm", "删除容器（docker rm）"),
    ("port", "列出容器的端口映射（docker port）"),
    ("inspect", "以 JSON 显示容器的底层信息（docker inspect）"),
    (
        "container",
        "管理容器：Docker 的 `container ls|run|rm|…` 写法",
    ),
    ("container ls", "列出容器（docker container ls）"),
    ("container run", "创建并启动容器"),
    ("container create", "创建容器但不启动"),
    ("container start", "启动已停止的容器"),
    ("container stop", "停止运行中的容器"),
    ("container restart", "重启容器"),
    ("container rm", "删除容器"),
    ("container inspect", "显示容器的底层信息"),
    ("container exec", "在运行中的容器里执行命令"),
    ("container logs", "显示容器的输出"),
    ("container attach", "连接到运行中容器的终端或输入输出"),
    ("container port", "列出容器的端口映射"),
    ("container top", "显示容器里的进程"),
    ("container prune", "删除所有已停止的容器"),
];

/// Argument helps.
pub(super) const ARGS: &[ArgTexts] = &[
    ArgTexts {
        paths: &["run", "create", "container run", "container create"],
        args: &[
            ("detach", "在后台运行，并打印容器 ID"),
            ("interactive", "保持 STDIN 打开"),
            ("tty", "分配伪终端（由容器的 shim 持有，可以再次 `attach`）"),
            (
                "detach_keys",
                "设置脱离容器的按键序列（默认 ctrl-p,ctrl-q）",
            ),
            ("rm", "容器退出后自动删除"),
            ("name", "为容器指定名称"),
            ("hostname", "容器的主机名"),
            (
                "network",
                "把容器连到网络：bridge（默认）、host、none、\ncontainer:NAME|ID，或某个网络的名称",
            ),
            ("env", "设置环境变量"),
            (
                "publish",
                "把容器的端口映射到宿主机（`-p 8080:80`、`-p 80`、\n`-p 127.0.0.1:8080:80/udp`）",
            ),
            ("publish_all", "把暴露的全部端口映射到宿主机随机端口"),
            ("expose", "暴露一个或一段端口（由 `-P` 映射）"),
            ("link", "链接到另一个容器（NAME[:ALIAS]）"),
            ("ip", "IPv4 地址（仅限用户自定义网络）"),
            ("network_alias", "网络内的别名（仅限用户自定义网络）"),
            ("dns", "自定义 DNS 服务器"),
            ("add_host", "添加一条主机名到 IP 的映射（host:ip）"),
            ("mac_address", "容器的 MAC 地址"),
            ("cap_add", "添加 Linux 能力（`NET_ADMIN`、`ALL` 等）"),
            ("cap_drop", "去掉 Linux 能力"),
            ("privileged", "给容器扩展特权（拥有全部能力，不用 seccomp）"),
            (
                "args",
                "IMAGE [COMMAND] [ARG...]：内置镜像\n（busybox、httpd、redis、tomcat），可以跟一条命令；\n或用 `-- COMMAND [ARG...]` 运行宿主机上的命令",
            ),
        ],
    },
    ArgTexts {
        paths: &["exec", "container exec"],
        args: &[
            ("interactive", "保持 STDIN 打开"),
            ("tty", "分配伪终端"),
            ("detach_keys", "设置脱离的按键序列（默认 ctrl-p,ctrl-q）"),
            ("env", "设置环境变量"),
            ("container", "容器名或 ID"),
            ("command", "命令及其参数"),
        ],
    },
    ArgTexts {
        paths: &["ps", "container ls"],
        args: &[
            ("all", "显示全部容器（默认只显示运行中的）"),
            ("quiet", "只显示容器 ID"),
            ("no_trunc", "不截断输出"),
            ("latest", "显示最近创建的容器（不论状态）"),
            ("last", "显示最近创建的 N 个容器（不论状态）"),
            (
                "filter",
                "按条件过滤输出：name=、id=、status=、network=、ancestor=、\npublish=、expose=、exited=、before=、since=、label=",
            ),
            ("size", "显示文件总大小（实验环境里不可用）"),
            (
                "format",
                "输出格式：`table`（默认）、`json`，或 Go 模板，\n如 `table {{.ID}}\\t{{.Names}}`",
            ),
        ],
    },
    ArgTexts {
        paths: &["logs", "container logs"],
        args: &[("follow", "持续输出新的日志"), ("container", "容器名或 ID")],
    },
    ArgTexts {
        paths: &["attach", "container attach"],
        args: &[
            (
                "detach_keys",
                "设置脱离容器的按键序列（默认 ctrl-p,ctrl-q）",
            ),
            ("no_stdin", "不连接 STDIN"),
            (
                "sig_proxy",
                "把收到的信号都转发给容器进程（没有 tty 时；默认 true）",
            ),
            ("container", "容器"),
        ],
    },
    ArgTexts {
        paths: &["stop", "restart", "container stop", "container restart"],
        args: &[("time", "等待多少秒后强行结束容器"), ("containers", "容器")],
    },
    ArgTexts {
        paths: &["start", "container start"],
        args: &[("containers", "容器")],
    },
    ArgTexts {
        paths: &["top", "container top"],
        args: &[
            ("container", "容器"),
            (
                "ps_options",
                "传给 ps 的选项（默认 `-ef`），\n同 `docker top CONTAINER [ps OPTIONS]`",
            ),
        ],
    },
    ArgTexts {
        paths: &["rm", "container rm"],
        args: &[
            ("force", "强制删除运行中的容器（用 SIGKILL）"),
            ("containers", "容器"),
        ],
    },
    ArgTexts {
        paths: &["port", "container port"],
        args: &[
            ("container", "容器名或 ID"),
            ("port", "容器内的端口（PRIVATE_PORT[/PROTO]）"),
        ],
    },
    ArgTexts {
        paths: &["inspect", "container inspect"],
        args: &[
            (
                "format",
                "用自定义模板格式化输出：'json' 输出紧凑的 JSON；\n'{{.NetworkSettings.IPAddress}}'\n对每个容器执行这个 Go 模板",
            ),
            ("containers", "容器"),
        ],
    },
    ArgTexts {
        paths: &["container prune"],
        args: &[("force", "不经确认直接删除")],
    },
];
