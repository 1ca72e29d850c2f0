#!/usr/bin/env bash
# End to end with a second Mastodon client library nobody here wrote:
# masto.js (npm `masto`, the version pinned in scripts/e2e/masto/, installed
# with `npm ci`) drives the same two instances as scripts/e2e-client.sh,
# alpha.test and beta.test, started by scripts/e2e/instances.sh (two real
# `skein serve` processes with their embedded PostgreSQL and delivery
# workers). scripts/e2e/masto.mjs does the steps (sign in with the
# authorization-code flow through the OAuth pages and with the password
# grant, post with an image, a poll voted on from the other instance,
# grouped notifications, trends with the admin's review, a followed hashtag,
# full-text search, the WebSocket stream) and says which one failed.
#
# Needs node (20 or later) and npm, and root for /etc/hosts (the lines it
# adds are removed afterwards). SKEIN_BIN names a built binary to use instead
# of `cargo build`'s. Arguments are passed on to masto.mjs (e.g. `--skip
# password_grant,search` while a feature is being built; CI passes none).
# Exit status 0 when every step passes.
set -euo pipefail
cd "$(dirname "$0")/.."

e2e=e2e-masto
work="$PWD/target/e2e-masto"
source scripts/e2e/instances.sh

for tool in node npm; do
    command -v "$tool" >/dev/null 2>&1 || { echo "$e2e: $tool is missing" >&2; exit 1; }
done

echo "$e2e: installing masto.js (npm ci, scripts/e2e/masto/package-lock.json)"
npm ci --prefix scripts/e2e/masto --no-audit --no-fund --loglevel=error >/dev/null
masto_version=$(node -p 'require("./scripts/e2e/masto/node_modules/masto/package.json").version')

e2e_users
e2e_hosts
e2e_serve

echo "$e2e: masto.js $masto_version on node $(node --version) against alpha.test:$alpha_port and beta.test:$beta_port"
if ! node scripts/e2e/masto.mjs \
    --alpha="$alpha_url" --beta="$beta_url" \
    --alice-password="$alice_password" --alice-email="$alice_email" --bob-token="$bob_token" \
    --carol-token="$carol_token" --dave-token="$dave_token" \
    --erin-token="$erin_token" --frank-token="$frank_token" \
    --alpha-db="${alpha_db[*]}" "$@"; then
    e2e_logs
    exit 1
fi
