"""Drives two running Skein instances with Mastodon.py, as a Mastodon app
would, and checks every step on both sides.

alice (alpha) signs in through the OAuth page, acting as a browser fills the
forms; bob (beta) uses a token from `skein token create`. alice posts with an
image, finds bob through search-resolve and follows him; bob's posts reach
alice's home timeline and her streams (server-sent events and WebSocket);
alice replies, favourites and reblogs; bob's notifications show all three;
alice edits and deletes her reply, and beta follows. Then: bob's grouped
notifications (two favourites in one group), a followed hashtag bringing
bob's post to dave's home, a hashtag and a post made to trend by five
accounts and approved by carol (alpha's admin) through the admin API,
scheduled posts (scheduled, listed, moved, cancelled, one published on
time), and full-text search of alice's own posts.

Federation runs by itself (the instances' delivery workers): every check of
the other side polls with a deadline, never a fixed sleep.

usage: client.py --alpha URL --beta URL --alice-password PW --bob-token TOKEN
                 --carol-token T --dave-token T --erin-token T --frank-token T
                 --alpha-db PSQL_ARGS [--skip media,streaming,notifications,search]
(write --name=VALUE: a token or psql's arguments may start with '-')

Two things the run cannot wait for are brought forward in alpha's database
(--alpha-db: psql's arguments for alpha's embedded PostgreSQL): the trends
refresh, which alpha's timed work does every five minutes, is made due now,
and a post scheduled (as Mastodon requires) at least five minutes ahead is
moved to a few seconds ahead. The timed work then does the real refresh and
the real publishing, on its own.
Exit status 0 when every step that ran passed.
"""

import argparse
import datetime
import html.parser
import secrets
import shlex
import signal
import struct
import subprocess
import sys
import threading
import time
import traceback
import urllib.parse
import zlib

import requests
from mastodon import Mastodon, MastodonAPIError, MastodonNotFoundError, StreamListener

# Steps that need an API a given Skein may not have yet; --skip names them.
# "search": full-text search of statuses (GET /api/v2/search?type=statuses).
SKIPPABLE = {"media", "streaming", "notifications", "search"}
SCOPES = ["read", "write", "follow", "push"]
REDIRECT_URI = "http://localhost/callback"
OOB = "urn:ietf:wg:oauth:2.0:oob"
# How long federation (a delivery from one instance to the other) may take.
FEDERATION_TIMEOUT = 60.0
# How long one HTTP request may take (Mastodon.py's default is 300 s).
REQUEST_TIMEOUT = 30
# The whole run stops with a failure after this many seconds, whatever hangs.
RUN_TIMEOUT = 420
# How long alpha's timed work (it looks every 15 s) may take to run work
# made due: the trends refresh, a scheduled post.
TIMED_WORK_TIMEOUT = 60.0


class Failed(Exception):
    """A step's expectation did not hold."""


def check(condition, message):
    if not condition:
        raise Failed(message)


class Pending:
    """What a probe saw when it is not done yet, for the failure message."""

    def __init__(self, seen):
        self.seen = seen


