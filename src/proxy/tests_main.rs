//! Tests of `proxy_main`: flags, the ready-fd protocol, and SIGTERM.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream, UdpSocket};
use std::os::fd::{IntoRawFd, OwnedFd};
use std::sync::mpsc;
use std::thread::{self, JoinHandle};
use std::time::Duration;

use super::proxy_main;
use super::test_util::*;

fn args(s: &str) -> Vec<String> {
    s.split_whitespace().map(String::from).collect()
}

/// A pipe whose write end the proxy will own; returns (read end, "N").
fn ready_pipe() -> (OwnedFd, String) {
    let (r, w) = nix::unistd::pipe().unwrap();
    (r, w.into_raw_fd().to_string())
}

fn read_all(fd: OwnedFd) -> String {
    let mut s = String::new();
    std::fs::File::from(fd).read_to_string(&mut s).unwrap();
    s
}

/// Runs `proxy_main` in a thread; returns its thread id and handle.
fn spawn_main(a: Vec<String>) -> (libc::pid_t, JoinHandle<i32>) {
    let (tx, rx) = mpsc::channel();
    let h = thread::spawn(move || {
        // SAFETY: gettid has no preconditions.
        tx.send(unsafe { libc::gettid() }).unwrap();
        proxy_main(&a)
    });
    (rx.recv().unwrap(), h)
}

/// Sends SIGTERM to one thread only, which has it blocked: a process-wide
/// kill would terminate the test binary through the other threads.
fn sigterm_thread(tid: libc::pid_t) {
    // SAFETY: tgkill only queues a signal; the target thread blocks SIGTERM
    // (it reported ready after blocking it) and reads it from its signalfd.
    let r = unsafe { libc::syscall(libc::SYS_tgkill, libc::getpid(), tid, libc::SIGTERM) };
    assert_eq!(r, 0, "tgkill failed");
}

#[test]
fn bad_flags_exit_2() {
    assert_eq!(proxy_main(&args("-nope 1")), 2);
    assert_eq!(proxy_main(&args("-host-ip 0.0.0.0 -host-port x")), 2);
    let ok = "-host-ip 127.0.0.1 -host-port 0 -container-ip 127.0.0.1 -container-port 1";
    assert_eq!(proxy_main(&args(&format!("{ok} -ready-fd 987654"))), 2);
}

#[test]
fn ready_then_serve_then_sigterm() {
    let _g = serial();
    let backend = tcp_server(echo);
    let port = closed_port().port();
    let (r, w) = ready_pipe();
    let (tid, h) = spawn_main(args(&format!(
        "-proto tcp -host-ip 127.0.0.1 -host-port {port} -container-ip 127.0.0.1 \
         -container-port {} -ready-fd {w}",
        backend.port()
    )));
    assert_eq!(read_all(r), "0\n");
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(b"hi").unwrap();
    let mut b = [0u8; 2];
    s.read_exact(&mut b).unwrap();
    assert_eq!(&b, b"hi");
    sigterm_thread(tid);
    assert_eq!(h.join().unwrap(), 0);
}

#[test]
fn udp_ready_then_sigterm() {
    let _g = serial();
    let (r, w) = ready_pipe();
    let (tid, h) = spawn_main(args(&format!(
        "-proto=udp -host-ip=127.0.0.1 -host-port=0 -container-ip=127.0.0.1 \
         -container-port=9 -ready-fd={w}"
    )));
    assert_eq!(read_all(r), "0\n");
    sigterm_thread(tid);
    assert_eq!(h.join().unwrap(), 0);
}

#[test]
fn bind_conflict_reports_on_ready_fd() {
    let _g = serial();
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let (r, w) = ready_pipe();
    let code = proxy_main(&args(&format!(
        "-host-ip 127.0.0.1 -host-port {port} -container-ip 127.0.0.1 -container-port 80 -ready-fd {w}"
    )));
    assert_eq!(code, 1);
    assert_eq!(
        read_all(r),
        format!("1\nlisten tcp4 127.0.0.1:{port}: bind: address already in use")
    );

    let taken = UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let (r, w) = ready_pipe();
    let code = proxy_main(&args(&format!(
        "-proto udp -host-ip 127.0.0.1 -host-port {port} -container-ip 127.0.0.1 -container-port 80 -ready-fd {w}"
    )));
    assert_eq!(code, 1);
    assert_eq!(
        read_all(r),
        format!("1\nlisten udp4 127.0.0.1:{port}: bind: address already in use")
    );
}
