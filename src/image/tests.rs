//! End-to-end tests: every server on 127.0.0.1:0 in a thread, real sockets.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use super::http::{self, Flavor, Site};
use super::redis_cli::{self, Terminal};
use super::{curl, find_image, redis_server, resp, run_applet, unknown_image_error};

/// A log buffer the tests can read while the server writes to it.
type SharedLog = Arc<Mutex<Vec<u8>>>;

fn start_httpd(page: &str) -> (SocketAddr, SharedLog) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let log: SharedLog = Arc::default();
    let site = Arc::new(Site {
        flavor: Flavor::Apache,
        index: page.to_string(),
    });
    let server_log = Arc::clone(&log);
    thread::spawn(move || http::serve_on(listener, site, server_log));
    (addr, log)
}

fn start_redis() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    thread::spawn(move || redis_server::serve_on(listener));
    addr
}

fn connect(addr: SocketAddr) -> (BufReader<TcpStream>, TcpStream) {
    let stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    (BufReader::new(stream.try_clone().unwrap()), stream)
}

/// Reads one HTTP response: (status line, headers, body).
fn read_response(reader: &mut impl BufRead, head_only: bool) -> (String, Vec<String>, String) {
    let mut status = String::new();
    reader.read_line(&mut status).unwrap();
    let mut headers = Vec::new();
    let mut length = 0;
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        let line = line.trim_end().to_string();
        if line.is_empty() {
            break;
        }
        if let Some(n) = line.strip_prefix("Content-Length: ") {
            length = n.parse().unwrap();
        }
        headers.push(line);
    }
    let mut body = vec![0; if head_only { 0 } else { length }];
    reader.read_exact(&mut body).unwrap();
    (
        status.trim_end().to_string(),
        headers,
        String::from_utf8(body).unwrap(),
    )
}

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

fn curl(list: &[&str]) -> (i32, String, String) {
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = curl::run(&args(list), &mut out, &mut err);
    (
        code,
        String::from_utf8(out).unwrap(),
        String::from_utf8(err).unwrap(),
    )
}

fn redis_cli(addr: SocketAddr, command: &[&str], input: &str, term: Terminal) -> (i32, String) {
    let mut list = vec![
        "-h".to_string(),
        "127.0.0.1".into(),
        "-p".into(),
        addr.port().to_string(),
    ];
    list.extend(args(command));
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = redis_cli::run(&list, &mut input.as_bytes(), &mut out, &mut err, term);
    let text = String::from_utf8(out).unwrap() + &String::from_utf8(err).unwrap();
    (code, text)
}

const RAW: Terminal = Terminal {
    prompt: false,
    pretty: false,
};

#[test]
fn images_are_found_by_any_reference() {
    for name in [
        "busybox",
        "busybox:latest",
        "redis:alpine",
        "library/redis",
        "docker.io/library/httpd:2.4",
    ] {
        assert!(find_image(name).is_some(), "{name}");
    }
    assert_eq!(
        find_image("localhost:5000/tomcat:9").unwrap().default_cmd,
        ["catalina.sh", "run"]
    );
    for (reference, name) in [
        ("alpine:3.21", "alpine"),
        ("nginx", "nginx"),
        ("library/nginx:1.27", "nginx"),
        ("ubuntu:24.04", "ubuntu"),
        ("docker.io/library/debian:bookworm", "debian"),
    ] {
        assert_eq!(
            find_image(reference).map(|i| i.name),
            Some(name),
            "{reference}"
        );
    }
    assert!(find_image("centos").is_none());
    assert!(find_image("myorg/redis").is_none());
    assert_eq!(
        unknown_image_error("foo"),
        "unable to find image 'foo:latest' locally; dockernet works offline and has these \
         built-in images: busybox, alpine, httpd, nginx, redis, tomcat, ubuntu, debian"
    );
    assert!(unknown_image_error("foo:1").contains("'foo:1'"));
    assert_eq!(run_applet("/usr/bin/not-an-applet", &[]), None);
}

