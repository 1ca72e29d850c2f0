"""Drives Skein's web interface in headless Chromium over WebDriver
(Selenium), as a person at a browser would, against two running instances.

On alpha, a new person (alice) signs up through the form, posts from the
composer (collapsed to "Start a thread…"; the character counter must move
as she types: the page's script runs), replies to her post from its page, likes it, searches
@bob@beta.test:PORT in the search box, opens the result and follows him.
bob (beta, a token from `skein token create`) then posts, and the test waits
for that post on alice's /home (Following). bob follows alice and likes her post, and
alice reads her notifications; she edits her profile in the settings. She
uses the icon bar (named icons, one header row whatever the instance name's
length, at the bottom on a phone), opens the composer as a sheet from it
(Escape closes it) and writes a three-post thread (a reply chain, checked
through the API; the feed shows it on top), and opens For you (where
/home opens), Explore and every Activity tab. A
second browser with JavaScript turned off signs carol in and posts: every
page works without scripts. The first session's console must show no
uncaught script error. A third signs carol (alpha's admin) in on a phone's
screen (390 x 844): every settings and admin page, with long names and
addresses in them, must fit its width without scrolling sideways. Last,
every main page (front page, a profile, a thread, home, search,
notifications, settings, admin, about, sign-in, sign-up), signed out and
as carol, light and dark, at 1280 x 900 and 390 x 844, is screenshot,
checked for width and run through axe-core (scripts/e2e/audit.py): zero
WCAG 2.2 A/AA violations; and the keyboard: a visible focus ring, Escape
closes a menu and gives focus back to its button, focus stays on the
control after its action.

Full-page PNG screenshots of the main pages go to --screenshots; a step
that fails leaves a screenshot of where it stopped (failed-*.png) and the
page's HTML beside it.

Federation runs by itself (the instances' delivery workers): every wait is
for a condition with a deadline, never a fixed sleep.

usage: browser.py --alpha URL --beta URL --carol-password PW --bob-token TOKEN --carol-token TOKEN
                  --screenshots DIR --work DIR [--skip sign_up,notifications,...]
Exit status 0 when every step that ran passed.
"""

import argparse
import base64
import contextlib
import html.parser
import json
import os
import re
import shutil
import signal
import sys
import tempfile
import time
import traceback
import urllib.error
import urllib.parse
import urllib.request

from selenium import webdriver
from selenium.common.exceptions import NoSuchElementException, TimeoutException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

import audit

# Pages a given Skein may not have yet; --skip names them (CI passes none).
SKIPPABLE = {"sign_up", "reply", "like", "search", "follow", "notifications", "profile", "settings", "no_js",
             "phone", "threads", "audit",
             # Run by scripts/e2e-browser.sh after these steps, not here.
             "lighthouse"}
# How long a page may take to load after a click, and an element to show.
PAGE_TIMEOUT = 20.0
# How long federation (a delivery from one instance to the other) may take.
FEDERATION_TIMEOUT = 60.0
# The whole run stops with a failure after this many seconds, whatever hangs.
RUN_TIMEOUT = 1200
WINDOW = (1280, 900)
# A phone's screen, in CSS pixels. Headless Chromium keeps its window at
# least 500 pixels wide, so the page is given this size by emulation.
PHONE = (390, 844)
# Screenshots taller than this are cut: a long page says nothing more.
MAX_SHOT_HEIGHT = 4000


class Failed(Exception):
    """A step's expectation did not hold."""


def check(condition, message):
    if not condition:
        raise Failed(message)


class Pending:
    """What a probe saw when it is not done yet, for the failure message."""

    def __init__(self, seen):
        self.seen = seen


def wait_until(what, probe, timeout=FEDERATION_TIMEOUT, interval=0.25):
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


# --- the API, for bob's side and for checking counts -------------------------


