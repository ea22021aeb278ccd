//! More of the engine's words (see [`super::ui::tr`]): the keys at the prompts, the
//! kept-lab question, lesson names, the claims and the recap.

/// Key, English, Chinese.
pub const WORDS: &[(&str, &str, &str)] = &[
    (
        "prompt_end",
        "[Enter] finish · [r] checks again · [?] keys",
        "[回车] 结束 · [r] 重新检查 · [?] 按键说明",
    ),
    ("keys", "Keys:", "按键："),
    ("key_enter", "Enter, space", "回车、空格"),
    ("key_next", "next step", "下一步"),
    (
        "key_again",
        "run this step's checks again",
        "重新运行这一步的检查",
    ),
    (
        "key_quit",
        "quit (the lab is removed, unless --keep)",
        "退出（删除实验环境，加了 --keep 则保留）",
    ),
    ("key_help", "show these keys", "显示这份按键说明"),
    (
        "key_ctrl_c",
        "stop at once (the lab is removed)",
        "立即停止（删除实验环境）",
    ),
    (
        "key_lines",
        "Without a terminal: type the key, then Enter.",
        "不在终端中运行时，先输入按键，再按回车。",
    ),
    (
        "kept_ask",
        "Lab {} exists (kept by an earlier --keep?). Remove it and start afresh? [y/N]",
        "实验环境 {} 已存在（也许是上次用 --keep 保留的）。删除它，重新开始吗？[y/N]",
    ),
    (
        "kept_refuse",
        "lab {0} exists (kept by an earlier --keep?): pass --yes to remove it and start afresh, or remove it with `dockernet --lab {0} lab down`",
        "实验环境 {0} 已存在（也许是上次用 --keep 保留的）：加上 --yes 即删除它并重新开始，也可以先用 `dockernet --lab {0} lab down` 删除",
    ),
    (
        "kept_left",
        "lab {} left as it is; nothing was run",
        "实验环境 {} 保持原样，课程没有运行",
    ),
    (
        "lab_taken",
        "lab {0} already exists and a lesson needs a fresh one: remove it with `dockernet --lab {0} lab down`, or leave out --lab",
        "实验环境 {0} 已存在，而课程需要一个全新的实验环境：先用 `dockernet --lab {0} lab down` 删除它，或者不加 --lab",
    ),
    (
        "bad_step",
        "--step {}: lesson {} has steps 1 to {}",
        "--step {}：课程 {} 只有第 1 到第 {} 步",
    ),
    (
        "no_lesson",
        "no lesson named {}; lessons: {} (see `dockernet lesson list`)",
        "没有名为 {} 的课程；现有课程：{}（见 `dockernet lesson list`）",
    ),
    (
        "did_you_mean",
        "no lesson named {}: did you mean `{}`? (lessons: {})",
        "没有名为 {} 的课程，你要找的是不是 `{}`？（现有课程：{}）",
    ),
    ("recap", "Recap", "小结"),
    (
        "recap_built",
        "What you built, step by step:",
        "本课依次完成了：",
    ),
    (
        "recap_commands",
        "The commands that matter:",
        "关键的命令：",
    ),
    ("recap_claims", "Claims verified", "验证过的文章说法"),
    ("recap_failed", "Claims not verified", "没有验证通过的说法"),
    (
        "recap_more",
        "`dockernet lesson {} --claims` prints what each claim says.",
        "用 `dockernet lesson {} --claims` 查看每条说法的内容。",
    ),
    ("articles", "articles", "文章"),
    ("checked_by", "checked by", "验证步骤"),
    ("claim_step", "{} step {}", "{} 第 {} 步"),
    (
        "claim_waits",
        "not checked yet; waits for {}",
        "尚未验证，有待实现：{}",
    ),
    (
        "claims_title",
        "The articles' claims, where they come from, and the lesson steps that check them",
        "文章中的说法：出处，以及验证它们的课程步骤",
    ),
];
