//! Match and target extensions, printed the way their libxtables `print`
//! hooks do under `iptables -n -L` (iptables 1.8.9).
//!
//! Matches: `addrtype`, `comment`, `conntrack`, `icmp`, `mark`, `multiport`,
//! `state`, `tcp`, `udp`. Targets: `DNAT`, `SNAT`, `MASQUERADE`, `REDIRECT`,
//! `REJECT`, `MARK`, `CONNMARK` (save/restore), `LOG`, plus option-less verdicts and chain jumps.
//! Everything is driven by the option order of `iptables-save`, which is the
//! same order the print hooks use. A module or option not known here makes the
//! whole match (or target) fall back to its `iptables-save` text, so nothing is
//! silently dropped.

/// Walks a match's or target's options, folding a leading `!` into the option.
struct Cursor<'a> {
    toks: &'a [String],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn new(toks: &'a [String]) -> Self {
        Self { toks, pos: 0 }
    }

    /// Next `(inverted, --option)`, or `None` at the end.
    fn next_opt(&mut self) -> Option<(bool, &'a str)> {
        let mut inv = false;
        if self.toks.get(self.pos).is_some_and(|t| t == "!") {
            inv = true;
            self.pos += 1;
        }
        let opt = self.toks.get(self.pos)?;
        self.pos += 1;
        Some((inv, opt.as_str()))
    }

    /// The value following an option.
    fn value(&mut self) -> Option<&'a str> {
        let v = self.toks.get(self.pos)?;
        self.pos += 1;
        Some(v.as_str())
    }
}

/// Renders one `-m NAME opts...` match (with its leading space).
pub(super) fn render_match(name: &str, opts: &[String]) -> String {
    let known = match name {
        "addrtype" => addrtype(opts),
        "comment" => comment(opts),
        "conntrack" => conntrack(opts),
        "state" => state(opts),
        "tcp" | "udp" => tcp_udp(name, opts),
        "icmp" => icmp(opts),
        "mark" => mark_match(opts),
        "multiport" => multiport(opts),
        _ => None,
    };
    known.unwrap_or_else(|| verbatim(["-m", name], opts))
}

/// Renders the options of target `name` (with a leading space, or empty).
pub(super) fn render_target(name: &str, opts: &[String]) -> String {
    let known = match name {
        "DNAT" | "SNAT" => nat(opts),
        "MASQUERADE" => port_target(opts, " masq ports: ", &["--random", "--random-fully"]),
        "REDIRECT" => port_target(opts, " redir ports ", &["--random"]),
        "REJECT" => reject(opts),
        "MARK" => mark_target(opts),
        "CONNMARK" => connmark(opts),
        "LOG" => log(opts),
        // Verdicts and chain jumps print nothing after the addresses.
        _ if opts.is_empty() => Some(String::new()),
        _ => None,
    };
    known.unwrap_or_else(|| verbatim([], opts))
}

/// The `iptables-save` spelling of options nothing here understands, so a
/// reader still sees them; tokens that need it are re-quoted.
pub(super) fn verbatim<const N: usize>(head: [&str; N], opts: &[String]) -> String {
    let mut s = String::new();
    for t in head.iter().copied().chain(opts.iter().map(String::as_str)) {
        s.push(' ');
        if t.is_empty() || t.contains(char::is_whitespace) {
            s.push('"');
            s.push_str(&t.replace('\\', "\\\\").replace('"', "\\\""));
            s.push('"');
        } else {
            s.push_str(t);
        }
    }
    s
}

fn bang(inv: bool) -> &'static str {
    if inv { "!" } else { "" }
}

/// conntrack-style inversion is a separate ` !` word before the keyword.
fn word_bang(inv: bool) -> &'static str {
    if inv { " !" } else { "" }
}

fn addrtype(opts: &[String]) -> Option<String> {
    let mut s = String::from(" ADDRTYPE match");
    let mut c = Cursor::new(opts);
    while let Some((inv, opt)) = c.next_opt() {
        match opt {
            "--src-type" => s += &format!(" src-type {}{}", bang(inv), c.value()?),
            "--dst-type" => s += &format!(" dst-type {}{}", bang(inv), c.value()?),
            "--limit-iface-in" => s += " limit-in",
            "--limit-iface-out" => s += " limit-out",
            _ => return None,
        }
    }
    Some(s)
}

fn comment(opts: &[String]) -> Option<String> {
    match opts {
        [opt, text] if opt == "--comment" => Some(format!(" /* {text} */")),
        _ => None,
    }
}

