//! Printing a lesson: headers, commands with their narration and output, the kernel
//! difference, and check results. Everything goes to stdout (spinners go to stderr).

use super::check::{Verdict, clip};
use super::exec::{Outcome, is_narration};
use super::fold::{expand_tabs, fold_narration, glosses, warn_code};
use super::model::{Article, Check, Lang, Lesson, Step};
use super::snapshot::{Section, SpaceDiff, is_plumbing};
use super::ui::{Paint, text_width, tr, trf, width, wrap};
use crate::lab::Lab;
use std::cell::RefCell;
use std::collections::BTreeMap;

/// Most lines shown per changed section before "… and N more".
const MAX_DIFF_LINES: usize = 14;

/// `: ` in English, `：` in Chinese.
pub fn colon(lang: Lang) -> &'static str {
    match lang {
        Lang::En => ": ",
        Lang::Zh => "：",
    }
}

/// ` (text)` in English, `（text）` in Chinese (which takes no space before it).
pub fn paren(lang: Lang, text: &str) -> String {
    match lang {
        Lang::En => format!(" ({text})"),
        Lang::Zh => format!("（{text}）"),
    }
}

/// An article's title: “title” in English, 《title》 in Chinese.
pub fn quoted(lang: Lang, title: &str) -> String {
    match lang {
        Lang::En => format!("“{title}”"),
        Lang::Zh => format!("《{title}》"),
    }
}

/// Prints a lesson in one language, colored or not.
pub struct Printer {
    /// Language.
    pub lang: Lang,
    /// Colors.
    pub paint: Paint,
    /// Terminal width.
    pub width: usize,
    /// The noise already explained once in this lesson (`M-DOWN`, `linkdown`, …).
    glossed: RefCell<Vec<&'static str>>,
}

impl Printer {
    /// A printer for stdout.
    pub fn new(lang: Lang) -> Printer {
        Printer {
            lang,
            paint: Paint {
                on: crate::ui::color_stdout(),
            },
            width: width(),
            glossed: RefCell::new(Vec::new()),
        }
    }

    /// Explain, once per lesson, the first `M-DOWN`, IPv6 link-local address or
    /// `linkdown` route that `text` shows: the learner cannot place them alone.
    fn gloss(&self, text: &str) {
        for (key, sentence) in glosses(text, self.lang) {
            if self.glossed.borrow().contains(&key) {
                continue;
            }
            self.glossed.borrow_mut().push(key);
            // A hanging indent: the sign stands out, the sentence lines up after it.
            for (i, l) in wrap(sentence, self.width, 6).into_iter().enumerate() {
                let l = if i == 0 {
                    format!("    ⓘ {}", l.trim_start())
                } else {
                    l
                };
                println!("{}", self.paint.dim(&l));
            }
        }
    }

    fn para(&self, text: &str, indent: usize) {
        for l in wrap(text, self.width, indent) {
            println!("{}", self.paint.code_spans(&l));
        }
    }

    /// Title, articles, claims, lab, introduction.
    pub fn header(&self, lesson: &Lesson, articles: &BTreeMap<String, Article>, lab: &str) {
        let p = &self.paint;
        let title = lesson.title.get(self.lang);
        println!("{}", p.bold(title));
        println!(
            "{}",
            p.bold(&"═".repeat(super::ui::text_width(title).min(self.width)))
        );
        for id in lesson.articles() {
            if let Some(a) = articles.get(&id) {
                println!(
                    "{}",
                    p.dim(&format!(
                        "{} {id}{}{}{}",
                        tr(self.lang, "article"),
                        colon(self.lang),
                        quoted(self.lang, &a.title),
                        paren(self.lang, &a.source)
                    ))
                );
            }
        }
        println!(
            "{}",
            p.dim(&format!(
                "{}{}{}",
                tr(self.lang, "claims"),
                colon(self.lang),
                super::claim_ranges(&lesson.claims(), self.lang)
            ))
        );
        println!();
        self.para(lesson.intro.get(self.lang), 0);
        println!();
        self.para(&tr(self.lang, "type_yourself").replace("{0}", lab), 0);
        println!(
            "  {}",
            p.cmd(&format!("sudo dockernet --lab {lab} show bridges"))
        );
        println!();
    }

    /// `━━ Step 2 of 7 · title ━━━` and where it comes from.
    pub fn step_head(
        &self,
        n: usize,
        total: usize,
        step: &Step,
        articles: &BTreeMap<String, Article>,
    ) {
        let p = &self.paint;
        let head = format!(
            "━━ {} · {} ",
            trf(self.lang, "step", &[&n, &total]),
            step.title.get(self.lang)
        );
        let fill = self.width.saturating_sub(super::ui::text_width(&head));
        println!("{}", p.bold(&format!("{head}{}", "━".repeat(fill))));
        let title = articles
            .get(&step.article)
            .map(|a| a.title.as_str())
            .unwrap_or("");
        let mut src = format!(
            "{} {} {} › {}",
            tr(self.lang, "article"),
            step.article,
            quoted(self.lang, title),
            step.section
        );
        let claims = step.claims();
        if !claims.is_empty() {
            src.push_str(&format!(
                " · {} {}",
                tr(self.lang, "claims"),
                claims.join(" ")
            ));
        }
        println!("{}", p.dim(&src));
        println!();
        self.para(step.text.get(self.lang), 2);
        if let Some(t) = &step.today {
            println!();
            let text = format!(
                "{}{}{}",
                tr(self.lang, "today"),
                colon(self.lang),
                t.get(self.lang)
            );
            for l in wrap(&text, self.width, 2) {
                println!("{}", warn_code(&self.paint, &l));
            }
        }
        println!();
    }

