//! Finding English sentences in a Chinese run: a lesson under `--lang zh` must narrate,
//! explain and report in Chinese, while commands, kernel names, addresses and Docker's
//! own texts stay as they are. [`english_sentences`] is the test's eye for that.
//!
//! The heuristic: after dropping what is code or quoted (backquotes, `"..."`, `'...'`),
//! a line holds an English sentence when it has a run of plain English words (letters
//! only: no digits, dots, slashes or underscores) in a row, with function words among
//! them (`the`, `of`, `to`, `is`, ...): four words and one function word, or three
//! words and two. Kernel output such as `proto kernel scope link src` has runs of plain
//! words but no function word; table columns (two spaces apart) are looked at one by
//! one. Identifiers (`veth66f7837`, `dn-x-host`) and addresses inside a sentence are
//! skipped; Chinese text, code and quotations end a run.

/// Words that only a sentence has: a run of plain words with one of these is English
/// prose, not a kernel keyword list.
const FUNCTION_WORDS: &[&str] = &[
    "a", "an", "and", "are", "as", "at", "be", "by", "can", "can't", "cannot", "does", "doesn't",
    "for", "from", "goes", "has", "have", "here", "if", "in", "into", "is", "isn't", "it", "its",
    "may", "must", "no", "not", "of", "on", "only", "or", "our", "own", "so", "than", "that",
    "the", "their", "then", "there", "they", "this", "to", "too", "was", "we", "what", "when",
    "where", "which", "who", "will", "with", "would", "you", "your",
];

/// Line prefixes of Docker's own texts (its errors and warnings), which stay English
/// in every language so that learners can compare and search them.
const DOCKER_TEXTS: &[&str] = &[
    "Error response from daemon",
    "docker: Error response from daemon",
    "Error: ",
    "WARNING: ",
    "OCI runtime exec failed",
];

/// The lines of `text` that contain an English sentence, trimmed. Command lines
/// (`$ ...`) are looked at only for a trailing `   # comment`; a leading `# ` of a
/// narration comment and a `dockernet: ` prefix are skipped; lines holding one of
/// Docker's own texts are left alone.
pub fn english_sentences(text: &str) -> Vec<String> {
    text.lines()
        .filter(|line| prose_of(line).is_some_and(has_sentence))
        .map(|line| line.trim().to_string())
        .collect()
}

/// The part of a line that is dockernet's own prose, if any.
fn prose_of(line: &str) -> Option<&str> {
    let t = line.trim();
    if t.starts_with("#@") {
        // A phase marker for programs reading the narration, not text for a person.
        return None;
    }
    let t = if let Some(cmd) = t.strip_prefix("$ ") {
        // Only a trailing comment of a command is prose; `#` inside quotes is data.
        let (_, comment) = cmd.rsplit_once("   # ")?;
        comment
    } else {
        t.strip_prefix("# ").unwrap_or(t)
    };
    let t = t
        .strip_prefix("dockernet: ")
        .or_else(|| t.strip_prefix("dockernet："))
        .unwrap_or(t);
    (!DOCKER_TEXTS.iter().any(|p| t.starts_with(p))).then_some(t)
}

/// Whether `text` has a run of 3+ plain English words with a function word among them.
fn has_sentence(text: &str) -> bool {
    let text = without_code(text);
    // Columns of a table are apart by two spaces or a tab; prose has one space.
    text.replace('\t', "  ")
        .split("  ")
        .any(segment_has_sentence)
}

/// [`has_sentence`] within one column: a run of plain words that has four words and a
/// function word, or three words of which two are function words (`stop it at once`;
/// not `prot opt in`).
fn segment_has_sentence(text: &str) -> bool {
    let mut run = 0;
    let mut function = 0;
    for token in text.split_whitespace() {
        let word = token.trim_matches(|c: char| ",.;:!?()[]{}".contains(c));
        if token.contains('|') {
            // Chinese text, code or a quotation: what is on either side is apart.
            run = 0;
            function = 0;
            continue;
        }
        if !is_plain_word(word) {
            // A name, a number or an address inside a sentence (`lab x is up`,
            // `container web1: its own network namespace`) neither counts nor breaks.
            continue;
        }
        run += 1;
        if FUNCTION_WORDS.contains(&word.to_ascii_lowercase().as_str()) {
            function += 1;
        }
        if (run >= 4 && function >= 1) || (run >= 3 && function >= 2) {
            return true;
        }
        if ends_clause(token, word) {
            // `lab: hA. status: up`: a sentence ends at its full stop.
            run = 0;
            function = 0;
        }
    }
    false
}

/// A token whose trailing punctuation ends a sentence or a clause (`.`, `;`, `?`, `!`;
/// a `:` introduces what follows, as in `the world: a LAN switch`).
fn ends_clause(token: &str, word: &str) -> bool {
    token.len() > word.len()
        && token
            .trim_end_matches([',', ')', ']'])
            .ends_with(['.', ';', '?', '!'])
}

/// A word of prose: ASCII letters, possibly with inner `'` or `-` (`host's`,
/// `built-in`). Capitals count too: `LAN`, `IP` and `NAT` are words of a sentence, and
/// kernel views made only of such words have no function word.
fn is_plain_word(w: &str) -> bool {
    let (Some(first), Some(last)) = (w.chars().next(), w.chars().last()) else {
        return false;
    };
    first.is_ascii_alphabetic()
        && last.is_ascii_alphabetic()
        && w.chars()
            .all(|c| c.is_ascii_alphabetic() || c == '\'' || c == '-')
}

