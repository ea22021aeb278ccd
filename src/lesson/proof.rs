//! What a passing check shows as its proof: the lines of output that hold what it
//! looked for (the right ones: the new veth, the container's own line), cut to the
//! terminal around those texts, and for a negative check which text was absent from
//! how many lines.

use super::check::in_order;
use super::model::{Check, Lang};
use super::ui::tr;
use super::vars::Vars;

/// Widest proof line: `        → ` and this fit 80 columns.
const PROOF_WIDTH: usize = 70;

/// What shows that a passing check held, one line per fact: the line each `lines`
/// entry matched; else the lines that hold the `contains` texts (at most
/// [`MAX_PROOF_LINES`], those holding the most first, the later text on a tie: lists
/// name the old before the new, the general before the own), in the output's order;
/// for `empty` and `line_count` what the output was; and for `not_contains` which text
/// was absent from how many lines. `counted` is the command's stdout.
pub(super) fn proof(
    check: &Check,
    text: &str,
    counted: &str,
    vars: &Vars,
    lang: Lang,
) -> Option<String> {
    let exp = |s: &str| vars.expand(s).unwrap_or_default();
    let mut out: Vec<String> = Vec::new();
    for parts in check.lines.iter().take(2 * MAX_PROOF_LINES) {
        let parts: Vec<String> = parts.iter().map(|p| exp(p)).collect();
        if let Some(l) = text.lines().find(|l| in_order(l, &parts)) {
            out.push(excerpt_keys(l, &parts, PROOF_WIDTH));
        }
    }
    if out.is_empty() && !check.contains.is_empty() {
        let wants: Vec<String> = check.contains.iter().map(|c| exp(c)).collect();
        for (line, keys) in covering_lines(text, &wants, MAX_PROOF_LINES) {
            out.push(excerpt_keys(line, &keys, PROOF_WIDTH));
        }
    }
    if check.empty {
        out.push(tr(lang, "no_output"));
    }
    if let Some(n) = check.line_count {
        if out.is_empty() && n == 1 {
            let first = counted.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
            out.push(excerpt(first, "", PROOF_WIDTH));
        } else {
            out.push(match lang {
                Lang::En if n == 1 => "1 line in all".to_string(),
                Lang::En => format!("{n} lines in all"),
                Lang::Zh => format!("共 {n} 行"),
            });
        }
    }
    out.extend(absent(check, text, vars, lang));
    out.dedup();
    (!out.is_empty()).then(|| join_proof(out))
}

/// An error message or a last line: its end is what it says (`… Network is unreachable`).
pub(super) fn tail_excerpt(line: &str) -> String {
    let words: Vec<&str> = line.split_whitespace().collect();
    let tail = words[words.len().saturating_sub(3)..].join(" ");
    excerpt_keys(line, &[tail], PROOF_WIDTH)
}

/// Most lines of output a proof quotes.
const MAX_PROOF_LINES: usize = 2;

/// Proof lines joined: on one line (` · `) when they fit, else one a line.
pub(super) fn join_proof(parts: Vec<String>) -> String {
    let one = parts.join(" · ");
    if super::ui::text_width(&one) <= PROOF_WIDTH {
        one
    } else {
        parts.join("\n")
    }
}

/// Up to `max` lines of `text` that between them hold as many of `wants` as they can:
/// each time the line holding the most wants not yet shown (the later want on a tie),
/// returned in the output's order, each with the wants it holds.
fn covering_lines<'t>(text: &'t str, wants: &[String], max: usize) -> Vec<(&'t str, Vec<String>)> {
    let lines: Vec<&str> = text.lines().collect();
    let mut left: Vec<usize> = (0..wants.len()).filter(|i| !wants[*i].is_empty()).collect();
    let mut picked: Vec<(usize, Vec<String>)> = Vec::new();
    while !left.is_empty() && picked.len() < max {
        let mut best: Option<(usize, usize, usize)> = None; // (held, last want, line)
        for (n, line) in lines.iter().enumerate() {
            let held: Vec<usize> = left
                .iter()
                .copied()
                .filter(|i| line.contains(wants[*i].as_str()))
                .collect();
            if let Some(&last) = held.last()
                && best.is_none_or(|(h, l, _)| (held.len(), last) > (h, l))
            {
                best = Some((held.len(), last, n));
            }
        }
        let Some((_, _, n)) = best else { break };
        let keys: Vec<String> = wants
            .iter()
            .filter(|w| !w.is_empty() && lines[n].contains(w.as_str()))
            .cloned()
            .collect();
        left.retain(|i| !lines[n].contains(wants[*i].as_str()));
        picked.push((n, keys));
    }
    picked.sort_by_key(|(n, _)| *n);
    picked.into_iter().map(|(n, k)| (lines[n], k)).collect()
}

