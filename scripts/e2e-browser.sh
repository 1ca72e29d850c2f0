#!/usr/bin/env bash
# End to end in a real browser: headless Chromium (Debian's `chromium` and
# `chromium-driver` packages), driven over WebDriver by Selenium (PyPI),
# uses the web interface of two real `skein serve` processes, alpha.test and
# beta.test, each with its embedded PostgreSQL and its delivery workers,
# federating over loopback. scripts/e2e/browser.py does the steps (sign up,
# post, reply, like, search and follow bob on beta, see his new post arrive
# on /home, notifications, settings, a session with JavaScript off, and every
# settings and admin page on a phone-sized screen) and says which one failed. Full-page PNG screenshots of the main pages are
# written to target/screenshots/ (CI keeps them as artifacts).
#
# Chromium reaches the two host names through --host-resolver-rules, the
# instances reach each other through Skein's test network map, and the
# script talks to them on 127.0.0.1: /etc/hosts is left alone. Arguments are
# passed on to browser.py (e.g. `--skip notifications,settings` while a page
# is being built; CI passes none). Exit status 0 when every step passes.
#
# Then scripts/e2e-lighthouse.sh runs Lighthouse over https on the front
# page, a profile, a post and /home, as a phone and as a desktop, with the
# same binary (every category must score 95 or more); `--skip lighthouse`
# leaves it out.
#
# axe-core (the accessibility checker run on every main page) comes from
# npm, pinned by scripts/e2e/axe/package-lock.json and installed with
# `npm ci` under target/e2e-browser/axe. SKEIN_BIN names a skein binary to
# test instead of building one (e.g. one built with another
# CARGO_TARGET_DIR); otherwise the debug build under CARGO_TARGET_DIR (or
# target/) is built and used.
set -euo pipefail
cd "$(dirname "$0")/.."

# The newest Selenium whose dependencies the package index here resolves.
SELENIUM_VERSION=4.51.0
work="$PWD/target/e2e-browser"
venv="$work/venv"
shots="$PWD/target/screenshots"
mkdir -p "$work"
: > "$work/setup.log"

for tool in chromium chromedriver npm; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "e2e-browser: $tool is missing; install it with" >&2
        echo "  apt-get install -y --no-install-recommends chromium chromium-driver npm" >&2
        exit 1
    fi
done

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
alpha_port=$(free_port)
beta_port=$(free_port)
while [ "$beta_port" = "$alpha_port" ]; do beta_port=$(free_port); done
data=$(mktemp -d /tmp/skein-e2e-browser-XXXXXX)
chmod 755 "$data"
pids=()

cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$data"
}
trap cleanup EXIT

echo "e2e-browser: installing Selenium $SELENIUM_VERSION"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check "selenium==$SELENIUM_VERSION"

echo "e2e-browser: installing axe-core (npm ci)"
axe="$work/axe"
mkdir -p "$axe"
cp scripts/e2e/axe/package.json scripts/e2e/axe/package-lock.json "$axe/"
(cd "$axe" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >>"$work/setup.log" 2>&1)

if [ -n "${SKEIN_BIN:-}" ]; then
    skein="$SKEIN_BIN"
else
    cargo build --quiet --bin skein
    skein="${CARGO_TARGET_DIR:-$PWD/target}/debug/skein"
fi

# Selenium is given both binaries: its driver manager must fetch nothing.
export SE_OFFLINE=true
export SKEIN_SCHEME=http
export SKEIN_TEST_NETWORK__ENABLED=true
export SKEIN_TEST_NETWORK__HOSTS='{ "alpha.test" = "127.0.0.1", "beta.test" = "127.0.0.1" }'
export SKEIN_LOG__LEVEL=warn
export SKEIN_LOG__FORMAT=json
unset SKEIN_DATABASE_URL SKEIN_DATA_DIR SKEIN_DOMAIN SKEIN_LISTEN SKEIN_REGISTRATIONS

# Each instance's own settings; `env` runs skein in its place, so $! is
# skein's own pid. Alpha takes sign-ups from anyone, and has a long name
# (the header must still keep to one row).
alpha=(SKEIN_DATA_DIR="$data/alpha" SKEIN_DOMAIN="alpha.test:$alpha_port" SKEIN_LISTEN="127.0.0.1:$alpha_port"
       SKEIN_REGISTRATIONS=open
       SKEIN_INSTANCE__NAME="The Alpha Test Knitting and Crochet Circle of the Whole Wide Fediverse")
beta=(SKEIN_DATA_DIR="$data/beta" SKEIN_DOMAIN="beta.test:$beta_port" SKEIN_LISTEN="127.0.0.1:$beta_port")

# carol exists on alpha for the sessions that sign in (rather than up): with
# JavaScript off, and as alpha's admin on a phone-sized screen; bob exists on
# beta and posts through the API.
carol_password="e2e browser password for carol"
# (Their migrations' log lines go to setup.log, not to the CI output.)
env "${alpha[@]}" "$skein" user create carol --password "$carol_password" >/dev/null 2>>"$work/setup.log"
env "${alpha[@]}" "$skein" user set-role carol admin >/dev/null 2>>"$work/setup.log"
env "${beta[@]}" "$skein" user create bob --password "e2e browser password for bob" >/dev/null 2>>"$work/setup.log"
bob_token=$(env "${beta[@]}" "$skein" token create bob 2>>"$work/setup.log")
carol_token=$(env "${alpha[@]}" "$skein" token create carol 2>>"$work/setup.log")

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
    echo "e2e-browser: $1 never answered" >&2
    return 1
}
wait_for "http://127.0.0.1:$alpha_port/health"
wait_for "http://127.0.0.1:$beta_port/health"

echo "e2e-browser: $(chromium --version 2>/dev/null) against alpha.test:$alpha_port and beta.test:$beta_port"
if ! "$venv/bin/python" scripts/e2e/browser.py \
    --alpha "http://alpha.test:$alpha_port" --beta "http://beta.test:$beta_port" \
    --carol-password "$carol_password" --bob-token="$bob_token" --carol-token="$carol_token" \
    --screenshots "$shots" --work "$work" --axe "$axe/node_modules/axe-core/axe.min.js" "$@"; then
    echo "--- alpha log (last 40 lines)"; tail -n 40 "$work/alpha.log"
    echo "--- beta log (last 40 lines)"; tail -n 40 "$work/beta.log"
    exit 1
fi

# Lighthouse is not a browser.py step: take it out of the arguments passed
# on, and run it unless it was skipped.
lighthouse=1
for arg in "$@"; do
    case "$arg" in *lighthouse*) lighthouse= ;; esac
done
if [ -n "$lighthouse" ]; then
    SKEIN_BIN="$skein" bash scripts/e2e-lighthouse.sh
fi