    /// `$ dockernet ARGS` as the learner would type it.
    pub fn command(&self, shown: &str) {
        println!("  {}", self.paint.bold(&format!("$ {shown}")));
    }

    /// A command's narration (from `--explain`) and output.
    pub fn outcome(&self, out: &Outcome) {
        let p = &self.paint;
        let narration: Vec<&str> = out.stderr.lines().filter(|l| is_narration(l)).collect();
        for l in fold_narration(&narration, self.lang, self.width.saturating_sub(6)) {
            let t = l.trim_start();
            // Lines indented deeper than the narration's two spaces (a why on the
            // line after its rule) keep their extra indent.
            let extra = " ".repeat((l.len() - t.len()).saturating_sub(2));
            let t = match t.split_once("  # ") {
                // A why, or the rest of one wrapped under its first line.
                _ if t.starts_with('#') || !extra.is_empty() => p.dim(t),
                Some((cmd, why)) => format!("{}  {}", p.cmd(cmd), p.dim(&format!("# {why}"))),
                None => p.cmd(t),
            };
            println!("      {extra}{t}");
        }
        // Tabs expanded first: indented, a tab would jump to the next stop and break
        // the columns of `brctl show` or /etc/hosts.
        for l in out.stdout.trim_end_matches('\n').lines() {
            println!("    {}", expand_tabs(l));
        }
        if out.stdout.trim().is_empty() && out.text().trim().is_empty() {
            println!("    {}", p.dim(&tr(self.lang, "no_output_shown")));
        }
        for l in out.stderr.lines().filter(|l| !is_narration(l)) {
            println!("    {}", p.warn(&expand_tabs(l)));
        }
        self.gloss(&out.text());
    }

    /// A note in the step (sabotage, background output).
    pub fn note(&self, text: &str) {
        println!("  {}", self.paint.warn(text));
    }

    /// The kernel difference.
    pub fn diff(&self, lab: &Lab, d: &[SpaceDiff]) {
        let p = &self.paint;
        println!(
            "  {}",
            p.bold(&format!(
                "{}{}",
                tr(self.lang, "changed"),
                colon(self.lang).trim_end()
            ))
        );
        if d.is_empty() {
            println!("    {}", tr(self.lang, "unchanged"));
        }
        for s in d {
            let mut label = self.ns_label(lab, &s.ns);
            match s.created {
                Some(true) => label.push_str(&paren(
                    self.lang,
                    &format!("{} {}", tr(self.lang, "new_ns"), s.ns),
                )),
                Some(false) => label.push_str(&paren(
                    self.lang,
                    &format!("{} {}", tr(self.lang, "gone_ns"), s.ns),
                )),
                None => {}
            }
            println!("    {}", p.bold(&label));
            if s.created == Some(false) {
                continue;
            }
            // A new lab host (`lab up`): its lo and eth0 are the lab's plumbing, folded
            // with the narration; docker0's address, route and rules are in the
            // narration already, so only the bridge's link is shown again.
            let new_host = s.created == Some(true)
                && crate::lab::hosts::all(lab)
                    .iter()
                    .any(|h| h.host_ns() == s.ns);
            let pad = s
                .changes
                .iter()
                .map(|c| text_width(c.section.label(self.lang)))
                .max()
                .unwrap_or(0);
            for c in &s.changes {
                let lines: Vec<(bool, String)> = c
                    .removed
                    .iter()
                    .map(|l| (false, format!("- {l}")))
                    .chain(
                        c.added
                            .iter()
                            .filter(|l| !(new_host && is_plumbing(c.section, l)))
                            .map(|l| (true, format!("+ {l}"))),
                    )
                    .collect();
                // The narration already lists docker0's address, route and rules, one
                // line each: only its link (the bridge itself) is shown again.
                if new_host && c.section != Section::Links {
                    continue;
                }
                self.section_lines(c.section.label(self.lang), pad, &lines);
            }
        }
        println!();
    }

