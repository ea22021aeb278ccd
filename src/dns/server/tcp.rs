//! DNS over TCP inside the containers: length-prefixed messages, several per connection,
//! read and answered on the server's one epoll thread.

use super::{Client, Conn, K_TCP_CONN, Server, token};
use crate::dns::answer::{self, Outcome, Transport};
use nix::sys::epoll::{EpollEvent, EpollFlags};
use std::io::{Read, Write};
use std::time::Instant;

impl Server {
    pub(super) fn on_accept(&mut self, key: usize) {
        loop {
            let Some(l) = self.listeners.get(key) else {
                return;
            };
            let Ok((stream, _)) = l.tcp.accept() else {
                return;
            };
            let container = l.container.clone();
            if stream.set_nonblocking(true).is_err() {
                continue;
            }
            let k = self.conns.insert(Conn {
                container,
                stream,
                buf: Vec::new(),
                last: Instant::now(),
            });
            let c = self.conns.get(k).expect("just inserted");
            if self
                .epoll
                .add(
                    &c.stream,
                    EpollEvent::new(EpollFlags::EPOLLIN, token(K_TCP_CONN, k)),
                )
                .is_err()
            {
                self.conns.remove(k);
            }
        }
    }

    pub(super) fn on_conn(&mut self, key: usize) {
        let mut chunk = [0u8; 4096];
        let mut closed = false;
        if let Some(c) = self.conns.get_mut(key) {
            loop {
                match c.stream.read(&mut chunk) {
                    Ok(0) => {
                        closed = true;
                        break;
                    }
                    Ok(n) => {
                        c.buf.extend_from_slice(&chunk[..n]);
                        c.last = Instant::now();
                        if c.buf.len() > 1 << 17 {
                            closed = true;
                            break;
                        }
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                    Err(_) => {
                        closed = true;
                        break;
                    }
                }
            }
        }
        // Every complete length-prefixed message in the buffer.
        while let Some((asker, msg)) = self.next_message(key) {
            match answer::answer(&self.index, &asker, &msg, Transport::Tcp) {
                Outcome::Reply(b) => {
                    if !self.write_framed(key, &b) {
                        closed = true;
                    }
                }
                Outcome::Drop => closed = true,
                Outcome::Forward => {
                    if let Some(b) = self.forward(&asker, &msg, Client::Tcp { conn: key })
                        && !self.write_framed(key, &b)
                    {
                        closed = true;
                    }
                }
            }
        }
        // A client that closed its side gets no late forwarded answer: level-triggered
        // EOF would otherwise wake the loop until the upstream replies.
        if closed {
            self.close_conn(key);
        }
    }

    pub(super) fn next_message(&mut self, key: usize) -> Option<(String, Vec<u8>)> {
        let c = self.conns.get_mut(key)?;
        if c.buf.len() < 2 {
            return None;
        }
        let len = usize::from(u16::from_be_bytes([c.buf[0], c.buf[1]]));
        if c.buf.len() < 2 + len {
            return None;
        }
        let msg: Vec<u8> = c.buf.drain(..2 + len).skip(2).collect();
        Some((c.container.clone(), msg))
    }

    /// Write one length-prefixed message; false if the connection is unusable.
    pub(super) fn write_framed(&mut self, key: usize, msg: &[u8]) -> bool {
        let Some(c) = self.conns.get_mut(key) else {
            return false;
        };
        let Ok(len) = u16::try_from(msg.len()) else {
            return false;
        };
        let mut out = Vec::with_capacity(msg.len() + 2);
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(msg);
        // Replies are small; a client that does not read them is dropped.
        c.stream.write_all(&out).is_ok()
    }

    pub(super) fn close_conn(&mut self, key: usize) {
        if let Some(c) = self.conns.remove(key) {
            let _ = self.epoll.delete(&c.stream);
        }
        self.pending
            .retain(|_, f| !matches!(f.client, Client::Tcp { conn } if conn == key));
    }
}
