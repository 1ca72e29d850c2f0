"""Asks a running verify-actor application to check one actor, and judges
the answer.

What Skein must do: fetch-able actors for everyone (get_actor true for all
six test actors), accept every signed POST (bob, claire, emily, frank; claire
and frank only serve their keys to signed GETs, dean, emily and frank have
no WebFinger), refuse the unsigned ones (alice, dean), and pass the
WebFinger round trip.

usage: check.py PASTURE_URL ACTOR   e.g. check.py http://pasture.test:2909/ acct:alice@skein.test:8080
Exit status 0 when every expectation holds.
"""

import json
import sys
import urllib.parse
import urllib.request

EXPECTED = {
    "alice": {"get_actor": True, "post_inbox": False},
    "bob": {"get_actor": True, "post_inbox": True},
    "claire": {"get_actor": True, "post_inbox": True},
    "dean": {"get_actor": True, "post_inbox": False},
    "emily": {"get_actor": True, "post_inbox": True},
    "frank": {"get_actor": True, "post_inbox": True},
}


def main() -> int:
    pasture, actor = sys.argv[1], sys.argv[2]
    body = urllib.parse.urlencode({"actor_uri": actor}).encode()
    request = urllib.request.Request(
        pasture, data=body, headers={"Accept": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=300) as response:
        answer = json.load(response)
    result = answer["result"]
    failures = 0
    print(f"{'actor':<10} {'check':<12} {'got':<6} {'expected':<8}")
    for name, checks in EXPECTED.items():
        for check, expected in checks.items():
            got = result.get(name, {}).get(check)
            ok = got == expected
            failures += not ok
            print(f"{name:<10} {check:<12} {str(got):<6} {str(expected):<8} {'ok' if ok else 'FAIL'}")
    webfinger = result.get("webfinger")
    failures += webfinger is not True
    print(f"{'webfinger':<10} {'round trip':<12} {str(webfinger):<6} {'True':<8} {'ok' if webfinger is True else 'FAIL'}")
    if failures:
        steps = json.loads(answer.get("messages", "{}")).get("steps", [])
        print("\nverify-actor's log:")
        for step in steps:
            print(f"  {step}")
    passed = 13 - failures
    print(f"\npasture verify-actor: {passed} passed, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
