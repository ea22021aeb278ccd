//! clap's usage errors in Chinese (`error: unexpected argument …` → `错误：…`), for the
//! same runs whose `--help` is Chinese. Built from the error's context (which argument,
//! which value, what was valid), so the names and values stay exactly clap's; kinds
//! without a Chinese sentence here keep clap's own text.

use clap::builder::StyledStr;
use clap::error::{ContextKind, ContextValue, ErrorFormatter, ErrorKind};

/// Renders [`clap::Error`]s in Chinese.
pub struct ChineseErrors;

fn text<F: ErrorFormatter>(error: &clap::error::Error<F>, kind: ContextKind) -> Option<String> {
    match error.get(kind)? {
        ContextValue::String(s) => Some(s.clone()),
        ContextValue::Strings(v) => Some(v.join("、")),
        ContextValue::StyledStr(s) => Some(s.to_string()),
        ContextValue::StyledStrs(v) => Some(
            v.iter()
                .map(|s| s.to_string())
                .collect::<Vec<_>>()
                .join("、"),
        ),
        ContextValue::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The error's one-line cause in Chinese, or `None` to keep clap's.
fn cause<F: ErrorFormatter>(error: &clap::error::Error<F>) -> Option<String> {
    let arg = || text(error, ContextKind::InvalidArg).unwrap_or_default();
    Some(match error.kind() {
        ErrorKind::UnknownArgument => format!("不认识的参数 '{}'", arg()),
        ErrorKind::InvalidSubcommand => format!(
            "没有子命令 '{}'",
            text(error, ContextKind::InvalidSubcommand).unwrap_or_default()
        ),
        ErrorKind::MissingRequiredArgument => {
            format!("缺少必需的参数：{}", arg())
        }
        ErrorKind::MissingSubcommand => format!(
            "'{}' 需要一个子命令",
            text(error, ContextKind::InvalidSubcommand).unwrap_or_default()
        ),
        ErrorKind::InvalidValue => {
            let value = text(error, ContextKind::InvalidValue).unwrap_or_default();
            let mut s = if value.is_empty() {
                format!("参数 '{}' 需要一个值，但没有给出", arg())
            } else {
                format!("参数 '{}' 的值 '{value}' 无效", arg())
            };
            if let Some(valid) = text(error, ContextKind::ValidValue).filter(|v| !v.is_empty()) {
                s.push_str(&format!("\n  [可选值：{valid}]"));
            }
            s
        }
        ErrorKind::ValueValidation => format!(
            "参数 '{}' 的值 '{}' 无效",
            arg(),
            text(error, ContextKind::InvalidValue).unwrap_or_default()
        ),
        ErrorKind::ArgumentConflict => format!(
            "参数 '{}' 不能与 '{}' 同时使用",
            arg(),
            text(error, ContextKind::PriorArg).unwrap_or_default()
        ),
        ErrorKind::NoEquals => format!("参数 '{}' 的值要用 '=' 连着写", arg()),
        ErrorKind::TooManyValues | ErrorKind::TooFewValues | ErrorKind::WrongNumberOfValues => {
            format!("参数 '{}' 的值个数不对", arg())
        }
        ErrorKind::InvalidUtf8 => "参数不是有效的 UTF-8".to_string(),
        _ => return None,
    })
}

impl ErrorFormatter for ChineseErrors {
    fn format_error(error: &clap::error::Error<Self>) -> StyledStr {
        // `render` sends only the kinds `cause` knows.
        let cause =
            cause(error).unwrap_or_else(|| error.kind().as_str().unwrap_or("参数有误").to_string());
        let mut out = format!("错误：{cause}\n");
        for (kind, what) in [
            (ContextKind::SuggestedSubcommand, "子命令"),
            (ContextKind::SuggestedArg, "参数"),
            (ContextKind::SuggestedValue, "值"),
        ] {
            if let Some(s) = text(error, kind).filter(|s| !s.is_empty()) {
                out.push_str(&format!("\n  提示：是不是想用{what} '{s}'？\n"));
            }
        }
        if let Some(usage) = text(error, ContextKind::Usage) {
            let usage = usage.trim_end();
            let usage = usage
                .strip_prefix("Usage:")
                .map_or(usage.to_string(), |u| format!("用法：{}", u.trim_start()));
            out.push_str(&format!("\n{usage}\n"));
        }
        out.push_str("\n详细说明请看 '--help'。\n");
        StyledStr::from(out)
    }
}

/// Render `e` in Chinese when it is a usage error of a kind written here; give it back
/// otherwise (help and version output are already the localized tree's).
pub fn render(e: clap::Error) -> Result<String, clap::Error> {
    if cause(&e).is_none() {
        return Err(e);
    }
    Ok(e.apply::<ChineseErrors>().render().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::{Arg, Command};

    fn cmd() -> Command {
        Command::new("dockernet")
            .subcommand(Command::new("run").arg(Arg::new("name").long("name")))
            .subcommand(Command::new("network"))
    }

    fn zh(args: &[&str]) -> String {
        let e = cmd().try_get_matches_from(args).unwrap_err();
        render(e).expect("a usage error")
    }

    #[test]
    fn usage_errors_read_in_chinese_with_clap_s_names() {
        let s = zh(&["dockernet", "netwrk"]);
        assert!(s.starts_with("错误：没有子命令 'netwrk'"), "{s}");
        assert!(
            s.contains("是不是想用子命令 'network'"),
            "suggests network: {s}"
        );
        assert!(s.contains("用法：dockernet"), "{s}");
        assert!(!s.contains("Usage:") && !s.contains("error:"), "{s}");
        let s = zh(&["dockernet", "run", "--name"]);
        assert!(s.contains("参数 '--name <name>' 需要一个值"), "{s}");
        let s = zh(&["dockernet", "run", "--bogus"]);
        assert!(s.contains("不认识的参数 '--bogus'"), "{s}");
    }

    #[test]
    fn help_is_not_an_error() {
        let e = cmd()
            .try_get_matches_from(["dockernet", "--help"])
            .unwrap_err();
        assert!(render(e).is_err());
    }
}
