//! How a lesson looks in the terminal: the engine's own words in both languages,
//! colors (only on a TTY, never with NO_COLOR / --no-color), and wrapping of English
//! and Chinese text to the terminal's width.

use super::model::Lang;
use crate::docker::width::is_wide;
use colored::Colorize;

/// The engine's own words, by key, in English and Chinese.
const WORDS: &[(&str, &str, &str)] = &[
    ("not_installed", "{} is not installed", "未安装 {}"),
    (
        "bg_not_started",
        "the background command {} is not running",
        "后台命令 {} 没有在运行",
    ),
    ("runnable", "a command that can run", "一条可以执行的命令"),
    (
        "expect_ok",
        "the command succeeds (exit status 0)",
        "命令执行成功（退出码 0）",
    ),
    (
        "expect_fail",
        "the command fails (non-zero exit status)",
        "命令执行失败（退出码非 0）",
    ),
    (
        "timed_out",
        "no result within {} s (stopped)",
        "{} 秒内没有结果（已终止）",
    ),
    ("exit_status", "exit status", "退出码"),
    ("packets", "packets", "个数据包"),
    (
        "counter_grows",
        "the rule's packet counter grows",
        "这条规则的数据包计数增加",
    ),
    ("output_contains", "output containing", "输出中包含"),
    ("output_lacks", "output without", "输出中不包含"),
    ("a_line_with", "a line with", "某一行依次包含"),
    ("no_output", "no output", "没有任何输出"),
    ("no_output_shown", "(no output)", "（无输出）"),
    ("line_count", "{} line(s) of output", "输出恰好 {} 行"),
    (
        "rule_present",
        "a rule in {} {} matching {}",
        "{} 表 {} 链中有匹配 {} 的规则",
    ),
    (
        "rule_missing",
        "(there is no rule in {} {} matching {})",
        "（{} 表 {} 链中没有匹配 {} 的规则）",
    ),
    (
        "veth_pair",
        "the host's vethX@ifN names eth0's index, and eth0@ifM names the veth's index",
        "宿主机上 vethX@ifN 的 N 是容器 eth0 的标号，eth0@ifM 的 M 是 veth 的标号",
    ),
    ("step", "Step {} of {}", "第 {} 步（共 {} 步）"),
    ("article", "Article", "文章"),
    ("today", "Docker today", "如今的 Docker"),
    ("changed", "What changed in the kernel", "内核里的变化"),
    (
        "unchanged",
        "Nothing changed in the kernel's network state.",
        "内核的网络状态没有变化。",
    ),
    ("host", "lab host", "实验宿主机"),
    ("container", "container", "容器"),
    ("overlay_ns", "overlay network", "overlay 网络"),
    ("new_ns", "new network namespace", "新建的网络命名空间"),
    ("gone_ns", "network namespace removed", "已删除网络命名空间"),
    ("more_lines", "… and {} more", "……还有 {} 行"),
    ("checks", "Checks", "检查"),
    ("expected", "expected", "预期"),
    ("seen", "seen", "实际"),
    ("hint", "hint", "提示"),
    ("skipped", "skipped", "已跳过"),
    (
        "prompt",
        "[Enter] next step · [r] checks again · [q] quit · [?] keys",
        "[回车] 下一步 · [r] 重新检查 · [q] 退出 · [?] 按键说明",
    ),
    (
        "prompt_start",
        "[Enter] start · [q] quit · [?] keys",
        "[回车] 开始 · [q] 退出 · [?] 按键说明",
    ),
    (
        "summary",
        "Checks: {} passed, {} failed, {} skipped.",
        "检查结果：{} 项通过，{} 项失败，{} 项跳过。",
    ),
    ("failed_list", "Failed checks:", "未通过的检查："),
    ("lab_removed", "Lab {} removed.", "实验环境 {} 已删除。"),
    (
        "lab_kept",
        "Lab {} is kept for you to explore, for example:",
        "实验环境 {} 已保留，可以继续探索，例如：",
    ),
    ("remove_with", "Remove it with:", "用完后这样删除："),
    (
        "interrupted",
        "Interrupted: removing lab {} …",
        "已中断：正在删除实验环境 {} ……",
    ),
    ("setup", "Setting up lab {} …", "正在准备实验环境 {} ……"),
    (
        "catching_up",
        "Running steps 1–{} quietly …",
        "正在悄悄执行第 1–{} 步……",
    ),
    (
        "command_failed",
        "This command failed, so the lesson cannot go on.",
        "这条命令执行失败，课程无法继续。",
    ),
    (
        "sabotage",
        "DOCKERNET_LESSON_SABOTAGE={}: breaking the lab on purpose (test hook)",
        "DOCKERNET_LESSON_SABOTAGE={}：故意破坏实验环境（测试钩子）",
    ),
    (
        "type_yourself",
        "Every command runs in lab {0}: to type one yourself, add `--lab {0}` (run the lesson with --keep to explore afterwards), for example:",
        "本课的命令都在实验环境 {0} 里执行。自己输入命令时加上 `--lab {0}`（课程结束后还想继续探索，运行课程时加 --keep），例如：",
    ),
    (
        "stale_lab",
        "Removing lab {} left by an earlier run …",
        "正在删除之前运行留下的实验环境 {} ……",
    ),
    ("bg_output", "{} printed:", "{} 的输出："),
    ("stopped_at", "Stopped after step {}.", "在第 {} 步后停止。"),
    ("claims", "claims", "文章说法"),
    ("lesson_fail", "lesson {} failed", "课程 {} 未通过"),
    ("done", "Lesson complete.", "本课结束。"),
];

