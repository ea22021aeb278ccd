//! Container names: moby's random `adjective_surname` generator and its name
//! validation rule.

use super::name_words::{LEFT, RIGHT};

/// How many names moby's `daemon.generateNewName` tries (retry 0..=5) before
/// giving up and naming the container after its truncated ID.
pub const MOBY_ATTEMPTS: u32 = 6;

/// Characters Docker allows in container names (`RestrictedNameChars`), as
/// quoted in its error message.
pub const RESTRICTED_NAME_CHARS: &str = "[a-zA-Z0-9][a-zA-Z0-9_.-]";

/// SplitMix64 step: a small, well-mixed PRNG so one `u64` seed yields a
/// reproducible sequence of draws.
fn next_u64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Uniform-enough index in `0..n` (modulo bias is negligible for n < 300).
fn pick(state: &mut u64, n: usize) -> usize {
    (next_u64(state) % n as u64) as usize
}

/// moby `namesgenerator.GetRandomName(retry)`: one `adjective_surname` draw
/// from the PRNG `state`. `boring_wozniak` is redrawn ("Steve Wozniak is not
/// boring"); when `retry > 0` a random digit 0–9 is appended, e.g.
/// `focused_turing3` (so `boring_wozniak7` *is* possible, as in moby).
pub fn get_random_name(state: &mut u64, retry: u32) -> String {
    let mut name;
    loop {
        name = format!(
            "{}_{}",
            LEFT[pick(state, LEFT.len())],
            RIGHT[pick(state, RIGHT.len())]
        );
        if name != "boring_wozniak" {
            break;
        }
    }
    if retry > 0 {
        name.push(char::from(b'0' + pick(state, 10) as u8));
    }
    name
}

/// Exactly moby's `generateNewName` loop: up to [`MOBY_ATTEMPTS`] draws
/// with `retry` = 0, 1, …, 5, returning the first name for which `taken`
/// is false. `None` is where moby falls back to the 12-character container
/// ID as the name.
pub fn try_random_name(rng: u64, taken: &dyn Fn(&str) -> bool) -> Option<String> {
    let mut state = rng;
    (0..MOBY_ATTEMPTS)
        .map(|retry| get_random_name(&mut state, retry))
        .find(|name| !taken(name))
}

/// A free random container name derived from the seed `rng`, like
/// `docker run` without `--name` (e.g. `"tender_turing"`).
///
/// Follows [`try_random_name`]; if all six moby attempts collide (moby would
/// then use the container ID, which this helper does not know) it keeps
/// drawing digit-suffixed names, and finally appends increasing numbers to
/// one draw. It only loops forever if `taken` never returns false.
pub fn random_name(rng: u64, taken: &dyn Fn(&str) -> bool) -> String {
    if let Some(name) = try_random_name(rng, taken) {
        return name;
    }
    let mut state = rng ^ 0xD1B5_4A32_D192_ED03;
    for _ in 0..1_000 {
        let name = get_random_name(&mut state, 1);
        if !taken(&name) {
            return name;
        }
    }
    let base = get_random_name(&mut state, 0);
    (10u64..)
        .map(|n| format!("{base}{n}"))
        .find(|name| !taken(name))
        .expect("unbounded range")
}

/// Docker's container-name rule `^/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$` (so at
/// least two characters, optional leading `/`). The error text is the
/// daemon's, quoting `name` as given:
/// `Invalid container name (NAME), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`.
pub fn validate_name(name: &str) -> Result<(), String> {
    let bare = name.strip_prefix('/').unwrap_or(name);
    let bytes = bare.as_bytes();
    let valid = bytes.len() >= 2
        && bytes[0].is_ascii_alphanumeric()
        && bytes[1..]
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
    if valid {
        Ok(())
    } else {
        Err(format!(
            "Invalid container name ({name}), only {RESTRICTED_NAME_CHARS} are allowed"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;
    use std::collections::HashSet;

    #[test]
    fn word_lists_are_mobys() {
        assert_eq!(LEFT.len(), 108);
        assert_eq!(RIGHT.len(), 236);
        assert!(LEFT.contains(&"boring") && RIGHT.contains(&"wozniak"));
        assert!(LEFT.contains(&"xenodochial") && RIGHT.contains(&"turing"));
        assert!(LEFT.windows(2).all(|w| w[0] < w[1]));
        assert!(RIGHT.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn names_have_the_expected_shape_and_are_valid() {
        let mut state = 42;
        for _ in 0..2_000 {
            let name = get_random_name(&mut state, 0);
            let (l, r) = name.split_once('_').unwrap();
            assert!(LEFT.contains(&l) && RIGHT.contains(&r), "{name}");
            assert_ne!(name, "boring_wozniak");
            assert!(validate_name(&name).is_ok());
        }
    }

    #[test]
    fn retry_appends_one_digit() {
        let mut state = 7;
        let name = get_random_name(&mut state, 1);
        let last = name.chars().last().unwrap();
        assert!(last.is_ascii_digit(), "{name}");
        let (_, surname) = name.split_once('_').unwrap();
        assert!(RIGHT.contains(&&surname[..surname.len() - 1]));
    }

    #[test]
    fn deterministic_for_a_seed() {
        let free = |_: &str| false;
        assert_eq!(random_name(123, &free), random_name(123, &free));
        assert!(!random_name(123, &free).chars().any(|c| c.is_ascii_digit()));
    }

    #[test]
    fn first_collision_retries_with_a_digit() {
        let first = random_name(9, &|_| false);
        let taken = |n: &str| n == first;
        let second = random_name(9, &taken);
        assert_ne!(second, first);
        assert!(second.ends_with(|c: char| c.is_ascii_digit()));
    }

    #[test]
    fn try_gives_up_after_six_attempts_like_moby() {
        let calls = RefCell::new(0);
        let taken = |_: &str| {
            *calls.borrow_mut() += 1;
            true
        };
        assert_eq!(try_random_name(1, &taken), None);
        assert_eq!(*calls.borrow(), 6);
    }

    #[test]
    fn random_name_always_finds_a_free_name() {
        let used: RefCell<HashSet<String>> = RefCell::new(HashSet::new());
        for seed in 0..50 {
            let name = random_name(seed % 3, &|n: &str| used.borrow().contains(n));
            assert!(used.borrow_mut().insert(name));
        }
        // Everything but numbered names taken: falls through to the counter.
        let name = random_name(5, &|n: &str| !n.ends_with("10"));
        assert!(name.ends_with("10"), "{name}");
    }

    #[test]
    fn validate_accepts_docker_names() {
        for ok in ["web1", "/web1", "a.b-c_d", "9lives", "ab", "tender_turing"] {
            assert_eq!(validate_name(ok), Ok(()), "{ok}");
        }
    }

    #[test]
    fn validate_rejects_with_docker_message() {
        for bad in [
            "", "/", "a", "_web", "-web", ".web", "web 1", "wéb", "//web", "a/b",
        ] {
            assert_eq!(
                validate_name(bad),
                Err(format!(
                    "Invalid container name ({bad}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed"
                )),
                "{bad}"
            );
        }
    }
}
