//! Package managers of the built-in images, which cannot work: the lab has no route
//! to the real internet (its "internet" is TEST-NET-3 inside the world namespace), so
//! `apk add curl` would only hang on a DNS lookup. They say so at once instead.

/// `apk` of the alpine image: every subcommand that needs the network fails with one
/// clear line and exit status 1; `--version` answers like the real one.
pub fn apk(args: &[String]) -> i32 {
    match args.first().map(String::as_str) {
        Some("--version" | "-V") => {
            super::print_line("apk-tools 2.14.6, compiled for x86_64.");
            0
        }
        Some(cmd) => {
            super::say(&format!(
                "apk {cmd}: the lab is offline (no route to the real internet), so no \
                 package can be fetched; dockernet's alpine has busybox's tools, curl and \
                 redis-cli already"
            ));
            1
        }
        None => {
            super::say(
                "apk: the lab is offline (no route to the real internet): packages cannot be \
                 installed here",
            );
            1
        }
    }
}
