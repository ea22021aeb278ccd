//! Evaluating a check against the kernel: run a command and match its exit status and
//! output, watch an iptables counter grow, pair veth indexes, or read a background
//! command's output. Each attempt may be repeated for `within` seconds.

use super::exec::{Interrupted, Outcome, Runner};
use super::model::{Check, Expect, Lang};
use super::proof::{absent, join_proof, proof, tail_excerpt};
use super::ui::{tr, trf};
use super::vars::{Vars, quote};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// The result of a check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// It holds; with what was seen, when that is worth showing.
    Pass(Option<String>),
    /// It does not hold.
    Fail {
        /// What the check wanted.
        expected: String,
        /// What the kernel showed.
        seen: String,
    },
    /// Not run, and why.
    Skip(String),
}

/// What a check needs from the lesson.
pub struct Context<'a> {
    /// Runs dockernet.
    pub runner: &'a Runner,
    /// Placeholders (a check may save one).
    pub vars: &'a mut Vars,
    /// Output of the step's background commands so far, by id (absent: not started).
    pub logs: &'a BTreeMap<String, super::exec::Capture>,
    /// Language of messages.
    pub lang: Lang,
}

/// The commands a check runs, for display (`dockernet exec ...`), expanded if possible.
pub fn commands(check: &Check, vars: &Vars) -> Vec<String> {
    let show = |c: &str| match vars.argv(c) {
        Ok(argv) => format!(
            "dockernet {}",
            argv.iter().map(|w| quote(w)).collect::<Vec<_>>().join(" ")
        ),
        Err(_) => format!("dockernet {c}"),
    };
    let mut out = Vec::new();
    if let Some(c) = &check.counter {
        out.push(show(&counter_command(c)));
    }
    if let Some(name) = &check.veth_pair {
        out.push(show(&format!("host -- ip -o link show {{veth:{name}}}")));
        out.push(show(&format!("exec {name} ip -o link show eth0")));
    }
    if let Some(r) = &check.run {
        out.push(show(r));
    }
    out
}

/// `host -- iptables …` / `world -- iptables …`, or, for a container's own tables (the
/// embedded DNS server's redirect rules live there), `host -- ip netns exec NS iptables
/// …`: a container has neither iptables nor the right to use it, so one looks from the
/// Docker host, as `nsenter -n -t PID iptables` would.
/// With `host`, the command runs on that lab host (`-H host2 …`).
fn counter_command(c: &super::model::Counter) -> String {
    let rest = format!("iptables -t {} -vnxL {}", c.table, c.chain);
    let cmd = match c.on.as_str() {
        "host" | "world" => format!("{} -- {rest}", c.on),
        name => format!("host -- ip netns exec {{ns:{name}}} {rest}"),
    };
    match &c.host {
        Some(h) => format!("-H {h} {cmd}"),
        None => cmd,
    }
}

/// Evaluate a check, retrying for `within` seconds.
pub async fn evaluate(check: &Check, ctx: &mut Context<'_>) -> Result<Verdict, Interrupted> {
    for prog in check.requires.iter() {
        if crate::util::which(prog).is_none() {
            return Ok(Verdict::Skip(
                tr(ctx.lang, "not_installed").replace("{}", prog),
            ));
        }
    }
    if let Some(id) = &check.log
        && !ctx.logs.contains_key(id)
    {
        return Ok(Verdict::Skip(
            tr(ctx.lang, "bg_not_started").replace("{}", id),
        ));
    }
    let deadline = Instant::now() + Duration::from_secs_f64(check.within.max(0.0));
    loop {
        let v = attempt(check, ctx).await?;
        if matches!(v, Verdict::Pass(_)) || Instant::now() >= deadline {
            return Ok(v);
        }
        ctx.runner
            .signals()
            .sleep(Duration::from_millis(100))
            .await?;
    }
}

