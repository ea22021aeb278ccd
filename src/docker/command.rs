//! The `docker ps` COMMAND column.
//!
//! Two layers are reproduced:
//! * the daemon (moby `container/view.go`) builds the API's `Command` string
//!   as `Path + " " + Args`, wrapping every *argument* that contains a space
//!   in single quotes (the path itself is never quoted);
//! * docker/cli (`formatter/container.go` `Command()`) then truncates that
//!   string with `Ellipsis(command, 20)` when `--no-trunc` is absent, and
//!   only afterwards applies `strconv.Quote`. The 20-column limit therefore
//!   excludes the surrounding double quotes: `"docker-entrypoint.s…"`.

use super::width::ellipsis_char_width;

/// Maximum display width of the COMMAND column before quoting.
pub const COMMAND_WIDTH: usize = 20;

/// Renders the COMMAND column for a container whose full command line
/// (entrypoint followed by cmd) is `cmd`; `trunc` is true unless
/// `--no-trunc` was given. Examples: `["httpd-foreground"]` →
/// `"\"httpd-foreground\""`; `["sh", "-c", "echo hi"]` →
/// `"\"sh -c 'echo hi'\""`.
pub fn ps_command(cmd: &[String], trunc: bool) -> String {
    let mut command = String::new();
    if let Some((path, args)) = cmd.split_first() {
        command.push_str(path);
        if !args.is_empty() {
            command.push(' ');
            let quoted: Vec<String> = args
                .iter()
                .map(|a| {
                    // moby only checks for a plain space, not other whitespace
                    // or quotes already inside the argument.
                    if a.contains(' ') {
                        format!("'{a}'")
                    } else {
                        a.clone()
                    }
                })
                .collect();
            command.push_str(&quoted.join(" "));
        }
    }
    if trunc {
        command = ellipsis(&command, COMMAND_WIDTH);
    }
    go_quote(&command)
}

/// docker/cli `formatter.Ellipsis`: truncates `s` to at most `max` display
/// columns, replacing the tail with `…` (which takes one column).
///
/// Quirks kept from the Go code:
/// * `max == 0` gives `""`; `max == 1` gives the first rune, even when it is
///   two columns wide, and never appends `…`;
/// * pure-ASCII strings are cut by rune count;
/// * otherwise East Asian Wide/Fullwidth runes count 2; the result keeps the
///   longest prefix whose width is `<= max - 1`. When no prefix fits (a wide
///   first rune with `max == 2`) the string is returned *unchanged*.
pub fn ellipsis(s: &str, max: usize) -> String {
    if max == 0 {
        return String::new();
    }
    let runes: Vec<char> = s.chars().collect();
    if max == 1 {
        return runes.first().map(|c| c.to_string()).unwrap_or_default();
    }
    if s.is_ascii() {
        if s.len() <= max {
            return s.to_string();
        }
        return format!("{}…", &s[..max - 1]);
    }
    let mut cumulative = Vec::with_capacity(runes.len());
    let mut total = 0;
    for &c in &runes {
        total += ellipsis_char_width(c);
        cumulative.push(total);
    }
    if total <= max {
        return s.to_string();
    }
    for i in 0..cumulative.len() - 1 {
        if cumulative[i] < max && cumulative[i + 1] >= max {
            let prefix: String = runes[..=i].iter().collect();
            return format!("{prefix}…");
        }
    }
    s.to_string()
}

/// Go's `strconv.Quote`: wraps `s` in double quotes, escaping `"` and `\`,
/// using `\a \b \f \n \r \t \v` for those controls, `\xNN` for other ASCII
/// controls and DEL, and `\uNNNN` / `\UNNNNNNNN` for non-printable runes.
/// Printable non-ASCII runes are kept as-is.
///
/// Go's `IsPrint` is approximated: controls, whitespace other than U+0020,
/// common format characters and private-use runes are escaped; unassigned
/// code points are not detected.
pub fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\x07' => out.push_str("\\a"),
            '\x08' => out.push_str("\\b"),
            '\x0c' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\x0b' => out.push_str("\\v"),
            c if is_go_printable(c) => out.push(c),
            c if (c as u32) < 0x20 || c == '\x7f' => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c if (c as u32) < 0x10000 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push_str(&format!("\\U{:08x}", c as u32)),
        }
    }
    out.push('"');
    out
}

