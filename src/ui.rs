//! Terminal conventions: colors only on a TTY and never with NO_COLOR / --no-color.

use colored::Colorize;
use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};

static NO_COLOR: AtomicBool = AtomicBool::new(false);

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
