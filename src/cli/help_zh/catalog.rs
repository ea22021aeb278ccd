//! Lookups in the Chinese catalog (the texts live in the sibling modules, by area) and
//! the Chinese of clap's own frame.

use super::{challenge, containers, lesson, network, top};

/// The Chinese helps of the arguments of one or more commands that share them (`run`,
/// `create`, `container run` and `container create` take the same flags).
pub(super) struct ArgTexts {
    /// Command paths: the words after `dockernet` (`""` is dockernet itself, whose
    /// global flags every subcommand shows).
    pub paths: &'static [&'static str],
    /// Argument id (clap's: the field name) and its help; a blank line separates the
    /// one-line help from the rest of the long help.
    pub args: &'static [(&'static str, &'static str)],
}

/// clap's `help` subcommand.
pub(super) const HELP_SUBCOMMAND: &str = "打印本帮助，或所给子命令的帮助";
/// The argument of clap's `help` subcommand.
pub(super) const HELP_SUBCOMMAND_ARG: &str = "要查看帮助的子命令";
/// `-h, --help` where there is no long help.
pub(super) const HELP_FLAG: &str = "打印帮助";
/// `-h, --help` in the summary (`-h`).
pub(super) const HELP_FLAG_SHORT: &str = "打印帮助（'--help' 显示完整说明）";
/// `-h, --help` in the long help (`--help`).
pub(super) const HELP_FLAG_LONG: &str = "打印帮助（'-h' 只显示摘要）";
/// `-V, --version`.
pub(super) const VERSION_FLAG: &str = "打印版本";

/// Every area's command texts.
pub(super) fn abouts() -> impl Iterator<Item = &'static (&'static str, &'static str)> {
    top::ABOUTS
        .iter()
        .chain(containers::ABOUTS)
        .chain(network::ABOUTS)
        .chain(lesson::ABOUTS)
        .chain(challenge::ABOUTS)
}

/// Every area's argument texts.
pub(super) fn arg_texts() -> impl Iterator<Item = &'static ArgTexts> {
    top::ARGS
        .iter()
        .chain(containers::ARGS)
        .chain(network::ARGS)
        .chain(lesson::ARGS)
        .chain(challenge::ARGS)
}

/// Every area's texts after the options (`after_help`), by command path.
pub(super) fn after_helps() -> impl Iterator<Item = &'static (&'static str, &'static str)> {
    top::AFTER_HELP
        .iter()
        .chain(lesson::AFTER_HELP)
        .chain(challenge::AFTER_HELP)
}

/// The Chinese about of the command at `path`.
pub(super) fn about(path: &str) -> Option<&'static str> {
    abouts().find(|(p, _)| *p == path).map(|(_, t)| *t)
}

/// The Chinese text after the options of the command at `path`.
pub(super) fn after_help(path: &str) -> Option<&'static str> {
    after_helps().find(|(p, _)| *p == path).map(|(_, t)| *t)
}

/// The Chinese help of argument `id` of the command at `path`.
pub(super) fn arg(path: &str, id: &str) -> Option<&'static str> {
    arg_texts()
        .filter(|s| s.paths.contains(&path))
        .flat_map(|s| s.args)
        .find(|(i, _)| *i == id)
        .map(|(_, t)| *t)
}

/// The Chinese help of a possible value (`--format table`, `--lang zh`), by its name:
/// the values of dockernet's few value enums do not clash.
pub(super) fn value(name: &str) -> Option<&'static str> {
    top::VALUES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, t)| *t)
}
