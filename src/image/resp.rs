//! RESP2, the Redis wire protocol, as far as the built-in redis needs it.
//!
//! Clients send commands as arrays of bulk strings (`*1\r\n$4\r\nPING\r\n`) or,
//! like `nc` and telnet users, as "inline" text lines (`PING\r\n`). Replies are
//! simple strings (`+OK`), errors (`-ERR ...`), integers (`:1`), bulk strings
//! (`$5\r\nhello\r\n`, `$-1` for nil) and arrays (`*2\r\n...`).

use std::io::{self, BufRead, Read};

/// Longest protocol line (and inline command) accepted, as in Redis.
const MAX_LINE: u64 = 64 * 1024;
/// Largest bulk string accepted.
const MAX_BULK: i64 = 64 * 1024 * 1024;
/// Most array elements accepted.
const MAX_ELEMENTS: i64 = 1024 * 1024;
/// Deepest array nesting accepted in replies.
const MAX_DEPTH: usize = 8;

/// One RESP2 value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// `+text`
    Simple(String),
    /// `-text`
    Error(String),
    /// `:n`
    Integer(i64),
    /// `$len` followed by the bytes
    Bulk(Vec<u8>),
    /// `$-1` (or `*-1`)
    Nil,
    /// `*n` followed by n values
    Array(Vec<Value>),
}

impl Value {
    /// Serializes the value onto `out`.
    pub fn encode(&self, out: &mut Vec<u8>) {
        match self {
            Value::Simple(s) => out.extend_from_slice(format!("+{s}\r\n").as_bytes()),
            Value::Error(s) => out.extend_from_slice(format!("-{s}\r\n").as_bytes()),
            Value::Integer(n) => out.extend_from_slice(format!(":{n}\r\n").as_bytes()),
            Value::Nil => out.extend_from_slice(b"$-1\r\n"),
            Value::Bulk(bytes) => {
                out.extend_from_slice(format!("${}\r\n", bytes.len()).as_bytes());
                out.extend_from_slice(bytes);
                out.extend_from_slice(b"\r\n");
            }
            Value::Array(items) => {
                out.extend_from_slice(format!("*{}\r\n", items.len()).as_bytes());
                for item in items {
                    item.encode(out);
                }
            }
        }
    }

    /// A command as clients send it: an array of bulk strings.
    pub fn command<S: AsRef<[u8]>>(args: &[S]) -> Value {
        Value::Array(
            args.iter()
                .map(|a| Value::Bulk(a.as_ref().to_vec()))
                .collect(),
        )
    }
}

/// Reads one command (RESP array or inline line). `Ok(None)` on a clean EOF;
/// `InvalidData` (with Redis's wording) on a protocol error. Empty inline
/// lines yield an empty command, which callers skip.
pub fn read_command(reader: &mut impl BufRead) -> io::Result<Option<Vec<Vec<u8>>>> {
    let Some(line) = read_line(reader, false)? else {
        return Ok(None);
    };
    if line.first() != Some(&b'*') {
        let text = String::from_utf8_lossy(&line);
        return match split_args(&text) {
            Some(args) => Ok(Some(args.into_iter().map(String::into_bytes).collect())),
            None => Err(protocol("unbalanced quotes in request")),
        };
    }
    let count = parse_number(&line[1..]).ok_or_else(|| protocol("invalid multibulk length"))?;
    if count > MAX_ELEMENTS {
        return Err(protocol("invalid multibulk length"));
    }
    let mut args = Vec::new();
    for _ in 0..count {
        let header = read_line(reader, true)?.ok_or_else(closed)?;
        if header.first() != Some(&b'$') {
            let got = String::from_utf8_lossy(header.get(..1).unwrap_or_default()).into_owned();
            return Err(protocol(&format!("expected '$', got '{got}'")));
        }
        match parse_number(&header[1..]) {
            Some(len) if (0..=MAX_BULK).contains(&len) => args.push(read_bulk(reader, len)?),
            _ => return Err(protocol("invalid bulk length")),
        }
    }
    Ok(Some(args))
}

/// Reads one reply value of any type. `Ok(None)` on a clean EOF.
pub fn read_value(reader: &mut impl BufRead) -> io::Result<Option<Value>> {
    read_value_at(reader, 0)
}