async fn attempt(check: &Check, ctx: &mut Context<'_>) -> Result<Verdict, Interrupted> {
    let lang = ctx.lang;
    if let Some(name) = &check.veth_pair {
        return veth_pair(name, ctx).await;
    }
    // A missing rule is reported after the traffic was tried: the learner sees what
    // its absence does (a request that never comes back), not only that it is absent.
    let before = match &check.counter {
        Some(c) => Some(read_counter(c, ctx).await?),
        None => None,
    };
    let mut seen_run = None;
    if let Some(run) = &check.run {
        let argv = match ctx.vars.argv(run) {
            Ok(a) => a,
            Err(e) => return Ok(fail(tr(lang, "runnable"), e)),
        };
        let timeout = Duration::from_secs_f64(check.timeout.unwrap_or(10.0));
        let out = ctx
            .runner
            .dockernet(&argv, false, Some(timeout), &format!("dockernet {run}"))
            .await?;
        let status_ok = match check.expect {
            Expect::Ok => out.success(),
            Expect::Fail => !out.success(),
            Expect::Any => true,
        };
        if !status_ok {
            let expected = match check.expect {
                Expect::Ok => tr(lang, "expect_ok"),
                _ => tr(lang, "expect_fail"),
            };
            let mut seen = describe(&out, timeout, lang);
            if let (Some(Err(_)), Some(c)) = (&before, &check.counter) {
                let rule: Vec<String> = c
                    .rule
                    .iter()
                    .map(|r| ctx.vars.expand(r).unwrap_or_else(|e| e))
                    .collect();
                seen.push('\n');
                seen.push_str(&rule_text(lang, "rule_missing", c, &rule));
            }
            return Ok(fail(expected, seen));
        }
        if check.log.is_none() {
            if let Some(v) = match_text(check, &out.text(), &out.stdout, ctx.vars, lang) {
                return Ok(v);
            }
            if let Some(key) = &check.save {
                ctx.vars.set(key, out.stdout.trim());
            }
        }
        seen_run = Some(out);
    }
    if let Some(id) = &check.log {
        let text = ctx.logs.get(id).map(|c| c.text()).unwrap_or_default();
        if let Some(v) = match_text(check, &text, &text, ctx.vars, lang) {
            return Ok(v);
        }
        return Ok(Verdict::Pass(proof(check, &text, &text, ctx.vars, lang)));
    }
    if let (Some(c), Some(before)) = (&check.counter, before) {
        let before = match before {
            Ok(n) => n,
            Err(v) => return Ok(v),
        };
        let after = match read_counter(c, ctx).await? {
            Ok(n) => n,
            Err(v) => return Ok(v),
        };
        let moved = format!("{before} → {after} {}", tr(lang, "packets"));
        return Ok(if after > before {
            let text = seen_run.as_ref().map(|o| o.text()).unwrap_or_default();
            let stdout = seen_run
                .as_ref()
                .map(|o| o.stdout.clone())
                .unwrap_or_default();
            let more = proof(check, &text, &stdout, ctx.vars, lang);
            Verdict::Pass(Some(join_proof(
                std::iter::once(moved).chain(more).collect(),
            )))
        } else {
            fail(tr(lang, "counter_grows"), moved)
        });
    }
    let Some(out) = seen_run else {
        return Ok(Verdict::Pass(None));
    };
    if check.expect == Expect::Fail && check.contains.is_empty() && check.lines.is_empty() {
        // Show how it failed: the last line of output, or the time limit.
        let timeout = Duration::from_secs_f64(check.timeout.unwrap_or(10.0));
        let text = out.text();
        let last = text.lines().rev().find(|l| !l.trim().is_empty());
        let mut seen = match last {
            Some(l) if !out.timed_out => tail_excerpt(l),
            _ => describe(&out, timeout, lang),
        };
        if let Some(absent) = absent(check, &text, ctx.vars, lang) {
            seen = join_proof(vec![seen, absent]);
        }
        return Ok(Verdict::Pass(Some(seen)));
    }
    let text = out.text();
    let shown = proof(check, &text, &out.stdout, ctx.vars, lang).or_else(|| {
        // Only the exit status was asked for: its last line of output shows it.
        let last = text.lines().rev().find(|l| !l.trim().is_empty());
        Some(match last {
            Some(l) => tail_excerpt(l),
            None => format!("{} 0", tr(lang, "exit_status")),
        })
    });
    Ok(Verdict::Pass(shown))
}

