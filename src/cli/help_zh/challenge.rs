//! Chinese texts of `challenge` (starting, checking and hinting a challenge).

use super::catalog::ArgTexts;

/// Command abouts by path.
pub(super) const ABOUTS: &[(&str, &str)] = &[(
    "challenge",
    "修复一个故意弄坏的实验环境：`challenge list`、`challenge NAME`、\n`challenge check`、`challenge hint`",
)];

/// Argument helps.
pub(super) const ARGS: &[ArgTexts] = &[ArgTexts {
    paths: &["challenge"],
    args: &[
        (
            "name",
            "`list`（默认）列出全部挑战；挑战名在当前实验环境里\n开始这个挑战；`check` 对照内核检查进行中的挑战；\n`hint` 给出下一条提示",
        ),
        ("number", "与 `hint` 连用：显示第 N 条提示（1 最含蓄）"),
        ("format", "`challenge list` 的输出格式"),
    ],
}];

/// Texts after the options.
pub(super) const AFTER_HELP: &[(&str, &str)] = &[(
    "challenge",
    "实验环境：挑战在当前实验环境（`--lab L`）里进行，开始时从头重建；
如果实验环境里有你自己的容器、却没有进行中的挑战，就拒绝开始。
进行中的挑战和已看过的提示记在实验环境的目录里，`lab down` 之后就没有了。

退出码：
  0    `challenge check`：挑战已完成
  1    `challenge check`：还没有完成
  2    挑战名未知，或提示编号不对",
)];