/// `line` with runs of spaces collapsed, cut to about `max` characters so that every
/// one of `keys` shows: the words holding them, and as many words around them as fit,
/// the gaps marked `…`.
fn excerpt_keys(line: &str, keys: &[String], max: usize) -> String {
    let words: Vec<&str> = line.split_whitespace().collect();
    let joined = words.join(" ");
    if joined.chars().count() <= max {
        return joined;
    }
    // Each word's range of characters in `joined`, and whether it holds part of a key.
    let mut spans = Vec::with_capacity(words.len());
    let mut at = 0;
    for w in &words {
        let n = w.chars().count();
        spans.push((at, at + n));
        at += n + 1;
    }
    let mut keep = vec![false; words.len()];
    for k in keys {
        let k = k.split_whitespace().collect::<Vec<_>>().join(" ");
        if k.is_empty() {
            continue;
        }
        if let Some(b) = joined.find(k.as_str()) {
            let (a, z) = (
                joined[..b].chars().count(),
                joined[..b].chars().count() + k.chars().count(),
            );
            for (i, (s, e)) in spans.iter().enumerate() {
                if *s < z && *e > a {
                    keep[i] = true;
                }
            }
        }
    }
    if !keep.contains(&true) {
        return excerpt(&joined, "", max);
    }
    let width = |keep: &[bool]| -> usize {
        let mut total = 0;
        let mut prev_kept = true;
        for (i, w) in words.iter().enumerate() {
            if keep[i] {
                total += w.chars().count() + 1;
            } else if prev_kept {
                total += 2; // "…" and a space
            }
            prev_kept = keep[i];
        }
        total
    };
    // Grow every kept stretch by a word on each side, in turn, while it fits.
    loop {
        let mut grew = false;
        for i in 0..words.len() {
            for j in [i.checked_sub(1), Some(i + 1)].into_iter().flatten() {
                if keep[i] && j < words.len() && !keep[j] {
                    let mut next = keep.clone();
                    next[j] = true;
                    if width(&next) <= max + 1 {
                        keep = next;
                        grew = true;
                    }
                }
            }
        }
        if !grew {
            break;
        }
    }
    let mut out: Vec<&str> = Vec::new();
    let mut gap = false;
    for (i, w) in words.iter().enumerate() {
        if keep[i] {
            if gap || (i > 0 && out.is_empty()) {
                out.push("…");
            }
            out.push(w);
            gap = false;
        } else {
            gap = true;
        }
    }
    if gap {
        out.push("…");
    }
    out.join(" ")
}

/// For `not_contains`: "no line of its N lines has “X”", one line for them all.
pub(super) fn absent(check: &Check, text: &str, vars: &Vars, lang: Lang) -> Option<String> {
    if check.not_contains.is_empty() {
        return None;
    }
    let bad: Vec<String> = check
        .not_contains
        .iter()
        .map(|b| format!("“{}”", vars.expand(b).unwrap_or_else(|e| e)))
        .collect();
    let n = text.lines().count();
    let (en, zh) = (bad.join(" or "), bad.join("、"));
    Some(match (lang, n) {
        (Lang::En, 0) => format!("no output, so no {en}"),
        (Lang::En, 1) => format!("its one line has no {en}"),
        (Lang::En, _) => format!("none of its {n} lines has {en}"),
        (Lang::Zh, 0) => format!("没有输出，自然也没有{zh}"),
        (Lang::Zh, 1) => format!("输出只有一行，其中没有{zh}"),
        (Lang::Zh, _) => format!("输出的 {n} 行里都没有{zh}"),
    })
}

/// `line` with runs of spaces collapsed, cut to `max` characters around `key`.
fn excerpt(line: &str, key: &str, max: usize) -> String {
    let line = line.split_whitespace().collect::<Vec<_>>().join(" ");
    let chars: Vec<char> = line.chars().collect();
    if chars.len() <= max {
        return line;
    }
    let at = line
        .find(key)
        .map(|b| line[..b].chars().count())
        .unwrap_or(0);
    let start = at.saturating_sub(max / 3).min(chars.len() - max);
    let mut s: String = chars[start..start + max].iter().collect();
    if start > 0 {
        s.insert(0, '…');
    }
    if start + max < chars.len() {
        s.push('…');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excerpts_collapse_spaces_and_keep_the_match() {
        assert_eq!(excerpt("a    b", "b", 10), "a b");
        let long = format!("{} KEY {}", "x ".repeat(60), "y ".repeat(60));
        let e = excerpt(&long, "KEY", 30);
        assert!(
            e.contains("KEY") && e.starts_with('…') && e.ends_with('…'),
            "{e}"
        );
    }

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn the_proof_is_the_line_of_the_new_or_own_object() {
        // brctl show after a second container: the new veth's line, and the old one's.
        let brctl = "bridge name\tbridge id\t\tSTP enabled\tinterfaces\ndocker0\t\t8000.0242d4c5c108\tno\t\tveth51b6fe1\n\t\t\t\t\t\t\tvethba39bb0\n";
        let got = covering_lines(brctl, &strings(&["vethba39bb0", "veth51b6fe1"]), 2);
        let lines: Vec<&str> = got.iter().map(|g| g.0.trim()).collect();
        assert_eq!(
            lines,
            [
                "docker0\t\t8000.0242d4c5c108\tno\t\tveth51b6fe1",
                "vethba39bb0"
            ]
        );
        // /etc/hosts: the container's own line comes first among equals, not localhost.
        let hosts = "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nff02::2\tip6-allrouters\n172.17.0.2\tf4f117217cdb\n";
        let wants = strings(&[
            "127.0.0.1\tlocalhost",
            "::1\tlocalhost",
            "ff02::2",
            "172.17.0.2\tf4f117217cdb",
        ]);
        let one = covering_lines(hosts, &wants, 1);
        assert_eq!(one[0].0, "172.17.0.2\tf4f117217cdb");
        // A line holding two wants beats two lines holding one each.
        let link = "3: docker0: <UP>\n4: veth1@if2: <UP> master docker0\n";
        let got = covering_lines(link, &strings(&["veth1@if", "master docker0"]), 2);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].0, "4: veth1@if2: <UP> master docker0");
    }

    #[test]
    fn a_long_line_keeps_every_key() {
        let l = "4: vetha9d12e7@if2: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue master docker0 state UP mode DEFAULT group default qlen 1000";
        let e = excerpt_keys(l, &strings(&["vetha9d12e7@if", "master docker0"]), 60);
        assert!(
            e.contains("vetha9d12e7@if") && e.contains("master docker0"),
            "{e}"
        );
        assert!(e.chars().count() <= 64, "{e}");
        assert_eq!(excerpt_keys("a   b", &strings(&["b"]), 60), "a b");
    }
}
