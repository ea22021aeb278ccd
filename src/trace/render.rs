//! A trace report as text, hop by hop, in English or Chinese (rule lines stay as
//! `iptables -S` prints them, so they can be searched and compared).

use super::conntrack::Entry;
use super::event::Packet;
use super::path::RuleHit;
use super::probe::{Answer, Kind};
use super::{Hop, Port, Report};
use crate::ui::tr;
use colored::Colorize;

fn probe_words(k: Kind, ours: u16) -> String {
    match k {
        Kind::Icmp => tr(
            format!("ICMP echo, id {ours}"),
            format!("ICMP echo，id {ours}"),
        ),
        Kind::Tcp(p) => tr(
            format!("TCP to port {p}, from port {ours}"),
            format!("TCP，目的端口 {p}，源端口 {ours}"),
        ),
        Kind::Udp(p) => tr(
            format!("UDP to port {p}, from port {ours}"),
            format!("UDP，目的端口 {p}，源端口 {ours}"),
        ),
    }
}

fn answer_words(a: &Answer, color: bool) -> String {
    let (s, good) = match a {
        Answer::Answered => (tr("answered", "收到应答"), true),
        Answer::Refused => (
            tr(
                "refused (a TCP reset or an ICMP port unreachable came back)",
                "被拒绝（收到 TCP RST 或 ICMP 端口不可达）",
            ),
            false,
        ),
        Answer::Unreachable(m) => (
            tr(format!("unreachable: {m}"), format!("不可达：{m}")),
            false,
        ),
        Answer::Timeout => (tr("no answer within 2 s", "2 秒内没有应答"), false),
    };
    match (color, good) {
        (false, _) => s,
        (true, true) => s.green().bold().to_string(),
        (true, false) => s.red().bold().to_string(),
    }
}

/// `172.17.0.2:40001 → 203.0.113.10:80 tcp SYN`.
fn packet(p: &Packet) -> String {
    let end = |a: std::net::Ipv4Addr, port: Option<u16>| match (p.proto.as_str(), port) {
        ("icmp", _) | (_, None) => a.to_string(),
        (_, Some(n)) => format!("{a}:{n}"),
    };
    let mut s = format!(
        "{} → {} {}",
        end(p.src, p.sport),
        end(p.dst, p.dport),
        p.proto
    );
    if let Some(w) = &p.what {
        s.push(' ');
        s.push_str(w);
    }
    s
}

fn port_words(p: &Port) -> String {
    let mut s = p.name.clone();
    if let Some(b) = &p.bridge {
        s.push_str(&tr(format!(" (a port of {b})"), format!("（{b} 的端口）")));
    }
    if let Some(to) = &p.leads_to {
        s.push_str(&format!(" ⇄ {to}"));
    }
    s
}

fn rule(r: &RuleHit) -> (String, String) {
    let place = format!("{} {}", r.table, r.chain);
    let text = match (&r.kind, &r.line) {
        (super::event::Kind::Policy, _) => tr("(the chain's policy)", "（链的默认策略）"),
        (super::event::Kind::Return, _) => tr("(end of the chain)", "（链的末尾）"),
        (_, Some(l)) => l.clone(),
        (_, None) => format!(
            "{} {} {} handle {}",
            r.family,
            r.table,
            r.chain,
            r.handle.unwrap_or(0)
        ),
    };
    // A NAT target ends its chain with "accept": name the rewrite instead.
    // An nft rule (the nftables backend's `ip docker-bridges`) says `dnat to`,
    // `masquerade`.
    let nat = r.line.as_deref().and_then(|l| {
        ["DNAT", "SNAT", "MASQUERADE", "REDIRECT"]
            .into_iter()
            .find(|t| {
                l.contains(&format!("-j {t}"))
                    || (!l.starts_with("-A ") && l.split(' ').any(|w| w.eq_ignore_ascii_case(t)))
            })
    });
    let verdict = match (&r.kind, &r.verdict) {
        _ if nat.is_some() => nat.unwrap_or_default().to_string(),
        (super::event::Kind::Return, _) => "RETURN".to_string(),
        (_, Some(v)) => v.word(),
        (_, None) => String::new(),
    };
    (format!("{place:<22} {text}"), verdict)
}

fn label(en: &str, zh: &str) -> String {
    // Both columns line up: a Chinese character takes two.
    let l = tr(en, zh);
    let width: usize = l.chars().map(|c| if c.is_ascii() { 1 } else { 2 }).sum();
    format!("{l}{}", " ".repeat(10usize.saturating_sub(width)))
}

