//! Docker's checks of `run` / `exec` flag values, with Docker's words: `-e` (docker/cli
//! `opts.ValidateEnv`) and `--hostname` (moby's RFC 1123 check).

/// docker/cli's `opts.ValidateEnv`, run on every `-e` value as the flag is parsed: a
/// variable needs a name (`=bad` and `` are refused); `NAME` alone takes its value from
/// the caller's environment when it is set there, and stays `NAME` otherwise.
/// `lookup` reads the caller's environment (a parameter, so tests need not touch it).
/// The error is the flag parser's line around Docker's text:
/// `invalid argument "=bad" for "-e, --env" flag: invalid environment variable: =bad`.
pub fn validate_env(val: &str, lookup: impl Fn(&str) -> Option<String>) -> Result<String, String> {
    let (name, has_value) = match val.split_once('=') {
        Some((n, _)) => (n, true),
        None => (val, false),
    };
    if name.is_empty() {
        return Err(format!(
            "invalid argument \"{val}\" for \"-e, --env\" flag: invalid environment variable: {val}"
        ));
    }
    if has_value {
        return Ok(val.to_string());
    }
    Ok(match lookup(name) {
        Some(v) => format!("{name}={v}"),
        None => val.to_string(),
    })
}

/// Every `-e` value of a `run` or `exec`, checked and completed from this command's
/// environment by [`validate_env`]; the first bad one is the error (Docker's exit 125).
pub fn user_env(values: &[String]) -> crate::error::Result<Vec<String>> {
    values
        .iter()
        .map(|e| {
            validate_env(e, |k| std::env::var(k).ok())
                .map_err(|m| crate::error::Error::with_code(m, crate::error::EXIT_REFUSED))
        })
        .collect()
}

/// The longest hostname accepted: RFC 1123 labels and names of at most 63 bytes, as
/// moby checked it (Linux's HOST_NAME_MAX is 64, sethostname(2) refuses more).
pub const HOSTNAME_MAX: usize = 63;

/// moby's hostname check (`verifyContainerSettings`, Docker 1.10): RFC 1123 labels —
/// letters, digits and inner `-` — separated by dots, at most [`HOSTNAME_MAX`] bytes.
/// Error: `invalid hostname format: NAME` (the caller adds "Error response from
/// daemon: "). Later Docker versions leave the check to sethostname(2), which takes any
/// bytes, so a name with spaces would reach /etc/hosts and the embedded DNS server;
/// dockernet keeps the stricter rule, which every name a tutorial uses passes.
pub fn validate_hostname(hostname: &str) -> Result<(), String> {
    let label_ok = |l: &str| {
        let b = l.as_bytes();
        !b.is_empty()
            && b[0].is_ascii_alphanumeric()
            && b[b.len() - 1].is_ascii_alphanumeric()
            && b.iter().all(|&c| c.is_ascii_alphanumeric() || c == b'-')
    };
    if hostname.len() <= HOSTNAME_MAX && hostname.split('.').all(label_ok) {
        Ok(())
    } else {
        Err(format!("invalid hostname format: {hostname}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_env(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn env_needs_a_name_with_dockers_words() {
        assert_eq!(
            validate_env("=bad", no_env),
            Err(
                "invalid argument \"=bad\" for \"-e, --env\" flag: invalid environment variable: =bad"
                    .to_string()
            )
        );
        assert_eq!(
            validate_env("", no_env),
            Err(
                "invalid argument \"\" for \"-e, --env\" flag: invalid environment variable: "
                    .to_string()
            )
        );
        assert!(validate_env("=", no_env).is_err());
    }

    #[test]
    fn env_values_pass_and_bare_names_are_looked_up() {
        assert_eq!(validate_env("A=1", no_env), Ok("A=1".into()));
        assert_eq!(validate_env("A=", no_env), Ok("A=".into()));
        assert_eq!(validate_env("A==b", no_env), Ok("A==b".into()));
        assert_eq!(validate_env("TZ", no_env), Ok("TZ".into()));
        let set = |k: &str| (k == "TZ").then(|| "Asia/Shanghai".to_string());
        assert_eq!(validate_env("TZ", set), Ok("TZ=Asia/Shanghai".into()));
    }

    #[test]
    fn hostnames_follow_rfc_1123() {
        for ok in [
            "web1",
            "a",
            "db.example.com",
            "my-host",
            "9lives",
            &"h".repeat(63),
        ] {
            assert_eq!(validate_hostname(ok), Ok(()), "{ok}");
        }
        for bad in [
            "bad host!",
            "",
            "-web",
            "web-",
            "a..b",
            ".web",
            "web.",
            "under_score",
            "wéb",
            &"h".repeat(64),
        ] {
            assert_eq!(
                validate_hostname(bad),
                Err(format!("invalid hostname format: {bad}")),
                "{bad}"
            );
        }
    }
}