class Api:
    """One instance's HTTP API, reached on 127.0.0.1 with the instance's own
    host name in the Host header (this process does not resolve *.test)."""

    def __init__(self, base, token=None):
        parts = urllib.parse.urlsplit(base)
        self.host = parts.netloc
        self.origin = f"{parts.scheme}://127.0.0.1:{parts.port}"
        self.token = token

    def call(self, method, path, data=None):
        headers = {"Host": self.host, "Accept": "application/json"}
        body = None
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        if data is not None:
            body = json.dumps(data).encode()
            headers["Content-Type"] = "application/json"
        request = urllib.request.Request(self.origin + path, data=body, headers=headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return json.loads(response.read() or b"null")
        except urllib.error.HTTPError as e:
            raise Failed(f"{method} {path} on {self.host} answered {e.code}: {e.read()[:300]!r}") from None

    def get(self, path):
        return self.call("GET", path)

    def post(self, path, data=None):
        return self.call("POST", path, data if data is not None else {})

    def upload(self, path, file_name, content_type, content):
        """A file sent as multipart/form-data (`file`), as apps upload media."""
        boundary = f"e2e{time.monotonic_ns()}"
        body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\n"
                f"Content-Type: {content_type}\r\n\r\n").encode() + content + f"\r\n--{boundary}--\r\n".encode()
        headers = {"Host": self.host, "Accept": "application/json",
                   "Authorization": f"Bearer {self.token}",
                   "Content-Type": f"multipart/form-data; boundary={boundary}"}
        request = urllib.request.Request(self.origin + path, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return json.loads(response.read() or b"null")
        except urllib.error.HTTPError as e:
            raise Failed(f"POST {path} on {self.host} answered {e.code}: {e.read()[:300]!r}") from None


# --- the browser ---------------------------------------------------------------


def start_chromium(work, javascript):
    """A fresh headless Chromium with its own profile directory. *.test
    names resolve to loopback inside the browser only."""
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    profile = tempfile.mkdtemp(prefix="chromium-", dir=work)
    for argument in (
        "--headless=new",
        "--no-sandbox",  # CI runs as root
        "--disable-dev-shm-usage",
        "--disable-gpu",
        f"--window-size={WINDOW[0]},{WINDOW[1]}",
        "--force-device-scale-factor=1",
        f"--user-data-dir={profile}",
        "--host-resolver-rules=MAP *.test 127.0.0.1",
        # Plain http to *.test as typed: no attempt at https first.
        "--disable-features=HttpsUpgrades,HttpsFirstBalancedModeAutoEnable",
        "--no-first-run",
        "--no-default-browser-check",
        "--disable-extensions",
        "--disable-background-networking",
        "--disable-sync",
        "--password-store=basic",
        "--lang=en-US",
    ):
        options.add_argument(argument)
    prefs = {"credentials_enable_service": False, "profile.password_manager_enabled": False}
    if not javascript:
        prefs["profile.managed_default_content_settings.javascript"] = 2
    options.add_experimental_option("prefs", prefs)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = Service(
        executable_path=shutil.which("chromedriver") or "/usr/bin/chromedriver",
        log_output=os.path.join(work, "chromedriver-js.log" if javascript else "chromedriver-nojs.log"),
    )
    driver = webdriver.Chrome(options=options, service=service)
    driver.set_page_load_timeout(PAGE_TIMEOUT)
    return driver, profile


class Browser:
    """A person at one browser on one instance: opens pages, fills forms,
    clicks, and waits for what should show up."""

    def __init__(self, driver, base, shots):
        self.driver = driver
        self.base = base
        self.shots = shots

    def url(self, path):
        return self.base + path

    def path(self):
        parts = urllib.parse.urlsplit(self.driver.current_url)
        return parts.path + (f"?{parts.query}" if parts.query else "")

    def open(self, path):
        self.driver.get(self.url(path))
        return self.loaded()

    def loaded(self):
        WebDriverWait(self.driver, PAGE_TIMEOUT).until(
            lambda d: d.execute_script("return document.readyState") == "complete")
        return self

    def describe(self):
        """Where the browser is and what the page says, for a failure."""
        try:
            body = self.driver.find_element(By.TAG_NAME, "body").text
        except WebDriverException:
            body = ""
        body = " ".join(body.split())[:400]
        return f"at {self.driver.current_url} ({self.driver.title!r}): {body!r}"

    def find(self, css, within=None):
        return (within or self.driver).find_element(By.CSS_SELECTOR, css)

    def find_all(self, css, within=None):
        return (within or self.driver).find_elements(By.CSS_SELECTOR, css)

    def wait_for(self, css, what, timeout=PAGE_TIMEOUT):
        try:
            return WebDriverWait(self.driver, timeout).until(EC.presence_of_element_located((By.CSS_SELECTOR, css)))
        except TimeoutException:
            raise Failed(f"{what}: no element {css} {self.describe()}") from None

    def click_and_load(self, element):
        """Clicks something that loads a new page (a link, a submit button)
        and waits until that page has replaced this one."""
        return self.act_and_load(element.click)

    def act_and_load(self, action):
        """Does something that loads a new page (a click, Enter in a box)
        and waits until that page has replaced this one."""
        # A mark on the current window object: a new document has none. This
        # avoids asking the browser about an element of a document that is
        # being torn down (Selenium's staleness check can then fail with "Node
        # with given id does not belong to the document").
        mark = f"m{time.monotonic_ns()}"
        self.driver.execute_script("window.__e2eMark = arguments[0];", mark)
        action()

        def replaced(driver):
            try:
                return driver.execute_script(
                    "return window.__e2eMark !== arguments[0] && document.readyState === 'complete';",
                    mark,
                )
            except WebDriverException:
                return False  # mid-navigation; ask again

        try:
            WebDriverWait(self.driver, PAGE_TIMEOUT).until(replaced)
        except TimeoutException:
            raise Failed(f"clicking did not load a new page {self.describe()}") from None
        return self.loaded()

    def submit_form(self, form):
        """Clicks the form's submit button, as a person would."""
        button = self.find("button:not([type]), button[type=submit], input[type=submit]", within=form)
        return self.click_and_load(button)

    def form_of(self, element):
        return element.find_element(By.XPATH, "./ancestor::form")

    def fill(self, form, name, value):
        field = self.find(f"[name='{name}']", within=form)
        field.clear()
        field.send_keys(value)
        return field

    def open_composer(self):
        """Opens the home page's composer (collapsed to "Start a thread…",
        a disclosure that works without scripts); its text box."""
        box = self.wait_for("#compose-text", "the composer")
        if not box.is_displayed():
            self.find("summary.composer-start").click()
            WebDriverWait(self.driver, PAGE_TIMEOUT).until(lambda d: box.is_displayed())
        return box

    def post_card(self, text):
        """The post card (<article class="post">) showing this text, or None."""
        for article in self.find_all("article.post"):
            try:
                content = self.find(".content", within=article).text
            except NoSuchElementException:
                content = article.text
            if text in content:
                return article
        return None

    def reload_until(self, what, probe, timeout=FEDERATION_TIMEOUT):
        """Reloads the page until probe() finds what it looks for."""
        def reloaded():
            self.driver.refresh()
            self.loaded()
            return probe()
        return wait_until(what, reloaded, timeout=timeout, interval=0.5)

    @contextlib.contextmanager
    def phone(self):
        """Within: pages are laid out on a phone's screen (PHONE)."""
        self.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
            "width": PHONE[0], "height": PHONE[1], "deviceScaleFactor": 1, "mobile": False,
        })
        try:
            yield self
        finally:
            self.driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})

    def overflow(self):
        """How far the page is wider than the window, if it is: the page's
        width, the window's, and the elements that stick out furthest (none
        inside a box that scrolls or clips them)."""
        return self.driver.execute_script("""
            const root = document.documentElement;
            const width = root.scrollWidth, inner = window.innerWidth, client = root.clientWidth;
            if (width <= inner && width <= client) return null;
            const contained = (e) => {
                for (let a = e.parentElement; a && a !== root; a = a.parentElement) {
                    if (getComputedStyle(a).overflowX !== 'visible') return true;
                }
                return false;
            };
            const out = [];
            for (const e of document.body.querySelectorAll('*')) {
                const right = e.getBoundingClientRect().right;
                if (right > client + 0.5 && !contained(e)) {
                    const cls = typeof e.className === 'string' && e.className ? '.' + e.className.trim().split(/\\s+/).join('.') : '';
                    const text = (e.textContent || '').trim().replace(/\\s+/g, ' ').slice(0, 24);
                    out.push([Math.round(right), e.tagName.toLowerCase() + cls + (text ? ` "${text}"` : '')]);
                }
            }
            out.sort((a, b) => b[0] - a[0]);
            return {width: width, inner: inner, client: client,
                    widest: out.slice(0, 5).map(([r, what]) => `${what} (to ${r} px)`)};
        """)

    def screenshot(self, name):
        """A PNG of the whole page (beyond the window), cut at MAX_SHOT_HEIGHT."""
        metrics = self.driver.execute_cdp_cmd("Page.getLayoutMetrics", {})
        viewport = metrics["cssLayoutViewport"]
        content = metrics["cssContentSize"]
        width = viewport["clientWidth"]
        height = min(max(content["height"], viewport["clientHeight"]), MAX_SHOT_HEIGHT)
        shot = self.driver.execute_cdp_cmd("Page.captureScreenshot", {
            "format": "png",
            "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": width, "height": height, "scale": 1},
        })
        path = os.path.join(self.shots, f"{name}.png")
        with open(path, "wb") as f:
            f.write(base64.b64decode(shot["data"]))
        return path

    def console_errors(self):
        """Uncaught script errors the console logged since the last call."""
        return [entry["message"] for entry in self.driver.get_log("browser")
                if entry.get("level") == "SEVERE" and "Uncaught" in entry.get("message", "")]


