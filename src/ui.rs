//! Terminal conventions: colors only on a TTY and never with NO_COLOR / --no-color.

use colored::Colorize;
use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};

static NO_COLOR: AtomicBool = AtomicBool::new(false);
static CHINESE: AtomicBool = AtomicBool::new(false);
static LANG_SET: AtomicBool = AtomicBool::new(false);

/// Languages of explanations and messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Lang {
    /// English
    En,
    /// 中文
    Zh,
}

/// Choose the language of dockernet's own messages (`--lang`); `None` reads
/// LC_ALL / LANG (Chinese when they start with `zh`). Docker's own error texts stay as
/// Docker prints them, so learners can compare and search them.
pub fn set_lang(chinese: Option<bool>) {
    let zh = chinese.unwrap_or_else(|| {
        ["LC_ALL", "LC_MESSAGES", "LANG"]
            .iter()
            .find_map(|k| std::env::var(k).ok().filter(|v| !v.is_empty()))
            .is_some_and(|v| v.starts_with("zh"))
    });
    CHINESE.store(zh, Ordering::Relaxed);
    LANG_SET.store(true, Ordering::Relaxed);
}

/// True when messages should be in Chinese.
pub fn chinese() -> bool {
    if !LANG_SET.load(Ordering::Relaxed) {
        set_lang(None);
    }
    CHINESE.load(Ordering::Relaxed)
}

/// Pick the English or the Chinese text of a message.
pub fn tr(en: impl Into<String>, zh: impl Into<String>) -> String {
    if chinese() { zh.into() } else { en.into() }
}

/// Turn colors off for the whole process (`--no-color`).
pub fn disable_color() {
    NO_COLOR.store(true, Ordering::Relaxed);
    colored::control::set_override(false);
}

fn color_allowed() -> bool {
    !NO_COLOR.load(Ordering::Relaxed) && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// Whether to color what goes to stderr.
pub fn color_stderr() -> bool {
    color_allowed() && std::io::stderr().is_terminal()
}

/// Whether to color what goes to stdout.
pub fn color_stdout() -> bool {
    color_allowed() && std::io::stdout().is_terminal()
}

/// A narrated command line: `$ ip netns add ...`, comments as `# ...`.
pub fn narration(line: &str, color: bool) -> String {
    if let Some(comment) = line.strip_prefix("# ") {
        let text = format!("  # {comment}");
        if color {
            text.dimmed().to_string()
        } else {
            text
        }
    } else {
        let text = format!("  $ {line}");
        if color { text.cyan().to_string() } else { text }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn narration_without_color_is_plain() {
        assert_eq!(narration("ip netns add x", false), "  $ ip netns add x");
        assert_eq!(narration("# why", false), "  # why");
    }
}