/// A check that only records a value for later (`save`, and nothing to verify): the
/// lesson runs it silently, and neither counts nor prints it unless it fails.
pub fn is_record(check: &Check) -> bool {
    check.save.is_some()
        && check.claim.is_none()
        && check.contains.is_empty()
        && check.not_contains.is_empty()
        && check.lines.is_empty()
        && !check.empty
        && check.line_count.is_none()
        && check.counter.is_none()
        && check.veth_pair.is_none()
        && check.log.is_none()
        && check.expect == Expect::Ok
}

fn fail(expected: impl Into<String>, seen: impl Into<String>) -> Verdict {
    Verdict::Fail {
        expected: expected.into(),
        seen: seen.into(),
    }
}

/// The exit status and (the start of) the output, for a failure message.
fn describe(out: &Outcome, timeout: Duration, lang: Lang) -> String {
    let status = if out.timed_out {
        tr(lang, "timed_out").replace("{}", &format!("{}", timeout.as_secs_f64()))
    } else {
        format!("{} {}", tr(lang, "exit_status"), out.status.unwrap_or(-1))
    };
    let text = out.text();
    if text.trim().is_empty() {
        status
    } else {
        format!("{status}\n{}", clip(&text, 12))
    }
}

/// At most `n` lines of `text`.
pub fn clip(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.trim_end().lines().collect();
    if lines.len() <= n {
        return lines.join("\n");
    }
    format!("{}\n… (+{})", lines[..n].join("\n"), lines.len() - n)
}

/// Match `contains`, `not_contains`, `lines` and `empty`; `None` when all hold.
/// `empty` and `line_count` look at `counted` (the command's stdout): a tool's stray
/// diagnostics on stderr (iproute2 racing a namespace being deleted by another lab)
/// are not lines of its output.
fn match_text(
    check: &Check,
    text: &str,
    counted: &str,
    vars: &Vars,
    lang: Lang,
) -> Option<Verdict> {
    let exp = |s: &str| vars.expand(s).unwrap_or_else(|e| e);
    for want in &check.contains {
        let want = exp(want);
        if !text.contains(&want) {
            return Some(fail(
                format!("{} {want:?}", tr(lang, "output_contains")),
                clip(text, 14),
            ));
        }
    }
    for bad in &check.not_contains {
        let bad = exp(bad);
        if text.contains(&bad) {
            let line = text.lines().find(|l| l.contains(&bad)).unwrap_or("");
            return Some(fail(
                format!("{} {bad:?}", tr(lang, "output_lacks")),
                line.trim().to_string(),
            ));
        }
    }
    for parts in &check.lines {
        let parts: Vec<String> = parts.iter().map(|p| exp(p)).collect();
        if !text.lines().any(|l| in_order(l, &parts)) {
            return Some(fail(
                format!("{} {}", tr(lang, "a_line_with"), parts.join(" … ")),
                clip(text, 14),
            ));
        }
    }
    if check.empty && !counted.trim().is_empty() {
        return Some(fail(tr(lang, "no_output"), clip(text, 14)));
    }
    if let Some(n) = check.line_count {
        let seen = counted.trim_end().lines().count();
        if seen != n {
            return Some(fail(
                trf(lang, "line_count", &[&n]),
                format!("{seen}:\n{}", clip(text, 14)),
            ));
        }
    }
    None
}

/// True if `parts` appear in `line` in this order.
pub(super) fn in_order(line: &str, parts: &[String]) -> bool {
    let mut rest = line;
    for p in parts {
        match rest.find(p.as_str()) {
            Some(i) => rest = &rest[i + p.len()..],
            None => return false,
        }
    }
    true
}

/// The packet counter of the rule, or the verdict to give when it cannot be read.
async fn read_counter(
    c: &super::model::Counter,
    ctx: &mut Context<'_>,
) -> Result<Result<u64, Verdict>, Interrupted> {
    let lang = ctx.lang;
    let argv = match ctx.vars.argv(&counter_command(c)) {
        Ok(a) => a,
        Err(e) => return Ok(Err(fail(tr(lang, "runnable"), e))),
    };
    let out = ctx
        .runner
        .dockernet(&argv, false, Some(Duration::from_secs(10)), "")
        .await?;
    let rule: Vec<String> = c
        .rule
        .iter()
        .map(|r| ctx.vars.expand(r).unwrap_or_else(|e| e))
        .collect();
    let found = out
        .stdout
        .lines()
        .find(|l| in_order(l, &rule))
        .and_then(|l| l.split_whitespace().next()?.parse::<u64>().ok());
    Ok(found.ok_or_else(|| {
        fail(
            rule_text(lang, "rule_present", c, &rule),
            describe(&out, Duration::from_secs(10), lang),
        )
    }))
}

