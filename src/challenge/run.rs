//! Starting a challenge (a fresh lab, its set-up commands, the task printed), checking
//! it against the kernel (the lessons' checks, printed as lessons print them) and
//! giving its graded hints.

use super::state::{self, Active, lab_flag};
use super::{Challenge, find, next_after};
use crate::error::{Error, Result};
use crate::lab::Lab;
use crate::lesson::Lang;
use crate::lesson::check::{self, Context, Verdict};
use crate::lesson::exec::{Runner, Signals};
use crate::lesson::print::{Printer, colon, paren, quoted};
use crate::lesson::vars::Vars;
use std::collections::BTreeMap;
use std::time::Duration;

/// Longest a set-up command may take (a first `lab up` builds the images' layers).
const SETUP_TIMEOUT: Duration = Duration::from_secs(120);

fn t(lang: Lang, en: &str, zh: &str) -> String {
    match lang {
        Lang::En => en.to_string(),
        Lang::Zh => zh.to_string(),
    }
}

fn runner(lab: &Lab, lang: Lang) -> Result<Runner> {
    Runner::new(&lab.name, lang, Signals::install())
        .map_err(|e| Error::msg(format!("finding the dockernet binary: {e}")))
}

/// Whether anything of the lab exists (its directory or a namespace).
fn lab_exists(lab: &Lab) -> bool {
    lab.root().exists() || !crate::netns::list_with_prefix(&lab.netns_prefix()).is_empty()
}

/// `challenge NAME`: rebuild the lab from scratch (it must hold nothing of the
/// learner's but an earlier challenge), run the set-up commands, remember the
/// challenge, print the task. Exit status 0, or 130 when interrupted.
pub async fn start(lab: &Lab, lang: Lang, ch: &Challenge) -> Result<i32> {
    crate::lab::require_root()?;
    let lab = lab.first_host();
    if lab_exists(&lab) {
        let previous = state::load(&lab);
        let mut names: Vec<String> = crate::lab::hosts::all(&lab)
            .iter()
            .flat_map(|h| h.store().containers().unwrap_or_default())
            .map(|c| c.name)
            .collect();
        names.sort();
        if previous.is_none() && !names.is_empty() {
            let list = names.join(", ");
            let n = &lab.name;
            return Err(Error::msg(crate::ui::tr(
                format!(
                    "lab {n} has containers ({list}) and no challenge: a challenge rebuilds its lab from scratch, so pick another lab (`dockernet --lab ch1 challenge {}`) or remove this one first (`dockernet --lab {n} lab down`)",
                    ch.name
                ),
                format!(
                    "实验环境 {n} 里已有容器（{list}），且没有进行中的挑战：挑战会从头重建实验环境，请换一个实验环境（`dockernet --lab ch1 challenge {}`），或先删除这个（`dockernet --lab {n} lab down`）",
                    ch.name
                ),
            )));
        }
        // A challenge's lab (or an empty one): the last challenge's breakage must not
        // leak into this one, so start from a fresh lab.
        let mut ex = crate::step::Executor::new(crate::step::Mode::Quiet);
        let down = crate::lab::lab_down(&lab, &mut ex).await;
        ex.close().await;
        down?;
    }
    let p = Printer::new(lang);
    println!(
        "{}",
        p.paint.dim(&match lang {
            Lang::En => format!("Preparing lab {} for challenge {} …", lab.name, ch.name),
            Lang::Zh => format!("正在为挑战 {} 准备实验环境 {} ……", ch.name, lab.name),
        })
    );
    let runner = runner(&lab, lang)?;
    let mut vars = Vars::new(&lab);
    for cmd in &ch.setup {
        vars.refresh(&lab);
        let argv = vars
            .argv(cmd)
            .map_err(|e| Error::msg(format!("challenge {}: set-up: {e}", ch.name)))?;
        let Ok(out) = runner
            .dockernet(
                &argv,
                false,
                Some(SETUP_TIMEOUT),
                &format!("dockernet {cmd}"),
            )
            .await
        else {
            return Ok(130);
        };
        if !out.success() {
            let last = out.text();
            let last = last
                .lines()
                .rev()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("");
            return Err(Error::msg(crate::ui::tr(
                format!(
                    "challenge {}: its set-up command `dockernet {cmd}` failed: {last}",
                    ch.name
                ),
                format!(
                    "挑战 {} 的准备命令 `dockernet {cmd}` 执行失败：{last}",
                    ch.name
                ),
            )));
        }
    }
    state::save(
        &lab,
        &Active {
            name: ch.name.clone(),
            hints_shown: 0,
        },
    )?;
    print_task(&lab, &p, ch);
    Ok(0)
}