#[test]
fn httpd_serves_get_head_and_keep_alive() {
    let (addr, log) = start_httpd(super::httpd::IT_WORKS);
    let (mut reader, mut stream) = connect(addr);
    stream
        .write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\nHEAD / HTTP/1.1\r\n\r\n")
        .unwrap();
    let (status, headers, body) = read_response(&mut reader, false);
    assert_eq!(status, "HTTP/1.1 200 OK");
    assert!(headers.contains(&"Content-Type: text/html".to_string()));
    assert_eq!(body, "<html><body><h1>It works!</h1></body></html>\n");
    let (status, headers, _) = read_response(&mut reader, true);
    assert_eq!(status, "HTTP/1.1 200 OK");
    assert!(headers.contains(&"Content-Length: 45".to_string()));
    // Same connection, third request, asking to close.
    stream
        .write_all(b"GET /index.html HTTP/1.1\r\nConnection: close\r\n\r\n")
        .unwrap();
    let (_, headers, body) = read_response(&mut reader, false);
    assert!(headers.contains(&"Connection: close".to_string()));
    assert!(body.contains("It works!"));
    assert_eq!(reader.read(&mut [0; 1]).unwrap(), 0, "server should close");
    let log = String::from_utf8(log.lock().unwrap().clone()).unwrap();
    let lines: Vec<&str> = log.lines().collect();
    assert_eq!(lines.len(), 3, "{log}");
    assert!(lines[0].starts_with("127.0.0.1 - - ["), "{log}");
    assert!(lines[0].ends_with("] \"GET / HTTP/1.1\" 200 45"), "{log}");
    assert!(lines[1].ends_with("\"HEAD / HTTP/1.1\" 200 -"), "{log}");
}

#[test]
fn httpd_handles_concurrent_clients_and_bad_requests() {
    let (addr, _) = start_httpd("hello\n");
    let (mut reader1, mut stream1) = connect(addr);
    let (mut reader2, mut stream2) = connect(addr);
    // Client 1 stalls mid-request; client 2 must still be served.
    stream1.write_all(b"GET / HTTP/1.1\r\n").unwrap();
    stream2.write_all(b"GET / HTTP/1.1\r\n\r\n").unwrap();
    assert_eq!(read_response(&mut reader2, false).2, "hello\n");
    stream1.write_all(b"\r\n").unwrap();
    assert_eq!(read_response(&mut reader1, false).2, "hello\n");
    // Garbage gets a 400 and a closed connection.
    stream2.write_all(b"NONSENSE\r\n\r\n").unwrap();
    assert_eq!(
        read_response(&mut reader2, false).0,
        "HTTP/1.1 400 Bad Request"
    );
    assert_eq!(reader2.read(&mut [0; 1]).unwrap(), 0);
    // A client vanishing mid-request does not hurt the server.
    stream1.write_all(b"GET / HT").unwrap();
    stream1.shutdown(Shutdown::Both).unwrap();
    let (mut reader3, mut stream3) = connect(addr);
    stream3
        .write_all(b"POST / HTTP/1.0\r\nContent-Length: 3\r\n\r\nabc")
        .unwrap();
    let (status, headers, _) = read_response(&mut reader3, false);
    assert_eq!(status, "HTTP/1.1 405 Method Not Allowed");
    assert!(headers.contains(&"Allow: GET, HEAD".to_string()));
    assert!(
        headers.contains(&"Connection: close".to_string()),
        "HTTP/1.0 closes"
    );
}

