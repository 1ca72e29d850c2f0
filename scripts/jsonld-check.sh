#!/usr/bin/env bash
# Every term Skein sends is defined by its @context: the integration test
# `jsonld_shapes` (tests/it/jsonld_shapes.rs) runs two real instances through
# follows, posts, polls, quotes, approved replies, likes, boosts, undos and a
# deletion, and writes every document they serve and every activity they send
# into a directory; scripts/jsonld/check.py expands each with PyLD (PyPI),
# the remote contexts read from scripts/jsonld/contexts/ (no network), and
# fails on a term the document's context leaves undefined.
# Needs the PostgreSQL the test suite uses. Exit status 0 when all is defined.
set -euo pipefail
cd "$(dirname "$0")/.."

PYLD_VERSION=2.0.4
work="$PWD/target/jsonld"
venv="$work/venv"
shapes="$work/shapes"
mkdir -p "$work"

echo "jsonld: installing PyLD $PYLD_VERSION"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check "PyLD==$PYLD_VERSION"

echo "jsonld: writing the shapes Skein serves and sends to $shapes"
SKEIN_JSONLD_SHAPES="$shapes" cargo test --quiet --locked --test it -- \
    --exact jsonld_shapes::every_served_and_sent_shape_is_written_for_the_jsonld_check

echo "jsonld: expanding each with PyLD"
"$venv/bin/python" scripts/jsonld/check.py "$shapes"