/// The task: title, article section, what is wrong or what to build, how to work.
fn print_task(lab: &Lab, p: &Printer, ch: &Challenge) {
    let lang = p.lang;
    let paint = &p.paint;
    let title = format!(
        "{}{}{}",
        t(lang, "Challenge", "挑战"),
        colon(lang),
        ch.title.get(lang)
    );
    println!();
    println!("{}", paint.bold(&title));
    println!(
        "{}",
        paint.bold(&"═".repeat(crate::lesson::ui::text_width(&title).min(p.width)))
    );
    let articles = crate::lesson::articles().unwrap_or_default();
    if let Some(a) = articles.get(&ch.article) {
        println!(
            "{}",
            paint.dim(&format!(
                "{} {}{}{}{} › {}",
                t(lang, "Article", "文章"),
                ch.article,
                colon(lang),
                quoted(lang, &a.title),
                paren(lang, &a.source),
                ch.section
            ))
        );
    }
    println!();
    p.text(ch.task.get(lang));
    println!();
    println!(
        "{}",
        paint.bold(&format!(
            "{}{}",
            t(lang, "How to work", "怎么做"),
            colon(lang).trim_end()
        ))
    );
    let at = lab_flag(lab);
    let mut names: Vec<String> = lab
        .store()
        .containers()
        .unwrap_or_default()
        .into_iter()
        .map(|c| c.name)
        .collect();
    names.sort();
    let mut rows: Vec<(String, String)> = vec![(
        format!("sudo dockernet{at} host"),
        t(
            lang,
            "a shell on the Docker host (ip, iptables, sysctl, bridge)",
            "在 Docker 宿主机上打开 shell（ip、iptables、sysctl、bridge）",
        ),
    )];
    if let Some(first) = names.first() {
        rows.push((
            format!("sudo dockernet{at} exec {first} sh"),
            match lang {
                Lang::En => format!(
                    "a shell in container {first} (containers: {})",
                    names.join(", ")
                ),
                Lang::Zh => format!("在容器 {first} 里打开 shell（容器：{}）", names.join("、")),
            },
        ));
    }
    rows.push((
        format!("sudo dockernet{at} world"),
        t(
            lang,
            "a shell in the outside world (the LAN, and the internet at 203.0.113.10)",
            "在外部世界打开 shell（局域网，以及 203.0.113.10 上的“互联网”）",
        ),
    ));
    rows.push((
        format!("sudo dockernet{at} challenge check"),
        t(
            lang,
            "check your work against the kernel",
            "对照内核检查你的成果",
        ),
    ));
    rows.push((
        format!("sudo dockernet{at} challenge hint"),
        match lang {
            Lang::En => format!(
                "a hint; each call gives a stronger one ({} in all)",
                ch.hints.len()
            ),
            Lang::Zh => format!("给一条提示，每次调用都更进一步（共 {} 条）", ch.hints.len()),
        },
    ));
    let pad = rows
        .iter()
        .map(|(c, _)| crate::lesson::ui::text_width(c))
        .max()
        .unwrap_or(0);
    let width = |s: &str| crate::lesson::ui::text_width(s);
    let side_by_side = rows
        .iter()
        .all(|(_, why)| 2 + pad + 2 + width(why) <= p.width);
    for (c, why) in rows {
        if side_by_side {
            let fill = " ".repeat(pad - width(&c) + 2);
            println!("  {}{fill}{}", paint.cmd(&c), paint.dim(&why));
        } else {
            // A narrow terminal: each command, then what it is for, under it.
            println!("  {}", paint.cmd(&c));
            println!("      {}", paint.dim(&why));
        }
    }
}

