//! `iptables -t TABLE -v -n -L [CHAIN]` layout (iptables 1.8.9, nf_tables).

use super::ext::{addr_display, render_match, render_target, verbatim};
use super::{Chain, Rule, Table};

/// Column header printed under every chain line. `print_header` builds it from
/// `%5s ` (pkts, bytes), `%-9s ` (target), ` prot opt`, ` %-6s %-6s ` (in,
/// out) and ` %-19s %-19s ` (source, destination), hence the trailing spaces.
const COLUMNS: &str =
    " pkts bytes target     prot opt in     out     source               destination         \n";

/// Renders one table exactly as `iptables -t <table> -v -n -L [chain]` prints
/// it: every chain (or only `chain`), separated by blank lines.
///
/// Built-in chains (those with a policy) show their policy counters; user
/// chains show how many rules of the table jump or go to them. A `chain` that
/// does not exist yields an empty string (iptables itself prints an error).
pub fn render_vnl(table: &Table, chain: Option<&str>) -> String {
    let mut out = String::new();
    for c in table
        .chains
        .iter()
        .filter(|c| chain.is_none_or(|want| c.name == want))
    {
        if !out.is_empty() {
            out.push('\n');
        }
        write_chain(&mut out, table, c);
    }
    out
}

/// Renders several tables for one combined view.
///
/// Tables come in the order `filter`, `nat`, `mangle`, `raw`, `security`,
/// then any others in input order; `only` restricts the output to the table
/// with that name. Each table is introduced by a comment line naming the
/// command whose output follows (`# iptables -t nat -v -n -L`), and tables are
/// separated by one blank line, so each block below its comment line is
/// byte-identical to the real command's output.
pub fn render_all_vnl(tables: &[Table], only: Option<&str>) -> String {
    const ORDER: [&str; 5] = ["filter", "nat", "mangle", "raw", "security"];
    let rank = |t: &Table| {
        ORDER
            .iter()
            .position(|n| *n == t.name)
            .unwrap_or(ORDER.len())
    };
    let mut picked: Vec<&Table> = tables
        .iter()
        .filter(|t| only.is_none_or(|n| t.name == n))
        .collect();
    // Stable sort: unknown tables keep their input order after the known ones.
    picked.sort_by_key(|t| rank(t));
    let blocks: Vec<String> = picked
        .iter()
        .map(|t| format!("# iptables -t {} -v -n -L\n{}", t.name, render_vnl(t, None)))
        .collect();
    blocks.join("\n")
}

fn write_chain(out: &mut String, table: &Table, chain: &Chain) {
    out.push_str("Chain ");
    out.push_str(&chain.name);
    match &chain.policy {
        Some(policy) => out.push_str(&format!(
            " (policy {policy} {}packets, {}bytes)\n",
            kmg(chain.packets, false),
            kmg(chain.bytes, false)
        )),
        None => out.push_str(&format!(
            " ({} references)\n",
            table.references(&chain.name)
        )),
    }
    out.push_str(COLUMNS);
    for rule in &chain.rules {
        write_rule(out, rule);
    }
}

/// `xtables_print_num` with `FMT_KILOMEGAGIGA`: up to 99999 the number is
/// printed as is; above that it is divided by 1000 (rounding to nearest) until
/// it fits in four digits and gets a K/M/G/T suffix. `column` selects the
/// padded table form (`%5llu `/`%4lluK `) over the one used in chain headers.
fn kmg(n: u64, column: bool) -> String {
    if n <= 99_999 {
        return if column {
            format!("{n:>5} ")
        } else {
            format!("{n} ")
        };
    }
    // Rounds like the C `(n + 500) / 1000`, without overflowing near u64::MAX.
    let div = |v: u64| v / 1000 + u64::from(v % 1000 >= 500);
    let mut v = n;
    for suffix in ['K', 'M', 'G'] {
        v = div(v);
        if v <= 9999 {
            return if column {
                format!("{v:>4}{suffix} ")
            } else {
                format!("{v}{suffix} ")
            };
        }
    }
    v = div(v);
    if column {
        format!("{v:>4}T ")
    } else {
        format!("{v}T ")
    }
}

