//! dockernet as a library: the modules behind the `dockernet` binary, public so that
//! integration tests and benchmarks can use them. ARCHITECTURE.md has the map.

pub mod cli;
pub mod container;
pub mod docker;
pub mod driver;
pub mod error;
pub mod firewall;
pub mod image;
pub mod ipam;
pub mod lab;
pub mod lesson;
pub mod link;
pub mod netns;
pub mod network;
pub mod ports;
pub mod proxy;
pub mod recover;
pub mod step;
pub mod ui;
pub mod util;
pub mod view;
