//! Pure formatting helpers that reproduce the Docker CLI's (docker/cli) and
//! daemon's (moby) user-visible text: `docker ps` / `docker network ls` tables,
//! human durations, random container names, the COMMAND column and port
//! listings.
//!
//! Everything here is side-effect free so it can be unit-tested against
//! strings captured from a real Docker installation.

pub mod command;
pub mod duration;
pub mod flags;
mod name_words;
pub mod names;
pub mod ports;
pub mod sortorder;
pub mod table;
pub mod width;

pub use command::ps_command;
pub use duration::{created_ago, status_created, status_exited, status_up};
pub use names::{random_name, validate_name};
pub use ports::{PortBinding, port_lines, ps_ports};
pub use sortorder::natural_cmp;
pub use table::render_table;