/// "a rule in nat POSTROUTING matching MASQUERADE … 172.17.0.0/16" (or `rule_missing`).
fn rule_text(lang: Lang, key: &str, c: &super::model::Counter, rule: &[String]) -> String {
    trf(lang, key, &[&c.table, &c.chain, &rule.join(" … ")])
}

/// `vethX@ifN` on the host and `eth0@ifM` in the container name each other's index.
async fn veth_pair(name: &str, ctx: &mut Context<'_>) -> Result<Verdict, Interrupted> {
    let lang = ctx.lang;
    let veth = match ctx.vars.expand(&format!("{{veth:{name}}}")) {
        Ok(v) => v,
        Err(e) => return Ok(fail(tr(lang, "runnable"), e)),
    };
    let host_cmd: Vec<String> = ["host", "--", "ip", "-o", "link", "show", &veth]
        .map(String::from)
        .to_vec();
    let ctr_cmd: Vec<String> = ["exec", name, "ip", "-o", "link", "show", "eth0"]
        .map(String::from)
        .to_vec();
    let t = Some(Duration::from_secs(10));
    let h = ctx.runner.dockernet(&host_cmd, false, t, "").await?;
    let c = ctx.runner.dockernet(&ctr_cmd, false, t, "").await?;
    let parse = |s: &str| -> Option<(u32, String, u32)> {
        let (idx, rest) = s.lines().next()?.split_once(": ")?;
        let full = rest.split(": ").next()?;
        let (n, peer) = full.split_once("@if")?;
        Some((idx.trim().parse().ok()?, n.to_string(), peer.parse().ok()?))
    };
    let (Some((hi, hn, hp)), Some((ci, cn, cp))) = (parse(&h.stdout), parse(&c.stdout)) else {
        return Ok(fail(
            tr(lang, "veth_pair"),
            format!("{}\n{}", h.text().trim(), c.text().trim()),
        ));
    };
    let seen = match lang {
        Lang::En => format!("{hn}@if{hp} (index {hi}) ⇄ {cn}@if{cp} (index {ci})"),
        Lang::Zh => format!("{hn}@if{hp}（标号 {hi}）⇄ {cn}@if{cp}（标号 {ci}）"),
    };
    Ok(if hp == ci && cp == hi {
        Verdict::Pass(Some(seen))
    } else {
        fail(tr(lang, "veth_pair"), seen)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn in_order_needs_every_part_in_sequence() {
        let l = "    2   110 MASQUERADE  0    --  *      !docker0  172.17.0.0/16  0.0.0.0/0";
        let p = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(in_order(
            l,
            &p(&["MASQUERADE", "!docker0", "172.17.0.0/16"])
        ));
        assert!(!in_order(l, &p(&["172.17.0.0/16", "MASQUERADE"])));
    }

    #[test]
    fn a_counter_is_read_on_its_lab_host() {
        let c = |on: &str, host: Option<&str>| super::super::model::Counter {
            on: on.into(),
            host: host.map(String::from),
            table: "raw".into(),
            chain: "PREROUTING".into(),
            rule: vec![],
        };
        assert_eq!(
            counter_command(&c("host", None)),
            "host -- iptables -t raw -vnxL PREROUTING"
        );
        assert_eq!(
            counter_command(&c("host", Some("host2"))),
            "-H host2 host -- iptables -t raw -vnxL PREROUTING"
        );
        assert_eq!(
            counter_command(&c("web2", Some("host2"))),
            "-H host2 host -- ip netns exec {ns:web2} iptables -t raw -vnxL PREROUTING"
        );
    }

    #[test]
    fn clip_keeps_the_first_lines() {
        assert_eq!(clip("a\nb\nc\n", 2), "a\nb\n… (+1)");
        assert_eq!(clip("a\nb\n", 2), "a\nb");
    }
}
