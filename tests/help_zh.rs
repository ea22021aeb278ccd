//! `--help` in Chinese (issue 12, item 3): under `--lang zh` (anywhere on the line) or a
//! Chinese locale every command's help, and clap's frame around it, is Chinese; with
//! `--lang en` it is clap's English as before. No lab is needed.

mod common;

use common::*;
use std::process::Command;

/// Run dockernet with `args` and the locale `lang` (LC_ALL and LC_MESSAGES cleared, so
/// LANG decides); returns stdout of a successful run.
fn help(lang: &str, args: &[&str]) -> String {
    let o = with_locale(lang, args);
    let what = format!("LANG={lang} dockernet {}", args.join(" "));
    assert!(o.status.success(), "{}", describe(&what, &o));
    stdout(&o)
}

/// Run dockernet with `args` under the locale `lang` (LANG only), without colors.
fn with_locale(lang: &str, args: &[&str]) -> std::process::Output {
    let mut c = Command::new(BIN);
    c.args(args)
        .env_remove("LC_ALL")
        .env_remove("LC_MESSAGES")
        .env("LANG", lang)
        .env("NO_COLOR", "1");
    run_cmd(c)
}

/// English words that only an English sentence has (commands, flags, metavars and
/// Docker's names keep their own words, which are not these).
const ENGLISH: &[&str] = &[
    "the",
    "a",
    "an",
    "to",
    "of",
    "and",
    "or",
    "is",
    "are",
    "with",
    "for",
    "from",
    "in",
    "on",
    "by",
    "its",
    "this",
    "that",
    "be",
    "not",
    "when",
    "each",
    "only",
    "Print",
    "Usage:",
    "Options:",
    "Arguments:",
    "Commands:",
    "default:",
    "values:",
];

/// The lines of `page` that read as English.
fn english_lines(page: &str) -> Vec<&str> {
    page.lines()
        .filter(|line| {
            line.split(|c: char| c.is_whitespace() || "[]()".contains(c))
                .any(|w| ENGLISH.contains(&w))
        })
        .collect()
}

/// Chinese throughout: the headings, a Chinese character on most lines, no English line.
fn assert_chinese(what: &str, page: &str) {
    assert!(page.contains("用法："), "{what}: no 用法：\n{page}");
    assert!(page.contains("选项："), "{what}: no 选项：\n{page}");
    assert!(page.contains("打印帮助"), "{what}: -h not Chinese\n{page}");
    let english = english_lines(page);
    assert!(
        english.is_empty(),
        "{what}: English lines:\n{}\n--- page ---\n{page}",
        english.join("\n")
    );
}

#[test]
fn top_level_help_in_chinese() {
    let page = help("C.UTF-8", &["--lang", "zh", "--help"]);
    assert_chinese("--lang zh --help", &page);
    for want in [
        "命令：",
        "创建并启动容器（docker run）",
        "管理网络（docker network）",
        "[环境变量：DOCKERNET_LAB=]",
        "[默认值：default]",
        "- zh: 中文",
        "退出码与 Docker 相同",
        "打印本帮助，或所给子命令的帮助",
    ] {
        assert!(page.contains(want), "no {want:?} in:\n{page}");
    }
}

#[test]
fn run_help_in_chinese() {
    let page = help("C.UTF-8", &["--lang", "zh", "run", "--help"]);
    assert_chinese("--lang zh run --help", &page);
    for want in [
        "用法：dockernet run [OPTIONS] [IMAGE [COMMAND]]...",
        "参数：",
        "-p, --publish <PUBLISH>",
        "把容器的端口映射到宿主机",
        "[别名：--net]",
    ] {
        assert!(page.contains(want), "no {want:?} in:\n{page}");
    }
    // The summary (-h) and `--lang=zh` after the command.
    let short = help("C.UTF-8", &["run", "-h", "--lang=zh"]);
    assert_chinese("run -h --lang=zh", &short);
    assert!(
        short.contains("打印帮助（'--help' 显示完整说明）"),
        "{short}"
    );
}

#[test]
fn chinese_locale_gives_chinese_help() {
    let page = help("zh_CN.UTF-8", &["network", "create", "--help"]);
    assert_chinese("LANG=zh_CN.UTF-8 network create --help", &page);
    assert!(page.contains("CIDR 格式的子网"), "{page}");
    // --lang en wins over the locale.
    let en = help(
        "zh_CN.UTF-8",
        &["--lang", "en", "network", "create", "--help"],
    );
    assert!(en.contains("Usage: dockernet network create"), "{en}");
    assert!(!en.contains("用法"), "{en}");
}

#[test]
fn lesson_help_in_chinese() {
    let page = help("C.UTF-8", &["lesson", "--help", "--lang", "zh"]);
    assert_chinese("lesson --help --lang zh", &page);
    for want in ["lesson_<name>", "退出码", "--keep"] {
        assert!(page.contains(want), "no {want:?} in:\n{page}");
    }
}

#[test]
fn help_subcommand_and_subcommand_lists_in_chinese() {
    let page = help("C.UTF-8", &["--lang", "zh", "help", "container"]);
    assert_chinese("--lang zh help container", &page);
    assert!(
        page.contains("列出容器（docker container ls） [别名：ps、list]"),
        "{page}"
    );
    for path in [
        &["show"][..],
        &["lab"],
        &["network", "ls"],
        &["container", "prune"],
    ] {
        let mut args = vec!["--lang", "zh"];
        args.extend_from_slice(path);
        args.push("--help");
        assert_chinese(&args.join(" "), &help("C.UTF-8", &args));
    }
}

#[test]
fn english_help_unchanged() {
    let page = help("zh_CN.UTF-8", &["--lang", "en", "run", "--help"]);
    for want in [
        "Create and start a container (docker run)\n\nUsage: dockernet run [OPTIONS] [IMAGE [COMMAND]]...\n\nArguments:\n",
        "  -p, --publish <PUBLISH>\n          Publish a container's port(s) to the host",
        "          [default: bridge]\n          [alias: --net]\n",
        "  -h, --help\n          Print help (see a summary with '-h')\n",
    ] {
        assert!(page.contains(want), "no {want:?} in:\n{page}");
    }
    let top = help("C.UTF-8", &["--help"]);
    assert!(top.contains("\nCommands:\n  lab "), "{top}");
    assert!(top.contains("\nExit status, as Docker's: 125"), "{top}");
    assert!(!top.contains("用法"), "{top}");
}

#[test]
fn usage_errors_in_chinese_and_english() {
    let o = with_locale("C.UTF-8", &["--lang", "zh", "netwrk", "ls"]);
    let err = String::from_utf8_lossy(&o.stderr).to_string();
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.starts_with("错误：没有子命令 'netwrk'"), "{err}");
    assert!(err.contains("'network'"), "a suggestion: {err}");
    assert!(english_lines(&err).is_empty(), "English lines in: {err}");
    let o = with_locale("zh_CN.UTF-8", &["network", "create"]);
    let err = String::from_utf8_lossy(&o.stderr).to_string();
    assert!(err.contains("缺少必需的参数：<NAME>"), "{err}");
    assert!(err.contains("用法：dockernet network create"), "{err}");
    let o = with_locale("C.UTF-8", &["netwrk"]);
    let err = String::from_utf8_lossy(&o.stderr).to_string();
    assert!(
        err.starts_with("error: unrecognized subcommand 'netwrk'"),
        "{err}"
    );
}