# --- running steps ---------------------------------------------------------------


class Steps:
    """Runs named steps in order, prints a log line for each, skips the ones
    that need a page named in --skip, and leaves a screenshot of a failure."""

    def __init__(self, skip, shots, work):
        self.skip = skip
        self.shots = shots
        self.work = work
        self.number = 0
        self.ran = 0
        self.skipped = []
        self.browser = None  # the browser a failure screenshot is taken of

    def skipping(self, needs):
        return any(n in self.skip for n in (needs or ()))

    def run(self, title, body, needs=()):
        self.number += 1
        if isinstance(needs, str):
            needs = (needs,)
        missing = [n for n in needs if n in self.skip]
        if missing:
            print(f"e2e-browser: [{self.number:2}] {title} ... skipped (--skip {','.join(missing)})", flush=True)
            self.skipped.append(title)
            return None
        print(f"e2e-browser: [{self.number:2}] {title} ...", end=" ", flush=True)
        started = time.monotonic()
        try:
            result = body()
        except Failed as e:
            print("FAILED", flush=True)
            self.keep_failure()
            raise Failed(f"step {self.number} ({title}): {e}") from None
        except Exception as e:
            print("FAILED", flush=True)
            traceback.print_exc()
            self.keep_failure()
            raise Failed(f"step {self.number} ({title}): {type(e).__name__}: {e}") from e
        print(f"ok ({time.monotonic() - started:.1f} s)", flush=True)
        self.ran += 1
        return result

    def keep_failure(self):
        if self.browser is None:
            return
        try:
            path = self.browser.screenshot(f"failed-{self.number:02}")
            with open(os.path.join(self.work, f"failed-{self.number:02}.html"), "w") as f:
                f.write(self.browser.driver.page_source)
            print(f"e2e-browser: the page at the failure: {path} (HTML in {self.work})", flush=True)
        except Exception as e:  # the browser itself may be what failed
            print(f"e2e-browser: no screenshot of the failure: {e}", flush=True)


def html_text(content):
    """A post's HTML as plain text, enough to look for words in."""
    parts = []

    class Text(html.parser.HTMLParser):
        def handle_data(self, data):
            parts.append(data)

    Text().feed(content or "")
    return "".join(parts)


def counter_number(text):
    """The numbers a character counter shows ("488", "488 left", "12/500")."""
    return [int(n) for n in re.findall(r"-?\d+", text)]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--alpha", required=True, help="the browser's instance, e.g. http://alpha.test:8080")
    parser.add_argument("--beta", required=True, help="bob's instance, e.g. http://beta.test:8081")
    parser.add_argument("--carol-password", required=True, help="carol's password on alpha")
    parser.add_argument("--bob-token", required=True, help="a token for bob on beta")
    parser.add_argument("--carol-token", required=True, help="a token for carol on alpha")
    parser.add_argument("--screenshots", required=True, help="where the PNGs go")
    parser.add_argument("--work", required=True, help="browser profiles, logs, failure pages")
    parser.add_argument("--axe", required=True, help="axe-core's axe.min.js (npm ci in scripts/e2e/axe)")
    parser.add_argument("--skip", default="", help=f"comma-separated, of: {', '.join(sorted(SKIPPABLE))}")
    args = parser.parse_args()
    skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    unknown = skip - SKIPPABLE
    if unknown:
        parser.error(f"--skip knows {sorted(SKIPPABLE)}, not {sorted(unknown)}")
    os.makedirs(args.screenshots, exist_ok=True)
    for old in os.listdir(args.screenshots):
        if old.endswith(".png"):
            os.remove(os.path.join(args.screenshots, old))

    started = time.monotonic()
    steps = Steps(skip, args.screenshots, args.work)
    drivers = []
    try:
        run(args, steps, drivers)
    except Failed:
        print(f"e2e-browser: screenshots in {args.screenshots}")
        print(f"e2e-browser: {steps.ran} passed, 1 failed")
        raise
    finally:
        for driver, profile in drivers:
            try:
                driver.quit()
            except Exception:
                pass
            shutil.rmtree(profile, ignore_errors=True)
    skipped = f", {len(steps.skipped)} skipped" if steps.skipped else ""
    print(f"e2e-browser: screenshots in {args.screenshots}; took {time.monotonic() - started:.1f} s")
    # The closing line in the plain form CI reads: "N passed, N failed".
    print(f"e2e-browser: {steps.ran} passed, 0 failed{skipped}")
    return 0


