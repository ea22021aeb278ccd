//! `redis-cli`: a small client for the built-in (or any) Redis.
//!
//! `redis-cli [-h HOST] [-p PORT] [-e] [--raw|--no-raw] [CMD ARGS...]` sends one
//! command and prints the reply; without a command it reads commands line by
//! line from stdin, showing a `127.0.0.1:6379> ` prompt when stdin is a terminal.
//!
//! Replies are printed as real redis-cli prints them: on a terminal `"bar"`,
//! `(integer) 1`, `(nil)`, `(error) ERR ...`; otherwise raw: `bar`, `1`, an
//! empty line, `ERR ...` (followed, as in redis-cli, by an extra empty line).
//! An error reply still exits 0 unless `-e` is given, again like redis-cli.

use std::io::{self, BufRead, BufReader, IsTerminal, Write};
use std::net::{TcpStream, ToSocketAddrs};

use super::resp::{self, Value};

/// Which of redis-cli's terminal behaviours to use (it checks `isatty` itself).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Terminal {
    /// Show the `host:port> ` prompt (stdin is a terminal).
    pub prompt: bool,
    /// Format replies for humans (stdout is a terminal).
    pub pretty: bool,
}

/// Runs the applet on the real stdin/stdout/stderr and returns its exit code.
pub fn main(args: &[String]) -> i32 {
    let term = Terminal {
        prompt: io::stdin().is_terminal(),
        pretty: io::stdout().is_terminal(),
    };
    let (stdin, stdout, stderr) = (io::stdin(), io::stdout(), io::stderr());
    run(
        args,
        &mut stdin.lock(),
        &mut stdout.lock(),
        &mut stderr.lock(),
        term,
    )
}

/// Runs redis-cli with `args` (argv without `argv[0]`) on the given streams.
pub fn run(
    args: &[String],
    input: &mut dyn BufRead,
    out: &mut dyn Write,
    err: &mut dyn Write,
    mut term: Terminal,
) -> i32 {
    let mut host = "127.0.0.1".to_string();
    let mut port: u16 = 6379;
    let mut fail_on_error = false;
    let mut rest = args;
    while let Some((flag, tail)) = rest.split_first() {
        match flag.as_str() {
            "-h" | "-p" => {
                let Some((value, tail)) = tail.split_first() else {
                    let _ = writeln!(err, "redis-cli: option {flag} needs a value");
                    return 1;
                };
                if flag == "-h" {
                    host = value.clone();
                } else if let Ok(p) = value.parse() {
                    port = p;
                } else {
                    let _ = writeln!(err, "redis-cli: bad port '{value}'");
                    return 1;
                }
                rest = tail;
                continue;
            }
            "-e" => fail_on_error = true,
            "--raw" => term.pretty = false,
            "--no-raw" => term.pretty = true,
            f if f.starts_with('-') && f.len() > 1 => {
                let _ = writeln!(err, "redis-cli: unknown option '{f}'");
                return 1;
            }
            _ => break,
        }
        rest = tail;
    }
    let mut client = Client {
        host,
        port,
        conn: None,
    };
    if !rest.is_empty() {
        return match client.call(rest) {
            Ok(Value::Error(e)) if fail_on_error => {
                let _ = writeln!(err, "{e}");
                1
            }
            Ok(reply) => match out.write_all(&format_reply(&reply, term.pretty)) {
                Ok(()) => 0,
                Err(_) => 1,
            },
            Err(message) => {
                let _ = writeln!(err, "{message}");
                1
            }
        };
    }
    repl(&mut client, input, out, err, term)
}

/// The interactive (or piped) loop: one command per line until EOF or `quit`.
fn repl(
    client: &mut Client,
    input: &mut dyn BufRead,
    out: &mut dyn Write,
    err: &mut dyn Write,
    term: Terminal,
) -> i32 {
    let _ = client.connect();
    loop {
        if term.prompt {
            let _ = write!(out, "{}:{}> ", client.host, client.port);
            let _ = out.flush();
        }
        let mut line = String::new();
        match input.read_line(&mut line) {
            Ok(0) | Err(_) => return 0,
            Ok(_) => {}
        }
        let Some(args) = resp::split_args(&line) else {
            let _ = writeln!(out, "Invalid argument(s)");
            continue;
        };
        let Some(command) = args.first() else {
            continue;
        };
        if command.eq_ignore_ascii_case("quit") || command.eq_ignore_ascii_case("exit") {
            return 0;
        }
        let written = match client.call(&args) {
            Ok(reply) => out.write_all(&format_reply(&reply, term.pretty)),
            Err(message) => writeln!(err, "{message}"),
        };
        if written.and_then(|()| out.flush()).is_err() {
            return 1;
        }
    }
}

