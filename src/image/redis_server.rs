//! `redis-server`: the program of the built-in `redis` image.
//!
//! A RESP server on `0.0.0.0:6379` with an in-memory string map shared by all
//! connections. It knows `PING`, `ECHO`, `SET`, `GET`, `DEL`, `INCR`, `DBSIZE`,
//! `INFO`, `QUIT` and `COMMAND`, and answers anything else with Redis's
//! "unknown command" error. Commands may come as RESP arrays or inline lines.
//!
//! In `ps`, real Redis shows itself as `redis-server *:6379`. The applet cannot
//! rewrite its own argv, so the caller should start it with exactly that argv
//! (`["redis-server", "*:6379"]`); the applet accepts `*:PORT` as its port.

use std::collections::HashMap;
use std::io::{self, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use super::clock::Utc;
use super::resp::{self, Value};

/// The Redis version reported by `INFO` and the startup lines.
pub const VERSION: &str = "7.4.1";
/// The port Redis listens on by default.
pub const DEFAULT_PORT: u16 = 6379;

const NAME: &str = "redis-server";
const USAGE: &str = "usage: redis-server [*:PORT | --port PORT] [--bind ADDR]";

/// State shared by every connection of one server.
struct Server {
    db: Mutex<HashMap<Vec<u8>, Vec<u8>>>,
    port: u16,
    started: Instant,
}

/// Runs the applet with `args` (argv without `argv[0]`); returns only on error.
pub fn main(args: &[String]) -> i32 {
    let mut port = DEFAULT_PORT;
    let mut bind = "0.0.0.0".to_string();
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let bad_port =
            |value: &str| super::usage_error(NAME, &format!("bad port '{value}'"), USAGE);
        if let Some(value) = arg.strip_prefix("*:") {
            let Ok(p) = value.parse() else {
                return bad_port(value);
            };
            port = p;
            continue;
        }
        let Some(value) = args.next() else {
            return super::usage_error(
                NAME,
                &format!("unknown or incomplete option '{arg}'"),
                USAGE,
            );
        };
        match arg.as_str() {
            "--port" => match value.parse() {
                Ok(p) => port = p,
                Err(_) => return bad_port(value),
            },
            "--bind" => bind = value.clone(),
            // Docker's image runs `redis-server --protected-mode no`; accept and ignore it.
            "--protected-mode" => {}
            _ => return super::usage_error(NAME, &format!("unknown option '{arg}'"), USAGE),
        }
    }
    let pid = std::process::id();
    let log = |role: char, mark: char, text: &str| {
        super::print_line(&format!(
            "{pid}:{role} {} {mark} {text}",
            Utc::now().redis()
        ));
    };
    log('C', '*', "oO0OoO0OoO0Oo Redis is starting oO0OoO0OoO0Oo");
    log(
        'C',
        '*',
        &format!(
            "Redis version={VERSION}, bits=64, commit=00000000, modified=0, pid={pid}, just started"
        ),
    );
    log(
        'C',
        '#',
        "Warning: no config file specified, using the default config.",
    );
    log('M', '*', "monotonic clock: POSIX clock_gettime");
    log('M', '*', &format!("Running mode=standalone, port={port}."));
    let listener = match TcpListener::bind((bind.as_str(), port)) {
        Ok(listener) => listener,
        Err(e) => {
            let e = super::describe(&e);
            super::say(&format!(
                "{NAME}: could not create server TCP listening socket {bind}:{port}: {e}"
            ));
            return 1;
        }
    };
    log('M', '*', "Server initialized");
    log('M', '*', "Ready to accept connections tcp");
    serve_on(listener)
}

/// Accepts connections forever, serving each on its own thread; all share one map.
pub fn serve_on(listener: TcpListener) -> ! {
    let port = listener.local_addr().map_or(DEFAULT_PORT, |a| a.port());
    let server = Arc::new(Server {
        db: Mutex::new(HashMap::new()),
        port,
        started: Instant::now(),
    });
    loop {
        let Ok((stream, _)) = listener.accept() else {
            thread::sleep(Duration::from_millis(50));
            continue;
        };
        let server = Arc::clone(&server);
        let _ = thread::Builder::new()
            .name("redis-conn".into())
            .spawn(move || {
                let _ = handle_connection(stream, &server);
            });
    }
}

fn handle_connection(stream: TcpStream, server: &Server) -> io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut writer = stream;
    loop {
        let args = match resp::read_command(&mut reader) {
            Ok(Some(args)) if args.is_empty() => continue,
            Ok(Some(args)) => args,
            Ok(None) => return Ok(()),
            Err(e) if e.kind() == io::ErrorKind::InvalidData => {
                // Like Redis: report the protocol error, then hang up.
                return writer.write_all(format!("-ERR {e}\r\n").as_bytes());
            }
            Err(e) => return Err(e),
        };
        let quit = args[0].eq_ignore_ascii_case(b"quit");
        let mut out = Vec::new();
        execute(server, &args).encode(&mut out);
        writer.write_all(&out)?;
        if quit {
            return Ok(());
        }
    }
}

