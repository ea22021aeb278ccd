//! Keeping a lesson's output readable: the lab's plumbing folded out of `lab up`'s
//! narration (its phase markers say which lines are the world's, the host's and the
//! daemon's), tabs expanded before indenting, and one sentence, the first time, for
//! the kernel's noise a learner cannot place (`M-DOWN`, IPv6 link-local addresses,
//! `linkdown` routes).

use super::exec::phase_marker;
use super::model::Lang;
use super::ui::{Paint, text_width, wrap};

/// Phases of `lab up` that are the lab's plumbing, not Docker: folded into one line.
const PLUMBING: [&str; 2] = ["world", "host"];

/// The daemon's phase: what dockerd does when it starts, shown compactly (its rules in
/// `iptables -S` form, each with its why).
const DAEMON: &str = "daemon";

/// `--explain` narration as a lesson shows it, in `width` columns: lines of the
/// plumbing phases become one line that counts their commands, the daemon's a compact
/// list of what it did (see [`Daemon`]); the rest (and narration without phase
/// markers) is left as it is.
pub fn fold_narration(lines: &[&str], lang: Lang, width: usize) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut phase: Option<&str> = None;
    // (index in `out` of the summary line, commands folded)
    let mut plumbing: Option<(usize, usize)> = None;
    let mut daemon: Option<(usize, Daemon)> = None;
    for line in lines {
        if let Some(p) = phase_marker(line) {
            phase = Some(p);
            continue;
        }
        let command = line.starts_with("  $ ");
        match phase {
            Some(p) if PLUMBING.contains(&p) => {
                let (_, n) = plumbing.get_or_insert_with(|| {
                    out.push(String::new());
                    (out.len() - 1, 0)
                });
                *n += usize::from(command);
            }
            Some(DAEMON) => {
                let (_, d) = daemon.get_or_insert_with(|| {
                    out.push(String::new());
                    (out.len() - 1, Daemon::default())
                });
                d.add(line);
            }
            _ => out.push(line.to_string()),
        }
    }
    if let Some((i, n)) = plumbing {
        out[i] = format!("  # {}", plumbing_line(lang, n));
    }
    if let Some((i, d)) = daemon {
        out.splice(i..=i, d.lines(lang, width));
    }
    out
}

fn plumbing_line(lang: Lang, n: usize) -> String {
    match lang {
        Lang::En => {
            format!("the lab's LAN, internet and Docker host are ready (--explain: {n} commands)")
        }
        Lang::Zh => format!(
            "实验环境的局域网、“互联网”和 Docker 宿主机已就绪（--explain 可查看这 {n} 条命令）"
        ),
    }
}

/// What the daemon's narration did, gathered to be shown compactly: forwarding, the
/// FORWARD policy, its chains in one line, docker0 in one line, then each rule in
/// `iptables -S` form with its why (the narration line before it).
#[derive(Default)]
struct Daemon {
    /// The narration line just read: the why of the next command.
    why: Option<String>,
    sysctl: Option<String>,
    policy: Vec<String>,
    /// `(table, chain)` in the order created.
    chains: Vec<(String, String)>,
    /// Chains whose only rule so far is a plain `-j RETURN` (no why of their own).
    returns: Vec<String>,
    /// docker0 and friends: `(name, addresses)`.
    bridges: Vec<(String, Vec<String>)>,
    /// Rules and any other command, each with its why.
    items: Vec<(String, Option<String>)>,
}

impl Daemon {
    fn add(&mut self, line: &str) {
        if let Some(why) = line.trim_start().strip_prefix("# ") {
            self.why = Some(why.to_string());
            return;
        }
        let mut why = self.why.take();
        let Some(cmd) = line.trim_start().strip_prefix("$ ") else {
            return;
        };
        // A command's own trailing comment (`… &   # why`) is its why.
        let cmd = match cmd.split_once("   # ") {
            Some((c, w)) => {
                why = why.or_else(|| Some(w.to_string()));
                c
            }
            None => cmd,
        };
        let cmd = strip_netns(cmd);
        let w: Vec<&str> = cmd.split_whitespace().collect();
        match w.as_slice() {
            ["sysctl", ..] => self.sysctl = Some(cmd),
            ["iptables", rest @ ..] => self.iptables(rest, why),
            ["ip", "link", "add", name, .., "type", "bridge"] => {
                self.bridges.push((name.to_string(), Vec::new()));
            }
            ["ip", "addr", "add", addr, "dev", name] => {
                if let Some(b) = self.bridges.iter_mut().find(|b| b.0 == *name) {
                    b.1.push(addr.to_string());
                }
            }
            // Bringing the bridge up goes without saying in its one line.
            ["ip", "link", "set", _, "up"] => {}
            _ => self.items.push((cmd, why)),
        }
    }