/// A connection that is (re)opened on demand, as redis-cli does.
struct Client {
    host: String,
    port: u16,
    conn: Option<(BufReader<TcpStream>, TcpStream)>,
}

impl Client {
    fn connect(&mut self) -> Result<(), String> {
        let failed = |why: &str| {
            format!(
                "Could not connect to Redis at {}:{}: {why}",
                self.host, self.port
            )
        };
        let addrs = (self.host.as_str(), self.port)
            .to_socket_addrs()
            .map_err(|_| failed("Name or service not known"))?;
        let stream = TcpStream::connect(&addrs.collect::<Vec<_>>()[..])
            .map_err(|e| failed(&super::describe(&e)))?;
        let reader = BufReader::new(stream.try_clone().map_err(|e| failed(&e.to_string()))?);
        self.conn = Some((reader, stream));
        Ok(())
    }

    /// Sends one command and reads its reply; on failure returns redis-cli's message.
    fn call<S: AsRef<str>>(&mut self, args: &[S]) -> Result<Value, String> {
        if self.conn.is_none() {
            self.connect()?;
        }
        let Some((reader, writer)) = self.conn.as_mut() else {
            return Err("Error: not connected".into());
        };
        let mut request = Vec::new();
        let args: Vec<&[u8]> = args.iter().map(|a| a.as_ref().as_bytes()).collect();
        Value::command(&args).encode(&mut request);
        let reply = writer
            .write_all(&request)
            .and_then(|()| resp::read_value(reader));
        match reply {
            Ok(Some(value)) => Ok(value),
            Ok(None) | Err(_) => {
                self.conn = None;
                Err("Error: Server closed the connection".into())
            }
        }
    }
}

/// Formats a reply as redis-cli does, for a terminal (`pretty`) or not.
pub fn format_reply(reply: &Value, pretty: bool) -> Vec<u8> {
    if pretty {
        return format_tty(reply, "").into_bytes();
    }
    let mut out = Vec::new();
    format_raw(reply, &mut out);
    out.push(b'\n');
    out
}

fn format_raw(reply: &Value, out: &mut Vec<u8>) {
    match reply {
        Value::Nil => {}
        Value::Error(e) => out.extend_from_slice(format!("{e}\n").as_bytes()),
        Value::Simple(s) => out.extend_from_slice(s.as_bytes()),
        Value::Bulk(bytes) => out.extend_from_slice(bytes),
        Value::Integer(n) => out.extend_from_slice(n.to_string().as_bytes()),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b'\n');
                }
                format_raw(item, out);
            }
        }
    }
}

fn format_tty(reply: &Value, prefix: &str) -> String {
    match reply {
        Value::Nil => "(nil)\n".into(),
        Value::Error(e) => format!("(error) {e}\n"),
        Value::Simple(s) => format!("{s}\n"),
        Value::Integer(n) => format!("(integer) {n}\n"),
        Value::Bulk(bytes) => format!("{}\n", quote(bytes)),
        Value::Array(items) if items.is_empty() => "(empty array)\n".into(),
        Value::Array(items) => {
            let width = items.len().to_string().len();
            let inner = format!("{prefix}{}", " ".repeat(width + 2));
            let mut text = String::new();
            for (i, item) in items.iter().enumerate() {
                let lead = if i == 0 { "" } else { prefix };
                text.push_str(&format!(
                    "{lead}{:>width$}) {}",
                    i + 1,
                    format_tty(item, &inner)
                ));
            }
            text
        }
    }
}

/// Quotes bytes the way redis-cli's `sdscatrepr` does: `"a\"b\n\x00"`.
fn quote(bytes: &[u8]) -> String {
    let mut text = String::from("\"");
    for &b in bytes {
        match b {
            b'\\' | b'"' => text.extend(['\\', char::from(b)]),
            b'\n' => text.push_str("\\n"),
            b'\r' => text.push_str("\\r"),
            b'\t' => text.push_str("\\t"),
            0x07 => text.push_str("\\a"),
            0x08 => text.push_str("\\b"),
            b if b.is_ascii_graphic() || b == b' ' => text.push(char::from(b)),
            b => text.push_str(&format!("\\x{b:02x}")),
        }
    }
    text.push('"');
    text
}