/// Runs one command (`args[0]` is its name, never empty) and returns the reply.
fn execute(server: &Server, args: &[Vec<u8>]) -> Value {
    let name = String::from_utf8_lossy(&args[0]).to_ascii_lowercase();
    let rest = &args[1..];
    let arity_ok = match name.as_str() {
        "ping" | "info" => rest.len() <= 1,
        "echo" | "get" | "incr" => rest.len() == 1,
        "set" => rest.len() >= 2,
        "del" => !rest.is_empty(),
        "dbsize" => rest.is_empty(),
        "quit" | "command" => true,
        _ => return unknown_command(args),
    };
    if !arity_ok {
        return Value::Error(format!(
            "ERR wrong number of arguments for '{name}' command"
        ));
    }
    // A panic in another connection must not wedge the store: recover the guard.
    let mut db = server
        .db
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    match name.as_str() {
        "ping" => match rest.first() {
            Some(message) => Value::Bulk(message.clone()),
            None => Value::Simple("PONG".into()),
        },
        "echo" => Value::Bulk(rest[0].clone()),
        "quit" => Value::Simple("OK".into()),
        "command" => Value::Array(Vec::new()),
        "set" if rest.len() > 2 => Value::Error("ERR syntax error".into()),
        "set" => {
            db.insert(rest[0].clone(), rest[1].clone());
            Value::Simple("OK".into())
        }
        "get" => db
            .get(&rest[0])
            .map_or(Value::Nil, |v| Value::Bulk(v.clone())),
        "del" => Value::Integer(rest.iter().filter(|k| db.remove(*k).is_some()).count() as i64),
        "dbsize" => Value::Integer(db.len() as i64),
        "incr" => {
            let current = db.get(&rest[0]).map_or(Some(0), |v| parse_integer(v));
            match current.map(|n| n.checked_add(1)) {
                None => Value::Error("ERR value is not an integer or out of range".into()),
                Some(None) => Value::Error("ERR increment or decrement would overflow".into()),
                Some(Some(n)) => {
                    db.insert(rest[0].clone(), n.to_string().into_bytes());
                    Value::Integer(n)
                }
            }
        }
        _ => {
            let section = rest
                .first()
                .map(|s| String::from_utf8_lossy(s).to_ascii_lowercase());
            Value::Bulk(info(server, db.len(), section.as_deref()).into_bytes())
        }
    }
}

/// Parses a stored value as Redis does for `INCR`: plain decimal, no `+`, no spaces.
fn parse_integer(value: &[u8]) -> Option<i64> {
    if value.first() == Some(&b'+') {
        return None;
    }
    std::str::from_utf8(value).ok()?.parse().ok()
}

/// Redis's reply to an unknown command, quoting (at most 128 characters of) its arguments.
fn unknown_command(args: &[Vec<u8>]) -> Value {
    let clean = |bytes: &[u8]| -> String {
        let text = String::from_utf8_lossy(bytes).replace(['\r', '\n'], " ");
        text.chars().take(128).collect()
    };
    let mut quoted = String::new();
    for arg in &args[1..] {
        if quoted.chars().count() >= 128 {
            break;
        }
        quoted.push_str(&format!("'{}' ", clean(arg)));
    }
    Value::Error(format!(
        "ERR unknown command '{}', with args beginning with: {quoted}",
        clean(&args[0])
    ))
}

/// The text of `INFO [section]`: the `server` and `keyspace` sections.
fn info(server: &Server, keys: usize, section: Option<&str>) -> String {
    let all = matches!(section, None | Some("all" | "default" | "everything"));
    let mut text = String::new();
    if all || section == Some("server") {
        text.push_str(&format!(
            "# Server\r\nredis_version:{VERSION}\r\nredis_mode:standalone\r\nos:Linux {}\r\n\
             arch_bits:64\r\nprocess_id:{}\r\ntcp_port:{}\r\nuptime_in_seconds:{}\r\n\
             executable:/usr/local/bin/redis-server\r\n",
            std::env::consts::ARCH,
            std::process::id(),
            server.port,
            server.started.elapsed().as_secs()
        ));
    }
    if all || section == Some("keyspace") {
        if !text.is_empty() {
            text.push_str("\r\n");
        }
        text.push_str("# Keyspace\r\n");
        if keys > 0 {
            text.push_str(&format!("db0:keys={keys},expires=0,avg_ttl=0\r\n"));
        }
    }
    text
}
