//! The catalog against the tree: nothing missing (a new flag cannot be forgotten),
//! nothing stale, no English left in the Chinese pages, the same parse in both.

use super::*;
use std::collections::HashMap;

/// Every visible command of the built English tree by path (`""`: dockernet itself).
fn commands() -> Vec<(String, Command)> {
    fn walk(cmd: &Command, path: &str, out: &mut Vec<(String, Command)>) {
        out.push((path.to_string(), cmd.clone()));
        for sc in cmd.get_subcommands() {
            if !sc.is_hide_set() && sc.get_name() != "help" {
                walk(sc, &join(path, sc.get_name()), out);
            }
        }
    }
    let mut root = Cli::command();
    root.build();
    let mut out = Vec::new();
    walk(&root, "", &mut out);
    out
}

/// The visible arguments a command's catalog entry covers: its own (the global ones
/// only at the root, where they are defined), not clap's `-h` / `-V`.
fn own_args<'a>(path: &'a str, cmd: &'a Command) -> impl Iterator<Item = &'a Arg> + 'a {
    cmd.get_arguments().filter(move |a| {
        !a.is_hide_set()
            && (path.is_empty() || !a.is_global_set())
            && !matches!(
                a.get_action(),
                ArgAction::Help | ArgAction::HelpShort | ArgAction::HelpLong | ArgAction::Version
            )
    })
}

/// The command at `path` in a built tree.
fn find<'a>(root: &'a Command, path: &str) -> &'a Command {
    path.split_whitespace().fold(root, |c, name| {
        c.find_subcommand(name)
            .unwrap_or_else(|| panic!("no command {path:?}"))
    })
}

#[test]
fn every_visible_text_has_chinese() {
    let mut missing = Vec::new();
    for (path, cmd) in commands() {
        if cmd.get_about().is_some() && catalog::about(&path).is_none() {
            missing.push(format!("ABOUTS: (\"{path}\", …) for {:?}", cmd.get_about()));
        }
        if cmd.get_after_help().is_some() && catalog::after_help(&path).is_none() {
            missing.push(format!("AFTER_HELP: (\"{path}\", …)"));
        }
        for a in own_args(&path, &cmd) {
            let id = a.get_id().as_str();
            if a.get_help().is_some() && catalog::arg(&path, id).is_none() {
                let en = a.get_help().map(ToString::to_string).unwrap_or_default();
                missing.push(format!("ARGS: \"{path}\" (\"{id}\", …) for {en:?}"));
            }
            for pv in a.get_possible_values() {
                if pv.get_help().is_some() && catalog::value(pv.get_name()).is_none() {
                    missing.push(format!("VALUES: (\"{}\", …)", pv.get_name()));
                }
            }
        }
    }
    assert!(
        missing.is_empty(),
        "English help without Chinese; add it to src/cli/help_zh/:\n{}",
        missing.join("\n")
    );
}

#[test]
fn catalog_has_no_stale_entries() {
    let tree: HashMap<String, Command> = commands().into_iter().collect();
    let mut stale = Vec::new();
    let mut seen = HashMap::new();
    for (path, _) in catalog::abouts() {
        if !tree.contains_key(*path) {
            stale.push(format!("ABOUTS: no visible command {path:?}"));
        }
        if seen.insert(format!("about {path}"), ()).is_some() {
            stale.push(format!("ABOUTS: {path:?} twice"));
        }
    }
    for texts in catalog::arg_texts() {
        for path in texts.paths {
            let Some(cmd) = tree.get(*path) else {
                stale.push(format!("ARGS: no visible command {path:?}"));
                continue;
            };
            for (id, _) in texts.args {
                if !own_args(path, cmd).any(|a| a.get_id() == *id) {
                    stale.push(format!("ARGS: {path:?} has no visible argument {id:?}"));
                }
                if seen.insert(format!("arg {path} {id}"), ()).is_some() {
                    stale.push(format!("ARGS: {path:?} {id:?} twice"));
                }
            }
        }
    }
    for (path, _) in catalog::after_helps() {
        if tree.get(*path).is_none_or(|c| c.get_after_help().is_none()) {
            stale.push(format!(
                "AFTER_HELP: {path:?} has no text after its options"
            ));
        }
    }
    for (name, _) in top::VALUES {
        let used = tree.iter().any(|(path, cmd)| {
            own_args(path, cmd).any(|a| {
                a.get_possible_values()
                    .iter()
                    .any(|pv| pv.get_name() == *name && pv.get_help().is_some())
            })
        });
        if !used {
            stale.push(format!("VALUES: no value {name:?} with a help"));
        }
    }
    assert!(
        stale.is_empty(),
        "stale catalog entries:\n{}",
        stale.join("\n")
    );
}

