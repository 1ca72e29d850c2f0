"""Expands every JSON-LD document in a directory with PyLD (a real JSON-LD
processor) and fails on a term that the document's own `@context` does not
define: such a term is dropped by every JSON-LD processor, so the software
that reads ActivityPub as JSON-LD never sees it.

The remote contexts come from `contexts/` beside this file (see
`CACHED`); nothing is fetched. A document naming a context that is not
cached fails.

How an undefined term is found: the document's context gets one more entry
at its end, `{"@vocab": SENTINEL}`. A term the context defines keeps its IRI;
a term it does not define (a property name, or a `type` value) now expands
to `SENTINEL + term` instead of being dropped (or, under the ActivityStreams
context's own `"@vocab": "_:"`, made a blank-node property), and is reported
with where it occurs.

usage: check.py DIRECTORY
Exit status 0 when every document in DIRECTORY (*.json) defines all its terms.
"""

import json
import sys
from pathlib import Path

from pyld import jsonld

SENTINEL = "urn:skein-jsonld-check:undefined#"
CONTEXTS = Path(__file__).resolve().parent / "contexts"
# Context URL -> cached file in contexts/.
CACHED = {
    "https://www.w3.org/ns/activitystreams": "activitystreams.jsonld",
    "http://www.w3.org/ns/activitystreams": "activitystreams.jsonld",
    "https://w3id.org/security/v1": "security-v1.jsonld",
}


def load_document(url, options=None):
    name = CACHED.get(url.rstrip("#"))
    if name is None:
        raise jsonld.JsonLdError(
            f"context {url} is not cached in {CONTEXTS} (no network here)",
            "jsonld.LoadDocumentError",
            code="loading document failed",
        )
    return {
        "contentType": "application/ld+json",
        "contextUrl": None,
        "documentUrl": url,
        "document": json.loads((CONTEXTS / name).read_text()),
    }


def undefined_terms(document: dict) -> list[str]:
    """Where the terms `document`'s context leaves undefined occur."""
    context = document.get("@context")
    if context is None:
        return ["(no @context at all)"]
    contexts = context if isinstance(context, list) else [context]
    probe = dict(document)
    probe["@context"] = contexts + [{"@vocab": SENTINEL}]
    expanded = jsonld.expand(probe, {"documentLoader": load_document})
    if not expanded:
        return ["(expands to nothing)"]
    found: list[str] = []

    def walk(value, path: str):
        if isinstance(value, list):
            for item in value:
                walk(item, path)
        elif isinstance(value, dict):
            for key, item in value.items():
                if key.startswith(SENTINEL):
                    found.append(f"{path}/{key[len(SENTINEL):]}")
                    continue
                if key == "@type":
                    for kind in item if isinstance(item, list) else [item]:
                        if isinstance(kind, str) and kind.startswith(SENTINEL):
                            found.append(f"{path}/type={kind[len(SENTINEL):]}")
                    continue
                if key == "@value":
                    continue
                short = key.rsplit("#", 1)[-1].rsplit("/", 1)[-1]
                walk(item, f"{path}/{short}" if not key.startswith("@") else path)

    walk(expanded, "")
    return sorted(set(found))


def main() -> int:
    directory = Path(sys.argv[1])
    files = sorted(directory.glob("*.json"))
    if not files:
        print(f"jsonld: no documents in {directory}", file=sys.stderr)
        return 1
    passed = failed = 0
    for path in files:
        document = json.loads(path.read_text())
        try:
            problems = undefined_terms(document)
        except jsonld.JsonLdError as e:
            problems = [f"(does not expand: {e})"]
        if problems:
            failed += 1
            print(f"FAIL {path.name}: undefined {', '.join(problems)}")
        else:
            passed += 1
            print(f"ok   {path.name}")
    print(f"\njsonld: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