def run(args, steps, drivers):
    alpha_host = urllib.parse.urlsplit(args.alpha).netloc
    beta_host = urllib.parse.urlsplit(args.beta).netloc
    bob_acct = f"bob@{beta_host}"
    alpha = Api(args.alpha)
    bob = Api(args.beta, args.bob_token)
    skip = args.skip
    s = {}  # what the steps found, for the later ones

    driver, profile = start_chromium(args.work, javascript=True)
    drivers.append((driver, profile))
    web = Browser(driver, args.alpha, args.screenshots)
    steps.browser = web

    # --- signed out, then a new account ---------------------------------------

    def front_page():
        web.open("/")
        check(web.path() == "/", f"GET / signed out went to {web.path()}")
        web.wait_for("#search-input", "the header's search box")
        check(web.find_all("a[href='/auth/sign_up']") or web.find_all("a[href='/auth/sign_in']"),
              f"the front page links to neither sign up nor sign in {web.describe()}")
        web.screenshot("01-front-page")
        web.open("/home")
        check(web.path().startswith("/auth/sign_in"), f"/home signed out went to {web.path()}, not the sign-in page")

    def sign_up():
        web.open("/auth/sign_up")
        field = web.wait_for("input[name='username']", "the sign-up form")
        form = web.form_of(field)
        check(form.get_attribute("method").lower() == "post", "the sign-up form is not sent with POST")
        check(web.find_all("input[name='csrf_token']", within=form), "the sign-up form has no csrf_token")
        web.screenshot("02-sign-up")
        web.fill(form, "username", "alice")
        web.fill(form, "email", "alice@example.org")
        web.fill(form, "password", "alice signs up in Chromium")
        agreement = web.find_all("input[name='agreement']", within=form)
        if agreement and not agreement[0].is_selected():
            agreement[0].click()
        web.submit_form(form)
        check(web.path().startswith("/home"), f"signing up led to {web.path()}, not /home {web.describe()}")
        check(web.find_all("a[href='/@alice']"), f"the header does not link to @alice after signing up {web.describe()}")
        s["me"] = "alice"

    def sign_in_as_carol():
        sign_in(web, "carol", args.carol_password)
        s["me"] = "carol"

    steps.run("the front page, signed out; /home sends to sign-in", front_page)
    if "sign_up" in skip:
        steps.run("sign carol in (sign-up skipped)", sign_in_as_carol)
    steps.run("sign up as alice (registrations open) and land on /home", sign_up, needs="sign_up")
    me = s["me"]
    my_acct = f"{me}@{alpha_host}"

    # --- the composer, with its script ------------------------------------------

    def compose():
        if not web.path().startswith("/home"):
            web.open("/home")
        web.wait_for("#compose-text", "the composer on /home")
        check(web.find_all("details.composer-box:not([open]) summary.composer-start"),
              f"the composer is not collapsed to \"Start a thread…\" {web.describe()}")
        text_area = web.open_composer()
        counter = web.find("#compose-counter")
        before = counter.text.strip()
        numbers = counter_number(before)
        check(numbers, f"the counter shows {before!r}, no number")
        limit = max(numbers)
        text = "Hello from a real browser #skeinbrowser"
        text_area.send_keys(text)
        wait_until("the character counter follows the typing (the page's script runs)",
                   lambda: (limit - len(text)) in counter_number(counter.text) or Pending(counter.text),
                   timeout=5, interval=0.05)
        # Mastodon counts every link as 23 characters, however long.
        link = " https://example.org/" + "a-rather-long-path/" * 4
        text_area.send_keys(link)
        expected = limit - len(text) - 1 - 23
        wait_until(f"the counter counts the link as 23 characters ({expected} left)",
                   lambda: expected in counter_number(counter.text) or Pending(counter.text),
                   timeout=5, interval=0.05)
        s["post_text"] = text
        web.click_and_load(web.find("#compose-submit"))
        if not web.path().startswith("/home"):
            web.open("/home")
        card = web.post_card(text)
        check(card is not None, f"the new post is not on /home {web.describe()}")
        post_id = card.get_attribute("id").removeprefix("post-")
        check(post_id.isdigit() or post_id, f"the card's id is {card.get_attribute('id')!r}")
        status = alpha.get(f"/api/v1/statuses/{post_id}")
        check(status["account"]["username"] == me, f"the post is by {status['account']['acct']}")
        check(text in html_text(status["content"]), f"the API shows the post as {status['content']!r}")
        check(card.find_elements(By.CSS_SELECTOR, "time[datetime]"), "the card has no <time datetime>")
        s["post_id"] = post_id
        s["post_path"] = f"/@{me}/{post_id}"

    steps.run("post from the composer; the counter moves as she types", compose)

    # --- reply and like on the post page ---------------------------------------

    def reply():
        # Following: For you, where /home opens, leaves one's own posts out.
        web.open("/home?tab=following")
        card = web.post_card(s["post_text"])
        check(card is not None, "the post is gone from /home?tab=following")
        links = [a for a in web.find_all("a", within=card) if (a.get_attribute("href") or "").endswith("#reply")]
        check(links, f"the card has no reply link (…#reply) {web.describe()}")
        web.click_and_load(links[0])
        check(web.path().startswith(s["post_path"]), f"the reply link went to {web.path()}, not {s['post_path']}")
        text_area = web.wait_for("#compose-text", "the reply composer on the post page")
        form = web.form_of(text_area)
        in_reply_to = web.find_all("input[name='in_reply_to_id']", within=form)
        check(in_reply_to and in_reply_to[0].get_attribute("value") == s["post_id"],
              f"the reply composer answers {in_reply_to and in_reply_to[0].get_attribute('value')!r}")
        reply_text = "And a reply from the post page"
        text_area.send_keys(reply_text)
        web.click_and_load(web.find("#compose-submit", within=form))
        web.open(s["post_path"])
        check(web.post_card(reply_text) is not None, f"the reply is not in the thread {web.describe()}")
        wait_until("the post counts one reply",
                   lambda: alpha.get(f"/api/v1/statuses/{s['post_id']}")["replies_count"] == 1, timeout=10)
        s["reply_text"] = reply_text

    def like():
        web.open(s["post_path"])
        card = web.wait_for(f"#post-{s['post_id']}", "the post's card on its page")
        action = f"/web/statuses/{s['post_id']}/like"
        forms = [f for f in web.find_all("form", within=card) if (f.get_attribute("action") or "").endswith(action)]
        check(forms, f"the card has no form to {action}")
        web.submit_form(forms[0])
        card = web.wait_for(f"#post-{s['post_id']}", "the post's card after liking")
        unlike = f"/web/statuses/{s['post_id']}/unlike"
        check(any((f.get_attribute("action") or "").endswith(unlike) for f in web.find_all("form", within=card)),
              f"after liking, the card offers no {unlike} {web.describe()}")
        count = alpha.get(f"/api/v1/statuses/{s['post_id']}")["favourites_count"]
        check(count == 1, f"the post counts {count} likes, not 1")
        web.screenshot("04-post-thread")

    steps.run("reply to the post from its page", reply, needs="reply")
    steps.run("like the post; the button turns to unlike", like, needs="like")

    # --- find bob on beta and follow him ------------------------------------------

    def search():
        web.open("/home")
        box = web.wait_for("#search-input", "the search box")
        box.send_keys(f"@{bob_acct}")
        web.act_and_load(lambda: box.send_keys(Keys.ENTER))
        check(web.path().startswith("/search"), f"the search box led to {web.path()}")
        links = [a for a in web.find_all("a") if f"/@{bob_acct}" in urllib.parse.unquote(a.get_attribute("href") or "")]
        check(links, f"the results have no link to /@{bob_acct} {web.describe()}")
        web.screenshot("05-search-results")
        web.click_and_load(links[0])

    def open_profile():
        web.open(f"/@{bob_acct}")

    def follow():
        check(f"/@{bob_acct}" in urllib.parse.unquote(web.path()), f"not on bob's profile but {web.path()}")
        button = web.wait_for("#follow-button", "the follow button on bob's profile")
        web.screenshot("06-remote-profile")
        check(web.form_of(button).get_attribute("action").endswith("/follow"),
              f"the follow button's form goes to {web.form_of(button).get_attribute('action')}")
        web.click_and_load(button)

        def following():
            found = web.find_all("#follow-button")
            if not found:
                return Pending("no #follow-button")
            action = web.form_of(found[0]).get_attribute("action")
            label = found[0].text
            # A follow still waiting for beta's Accept also goes to
            # /unfollow, as a button that cancels the request.
            done = action.endswith("/unfollow") and "request" not in label.lower()
            return done or Pending(f"{action}: {label!r}")
        if not following():
            web.reload_until("the profile offers to unfollow (beta's Accept arrived)", following)

        def on_beta():
            me_on_beta = bob.get("/api/v1/accounts/verify_credentials")
            accts = [a["acct"] for a in bob.get(f"/api/v1/accounts/{me_on_beta['id']}/followers")]
            return my_acct in accts or Pending(accts)
        wait_until(f"beta lists {my_acct} among bob's followers", on_beta)

    if "search" in skip:
        steps.run(f"open /@{bob_acct} directly (search skipped)", open_profile, needs="follow")
    steps.run(f"search @{bob_acct} in the search box and open the result", search, needs="search")
    steps.run("press follow; beta accepts", follow, needs="follow")

    def bob_posts():
        text = "Fresh from beta, for alice's home"
        bob.post("/api/v1/statuses", {"status": text, "visibility": "public"})
        web.open("/home?tab=following")
        card = web.reload_until("bob's new post on /home?tab=following", lambda: web.post_card(text))
        check(bob_acct.split(":")[0] in card.text, f"the card does not name {bob_acct}: {card.text!r}")
        web.screenshot("03-home")
        with web.phone():
            web.loaded()
            web.screenshot("11-home-phone")
        # The dark theme follows the system setting.
        web.driver.execute_cdp_cmd("Emulation.setEmulatedMedia",
                                   {"features": [{"name": "prefers-color-scheme", "value": "dark"}]})
        try:
            web.loaded()
            web.screenshot("13-home-dark")
        finally:
            web.driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": []})

    def home_without_bob():
        web.open("/home")
        web.screenshot("03-home")

    if steps.skipping(("follow",)):
        steps.run("screenshot /home", home_without_bob)
    steps.run("bob posts on beta; it arrives on /home", bob_posts, needs="follow")

    def mute_and_unmute():
        web.open(f"/@{bob_acct}")
        summary = web.wait_for("main details.menu > summary", "the profile's menu")
        summary.click()
        button = web.wait_for("#mute-button", "the mute button in the opened menu")
        web.screenshot("14-profile-menu")
        web.click_and_load(button)
        web.wait_for("#unmute-button", "the unmute button once bob is muted")
        web.open("/settings/mutes")
        rows = [a for a in web.find_all(".account-row a.name")
                if f"/@{bob_acct}" in urllib.parse.unquote(a.get_attribute("href") or "")]
        check(rows, f"/settings/mutes does not list bob {web.describe()}")
        forms = [f for f in web.find_all("form") if (f.get_attribute("action") or "").endswith("/unmute")]
        check(forms, "/settings/mutes offers no unmute")
        web.screenshot("15-settings-mutes")
        web.submit_form(forms[0])
        check(any("mute no one" in p.text for p in web.find_all("p.empty")),
              f"bob is still listed after unmuting {web.describe()}")

    steps.run("mute bob from his profile's menu, then unmute him in the settings", mute_and_unmute,
              needs="follow")

    # --- notifications, profile, settings -----------------------------------------

    def notifications():
        found = bob.get(f"/api/v2/search?q=%40{urllib.parse.quote(my_acct)}&resolve=true&type=accounts")
        accounts = [a for a in found["accounts"] if a["acct"] == my_acct]
        check(accounts, f"beta did not resolve @{my_acct}: {[a['acct'] for a in found['accounts']]}")
        bob.post(f"/api/v1/accounts/{accounts[0]['id']}/follow")
        uri = alpha.get(f"/api/v1/statuses/{s['post_id']}")["uri"]
        found = bob.get(f"/api/v2/search?q={urllib.parse.quote(uri)}&resolve=true&type=statuses")
        check(found["statuses"], f"beta did not resolve {uri}")
        bob.post(f"/api/v1/statuses/{found['statuses'][0]['id']}/favourite")
        web.open("/notifications")

        def both():
            lines = [line.lower() for line in web.find("main").text.splitlines() if bob_acct in line]
            wanted = {"follow": ("followed",), "like": ("liked", "favourite")}
            missing = [kind for kind, words in wanted.items()
                       if not any(w in line for line in lines for w in words)]
            return not missing or Pending(f"no line naming {bob_acct} for {missing}; lines: {lines}")
        web.reload_until("bob's follow and like on /notifications", both)
        web.screenshot("07-notifications")

    def own_profile():
        web.open(f"/@{me}")
        check(web.post_card(s["post_text"]) is not None, f"the profile does not show the post {web.describe()}")
        web.screenshot("08-profile")

    def settings():
        web.open("/settings/profile")
        field = web.wait_for("[name='display_name']", "the display name field")
        web.screenshot("09-settings")
        form = web.form_of(field)
        web.fill(form, "display_name", "Alice in Chromium")
        web.submit_form(form)
        account = alpha.get(f"/api/v1/accounts/lookup?acct={me}")
        check(account["display_name"] == "Alice in Chromium",
              f"the display name is {account['display_name']!r} after saving")
        web.open(f"/@{me}")
        check("Alice in Chromium" in web.find("main").text, f"the profile does not show the new name {web.describe()}")

    steps.run("bob follows and likes; alice reads /notifications", notifications, needs=("notifications",))
    steps.run("alice's profile shows her post", own_profile, needs="profile")
    steps.run("change the display name in /settings/profile", settings, needs="settings")

    # --- Threads' layout: the icon bar, the composer as a sheet, threads, feeds --

    def icon_bar():
        web.open("/home")
        bar = web.wait_for("ul.iconbar", "the icon bar")
        names = {}
        for link in web.find_all("a.icon-link", within=bar):
            name = " ".join((link.get_attribute("textContent") or "").split())
            check(name, f"an icon of the bar has no accessible name: {link.get_attribute('href')}")
            names[urllib.parse.urlsplit(link.get_attribute("href")).path] = name
        for path in ("/home", "/explore", "/compose", "/notifications", f"/@{me}"):
            check(path in names, f"the icon bar has no link to {path}: {names}")
        check(web.find("a.icon-link[href='/home']").get_attribute("aria-current") == "page",
              "the icon bar does not mark Home as the current page")
        # One row, whatever the name's length (alpha's is long).
        height = web.driver.execute_script("return document.querySelector('header.top').offsetHeight")
        check(height < 80, f"the header is {height} px high: it wrapped {web.describe()}")
        with web.phone():
            web.loaded()
            where = web.driver.execute_script("""
                const r = document.querySelector('ul.iconbar').getBoundingClientRect();
                return {top: r.top, bottom: r.bottom, inner: window.innerHeight,
                        header: document.querySelector('header.top').offsetHeight};""")
            check(abs(where["bottom"] - where["inner"]) < 2,
                  f"on a phone the icon bar is not at the bottom of the screen: {where}")
            check(where["header"] < 70, f"on a phone the header is {where['header']} px high: it wrapped")
            wide = web.overflow()
            check(not wide, f"/home is wider than a phone: {wide}")
            web.screenshot("17-home-phone-icon-bar")

    def thread_from_sheet():
        web.open("/home")
        compose = web.wait_for("a.compose-link", "the icon bar's compose link")
        compose.click()
        web.wait_for("#composer.sheet[open]", "the composer opened as a sheet")
        focused = web.driver.execute_script("return document.activeElement && document.activeElement.id")
        check(focused == "compose-text", f"the sheet did not put the focus in the text box but in {focused!r}")
        # Escape closes it, the focus back on the compose link.
        web.driver.switch_to.active_element.send_keys(Keys.ESCAPE)
        wait_until("Escape closes the sheet", lambda: not web.find_all("#composer[open]"), timeout=5)
        compose.click()
        text_area = web.wait_for("#composer.sheet[open] #compose-text", "the sheet, opened again")
        web.screenshot("18-composer-sheet")
        texts = ["A thread from the sheet, one", "two, a reply to one", "three, a reply to two"]
        text_area.send_keys(texts[0])
        web.find("#compose-thread-1").send_keys(texts[1])
        web.find("#compose-thread-2").send_keys(texts[2])
        web.click_and_load(web.find("#compose-submit"))
        check(web.path().startswith("/home"), f"posting a thread led to {web.path()}, not back to the feed")
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(web.driver.current_url).query)
        check(query.get("posted"), f"the feed was not told which post is new: {web.driver.current_url}")
        first = query["posted"][0]
        cards = web.find_all("article.post")
        check(cards and cards[0].get_attribute("id") == f"post-{first}",
              f"the new post is not on top of the feed {web.describe()}")
        context = alpha.get(f"/api/v1/statuses/{first}/context")
        chain = [first] + [d["id"] for d in context["descendants"]]
        check(len(chain) == 3, f"the thread has {len(chain)} posts: {chain}")
        answers = [d["in_reply_to_id"] for d in context["descendants"]]
        check(answers == chain[:2], f"the thread's posts answer {answers}, not {chain[:2]}")
        s["thread"] = chain

    def for_you_and_explore():
        # /home opens on For you, as Threads does.
        web.open("/home")
        current = web.find_all("nav.feed-tabs a[aria-current='page']")
        check(current and current[0].text.strip() == "For you", f"/home does not open on For you {web.describe()}")
        check(web.find_all("#for-you-ranking"), "the For you tab does not explain its ranking")
        web.screenshot("19-for-you")
        web.open("/explore")
        for heading in ("Trending hashtags", "Who to follow", "Trending posts"):
            check(heading in web.find("main").text, f"Explore has no {heading!r} {web.describe()}")
        check(web.find("a.icon-link[href='/explore']").get_attribute("aria-current") == "page",
              "the icon bar does not mark Explore as the current page")
        web.screenshot("20-explore")

    def activity_tabs():
        web.open("/notifications")
        tabs = [(a.text.strip(), a.get_attribute("href")) for a in web.find_all("nav.activity-tabs a")]
        labels = [t for t, _ in tabs]
        check(labels == ["All", "Follows", "Replies", "Mentions", "Quotes", "Reposts", "Verified"],
              f"the Activity tabs are {labels}")
        if not steps.skipping(("notifications",)):
            check("liked your post" in web.find("main").text, f"All does not show bob's like {web.describe()}")
        web.screenshot("21-activity")
        for label, href in tabs[1:]:
            web.open(urllib.parse.urlsplit(href).path + "?" + urllib.parse.urlsplit(href).query)
            current = web.find_all("nav.activity-tabs a[aria-current='page']")
            check(current and current[0].text.strip() == label, f"{label} is not the current tab {web.describe()}")
            text = web.find("main").text
            if label == "Follows" and not steps.skipping(("notifications",)):
                check("followed you" in text and "liked your post" not in text,
                      f"Follows shows {text[:300]!r}")
            if label == "Reposts":
                check("liked your post" not in text, f"Reposts shows likes: {text[:300]!r}")

    steps.run("the icon bar: its names, one header row, at the bottom on a phone", icon_bar)
    steps.run("compose a three-post thread from the icon bar's sheet; back on the feed, on top",
              thread_from_sheet, needs="threads")
    steps.run("the For you tab and Explore", for_you_and_explore)
    steps.run("every Activity tab", activity_tabs)

    def no_console_errors():
        errors = web.console_errors()
        check(not errors, f"the console logged script errors: {errors}")

    steps.run("no uncaught script error in the console", no_console_errors)

    # --- a second browser, JavaScript off -------------------------------------------

    def no_js():
        driver, profile = start_chromium(args.work, javascript=False)
        drivers.append((driver, profile))
        plain = Browser(driver, args.alpha, args.screenshots)
        steps.browser = plain
        plain.open("/")
        check(plain.post_card(s["post_text"]) is not None,
              f"the front page, signed out, does not show alice's public post {plain.describe()}")
        plain.screenshot("12-front-page-later")
        plain.open("/auth/sign_in")
        plain.wait_for("input[name='login']", "the sign-in form")
        plain.screenshot("10-sign-in")
        sign_in(plain, "carol", args.carol_password)
        plain.wait_for("#compose-text", "the composer without JavaScript")
        text_area = plain.open_composer()
        counter = plain.find("#compose-counter")
        before = counter.text
        text = "Posted with JavaScript turned off"
        text_area.send_keys(text)
        # Nothing to wait for: with scripts off the counter never moves, and
        # what it shows now is what the server rendered.
        check(counter.text == before, f"the counter moved ({before!r} → {counter.text!r}): JavaScript is on")
        plain.click_and_load(plain.find("#compose-submit"))
        if not plain.path().startswith("/home"):
            plain.open("/home")
        check(plain.post_card(text) is not None, f"the post made without JavaScript is not on /home {plain.describe()}")

    steps.run("without JavaScript: sign carol in and post", no_js, needs="no_js")

    # --- settings and administration on a phone ----------------------------------

    def phone():
        driver, profile = start_chromium(args.work, javascript=True)
        drivers.append((driver, profile))
        admin = Browser(driver, args.alpha, args.screenshots)
        steps.browser = admin
        sign_in(admin, "carol", args.carol_password)
        long_domain = "a-rather-long-subdomain-name.federated-knitting-circle.example"
        long_word = "Unbreakablewordwithoutanyspacesatall" * 3
        long_link = "https://example.org/" + "a-long-path-segment/" * 6

        # Long names and addresses where the pages show them: a server
        # blocked by carol herself and by the instance, and a report.
        admin.open("/settings/domain_blocks")
        form = admin.form_of(admin.wait_for("input[name='domain']", "the form that blocks a server"))
        admin.fill(form, "domain", "blocked-by-carol." + long_domain)
        admin.submit_form(form)
        admin.open("/admin/domains")
        form = admin.form_of(admin.wait_for("#domain", "the admin form that blocks a domain"))
        admin.fill(form, "domain", long_domain)
        admin.fill(form, "public_comment", f"{long_word} {long_link}")
        admin.fill(form, "private_comment", long_word)
        admin.submit_form(form)
        check(long_domain in admin.find("main").text, f"the blocked domain is not listed {admin.describe()}")
        if me != "carol":
            account = alpha.get(f"/api/v1/accounts/lookup?acct={me}")
            admin.open(f"/web/accounts/{account['id']}/report")
            form = admin.form_of(admin.wait_for("textarea[name='comment']", f"the form that reports {me}"))
            admin.fill(form, "comment", f"{long_word} {long_link}")
            for box in admin.find_all("input[name='post']", within=form)[:1]:
                box.click()
            admin.submit_form(form)

        # Every page of both areas, as their menus and tabs link them.
        areas = ("/settings/", "/follow_requests", "/admin")
        queue, seen, failures = ["/settings/profile", "/admin"], set(), []
        with admin.phone():
            while queue:
                path = queue.pop(0)
                if path in seen:
                    continue
                seen.add(path)
                admin.open(path)
                check(not admin.path().startswith("/auth/sign_in"), f"{path} sent carol to sign in")
                if path.startswith("/admin"):
                    check(admin.find_all("nav[aria-label='Administration']"),
                          f"{path} is not an admin page for carol {admin.describe()}")
                for link in admin.find_all("nav.tabs a[href]"):
                    parts = urllib.parse.urlsplit(link.get_attribute("href"))
                    target = parts.path + (f"?{parts.query}" if parts.query else "")
                    if target.startswith(areas) and target not in seen:
                        queue.append(target)
                name = re.sub(r"[^a-z0-9]+", "-", path.lower()).strip("-")
                admin.screenshot(f"16-phone-{name}")
                wide = admin.overflow()
                if wide:
                    failures.append(f"{path} is {wide['width']} px wide in a {wide['inner']} px window "
                                    f"({wide['client']} px inside its scroll bar); furthest out: "
                                    f"{', '.join(wide['widest']) or 'nothing outside a scrolling box'}")
        check(len([p for p in seen if p.startswith("/settings/")]) >= 10,
              f"the settings menu led to only {sorted(seen)}")
        check(len([p for p in seen if p.startswith("/admin")]) >= 5, f"the admin menu led to only {sorted(seen)}")
        check(not failures, "pages wider than a phone:\n  " + "\n  ".join(failures))
        print(f"({len(seen)} pages)", end=" ", flush=True)

    steps.run(f"as alpha's admin on a {PHONE[0]}x{PHONE[1]} phone: no settings or admin page is wider",
              phone, needs="phone")

    # --- every main page: axe, width, screenshots; the keyboard ------------------

    with open(args.axe, encoding="utf-8") as f:
        axe_source = f.read()
    post_path = s.get("post_path", f"/@{me}")
    signed_out_pages = [
        ("front-page", "/"), ("profile", f"/@{me}"), ("thread", post_path),
        ("search", "/search?q=skeinbrowser"), ("tag", "/tags/skeinbrowser"), ("about", "/about"),
        ("sign-in", "/auth/sign_in"), ("sign-up", "/auth/sign_up"),
    ]
    signed_in_pages = [
        ("front-page", "/"), ("home", "/home"), ("profile", f"/@{me}"), ("own-profile", "/@carol"),
        ("thread", post_path), ("search", "/search?q=skeinbrowser"), ("notifications", "/notifications"),
        ("settings-profile", "/settings/profile"), ("settings-privacy", "/settings/privacy"),
        ("admin", "/admin"), ("admin-accounts", "/admin/accounts"), ("admin-rules", "/admin/rules"),
        ("admin-about", "/admin/about"), ("admin-announcements", "/admin/announcements"), ("about", "/about"),
    ]

    def audit_pages():
        # A picture posted without a description: its link must still have
        # a name (on the front page, carol's profile and home).
        carol_api = Api(args.alpha, args.carol_token)
        with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "static", "avatar.png"),
                  "rb") as f:
            media = carol_api.upload("/api/v2/media", "picture.png", "image/png", f.read())
        wait_until("the upload is processed",
                   lambda: carol_api.get(f"/api/v1/media/{media['id']}").get("url") or Pending(media["id"]),
                   timeout=30, interval=0.25)
        carol_api.post("/api/v1/statuses", {"status": "A picture with no description", "media_ids": [media["id"]],
                                             "visibility": "public"})
        driver, profile = start_chromium(args.work, javascript=True)
        drivers.append((driver, profile))
        auditor = Browser(driver, args.alpha, args.screenshots)
        steps.browser = auditor
        failures = audit.pages(auditor, "signed-out", signed_out_pages, axe_source)
        sign_in(auditor, "carol", args.carol_password)
        failures += audit.pages(auditor, "signed-in", signed_in_pages, axe_source)
        s["auditor"] = auditor
        check(not failures, f"{len(failures)} problems:\n  " + "\n  ".join(failures))
        print(f"({len(signed_out_pages) + len(signed_in_pages)} pages x 2 themes x 2 sizes)", end=" ", flush=True)

    steps.run("every main page, signed out and in, light and dark, desktop and phone: "
              "axe finds nothing, nothing wider than the window", audit_pages, needs="audit")

    def keyboard():
        auditor = s["auditor"]
        auditor.open(f"/@{me}")
        body = auditor.find("body")
        body.send_keys(Keys.TAB)
        focused = auditor.driver.switch_to.active_element
        check(focused.get_attribute("class") == "skip", "the first Tab does not reach the skip link")
        ring = auditor.driver.execute_script(
            "const s = getComputedStyle(document.activeElement); return [s.outlineStyle, s.outlineWidth];")
        check(ring[0] != "none" and ring[1] != "0px", f"the focused skip link shows no focus ring: {ring}")
        summary = auditor.wait_for("main details.menu > summary", "the profile's menu")
        summary.click()
        check(auditor.find("main details.menu").get_attribute("open") is not None, "the menu did not open")
        auditor.driver.switch_to.active_element.send_keys(Keys.ESCAPE)
        wait_until("Escape closes the menu", lambda: auditor.find("main details.menu").get_attribute("open") is None,
                   timeout=5, interval=0.05)
        focused = auditor.driver.switch_to.active_element
        check(focused.tag_name == "summary", f"after Escape, focus is on <{focused.tag_name}>, not the menu's button")
        # An action keeps focus on its control: mute from the menu, then
        # the menu's button has focus on the page that comes back (the
        # menu is closed again, with Unmute inside).
        summary = auditor.find("main details.menu > summary")
        summary.click()
        mute = auditor.wait_for("#mute-button", "the mute button in the opened menu")
        auditor.click_and_load(mute)
        unmute = auditor.wait_for("#unmute-button", "the unmute button once muted")
        wait_until("focus is back on the menu's button after the action",
                   lambda: auditor.driver.switch_to.active_element.tag_name == "summary"
                   or Pending(auditor.driver.switch_to.active_element.tag_name), timeout=5, interval=0.05)
        auditor.find("main details.menu > summary").click()
        auditor.click_and_load(unmute)

    steps.run("the keyboard: skip link with a focus ring, Escape closes a menu, focus kept after an action",
              keyboard, needs="audit")


def sign_in(web, login, password):
    web.open("/auth/sign_in")
    field = web.wait_for("input[name='login']", "the sign-in form")
    form = web.form_of(field)
    web.fill(form, "login", login)
    web.fill(form, "password", password)
    web.submit_form(form)
    check(web.path().startswith("/home"), f"signing in as {login} led to {web.path()} {web.describe()}")


def out_of_time(_signal, _frame):
    raise Failed(f"the run took longer than {RUN_TIMEOUT} s")


if __name__ == "__main__":
    signal.signal(signal.SIGALRM, out_of_time)
    signal.alarm(RUN_TIMEOUT)
    try:
        sys.exit(main())
    except Failed as e:
        print(f"e2e-browser: {e}", file=sys.stderr)
        sys.exit(1)
