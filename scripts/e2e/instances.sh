# Sourced by the end-to-end scripts that drive Skein with a client library
# (scripts/e2e-client.sh: Mastodon.py; scripts/e2e-masto.sh: masto.js):
# two real `skein serve` processes, alpha.test and beta.test, each with its
# embedded PostgreSQL and its delivery workers, federating over loopback.
#
# The clients speak plain http to fixed host names, so `e2e_hosts` adds
# `alpha.test` and `beta.test` to /etc/hosts (needs root); the exit trap
# removes exactly those lines, stops both instances and removes their data.
#
# The caller sets, before sourcing: `e2e` (its name, for messages) and
# `work` (its directory under target/). It then gets:
#   skein            the binary: $SKEIN_BIN when set, else `cargo build` in
#                    ${CARGO_TARGET_DIR:-target} (a no-op once CI built it)
#   alpha, beta      each instance's settings, for `env "${alpha[@]}" ...`
#   alpha_url, beta_url
#   alpha_db         `psql` arguments that reach alpha's embedded database
#                    (its Unix socket), for what a test cannot wait for
# and the functions e2e_users (the accounts both runs use, below),
# e2e_skein (a `skein` command on one instance, its log
# lines kept in setup.log), e2e_serve (start both and wait for /health) and
# e2e_logs (the end of both logs, after a failure).

mkdir -p "$work"
: > "$work/setup.log"

e2e_free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
alpha_port=$(e2e_free_port)
beta_port=$(e2e_free_port)
while [ "$beta_port" = "$alpha_port" ]; do beta_port=$(e2e_free_port); done
e2e_data=$(mktemp -d /tmp/skein-e2e-XXXXXX)
chmod 755 "$e2e_data"
e2e_marker="# skein-$e2e $$"
e2e_pids=()

e2e_cleanup() {
    for pid in "${e2e_pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${e2e_pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    if grep -q "$e2e_marker" /etc/hosts; then
        # /etc/hosts may be a bind mount: rewrite it in place.
        grep -v "$e2e_marker" /etc/hosts > "$work/hosts.tmp" || true
        cat "$work/hosts.tmp" > /etc/hosts
    fi
    rm -rf "$e2e_data"
}
trap e2e_cleanup EXIT

if [ -n "${SKEIN_BIN:-}" ]; then
    skein="$SKEIN_BIN"
else
    cargo build --quiet --bin skein
    skein="${CARGO_TARGET_DIR:-$PWD/target}/debug/skein"
fi
[ -x "$skein" ] || { echo "$e2e: no skein binary at $skein" >&2; exit 1; }
# psql (the postgresql-client package, which the server package brings)
# reaches alpha's database for what a run cannot wait for.
command -v psql >/dev/null 2>&1 || { echo "$e2e: psql is missing" >&2; exit 1; }

export SKEIN_SCHEME=http
export SKEIN_TEST_NETWORK__ENABLED=true
export SKEIN_TEST_NETWORK__HOSTS='{ "alpha.test" = "127.0.0.1", "beta.test" = "127.0.0.1" }'
export SKEIN_LOG__LEVEL=warn
export SKEIN_LOG__FORMAT=json
unset SKEIN_DATABASE_URL SKEIN_DATA_DIR SKEIN_DOMAIN SKEIN_LISTEN SKEIN_REGISTRATIONS

# Each instance's own settings; `env` runs skein in its place, so $! is
# skein's own pid.
alpha=(SKEIN_DATA_DIR="$e2e_data/alpha" SKEIN_DOMAIN="alpha.test:$alpha_port" SKEIN_LISTEN="127.0.0.1:$alpha_port")
beta=(SKEIN_DATA_DIR="$e2e_data/beta" SKEIN_DOMAIN="beta.test:$beta_port" SKEIN_LISTEN="127.0.0.1:$beta_port")
alpha_url="http://alpha.test:$alpha_port"
beta_url="http://beta.test:$beta_port"
# The embedded cluster listens on data_dir/postgres/run (src/db/embedded.rs)
# and trusts local connections as the role `skein`.
alpha_db=(-h "$e2e_data/alpha/postgres/run" -U skein -d skein)

# `e2e_skein alpha user create carol --admin`: prints what the command
# prints; its log lines (migrations, the embedded PostgreSQL) go to setup.log.
e2e_skein() {
    local instance=$1
    shift
    local -n settings=$instance
    if ! env "${settings[@]}" "$skein" "$@" 2>>"$work/setup.log"; then
        echo "$e2e: \`skein $*\` on $instance failed; the end of $work/setup.log:" >&2
        tail -n 20 "$work/setup.log" >&2
        return 1
    fi
}

# The accounts, made before the instances start: on alpha, alice (signs in
# with her password, through the OAuth page or the password grant, which
# takes her e-mail address as Mastodon's does), carol (alpha's admin: the
# admin API's reviews of trends), dave, erin and frank (they make a hashtag
# and a post trend, which takes five accounts; dave follows a hashtag); on
# beta, bob. Everyone but alice gets a token from `skein token create`.
e2e_users() {
    alice_password="e2e check password for alice"
    alice_email="alice@alpha.example"
    e2e_skein alpha user create alice --email "$alice_email" --password "$alice_password" >/dev/null
    e2e_skein alpha user create carol --admin --password "e2e check password for carol" >/dev/null
    for name in dave erin frank; do
        e2e_skein alpha user create "$name" --password "e2e check password for $name" >/dev/null
    done
    carol_token=$(e2e_skein alpha token create carol)
    dave_token=$(e2e_skein alpha token create dave)
    erin_token=$(e2e_skein alpha token create erin)
    frank_token=$(e2e_skein alpha token create frank)
    e2e_skein beta user create bob --password "e2e check password for bob" >/dev/null
    bob_token=$(e2e_skein beta token create bob)
}

e2e_hosts() {
    echo "127.0.0.1 alpha.test beta.test $e2e_marker" >> /etc/hosts
}

e2e_wait_for() {
    for _ in $(seq 1 600); do
        if python3 -c "import urllib.request,sys; urllib.request.urlopen(sys.argv[1], timeout=2)" "$1" 2>/dev/null; then
            return 0
        fi
        sleep 0.1
    done
    echo "$e2e: $1 never answered" >&2
    return 1
}

e2e_serve() {
    env "${alpha[@]}" "$skein" serve > "$work/alpha.log" 2>&1 &
    e2e_pids+=($!)
    env "${beta[@]}" "$skein" serve > "$work/beta.log" 2>&1 &
    e2e_pids+=($!)
    e2e_wait_for "http://127.0.0.1:$alpha_port/health"
    e2e_wait_for "http://127.0.0.1:$beta_port/health"
}

e2e_logs() {
    echo "--- alpha log (last 40 lines)"; tail -n 40 "$work/alpha.log"
    echo "--- beta log (last 40 lines)"; tail -n 40 "$work/beta.log"
}
