//! Command-line flags of `docker-proxy`, parsed with Go's `flag` package rules.
//!
//! Docker starts the proxy as
//! `docker-proxy -proto tcp -host-ip 0.0.0.0 -host-port 8080 -container-ip 172.17.0.2 -container-port 80`.
//! Go's `flag` accepts `-name value`, `-name=value` and the same with two dashes,
//! stops at `--` or the first non-flag argument, and answers `-h`/`-help` with usage.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::os::fd::RawFd;

/// Transport protocol of one port binding (`-proto`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Proto {
    /// A TCP listener relaying whole connections.
    Tcp,
    /// A UDP socket relaying datagrams per client flow.
    Udp,
}

impl fmt::Display for Proto {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Proto::Tcp => "tcp",
            Proto::Udp => "udp",
        })
    }
}

/// One published port binding, as given on the command line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// `-proto` (default `tcp`).
    pub proto: Proto,
    /// `-host-ip` and `-host-port`: where the proxy listens.
    pub host: SocketAddr,
    /// `-container-ip` and `-container-port`: where it relays to.
    pub container: SocketAddr,
    /// `-ready-fd`: a pipe's write end to report readiness on, owned by us.
    pub ready_fd: Option<RawFd>,
}

/// Why the flags were not accepted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ArgError {
    /// `-h` or `-help`: print [`USAGE`] and exit 0, as Go's flag package does.
    Help,
    /// A bad flag or value; the text is one line, without a trailing newline.
    Bad(String),
}

impl fmt::Display for ArgError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ArgError::Help => f.write_str("help requested"),
            ArgError::Bad(msg) => f.write_str(msg),
        }
    }
}

/// Usage text printed for `-h`.
pub const USAGE: &str = "Usage of docker-proxy:
  -container-ip string   container ip
  -container-port int    container port (default -1)
  -host-ip string        host ip
  -host-port int         host port (default -1)
  -proto string          proxy protocol: tcp or udp (default \"tcp\")
  -ready-fd int          fd to report readiness on: \"0\\n\" or \"1\\n<error>\" (default: none)";

const FLAGS: [&str; 6] = [
    "proto",
    "host-ip",
    "host-port",
    "container-ip",
    "container-port",
    "ready-fd",
];

/// Parses `docker-proxy`'s flags (`args` excludes argv\[0\]).
pub fn parse_args(args: &[String]) -> Result<Config, ArgError> {
    let mut values: [Option<String>; 6] = Default::default();
    let mut i = 0;
    while i < args.len() {
        let arg = &args[i];
        i += 1;
        if arg == "--" {
            break;
        }
        let Some(body) = arg.strip_prefix('-').filter(|b| !b.is_empty()) else {
            return Err(bad(format!("unexpected argument: {arg:?}")));
        };
        let body = body.strip_prefix('-').unwrap_or(body);
        if body.is_empty() || body.starts_with('-') || body.starts_with('=') {
            return Err(bad(format!("bad flag syntax: {arg}")));
        }
        let (name, inline) = match body.split_once('=') {
            Some((n, v)) => (n, Some(v.to_string())),
            None => (body, None),
        };
        if name == "h" || name == "help" {
            return Err(ArgError::Help);
        }
        let Some(slot) = FLAGS.iter().position(|f| *f == name) else {
            return Err(bad(format!("flag provided but not defined: -{name}")));
        };
        let value = match inline {
            Some(v) => v,
            None if i < args.len() => {
                i += 1;
                args[i - 1].clone()
            }
            None => return Err(bad(format!("flag needs an argument: -{name}"))),
        };
        values[slot] = Some(value);
    }
    if i < args.len() {
        return Err(bad(format!("unexpected argument: {:?}", args[i])));
    }
    let [
        proto,
        host_ip,
        host_port,
        container_ip,
        container_port,
        ready_fd,
    ] = values;

    let proto = match proto.as_deref().unwrap_or("tcp") {
        "tcp" | "tcp4" | "tcp6" => Proto::Tcp,
        "udp" | "udp4" | "udp6" => Proto::Udp,
        other => return Err(bad(format!("unsupported protocol {other:?}"))),
    };
    let host_ip = ip("host-ip", host_ip)?;
    let container_ip = ip("container-ip", container_ip)?;
    let host_port = port("host-port", host_port, 0)?;
    let container_port = port("container-port", container_port, 1)?;
    let ready_fd = match ready_fd {
        None => None,
        Some(v) => match v.parse::<RawFd>() {
            Ok(fd) if fd >= 0 => Some(fd),
            _ => return Err(invalid("ready-fd", &v)),
        },
    };
    Ok(Config {
        proto,
        host: SocketAddr::new(host_ip, host_port),
        container: SocketAddr::new(container_ip, container_port),
        ready_fd,
    })
}

fn bad(msg: String) -> ArgError {
    ArgError::Bad(msg)
}

fn invalid(flag: &str, value: &str) -> ArgError {
    bad(format!("invalid value {value:?} for flag -{flag}"))
}

fn ip(flag: &str, value: Option<String>) -> Result<IpAddr, ArgError> {
    let value = value.ok_or_else(|| bad(format!("missing required flag -{flag}")))?;
    value.parse().map_err(|_| invalid(flag, &value))
}

fn port(flag: &str, value: Option<String>, min: u16) -> Result<u16, ArgError> {
    let value = value.ok_or_else(|| bad(format!("missing required flag -{flag}")))?;
    match value.parse::<u16>() {
        Ok(p) if p >= min => Ok(p),
        _ => Err(invalid(flag, &value)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<Config, ArgError> {
        let v: Vec<String> = s.split_whitespace().map(String::from).collect();
        parse_args(&v)
    }

    #[test]
    fn docker_style_flags() {
        let c = parse("-proto udp -host-ip 0.0.0.0 -host-port 53 -container-ip 172.17.0.2 -container-port=5353 --ready-fd=3").unwrap();
        assert_eq!(c.proto, Proto::Udp);
        assert_eq!(c.host, "0.0.0.0:53".parse().unwrap());
        assert_eq!(c.container, "172.17.0.2:5353".parse().unwrap());
        assert_eq!(c.ready_fd, Some(3));
        let c =
            parse("-host-ip :: -host-port 80 -container-ip fd00::2 -container-port 80").unwrap();
        assert_eq!(c.proto, Proto::Tcp);
        assert_eq!(c.host, "[::]:80".parse().unwrap());
    }

    #[test]
    fn bad_flags() {
        let base = "-host-ip 0.0.0.0 -host-port 1 -container-ip 1.2.3.4 -container-port 2";
        for (extra, want) in [
            ("-bogus 1", "flag provided but not defined: -bogus"),
            ("-proto sctp", "unsupported protocol \"sctp\""),
            (
                "-host-port 70000",
                "invalid value \"70000\" for flag -host-port",
            ),
            (
                "-container-port 0",
                "invalid value \"0\" for flag -container-port",
            ),
            ("-ready-fd", "flag needs an argument: -ready-fd"),
            ("---x", "bad flag syntax: ---x"),
            ("stray", "unexpected argument: \"stray\""),
        ] {
            let err = parse(&format!("{base} {extra}")).unwrap_err();
            assert_eq!(err, ArgError::Bad(want.into()), "{extra}");
        }
        assert_eq!(parse("-h"), Err(ArgError::Help));
        assert!(matches!(parse("-host-port 1"), Err(ArgError::Bad(m)) if m.contains("-host-ip")));
    }
}
