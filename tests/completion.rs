//! Shell completions know the lab (issue 11, item 7): `completion bash` registers a
//! function that calls back into dockernet, which answers with the lab's container,
//! network and lesson names.

mod common;

use common::*;

/// What bash would be offered after `dockernet WORDS… ''` (the last word empty).
fn offered(lab: &Lab, words: &[&str]) -> Vec<String> {
    let mut c = std::process::Command::new(BIN);
    let mut line = vec!["--", "dockernet"];
    line.extend_from_slice(words);
    line.push("");
    c.args(&line)
        .env("COMPLETE", "bash")
        .env("_CLAP_COMPLETE_INDEX", (words.len() + 1).to_string())
        .env("_CLAP_COMPLETE_COMP_TYPE", "9")
        .env("DOCKERNET_LAB", &lab.name);
    let o = run_cmd(c);
    assert!(o.status.success(), "{}", describe("completion request", &o));
    stdout(&o)
        .split(['\n', '\u{b}'])
        .filter(|w| !w.is_empty())
        .map(String::from)
        .collect()
}

#[test]
fn completions_offer_the_labs_names() {
    let lab = Lab::new("complete_names");
    lab.run_d("web1", &["busybox", "sleep", "600"]);
    lab.ok(&["network", "create", "backend"]);
    for words in [
        &["stop"][..],
        &["rm"],
        &["exec"],
        &["container", "logs"],
        &["top"],
    ] {
        let got = offered(&lab, words);
        assert!(got.contains(&"web1".to_string()), "{words:?}: {got:?}");
    }
    let got = offered(&lab, &["network", "inspect"]);
    assert!(
        got.contains(&"backend".to_string()) && got.contains(&"bridge".to_string()),
        "{got:?}"
    );
    let got = offered(&lab, &["network", "connect"]);
    assert!(got.contains(&"backend".to_string()), "{got:?}");
    let got = offered(&lab, &["lesson"]);
    assert!(got.contains(&"bridge".to_string()), "{got:?}");
    // Flags still complete.
    let got = offered(&lab, &["stop", "-"]);
    assert!(got.iter().any(|w| w == "--time"), "{got:?}");
}

#[test]
fn completion_scripts_register_the_callback() {
    for shell in ["bash", "zsh", "fish"] {
        let o = run_cmd({
            let mut c = std::process::Command::new(BIN);
            c.args(["completion", shell]);
            c
        });
        assert!(o.status.success(), "{}", describe(shell, &o));
        let script = stdout(&o);
        assert!(script.contains("COMPLETE"), "{shell}: {script}");
        assert!(script.contains("dockernet"), "{shell}: {script}");
    }
    let o = run_cmd({
        let mut c = std::process::Command::new(BIN);
        c.args(["completion", "tcsh"]);
        c
    });
    assert!(!o.status.success());
}

#[test]
fn manual_pages_cover_every_command() {
    let dir = std::env::temp_dir().join(format!("dn-man-{}", std::process::id()));
    let o = run_cmd({
        let mut c = std::process::Command::new(BIN);
        c.arg("__man").arg(&dir);
        c
    });
    assert!(o.status.success(), "{}", describe("__man", &o));
    for page in [
        "dockernet.1",
        "dockernet-run.1",
        "dockernet-network-create.1",
        "dockernet-container-ls.1",
        "dockernet-lab-up.1",
    ] {
        let text = std::fs::read_to_string(dir.join(page)).unwrap_or_default();
        assert!(text.contains(".TH "), "expected a man page {page}");
    }
    let run = std::fs::read_to_string(dir.join("dockernet-run.1")).unwrap();
    assert!(run.contains("publish"), "expected run's flags in its page");
    let _ = std::fs::remove_dir_all(&dir);
}