fn hop(out: &mut String, n: usize, h: &Hop, color: bool) {
    let head = format!("  {n} {}", h.place);
    let head = if color { head.bold().to_string() } else { head };
    out.push_str(&format!("{head}  ({})\n", h.ns));
    if h.generated {
        if let Some(p) = &h.first {
            out.push_str(&format!("      {}{}\n", label("sent", "发出"), packet(p)));
        }
    } else if let Some(p) = &h.came_in {
        let mut s = port_words(p);
        if let Some(b) = &h.routed_by {
            s.push_str(&tr(format!(", routed by {b}"), format!("，再由 {b} 路由")));
        }
        out.push_str(&format!("      {}{s}\n", label("in", "进入")));
        if let Some(pk) = &h.first {
            out.push_str(&format!(
                "      {}{}\n",
                label("packet", "数据包"),
                packet(pk)
            ));
        }
    }
    for r in &h.rules {
        let (text, verdict) = rule(r);
        let verdict = if color && verdict == "DROP" {
            verdict.red().bold().to_string()
        } else {
            verdict
        };
        out.push_str(&format!(
            "      {}{text}  → {verdict}\n",
            label("rule", "规则")
        ));
    }
    if let Some(l) = &h.last {
        out.push_str(&format!(
            "      {}{}\n",
            label("rewritten", "改写为"),
            packet(l)
        ));
    }
    if let Some(b) = &h.bridged_by {
        out.push_str(&format!(
            "      {}{}\n",
            label("bridged", "网桥转发"),
            tr(
                format!("{b} looked the destination MAC up in its FDB and sent the frame on"),
                format!("{b} 在 FDB（转发表）里查到目的 MAC，把帧从对应端口转发出去")
            )
        ));
    }
    if let Some(l) = &h.lookup {
        match &l.mac {
            Some(mac) => out.push_str(&format!(
                "      {}{}\n",
                label("ARP", "ARP"),
                tr(
                    format!(
                        "{} is at {mac} ({}) in the neighbour table of {}",
                        l.ip,
                        l.state.as_deref().unwrap_or("?"),
                        l.bridge
                    ),
                    format!(
                        "{} 的 MAC 是 {mac}（{}，{} 的邻居表）",
                        l.ip,
                        l.state.as_deref().unwrap_or("?"),
                        l.bridge
                    )
                )
            )),
            None => out.push_str(&format!(
                "      {}{}\n",
                label("ARP", "ARP"),
                tr(
                    format!("no neighbour entry for {} on {}", l.ip, l.bridge),
                    format!("{} 上没有 {} 的邻居表项", l.bridge, l.ip)
                )
            )),
        }
        if let (Some(mac), Some(vtep)) = (&l.mac, &l.vtep) {
            let vni = l
                .vni
                .map(|v| tr(format!(", VNI {v}"), format!("，VNI {v}")))
                .unwrap_or_default();
            out.push_str(&format!(
                "      {}{}\n",
                label("VXLAN", "VXLAN"),
                tr(
                    format!(
                        "{} has {mac} behind {vtep}: the frame goes inside UDP to {vtep}:4789{vni}",
                        l.bridge
                    ),
                    format!(
                        "{} 的转发表里 {mac} 在 {vtep} 后面：整个帧装进 UDP 发往 {vtep}:4789{vni}",
                        l.bridge
                    )
                )
            ));
        }
        if let (Some(mac), Some(p)) = (&l.mac, &l.port) {
            out.push_str(&format!(
                "      {}{}\n",
                label("FDB", "FDB"),
                tr(
                    format!("{} has {mac} on port {p}", l.bridge),
                    format!("{} 的转发表里 {mac} 在端口 {p} 上", l.bridge)
                )
            ));
        }
    }
    let end = match (h.end.as_str(), &h.out) {
        ("out", Some(p)) => format!("{}{}", label("out", "离开"), port_words(p)),
        ("delivered", _) => format!(
            "{}{}",
            label("delivered", "送达"),
            tr("to a socket of this namespace", "交给本命名空间里的套接字")
        ),
        ("dropped", _) => {
            let s = format!(
                "{}{}",
                label("dropped", "丢弃"),
                tr(
                    "here, by the rule (or policy) above",
                    "就在这里，被上面这条规则（或默认策略）丢弃"
                )
            );
            if color { s.red().bold().to_string() } else { s }
        }
        _ => format!(
            "{}{}",
            label("lost", "中断"),
            match &h.why {
                Some(why) => why.clone(),
                None => tr(
                    "the trace stops here: the packet was not sent on (no route, or no ARP answer)",
                    "跟踪到这里中断：数据包没有再被发出去（没有路由，或 ARP 没有应答）",
                ),
            }
        ),
    };
    out.push_str(&format!("      {end}\n"));
}

