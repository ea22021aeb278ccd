//! Forwarding what the embedded DNS server cannot answer: to the lab's upstream (the
//! lab host's nameserver, from the host's namespace), with ids remapped so answers find
//! their askers, Docker's 4 s timeout (then SERVFAIL) and its 1024 in-flight limit
//! (then REFUSED).

use super::{Client, FORWARD_TIMEOUT, Forwarded, MAX_FORWARDED, Server, TCP_IDLE};
use crate::dns::answer;
use std::time::Instant;

impl Server {
    /// Send a query upstream; returns the reply to send at once when it cannot go.
    pub(super) fn forward(&mut self, asker: &str, query: &[u8], client: Client) -> Option<Vec<u8>> {
        let Some((sock, to)) = self
            .upstream
            .as_ref()
            .filter(|_| self.index.may_forward(asker))
        else {
            return answer::servfail(query);
        };
        if self.pending.len() >= MAX_FORWARDED || query.len() < 12 {
            return answer::refused(query);
        }
        let mut id = self.next_id;
        while self.pending.contains_key(&id) {
            id = id.wrapping_add(1);
        }
        self.next_id = id.wrapping_add(1);
        let mut out = query.to_vec();
        let orig = u16::from_be_bytes([out[0], out[1]]);
        out[..2].copy_from_slice(&id.to_be_bytes());
        if sock.send_to(&out, to).is_err() {
            return answer::servfail(query);
        }
        self.pending.insert(
            id,
            Forwarded {
                client,
                id: orig,
                query: query.to_vec(),
                at: Instant::now(),
            },
        );
        None
    }

    pub(super) fn on_upstream(&mut self) {
        let mut buf = [0u8; 4096];
        loop {
            let Some((sock, _)) = self.upstream.as_ref() else {
                return;
            };
            let Ok((n, _)) = sock.recv_from(&mut buf) else {
                return;
            };
            if n < 12 {
                continue;
            }
            let id = u16::from_be_bytes([buf[0], buf[1]]);
            let Some(f) = self.pending.remove(&id) else {
                continue;
            };
            let mut reply = buf[..n].to_vec();
            reply[..2].copy_from_slice(&f.id.to_be_bytes());
            self.deliver(f.client, &reply);
        }
    }

    pub(super) fn deliver(&mut self, client: Client, reply: &[u8]) {
        match client {
            Client::Udp { listener, addr } => {
                if let Some(l) = self.listeners.get(listener) {
                    let _ = l.udp.send_to(reply, addr);
                }
            }
            Client::Tcp { conn } => {
                if !self.write_framed(conn, reply) {
                    self.close_conn(conn);
                }
            }
        }
    }

    pub(super) fn sweep(&mut self) {
        let now = Instant::now();
        let expired: Vec<u16> = self
            .pending
            .iter()
            .filter(|(_, f)| now.duration_since(f.at) > FORWARD_TIMEOUT)
            .map(|(id, _)| *id)
            .collect();
        for id in expired {
            if let Some(f) = self.pending.remove(&id)
                && let Some(b) = answer::servfail(&f.query)
            {
                self.deliver(f.client, &b);
            }
        }
        let idle: Vec<usize> = (0..self.conns.0.len())
            .filter(|k| {
                self.conns
                    .get(*k)
                    .is_some_and(|c| now.duration_since(c.last) > TCP_IDLE)
            })
            .collect();
        for k in idle {
            self.close_conn(k);
        }
    }
}