/// The text with code and quotations replaced by `|`, which ends a run:
/// backquoted spans, `"..."`, `'...'` (a `'` inside a word is an apostrophe), and every
/// non-ASCII character (Chinese text between English words is not an English run).
fn without_code(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let prev_letter = i > 0 && chars[i - 1].is_ascii_alphanumeric();
        let opens = c == '`' || c == '"' || (c == '\'' && !prev_letter);
        if opens && let Some(len) = chars[i + 1..].iter().position(|&d| d == c) {
            out.push_str(" | ");
            i += len + 2;
            continue;
        }
        if c.is_ascii() {
            out.push(c);
        } else {
            out.push_str(" | ");
        }
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flagged(line: &str) -> bool {
        !english_sentences(line).is_empty()
    }

    #[test]
    fn english_narration_is_found() {
        for line in [
            "      # a veth pair: veth66f7837 stays on the host and joins docker0, eth0 goes into web1",
            "      # the world: a LAN switch (198.51.100.0/24) and \"the internet\" (203.0.113.0/24)",
            "      # dockerd starts: it turns on forwarding and creates its iptables chains; then its default network, bridge (docker0)",
            "      # containers may go out to other networks",
            "      # ...and is dropped if it enters this bridge from another Docker network",
            "      # remove tomcat02: kill its processes, undo its network, delete its files",
            "      $ ip netns exec dn-x-host dockernet-dns --lab x &   # the embedded DNS server: one per lab, like dockerd",
            "    lab lesson_bridge is up: host dn-lesson_bridge-host (eth0 198.51.100.2, docker0 172.17.0.1), world dn-lesson_bridge-world",
            "dockernet: lab x does not exist: `dockernet --lab x lab up` builds it",
            "  # 宿主机：the host's own connections to its addresses too",
            "Lets the replies from port 80/tcp of 172.17.0.3 back to 172.17.0.2, which the icc=false drop would stop too.",
        ] {
            assert!(flagged(line), "expected English in {line:?}");
        }
    }

    #[test]
    fn chinese_commands_views_and_docker_texts_pass() {
        for line in [
            "      # 一对 veth：veth70437c7 留在宿主机上，接到 docker0；eth0 放进容器 tomcat01",
            "      # 从网桥本身进来的数据包不做 DNAT（hairpin 流量交给 docker-proxy）",
            "      # 宿主机自己发往本机地址的连接也一样（127.0.0.1 除外，由 docker-proxy 负责）",
            "      $ ip -n dn-x-host link add veth70437c7 master docker0 up type veth peer name eth0 address 02:42:ac:11:00:02 netns dn-x-ctr-tomcat01",
            "      $ mkdir -p /run/dockernet/x/host && printf '# the internet DNS of the lab (named, in the world)\\nnameserver 203.0.113.53\\n' > /run/dockernet/x/host/resolv.conf",
            "      $ ip netns exec dn-x-world httpd-foreground -p 80 -b 203.0.113.10 -m 'hello from the internet (203.0.113.10)' &",
            "      $ ip netns exec dn-x-host unshare --pid --mount --fork sleep infinity &   # 实验宿主机自己的 PID 1 和挂载命名空间",
            "        + 172.17.0.0/16 dev docker0 proto kernel scope link src 172.17.0.1",
            "    2: eth0@if4: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP mode DEFAULT group default qlen 1000",
            "        link/ether 76:04:75:67:f2:c3 brd ff:ff:ff:ff:ff:ff link-netns dn-x-world  # 对端：外部世界（lan0 上的 lan-host）",
            "    bridge name\tbridge id\t\tSTP enabled\tinterfaces",
            "     pkts bytes target     prot opt in     out     source               destination",
            "    Chain POSTROUTING (policy ACCEPT 0 packets, 0 bytes)",
            "dockernet: Error response from daemon: No such container: web9",
            "docker: Error response from daemon: Conflict. The container name \"/web1\" is already in use.",
            "  报错 `Error response from daemon: network with name mynet already exists` 正是 Docker 的原文。",
            "  Docker 报错 \"container sharing network namespace with another container or host cannot be connected\"，",
            "  如今的 Docker：在 iptables-nft 后端下，prot 列显示 `0`，而文章中显示的是 `all`。",
            "文章 001 《Docker 网络模式总结》 › Bridge container 桥接式网络模式 · 验证论点 C12 C13 C14",
            "  #@ world",
            "    1096a50ef02c452ca8b95227a28def8e3a2f4e4462f2228a7a380ba0cc742e41",
            "    实验环境 lesson_bridge 已就绪：宿主机 dn-lesson_bridge-host（eth0 198.51.100.2，docker0 172.17.0.1），外部世界 dn-lesson_bridge-world",
        ] {
            assert!(!flagged(line), "expected no English sentence in {line:?}");
        }
    }

    #[test]
    fn only_the_english_lines_are_returned() {
        let text =
            "  # 容器 web1：有自己的网络命名空间\n  # container web1: its own network namespace\n";
        assert_eq!(
            english_sentences(text),
            ["# container web1: its own network namespace"]
        );
    }
}
