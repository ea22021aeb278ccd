//! dockernet as a library: the modules behind the `dockernet` binary. Only what the
//! binary and the integration tests use is public (the CLI, the lessons, the entry
//! points of the multi-call binary), so the compiler reports code nobody calls.
//! ARCHITECTURE.md has the map.

mod challenge;
pub mod cli;
mod compare;
mod container;
mod dns;
mod docker;
mod doctor;
mod driver;
mod error;
mod firewall;
mod image;
mod ipam;
mod lab;
pub mod lesson;
mod link;
mod netns;
mod network;
mod overlay;
mod ports;
mod proxy;
mod recover;
mod step;
mod template;
mod topology;
mod trace;
mod ui;
mod util;
mod view;

/// The entry points `main` dispatches to before the CLI parses anything (the binary is
/// multi-call: `docker-init`, `docker-proxy`, `dockernet-dns`, `__enter`, the images'
/// programs).
pub mod entry {
    pub use crate::container::enter_main;
    pub use crate::container::init::shim_main;
    pub use crate::dns::server::main as resolver_main;
    pub use crate::image::run_applet;
    pub use crate::lab::hostinit::{ARG as HOST_INIT_ARG, main as host_init_main};
    pub use crate::proxy::proxy_main;
    pub use crate::util::STARTED;
}