#[test]
fn redis_speaks_resp_and_inline() {
    let addr = start_redis();
    let (mut reader, mut stream) = connect(addr);
    let mut send = |request: &[u8]| {
        stream.write_all(request).unwrap();
        resp::read_value(&mut reader).unwrap().unwrap()
    };
    use resp::Value::*;
    assert_eq!(send(b"*1\r\n$4\r\nPING\r\n"), Simple("PONG".into()));
    assert_eq!(send(b"PING\r\n"), Simple("PONG".into()));
    assert_eq!(send(b"ping \"hi there\"\n"), Bulk(b"hi there".to_vec()));
    assert_eq!(
        send(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2\r\nv1\r\n"),
        Simple("OK".into())
    );
    assert_eq!(send(b"GET k\r\n"), Bulk(b"v1".to_vec()));
    assert_eq!(send(b"GET nope\r\n"), Nil);
    assert_eq!(send(b"INCR n\r\n"), Integer(1));
    assert_eq!(
        send(b"INCR k\r\n"),
        Error("ERR value is not an integer or out of range".into())
    );
    assert_eq!(send(b"DBSIZE\r\n"), Integer(2));
    assert_eq!(send(b"DEL k n x\r\n"), Integer(2));
    assert_eq!(send(b"COMMAND DOCS\r\n"), Array(vec![]));
    assert_eq!(
        send(b"GET\r\n"),
        Error("ERR wrong number of arguments for 'get' command".into())
    );
    assert_eq!(
        send(b"FOO a b\r\n"),
        Error("ERR unknown command 'FOO', with args beginning with: 'a' 'b' ".into())
    );
    let Bulk(info) = send(b"INFO server\r\n") else {
        panic!("INFO is not a bulk")
    };
    assert!(
        String::from_utf8(info)
            .unwrap()
            .contains(&format!("tcp_port:{}", addr.port()))
    );
    assert_eq!(send(b"QUIT\r\n"), Simple("OK".into()));
    assert_eq!(
        resp::read_value(&mut reader).unwrap(),
        None,
        "server should close"
    );
    // A protocol error is reported, then the connection closes.
    let (mut reader, mut stream) = connect(addr);
    stream.write_all(b"*1\r\n+oops\r\n").unwrap();
    let reply = resp::read_value(&mut reader).unwrap().unwrap();
    assert!(matches!(reply, Error(e) if e.starts_with("ERR Protocol error")));
}

#[test]
fn redis_cli_talks_to_the_server() {
    let addr = start_redis();
    assert_eq!(redis_cli(addr, &["PING"], "", RAW), (0, "PONG\n".into()));
    assert_eq!(
        redis_cli(addr, &["set", "greeting", "hello world"], "", RAW),
        (0, "OK\n".into())
    );
    assert_eq!(
        redis_cli(addr, &["get", "greeting"], "", RAW),
        (0, "hello world\n".into())
    );
    assert_eq!(
        redis_cli(addr, &["incr", "hits"], "", RAW),
        (0, "1\n".into())
    );
    assert_eq!(
        redis_cli(addr, &["get", "missing"], "", RAW),
        (0, "\n".into())
    );
    let (code, text) = redis_cli(addr, &["nosuch"], "", RAW);
    assert_eq!(
        (code, text.lines().next()),
        (
            0,
            Some("ERR unknown command 'nosuch', with args beginning with: ")
        )
    );
    assert_eq!(redis_cli(addr, &["-e", "nosuch"], "", RAW).0, 1);
    // Interactive, as on a terminal.
    let tty = Terminal {
        prompt: true,
        pretty: true,
    };
    let (code, text) = redis_cli(
        addr,
        &[],
        "get greeting\nincr hits\nget missing\nquit\n",
        tty,
    );
    let prompt = format!("127.0.0.1:{}> ", addr.port());
    let expected = format!("{prompt}\"hello world\"\n{prompt}(integer) 2\n{prompt}(nil)\n{prompt}");
    assert_eq!((code, text), (0, expected));
    // Piped, as in `echo PING | redis-cli`.
    assert_eq!(redis_cli(addr, &[], "PING\n", RAW), (0, "PONG\n".into()));
}

#[test]
fn redis_cli_reports_refused_connections() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let (code, text) = redis_cli(addr, &["PING"], "", RAW);
    assert_eq!(code, 1);
    assert_eq!(
        text,
        format!("Could not connect to Redis at 127.0.0.1:{port}: Connection refused\n")
    );
}

