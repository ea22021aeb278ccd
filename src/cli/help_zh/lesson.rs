//! Chinese texts of `lesson` (the frame of the lessons: their lab, keys, exit codes).

use super::catalog::ArgTexts;

/// Command abouts by path.
pub(super) const ABOUTS: &[(&str, &str)] = &[(
    "lesson",
    "一步步学习：`lesson list`、`lesson NAME [--yes] [--step N] [--keep]`",
)];

/// Argument helps.
pub(super) const ARGS: &[ArgTexts] = &[ArgTexts {
    paths: &["lesson"],
    args: &[
        (
            "name",
            "要运行的课程：`bridge`、`host`、`none`、`container`、\n`port-mapping`、`outbound`、`link`、`connect`、\n`custom-network`、`dns`、`macvlan`；\n`list`（默认）列出全部课程；\n`claims` 列出文章中的说法和检查它们的步骤",
        ),
        (
            "yes",
            "一路执行，不等按键（适合投影演示和 CI）；\n上次 --keep 留下的实验环境不经询问直接删除",
        ),
        ("step", "从第 N 步开始（之前各步的命令静默执行）"),
        (
            "keep",
            "结束后保留实验环境，供继续探索（并打印删除它的方法）",
        ),
        (
            "lab",
            "在哪个实验环境里运行（默认是课程自己的 lesson_<name>；\n这里指定的实验环境必须还不存在）",
        ),
        (
            "claims",
            "列出这节课验证的文章说法（每条说什么、由哪一步检查），\n不运行课程",
        ),
        (
            "format",
            "`lesson list`、`lesson claims` 和 --claims 的输出格式",
        ),
    ],
}];

/// Texts after the options.
pub(super) const AFTER_HELP: &[(&str, &str)] = &[(
    "lesson",
    "实验环境：每节课在自己的实验环境 `lesson_<name>` 里进行
（port-mapping 课是 `lesson_port_mapping`）。开始时创建，结束时删除，
检查失败、按 q 或 Ctrl-C 退出时也会删除；`--keep` 把它留下供继续探索。
如果上次用 `--keep` 留下的实验环境还在，课程会先问一句再删除（y/N）；
没有终端时不会删除，而是拒绝运行，除非给了 `--yes`。
`--lab LAB` 指定另一个实验环境，它必须还不存在。

步骤之间的按键（在终端上直接按，不用回车）：
  回车或空格  下一步
  r           重新运行本步的检查
  q           退出
  ?           列出按键
  Ctrl-C      立即停止
没有终端时按行读取（输入按键后回车）；stdin 是 /dev/null
或给了 --yes 时，一路执行到底。

退出码：
  0    全部检查通过
  1    有检查或命令失败
  130  被中断（Ctrl-C、SIGTERM、SIGHUP）
  2    课程名未知，或 --step 不对",
)];
