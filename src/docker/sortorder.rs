//! Natural ("human") string ordering used by `docker port`.
//!
//! Port of `github.com/fvbommel/sortorder` `NaturalLess`, which docker/cli
//! uses so that `9/tcp` sorts before `10/tcp`.

use std::cmp::Ordering;

/// `github.com/fvbommel/sortorder` `NaturalLess`: digit runs compare by
/// numeric value (then by fewer leading zeros), digits sort before other
/// bytes, other bytes compare bytewise.
#[cfg(test)]
pub fn natural_less(a: &str, b: &str) -> bool {
    natural_cmp(a, b) == Ordering::Less
}

/// Total order behind [`natural_less`] (equal only for identical strings),
/// for use with `sort_by`.
pub fn natural_cmp(a: &str, b: &str) -> Ordering {
    let (s1, s2) = (a.as_bytes(), b.as_bytes());
    let (mut i1, mut i2) = (0, 0);
    while i1 < s1.len() && i2 < s2.len() {
        let (c1, c2) = (s1[i1], s2[i2]);
        let (d1, d2) = (c1.is_ascii_digit(), c2.is_ascii_digit());
        if d1 != d2 {
            // Digits sort before any other character.
            return if d1 {
                Ordering::Less
            } else {
                Ordering::Greater
            };
        }
        if !d1 {
            if c1 != c2 {
                return c1.cmp(&c2);
            }
            i1 += 1;
            i2 += 1;
            continue;
        }
        while i1 < s1.len() && s1[i1] == b'0' {
            i1 += 1;
        }
        while i2 < s2.len() && s2[i2] == b'0' {
            i2 += 1;
        }
        let (nz1, nz2) = (i1, i2);
        while i1 < s1.len() && s1[i1].is_ascii_digit() {
            i1 += 1;
        }
        while i2 < s2.len() && s2[i2].is_ascii_digit() {
            i2 += 1;
        }
        let (n1, n2) = (&s1[nz1..i1], &s2[nz2..i2]);
        let ord = n1
            .len()
            .cmp(&n2.len())
            .then_with(|| n1.cmp(n2))
            // Same value: fewer leading zeros first.
            .then_with(|| nz1.cmp(&nz2));
        if ord != Ordering::Equal {
            return ord;
        }
    }
    // Identical so far (so i1 == i2): the shorter string sorts first.
    s1.len().cmp(&s2.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn natural_ordering() {
        assert!(natural_less("9/tcp", "10/tcp"));
        assert!(natural_less("80/tcp -> 0.0.0.0:9", "80/tcp -> 0.0.0.0:10"));
        assert!(natural_less("a1", "a01"));
        assert!(natural_less("1", "a"));
        assert!(natural_less("a", "ab"));
        assert!(!natural_less("abc", "abc"));
        assert!(natural_less("x2y", "x10y"));
    }
}
