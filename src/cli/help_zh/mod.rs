//! `--help` in Chinese: under `--lang zh` or a Chinese locale, the clap tree is built,
//! then every command's and argument's text is replaced from a catalog keyed by the
//! command path and the argument id (`run` + `publish`), and clap's own frame (the
//! headings, `-h` / `-V`, `[default: …]`, possible values) is written in Chinese too.
//!
//! English stays clap's own output, untouched: the tree is only rewritten for Chinese.
//! Man pages and completions use the English tree (`Cli::command()`).

mod catalog;
mod challenge;
mod containers;
pub mod errors;
mod lesson;
mod network;
mod top;

#[cfg(test)]
mod tests;

use super::Cli;
#[cfg(test)]
use clap::Parser;
use clap::builder::{PossibleValue, StyledStr};
use clap::{Arg, ArgAction, ArgMatches, Command, CommandFactory, FromArgMatches};
use std::ffi::OsString;

/// Parse the command line (`args[0]` is the program). A line that parses needs no
/// texts; help, `-V` and usage errors are rendered again from the tree rewritten by
/// [`localized`] when the language is Chinese (rewriting it costs a build of the whole
/// tree, so it is not done for every command).
pub fn parse(args: &[OsString]) -> Result<Cli, clap::Error> {
    let english = parse_with(&mut Cli::command(), args);
    if english.is_ok() || !wants_chinese(args) {
        return english;
    }
    parse_with(&mut localized(args.first()), args)
}

/// Parse with one tree, noting whether `--host` / `-H` / DOCKERNET_HOST was given: clap
/// fills in its default (the first host), and only the matches tell the two apart.
fn parse_with(cmd: &mut Command, args: &[OsString]) -> Result<Cli, clap::Error> {
    let mut matches: ArgMatches = cmd.try_get_matches_from_mut(args)?;
    let given = matches
        .value_source("on_host")
        .is_some_and(|s| s != clap::parser::ValueSource::DefaultValue);
    let mut cli = Cli::from_arg_matches_mut(&mut matches).map_err(|e| e.format(cmd))?;
    cli.host_given = given;
    Ok(cli)
}

/// Print a parse error and exit, as `clap::Error::exit` does — in Chinese when the
/// language is (usage errors; help and version are already the localized tree's).
pub fn exit_with(e: clap::Error, args: &[OsString]) -> ! {
    if !wants_chinese(args) {
        e.exit()
    }
    let code = e.exit_code();
    match errors::render(e) {
        Ok(text) => {
            eprint!("{text}");
            std::process::exit(code)
        }
        Err(e) => e.exit(),
    }
}

/// Whether help should be Chinese: `--lang` on the command line, else the locale, by
/// `crate::ui::set_lang`'s rule (which this sets, as `dispatch` will again).
pub fn wants_chinese(args: &[OsString]) -> bool {
    crate::ui::set_lang(explicit_lang(args));
    crate::ui::chinese()
}

/// The last `--lang zh|en` / `--lang=zh|en` before a `--` (the words after it are a
/// container's): true for Chinese.
fn explicit_lang(args: &[OsString]) -> Option<bool> {
    let mut explicit = None;
    let mut words = args.iter().skip(1).map(|a| a.to_string_lossy());
    while let Some(w) = words.next() {
        let value = match w.as_ref() {
            "--" => break,
            "--lang" => words.next().map(|v| v.into_owned()),
            other => other.strip_prefix("--lang=").map(str::to_string),
        };
        match value.as_deref() {
            Some("zh") => explicit = Some(true),
            Some("en") => explicit = Some(false),
            _ => {}
        }
    }
    explicit
}

/// The whole command tree with Chinese texts, ready to parse `argv0`'s command line.
pub fn localized(argv0: Option<&OsString>) -> Command {
    let mut cmd = Cli::command();
    // clap names the program after argv[0] when it parses; the tree is built (global
    // flags copied down, `-h` / `help` added) before that here, so name it first.
    if let Some(name) = argv0
        .map(std::path::Path::new)
        .and_then(|p| p.file_name())
        .and_then(|f| f.to_str())
    {
        cmd = cmd.bin_name(name.to_string());
    }
    cmd.build();
    localize(cmd, "")
}

/// Rewrite one built command (`path`: its words after `dockernet`) and its subtree.
fn localize(mut cmd: Command, path: &str) -> Command {
    if let Some(zh) = catalog::about(path) {
        cmd = set_about(cmd, zh);
    }
    if cmd.get_after_help().is_some()
        && let Some(zh) = catalog::after_help(path)
    {
        cmd = cmd.after_help(zh);
    }
    let own = path.to_string();
    cmd = cmd.mut_args(|a| localize_arg(a, &own));
    let t = template(&cmd);
    cmd = cmd.help_template(t);
    cmd.mut_subcommands(|sc| {
        if sc.get_name() == "help" {
            localize_help_subcommand(sc, path)
        } else {
            let sub = join(path, sc.get_name());
            localize(sc, &sub)
        }
    })
}