/// The engine's word `key` in `lang`.
pub fn tr(lang: Lang, key: &str) -> String {
    WORDS
        .iter()
        .chain(super::words::WORDS)
        .find(|w| w.0 == key)
        .map(|w| match lang {
            Lang::En => w.1,
            Lang::Zh => w.2,
        })
        .unwrap_or(key)
        .to_string()
}

/// `tr` with `{}` replaced by the arguments, in order.
pub fn trf(lang: Lang, key: &str, args: &[&dyn std::fmt::Display]) -> String {
    let mut s = tr(lang, key);
    for a in args {
        s = s.replacen("{}", &a.to_string(), 1);
    }
    s
}

/// The language: `--lang`, else the one `crate::ui` chose from LC_ALL / LC_MESSAGES /
/// LANG (Chinese when it starts with `zh`), so lessons and messages always agree.
pub fn language(flag: Option<Lang>) -> Lang {
    flag.unwrap_or(if crate::ui::chinese() {
        Lang::Zh
    } else {
        Lang::En
    })
}

/// Colors, or plain text.
#[derive(Debug, Clone, Copy)]
pub struct Paint {
    /// Whether to color.
    pub on: bool,
}

impl Paint {
    /// Bold.
    pub fn bold(&self, s: &str) -> String {
        if self.on {
            s.bold().to_string()
        } else {
            s.into()
        }
    }
    /// Dimmed.
    pub fn dim(&self, s: &str) -> String {
        if self.on {
            s.dimmed().to_string()
        } else {
            s.into()
        }
    }
    /// A command.
    pub fn cmd(&self, s: &str) -> String {
        if self.on {
            s.cyan().to_string()
        } else {
            s.into()
        }
    }
    /// Good.
    pub fn good(&self, s: &str) -> String {
        if self.on {
            s.green().to_string()
        } else {
            s.into()
        }
    }
    /// Bad.
    pub fn bad(&self, s: &str) -> String {
        if self.on {
            s.red().bold().to_string()
        } else {
            s.into()
        }
    }
    /// Attention.
    pub fn warn(&self, s: &str) -> String {
        if self.on {
            s.yellow().to_string()
        } else {
            s.into()
        }
    }
    /// Inline `code` spans of explanation text, highlighted (backticks kept when plain).
    pub fn code_spans(&self, s: &str) -> String {
        if !self.on {
            return s.to_string();
        }
        let mut out = String::new();
        for (i, part) in s.split('`').enumerate() {
            if i % 2 == 1 {
                out.push_str(&part.cyan().to_string());
            } else {
                out.push_str(part);
            }
        }
        out
    }
}

