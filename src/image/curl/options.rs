//! curl's command line and URL, reduced to what the built-in curl supports.

use std::time::Duration;

use super::{Failure, fail};

/// The parsed command line.
#[derive(Debug, Default)]
pub(super) struct Options {
    pub silent: bool,
    pub show_error: bool,
    pub include: bool,
    pub head: bool,
    pub fail: bool,
    pub output: Option<String>,
    pub max_time: Option<Duration>,
    pub connect_timeout: Option<Duration>,
    pub url: String,
}

impl Options {
    /// Parses argv (without `argv[0]`); the error is curl's message without `curl: `.
    pub fn parse(args: &[String]) -> Result<Options, String> {
        let mut opts = Options::default();
        let mut url = None;
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            if let Some(long) = arg.strip_prefix("--") {
                let flag = match long {
                    "silent" => 's',
                    "show-error" => 'S',
                    "include" => 'i',
                    "head" => 'I',
                    "fail" => 'f',
                    "output" => 'o',
                    "max-time" => 'm',
                    "connect-timeout" => 'C',
                    _ => return Err(format!("option {arg}: is unknown")),
                };
                let value = args.next().map(String::as_str);
                opts.set(flag, arg, || value)?;
            } else if let Some(shorts) = arg.strip_prefix('-').filter(|s| !s.is_empty()) {
                // Bundled flags (`-sSf`); a flag taking a value ends the bundle (`-ofile`, `-o file`).
                for (i, flag) in shorts.char_indices() {
                    let attached = &shorts[i + flag.len_utf8()..];
                    if opts.set(flag, &format!("-{flag}"), || {
                        Some(attached)
                            .filter(|a| !a.is_empty())
                            .or_else(|| args.next().map(String::as_str))
                    })? {
                        break;
                    }
                }
            } else if url.replace(arg.clone()).is_some() {
                return Err("only one URL is supported by dockernet's built-in curl".into());
            }
        }
        opts.url = url.ok_or("no URL specified")?;
        Ok(opts)
    }

    /// Applies one flag; `value` is called only for flags that take one.
    /// Returns whether the value was consumed.
    fn set<'a>(
        &mut self,
        flag: char,
        name: &str,
        value: impl FnOnce() -> Option<&'a str>,
    ) -> Result<bool, String> {
        match flag {
            's' => self.silent = true,
            'S' => self.show_error = true,
            'i' => self.include = true,
            'I' => self.head = true,
            'f' => self.fail = true,
            'o' | 'm' | 'C' => {
                let value = value().ok_or_else(|| format!("option {name}: requires parameter"))?;
                match flag {
                    'o' => self.output = Some(value.to_string()),
                    'm' => self.max_time = Some(seconds(name, value)?),
                    _ => self.connect_timeout = Some(seconds(name, value)?),
                }
                return Ok(true);
            }
            _ => return Err(format!("option {name}: is unknown")),
        }
        Ok(false)
    }
}

fn seconds(name: &str, value: &str) -> Result<Duration, String> {
    value
        .parse::<f64>()
        .ok()
        .and_then(|s| Duration::try_from_secs_f64(s).ok())
        .filter(|d| !d.is_zero())
        .ok_or_else(|| format!("option {name}: expected a proper numerical parameter"))
}

/// The parts of an `http://` URL that a request needs.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Url {
    /// Host name or address, without IPv6 brackets.
    pub host: String,
    pub port: u16,
    /// Path and query, always starting with `/`.
    pub path: String,
    /// Value of the `Host:` header (`host` or `host:port`).
    pub host_header: String,
}

impl Url {
    /// Parses `[http://]host[:port][/path][?query]`, as curl does for http.
    pub fn parse(url: &str) -> Result<Url, Failure> {
        let rest = match url.split_once("://") {
            Some((scheme, rest)) if scheme.eq_ignore_ascii_case("http") => rest,
            Some((scheme, _)) => {
                return Err(fail(1, format!("Protocol \"{scheme}\" not supported")));
            }
            None => url,
        };
        let rest = rest.split('#').next().unwrap_or_default();
        let (authority, path) = match rest.find(['/', '?']) {
            Some(i) if rest[i..].starts_with('?') => (&rest[..i], format!("/{}", &rest[i..])),
            Some(i) => (&rest[..i], rest[i..].to_string()),
            None => (rest, "/".to_string()),
        };
        let authority = authority.rsplit('@').next().unwrap_or_default();
        let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
            let (host, after) = v6
                .split_once(']')
                .ok_or_else(|| bad_url("Bad IPv6 address"))?;
            (host, after.strip_prefix(':'))
        } else {
            match authority.rsplit_once(':') {
                Some((host, port)) => (host, Some(port)),
                None => (authority, None),
            }
        };
        if host.is_empty() {
            return Err(bad_url("No host part in the URL"));
        }
        let port = match port {
            None | Some("") => 80,
            Some(p) => p
                .parse()
                .map_err(|_| bad_url("Port number was not a decimal number between 0 and 65535"))?,
        };
        let host_header = match (port, host.contains(':')) {
            (80, false) => host.to_string(),
            (80, true) => format!("[{host}]"),
            (_, false) => format!("{host}:{port}"),
            (_, true) => format!("[{host}]:{port}"),
        };
        Ok(Url {
            host: host.to_string(),
            port,
            path,
            host_header,
        })
    }
}

fn bad_url(why: &str) -> Failure {
    fail(3, format!("URL rejected: {why}"))
}
