//! The lesson file format (TOML, one file per lesson in `lessons/`), as Rust types, and
//! the checks made when the files are loaded. `lessons/README.md` documents the format
//! for authors.

use serde::Deserialize;

pub use crate::ui::Lang;

/// A text in both languages.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Text {
    /// English.
    pub en: String,
    /// 中文.
    pub zh: String,
}

impl Text {
    /// The text in `lang`.
    pub fn get(&self, lang: Lang) -> &str {
        match lang {
            Lang::En => &self.en,
            Lang::Zh => &self.zh,
        }
    }
}

/// One lesson.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lesson {
    /// Name used on the command line (`bridge`, `port-mapping`).
    pub name: String,
    /// Rough duration in minutes when read interactively.
    pub minutes: u32,
    /// Title.
    pub title: Text,
    /// What the lesson is about, shown before the first step.
    pub intro: Text,
    /// dockernet commands run quietly before the first step (usually `lab up`).
    #[serde(default)]
    pub setup: Vec<String>,
    /// Shown after the last step.
    pub outro: Option<Text>,
    /// The steps, in order.
    #[serde(rename = "step")]
    pub steps: Vec<Step>,
}

/// One step: explain, act, show what changed, verify.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// Short title.
    pub title: Text,
    /// Article id (`002`), a key of `lessons/articles.toml`.
    pub article: String,
    /// The article's section this step follows (its own heading, in Chinese).
    pub section: String,
    /// The explanation.
    pub text: Text,
    /// Where today's Docker differs from the article (one sentence).
    pub today: Option<Text>,
    /// dockernet commands that change the lab, run with `--explain`.
    #[serde(default)]
    pub run: Vec<String>,
    /// Long-running commands started after `run` and stopped at the end of the step.
    #[serde(default)]
    pub background: Vec<Background>,
    /// dockernet commands whose output shows the result (views).
    #[serde(default)]
    pub show: Vec<String>,
    /// What is verified against the kernel.
    #[serde(default, rename = "check")]
    pub checks: Vec<Check>,
    /// Test hook: break something on purpose (see [`Sabotage`]).
    pub sabotage: Option<Sabotage>,
}

/// A command started in the background for the duration of a step (a relay, a server).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Background {
    /// Name that checks use in `log`.
    pub id: String,
    /// The dockernet command.
    pub run: String,
    /// A program that must be installed; without it the background command and the
    /// checks reading its log are skipped with a note.
    pub requires: Option<String>,
}

/// A deliberate breakage, performed only when the environment variable
/// `DOCKERNET_LESSON_SABOTAGE` equals `key`: it runs after the step's commands, so
/// tests can prove that the step's checks fail (and print their hints) when the kernel
/// is not as the lesson expects.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sabotage {
    /// Value of `DOCKERNET_LESSON_SABOTAGE` that triggers it.
    pub key: String,
    /// The dockernet command that breaks something.
    pub run: String,
}

/// What a check's command must do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Expect {
    /// Exit status 0.
    #[default]
    Ok,
    /// A non-zero exit status (or no answer before the timeout).
    Fail,
    /// Any exit status (only the output matters).
    Any,
}

/// One observation of the kernel. Which kind it is follows from its fields:
/// `veth_pair` compares interface indexes; `counter` reads an iptables rule's packet
/// counter before and after `run` and wants it to grow; `log` looks at a background
/// command's output; otherwise `run`'s exit status and output are matched.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Check {
    /// The article claim it verifies (`C20`), if any.
    pub claim: Option<String>,
    /// What is being verified, as a short sentence.
    pub what: Text,
    /// What to look at when it fails.
    pub hint: Text,
    /// The dockernet command to run.
    pub run: Option<String>,
    /// What its exit status must be.
    #[serde(default)]
    pub expect: Expect,
    /// Texts that must all appear in the output.
    #[serde(default)]
    pub contains: Vec<String>,
    /// Texts that must not appear in the output.
    #[serde(default)]
    pub not_contains: Vec<String>,
    /// Each entry: texts that must appear on one line of the output, in this order.
    #[serde(default)]
    pub lines: Vec<Vec<String>>,
    /// The output must be empty.
    #[serde(default)]
    pub empty: bool,
    /// The output must have exactly this many lines.
    pub line_count: Option<usize>,
    /// An iptables rule whose packet counter must grow while `run` runs.
    pub counter: Option<Counter>,
    /// A container whose eth0 and host-side veth must name each other's index.
    pub veth_pair: Option<String>,
    /// A background command (by id) whose output is matched instead of `run`'s.
    pub log: Option<String>,
    /// Keep trying for up to this many seconds (servers need a moment to listen).
    #[serde(default)]
    pub within: f64,
    /// Give up on one attempt after this many seconds (default 10).
    pub timeout: Option<f64>,
    /// A program that must be installed, or the check is skipped with a note.
    pub requires: Option<String>,
    /// Remember the trimmed output as `{NAME}` for later commands and checks.
    pub save: Option<String>,
}

/// An iptables rule, found by texts that appear on its line of `iptables -vnxL CHAIN`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Counter {
    /// `host` (default), `world`, or a container's name (its own namespace's tables).
    #[serde(default = "default_on")]
    pub on: String,
    /// The lab host whose tables are read (`host2`: `-H host2 host -- iptables …`);
    /// the first host when absent.
    pub host: Option<String>,
    /// Table (`nat`, `filter`).
    pub table: String,
    /// Chain (`POSTROUTING`).
    pub chain: String,
    /// Texts on the rule's line, in order (`MASQUERADE`, `172.17.0.0/16`).
    pub rule: Vec<String>,
}