/// Conntrack states in the order libxt_conntrack prints them, whatever order
/// the rule was written in.
fn canonical_states(list: &str) -> Option<String> {
    const ORDER: [&str; 7] = [
        "INVALID",
        "NEW",
        "RELATED",
        "ESTABLISHED",
        "UNTRACKED",
        "SNAT",
        "DNAT",
    ];
    let given: Vec<&str> = list.split(',').collect();
    if given.iter().any(|g| !ORDER.contains(g)) {
        return None;
    }
    let names: Vec<&str> = ORDER.into_iter().filter(|o| given.contains(o)).collect();
    Some(names.join(","))
}

fn conntrack(opts: &[String]) -> Option<String> {
    let mut s = String::new();
    let mut c = Cursor::new(opts);
    while let Some((inv, opt)) = c.next_opt() {
        let key = opt.strip_prefix("--")?;
        let value = c.value()?;
        let shown = match key {
            "ctstate" => canonical_states(value)?,
            "ctorigsrc" | "ctorigdst" | "ctreplsrc" | "ctrepldst" => addr_display(value),
            "ctproto" | "ctstatus" | "ctexpire" | "ctdir" | "ctorigsrcport" | "ctorigdstport"
            | "ctreplsrcport" | "ctrepldstport" => value.to_string(),
            _ => return None,
        };
        s += &format!("{} {key} {shown}", word_bang(inv));
    }
    Some(s)
}

fn state(opts: &[String]) -> Option<String> {
    let mut c = Cursor::new(opts);
    let (inv, opt) = c.next_opt()?;
    let states = canonical_states(c.value()?)?;
    (opt == "--state" && c.next_opt().is_none())
        .then(|| format!("{} state {states}", word_bang(inv)))
}

/// Parses a `--tcp-flags` list (`FIN,SYN,RST,ACK`, `ALL`, `NONE`) into its bitmask.
fn tcp_flag_bits(list: &str) -> Option<u8> {
    list.split(',').try_fold(0u8, |acc, f| {
        let bit = match f {
            "FIN" => 0x01,
            "SYN" => 0x02,
            "RST" => 0x04,
            "PSH" => 0x08,
            "ACK" => 0x10,
            "URG" => 0x20,
            "ALL" => 0x3f,
            "NONE" => 0,
            _ => return None,
        };
        Some(acc | bit)
    })
}

fn tcp_udp(proto: &str, opts: &[String]) -> Option<String> {
    let mut s = format!(" {proto}");
    let mut c = Cursor::new(opts);
    while let Some((inv, opt)) = c.next_opt() {
        match opt {
            "--sport" | "--source-port" | "--dport" | "--destination-port" => {
                let name = if opt.starts_with("--s") { "spt" } else { "dpt" };
                let v = c.value()?;
                // A range prints as `dpts:1:2`, a single port as `dpt:80`.
                let plural = if v.contains(':') { "s" } else { "" };
                s += &format!(" {name}{plural}:{}{v}", bang(inv));
            }
            "--tcp-option" if proto == "tcp" => {
                s += &format!(" option={}{}", bang(inv), c.value()?);
            }
            "--tcp-flags" | "--syn" if proto == "tcp" => {
                let (mask, cmp) = if opt == "--syn" {
                    (0x17, 0x02)
                } else {
                    (tcp_flag_bits(c.value()?)?, tcp_flag_bits(c.value()?)?)
                };
                // With -n the flags are printed as hex, not names.
                s += &format!(" flags:{}0x{mask:02X}/0x{cmp:02X}", bang(inv));
            }
            _ => return None,
        }
    }
    Some(s)
}

fn icmp(opts: &[String]) -> Option<String> {
    let mut c = Cursor::new(opts);
    let (inv, opt) = c.next_opt()?;
    if opt != "--icmp-type" {
        return None;
    }
    let value = c.value()?;
    if c.next_opt().is_some() {
        return None;
    }
    let (ty, code) = match value {
        "any" => ("255", None),
        "echo-reply" => ("0", None),
        "destination-unreachable" => ("3", None),
        "source-quench" => ("4", None),
        "redirect" => ("5", None),
        "echo-request" => ("8", None),
        "time-exceeded" => ("11", None),
        "parameter-problem" => ("12", None),
        v => match v.split_once('/') {
            Some((t, code)) => (t, Some(code)),
            None => (v, None),
        },
    };
    if !ty.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    // libxt_icmp prints " icmp", then " !" when inverted, then "type N":
    // hence the odd `icmptype 8` next to `icmp !type 8`.
    let code = code.map(|c| format!(" code {c}")).unwrap_or_default();
    Some(format!(" icmp{}type {ty}{code}", word_bang(inv)))
}