/// A rule's arguments sorted into the fixed columns and the trailing
/// match/target text.
#[derive(Default)]
struct Spec<'a> {
    proto: Option<(bool, &'a str)>,
    src: Option<(bool, &'a str)>,
    dst: Option<(bool, &'a str)>,
    iniface: Option<(bool, &'a str)>,
    outiface: Option<(bool, &'a str)>,
    /// `Some(inverted)` when `-f` was given.
    fragment: Option<bool>,
    matches: Vec<(&'a str, &'a [String])>,
    target: Option<&'a str>,
    goto: bool,
    target_opts: &'a [String],
    /// Top-level tokens not understood here, kept for verbatim output.
    unknown: &'a [String],
}

impl<'a> Spec<'a> {
    fn parse(args: &'a [String]) -> Self {
        let mut s = Spec::default();
        let mut i = 0;
        let mut inv = false;
        while i < args.len() {
            let tok = args[i].as_str();
            let value = args.get(i + 1).map(String::as_str);
            let slot = match tok {
                "!" => {
                    inv = true;
                    i += 1;
                    continue;
                }
                "-p" | "--protocol" => Some(&mut s.proto),
                "-s" | "--source" | "--src" => Some(&mut s.src),
                "-d" | "--destination" | "--dst" => Some(&mut s.dst),
                "-i" | "--in-interface" => Some(&mut s.iniface),
                "-o" | "--out-interface" => Some(&mut s.outiface),
                _ => None,
            };
            match (slot, value) {
                (Some(slot), Some(v)) => {
                    *slot = Some((inv, v));
                    i += 2;
                }
                (None, _) if tok == "-f" || tok == "--fragment" => {
                    s.fragment = Some(inv);
                    i += 1;
                }
                (None, Some(name)) if tok == "-m" || tok == "--match" => {
                    // iptables-save puts every option of a match right after
                    // `-m NAME`, so it runs until the next match or target.
                    let start = i + 2;
                    let end = args[start..]
                        .iter()
                        .position(|t| {
                            matches!(
                                t.as_str(),
                                "-m" | "--match" | "-j" | "--jump" | "-g" | "--goto"
                            )
                        })
                        .map_or(args.len(), |p| start + p);
                    s.matches.push((name, &args[start..end]));
                    i = end;
                }
                (None, Some(name)) if matches!(tok, "-j" | "--jump" | "-g" | "--goto") => {
                    s.target = Some(name);
                    s.goto = tok.starts_with("-g") || tok == "--goto";
                    s.target_opts = &args[i + 2..];
                    break;
                }
                _ => {
                    // Unknown top-level syntax: keep the rest as is (including
                    // a pending `!`) rather than guess at its arity.
                    s.unknown = &args[if inv { i - 1 } else { i }..];
                    break;
                }
            }
            inv = false;
        }
        s
    }
}

/// Protocol column under `-n`: iptables 1.8.9 prints the protocol number,
/// so names from `iptables-save` (which come from /etc/protocols) are mapped back.
fn proto_number(name: &str) -> &str {
    const PROTOS: [(&str, &str); 20] = [
        ("all", "0"),
        ("icmp", "1"),
        ("igmp", "2"),
        ("ipencap", "4"),
        ("tcp", "6"),
        ("udp", "17"),
        ("dccp", "33"),
        ("ipv6", "41"),
        ("rsvp", "46"),
        ("gre", "47"),
        ("esp", "50"),
        ("ah", "51"),
        ("ipv6-icmp", "58"),
        ("icmpv6", "58"),
        ("ospf", "89"),
        ("ipip", "94"),
        ("pim", "103"),
        ("vrrp", "112"),
        ("sctp", "132"),
        ("udplite", "136"),
    ];
    PROTOS
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map_or(name, |(_, num)| num)
}

fn with_bang(
    field: Option<(bool, &str)>,
    default: &str,
    show: impl Fn(&str) -> String,
) -> (bool, String) {
    match field {
        Some((inv, v)) => (inv, show(v)),
        None => (false, default.to_string()),
    }
}

fn write_rule(out: &mut String, rule: &Rule) {
    let spec = Spec::parse(&rule.args);
    let bang = |inv: bool| if inv { '!' } else { ' ' };

    out.push_str(&kmg(rule.packets, true));
    out.push_str(&kmg(rule.bytes, true));
    out.push_str(&format!("{:<9} ", spec.target.unwrap_or("")));

    // Protocol and addresses put their `!` in the space before the column,
    // while interfaces prepend it inside the `%-6s` field.
    let (inv, proto) = with_bang(spec.proto, "0", |p| proto_number(p).to_string());
    out.push_str(&format!("{}{proto:<4} ", bang(inv)));

    let (frag_inv, frag) = match spec.fragment {
        Some(inv) => (inv, true),
        None => (false, false),
    };
    out.push(if frag_inv { '!' } else { '-' });
    out.push(if frag { 'f' } else { '-' });
    out.push(' ');

    let iface = |f: Option<(bool, &str)>| match f {
        Some((inv, name)) => format!("{}{name}", if inv { "!" } else { "" }),
        None => "*".to_string(),
    };
    out.push_str(&format!(" {:<6} ", iface(spec.iniface)));
    out.push_str(&format!("{:<6} ", iface(spec.outiface)));

    for field in [spec.src, spec.dst] {
        let (inv, addr) = with_bang(field, "0.0.0.0/0", addr_display);
        out.push_str(&format!("{}{addr:<19} ", bang(inv)));
    }

    if spec.goto {
        out.push_str("[goto] ");
    }
    for (name, opts) in &spec.matches {
        out.push_str(&render_match(name, opts));
    }
    if let Some(target) = spec.target {
        out.push_str(&render_target(target, spec.target_opts));
    }
    out.push_str(&verbatim([], spec.unknown));
    out.push('\n');
}

#[cfg(test)]
mod tests {
    use super::super::parse_iptables_save;
    use super::*;

    fn tables() -> Vec<Table> {
        parse_iptables_save(include_str!("../testdata/iptables_save.txt")).unwrap()
    }

    fn table<'a>(tables: &'a [Table], name: &str) -> &'a Table {
        tables.iter().find(|t| t.name == name).unwrap()
    }

    /// Compares line by line first so a failure points at the differing rule.
    fn assert_same(got: &str, want: &str) {
        for (n, (g, w)) in got.lines().zip(want.lines()).enumerate() {
            assert_eq!(g, w, "line {} differs", n + 1);
        }
        assert_eq!(got, want);
    }

    #[test]
    fn golden_nat() {
        let t = tables();
        assert_same(
            &render_vnl(table(&t, "nat"), None),
            include_str!("../testdata/iptables_nat_vnL.txt"),
        );
    }

    #[test]
    fn golden_filter() {
        let t = tables();
        assert_same(
            &render_vnl(table(&t, "filter"), None),
            include_str!("../testdata/iptables_filter_vnL.txt"),
        );
    }

    #[test]
    fn golden_single_chain() {
        let t = tables();
        assert_same(
            &render_vnl(table(&t, "nat"), Some("DOCKER")),
            include_str!("../testdata/iptables_nat_DOCKER_vnL.txt"),
        );
        assert_eq!(render_vnl(table(&t, "nat"), Some("NOPE")), "");
    }

    #[test]
    fn all_tables_wraps_real_outputs() {
        let t = tables();
        let all = render_all_vnl(&t, None);
        let want = format!(
            "# iptables -t filter -v -n -L\n{}\n# iptables -t nat -v -n -L\n{}",
            include_str!("../testdata/iptables_filter_vnL.txt"),
            include_str!("../testdata/iptables_nat_vnL.txt"),
        );
        assert_same(&all, &want);
        let nat_only = render_all_vnl(&t, Some("nat"));
        assert!(nat_only.starts_with("# iptables -t nat -v -n -L\nChain PREROUTING"));
        assert!(!nat_only.contains("Chain FORWARD"));
    }

    #[test]
    fn kmg_rounds_like_xtables_print_num() {
        assert_eq!(kmg(99_999, true), "99999 ");
        assert_eq!(kmg(100_499, true), " 100K ");
        assert_eq!(kmg(9_999_499, true), "9999K ");
        assert_eq!(kmg(9_999_500, true), "  10M ");
        assert_eq!(kmg(u64::MAX, true), "18446744T ");
        assert_eq!(kmg(123_456, false), "123K ");
    }

    #[test]
    fn unknown_top_level_options_are_kept() {
        let rule = Rule {
            packets: 0,
            bytes: 0,
            args: ["!", "--weird", "x", "-j", "ACCEPT"]
                .map(String::from)
                .to_vec(),
        };
        let mut out = String::new();
        write_rule(&mut out, &rule);
        assert!(
            out.ends_with("0.0.0.0/0            ! --weird x -j ACCEPT\n"),
            "{out:?}"
        );
    }
}