/// Approximation of Go's `strconv.IsPrint` (letters, marks, numbers,
/// punctuation, symbols and ASCII space).
fn is_go_printable(c: char) -> bool {
    if c.is_ascii() {
        return (' '..='~').contains(&c);
    }
    if c.is_control() || c.is_whitespace() {
        return false;
    }
    !matches!(
        c as u32,
        0x00AD
            | 0x0600..=0x0605
            | 0x061C
            | 0x06DD
            | 0x070F
            | 0x180E
            | 0x200B..=0x200F
            | 0x202A..=0x202E
            | 0x2060..=0x206F
            | 0xFEFF
            | 0xFFF9..=0xFFFB
            | 0xE000..=0xF8FF
            | 0xF0000..
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(parts: &[&str]) -> Vec<String> {
        parts.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn short_command_is_just_quoted() {
        assert_eq!(
            ps_command(&v(&["httpd-foreground"]), true),
            "\"httpd-foreground\""
        );
    }

    #[test]
    fn long_command_is_truncated_before_quoting() {
        let cmd = v(&["docker-entrypoint.sh", "postgres"]);
        assert_eq!(ps_command(&cmd, true), "\"docker-entrypoint.s…\"");
        assert_eq!(ps_command(&cmd, false), "\"docker-entrypoint.sh postgres\"");
        let nginx = v(&["/docker-entrypoint.sh", "nginx", "-g", "daemon off;"]);
        assert_eq!(ps_command(&nginx, true), "\"/docker-entrypoint.…\"");
        assert_eq!(
            ps_command(&nginx, false),
            "\"/docker-entrypoint.sh nginx -g 'daemon off;'\""
        );
    }

    #[test]
    fn exactly_twenty_chars_is_kept() {
        let cmd = v(&["12345678901234567890"]);
        assert_eq!(ps_command(&cmd, true), "\"12345678901234567890\"");
    }

    #[test]
    fn args_with_spaces_are_single_quoted_and_quotes_escaped() {
        let cmd = v(&["sh", "-c", "echo \"hi\""]);
        assert_eq!(ps_command(&cmd, false), "\"sh -c 'echo \\\"hi\\\"'\"");
        assert_eq!(ps_command(&v(&["a b"]), false), "\"a b\"");
    }

    #[test]
    fn empty_command() {
        assert_eq!(ps_command(&[], true), "\"\"");
    }

    #[test]
    fn ellipsis_matches_docker_cli_tests() {
        // Cases from docker/cli displayutils_test.go.
        assert_eq!(ellipsis("t🐳ststring", 0), "");
        assert_eq!(ellipsis("t🐳ststring", 1), "t");
        assert_eq!(ellipsis("t🐳ststring", 2), "t…");
        assert_eq!(ellipsis("t🐳ststring", 6), "t🐳st…");
        assert_eq!(ellipsis("t🐳ststring", 20), "t🐳ststring");
        assert_eq!(ellipsis("你好世界teststring", 0), "");
        assert_eq!(ellipsis("你好世界teststring", 1), "你");
        assert_eq!(ellipsis("你好世界teststring", 3), "你…");
        assert_eq!(ellipsis("你好世界teststring", 6), "你好…");
        assert_eq!(ellipsis("你好世界teststring", 20), "你好世界teststring");
        assert_eq!(ellipsis("test🐳string", 0), "");
        assert_eq!(ellipsis("test🐳string", 1), "t");
        assert_eq!(ellipsis("test🐳string", 3), "te…");
        assert_eq!(ellipsis("test🐳string", 6), "test…");
        assert_eq!(ellipsis("test🐳string", 20), "test🐳string");
        assert_eq!(ellipsis("teststring", 0), "");
        assert_eq!(ellipsis("teststring", 1), "t");
        assert_eq!(ellipsis("teststring", 3), "te…");
        assert_eq!(ellipsis("teststring", 10), "teststring");
    }

    #[test]
    fn ellipsis_wide_first_rune_quirk() {
        // No prefix fits in max-1 columns, so Go returns the input unchanged.
        assert_eq!(ellipsis("你好世界", 2), "你好世界");
        assert_eq!(ellipsis("", 1), "");
    }

    #[test]
    fn go_quote_escapes_like_strconv() {
        assert_eq!(go_quote("plain"), "\"plain\"");
        assert_eq!(go_quote("a\"b\\c"), "\"a\\\"b\\\\c\"");
        assert_eq!(
            go_quote("\t\n\r\x07\x08\x0b\x0c"),
            "\"\\t\\n\\r\\a\\b\\v\\f\""
        );
        assert_eq!(go_quote("\x01\x7f"), "\"\\x01\\x7f\"");
        assert_eq!(go_quote("\u{a0}\u{200b}"), "\"\\u00a0\\u200b\"");
        assert_eq!(go_quote("\u{f0000}"), "\"\\U000f0000\"");
        assert_eq!(go_quote("日本…é🐳"), "\"日本…é🐳\"");
    }
}