fn mark_match(opts: &[String]) -> Option<String> {
    let mut c = Cursor::new(opts);
    let (inv, opt) = c.next_opt()?;
    let value = c.value()?;
    (opt == "--mark" && c.next_opt().is_none())
        .then(|| format!(" mark match{} {value}", word_bang(inv)))
}

fn multiport(opts: &[String]) -> Option<String> {
    let mut c = Cursor::new(opts);
    let (inv, opt) = c.next_opt()?;
    let kind = match opt {
        "--dports" | "--destination-ports" => "dports",
        "--sports" | "--source-ports" => "sports",
        "--ports" => "ports",
        _ => return None,
    };
    let list = c.value()?;
    // libxt_multiport prints "dports " and then " !", hence `dports  !80,443`.
    c.next_opt()
        .is_none()
        .then(|| format!(" multiport {kind} {}{list}", word_bang(inv)))
}

fn nat(opts: &[String]) -> Option<String> {
    let mut s = String::new();
    let mut c = Cursor::new(opts);
    while let Some((inv, opt)) = c.next_opt() {
        match opt {
            _ if inv => return None,
            "--to-destination" | "--to-source" => s += &format!(" to:{}", c.value()?),
            "--random" | "--random-fully" | "--persistent" => {
                s += " ";
                s += &opt[2..];
            }
            _ => return None,
        }
    }
    Some(s)
}

/// MASQUERADE and REDIRECT: an optional port range plus random flags.
fn port_target(opts: &[String], ports_label: &str, flags: &[&str]) -> Option<String> {
    let mut s = String::new();
    let mut c = Cursor::new(opts);
    while let Some((inv, opt)) = c.next_opt() {
        match opt {
            _ if inv => return None,
            "--to-ports" => s += &format!("{ports_label}{}", c.value()?),
            f if flags.contains(&f) => {
                s += " ";
                s += &f[2..];
            }
            _ => return None,
        }
    }
    Some(s)
}

fn reject(opts: &[String]) -> Option<String> {
    match opts {
        // The kernel default; `-L` names it even when the rule did not.
        [] => Some(" reject-with icmp-port-unreachable".into()),
        [opt, with] if opt == "--reject-with" => Some(format!(" reject-with {with}")),
        _ => None,
    }
}

fn parse_u32(text: &str) -> Option<u32> {
    match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        Some(hex) => u32::from_str_radix(hex, 16).ok(),
        None => text.parse().ok(),
    }
}

/// `value[/mask]` with the mask defaulting to all ones.
fn value_mask(text: &str) -> Option<(u32, u32)> {
    match text.split_once('/') {
        Some((v, m)) => Some((parse_u32(v)?, parse_u32(m)?)),
        None => Some((parse_u32(text)?, u32::MAX)),
    }
}

fn mark_target(opts: &[String]) -> Option<String> {
    let [opt, arg] = opts else { return None };
    // Normalise every spelling to libxt_MARK's (mark, mask) pair: the packet
    // mark becomes (old & ~mask) ^ mark.
    let (mark, mask) = match opt.as_str() {
        "--set-xmark" => value_mask(arg)?,
        "--set-mark" => {
            let (v, m) = value_mask(arg)?;
            (v, v | m)
        }
        "--and-mark" => (0, !parse_u32(arg)?),
        "--or-mark" => {
            let v = parse_u32(arg)?;
            (v, v)
        }
        "--xor-mark" => (parse_u32(arg)?, 0),
        _ => return None,
    };
    // Same case analysis as libxt_MARK's mark_tg_print.
    Some(if mark == 0 {
        format!(" MARK and 0x{:x}", !mask)
    } else if mark == mask {
        format!(" MARK or 0x{mark:x}")
    } else if mask == 0 {
        format!(" MARK xor 0x{mark:x}")
    } else if mask == u32::MAX {
        format!(" MARK set 0x{mark:x}")
    } else {
        format!(" MARK xset 0x{mark:x}/0x{mask:x}")
    })
}

/// Only the plain save/restore forms (both masks all ones, which is what
/// `iptables-save` writes for `--save-mark`/`--restore-mark` without masks);
/// other CONNMARK spellings fall back to their save syntax.
fn connmark(opts: &[String]) -> Option<String> {
    let (mode, masks) = opts.split_first()?;
    let word = match mode.as_str() {
        "--save-mark" => "save",
        "--restore-mark" => "restore",
        _ => return None,
    };
    let full = masks.is_empty()
        || matches!(masks, [a, x, b, y]
            if a == "--nfmask" && b == "--ctmask" && value_mask(x) == Some((u32::MAX, u32::MAX))
                && value_mask(y) == Some((u32::MAX, u32::MAX)));
    full.then(|| format!(" CONNMARK {word}"))
}