    /// One iptables command, `-t nat` kept as the table's name and `-I CHAIN N` shown
    /// as `-A CHAIN`, the way `iptables -S` lists the rule.
    fn iptables(&mut self, w: &[&str], why: Option<String>) {
        let (table, w) = match w {
            ["-t", t, rest @ ..] => (*t, rest),
            _ => ("filter", w),
        };
        let prefix = if table == "filter" {
            String::new()
        } else {
            format!("-t {table} ")
        };
        match w {
            ["-P", ..] => self.policy.push(format!("{prefix}{}", w.join(" "))),
            ["-N", chain] => self.chains.push((table.to_string(), chain.to_string())),
            ["-A", chain, "-j", "RETURN"] if why.is_none() => self.returns.push(chain.to_string()),
            ["-A" | "-I", chain, rest @ ..] => {
                let rest = match rest {
                    [n, tail @ ..] if n.parse::<u32>().is_ok() => tail,
                    _ => rest,
                };
                self.items
                    .push((format!("{prefix}-A {chain} {}", rest.join(" ")), why));
            }
            _ => self.items.push((format!("{prefix}{}", w.join(" ")), why)),
        }
    }

    /// The lines, each fitting `width` columns: a why that does not fit after its rule
    /// goes on the next line, indented.
    fn lines(&self, lang: Lang, width: usize) -> Vec<String> {
        let t = |en: &'static str, zh: &'static str| match lang {
            Lang::En => en,
            Lang::Zh => zh,
        };
        let mut items: Vec<(String, Option<String>)> = Vec::new();
        if let Some(s) = &self.sysctl {
            let why = t(
                "the host routes between its interfaces",
                "宿主机在网卡之间转发数据包",
            );
            items.push((s.clone(), Some(why.into())));
        }
        for p in &self.policy {
            let why = t("forward only what a rule accepts", "只转发规则放行的数据包");
            items.push((p.clone(), Some(why.into())));
        }
        let mut tables: Vec<&str> = Vec::new();
        for (table, _) in &self.chains {
            if !tables.contains(&table.as_str()) {
                tables.push(table);
            }
        }
        let chains: Vec<String> = tables
            .iter()
            .map(|table| {
                let names: Vec<&str> = self
                    .chains
                    .iter()
                    .filter(|c| c.0 == *table)
                    .map(|c| c.1.as_str())
                    .collect();
                let prefix = if *table == "filter" {
                    String::new()
                } else {
                    format!("-t {table} ")
                };
                format!("{prefix}-N {}", names.join(", "))
            })
            .collect();
        // The plain `-j RETURN` ends go with the chains' line, as its why.
        let others: Vec<&str> = self
            .chains
            .iter()
            .filter(|c| c.0 == "filter" && !self.returns.contains(&c.1))
            .map(|c| c.1.as_str())
            .collect();
        let returns = (!self.returns.is_empty()).then(|| match (lang, others.is_empty()) {
            (Lang::En, true) => "each ends in -j RETURN".to_string(),
            (Lang::En, false) => format!("all but {} end in -j RETURN", others.join(", ")),
            (Lang::Zh, true) => "每条链都以 -j RETURN 结尾".to_string(),
            (Lang::Zh, false) => format!("除 {} 外，每条链都以 -j RETURN 结尾", others.join("、")),
        });
        let joined = chains.join("; ");
        if text_width(&joined) <= width && tables.len() == 1 {
            items.push((joined, returns));
        } else {
            for (table, c) in tables.iter().zip(chains) {
                let why = (*table == "filter").then(|| returns.clone()).flatten();
                items.push((c, why));
            }
        }
        for (name, addrs) in &self.bridges {
            let mut l = format!("ip link add {name} type bridge");
            for a in addrs {
                l.push_str(&format!("; ip addr add {a} dev {name}"));
            }
            items.push((l, None));
        }
        items.extend(self.items.iter().cloned());
        let mut out = Vec::new();
        for (cmd, why) in items {
            match why {
                Some(w) if text_width(&cmd) + 4 + text_width(&w) <= width => {
                    out.push(format!("  {cmd}  # {w}"));
                }
                Some(w) => {
                    out.push(format!("  {cmd}"));
                    // Continuation lines hang under the why's text, past its `# `.
                    for (i, l) in wrap(&w, width + 2, 6).into_iter().enumerate() {
                        let l = l.trim_start();
                        out.push(format!("{}{l}", if i == 0 { "    # " } else { "      " }));
                    }
                }
                None => out.push(format!("  {cmd}")),
            }
        }
        out
    }
}