/// `challenge check`: every check of the active challenge, printed as a lesson prints
/// its checks. Exit status 0 when all hold (skipped ones aside), 1 otherwise.
pub async fn check(lab: &Lab, lang: Lang) -> Result<i32> {
    crate::lab::require_root()?;
    let lab = lab.first_host();
    let active = state::require(&lab)?;
    let ch = find(&active.name)?;
    let runner = runner(&lab, lang)?;
    let mut vars = Vars::new(&lab);
    vars.refresh(&lab);
    let p = Printer::new(lang);
    println!(
        "{}",
        p.paint.bold(&format!(
            "{} {}{}{}",
            t(lang, "Challenge", "挑战"),
            ch.name,
            colon(lang),
            ch.title.get(lang)
        ))
    );
    p.checks_head();
    let logs = BTreeMap::new();
    let mut failed = 0;
    for c in &ch.checks {
        let commands = check::commands(c, &vars);
        let mut ctx = Context {
            runner: &runner,
            vars: &mut vars,
            logs: &logs,
            lang,
        };
        let Ok(v) = check::evaluate(c, &mut ctx).await else {
            return Ok(130);
        };
        if matches!(v, Verdict::Fail { .. }) {
            failed += 1;
        }
        p.check(c, &commands, &v);
    }
    println!();
    let at = lab_flag(&lab);
    if failed == 0 {
        println!(
            "{}",
            p.paint.good(&t(
                lang,
                "Solved! The kernel agrees.",
                "挑战完成！内核的状态证实了这一点。"
            ))
        );
        match next_after(&ch.name) {
            Some(next) => p.text(&match lang {
                Lang::En => format!(
                    "Next: `sudo dockernet{at} challenge {}` ({}).",
                    next.name,
                    next.title.get(lang)
                ),
                Lang::Zh => format!(
                    "下一个：`sudo dockernet{at} challenge {}`（{}）。",
                    next.name,
                    next.title.get(lang)
                ),
            }),
            None => p.text(&t(
                lang,
                "That was the last challenge: `dockernet challenge list` lists them all.",
                "这是最后一个挑战了：`dockernet challenge list` 列出全部挑战。",
            )),
        }
        return Ok(0);
    }
    p.error(&match lang {
        Lang::En => format!(
            "Not solved yet: {failed} of {} check(s) fail.",
            ch.checks.len()
        ),
        Lang::Zh => format!(
            "还没有解决：{} 项检查中有 {failed} 项未通过。",
            ch.checks.len()
        ),
    });
    let next = (active.hints_shown + 1).min(ch.hints.len());
    p.text(&match lang {
        Lang::En => format!(
            "`sudo dockernet{at} challenge hint` gives hint {next} of {}.",
            ch.hints.len()
        ),
        Lang::Zh => format!(
            "`sudo dockernet{at} challenge hint` 给出第 {next} 条提示（共 {} 条）。",
            ch.hints.len()
        ),
    });
    Ok(1)
}

/// `challenge hint [N]`: the next hint (or hint N), remembered in the lab.
pub fn hint(lab: &Lab, lang: Lang, n: Option<usize>) -> Result<i32> {
    crate::lab::require_root()?;
    let lab = lab.first_host();
    let mut active = state::require(&lab)?;
    let ch = find(&active.name)?;
    let total = ch.hints.len();
    let k = match n {
        Some(k) if k == 0 || k > total => {
            return Err(Error::with_code(
                crate::ui::tr(
                    format!(
                        "challenge {} has hints 1 to {total}: `challenge hint N` takes one of them",
                        ch.name
                    ),
                    format!(
                        "挑战 {} 的提示编号是 1 到 {total}：`challenge hint N` 只接受其中之一",
                        ch.name
                    ),
                ),
                2,
            ));
        }
        Some(k) => k,
        None => (active.hints_shown + 1).min(total),
    };
    let p = Printer::new(lang);
    println!(
        "{}",
        p.paint.bold(&match lang {
            Lang::En => format!("Hint {k} of {total} ({}):", ch.name),
            Lang::Zh => format!("提示 {k}/{total}（{}）：", ch.name),
        })
    );
    // Hints name the lab's own objects (`dn-<lab>-ctr-left`) and its commands by the
    // real lab, so what the learner copies works on this lab.
    let text = ch.hints[k - 1]
        .get(lang)
        .replace("<lab>", &lab.name)
        .replace("`dockernet ", &format!("`dockernet{} ", lab_flag(&lab)));
    p.text(&text);
    let at = lab_flag(&lab);
    let after = if k < total {
        match lang {
            Lang::En => format!(
                "`sudo dockernet{at} challenge hint` again gives a stronger one; `challenge check` checks."
            ),
            Lang::Zh => format!(
                "再运行 `sudo dockernet{at} challenge hint` 会得到更进一步的提示；`challenge check` 检查成果。"
            ),
        }
    } else {
        t(
            lang,
            "That was the last hint: it is nearly the answer. `challenge check` checks.",
            "这是最后一条提示，几乎就是答案了。用 `challenge check` 检查成果。",
        )
    };
    println!();
    println!("{}", p.paint.dim(&after));
    active.hints_shown = active.hints_shown.max(k);
    state::save(&lab, &active)?;
    Ok(0)
}
