//! One error type for the whole program, in the netavark manner: every error carries the
//! context of what was being done ("creating veth vethab12cd3 on docker0: File exists"),
//! keeps the errno underneath for matching, and prints as a single line.

use std::fmt;

/// Exit status for a refused `run`, as Docker uses it.
pub const EXIT_REFUSED: i32 = 125;

/// Everything that can go wrong, as one printable line plus an exit status.
#[derive(Debug)]
pub struct Error {
    message: String,
    errno: Option<i32>,
    exit_code: i32,
}

/// Shorthand used across the crate.
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// A plain failure (exit status 1).
    pub fn msg(message: impl Into<String>) -> Self {
        Error {
            message: message.into(),
            errno: None,
            exit_code: 1,
        }
    }

    /// A failure with a specific exit status (2 for usage, 125 for a refused `run`, ...).
    pub fn with_code(message: impl Into<String>, exit_code: i32) -> Self {
        Error {
            message: message.into(),
            errno: None,
            exit_code,
        }
    }

    /// A refusal of `run` / `create` by "the daemon": exit status 125, as Docker's —
    /// unless the error already carries its own (126 / 127 for a command that cannot
    /// be invoked or found).
    pub fn refused(mut self) -> Self {
        if self.exit_code == 1 {
            self.exit_code = EXIT_REFUSED;
        }
        self
    }

    /// An error from a system call, keeping its errno for callers that match on it.
    pub fn errno(context: impl Into<String>, errno: i32) -> Self {
        let text = std::io::Error::from_raw_os_error(errno).to_string();
        // std appends " (os error N)"; the learner does not need the number.
        let text = text.split(" (os error").next().unwrap_or(&text).to_string();
        Error {
            message: format!("{}: {}", context.into(), text),
            errno: Some(errno),
            exit_code: 1,
        }
    }

    /// The errno underneath, if this error came from the kernel.
    pub fn raw_errno(&self) -> Option<i32> {
        self.errno
    }

    /// The process exit status to use for this error.
    pub fn exit_code(&self) -> i32 {
        self.exit_code
    }

    /// Prefix more context: "setting up web1: " + the existing message.
    pub fn context(mut self, context: impl fmt::Display) -> Self {
        self.message = format!("{context}: {}", self.message);
        self
    }

    /// Add what went wrong while cleaning up after this error (netavark reports its
    /// teardown errors as a list the same way): the original error stays first.
    pub fn with_cleanup_errors(mut self, cleanup: Vec<Error>) -> Self {
        if !cleanup.is_empty() {
            let list: Vec<String> = cleanup.iter().map(|e| e.message.clone()).collect();
            self.message = format!(
                "{} (and undoing what was done failed too: {})",
                self.message,
                list.join("; ")
            );
        }
        self
    }

    /// Ok when `errors` is empty; otherwise one error naming what was being done and
    /// every failure, in order (cleaning goes on past a failure and reports them all).
    pub fn all(context: impl fmt::Display, errors: Vec<Error>) -> Result<()> {
        if errors.is_empty() {
            return Ok(());
        }
        let list: Vec<String> = errors.into_iter().map(|e| e.message).collect();
        Err(Error::msg(format!("{context}: {}", list.join("; "))))
    }

    /// The message without the `dockernet:` prefix.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        match e.raw_os_error() {
            Some(code) => Error::errno("I/O error", code),
            None => Error::msg(e.to_string()),
        }
    }
}

impl From<nix::Error> for Error {
    fn from(e: nix::Error) -> Self {
        Error::errno("system call failed", e as i32)
    }
}

impl From<rtnetlink::Error> for Error {
    fn from(e: rtnetlink::Error) -> Self {
        match netlink_errno(&e) {
            Some(code) => Error::errno("netlink", code),
            None => Error::msg(format!("netlink: {e}")),
        }
    }
}

/// The positive errno carried by a netlink error reply, if any.
pub fn netlink_errno(e: &rtnetlink::Error) -> Option<i32> {
    match e {
        rtnetlink::Error::NetlinkError(msg) => msg.code.map(|c| c.get().abs()),
        _ => None,
    }
}

/// Adds a context line to any error convertible into [`Error`].
pub trait Context<T> {
    /// Wrap the error with "what we were doing".
    fn ctx(self, what: impl fmt::Display) -> Result<T>;
    /// Like [`Context::ctx`], building the text only on failure.
    fn with_ctx<F: FnOnce() -> String>(self, what: F) -> Result<T>;
}

impl<T, E: Into<Error>> Context<T> for std::result::Result<T, E> {
    fn ctx(self, what: impl fmt::Display) -> Result<T> {
        self.map_err(|e| e.into().context(what))
    }
    fn with_ctx<F: FnOnce() -> String>(self, what: F) -> Result<T> {
        self.map_err(|e| e.into().context(what()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errno_text_has_no_os_error_suffix() {
        let e = Error::errno("creating veth", libc::EEXIST);
        assert_eq!(e.to_string(), "creating veth: File exists");
        assert_eq!(e.raw_errno(), Some(libc::EEXIST));
    }

    #[test]
    fn context_chains_outermost_first() {
        let r: Result<()> = Err(Error::msg("inner"));
        let e = r.ctx("middle").ctx("outer").unwrap_err();
        assert_eq!(e.to_string(), "outer: middle: inner");
        assert_eq!(e.exit_code(), 1);
    }
}
