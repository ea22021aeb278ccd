//! How dockernet commands talk to the lab's embedded DNS server: one JSON request and
//! one JSON reply per connection on a Unix socket in the lab's directory (`dns.sock`).
//! Commands say which container changed; the server reads that container's record
//! again, so what it knows is always what the records say.

use super::index::ScopeName;
use crate::error::{Error, Result};
use crate::lab::DnsPorts;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

/// A request to the server.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Request {
    /// Listen inside the container's namespace (at its recorded ports if it has
    /// some) and index it.
    Attach {
        /// Container id.
        id: String,
    },
    /// Read the container's record again (connect, disconnect, alias, start, stop).
    Sync {
        /// Container id.
        id: String,
    },
    /// Read a container of another lab host again and keep (or drop) its names on the
    /// overlay networks this host shares with it.
    Remote {
        /// The host it is on.
        host: String,
        /// Container id.
        id: String,
    },
    /// Drop the container: close its sockets (they would keep its namespace alive)
    /// and its names.
    Forget {
        /// Container id.
        id: String,
    },
    /// The names the container can resolve.
    Names {
        /// Container id.
        id: String,
    },
    /// What the server holds.
    Status,
}

/// A container whose recorded ports could not be bound again after a restart.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Moved {
    /// Container id.
    pub id: String,
    /// The ports it listens on now.
    pub ports: DnsPorts,
}

/// The server's reply.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Reply {
    /// Whether the request was carried out.
    pub ok: bool,
    /// Why not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// `attach`: where it listens inside the container's namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ports: Option<DnsPorts>,
    /// `names`: the container's scope.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub names: Vec<ScopeName>,
    /// `status`: containers indexed.
    #[serde(default)]
    pub containers: usize,
    /// `status`: namespaces it listens in.
    #[serde(default)]
    pub listeners: usize,
    /// `status`: containers that listen on other ports than recorded (after a restart).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub moved: Vec<Moved>,
    /// `status`: the upstream server it forwards to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upstream: Option<String>,
}

impl Reply {
    /// A failure with its reason.
    pub fn fail(msg: impl Into<String>) -> Reply {
        Reply {
            error: Some(msg.into()),
            ..Reply::default()
        }
    }

    /// A success.
    pub fn ok() -> Reply {
        Reply {
            ok: true,
            ..Reply::default()
        }
    }
}

/// Send one request and wait for the reply.
pub fn request(socket: &Path, req: &Request) -> Result<Reply> {
    let fail = |e: std::io::Error| {
        Error::msg(format!(
            "the lab's embedded DNS server does not answer on {}: {e}",
            socket.display()
        ))
    };
    let mut s = UnixStream::connect(socket).map_err(fail)?;
    s.set_read_timeout(Some(Duration::from_secs(5)))
        .map_err(fail)?;
    s.set_write_timeout(Some(Duration::from_secs(5)))
        .map_err(fail)?;
    let mut line = serde_json::to_vec(req).map_err(|e| Error::msg(e.to_string()))?;
    line.push(b'\n');
    s.write_all(&line).map_err(fail)?;
    let mut reply = String::new();
    BufReader::new(s).read_line(&mut reply).map_err(fail)?;
    let reply: Reply = serde_json::from_str(&reply)
        .map_err(|e| Error::msg(format!("the embedded DNS server's reply: {e}")))?;
    match (&reply.ok, &reply.error) {
        (false, Some(e)) => Err(Error::msg(format!("embedded DNS server: {e}"))),
        _ => Ok(reply),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_one_tagged_json_line() {
        let r = Request::Attach { id: "ab".into() };
        assert_eq!(
            serde_json::to_string(&r).unwrap(),
            r#"{"op":"attach","id":"ab"}"#
        );
        assert_eq!(
            serde_json::from_str::<Request>(r#"{"op":"status"}"#).unwrap(),
            Request::Status
        );
        let reply = Reply {
            ports: Some(DnsPorts { udp: 1, tcp: 2 }),
            ..Reply::ok()
        };
        let back: Reply = serde_json::from_str(&serde_json::to_string(&reply).unwrap()).unwrap();
        assert_eq!(back, reply);
    }
}