/// `a b` from `a` and `b` (`b` alone under the root).
fn join(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_string()
    } else {
        format!("{path} {name}")
    }
}

/// The about (first paragraph) and, where English has one, the long about (all of it);
/// visible aliases move into the text, as clap's `[aliases: …]` is English.
fn set_about(mut cmd: Command, zh: &str) -> Command {
    let short = zh.split("\n\n").next().unwrap_or(zh);
    let aliases: Vec<String> = cmd.get_visible_aliases().map(str::to_string).collect();
    let long = cmd.get_long_about().is_some() || !aliases.is_empty();
    let mut about = short.to_string();
    if !aliases.is_empty() {
        let all: Vec<String> = cmd.get_all_aliases().map(str::to_string).collect();
        // Aliases are matched by name when parsing: keep them all, hidden.
        cmd = cmd.visible_alias(None).aliases(all);
        about = format!("{about} [别名：{}]", aliases.join("、"));
    }
    cmd = cmd.about(about);
    if long {
        cmd.long_about(zh.to_string())
    } else {
        cmd.long_about(None)
    }
}

/// The `help` subcommand clap adds: its own about, and the copies of the tree under it
/// (what `help <TAB>` completes) with their commands' abouts.
fn localize_help_subcommand(mut help: Command, parent: &str) -> Command {
    help = help.about(catalog::HELP_SUBCOMMAND);
    help = help.mut_args(|a| match a.get_id().as_str() {
        "subcommand" => a.help(catalog::HELP_SUBCOMMAND_ARG),
        _ => a,
    });
    let t = template(&help);
    help = help.help_template(t);
    let parent = parent.to_string();
    help.mut_subcommands(|sc| {
        if sc.get_name() == "help" {
            return sc.about(catalog::HELP_SUBCOMMAND);
        }
        let sub = join(&parent, sc.get_name());
        let sc = localize_help_subcommand(sc, &sub);
        match catalog::about(&sub) {
            Some(zh) => sc.about(zh.split("\n\n").next().unwrap_or(zh).to_string()),
            None => sc,
        }
    })
}

/// One argument: its help from the catalog (globals under the root's path), clap's
/// `-h` / `-V`, and the notes clap appends (`[default: …]`) in Chinese.
fn localize_arg(a: Arg, path: &str) -> Arg {
    match a.get_action() {
        ArgAction::Help | ArgAction::HelpShort | ArgAction::HelpLong => {
            return if a.get_long_help().is_some() {
                a.help(catalog::HELP_FLAG_SHORT)
                    .long_help(catalog::HELP_FLAG_LONG)
            } else {
                a.help(catalog::HELP_FLAG)
            };
        }
        ArgAction::Version => return a.help(catalog::VERSION_FLAG),
        _ => {}
    }
    let owner = if a.is_global_set() { "" } else { path };
    let Some(zh) = catalog::arg(owner, a.get_id().as_str()) else {
        return a;
    };
    let short = zh.split("\n\n").next().unwrap_or(zh).to_string();
    // clap writes its notes in English with no way to reword them: they are hidden
    // and written into the help text instead (parsing and completion are unchanged).
    let notes = Notes::of(&a);
    let a = a
        .hide_env(true)
        .hide_default_value(true)
        .hide_possible_values(true);
    let a = match a.get_all_aliases() {
        Some(all) if notes.aliases.is_some() => {
            let all: Vec<String> = all.into_iter().map(str::to_string).collect();
            a.visible_alias(None).aliases(all)
        }
        _ => a,
    };
    // clap counts a Chinese character as one column: long notes go on their own line
    // rather than past the terminal's edge.
    let last = short.lines().last().unwrap_or_default();
    let help = match notes.inline() {
        n if n.is_empty() => short,
        n if width(last) + 1 + width(&n) > INLINE_WIDTH => format!("{short}\n{n}"),
        n => format!("{short} {n}"),
    };
    a.help(help).long_help(notes.long(zh))
}

/// The widest a one-line help (`-h`) with its notes may be, beside the option column.
const INLINE_WIDTH: usize = 60;

/// The display width of a terminal line (CJK and full-width forms take two columns).
fn width(line: &str) -> usize {
    line.chars()
        .map(|c| match c as u32 {
            0x1100..=0x115F
            | 0x2E80..=0xA4CF
            | 0xAC00..=0xD7A3
            | 0xF900..=0xFAFF
            | 0xFE30..=0xFE4F
            | 0xFF00..=0xFF60
            | 0xFFE0..=0xFFE6 => 2,
            _ => 1,
        })
        .sum()
}