fn default_on() -> String {
    "host".into()
}

/// Titles of the articles lessons follow (`lessons/articles.toml`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Article {
    /// The article's title, as published.
    pub title: String,
    /// Its author or site, to tell it apart.
    pub source: String,
    /// The file under `articles/`.
    pub file: String,
}

impl Lesson {
    /// Claims verified by this lesson's checks, sorted, without repeats.
    pub fn claims(&self) -> Vec<String> {
        let mut v: Vec<String> = self.steps.iter().flat_map(Step::claims).collect();
        v.sort();
        v.dedup();
        v
    }

    /// Article ids the steps follow, sorted, without repeats.
    pub fn articles(&self) -> Vec<String> {
        let mut v: Vec<String> = self.steps.iter().map(|s| s.article.clone()).collect();
        v.sort();
        v.dedup();
        v
    }

    /// The lab a lesson uses when `--lab` is not given.
    pub fn lab_name(&self) -> String {
        format!("lesson_{}", self.name.replace('-', "_"))
    }

    /// Problems in the file that would only show when the lesson runs.
    pub fn problems(&self, articles: &std::collections::BTreeMap<String, Article>) -> Vec<String> {
        let mut out = Vec::new();
        let name_ok = !self.name.is_empty()
            && self
                .name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if !name_ok || self.lab_name().len() > 32 {
            out.push(format!("lesson name {:?}: use a-z, 0-9 and '-'", self.name));
        }
        if self.steps.is_empty() {
            out.push("a lesson needs at least one step".into());
        }
        for (i, s) in self.steps.iter().enumerate() {
            let at = format!("step {}", i + 1);
            if !articles.contains_key(&s.article) {
                out.push(format!("{at}: unknown article {:?}", s.article));
            }
            let ids: Vec<&str> = s.background.iter().map(|b| b.id.as_str()).collect();
            // Saved values live within their step (`--step N` skips earlier checks).
            let mut saved: Vec<&str> = Vec::new();
            let mut texts: Vec<&str> = s.run.iter().chain(&s.show).map(String::as_str).collect();
            texts.extend(s.background.iter().map(|b| b.run.as_str()));
            texts.extend(s.sabotage.iter().map(|b| b.run.as_str()));
            out.extend(unknown_keys(&texts, &saved).map(|k| format!("{at}: unknown {{{k}}}")));
            for c in &s.checks {
                out.extend(c.problems(&ids).into_iter().map(|p| format!("{at}: {p}")));
                let unknown: Vec<String> = unknown_keys(&c.texts(), &saved).collect();
                out.extend(unknown.into_iter().map(|k| {
                    format!("{at}: {{{k}}} is neither built in nor saved before in this step")
                }));
                saved.extend(c.save.as_deref());
            }
        }
        out
    }
}

impl Step {
    /// Claims this step's checks verify.
    pub fn claims(&self) -> Vec<String> {
        let mut v: Vec<String> = Vec::new();
        for c in self.checks.iter().filter_map(|c| c.claim.as_ref()) {
            if !v.contains(c) {
                v.push(c.clone());
            }
        }
        v
    }
}

/// Placeholders in `texts` that are neither built in nor in `saved`.
fn unknown_keys<'a>(texts: &'a [&str], saved: &'a [&str]) -> impl Iterator<Item = String> + 'a {
    texts
        .iter()
        .flat_map(|t| super::vars::keys(t))
        .filter(move |k| !super::vars::is_builtin(k) && !saved.contains(&k.as_str()))
}

impl Check {
    /// Every text of the check that may hold placeholders.
    pub(crate) fn texts(&self) -> Vec<&str> {
        let mut v: Vec<&str> = self.run.iter().map(String::as_str).collect();
        v.extend(
            self.contains
                .iter()
                .chain(&self.not_contains)
                .map(String::as_str),
        );
        v.extend(self.lines.iter().flatten().map(String::as_str));
        if let Some(c) = &self.counter {
            v.extend(c.rule.iter().map(String::as_str));
        }
        v
    }

    /// Field combinations that make no sense.
    pub(crate) fn problems(&self, background_ids: &[&str]) -> Vec<String> {
        let mut out = Vec::new();
        let what = &self.what.en;
        let kinds = [
            self.veth_pair.is_some(),
            self.counter.is_some(),
            self.log.is_some(),
        ];
        if kinds.iter().filter(|k| **k).count() > 1 {
            out.push(format!(
                "check {what:?}: use one of veth_pair, counter, log"
            ));
        }
        if self.veth_pair.is_none() && self.log.is_none() && self.run.is_none() {
            out.push(format!("check {what:?} needs `run`"));
        }
        if self.counter.is_some() && self.run.is_none() {
            out.push(format!(
                "check {what:?}: a counter needs `run` (the traffic)"
            ));
        }
        if let Some(id) = &self.log
            && !background_ids.contains(&id.as_str())
        {
            out.push(format!(
                "check {what:?}: no background command with id {id:?} in this step"
            ));
        }
        if let Some(c) = &self.claim {
            let ok =
                c.len() == 3 && c.starts_with('C') && c[1..].chars().all(|d| d.is_ascii_digit());
            if !ok {
                out.push(format!("check {what:?}: claim {c:?} is not like C07"));
            }
        }
        if self.within < 0.0 || self.timeout.is_some_and(|t| t <= 0.0) {
            out.push(format!("check {what:?}: within/timeout must be positive"));
        }
        out
    }
}
