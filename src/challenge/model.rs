//! The challenge file format (TOML, one file per challenge in `challenges/`), as Rust
//! types, and the checks made when the files are loaded. `challenges/README.md`
//! documents the format for authors.

use crate::lesson::model::{Article, Check, Text};
use crate::lesson::vars;
use serde::Deserialize;
use std::collections::BTreeMap;

/// Words `challenge` takes in place of a name: no challenge may be called so.
pub const RESERVED: &[&str] = &["list", "check", "hint"];

/// One challenge: a lab broken on purpose (or a task to build), checked against the
/// kernel.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Challenge {
    /// Name used on the command line (`forwarding-off`).
    pub name: String,
    /// Article id (`004`), a key of `lessons/articles.toml`.
    pub article: String,
    /// The article's section the challenge is about (its own heading, in Chinese).
    pub section: String,
    /// One-line title.
    pub title: Text,
    /// What is wrong, or what to build: shown when the challenge starts.
    pub task: Text,
    /// dockernet commands that prepare the lab (create containers, break something).
    pub setup: Vec<String>,
    /// What `challenge check` verifies against the kernel (the lessons' checks).
    #[serde(rename = "check")]
    pub checks: Vec<Check>,
    /// Graded hints: the first gentle, the last nearly the answer.
    #[serde(rename = "hint")]
    pub hints: Vec<Text>,
    /// The reference solution: dockernet commands that solve it (CI runs them).
    pub solution: Vec<String>,
}

impl Challenge {
    /// Problems in the file that would only show when the challenge runs.
    pub fn problems(&self, articles: &BTreeMap<String, Article>) -> Vec<String> {
        let mut out = Vec::new();
        let name_ok = !self.name.is_empty()
            && self
                .name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if !name_ok {
            out.push(format!(
                "challenge name {:?}: use a-z, 0-9 and '-'",
                self.name
            ));
        }
        if RESERVED.contains(&self.name.as_str()) {
            out.push(format!(
                "challenge name {:?} is a word of `challenge` itself",
                self.name
            ));
        }
        if !articles.contains_key(&self.article) {
            out.push(format!("unknown article {:?}", self.article));
        }
        if self.section.trim().is_empty() {
            out.push("`section` is empty: name the article's heading".into());
        }
        for (field, list) in [("setup", &self.setup), ("solution", &self.solution)] {
            if list.is_empty() {
                out.push(format!("`{field}` needs at least one command"));
            }
            for c in list {
                if let Err(e) = vars::split(c) {
                    out.push(format!("{field}: {e}"));
                }
            }
        }
        if self.checks.is_empty() {
            out.push("a challenge needs at least one check".into());
        }
        if self.hints.len() < 2 {
            out.push("a challenge needs at least two graded hints".into());
        }
        for t in [&self.title, &self.task]
            .into_iter()
            .chain(&self.hints)
            .chain(self.checks.iter().flat_map(|c| [&c.what, &c.hint]))
        {
            if t.en.trim().is_empty() || t.zh.trim().is_empty() {
                out.push(format!("a text is empty in one language: {:?}", t.en));
            }
        }
        // Checks run with nothing in the background, and saved values do not carry from
        // one `challenge check` to the next.
        let mut saved: Vec<String> = Vec::new();
        let mut texts: Vec<String> = self.setup.iter().chain(&self.solution).cloned().collect();
        for c in &self.checks {
            out.extend(c.problems(&[]));
            texts.extend(c.texts().into_iter().map(str::to_string));
            if c.log.is_some() {
                out.push(format!("check {:?}: a challenge has no `log`", c.what.en));
            }
        }
        for c in &self.checks {
            saved.extend(c.save.clone());
        }
        for t in &texts {
            for k in vars::keys(t) {
                if !vars::is_builtin(&k) && !saved.contains(&k) {
                    out.push(format!("{{{k}}} is neither built in nor saved by a check"));
                }
            }
        }
        out
    }
}
