#!/usr/bin/env bash
# End to end with a Mastodon client library nobody here wrote: Mastodon.py
# (PyPI) drives two real `skein serve` processes, alpha.test and beta.test,
# each with its embedded PostgreSQL and its delivery workers, federating over
# loopback. scripts/e2e/client.py does the steps (sign in through the OAuth
# page as a browser would, post with an image, follow across instances,
# timelines, streaming, reply, favourite, reblog, notifications, edit,
# delete) and says which one failed.
#
# The client speaks plain http to fixed host names, so this script adds
# `alpha.test` and `beta.test` to /etc/hosts (needs root) and removes exactly
# its own lines afterwards. Arguments are passed on to client.py (e.g.
# `--skip media,streaming` while a feature is being built; CI passes none).
# Exit status 0 when every step passes.
set -euo pipefail
cd "$(dirname "$0")/.."

MASTODON_PY_VERSION=2.3.3
work="$PWD/target/e2e-client"
venv="$work/venv"
marker="# skein-e2e-client $$"
mkdir -p "$work"

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
alpha_port=$(free_port)
beta_port=$(free_port)
while [ "$beta_port" = "$alpha_port" ]; do beta_port=$(free_port); done
data=$(mktemp -d /tmp/skein-e2e-XXXXXX)
chmod 755 "$data"
pids=()

cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    if grep -q "$marker" /etc/hosts; then
        # /etc/hosts may be a bind mount: rewrite it in place.
        grep -v "$marker" /etc/hosts > "$work/hosts.tmp" || true
        cat "$work/hosts.tmp" > /etc/hosts
    fi
    rm -rf "$data"
}
trap cleanup EXIT

echo "e2e: installing Mastodon.py $MASTODON_PY_VERSION (with WebSocket streaming)"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check \
    "Mastodon.py[websocket-streaming]==$MASTODON_PY_VERSION"

cargo build --quiet --bin skein
skein="${CARGO_TARGET_DIR:-$PWD/target}/debug/skein"

echo "127.0.0.1 alpha.test beta.test $marker" >> /etc/hosts

export SKEIN_SCHEME=http
export SKEIN_TEST_NETWORK__ENABLED=true
export SKEIN_TEST_NETWORK__HOSTS='{ "alpha.test" = "127.0.0.1", "beta.test" = "127.0.0.1" }'
export SKEIN_LOG__LEVEL=warn
export SKEIN_LOG__FORMAT=json
unset SKEIN_DATABASE_URL SKEIN_DATA_DIR SKEIN_DOMAIN SKEIN_LISTEN

# Each instance's own settings; `env` runs skein in its place, so $! is
# skein's own pid.
alpha=(SKEIN_DATA_DIR="$data/alpha" SKEIN_DOMAIN="alpha.test:$alpha_port" SKEIN_LISTEN="127.0.0.1:$alpha_port")
beta=(SKEIN_DATA_DIR="$data/beta" SKEIN_DOMAIN="beta.test:$beta_port" SKEIN_LISTEN="127.0.0.1:$beta_port")

alice_password="e2e check password for alice"
env "${alpha[@]}" "$skein" user create alice --password "$alice_password" >/dev/null
env "${beta[@]}" "$skein" user create bob --password "e2e check password for bob" >/dev/null
# Bob signs in the way a script does; alice goes through the OAuth page.
bob_token=$(env "${beta[@]}" "$skein" token create bob)

env "${alpha[@]}" "$skein" serve > "$work/alpha.log" 2>&1 &
pids+=($!)
env "${beta[@]}" "$skein" serve > "$work/beta.log" 2>&1 &
pids+=($!)

wait_for() {
    for _ in $(seq 1 600); do
        if python3 -c "import urllib.request,sys; urllib.request.urlopen(sys.argv[1], timeout=2)" "$1" 2>/dev/null; then
            return 0
        fi
        sleep 0.1
    done
    echo "e2e: $1 never answered" >&2
    return 1
}
wait_for "http://alpha.test:$alpha_port/health"
wait_for "http://beta.test:$beta_port/health"

echo "e2e: Mastodon.py $MASTODON_PY_VERSION against alpha.test:$alpha_port and beta.test:$beta_port"
if ! "$venv/bin/python" scripts/e2e/client.py \
    --alpha "http://alpha.test:$alpha_port" --beta "http://beta.test:$beta_port" \
    --alice-password "$alice_password" --bob-token "$bob_token" "$@"; then
    echo "--- alpha log (last 40 lines)"; tail -n 40 "$work/alpha.log"
    echo "--- beta log (last 40 lines)"; tail -n 40 "$work/beta.log"
    exit 1
fi