/// clap breaks lines only at ASCII spaces and counts a Chinese character as one
/// column: the catalog breaks its own lines so they fit beside the option column.
#[test]
fn catalog_lines_fit_a_terminal() {
    let mut long = Vec::new();
    let mut check = |what: &str, text: &str, max: usize| {
        for line in text.lines() {
            if width(line) > max {
                long.push(format!("{what} ({} > {max}): {line}", width(line)));
            }
        }
    };
    for (path, t) in catalog::abouts() {
        check(&format!("about of {path:?}"), t, 80);
    }
    for (path, t) in catalog::after_helps() {
        check(&format!("after help of {path:?}"), t, 80);
    }
    for texts in catalog::arg_texts() {
        for (id, t) in texts.args {
            check(&format!("{:?} {id}", texts.paths[0]), t, 58);
        }
    }
    assert!(long.is_empty(), "lines too wide:\n{}", long.join("\n"));
}

/// Words of clap's English frame that must not be left in a Chinese page.
const CLAP_ENGLISH: &[&str] = &[
    "Usage:",
    "Commands:",
    "Arguments:",
    "Options:",
    "Print help",
    "Print version",
    "Print this message",
    "[default:",
    "[env:",
    "[alias",
    "possible values",
    "Possible values",
];

#[test]
fn chinese_pages_have_no_english_sentence() {
    let zh = localized(None);
    for (path, en) in commands() {
        let mut cmd = find(&zh, &path).clone();
        let pages = [
            cmd.render_long_help().to_string(),
            cmd.render_help().to_string(),
        ];
        // The English texts of this page (single words such as "Network" may be a
        // template's field name; sentences must not be there).
        let mut sentences: Vec<String> = own_args(&path, &en)
            .chain(en.get_arguments().filter(|a| a.is_global_set()))
            .filter_map(|a| a.get_help().map(ToString::to_string))
            .chain(en.get_about().map(ToString::to_string))
            .chain(en.get_after_help().map(ToString::to_string))
            .chain(
                en.get_subcommands()
                    .filter_map(|s| s.get_about().map(|a| a.to_string())),
            )
            .filter(|s| s.contains(' '))
            .collect();
        sentences.extend(CLAP_ENGLISH.iter().map(|s| s.to_string()));
        for page in &pages {
            assert!(page.contains("用法："), "{path:?}:\n{page}");
            for s in &sentences {
                assert!(
                    !page.contains(s.as_str()),
                    "`{path}` still says {s:?}:\n{page}"
                );
            }
        }
    }
}

/// The rewritten tree parses every command line as the English one (aliases kept).
#[test]
fn chinese_tree_parses_as_the_english_one() {
    localized(None).debug_assert();
    let lines: &[&[&str]] = &[
        &["network", "list"],
        &["network", "remove", "n1"],
        &["container", "ps", "-a"],
        &[
            "run", "--net", "host", "-dit", "--name", "web1", "busybox", "sh",
        ],
        &["--lang", "zh", "lab", "status", "--format", "json"],
        &["lab", "up", "--icc", "false", "--userland-proxy", "false"],
        &["attach", "--sig-proxy=false", "c1"],
        &["--lab", "x", "show", "rules", "--table", "nat"],
        &["exec", "-it", "c1", "ls", "-l"],
    ];
    for words in lines {
        let argv: Vec<&str> = std::iter::once("dockernet")
            .chain(words.iter().copied())
            .collect();
        let en = Cli::try_parse_from(&argv).unwrap_or_else(|e| panic!("{argv:?}: {e}"));
        let m = localized(None)
            .try_get_matches_from(&argv)
            .unwrap_or_else(|e| panic!("{argv:?}: {e}"));
        let zh = Cli::from_arg_matches(&m).unwrap();
        assert_eq!(format!("{zh:?}"), format!("{en:?}"), "{argv:?}");
    }
}

