#!/usr/bin/env bash
# Lighthouse (npm, pinned by scripts/e2e/lighthouse/package-lock.json) on a
# real `skein serve` over https: the front page signed out, a profile, a
# post with an image and a reply, and /home signed in, each on a phone
# (Lighthouse's mobile defaults: simulated slow 4G and a 4x slower CPU) and
# on a desktop (`--preset=desktop`), in Debian's headless Chromium. Every
# category (performance, accessibility, best practices, SEO) must score at
# least 95, or the run fails and says which audits cost the points.
#
# The instance is https://localhost:PORT with the built-in TLS listener and a
# self-signed certificate made for the run (Chromium is told to take it,
# nothing else about the page changes); its account dana opts in to search
# engines (settings, as a user would), posts through the client API and
# signs in through the web form for /home. Reports (JSON and HTML) are kept
# in target/lighthouse/. e2e-browser.sh runs this after its own steps;
# SKEIN_BIN names the skein binary to test, as there.
set -euo pipefail
cd "$(dirname "$0")/.."

work="$PWD/target/e2e-lighthouse"
reports="$PWD/target/lighthouse"
mkdir -p "$work" "$reports"
: > "$work/setup.log"

for tool in chromium npm node openssl curl; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "e2e-lighthouse: $tool is missing; install it with" >&2
        echo "  apt-get install -y --no-install-recommends chromium npm openssl curl" >&2
        exit 1
    fi
done

echo "e2e-lighthouse: installing Lighthouse (npm ci)"
lighthouse="$work/lighthouse"
mkdir -p "$lighthouse"
cp scripts/e2e/lighthouse/package.json scripts/e2e/lighthouse/package-lock.json "$lighthouse/"
(cd "$lighthouse" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >>"$work/setup.log" 2>&1)

if [ -n "${SKEIN_BIN:-}" ]; then
    skein="$SKEIN_BIN"
else
    cargo build --quiet --bin skein
    skein="${CARGO_TARGET_DIR:-$PWD/target}/debug/skein"
fi

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
port=$(free_port)
plain_port=$(free_port)
while [ "$plain_port" = "$port" ]; do plain_port=$(free_port); done
data=$(mktemp -d /tmp/skein-e2e-lighthouse-XXXXXX)
chmod 755 "$data"
pid=

cleanup() {
    if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
    rm -rf "$data"
}
trap cleanup EXIT

openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=localhost" \
    -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
    -keyout "$data/key.pem" -out "$data/cert.pem" >>"$work/setup.log" 2>&1

base="https://localhost:$port"
instance=(SKEIN_DATA_DIR="$data/db" SKEIN_DOMAIN="localhost:$port" SKEIN_SCHEME=https
          SKEIN_LISTEN="127.0.0.1:$plain_port" SKEIN_TLS__LISTEN="127.0.0.1:$port"
          SKEIN_TLS__CERT_FILE="$data/cert.pem" SKEIN_TLS__KEY_FILE="$data/key.pem"
          SKEIN_LOG__LEVEL=warn SKEIN_LOG__FORMAT=json)
unset SKEIN_DATABASE_URL SKEIN_REGISTRATIONS SKEIN_TEST_NETWORK__ENABLED SKEIN_TEST_NETWORK__HOSTS

password="e2e lighthouse password for dana"
env "${instance[@]}" "$skein" user create dana --password "$password" >/dev/null 2>>"$work/setup.log"
token=$(env "${instance[@]}" "$skein" token create dana 2>>"$work/setup.log")

env "${instance[@]}" "$skein" serve > "$work/server.log" 2>&1 &
pid=$!
for _ in $(seq 1 600); do
    curl -skf "$base/health" >/dev/null 2>&1 && break
    sleep 0.1
done
curl -skf "$base/health" >/dev/null || { echo "e2e-lighthouse: $base never answered" >&2; tail -n 40 "$work/server.log"; exit 1; }

if ! python3 scripts/e2e/lighthouse.py --base "$base" --token="$token" --password="$password" \
    --lighthouse "$lighthouse/node_modules/lighthouse/cli/index.js" --reports "$reports" --work "$work"; then
    echo "--- server log (last 40 lines)"; tail -n 40 "$work/server.log"
    exit 1
fi