def wait_until(what, probe, timeout=FEDERATION_TIMEOUT, interval=0.2):
    """Calls probe() until it returns something truthy (not Pending); fails
    after timeout seconds saying what was awaited and what was last seen."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        found = probe()
        if isinstance(found, Pending):
            found, last = None, found.seen
        if found:
            return found
        if time.monotonic() > deadline:
            raise Failed(f"{what}: still not so after {timeout:.0f} s (last seen: {last!r})")
        time.sleep(interval)


class Steps:
    """Runs named steps in order, prints a log line for each, and skips the
    ones that need a feature named in --skip."""

    def __init__(self, skip):
        self.skip = skip
        self.number = 0
        self.ran = 0
        self.skipped = []

    def run(self, title, body, needs=None):
        self.number += 1
        if needs and needs in self.skip:
            print(f"e2e: [{self.number:2}] {title} ... skipped (--skip {needs})", flush=True)
            self.skipped.append(title)
            return None
        print(f"e2e: [{self.number:2}] {title} ...", end=" ", flush=True)
        started = time.monotonic()
        try:
            result = body()
        except Failed as e:
            print("FAILED", flush=True)
            raise Failed(f"step {self.number} ({title}): {e}") from None
        except Exception as e:
            print("FAILED", flush=True)
            traceback.print_exc()
            raise Failed(f"step {self.number} ({title}): {type(e).__name__}: {e}") from e
        print(f"ok ({time.monotonic() - started:.1f} s)", flush=True)
        self.ran += 1
        return result


class Form:
    def __init__(self, action, method):
        self.action = action
        self.method = method
        self.fields = []
        self.buttons = []


class Forms(html.parser.HTMLParser):
    """The forms of a page: their inputs (as a browser would submit them)
    and their submit buttons. Also remembers every input by id."""

    def __init__(self):
        super().__init__()
        self.forms = []
        self.inputs_by_id = {}
        self._current = None

    def handle_starttag(self, tag, attrs):
        a = {k: (v or "") for k, v in attrs}
        if tag == "form":
            self._current = Form(a.get("action", ""), a.get("method", "get").lower())
            self.forms.append(self._current)
        elif tag == "input":
            if "id" in a:
                self.inputs_by_id[a["id"]] = a.get("value", "")
            if self._current is not None and a.get("name"):
                if a.get("type", "text") in ("submit", "button"):
                    self._current.buttons.append((a["name"], a.get("value", "")))
                else:
                    self._current.fields.append((a["name"], a.get("value", "")))
        elif tag == "button" and self._current is not None and a.get("name"):
            if a.get("type", "submit") == "submit":
                self._current.buttons.append((a["name"], a.get("value", "")))

    def handle_endtag(self, tag):
        if tag == "form":
            self._current = None


def parse_page(response):
    parser = Forms()
    parser.feed(response.text)
    return parser


def only_form(response, what):
    forms = parse_page(response).forms
    check(len(forms) == 1, f"{what}: expected one form on {response.url}, found {len(forms)}")
    return forms[0]


class Browser:
    """A person at a browser: cookies kept, forms filled in and submitted
    with the button they click."""

    def __init__(self):
        self.session = requests.Session()
        self.session.headers["User-Agent"] = "Mozilla/5.0 (X11; Linux x86_64) skein-e2e"

    def get(self, url):
        return self.session.get(url, allow_redirects=False, timeout=REQUEST_TIMEOUT)

    def submit(self, page, form, values, button=None):
        data = dict(form.fields)
        data.update(values)
        if button is not None:
            check(button in form.buttons, f"the form on {page.url} has no button {button}, only {form.buttons}")
            data[button[0]] = button[1]
        target = urllib.parse.urljoin(page.url, form.action)
        check(form.method == "post", f"the form on {page.url} is sent with {form.method}, not post")
        return self.session.post(target, data=data, allow_redirects=False, timeout=REQUEST_TIMEOUT)


def sign_in_page_flow(browser, url, login, password):
    """GET the authorization URL, fill the sign-in form; returns the consent
    page the redirect leads to."""
    page = browser.get(url)
    check(page.status_code == 200, f"GET {url} answered {page.status_code}: {page.text[:300]}")
    form = only_form(page, "the sign-in page")
    fields = dict(form.fields)
    check(fields.get("step") == "sign_in", f"the sign-in form has step={fields.get('step')!r}")
    check(fields.get("csrf_token"), "the sign-in form has no csrf_token")
    check("login" in fields and "password" in fields, f"the sign-in form lacks login or password: {sorted(fields)}")
    answer = browser.submit(page, form, {"login": login, "password": password})
    check(answer.status_code in (302, 303),
          f"signing in answered {answer.status_code}, not a redirect: {answer.text[:300]}")
    check("set-cookie" in answer.headers, "signing in set no session cookie")
    return consent_page(browser, urllib.parse.urljoin(answer.url, answer.headers["location"]))


def consent_page(browser, url):
    page = browser.get(url)
    check(page.status_code == 200, f"GET {url} (consent) answered {page.status_code}: {page.text[:300]}")
    return page


def approve(browser, page):
    form = only_form(page, "the consent page")
    check(("step", "approve") in form.buttons, f"the consent page has no approve button: {form.buttons}")
    check(("step", "deny") in form.buttons, f"the consent page has no deny button: {form.buttons}")
    return browser.submit(page, form, {}, button=("step", "approve"))


def gradient_png(width=32, height=24):
    """A small valid RGB PNG, made with the standard library only."""
    rows = b"".join(
        b"\x00" + bytes(c for x in range(width) for c in (x * 255 // width, y * 255 // height, 160))
        for y in range(height)
    )

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


class Recorder(StreamListener):
    """Keeps what a stream delivered."""

    def __init__(self):
        self.lock = threading.Lock()
        self.updates = []
        self.heartbeats = 0
        self.errors = []

    def on_update(self, status):
        with self.lock:
            self.updates.append(status)

    def handle_heartbeat(self):
        with self.lock:
            self.heartbeats += 1

    def on_abort(self, err):
        with self.lock:
            self.errors.append(err)

    def update_with_uri(self, uri):
        with self.lock:
            return next((s for s in self.updates if s.get("uri") == uri), None)


def stream_event(name, recorder, uri):
    """The update on a stream for the status with this uri, or Pending;
    fails when the stream reported an error."""
    check(not recorder.errors, f"the {name} stream failed: {recorder.errors}")
    return recorder.update_with_uri(uri) or Pending(f"{len(recorder.updates)} other updates")


def counted(status, field, expected):
    """True when the status's counter says expected, else Pending."""
    return status[field] == expected or Pending(f"{field} = {status[field]}")


