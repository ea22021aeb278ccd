//! Renderers that print kernel networking state byte for byte the way the
//! familiar tools do: `ip link`, `ip addr`, `ip route` (iproute2 6.x),
//! `brctl show` (bridge-utils 1.7) and `iptables -v -n -L` (iptables 1.8.9,
//! nf_tables). They are pure functions of the data in [`model`] (or of
//! `iptables-save -c` text), so they can be tested against captured output.
//!
//! The golden files under `testdata/` come from the real tools; `testdata/regen.sh`
//! rebuilds them inside throwaway network namespaces.

pub mod brctl;
pub mod docker_inspect;
pub mod ip_addr;
pub mod ip_link;
pub mod ip_route;
pub mod iptables;
pub mod model;

pub use brctl::render_bridges;
pub use ip_addr::render_addrs;
pub use ip_link::render_links_annotated;
pub use ip_route::render_routes;
pub use iptables::{parse_iptables_save, render_all_vnl};