fn log(opts: &[String]) -> Option<String> {
    // Defaults from libxt_LOG: syslog level warning (4), no flags, no prefix.
    let (mut level, mut flags, mut prefix) = (4u8, 0u8, None);
    let mut c = Cursor::new(opts);
    while let Some((inv, opt)) = c.next_opt() {
        match opt {
            _ if inv => return None,
            "--log-prefix" => prefix = Some(c.value()?),
            "--log-level" => {
                let v = c.value()?;
                const NAMES: [&str; 8] = [
                    "emerg", "alert", "crit", "error", "warning", "notice", "info", "debug",
                ];
                level = match NAMES.iter().position(|n| *n == v) {
                    Some(p) => u8::try_from(p).ok()?,
                    None => v.parse().ok()?,
                };
            }
            "--log-tcp-sequence" => flags |= 0x01,
            "--log-tcp-options" => flags |= 0x02,
            "--log-ip-options" => flags |= 0x04,
            "--log-uid" => flags |= 0x08,
            "--log-macdecode" => flags |= 0x20,
            _ => return None,
        }
    }
    // -n prints flags and level as numbers rather than names.
    let mut s = format!(" LOG flags {flags} level {level}");
    if let Some(p) = prefix.filter(|p| !p.is_empty()) {
        s += &format!(" prefix \"{p}\"");
    }
    Some(s)
}

/// An address as `-L -n` shows it: a /32 (or /128) mask is dropped, a dotted
/// netmask becomes a prefix length when it is contiguous.
pub(super) fn addr_display(value: &str) -> String {
    let Some((addr, mask)) = value.split_once('/') else {
        return value.to_string();
    };
    let full = if addr.contains(':') { 128 } else { 32 };
    let bits = match mask.parse::<u32>() {
        Ok(n) => Some(n),
        Err(_) => mask
            .parse::<std::net::Ipv4Addr>()
            .ok()
            .map(u32::from)
            .filter(|m| m.leading_ones() + m.trailing_zeros() == 32)
            .map(u32::leading_ones),
    };
    match bits {
        Some(b) if b == full => addr.to_string(),
        Some(b) => format!("{addr}/{b}"),
        None => value.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn unknown_things_fall_back_to_save_syntax() {
        assert_eq!(
            render_match("physdev", &toks("--physdev-in veth0")),
            " -m physdev --physdev-in veth0"
        );
        assert_eq!(
            render_match("tcp", &toks("--dport 80 --weird")),
            " -m tcp --dport 80 --weird"
        );
        let opts = vec!["--save-mark".to_string(), "a b".to_string()];
        assert_eq!(render_target("CONNMARK", &opts), " --save-mark \"a b\"");
        assert_eq!(
            render_target("CONNMARK", &toks("--save-mark --nfmask 0xff --ctmask 0xff")),
            " --save-mark --nfmask 0xff --ctmask 0xff"
        );
        assert_eq!(render_target("ACCEPT", &[]), "");
    }

    #[test]
    fn conntrack_states_are_reordered() {
        assert_eq!(
            render_match("conntrack", &toks("--ctstate ESTABLISHED,RELATED")),
            " ctstate RELATED,ESTABLISHED"
        );
        assert_eq!(
            render_match("state", &toks("! --state NEW")),
            " ! state NEW"
        );
    }

    #[test]
    fn mark_target_spellings() {
        assert_eq!(
            render_target("MARK", &toks("--set-mark 0x2")),
            " MARK set 0x2"
        );
        assert_eq!(
            render_target("MARK", &toks("--and-mark 0xff")),
            " MARK and 0xff"
        );
        assert_eq!(render_target("MARK", &toks("--or-mark 4")), " MARK or 0x4");
    }

    #[test]
    fn addresses() {
        assert_eq!(addr_display("172.17.0.2/32"), "172.17.0.2");
        assert_eq!(addr_display("172.17.0.0/16"), "172.17.0.0/16");
        assert_eq!(addr_display("10.0.0.0/255.255.0.0"), "10.0.0.0/16");
        assert_eq!(addr_display("10.0.0.0/255.0.255.0"), "10.0.0.0/255.0.255.0");
        assert_eq!(addr_display("fd00::1/128"), "fd00::1");
    }
}