/// Columns of the terminal on stdout (80 when unknown), at most 100.
pub fn width() -> usize {
    terminal_columns().unwrap_or(80).clamp(40, 100)
}

/// Columns of the terminal on stdout, if it is one.
pub fn terminal_columns() -> Option<usize> {
    // SAFETY: TIOCGWINSZ fills a winsize struct; fd 1 may not be a terminal (then it fails).
    let mut ws: libc::winsize = unsafe { std::mem::zeroed() };
    let ok = unsafe { libc::ioctl(1, libc::TIOCGWINSZ, &mut ws) } == 0;
    (ok && ws.ws_col > 0).then_some(ws.ws_col as usize)
}

fn char_width(c: char) -> usize {
    if is_wide(c) { 2 } else { 1 }
}

/// Display width of a string.
pub fn text_width(s: &str) -> usize {
    s.chars().map(char_width).sum()
}

/// A header and rows as aligned columns three spaces apart, wide characters counted
/// as two (`lesson list`, `challenge list`).
pub fn columns<const N: usize>(heads: [&str; N], rows: &[[String; N]]) -> String {
    let mut widths = heads.map(text_width);
    for row in rows {
        for (w, c) in widths.iter_mut().zip(row) {
            *w = (*w).max(text_width(c));
        }
    }
    let line = |row: &[String]| {
        let mut s = String::new();
        for (i, c) in row.iter().enumerate() {
            s.push_str(c);
            if i + 1 < row.len() {
                s.push_str(&" ".repeat(widths[i] - text_width(c) + 3));
            }
        }
        s.trim_end().to_string() + "\n"
    };
    let mut out = line(&heads.map(String::from));
    for row in rows {
        out.push_str(&line(row));
    }
    out
}

/// Punctuation that must not start a line (Chinese typesetting).
fn no_break_before(c: char) -> bool {
    "，。、；：！？）》」』】”’,.;:!?)".contains(c)
}

/// Punctuation that must not end a line (Chinese typesetting): opening brackets and quotes.
fn no_break_after(c: char) -> bool {
    "（《「『【“‘".contains(c)
}

fn is_cjk_punct(c: char) -> bool {
    "，。、；：！？（）《》「」『』【】“”‘’".contains(c)
}

/// Join the lines of a paragraph: directly between two Chinese characters (or next to
/// Chinese punctuation), with a space otherwise (also between Chinese and Latin words,
/// as Chinese technical writing does).
fn join_lines(lines: &[&str]) -> String {
    let mut out = String::new();
    for l in lines {
        let l = l.trim();
        if l.is_empty() {
            continue;
        }
        let prev = out.chars().last();
        let next = l.chars().next();
        if let (Some(p), Some(n)) = (prev, next)
            && !((is_wide(p) && is_wide(n)) || is_cjk_punct(p) || is_cjk_punct(n))
        {
            out.push(' ');
        }
        out.push_str(l);
    }
    out
}

/// Wrap text to `width` columns with `indent` spaces before each line. Paragraphs are
/// separated by blank lines; lines starting with `- ` or `$ ` begin a new line; a
/// `code span` is never broken.
pub fn wrap(text: &str, width: usize, indent: usize) -> Vec<String> {
    let mut out = Vec::new();
    let avail = width.saturating_sub(indent).max(20);
    let pad = " ".repeat(indent);
    for (pi, para) in text.trim().split("\n\n").enumerate() {
        if pi > 0 {
            out.push(String::new());
        }
        let mut blocks: Vec<Vec<&str>> = Vec::new();
        for line in para.lines() {
            let t = line.trim_start();
            if t.starts_with("- ") || t.starts_with("$ ") || blocks.is_empty() {
                blocks.push(vec![line]);
            } else if let Some(b) = blocks.last_mut() {
                b.push(line);
            }
        }
        for b in blocks {
            let hang = if b[0].trim_start().starts_with("- ") {
                2
            } else {
                0
            };
            for (i, l) in wrap_line(&join_lines(&b), avail, hang)
                .into_iter()
                .enumerate()
            {
                let extra = if i > 0 {
                    " ".repeat(hang)
                } else {
                    String::new()
                };
                out.push(format!("{pad}{extra}{l}"));
            }
        }
    }
    out
}