/// `ip netns exec NS CMD` as `CMD`, `ip -n NS …` as `ip …`: inside a lesson the
/// namespace is the lab host's, named once in the step.
fn strip_netns(cmd: &str) -> String {
    let w: Vec<&str> = cmd.split_whitespace().collect();
    match w.as_slice() {
        ["ip", "netns", "exec", _, rest @ ..] => rest.join(" "),
        ["ip", "-n", _, rest @ ..] => format!("ip {}", rest.join(" ")),
        _ => cmd.to_string(),
    }
}

/// `line` with its tabs expanded to the stops the tool meant (every 8 columns from the
/// start of the line), so that an indented table keeps its columns.
pub fn expand_tabs(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut col = 0;
    for c in line.chars() {
        if c == '\t' {
            let n = 8 - col % 8;
            out.extend(std::iter::repeat_n(' ', n));
            col += n;
        } else {
            out.push(c);
            col += text_width(c.encode_utf8(&mut [0; 4]));
        }
    }
    out
}

/// The noise `text` shows, each with the sentence that explains it: `(key, sentence)`.
pub fn glosses(text: &str, lang: Lang) -> Vec<(&'static str, &'static str)> {
    let mut out = Vec::new();
    let has = |pred: &dyn Fn(&str) -> bool| text.lines().any(pred);
    if has(&|l| l.contains("M-DOWN")) {
        out.push((
            "M-DOWN",
            match lang {
                Lang::En => {
                    "M-DOWN: busybox's ip looks up the peer's index (@ifN) in the container's own namespace, where it does not exist, and calls it down; the peer is the host's veth, and it is up."
                }
                Lang::Zh => {
                    "M-DOWN：busybox 的 ip 命令在容器自己的命名空间里查找对端的标号（@ifN），找不到，就标为 down；其实对端是宿主机上的 veth，处于 up 状态。"
                }
            },
        ));
    }
    if has(&|l| l.contains("inet6 fe80:") || (l.contains("inet6") && l.contains("scope link"))) {
        out.push((
            "inet6",
            match lang {
                Lang::En => {
                    "inet6 fe80::… scope link: the kernel gives every interface an IPv6 link-local address (tentative while it checks that no neighbour has it); the lab and the articles use IPv4 only."
                }
                Lang::Zh => {
                    "inet6 fe80::… scope link：内核会自动给每块网卡配置一个 IPv6 链路本地地址（tentative 表示重复地址检测尚未完成）；本实验环境和文章都只用 IPv4。"
                }
            },
        ));
    }
    if has(&|l| l.split_whitespace().any(|w| w == "linkdown")) {
        out.push((
            "linkdown",
            match lang {
                Lang::En => {
                    "linkdown: the bridge has no port that is up (no container on it yet; the world's inet0 has none at all), so the kernel flags its route; the bridge's own addresses still answer."
                }
                Lang::Zh => {
                    "linkdown：这个网桥上还没有处于 up 状态的端口（还没有容器接入；外部世界的 inet0 根本没有端口），内核就给它的路由加上这个标记；网桥自己的地址照样能访问。"
                }
            },
        ));
    }
    out
}