fn entry(e: &Entry) -> String {
    let t = |s: std::net::Ipv4Addr, p: Option<u16>| match (e.proto.as_str(), p) {
        ("icmp", _) | (_, None) => s.to_string(),
        (_, Some(p)) => format!("{s}:{p}"),
    };
    format!(
        "{} {} → {}{} {} → {}",
        e.proto,
        t(e.original.src, e.original.sport),
        t(e.original.dst, e.original.dport),
        tr(", answers", "，应答"),
        t(e.reply.src, e.reply.sport),
        t(e.reply.dst, e.reply.dport),
    )
}

/// The whole report.
pub fn text(r: &Report, color: bool) -> String {
    let mut out = String::new();
    // The probe, and its answer: the first packet another namespace made (a second
    // packet from the source is the client trying again, not an answer).
    let probe = r.packets.first();
    let answer = probe.and_then(|p| {
        let from = p.first().map(|h| h.ns.as_str());
        r.packets
            .iter()
            .skip(1)
            .find(|k| k.first().map(|h| h.ns.as_str()) != from)
    });
    let dropped = probe
        .into_iter()
        .chain(answer)
        .flatten()
        .find(|h| h.end == "dropped");
    let mut result = answer_words(&r.answer, color);
    if let Some(h) = dropped {
        let chain = h
            .rules
            .last()
            .map(|x| format!("{} {}", x.table, x.chain))
            .unwrap_or_default();
        result.push_str(&tr(
            format!("; dropped in {} by {chain}", h.place),
            format!("；在{}被 {chain} 丢弃", h.place),
        ));
    }
    out.push_str(&format!(
        "{}{} → {}{}{}{}{result}\n",
        tr("trace: ", "跟踪："),
        r.from.label,
        if r.to.label == r.to.addr.to_string() {
            r.to.label.clone()
        } else {
            format!("{} {}", r.to.label, r.to.addr)
        },
        tr(" ", ""),
        paren(&probe_words(r.probe, r.probe_port)),
        tr(": ", "："),
    ));
    out.push_str(&tr(
        "(followed with nf_tables tracing: a table dockernet_trace in each namespace on the way, removed again)\n",
        "（用 nf_tables 的跟踪功能记录：途经的每个命名空间里临时加一张 dockernet_trace 表，结束后已删除）\n",
    ));
    if r.packets.is_empty() {
        out.push_str(&tr(
            "\nno packet was seen: it never left the source namespace\n",
            "\n没有看到任何数据包：它根本没有离开源命名空间\n",
        ));
    }
    let mut n = 0;
    let shown: Vec<(String, &Vec<super::Hop>)> = probe
        .map(|p| (tr("the probe", "探测包"), p))
        .into_iter()
        .chain(answer.map(|a| (tr("the answer", "应答包"), a)))
        .collect();
    for (title, pk) in &shown {
        out.push_str(&format!("\n{title}\n"));
        for h in pk.iter() {
            n += 1;
            hop(&mut out, n, h, color);
        }
    }
    if let Some(note) = &r.note {
        out.push_str(&format!("\n{} {note}\n", tr("note:", "说明：")));
    }
    let more = r.packets.len().saturating_sub(shown.len());
    if more > 0 {
        out.push_str(&tr(
            format!("\n({} more packets of this exchange were traced, not shown: `--format json` has them all)\n", more),
            format!("\n（这次交互还有 {} 个数据包也被跟踪到，这里不再列出；`--format json` 里有全部数据包）\n", more),
        ));
    }
    let nat: Vec<_> = r
        .conntrack
        .iter()
        .filter(|c| !c.rewrites.is_empty())
        .collect();
    if !nat.is_empty() {
        out.push_str(&format!(
            "\n{}\n",
            tr("what conntrack recorded", "conntrack 记录的地址改写")
        ));
        for c in nat {
            out.push_str(&format!("  {}: {}\n", c.place, entry(&c.entry)));
            for w in &c.rewrites {
                let why = match w.kind {
                    "DNAT" => tr("the destination was rewritten", "目的地址被改写"),
                    _ => tr("the source was rewritten", "源地址被改写"),
                };
                out.push_str(&format!(
                    "      {} {} → {}  {}\n",
                    w.kind,
                    w.from,
                    w.to,
                    paren(&why)
                ));
            }
        }
    }
    out
}

/// `(text)`, with full-width parentheses in Chinese.
fn paren(text: &str) -> String {
    tr(format!("({text})"), format!("（{text}）"))
}