/// What clap writes after an argument's help, gathered to be written in Chinese.
struct Notes {
    env: Option<String>,
    default: Option<String>,
    aliases: Option<String>,
    /// Possible values with their helps (in Chinese), when any has one.
    values: Vec<(String, Option<String>)>,
}

impl Notes {
    fn of(a: &Arg) -> Notes {
        let env = a.get_env().filter(|_| !a.is_hide_env_set()).map(|name| {
            let value = std::env::var_os(name).unwrap_or_default();
            format!(
                "[环境变量：{}={}]",
                name.to_string_lossy(),
                value.to_string_lossy()
            )
        });
        let takes_value = a.get_num_args().is_some_and(|n| n.takes_values());
        let default =
            (takes_value && !a.is_hide_default_value_set() && !a.get_default_values().is_empty())
                .then(|| {
                    let dvs: Vec<String> = a
                        .get_default_values()
                        .iter()
                        .map(|v| v.to_string_lossy().into_owned())
                        .collect();
                    format!("[默认值：{}]", dvs.join(" "))
                });
        let aliases = a.get_visible_aliases().filter(|v| !v.is_empty()).map(|v| {
            let names: Vec<String> = v.iter().map(|n| format!("--{n}")).collect();
            format!("[别名：{}]", names.join("、"))
        });
        let values = if a.is_hide_possible_values_set() || !takes_value {
            Vec::new()
        } else {
            a.get_possible_values()
                .iter()
                .filter(|pv| !pv.is_hide_set())
                .map(|pv| (pv.get_name().to_string(), value_help(pv)))
                .collect()
        };
        Notes {
            env,
            default,
            aliases,
            values,
        }
    }

    /// Whether clap would list the values one per line with their helps (long help).
    fn listed(&self) -> bool {
        self.values.iter().any(|(_, h)| h.is_some())
    }

    fn brackets(&self) -> Vec<String> {
        let mut v: Vec<String> = [&self.env, &self.default, &self.aliases]
            .into_iter()
            .flatten()
            .cloned()
            .collect();
        if !self.values.is_empty() {
            let names: Vec<&str> = self.values.iter().map(|(n, _)| n.as_str()).collect();
            v.push(format!("[可选值：{}]", names.join(", ")));
        }
        v
    }

    /// The notes on the help's line (`-h`).
    fn inline(&self) -> String {
        self.brackets().join(" ")
    }

    /// The long help (`--help`): the whole text, the values' list, then one note a line.
    fn long(&self, zh: &str) -> String {
        let mut out = zh.to_string();
        let mut brackets = self.brackets();
        if self.listed() {
            brackets.pop();
            let width = self.values.iter().map(|(n, _)| n.len()).max().unwrap_or(0);
            out.push_str("\n\n可选值：");
            for (name, help) in &self.values {
                match help {
                    Some(h) => {
                        let pad = " ".repeat(width - name.len());
                        out.push_str(&format!("\n- {name}: {pad}{h}"));
                    }
                    None => out.push_str(&format!("\n- {name}")),
                }
            }
        }
        if !brackets.is_empty() {
            out.push_str("\n\n");
            out.push_str(&brackets.join("\n"));
        }
        out
    }
}

/// A possible value's help in Chinese (the catalog's, else clap's as it is).
fn value_help(pv: &PossibleValue) -> Option<String> {
    let en = pv.get_help()?.to_string();
    Some(
        catalog::value(pv.get_name())
            .map(str::to_string)
            .unwrap_or(en),
    )
}

/// clap's default layout with Chinese headings, listing only the sections this
/// command has (a template cannot test for an empty one).
fn template(cmd: &Command) -> StyledStr {
    let styles = cmd.get_styles();
    let (u, h) = (styles.get_usage(), styles.get_header());
    let heading = |s: &str| format!("{}{s}{}", h.render(), h.render_reset());
    let mut t = format!(
        "{{before-help}}{{about-with-newline}}\n{}用法：{}{{usage}}",
        u.render(),
        u.render_reset()
    );
    let mut sections = Vec::new();
    if cmd.get_subcommands().any(|s| !s.is_hide_set()) {
        sections.push(format!("{}\n{{subcommands}}", heading("命令：")));
    }
    if cmd.get_positionals().any(|a| !a.is_hide_set()) {
        sections.push(format!("{}\n{{positionals}}", heading("参数：")));
    }
    if cmd
        .get_arguments()
        .any(|a| !a.is_positional() && !a.is_hide_set())
    {
        sections.push(format!("{}\n{{options}}", heading("选项：")));
    }
    if !sections.is_empty() {
        t.push_str("\n\n");
        t.push_str(&sections.join("\n\n"));
    }
    t.push_str("{after-help}");
    StyledStr::from(t)
}
