#!/usr/bin/env bash
# End to end with a Mastodon client library nobody here wrote: Mastodon.py
# (PyPI) drives two real `skein serve` processes, alpha.test and beta.test,
# each with its embedded PostgreSQL and its delivery workers, federating over
# loopback (started by scripts/e2e/instances.sh, which scripts/e2e-masto.sh
# shares). scripts/e2e/client.py does the steps (sign in through the OAuth
# page as a browser would, post with an image, follow across instances,
# timelines, streaming, reply, favourite, reblog, notifications and grouped
# notifications, edit, delete, followed hashtags, trends with the admin's
# review, scheduled posts, full-text search) and says which one failed.
#
# The client speaks plain http to fixed host names, so this script adds
# `alpha.test` and `beta.test` to /etc/hosts (needs root) and removes exactly
# its own lines afterwards. SKEIN_BIN names a built binary to use instead of
# `cargo build`'s. Arguments are passed on to client.py (e.g.
# `--skip media,streaming` while a feature is being built; CI passes none).
# Exit status 0 when every step passes.
set -euo pipefail
cd "$(dirname "$0")/.."

MASTODON_PY_VERSION=2.3.3
e2e=e2e-client
work="$PWD/target/e2e-client"
venv="$work/venv"
source scripts/e2e/instances.sh

echo "e2e: installing Mastodon.py $MASTODON_PY_VERSION (with WebSocket streaming)"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check \
    "Mastodon.py[websocket-streaming]==$MASTODON_PY_VERSION"

e2e_users
e2e_hosts
e2e_serve

echo "e2e: Mastodon.py $MASTODON_PY_VERSION against alpha.test:$alpha_port and beta.test:$beta_port"
if ! "$venv/bin/python" scripts/e2e/client.py \
    --alpha="$alpha_url" --beta="$beta_url" \
    --alice-password="$alice_password" --bob-token="$bob_token" \
    --carol-token="$carol_token" --dave-token="$dave_token" \
    --erin-token="$erin_token" --frank-token="$frank_token" \
    --alpha-db="${alpha_db[*]}" "$@"; then
    e2e_logs
    exit 1
fi
