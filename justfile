# Recipes for people who have `just`; each one is also a `./dev` command, which needs
# nothing but bash and cargo. Everything needs root (network namespaces).

# List the recipes.
default:
    @just --list

# Install the Debian packages dockernet and its tests use.
setup:
    sudo ./dev setup

# Run a lesson: `just lesson bridge`, `just lesson bridge --lang zh`, `just lesson list`.
lesson *ARGS:
    sudo ./dev lesson {{ARGS}}

# A walk through docker0, veth pairs and two containers, narrated.
demo:
    sudo ./dev demo

# The whole test suite, with a check that the root namespace is left untouched.
test:
    sudo ./dev test

# Benchmarks beside the shell-script baseline (not a test). `just bench --quick` for a short run.
bench *ARGS:
    sudo ./dev bench {{ARGS}}

# Formatting and lints, as CI expects them.
lint:
    cargo fmt --check
    cargo clippy --all-targets -- -D warnings