/// Units that are never split: an ASCII word (or a whole `code span`), or one wide
/// character with the punctuation that follows it.
fn units(text: &str) -> Vec<(String, bool)> {
    let mut out: Vec<(String, bool)> = Vec::new();
    let mut cur = String::new();
    let mut space_before = false;
    let mut in_code = false;
    let flush = |cur: &mut String, out: &mut Vec<(String, bool)>, sp: &mut bool| {
        if !cur.is_empty() {
            out.push((std::mem::take(cur), *sp));
            *sp = false;
        }
    };
    for c in text.chars() {
        if c == '`' {
            in_code = !in_code;
            cur.push(c);
        } else if in_code {
            cur.push(c);
        } else if c == ' ' {
            flush(&mut cur, &mut out, &mut space_before);
            space_before = true;
        } else if no_break_before(c) {
            cur.push(c);
        } else if is_wide(c) {
            if !cur.ends_with(no_break_after) {
                flush(&mut cur, &mut out, &mut space_before);
            }
            cur.push(c);
        } else {
            if cur
                .chars()
                .last()
                .is_some_and(|p| (is_wide(p) || is_cjk_punct(p)) && !no_break_after(p))
            {
                flush(&mut cur, &mut out, &mut space_before);
            }
            cur.push(c);
        }
    }
    flush(&mut cur, &mut out, &mut space_before);
    out
}

fn wrap_line(text: &str, width: usize, hang: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    let mut w = 0;
    for (unit, space) in units(text) {
        let uw = text_width(&unit);
        let sep = if space && !line.is_empty() { 1 } else { 0 };
        let limit = if lines.is_empty() {
            width
        } else {
            width - hang
        };
        if !line.is_empty() && w + sep + uw > limit {
            lines.push(std::mem::take(&mut line));
            w = 0;
        } else if sep == 1 {
            line.push(' ');
            w += 1;
        }
        line.push_str(&unit);
        w += uw;
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_never_split() {
        let l = wrap("points at 172.17.0.1. The difference", 14, 0);
        assert!(l.iter().any(|x| x.contains("172.17.0.1.")), "{l:?}");
    }

    #[test]
    fn english_wraps_at_spaces_and_keeps_code_spans_whole() {
        let l = wrap("one two three `ip link show` four five", 22, 2);
        assert_eq!(l, ["  one two three", "  `ip link show` four", "  five"]);
    }

    #[test]
    fn chinese_wraps_between_characters_but_not_before_punctuation() {
        let l = wrap("容器之间可以互相通信，但是不能用名字。", 24, 0);
        for line in &l {
            assert!(text_width(line) <= 24, "{line}");
            assert!(!line.starts_with('，') && !line.starts_with('。'));
        }
        assert_eq!(l.concat(), "容器之间可以互相通信，但是不能用名字。");
    }

    #[test]
    fn paragraph_lines_join_with_or_without_space() {
        assert_eq!(join_lines(&["a b", "c"]), "a b c");
        assert_eq!(join_lines(&["网桥", "docker0 是"]), "网桥 docker0 是");
        assert_eq!(join_lines(&["网桥", "是"]), "网桥是");
        assert_eq!(join_lines(&["网桥，", "docker0"]), "网桥，docker0");
        let l = wrap("first\n\n- item one\n- item two", 80, 0);
        assert_eq!(l, ["first", "", "- item one", "- item two"]);
    }

    #[test]
    fn opening_brackets_stay_with_what_follows() {
        for w in 14..30 {
            for l in wrap(
                "自己输入命令时加上 `--lab x`（课程结束后还想继续探索）。",
                w,
                0,
            ) {
                assert!(!l.ends_with('（'), "{w}: {l}");
            }
        }
    }

    #[test]
    fn language_prefers_the_flag() {
        assert_eq!(language(Some(Lang::Zh)), Lang::Zh);
        assert_eq!(tr(Lang::Zh, "hint"), "提示");
        assert_eq!(trf(Lang::En, "step", &[&2, &7]), "Step 2 of 7");
    }
}