#[test]
fn curl_fetches_from_httpd() {
    let (addr, _) = start_httpd("hello from the internet (203.0.113.10)\n");
    let url = format!("http://{addr}/");
    assert_eq!(
        curl(&["-s", &url]),
        (
            0,
            "hello from the internet (203.0.113.10)\n".into(),
            String::new()
        )
    );
    let (code, out, _) = curl(&["-si", &url]);
    assert_eq!(code, 0);
    assert!(out.starts_with("HTTP/1.1 200 OK\r\n"), "{out}");
    assert!(
        out.contains("\r\nServer: Apache/2.4.62 (Unix)\r\n"),
        "{out}"
    );
    assert!(
        out.ends_with("\r\n\r\nhello from the internet (203.0.113.10)\n"),
        "{out}"
    );
    let (code, out, _) = curl(&["-I", &format!("http://localhost:{}", addr.port())]);
    assert_eq!(code, 0);
    assert!(
        out.starts_with("HTTP/1.1 200 OK\r\n") && out.ends_with("\r\n\r\n"),
        "{out}"
    );
    // 404 is a success without -f, a failure (22) with it.
    let missing = format!("http://{addr}/missing");
    let (code, out, _) = curl(&["-s", &missing]);
    assert_eq!(code, 0);
    assert!(out.contains("<h1>Not Found</h1>"), "{out}");
    let (code, out, err) = curl(&["-fsS", &missing]);
    assert_eq!((code, out.as_str()), (22, ""));
    assert_eq!(err, "curl: (22) The requested URL returned error: 404\n");
}

#[test]
fn curl_decodes_chunked_and_close_delimited_bodies() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    thread::spawn(move || {
        let replies: [&[u8]; 3] = [
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n7;x=y\r\n, world\r\n0\r\n\r\n",
            b"HTTP/1.0 200 OK\r\n\r\nuntil close",
            b"SSH-2.0-OpenSSH_9.6\r\n",
        ];
        for reply in replies {
            let (mut stream, _) = listener.accept().unwrap();
            let mut request = [0; 1024];
            let _ = stream.read(&mut request).unwrap();
            stream.write_all(reply).unwrap();
        }
    });
    let url = format!("http://{addr}/");
    assert_eq!(curl(&[&url]).1, "hello, world");
    assert_eq!(curl(&[&url]).1, "until close");
    assert_eq!(curl(&[&url]).2, "curl: (8) Weird server reply\n");
}

#[test]
fn curl_reports_connect_and_resolve_failures() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let (code, _, err) = curl(&[&format!("http://127.0.0.1:{port}/")]);
    assert_eq!(code, 7);
    assert!(
        err.starts_with(&format!(
            "curl: (7) Failed to connect to 127.0.0.1 port {port} after "
        )),
        "{err}"
    );
    assert!(err.ends_with(" ms: Connection refused\n"), "{err}");
    assert_eq!(
        curl(&["-s", &format!("http://127.0.0.1:{port}/")]),
        (7, String::new(), String::new())
    );
    let (code, _, err) = curl(&["http://no-such-host.invalid/"]);
    assert_eq!(
        (code, err.as_str()),
        (
            6,
            "curl: (6) Could not resolve host: no-such-host.invalid\n"
        )
    );
    // A server that never answers: -m gives up with 28.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let (code, _, err) = curl(&[
        "-m",
        "0.2",
        &format!("http://{}/", silent.local_addr().unwrap()),
    ]);
    assert_eq!(code, 28);
    assert!(
        err.starts_with("curl: (28) Operation timed out after "),
        "{err}"
    );
    assert_eq!(curl(&["--frobnicate", "x"]).0, 2);
    assert_eq!(curl(&["https://example.com/"]).0, 1);
}
