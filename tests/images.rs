//! The built-in images as real servers reached over TCP from another container, and
//! `exec` into a running container.

mod common;

use common::*;
use std::time::Duration;

/// F09 (images): the built-in httpd serves "It works!" on :80 to another container.
#[test]
fn f09_httpd_serves_another_container() {
    let lab = Lab::new("f09_httpd");
    lab.run_d("web", &["httpd"]);
    lab.run_d("client", &["busybox", "sleep", "600"]);
    let ip = lab.ip_of("web");
    let body = retry("wget the httpd container", Duration::from_secs(5), || {
        let o = lab.dn(&["exec", "client", "wget", "-qO-", &format!("http://{ip}/")]);
        if o.status.success() {
            Ok(stdout(&o))
        } else {
            Err(describe("wget", &o))
        }
    });
    assert!(
        body.contains("It works!"),
        "expected It works!, saw {body:?}"
    );
    let ns = lab.ok(&["exec", "web", "netstat", "-tln"]);
    assert!(
        ns.contains(":80 "),
        "expected httpd listening on :80 in its namespace, saw:\n{ns}"
    );
}

/// F10 (images): the built-in redis answers PING with PONG over TCP 6379.
#[test]
fn f10_redis_answers_pong() {
    let lab = Lab::new("f10_redis");
    lab.run_d("rd", &["redis"]);
    lab.run_d("client", &["busybox", "sleep", "600"]);
    let ip = lab.ip_of("rd");
    let out = retry("redis-cli ping", Duration::from_secs(5), || {
        let o = lab.dn(&["exec", "client", "redis-cli", "-h", &ip, "ping"]);
        if o.status.success() {
            Ok(stdout(&o))
        } else {
            Err(describe("redis-cli", &o))
        }
    });
    assert_eq!(out.trim(), "PONG", "expected PONG from redis at {ip}");
}

/// F11 (exec): `exec` of a command that does not exist exits 127 and leaves the container up.
#[test]
fn f11_exec_missing_command_is_127() {
    let lab = Lab::new("f11_exec");
    lab.run_d("c1", &["busybox", "sleep", "600"]);
    let o = lab.dn(&["exec", "c1", "no-such-command"]);
    assert_eq!(
        o.status.code(),
        Some(127),
        "expected exit 127: {}",
        describe("exec", &o)
    );
    assert!(
        stderr(&o).contains("no-such-command"),
        "expected the missing command named on stderr, saw {:?}",
        stderr(&o)
    );
    assert!(lab.ok(&["ps"]).contains("c1"), "expected c1 still running");
    let o = lab.dn(&["exec", "c1", "sh", "-c", "exit 7"]);
    assert_eq!(
        o.status.code(),
        Some(7),
        "expected exec to pass the exit status through: {}",
        describe("exec", &o)
    );
}
