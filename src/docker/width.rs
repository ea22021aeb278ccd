//! Terminal display widths, approximating the two width tables docker/cli
//! uses.
//!
//! docker/cli measures text in two different ways:
//! * `formatter.Ellipsis` uses `golang.org/x/text/width`: East Asian Wide and
//!   Fullwidth runes count 2, everything else (combining marks included) 1;
//! * its tabwriter fork uses `go-runewidth`: like the above, but control
//!   characters, combining marks and other zero-width runes count 0.
//!
//! Both are reproduced with hand-written range tables that cover the common
//! blocks (CJK, Hangul, kana, fullwidth forms, the usual emoji). Rare code
//! points outside these ranges may be measured differently from Go.

/// True when `c` is East Asian Wide (W) or Fullwidth (F), i.e. occupies two
/// terminal columns. Covers the main CJK, Hangul, kana, fullwidth-form and
/// emoji blocks.
pub fn is_wide(c: char) -> bool {
    matches!(
        c as u32,
        0x1100..=0x115F
            | 0x231A..=0x231B
            | 0x2329..=0x232A
            | 0x23E9..=0x23EC
            | 0x23F0
            | 0x23F3
            | 0x25FD..=0x25FE
            | 0x2614..=0x2615
            | 0x2648..=0x2653
            | 0x267F
            | 0x2693
            | 0x26A1
            | 0x26AA..=0x26AB
            | 0x26BD..=0x26BE
            | 0x26C4..=0x26C5
            | 0x26CE
            | 0x26D4
            | 0x26EA
            | 0x26F2..=0x26F3
            | 0x26F5
            | 0x26FA
            | 0x26FD
            | 0x2705
            | 0x270A..=0x270B
            | 0x2728
            | 0x274C
            | 0x274E
            | 0x2753..=0x2755
            | 0x2757
            | 0x2795..=0x2797
            | 0x27B0
            | 0x27BF
            | 0x2B1B..=0x2B1C
            | 0x2B50
            | 0x2B55
            | 0x2E80..=0x303E
            | 0x3041..=0x33FF
            | 0x3400..=0x4DBF
            | 0x4E00..=0x9FFF
            | 0xA000..=0xA4CF
            | 0xA960..=0xA97F
            | 0xAC00..=0xD7A3
            | 0xF900..=0xFAFF
            | 0xFE10..=0xFE19
            | 0xFE30..=0xFE6F
            | 0xFF00..=0xFF60
            | 0xFFE0..=0xFFE6
            | 0x16FE0..=0x16FE4
            | 0x17000..=0x18AFF
            | 0x1B000..=0x1B2FF
            | 0x1F004
            | 0x1F0CF
            | 0x1F18E
            | 0x1F191..=0x1F19A
            | 0x1F200..=0x1F251
            | 0x1F300..=0x1F320
            | 0x1F32D..=0x1F335
            | 0x1F337..=0x1F37C
            | 0x1F37E..=0x1F393
            | 0x1F3A0..=0x1F3CA
            | 0x1F3CF..=0x1F3D3
            | 0x1F3E0..=0x1F3F0
            | 0x1F3F4
            | 0x1F3F8..=0x1F43E
            | 0x1F440
            | 0x1F442..=0x1F4FC
            | 0x1F4FF..=0x1F53D
            | 0x1F54B..=0x1F54E
            | 0x1F550..=0x1F567
            | 0x1F57A
            | 0x1F595..=0x1F596
            | 0x1F5A4
            | 0x1F5FB..=0x1F64F
            | 0x1F680..=0x1F6C5
            | 0x1F6CC
            | 0x1F6D0..=0x1F6D2
            | 0x1F6D5..=0x1F6D7
            | 0x1F6EB..=0x1F6EC
            | 0x1F6F4..=0x1F6FC
            | 0x1F7E0..=0x1F7EB
            | 0x1F90C..=0x1F93A
            | 0x1F93C..=0x1F945
            | 0x1F947..=0x1F9FF
            | 0x1FA70..=0x1FAFF
            | 0x20000..=0x2FFFD
            | 0x30000..=0x3FFFD
    )
}

/// True for runes that `go-runewidth` treats as zero-width: C0/C1 controls,
/// combining marks, zero-width spaces/joiners and variation selectors.
fn is_zero_width(c: char) -> bool {
    c.is_control()
        || matches!(
            c as u32,
            0x0300..=0x036F
                | 0x0483..=0x0489
                | 0x0591..=0x05BD
                | 0x0610..=0x061A
                | 0x064B..=0x065F
                | 0x1AB0..=0x1AFF
                | 0x1DC0..=0x1DFF
                | 0x200B..=0x200F
                | 0x2028..=0x202E
                | 0x2060..=0x2064
                | 0x20D0..=0x20FF
                | 0xFE00..=0xFE0F
                | 0xFE20..=0xFE2F
                | 0xFEFF
        )
}

/// Width of one rune as `formatter.Ellipsis` measures it
/// (`golang.org/x/text/width`): 2 for wide/fullwidth, 1 for everything else.
pub fn ellipsis_char_width(c: char) -> usize {
    if is_wide(c) { 2 } else { 1 }
}

/// Width of a string as docker/cli's tabwriter measures a cell
/// (`runewidth.StringWidth`): wide runes 2, zero-width runes 0, others 1.
pub fn cell_width(s: &str) -> usize {
    s.chars()
        .map(|c| {
            if is_zero_width(c) {
                0
            } else if is_wide(c) {
                2
            } else {
                1
            }
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ascii_is_one_column() {
        assert_eq!(cell_width("bridge"), 6);
        assert_eq!(ellipsis_char_width('a'), 1);
    }

    #[test]
    fn cjk_and_fullwidth_are_two_columns() {
        assert_eq!(cell_width("日本語"), 6);
        assert_eq!(cell_width("ｈｉ"), 4);
        assert_eq!(ellipsis_char_width('한'), 2);
        assert!(is_wide('🚀'));
    }

    #[test]
    fn combining_marks_differ_between_the_two_tables() {
        // "e" + COMBINING ACUTE ACCENT: runewidth says 1, x/text/width says 2.
        assert_eq!(cell_width("e\u{301}"), 1);
        let ellipsis: usize = "e\u{301}".chars().map(ellipsis_char_width).sum();
        assert_eq!(ellipsis, 2);
    }

    #[test]
    fn ellipsis_char_is_narrow() {
        assert_eq!(cell_width("…"), 1);
    }
}