fn read_value_at(reader: &mut impl BufRead, depth: usize) -> io::Result<Option<Value>> {
    let Some(line) = read_line(reader, true)? else {
        return Ok(None);
    };
    let (kind, rest) = line.split_first().ok_or_else(|| protocol("empty line"))?;
    let text = || String::from_utf8_lossy(rest).into_owned();
    let number = || parse_number(rest).ok_or_else(|| protocol("bad number"));
    let value = match kind {
        b'+' => Value::Simple(text()),
        b'-' => Value::Error(text()),
        b':' => Value::Integer(number()?),
        b'$' => match number()? {
            -1 => Value::Nil,
            len if (0..=MAX_BULK).contains(&len) => Value::Bulk(read_bulk(reader, len)?),
            _ => return Err(protocol("invalid bulk length")),
        },
        b'*' => match number()? {
            -1 => Value::Nil,
            n if (0..=MAX_ELEMENTS).contains(&n) && depth < MAX_DEPTH => {
                let mut items = Vec::new();
                for _ in 0..n {
                    items.push(read_value_at(reader, depth + 1)?.ok_or_else(closed)?);
                }
                Value::Array(items)
            }
            _ => return Err(protocol("invalid multibulk length")),
        },
        _ => return Err(protocol("unknown reply type")),
    };
    Ok(Some(value))
}

/// Reads `len` bytes plus the trailing CRLF.
fn read_bulk(reader: &mut impl BufRead, len: i64) -> io::Result<Vec<u8>> {
    let len = len as u64 + 2;
    let mut data = Vec::new();
    reader.by_ref().take(len).read_to_end(&mut data)?;
    if data.len() as u64 != len {
        return Err(closed());
    }
    if !data.ends_with(b"\r\n") {
        return Err(protocol("bulk string not terminated by CRLF"));
    }
    data.truncate(data.len() - 2);
    Ok(data)
}

/// Reads a line without its terminator. RESP lines end in CRLF; inline commands
/// may end in a bare LF (`strict == false`).
fn read_line(reader: &mut impl BufRead, strict: bool) -> io::Result<Option<Vec<u8>>> {
    let mut line = Vec::new();
    reader
        .by_ref()
        .take(MAX_LINE)
        .read_until(b'\n', &mut line)?;
    if line.is_empty() {
        return Ok(None);
    }
    if line.pop() != Some(b'\n') {
        return Err(if line.len() as u64 >= MAX_LINE - 1 {
            protocol("too big inline request")
        } else {
            closed()
        });
    }
    if line.last() == Some(&b'\r') {
        line.pop();
    } else if strict {
        return Err(protocol("line not terminated by CRLF"));
    }
    Ok(Some(line))
}

fn parse_number(digits: &[u8]) -> Option<i64> {
    std::str::from_utf8(digits).ok()?.parse().ok()
}

fn protocol(what: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("Protocol error: {what}"),
    )
}

fn closed() -> io::Error {
    io::Error::new(
        io::ErrorKind::UnexpectedEof,
        "connection closed mid-message",
    )
}

/// Splits a line into arguments the way redis-cli and inline commands do:
/// whitespace separates; `"..."` allows `\n \r \t \\ \" \xHH` escapes; `'...'`
/// is literal except `\'`. Returns `None` on unbalanced quotes.
pub fn split_args(line: &str) -> Option<Vec<String>> {
    let mut args = Vec::new();
    let mut chars = line.chars().peekable();
    loop {
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        if chars.peek().is_none() {
            return Some(args);
        }
        let mut arg = String::new();
        while let Some(c) = chars.next_if(|c| !c.is_whitespace()) {
            match c {
                '"' => loop {
                    match chars.next()? {
                        '"' => break,
                        '\\' => match chars.next()? {
                            'n' => arg.push('\n'),
                            'r' => arg.push('\r'),
                            't' => arg.push('\t'),
                            'x' => {
                                let hex: String = [chars.next()?, chars.next()?].iter().collect();
                                arg.push(char::from(u8::from_str_radix(&hex, 16).ok()?));
                            }
                            other => arg.push(other),
                        },
                        other => arg.push(other),
                    }
                },
                '\'' => loop {
                    match chars.next()? {
                        '\'' => break,
                        '\\' if chars.peek() == Some(&'\'') => arg.push(chars.next()?),
                        other => arg.push(other),
                    }
                },
                other => arg.push(other),
            }
        }
        args.push(arg);
    }
}
