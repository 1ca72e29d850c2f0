#!/usr/bin/env bash
# Interop with software nobody here wrote, against a running Skein instance
# over loopback:
# - fediverse-pasture's verify-actor (PyPI) checks WebFinger, fetching the
#   actor, and POSTs to its inbox by actors with different signing habits;
# - fediverse-pasture-inputs (PyPI) is a battery of real-world shaped Notes:
#   scripts/pasture/inputs.py sends every example to alice's inbox with the
#   pasture's own sender and checks what Skein stored and shows of each.
#
# The tools speak plain http to fixed host names, so this script adds
# `skein.test`, `pasture.test` and `pasture-one-actor` to /etc/hosts (needs
# root) and removes exactly its own lines afterwards. Exit status 0 when
# every check passes.
set -euo pipefail
cd "$(dirname "$0")/.."

PASTURE_VERSION=0.2.25
INPUTS_VERSION=0.3.5
work="$PWD/target/pasture"
venv="$work/venv-$PASTURE_VERSION-$INPUTS_VERSION"
marker="# skein-interop-pasture $$"
mkdir -p "$work"

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
skein_port=$(free_port)
pasture_port=$(free_port)
inputs_port=$(free_port)
data=$(mktemp -d /tmp/skein-pasture-XXXXXX)
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

echo "interop: installing fediverse-pasture $PASTURE_VERSION and fediverse-pasture-inputs $INPUTS_VERSION"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check "fediverse-pasture==$PASTURE_VERSION"
# The inputs from 0.3.1 on declare Python >= 3.13 for `warnings.deprecated`
# alone (inputs.py supplies it on older Pythons): that one package is
# installed past its declaration, without dependencies, so that everything
# else stays at versions made for the Python here.
"$venv/bin/pip" install --quiet --disable-pip-version-check --no-deps --ignore-requires-python \
    "fediverse-pasture-inputs==$INPUTS_VERSION"

cargo build --quiet --bin skein
skein="${CARGO_TARGET_DIR:-$PWD/target}/debug/skein"

echo "127.0.0.1 skein.test pasture.test pasture-one-actor $marker" >> /etc/hosts

export SKEIN_DATA_DIR="$data/data"
export SKEIN_DOMAIN="skein.test:$skein_port"
export SKEIN_SCHEME=http
export SKEIN_LISTEN="127.0.0.1:$skein_port"
export SKEIN_TEST_NETWORK__ENABLED=true
# invalid.example (an inReplyTo of the inputs) goes to loopback too, where
# nothing answers: no lookup leaves the machine.
export SKEIN_TEST_NETWORK__HOSTS='{ "pasture.test" = "127.0.0.1", "pasture-one-actor" = "127.0.0.1", "invalid.example" = "127.0.0.1" }'
export SKEIN_LOG__LEVEL=warn
unset SKEIN_DATABASE_URL

"$skein" user create alice --password "interop check password" >/dev/null
"$skein" serve > "$work/skein.log" 2>&1 &
pids+=($!)

# verify-actor keeps its actors' keys in data.toml in its working directory.
(cd "$work" && exec "$venv/bin/python" "$OLDPWD/scripts/pasture/serve.py" "pasture.test:$pasture_port" 127.0.0.1) \
    > "$work/pasture.log" 2>&1 &
pids+=($!)

wait_for() {
    for _ in $(seq 1 600); do
        if python3 -c "import urllib.request,sys; urllib.request.urlopen(sys.argv[1], timeout=2)" "$1" 2>/dev/null; then
            return 0
        fi
        sleep 0.1
    done
    echo "interop: $1 never answered" >&2
    return 1
}
wait_for "http://127.0.0.1:$skein_port/health"
wait_for "http://127.0.0.1:$pasture_port/"

echo "interop: verify-actor checks acct:alice@skein.test:$skein_port"
if ! "$venv/bin/python" scripts/pasture/check.py "http://pasture.test:$pasture_port/" "acct:alice@skein.test:$skein_port"; then
    echo "--- skein log"; tail -n 50 "$work/skein.log"
    echo "--- pasture log"; tail -n 50 "$work/pasture.log"
    exit 1
fi

echo "interop: fediverse-pasture-inputs $INPUTS_VERSION, every example to alice@skein.test:$skein_port"
# (bovine, under the pasture, keeps a JSON-LD cache in the working directory.)
if ! (cd "$work" && exec "$venv/bin/python" "$OLDPWD/scripts/pasture/inputs.py" "http://skein.test:$skein_port" \
    "http://skein.test:$skein_port/users/alice" "$inputs_port" "$SKEIN_DATA_DIR"); then
    echo "--- skein log"; tail -n 50 "$work/skein.log"
    exit 1
fi