def html_text(content):
    """A status's HTML as plain text, enough to look for words in."""
    parts = []

    class Text(html.parser.HTMLParser):
        def handle_data(self, data):
            parts.append(data)

    Text().feed(content or "")
    return "".join(parts)


def psql(db_args, sql):
    """Runs one statement on alpha's database; returns psql's output."""
    done = subprocess.run(["psql", *shlex.split(db_args), "-v", "ON_ERROR_STOP=1", "-qAtc", sql],
                          capture_output=True, text=True, timeout=REQUEST_TIMEOUT)
    check(done.returncode == 0, f"psql failed ({done.returncode}): {done.stderr.strip()}")
    return done.stdout.strip()


def utc_in(seconds):
    return datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=seconds)


def parse_time(value):
    """A datetime from Mastodon.py (already parsed) or an ISO 8601 string."""
    if isinstance(value, datetime.datetime):
        return value
    return datetime.datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--alpha", required=True, help="alice's instance, e.g. http://alpha.test:8080")
    parser.add_argument("--beta", required=True, help="bob's instance, e.g. http://beta.test:8081")
    parser.add_argument("--alice-password", required=True)
    parser.add_argument("--bob-token", required=True)
    parser.add_argument("--carol-token", required=True, help="alpha's admin")
    parser.add_argument("--dave-token", required=True)
    parser.add_argument("--erin-token", required=True)
    parser.add_argument("--frank-token", required=True)
    parser.add_argument("--alpha-db", required=True, help="psql's arguments that reach alpha's database")
    parser.add_argument("--skip", default="", help=f"comma-separated, of: {', '.join(sorted(SKIPPABLE))}")
    args = parser.parse_args()
    skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    unknown = skip - SKIPPABLE
    if unknown:
        parser.error(f"--skip knows {sorted(SKIPPABLE)}, not {sorted(unknown)}")

    alpha_host = urllib.parse.urlsplit(args.alpha).netloc
    beta_host = urllib.parse.urlsplit(args.beta).netloc
    alice_acct = f"alice@{alpha_host}"
    bob_acct = f"bob@{beta_host}"
    steps = Steps(skip)
    started = time.monotonic()
    s = {}  # what the steps found, for the later ones

    # --- alice signs in through the OAuth page -----------------------------

    def register_app():
        client_id, client_secret = Mastodon.create_app(
            "Skein e2e (Mastodon.py)",
            request_timeout=REQUEST_TIMEOUT,
            scopes=SCOPES,
            redirect_uris=[REDIRECT_URI, OOB],
            website="https://example.org/skein-e2e",
            api_base_url=args.alpha,
        )
        check(client_id and client_secret, "POST /api/v1/apps gave no client_id or client_secret")
        s["alice"] = Mastodon(client_id=client_id, client_secret=client_secret, api_base_url=args.alpha,
                              request_timeout=REQUEST_TIMEOUT)
        s["app"] = (client_id, client_secret)

    def sign_in():
        alice = s["alice"]
        state = secrets.token_urlsafe(16)
        url = alice.auth_request_url(redirect_uris=REDIRECT_URI, scopes=SCOPES, state=state, allow_http=True)
        check(url.startswith(f"{args.alpha}/oauth/authorize?"), f"the authorization URL is {url}")
        browser = Browser()
        consent = sign_in_page_flow(browser, url, "alice", args.alice_password)
        check("Authorize" in consent.text and "@alice" in consent.text,
              f"the consent page does not name the app's request for @alice: {consent.text[:500]}")
        answer = approve(browser, consent)
        check(answer.status_code in (302, 303), f"approving answered {answer.status_code}: {answer.text[:300]}")
        location = answer.headers["location"]
        check(location.startswith(REDIRECT_URI + "?"), f"approving redirected to {location}, not {REDIRECT_URI}")
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(location).query)
        check(query.get("state") == [state], f"the redirect carried state {query.get('state')}, not {state}")
        check(query.get("code"), f"the redirect carried no code: {location}")
        token = alice.log_in(code=query["code"][0], redirect_uri=REDIRECT_URI, scopes=SCOPES, allow_http=True)
        check(token, "POST /oauth/token gave no access token")
        me = alice.account_verify_credentials()
        check(me.username == "alice" and me.acct == "alice", f"the token is for {me.acct}, not alice")
        s["browser"] = browser

    def sign_in_out_of_band():
        # Same browser, still signed in: straight to the consent page, and
        # the code is shown on a page for the person to copy.
        client_id, client_secret = s["app"]
        app = Mastodon(client_id=client_id, client_secret=client_secret, api_base_url=args.alpha,
                       request_timeout=REQUEST_TIMEOUT)
        url = app.auth_request_url(redirect_uris=OOB, scopes=["read"], allow_http=True)
        page = consent_page(s["browser"], url)
        check("Authorize" in page.text, f"a signed-in browser did not get the consent page: {page.text[:300]}")
        answer = approve(s["browser"], page)
        check(answer.status_code == 200, f"approving out-of-band answered {answer.status_code}")
        code = parse_page(answer).inputs_by_id.get("code")
        check(code, "the out-of-band page shows no <input id=code>")
        app.log_in(code=code, redirect_uri=OOB, scopes=["read"], allow_http=True)
        check(app.me().acct == "alice", "the out-of-band token is not alice's")

    steps.run("register an app on alpha (POST /api/v1/apps)", register_app)
    steps.run("sign alice in: sign-in form, consent, code, token", sign_in)
    steps.run("sign in again out of band with the same browser", sign_in_out_of_band)
    alice = s["alice"]
    bob = Mastodon(access_token=args.bob_token, api_base_url=args.beta, request_timeout=REQUEST_TIMEOUT)

    def on_alpha(token):
        return Mastodon(access_token=token, api_base_url=args.alpha, request_timeout=REQUEST_TIMEOUT)
    carol, dave, erin, frank = (on_alpha(t) for t in (args.carol_token, args.dave_token,
                                                       args.erin_token, args.frank_token))

    # --- a post with an image ----------------------------------------------

    def upload():
        media = alice.media_post(
            gradient_png(), mime_type="image/png", file_name="gradient.png", description="A blue gradient",
        )
        check(media.type == "image", f"the attachment's type is {media.type!r}, not image")
        if media.url is None:
            # 202: still processing (Mastodon's answer for large files).
            def processed():
                found = alice.media(media)
                return found if found.url else Pending("url is null")
            media = wait_until("the attachment is processed (GET /api/v1/media/:id has a url)", processed, timeout=30)
        check(media.description == "A blue gradient", f"the description is {media.description!r}")
        image = requests.get(media.url, timeout=REQUEST_TIMEOUT)
        check(image.status_code == 200 and image.headers.get("content-type", "").startswith("image/"),
              f"GET {media.url} answered {image.status_code} {image.headers.get('content-type')}")
        s["media"] = media

    def post_with_image():
        status = alice.status_post("Hello from Mastodon.py, with a picture of a kingfisher #skeine2e",
                                   media_ids=[s["media"]], visibility="public")
        check(len(status.media_attachments) == 1, f"the status has {len(status.media_attachments)} attachments")
        check(str(status.media_attachments[0].id) == str(s["media"].id), "the status carries another attachment")
        check(status.account.acct == "alice", f"the status is by {status.account.acct}")
        s["image_post"] = status

    def beta_sees_image():
        found = bob.search_v2(s["image_post"].uri, resolve=True)
        check(len(found.statuses) == 1, f"beta resolved {len(found.statuses)} statuses for {s['image_post'].uri}")
        attachments = found.statuses[0].media_attachments
        check(len(attachments) == 1 and attachments[0].type == "image",
              f"beta shows the post with attachments {attachments}")
        check(attachments[0].description == "A blue gradient", f"beta shows the alt text {attachments[0].description!r}")

    def post_without_image():
        status = alice.status_post("Hello from Mastodon.py, about a kingfisher #skeine2e", visibility="public")
        check(status.account.acct == "alice", f"the status is by {status.account.acct}")
        s["image_post"] = status

    steps.run("upload an image (POST /api/v2/media)", upload, needs="media")
    if "media" in skip:
        steps.run("post a status without the image", post_without_image)
    else:
        steps.run("post a status with the image", post_with_image)
        steps.run("beta resolves the post by URL and shows the image", beta_sees_image)

    def home_has_own_post():
        ids = [str(x.id) for x in alice.timeline_home()]
        check(str(s["image_post"].id) in ids, "alice's own post is not on her home timeline")

    steps.run("alice's post is on her home timeline", home_has_own_post)

    # --- follow bob on beta, found through search-resolve -------------------

    def find_bob():
        found = alice.search_v2(f"@{bob_acct}", resolve=True)
        accts = [a.acct for a in found.accounts]
        check(bob_acct in accts, f"searching @{bob_acct} with resolve found {accts}")
        s["bob_on_alpha"] = next(a for a in found.accounts if a.acct == bob_acct)

    def follow_bob():
        relationship = alice.account_follow(s["bob_on_alpha"])
        check(relationship.following or relationship.requested,
              f"following answered {relationship}")
        wait_until("alice's relationship with bob says following (beta's Accept arrived)",
                   lambda: alice.account_relationships(s["bob_on_alpha"])[0].following)
        me = bob.me()

        def alice_follows_on_beta():
            return alice_acct in [a.acct for a in bob.account_followers(me.id)]
        wait_until(f"beta lists {alice_acct} among bob's followers", alice_follows_on_beta)
        s["bob_id"] = me.id

    steps.run(f"search-resolve @{bob_acct} from alpha", find_bob)
    steps.run("follow bob; beta accepts", follow_bob)

    # --- bob's posts reach alice's home timeline and her streams -----------

    def bob_posts():
        status = bob.status_post("First post from beta", visibility="public")

        def on_home():
            return next((x for x in alice.timeline_home() if x.uri == status.uri), None)
        arrived = wait_until("bob's post on alice's home timeline", on_home)
        check(arrived.account.acct == bob_acct, f"the post arrived by {arrived.account.acct}")
        check("First post from beta" in html_text(arrived.content), f"it arrived as {arrived.content!r}")
        s["bob_post"] = status
        s["bob_post_on_alpha"] = arrived

    steps.run("bob posts; it reaches alice's home timeline", bob_posts)

    def open_streams():
        sse_url = f"{args.alpha}/api/v1/streaming/user"
        probe = requests.get(sse_url, headers={"Authorization": f"Bearer {alice.access_token}"},
                             stream=True, timeout=REQUEST_TIMEOUT)
        probe.close()
        check(probe.status_code == 200, f"GET {sse_url} answered {probe.status_code}")
        check(probe.headers.get("content-type", "").startswith("text/event-stream"),
              f"GET {sse_url} is {probe.headers.get('content-type')}, not text/event-stream")
        sse = Recorder()
        sse_handle = alice.stream_user(sse, run_async=True)
        wait_until("the server-sent events stream is connected",
                   lambda: sse_handle.connection is not None or sse.heartbeats, timeout=10, interval=0.05)
        ws = Recorder()
        ws_handle = alice.stream_open_websocket(listener=ws)
        alice.stream_user(ws, websocket_handle=ws_handle)
        check(ws_handle.is_alive(), "the WebSocket stream closed at once")
        s["streams"] = [("server-sent events", sse, sse_handle), ("WebSocket", ws, ws_handle)]
        # Mastodon puts a user's own posts on their home timeline and so on
        # their user stream: once alice's post arrives on both, both
        # subscriptions are live.
        own = alice.status_post("Checking my streams", visibility="public")
        for name, recorder, _ in s["streams"]:
            wait_until(f"alice's own post on her {name} stream (Mastodon streams a user's own posts)",
                       lambda: stream_event(name, recorder, own.uri), timeout=10)

    def bob_posts_again():
        status = bob.status_post("Second post from beta, for the streams", visibility="public")
        for name, recorder, _ in s.get("streams", []):
            event = wait_until(f"an update event for bob's second post on alice's {name} stream",
                               lambda: stream_event(name, recorder, status.uri))
            check(event.account.acct == bob_acct, f"the {name} update is by {event.account.acct}")
        wait_until("bob's second post on alice's home timeline",
                   lambda: any(x.uri == status.uri for x in alice.timeline_home()))

    steps.run("open alice's user streams (SSE and WebSocket)", open_streams, needs="streaming")
    steps.run("bob posts again; an update arrives on each stream", bob_posts_again, needs="streaming")
    for _, _, handle in s.get("streams", []):
        handle.close()

    # --- alice replies, favourites and reblogs -----------------------------

    def reply():
        target = s["bob_post_on_alpha"]
        status = alice.status_post(f"@{bob_acct} A reply from alpha", in_reply_to_id=target, visibility="public")
        check(str(status.in_reply_to_id) == str(target.id), f"the reply answers {status.in_reply_to_id}")
        check([m.acct for m in status.mentions] == [bob_acct], f"the reply mentions {status.mentions}")
        s["reply"] = status

        def in_context_on_beta():
            return any(d.uri == status.uri for d in bob.status_context(s["bob_post"].id).descendants)
        wait_until("the reply in the context of bob's post on beta", in_context_on_beta)

    def favourite():
        status = alice.status_favourite(s["bob_post_on_alpha"])
        check(status.favourited is True, f"favouriting answered favourited={status.favourited}")
        wait_until("bob's post counts one favourite on beta",
                   lambda: counted(bob.status(s["bob_post"].id), "favourites_count", 1))

    def reblog():
        wrapper = alice.status_reblog(s["bob_post_on_alpha"])
        check(wrapper.reblog and str(wrapper.reblog.id) == str(s["bob_post_on_alpha"].id),
              f"reblogging answered a status reblogging {wrapper.reblog and wrapper.reblog.id}")
        check(wrapper.reblog.reblogged is True, "the reblogged status says reblogged=false")
        wait_until("bob's post counts one reblog on beta",
                   lambda: counted(bob.status(s["bob_post"].id), "reblogs_count", 1))

    steps.run("alice replies to bob's post; beta threads it", reply)
    steps.run("alice favourites bob's post; beta counts it", favourite)
    steps.run("alice reblogs bob's post; beta counts it", reblog)

    def notifications():
        wanted = {"mention", "favourite", "reblog"}

        def from_alice():
            found = {n.type: n for n in bob.notifications() if n.account.acct == alice_acct and n.type in wanted}
            return found if set(found) == wanted else Pending(sorted(found))
        found = wait_until("bob's notifications: mention, favourite and reblog from alice", from_alice)
        check(found["mention"].status.uri == s["reply"].uri, "the mention is not alice's reply")
        for kind in ("favourite", "reblog"):
            check(str(found[kind].status.id) == str(s["bob_post"].id), f"the {kind} is not of bob's post")
        s["reply_on_beta"] = found["mention"].status

    def reply_on_beta_without_notifications():
        def find():
            return next((d for d in bob.status_context(s["bob_post"].id).descendants
                         if d.uri == s["reply"].uri), None)
        s["reply_on_beta"] = wait_until("alice's reply on beta", find)

    steps.run("bob reads his notifications on beta", notifications, needs="notifications")
    if "notifications" in skip:
        steps.run("find alice's reply on beta through the thread", reply_on_beta_without_notifications)

    # --- grouped notifications -----------------------------------------------

    def grouped_notifications():
        # dave (alpha) favourites bob's post too: Mastodon groups the two
        # favourites of one post into one group.
        found = dave.search_v2(s["bob_post"].uri, resolve=True)
        check(len(found.statuses) == 1, f"dave resolved {len(found.statuses)} statuses for bob's post")
        dave.status_favourite(found.statuses[0])
        dave_acct = f"dave@{alpha_host}"

        def grouped():
            results = bob.grouped_notifications(expand_accounts="full")
            accounts = {str(a.id): a.acct for a in results.accounts}
            favourites = [g for g in results.notification_groups
                          if g.type == "favourite" and str(g.status_id) == str(s["bob_post"].id)]
            if len(favourites) != 1 or favourites[0].notifications_count != 2:
                return Pending([(g.type, g.notifications_count) for g in results.notification_groups])
            return results, favourites[0], accounts
        results, group, accounts = wait_until("one group of two favourites of bob's post in GET /api/v2/notifications",
                                              grouped)
        sampled = {accounts.get(str(i)) for i in group.sample_account_ids}
        check(sampled == {alice_acct, dave_acct}, f"the group's sample accounts are {sampled}")
        check(group.group_key.startswith("favourite-"), f"the group key is {group.group_key!r}")
        check(str(s["bob_post"].id) in {str(x.id) for x in results.statuses}, "the results lack bob's post")
        kinds = {g.type for g in results.notification_groups}
        check({"mention", "reblog"} <= kinds, f"the groups are of {sorted(kinds)}, without mention or reblog")
        one = bob.grouped_notification(group.group_key)
        check([g.group_key for g in one.notification_groups] == [group.group_key],
              f"GET /api/v2/notifications/{group.group_key} answered {one.notification_groups}")

    steps.run("dave favourites bob's post too; bob's grouped notifications (GET /api/v2/notifications)",
              grouped_notifications, needs="notifications")

    # --- edit and delete -----------------------------------------------------

    def edit():
        edited = alice.status_update(s["reply"], status=f"@{bob_acct} An edited reply from alpha")
        check(edited.edited_at is not None, "the edited status has no edited_at")
        check("edited reply" in html_text(edited.content), f"alpha shows {edited.content!r}")
        history = alice.status_history(s["reply"])
        check(len(history) == 2, f"alpha keeps {len(history)} versions, not 2")
        reply_id = s["reply_on_beta"].id

        def edited_on_beta():
            status = bob.status(reply_id)
            return status if "edited reply" in html_text(status.content) else None
        status = wait_until("beta shows the edited reply", edited_on_beta)
        check(status.edited_at is not None, "beta shows the edit without edited_at")
        check(len(bob.status_history(reply_id)) >= 2, "beta keeps no earlier version of the reply")

    def delete():
        alice.status_delete(s["reply"])
        try:
            alice.status(s["reply"])
            raise Failed("alpha still shows the deleted reply")
        except MastodonNotFoundError:
            pass
        reply_id = s["reply_on_beta"].id

        def gone_on_beta():
            try:
                bob.status(reply_id)
                return None
            except MastodonNotFoundError:
                return True
        wait_until("beta answers 404 for the deleted reply", gone_on_beta)

    steps.run("alice edits her reply; beta shows the edit", edit)
    steps.run("alice deletes her reply; beta answers 404", delete)

    # --- a followed hashtag brings a post from beta to dave's home -----------

    def follow_hashtag():
        tag = dave.tag_follow("SkeinFollowed")
        check(tag.name.lower() == "skeinfollowed" and tag.following is True, f"following the hashtag answered {tag}")
        names = [t.name.lower() for t in dave.followed_tags()]
        check(names == ["skeinfollowed"], f"dave's followed hashtags are {names}")

    def followed_hashtag_post():
        status = bob.status_post("For whoever follows #SkeinFollowed, from beta", visibility="public")
        # alice follows bob, so the post reaches alpha; dave follows the
        # hashtag, not bob.
        arrived = wait_until("bob's #SkeinFollowed post on dave's home timeline",
                             lambda: next((x for x in dave.timeline_home() if x.uri == status.uri), None))
        check(arrived.account.acct == bob_acct, f"it arrived by {arrived.account.acct}")
        check(not dave.account_relationships(arrived.account)[0].following, "dave follows bob after all")
        other = bob.status_post("Nothing for dave here", visibility="public")
        wait_until("bob's next post (no hashtag) on alice's home timeline",
                   lambda: any(x.uri == other.uri for x in alice.timeline_home()))
        check(all(x.uri != other.uri for x in dave.timeline_home()), "a post without the hashtag is on dave's home")
        dave.tag_unfollow("skeinfollowed")
        check(list(dave.followed_tags()) == [], "dave still follows the hashtag after unfollowing it")

    steps.run("dave follows #SkeinFollowed (POST /api/v1/tags/:name/follow)", follow_hashtag)
    steps.run("bob posts with the hashtag; it reaches dave's home; dave unfollows it", followed_hashtag_post)

    # --- trends, reviewed by alpha's admin -----------------------------------

    trend_tag = "skeintrend"

    def trend_activity():
        # Mastodon's thresholds: five accounts using a hashtag today, five
        # favourites and reblogs of a post.
        post = alice.status_post(f"Something worth trending #{trend_tag}", visibility="public")
        for who in (carol, dave, erin, frank):
            who.status_post(f"Trending along #{trend_tag}", visibility="public")
            who.status_favourite(post.id)
            who.status_reblog(post.id)
        counts = alice.status(post)
        check(counts.favourites_count == 4 and counts.reblogs_count == 4,
              f"alice's post counts {counts.favourites_count} favourites and {counts.reblogs_count} reblogs")
        s["trend_post"] = post

    def trends_scored():
        # The refresh runs every five minutes: make it due now.
        psql(args.alpha_db, "update timed_work set next_run_at = now() where name = 'trends'")

        def candidate_tag():
            tags = carol.admin_trending_tags()
            return next((t for t in tags if t.name.lower() == trend_tag), None) or Pending([t.name for t in tags])
        tag = wait_until(f"#{trend_tag} among the admin API's trending hashtags", candidate_tag,
                         timeout=TIMED_WORK_TIMEOUT)
        check(tag.requires_review is True, f"the hashtag's requires_review is {tag.requires_review}")
        posts = [str(x.id) for x in carol.admin_trending_statuses()]
        check(str(s["trend_post"].id) in posts, f"the admin API's trending posts are {posts}")
        check(trend_tag not in [t.name.lower() for t in alice.trending_tags()],
              "the hashtag trends publicly before review")
        check(str(s["trend_post"].id) not in [str(x.id) for x in alice.trending_statuses()],
              "the post trends publicly before review")
        # A token without the admin scopes (dave's) is refused.
        try:
            dave.admin_trending_tags()
            raise Failed("dave's token (no admin scopes) reads the moderators' trends")
        except MastodonAPIError as e:
            check(e.args[1] == 403, f"dave's token got {e.args[1]}, not 403")
        s["trend_tag"] = tag

    def trends_approved():
        tag = carol.admin_approve_trending_tag(s["trend_tag"].id)
        check(tag.requires_review is False and tag.trendable is True, f"approving the hashtag answered {tag}")
        status = carol.admin_approve_trending_status(s["trend_post"].id)
        check(str(status.id) == str(s["trend_post"].id), f"approving the post answered status {status.id}")
        tags = alice.trending_tags()
        shown = next((t for t in tags if t.name.lower() == trend_tag), None)
        check(shown is not None, f"alpha's trending hashtags are {[t.name for t in tags]}")
        today = shown.history[0]
        check(int(today.accounts) == 5 and int(today.uses) == 5, f"today's history of the hashtag is {today}")
        posts = [str(x.id) for x in alice.trending_statuses()]
        check(str(s["trend_post"].id) in posts, f"alpha's trending posts are {posts}")

    steps.run("five alpha accounts post #skeintrend and favourite and reblog alice's post", trend_activity)
    steps.run("the trends refresh scores them; the admin API lists them for review", trends_scored)
    steps.run("carol (admin) approves both; they trend (GET /api/v1/trends/*)", trends_approved)

    # --- scheduled posts -----------------------------------------------------

    def schedule():
        try:
            alice.status_post("Too soon", scheduled_at=utc_in(60))
            raise Failed("a post scheduled one minute ahead was accepted (Mastodon: five minutes at least)")
        except MastodonAPIError as e:
            check(e.args[1] == 422, f"scheduling one minute ahead answered {e.args[1]}, not 422")
        later = alice.status_post("A scheduled post to be cancelled", scheduled_at=utc_in(600), visibility="public")
        check(later.params.text == "A scheduled post to be cancelled", f"the scheduled status keeps {later.params}")
        soon = alice.status_post("A scheduled post from Mastodon.py", scheduled_at=utc_in(360), visibility="public")
        listed = {str(x.id) for x in alice.scheduled_statuses()}
        check(listed == {str(later.id), str(soon.id)}, f"GET /api/v1/scheduled_statuses lists {listed}")
        moved = alice.scheduled_status_update(later, utc_in(1200))
        check(parse_time(moved.scheduled_at) > parse_time(later.scheduled_at) + datetime.timedelta(minutes=9),
              f"moving the post answered scheduled_at {moved.scheduled_at} (was {later.scheduled_at})")
        check(parse_time(alice.scheduled_status(later).scheduled_at) == parse_time(moved.scheduled_at),
              "GET /api/v1/scheduled_statuses/:id does not show the new time")
        alice.scheduled_status_delete(later)
        try:
            alice.scheduled_status(later)
            raise Failed("the cancelled scheduled post is still there")
        except MastodonNotFoundError:
            pass
        listed = [str(x.id) for x in alice.scheduled_statuses()]
        check(listed == [str(soon.id)], f"after cancelling, the list is {listed}")
        s["scheduled"] = soon

    def scheduled_published():
        soon = s["scheduled"]
        # Scheduled (as Mastodon requires) six minutes ahead: move it to a
        # few seconds ahead; alpha's timed work publishes it.
        epoch = psql(args.alpha_db, "update scheduled_statuses set scheduled_at = now() + interval '5 seconds' "
                     f"where id = {int(soon.id)} returning extract(epoch from scheduled_at)")
        check(epoch, "the scheduled post is not in alpha's database")
        due = datetime.datetime.fromtimestamp(float(epoch), datetime.timezone.utc)
        me = alice.me()

        def published():
            return next((x for x in alice.account_statuses(me.id)
                         if "A scheduled post from Mastodon.py" in html_text(x.content)), None)
        status = wait_until("the scheduled post among alice's posts", published, timeout=TIMED_WORK_TIMEOUT)
        check(parse_time(status.created_at) >= due - datetime.timedelta(seconds=1),
              f"the post was published at {status.created_at}, before its time {due}")
        check(status.visibility == "public", f"the post is {status.visibility}")
        check(list(alice.scheduled_statuses()) == [], "the published post is still listed as scheduled")

    steps.run("schedule two posts; list, move and cancel (/api/v1/scheduled_statuses)", schedule)
    steps.run("the other is published when due", scheduled_published)

    # --- full-text search of one's own posts ---------------------------------

    def search_statuses():
        found = alice.search_v2("kingfisher", resolve=False, result_type="statuses")
        uris = [x.uri for x in found.statuses]
        check(s["image_post"].uri in uris, f"searching \"kingfisher\" found {uris}")
        check(found.accounts == [] and found.hashtags == [], "type=statuses answered accounts or hashtags")
        found = alice.search_v2("nowhere", resolve=False, result_type="statuses")
        check(list(found.statuses) == [], f"a word in no post found {[x.uri for x in found.statuses]}")

    steps.run("alice finds her post by a word (GET /api/v2/search?type=statuses)", search_statuses, needs="search")

    elapsed = time.monotonic() - started
    skipped = f", {len(steps.skipped)} skipped" if steps.skipped else ""
    print(f"e2e: {steps.ran} steps passed{skipped} in {elapsed:.1f} s")
    return 0


def out_of_time(_signal, _frame):
    raise Failed(f"the run took longer than {RUN_TIMEOUT} s")


if __name__ == "__main__":
    signal.signal(signal.SIGALRM, out_of_time)
    signal.alarm(RUN_TIMEOUT)
    try:
        sys.exit(main())
    except Failed as e:
        print(f"e2e: {e}", file=sys.stderr)
        sys.exit(1)