    /// One changed section: its label, then its lines; a single line goes on the
    /// label's row (labels padded to `pad` columns) when it fits.
    fn section_lines(&self, label: &str, pad: usize, lines: &[(bool, String)]) {
        let p = &self.paint;
        let paint = |(added, l): &(bool, String)| if *added { p.good(l) } else { p.bad(l) };
        match lines {
            [] => {}
            [one] if 6 + pad + 2 + text_width(&one.1) <= self.width => {
                let fill = " ".repeat(pad - text_width(label) + 2);
                println!("      {}{fill}{}", p.dim(label), paint(one));
            }
            _ => {
                println!("      {}", p.dim(label));
                for l in lines.iter().take(MAX_DIFF_LINES) {
                    println!("        {}", paint(l));
                }
                if lines.len() > MAX_DIFF_LINES {
                    let more = trf(self.lang, "more_lines", &[&(lines.len() - MAX_DIFF_LINES)]);
                    println!("        {}", p.dim(&more));
                }
            }
        }
    }

    fn ns_label(&self, lab: &Lab, ns: &str) -> String {
        super::snapshot::ns_label(lab, ns, self.lang)
    }

    /// The "Checks:" heading.
    pub fn checks_head(&self) {
        println!(
            "  {}",
            self.paint.bold(&format!(
                "{}{}",
                tr(self.lang, "checks"),
                colon(self.lang).trim_end()
            ))
        );
    }

    /// One check's result, with its commands; on failure expected, seen and the hint.
    pub fn check(&self, check: &Check, commands: &[String], v: &Verdict) {
        let p = &self.paint;
        let claim = check
            .claim
            .as_deref()
            .map(|c| format!("{c} "))
            .unwrap_or_default();
        let what = check.what.get(self.lang);
        match v {
            Verdict::Pass(_) => println!("    {} {claim}{what}", p.good("✓")),
            Verdict::Fail { .. } => println!("    {} {claim}{}", p.bad("✗"), p.bad(what)),
            Verdict::Skip(why) => {
                println!("    {} {claim}{what}", p.warn("–"));
                println!(
                    "        {}",
                    p.warn(&format!(
                        "{}{}{why}",
                        tr(self.lang, "skipped"),
                        colon(self.lang)
                    ))
                );
                return;
            }
        }
        for c in commands {
            println!("        {}", p.dim(&format!("$ {c}")));
        }
        match v {
            Verdict::Pass(Some(seen)) => {
                for l in seen.lines() {
                    println!("        {}", p.dim(&format!("→ {l}")));
                }
                self.gloss(seen);
            }
            Verdict::Fail { expected, seen } => {
                self.labelled("expected", expected);
                self.labelled("seen", seen);
                self.labelled("hint", check.hint.get(self.lang));
            }
            _ => {}
        }
    }

    fn labelled(&self, key: &str, text: &str) {
        let label = format!("{}{}", tr(self.lang, key), colon(self.lang));
        let indent = 8 + super::ui::text_width(&label);
        let pad = " ".repeat(indent);
        // Prose (the hint) is wrapped; command output (what was seen) is kept as is.
        let lines: Vec<String> = if key == "hint" {
            wrap(text, self.width, indent)
                .into_iter()
                .map(|l| l[indent.min(l.len())..].to_string())
                .collect()
        } else {
            text.lines().map(expand_tabs).collect()
        };
        let mut first = true;
        for line in lines {
            let line = if key == "hint" {
                self.paint.code_spans(&line)
            } else {
                line
            };
            if first {
                println!("        {}{line}", self.paint.warn(&label));
                first = false;
            } else {
                println!("{pad}{line}");
            }
        }
    }

    /// What a background command printed, clipped.
    pub fn background_output(&self, id: &str, text: &str) {
        if text.trim().is_empty() {
            return;
        }
        println!(
            "  {}",
            self.paint.bold(&trf(self.lang, "bg_output", &[&id]))
        );
        for l in clip(text, 30).lines() {
            println!("    {}", expand_tabs(l.trim_end_matches('\r')));
        }
        println!();
    }

    /// A plain paragraph.
    pub fn text(&self, text: &str) {
        self.para(text, 0);
    }

    /// An error-colored line.
    pub fn error(&self, text: &str) {
        println!("{}", self.paint.bad(text));
    }
}

/// `lesson NAME --dry-run`: the whole lesson as text — explanations, commands, checks —
/// without running anything.
pub fn print_script(lesson: &Lesson, lang: Lang) {
    let out = Printer::new(lang);
    let articles = super::articles().unwrap_or_default();
    out.header(lesson, &articles, &lesson.lab_name());
    for c in &lesson.setup {
        println!("  {}", out.paint.dim(&format!("$ dockernet {c}")));
    }
    let total = lesson.steps.len();
    for (i, step) in lesson.steps.iter().enumerate() {
        out.step_head(i + 1, total, step, &articles);
        for c in step.run.iter().chain(&step.show) {
            out.command(&format!("dockernet {c}"));
        }
        for b in &step.background {
            out.command(&format!("dockernet {} &", b.run));
        }
        out.checks_head();
        for c in step.checks.iter().filter(|c| !super::check::is_record(c)) {
            let claim = c
                .claim
                .as_deref()
                .map(|c| format!("{c} "))
                .unwrap_or_default();
            println!("    • {claim}{}", c.what.get(lang));
            for cmd in super::check::commands(c, &super::vars::Vars::default()) {
                println!("        {}", out.paint.dim(&format!("$ {cmd}")));
            }
        }
        println!();
    }
}