/// A line of a "today" note: warning colour, with `code` highlighted as in the
/// main text (not left as raw backticks).
pub fn warn_code(paint: &Paint, line: &str) -> String {
    if !paint.on {
        return line.to_string();
    }
    line.split('`')
        .enumerate()
        .map(|(i, part)| {
            if i % 2 == 1 {
                paint.cmd(part)
            } else {
                paint.warn(part)
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn today_notes_highlight_code_instead_of_backticks() {
        let on = warn_code(&Paint { on: true }, "see `show rules` here");
        assert!(!on.contains('`') && on.contains("show rules"), "{on:?}");
        let off = warn_code(&Paint { on: false }, "see `show rules` here");
        assert_eq!(off, "see `show rules` here");
    }

    #[test]
    fn tabs_expand_to_the_original_stops() {
        let head = "bridge name\tbridge id\t\tSTP enabled\tinterfaces";
        let row = "docker0\t\t8000.0242d4c5c108\tno\t\tveth51b6fe1";
        let (h, r) = (expand_tabs(head), expand_tabs(row));
        assert_eq!(
            h,
            "bridge name     bridge id               STP enabled     interfaces"
        );
        assert_eq!(h.find("interfaces"), r.find("veth51b6fe1"));
        assert_eq!(h.find("STP"), r.find("no"));
        assert_eq!(expand_tabs("\t\t\t\t\t\t\tvethba39bb0").find('v'), Some(56));
        assert_eq!(expand_tabs("no tabs"), "no tabs");
    }

    #[test]
    fn the_lab_plumbing_folds_and_the_daemon_lists_its_rules() {
        let lines = [
            "  #@ world",
            "  # the world: a LAN",
            "  $ ip netns add dn-x-world",
            "  $ ip -n dn-x-world link set lo up",
            "  #@ host",
            "  $ ip netns add dn-x-host",
            "  #@ daemon",
            "  # dockerd starts",
            "  $ ip netns exec dn-x-host sysctl -w net.ipv4.ip_forward=1",
            "  $ ip netns exec dn-x-host iptables -N DOCKER",
            "  $ ip -n dn-x-host link add docker0 address 02:42:00:00:00:01 type bridge",
            "  # containers reach the outside world",
            "  $ ip netns exec dn-x-host iptables -t nat -I POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE",
            "  #@ host",
            "  $ mkdir -p /run/dockernet/x/host",
            "  #@ world",
            "  $ ip netns exec dn-x-world named &",
        ];
        let en = fold_narration(&lines, Lang::En, 74);
        assert_eq!(
            en,
            [
                "  # the lab's LAN, internet and Docker host are ready (--explain: 5 commands)",
                "  sysctl -w net.ipv4.ip_forward=1  # the host routes between its interfaces",
                "  -N DOCKER",
                "  ip link add docker0 type bridge",
                "  -t nat -A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE",
                "    # containers reach the outside world",
            ]
        );
        let zh = fold_narration(&lines, Lang::Zh, 74);
        assert!(
            zh[0].contains("5 条命令") && zh[1].contains("宿主机在网卡之间转发"),
            "{zh:?}"
        );
        // Without markers (every other command), nothing is folded.
        let plain = [
            "  # a veth pair",
            "  $ ip link add veth1 type veth peer name eth0",
        ];
        assert_eq!(fold_narration(&plain, Lang::En, 74), plain);
    }

    #[test]
    fn noise_is_explained() {
        let busybox = "2: eth0@if4: <BROADCAST,MULTICAST,UP,LOWER_UP,M-DOWN> mtu 1500\n    inet6 fe80::42:acff:fe11:2/64 scope link tentative\n";
        let keys: Vec<&str> = glosses(busybox, Lang::Zh).iter().map(|g| g.0).collect();
        assert_eq!(keys, ["M-DOWN", "inet6"]);
        let route = "203.0.113.0/24 dev inet0 proto kernel scope link src 203.0.113.10 linkdown";
        assert_eq!(glosses(route, Lang::En)[0].0, "linkdown");
        assert!(glosses("inet 127.0.0.1/8 scope host lo", Lang::En).is_empty());
    }
}