#[test]
fn help_subcommand_and_version_flag_in_chinese() {
    let e = localized(None)
        .try_get_matches_from(["dockernet", "help", "network", "create"])
        .unwrap_err();
    assert_eq!(e.kind(), clap::error::ErrorKind::DisplayHelp);
    let text = e.render().to_string();
    assert!(text.starts_with("创建网络\n"), "{text}");
    let root = localized(None).render_help().to_string();
    assert!(root.contains("打印本帮助，或所给子命令的帮助"), "{root}");
    assert!(root.contains("打印版本"), "{root}");
    let e = localized(None)
        .try_get_matches_from(["dockernet", "run", "-V"])
        .unwrap_err();
    assert_eq!(e.kind(), clap::error::ErrorKind::DisplayVersion);
    assert_eq!(
        e.render().to_string(),
        Cli::try_parse_from(["dockernet", "run", "-V"])
            .unwrap_err()
            .render()
            .to_string()
    );
}

#[test]
fn language_from_the_command_line() {
    let args = |w: &[&str]| -> Vec<OsString> {
        std::iter::once("dockernet")
            .chain(w.iter().copied())
            .map(OsString::from)
            .collect()
    };
    assert_eq!(
        explicit_lang(&args(&["--lang", "zh", "--help"])),
        Some(true)
    );
    assert_eq!(
        explicit_lang(&args(&["run", "--help", "--lang=zh"])),
        Some(true)
    );
    assert_eq!(explicit_lang(&args(&["--lang", "en", "ps"])), Some(false));
    assert_eq!(
        explicit_lang(&args(&["--lang", "zh", "--lang=en"])),
        Some(false)
    );
    assert_eq!(
        explicit_lang(&args(&["--lang", "en", "run", "--", "sh", "--lang", "zh"])),
        Some(false)
    );
    assert_eq!(explicit_lang(&args(&["--lang", "fr", "ps"])), None);
    assert_eq!(explicit_lang(&args(&["ps"])), None);
}

/// The English texts the catalog was written against, one `key<TAB>text` a line.
const SNAPSHOT: &str = "src/cli/help_zh/english.snapshot";

/// Every English text that has a Chinese entry, by catalog key, newlines escaped.
fn english_texts() -> Vec<String> {
    let mut lines = Vec::new();
    let mut push = |key: String, text: Option<String>| {
        if let Some(t) = text {
            lines.push(format!("{key}\t{}", t.replace('\n', "\\n")));
        }
    };
    for (path, cmd) in commands() {
        push(
            format!("about [{path}]"),
            cmd.get_about().map(|s| s.to_string()),
        );
        push(
            format!("after_help [{path}]"),
            cmd.get_after_help().map(|s| s.to_string()),
        );
        for a in own_args(&path, &cmd) {
            push(
                format!("arg [{path}] {}", a.get_id()),
                a.get_long_help().or(a.get_help()).map(|s| s.to_string()),
            );
            for pv in a.get_possible_values() {
                push(
                    format!("value {}", pv.get_name()),
                    pv.get_help().map(|s| s.to_string()),
                );
            }
        }
    }
    lines.sort();
    lines.dedup();
    lines
}

/// A changed English help needs its Chinese looked at: the English the catalog follows
/// is recorded, and a difference names the keys
/// (`DOCKERNET_UPDATE_HELP_SNAPSHOT=1 cargo test --lib help_zh` records it anew).
#[test]
fn chinese_follows_the_english_texts() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(SNAPSHOT);
    let now = english_texts();
    if std::env::var_os("DOCKERNET_UPDATE_HELP_SNAPSHOT").is_some() {
        std::fs::write(&path, now.join("\n") + "\n").expect("writing the snapshot");
        return;
    }
    let recorded = std::fs::read_to_string(&path).unwrap_or_default();
    let recorded: Vec<&str> = recorded.lines().collect();
    let changed: Vec<String> = now
        .iter()
        .filter(|l| !recorded.contains(&l.as_str()))
        .map(|l| format!("now:  {l}"))
        .chain(
            recorded
                .iter()
                .filter(|l| !now.contains(&l.to_string()))
                .map(|l| format!("was:  {l}")),
        )
        .collect();
    assert!(
        changed.is_empty(),
        "English help changed since the Chinese was written: update its entries in \
         src/cli/help_zh/, then record the English with \
         `DOCKERNET_UPDATE_HELP_SNAPSHOT=1 cargo test --lib help_zh`:\n{}",
        changed.join("\n")
    );
}
