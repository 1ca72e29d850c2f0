"""Sends the battery of fediverse-pasture-inputs (PyPI) to a running Skein and
checks, example by example, what Skein stored and shows.

How: this process serves the pasture's one actor (its actor document, its
`/images/` and the two Notes the inputs reply to and quote under `/assets/`)
and sends every example of every input group with the pasture's own
ActivitySender: a Create, signed by the actor, addressed to the public and to
one local account, POSTed to that account's inbox, as the pasture sends it to
any application. Then it reads back what Skein made of each post (see
`SkeinReader`) and judges it against what Mastodon does with the same
example. Differences Skein means to keep are listed in ALLOWED, each with its
reason; an allowed example that stops differing fails too, so the list stays
true.

The inputs name their host `pasture-one-actor` without a port; this driver
adds its port to every such URL before sending.

usage: inputs.py SKEIN_URL ACCOUNT_URI PORT DATA_DIR
  e.g. inputs.py http://skein.test:8080 http://skein.test:8080/users/alice 2917 /tmp/d/data
Exit status 0 when every example is as expected or allowed.
"""

import asyncio
import hashlib
import html
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
import urllib.parse
import urllib.request
from dataclasses import dataclass
from glob import glob
from html.parser import HTMLParser
from pathlib import Path

import aiohttp
from quart import Quart

from fediverse_pasture.data_provider import DataProvider, bovine_actor_for_actor_data
from fediverse_pasture.runner import ActivitySender
from fediverse_pasture.server import BlueprintForActors, assets_blueprint_for_directory
from fediverse_pasture.server.image_provider_blueprint import image_provider_blueprint

def _shim_warnings_deprecated():
    """fediverse-pasture-inputs from 0.3.1 on says it needs Python 3.13, for
    one name only: `warnings.deprecated` (new in 3.13) on three of its own
    accessors this driver does not call. typing_extensions (a dependency of
    the pasture) has the same decorator; put it where the package looks, so
    the battery runs on the Python 3.11 this machine has."""
    import warnings

    if not hasattr(warnings, "deprecated"):
        from typing_extensions import deprecated

        warnings.deprecated = deprecated


_shim_warnings_deprecated()
from fediverse_pasture_inputs import available  # noqa: E402

HOST = "pasture-one-actor"
PUBLIC = "https://www.w3.org/ns/activitystreams#Public"

# (group, example number from 1) -> why Skein differs from Mastodon there.
# `None` as the number covers the whole group.
ALLOWED = {
    ("attachments", 11): "Skein keeps up to 16 attachments of a remote post; Mastodon keeps 4",
    ("image_attachments", 1): "Skein does not download remote media: an undeclared kind stays unknown (Mastodon sniffs the file)",
    ("image_attachments", 5): "Skein keeps the declared kind; Mastodon sniffs the file and calls SVG unknown",
    ("image_attachments", 6): "Skein keeps the declared kind; Mastodon sniffs the file and calls EPS unknown",
    ("image_attachments", 8): "Skein keeps the declared kind; Mastodon sniffs the file and calls TIFF unknown",
    ("image_attachments", 11): "Skein does not download remote media: an undeclared kind stays unknown (Mastodon sniffs the file)",
    ("image_attachments", 12): "Skein does not download remote media: an undeclared kind stays unknown (Mastodon sniffs the file)",
    ("emoji", 4): "Skein keeps a post whose Emoji icon is a bare URL, without the emoji; Mastodon fails on it",
    ("in_reply_to", 3): "Skein keeps a post whose inReplyTo is a list, without a reply link; Mastodon fails on it",
    ("in_reply_to", 5): "Skein keeps a post whose inReplyTo is a list, without a reply link; Mastodon fails on it",
    ("necessary_properties", 4): "Skein refuses an object whose attributedTo does not name the sender (origin check); Mastodon takes the activity's actor",
    ("object_types", 1): "Skein reads an Article as a Note (its name as a bold first line); Mastodon shows its title and a link",
    ("object_types", 2): "Skein reads Note, Question, Article and Page; Mastodon also shows Audio, Image, Video and Event as a title and a link",
    ("object_types", 4): "Skein reads Note, Question, Article and Page; Mastodon also shows Audio, Image, Video and Event as a title and a link",
    ("object_types", 5): "Skein reads Note, Question, Article and Page; Mastodon also shows Audio, Image, Video and Event as a title and a link",
    ("object_types", 7): "Skein reads a Page as a Note (its name as a bold first line); Mastodon shows its title and a link",
    ("object_types", 12): "Skein reads Note, Question, Article and Page; Mastodon also shows Audio, Image, Video and Event as a title and a link",
    ("object_types", 14): "Skein reads a Note that is also an Article as a Note; Mastodon shows its title and a link",
    ("quotes", 5): "Skein reads a quote given only as a FEP-e232 Link tag (as Misskey and Akkoma send it); Mastodon ignores the tag",
    ("html_tags_article", None): "Skein reads an Article as a Note and shows its sanitised content; Mastodon shows its title and a link",
}

# The kind Mastodon gives an attachment after downloading and sniffing it,
# where that differs from what the activity declares: (group, number) -> kind.
SNIFFED_KIND = {
    ("image_attachments", 1): "image",
    ("image_attachments", 5): "unknown",
    ("image_attachments", 6): "unknown",
    ("image_attachments", 8): "unknown",
    ("image_attachments", 11): "image",
    ("image_attachments", 12): "image",
}

# Mastodon's allow-list for remote HTML (its sanitizer's strict config).
ALLOWED_ELEMENTS = {
    "p", "span", "br", "a", "del", "pre", "code", "em", "strong", "b", "i", "u",
    "ul", "ol", "li", "blockquote",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "rel", "class"},
    "span": {"class"},
    "ol": {"start", "reversed"},
    "li": {"value"},
}
ALLOWED_CLASS = re.compile(r"^(h|p|u|dt|e)-|^(mention|hashtag|ellipsis|invisible)$")
# Elements whose text Mastodon drops with them.
DROPPED_WITH_TEXT = {"script", "style", "title", "head", "template", "noscript"}


# ---------------------------------------------------------------- reading side


def socket_dir(data_dir: str) -> str:
    """Where Skein's embedded PostgreSQL listens (src/db/embedded.rs,
    socket_dir_for)."""
    cluster = os.path.join(os.path.realpath(data_dir), "postgres")
    preferred = os.path.join(cluster, "run")
    if len(os.path.join(preferred, ".s.PGSQL.5432")) <= 100:
        return preferred
    short = hashlib.sha256(cluster.encode()).hexdigest()[:12]
    return os.path.join(tempfile.gettempdir(), f"skein-pg-{short}")


def psql_binary() -> str:
    found = shutil.which("psql") or next(iter(sorted(glob("/usr/lib/postgresql/*/bin/psql"))), None)
    if not found:
        sys.exit("inputs: psql not found (install the postgresql package)")
    return found


STATUSES_SQL = """
select coalesce(json_agg(s), '[]'::json) from (
  select p.ap_id as uri,
         coalesce(p.url, p.ap_id) as url,
         p.content,
         p.summary as spoiler_text,
         p.sensitive,
         p.language,
         p.visibility,
         p.in_reply_to_ap_id,
         parent.ap_id as in_reply_to_uri,
         author.ap_id as account_uri,
         p.quote_ap_id as quote_uri,
         (select coalesce(json_agg(a.ap_id order by a.ap_id), '[]'::json)
            from post_mentions m join actors a on a.id = m.actor_id
           where m.post_id = p.id) as mentions,
         (select coalesce(json_agg(t.tag order by t.tag), '[]'::json)
            from post_tags t where t.post_id = p.id) as tags,
         (select coalesce(json_agg(e.shortcode order by e.shortcode), '[]'::json)
            from post_emojis e where e.post_id = p.id) as emojis,
         (select coalesce(json_agg(json_build_object(
                   'type', m.kind, 'url', m.url, 'description', m.description)
                 order by m.position), '[]'::json)
            from attachments m where m.post_id = p.id) as media_attachments
    from posts p
    join actors author on author.id = p.author_id
    left join posts parent on parent.id = p.in_reply_to_id
   where author.ap_id = :'actor'
) s
"""


class SkeinReader:
    """What Skein stored and shows for the pasture actor's posts, as
    Mastodon-API-shaped statuses (uri, url, content, spoiler_text, sensitive,
    language, visibility, mentions, tags, media_attachments, ...), keyed by
    the object id. Reads the database directly and the public pages over
    HTTP; the one place to change once Skein has a client API."""

    def __init__(self, skein_url: str, data_dir: str):
        self.skein_url = skein_url.rstrip("/")
        self.data_dir = data_dir

    def statuses(self, actor_id: str) -> dict[str, dict]:
        command = [
            psql_binary(), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1",
            "-v", f"actor={actor_id}",
            "-h", socket_dir(self.data_dir), "-U", "skein", "-d", "skein",
        ]
        result = subprocess.run(command, input=STATUSES_SQL, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            sys.exit(f"inputs: reading Skein's database failed: {result.stderr}")
        return {s["uri"]: s for s in json.loads(result.stdout)}

    def tag_page(self, tag: str) -> str:
        """The public page of a hashtag."""
        url = f"{self.skein_url}/tags/{urllib.parse.quote(tag)}"
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.read().decode()


# ------------------------------------------------------------- HTML helpers


class _Html(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict]] = []
        self.text: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))
        if tag in DROPPED_WITH_TEXT:
            self._skip += 1
        if tag in ("br", "p", "li"):
            self.text.append(" ")

    def handle_endtag(self, tag):
        if tag in DROPPED_WITH_TEXT and self._skip:
            self._skip -= 1
        if tag in ("p", "li", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre"):
            self.text.append(" ")

    def handle_data(self, data):
        if not self._skip:
            self.text.append(data)


def parse_html(fragment: str) -> _Html:
    parser = _Html()
    parser.feed(fragment or "")
    parser.close()
    return parser


def words(fragment: str) -> set[str]:
    return set(re.findall(r"\w+", "".join(parse_html(fragment).text)))


def unsafe_markup(content: str) -> str | None:
    """Why stored HTML breaks Mastodon's allow-list, or None."""
    for tag, attrs in parse_html(content).elements:
        if tag not in ALLOWED_ELEMENTS:
            return f"<{tag}> kept"
        for name, value in attrs.items():
            if name not in ALLOWED_ATTRIBUTES.get(tag, set()):
                return f"{tag}[{name}] kept"
            if name == "class" and not all(ALLOWED_CLASS.search(c) for c in (value or "").split()):
                return f"class {value!r} kept"
            if name == "href" and not re.match(r"^(https?|dat|dweb|ipfs|ipns|ssb|gopher|xmpp|magnet|gemini):", value or ""):
                return f"href {value!r} kept"
        if tag == "a" and not {"nofollow", "noopener"} <= set((attrs.get("rel") or "").split()):
            return "a link without rel=nofollow noopener"
    return None


def short(value, width=60) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    text = text.replace("\n", "\\n")
    return text if len(text) <= width else text[: width - 1] + "…"


# ------------------------------------------------------------------- checks


@dataclass
class Outcome:
    """`shown` is what Skein has; `ok` whether Mastodon would show the same;
    `sound` whether Skein's result is acceptable at all (safe HTML, text
    kept): an allowed difference must still be sound."""

    shown: str
    ok: bool
    expected: str = ""
    sound: bool = True


def stored_or_not(status, want: bool) -> Outcome | None:
    if want and status is None:
        return Outcome("not stored", False, "stored")
    if not want and status is not None:
        return Outcome("stored", False, "not stored")
    if status is None:
        return Outcome("not stored", True, "not stored")
    return None


def check_content(example, status, expect_element=None, expect_absent=()) -> Outcome:
    """Content as Mastodon shows it: sanitised to its allow-list, the text
    kept, `expect_element` kept and `expect_absent` dropped."""
    if (o := stored_or_not(status, True)) is not None:
        return o
    content = status["content"]
    source = example.get("content") or next(iter((example.get("contentMap") or {}).values()), "")
    problem = unsafe_markup(content)
    missing = words(source) - words(content)
    tags = {t for t, _ in parse_html(content).elements}
    if problem:
        return Outcome(short(content), False, f"its allow-list ({problem})", sound=False)
    if missing:
        return Outcome(short(content), False, f"text kept (lost {sorted(missing)})", sound=False)
    if expect_element and expect_element not in tags:
        return Outcome(short(content), False, f"<{expect_element}> kept")
    for absent in expect_absent:
        if absent in tags:
            return Outcome(short(content), False, f"<{absent}> dropped")
    return Outcome(short(content), True)


def expected_tag(tag_name: str) -> str | None:
    """A hashtag's name as Mastodon stores it (Tag.find_or_create_by_names):
    without '#' and every character but letters, digits and '_', lowercase,
    and only when a letter or '_' is left."""
    name = "".join(c for c in tag_name.lower() if c.isalnum() or c == "_")
    return name if any(c.isalpha() or c == "_" for c in name) else None


def check_tags(reader, example, status) -> Outcome:
    if (o := stored_or_not(status, True)) is not None:
        return o
    tags = example.get("tag") or []
    tags = tags if isinstance(tags, list) else [tags]
    expected = sorted({
        name for tag in tags
        if isinstance(tag, dict) and tag.get("type") == "Hashtag"
        and (name := expected_tag(tag.get("name", "")))
    })
    shown = status["tags"]
    if shown != expected:
        return Outcome(short(shown), False, short(expected))
    # What Skein shows: the tag's public page lists the post.
    for name in shown:
        if html.escape(status["url"]) not in reader.tag_page(name):
            return Outcome(f"{short(shown)}, not on /tags/{name}", False, short(expected))
    return Outcome(short(shown) + (" (on its tag page)" if shown else ""), True)


def mastodon_media(example) -> list[dict]:
    """The attachments Mastodon makes of an example: every item with an
    http(s) `url` (never `href`), up to 4, described by summary or name."""
    items = example.get("attachment") or []
    items = items if isinstance(items, list) else [items]
    out = []
    for item in items:
        url = item.get("url")
        if isinstance(url, list):
            url = url[0] if url else None
        if isinstance(url, dict):
            url = url.get("href")
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            continue
        media_type = item.get("mediaType") or ""
        kind = "unknown"
        for prefix in ("image", "video", "audio"):
            if media_type.startswith(prefix + "/") or item.get("type") == prefix.capitalize():
                kind = prefix
                break
        description = (item.get("summary") or item.get("name") or "").strip()
        out.append({"type": kind, "url": url, "description": description})
    return out[:4]


def check_media(example, status, fields=("type", "url", "description"), sniffed=None) -> Outcome:
    if (o := stored_or_not(status, True)) is not None:
        return o
    want = [{k: m[k] for k in fields} for m in mastodon_media(example)]
    if sniffed and want:
        want[0]["type"] = sniffed
    got = [{k: m[k] for k in fields} for m in status["media_attachments"]]
    shown = short([" ".join(str(m[k]) for k in fields if k != "url") or m.get("url", "") for m in got] if got else [])
    if len(got) > 4:
        shown = f"{len(got)} attachments"
    if got != want:
        return Outcome(shown, False, short([" ".join(str(m[k]) for k in fields if k != "url") for m in want]))
    return Outcome(shown, True)


def group_checks(reader: SkeinReader, actor_id: str, note1: str):
    def public_addressing(i, ex, st):
        if (o := stored_or_not(st, True)) is not None:
            return o
        return Outcome(st["visibility"], st["visibility"] == "public", "public")

    def language(i, ex, st):
        if (o := stored_or_not(st, True)) is not None:
            return o
        content_map = ex.get("contentMap") or {}
        want_lang = next(iter(content_map), None)
        want_text = ex.get("content") or next(iter(content_map.values()), "")
        text = "".join(parse_html(st["content"]).text).strip()
        shown = f"{text!r} {st['language']}"
        ok = st["language"] == want_lang and text == want_text
        return Outcome(shown, ok, f"{want_text!r} {want_lang}")

    def content_warnings(i, ex, st):
        if (o := stored_or_not(st, True)) is not None:
            return o
        want_sensitive = bool(ex.get("sensitive")) or bool(ex.get("summary"))
        want = (want_sensitive, ex.get("summary", ""), mastodon_media(ex))
        got = (st["sensitive"], st["spoiler_text"],
               [{k: m[k] for k in ("type", "url", "description")} for m in st["media_attachments"]])
        shown = f"sensitive={got[0]} cw={got[1]!r}" + (f" alt={[m['description'] for m in got[2]]}" if got[2] else "")
        return Outcome(shown, got == want, f"sensitive={want[0]} cw={want[1]!r}")

    def html_summary(i, ex, st):
        if (o := stored_or_not(st, True)) is not None:
            return o
        spoiler = st["spoiler_text"]
        # Skein's own rule: the summary's text, kept as plain text.
        sound = words(ex["summary"]) <= words(html.escape(spoiler))
        return Outcome(short(spoiler), spoiler == ex["summary"] and st["sensitive"], short(ex["summary"]), sound=sound)

    def mentions(i, ex, st):
        if (o := stored_or_not(st, True)) is not None:
            return o
        tags = ex.get("tag") or []
        tags = tags if isinstance(tags, list) else [tags]
        # Mastodon resolves each Mention's href; here, offline, only the
        # pasture actor resolves (Mastodon.social and the rest do not).
        want = sorted({t["href"] for t in tags if t.get("type") == "Mention" and t.get("href") == actor_id})
        return Outcome(short(st["mentions"]), st["mentions"] == want, short(want))

    def in_reply_to(i, ex, st):
        value = ex.get("inReplyTo")
        fails = isinstance(value, list)  # Mastodon's value_or_id raises on a list
        if (o := stored_or_not(st, not fails)) is not None:
            return o
        target = value if isinstance(value, str) else (value or {}).get("id")
        want = note1 if target == note1 else None
        shown = st["in_reply_to_uri"] or "no reply link"
        return Outcome(short(shown), st["in_reply_to_uri"] == want, short(want or "no reply link"))

    def quotes(i, ex, st):
        if (o := stored_or_not(st, True)) is not None:
            return o
        want = next((ex[k] for k in ("quote", "_misskey_quote", "quoteUrl", "quoteUri") if k in ex), None)
        if isinstance(want, list):
            # Mastodon takes only the first quote.
            want = want[0] if want else None
        return Outcome(short(st["quote_uri"] or "no quote"), st["quote_uri"] == want, short(want or "no quote"))

    def object_types(i, ex, st):
        kind = ex.get("type")
        kinds = kind if isinstance(kind, list) else [kind]
        mastodon_reads = any(k in ("Note", "Question", "Article", "Page", "Audio", "Image", "Video", "Event") for k in kinds)
        if (o := stored_or_not(st, mastodon_reads)) is not None:
            return o
        if set(kinds) & {"Article", "Page", "Audio", "Image", "Video", "Event"}:
            # Mastodon: the title and a link, not the content.
            return Outcome(short(st["content"]), False, "title and link")
        return check_content(ex, st)

    def necessary_properties(i, ex, st):
        # Mastodon needs an id and a type; nothing else.
        want = ex.get("id", "") is not None and ex.get("type", "") is not None
        if (o := stored_or_not(st, want)) is not None:
            return o
        return check_content(ex, st)

    def attributed_to(i, ex, st):
        if (o := stored_or_not(st, True)) is not None:
            return o
        return Outcome(short(st["account_uri"]), st["account_uri"] == actor_id, short(actor_id))

    def context(i, ex, st):
        if (o := stored_or_not(st, True)) is not None:
            return o
        return check_content(ex, st)

    def url(i, ex, st):
        if (o := stored_or_not(st, True)) is not None:
            return o
        value = ex["url"]
        # Mastodon keeps a url only on the actor's host, else shows the id.
        same_host = isinstance(value, str) and urllib.parse.urlsplit(value).hostname == HOST
        want = value if same_host else st["uri"]
        return Outcome(short(st["url"]), st["url"] == want, short(want))

    html_elements = {
        "b": "b", "strong": "strong", "i": "i", "em": "em", "del": "del",
        "ol": "ol", "ul": "ul", "code": "code", "pre": "pre", "blockquote": "blockquote",
        "p": "p", "a": "a", "br": "br",
        "h1": "strong", "h2": "strong", "h3": "strong", "h4": "strong", "h5": "strong",
    }
    dropped = ["ins", "mark", "var", "small", "sup", "sub", "img", "audio", "video", "source", "wbr", "script", "h1", "h2", "h3"]

    def html_tags(i, ex, st):
        first = re.search(r"<(\w+)", ex["content"])
        element = html_elements.get(first.group(1)) if first else None
        return check_content(ex, st, element, dropped)

    def html_tags_article(i, ex, st):
        # Mastodon shows an Article as its title and a link.
        o = html_tags(i, ex, st)
        return Outcome(o.shown, False, "title and link", sound=o.ok)

    def html_bad(i, ex, st):
        return check_content(ex, st)

    def html_anchor(i, ex, st):
        return check_content(ex, st, "a")

    def hashtags(i, ex, st):
        return check_tags(reader, ex, st)

    def emoji(i, ex, st):
        tags = ex.get("tag") or []
        tags = tags if isinstance(tags, list) else [tags]
        emoji_tags = [t for t in tags if isinstance(t, dict) and t.get("type") == "Emoji"]
        # Mastodon reads icon.url of each Emoji tag and fails on the whole
        # activity when icon is a bare string (Hash#dig on a String).
        fails = any(isinstance(t.get("icon"), str) for t in emoji_tags)
        if (o := stored_or_not(st, not fails)) is not None:
            return o
        want = sorted(
            t["name"].strip(":") for t in emoji_tags
            if isinstance(t.get("icon"), dict) and t["icon"].get("url") and t.get("name")
        )
        return Outcome(short(st["emojis"]), st["emojis"] == want, short(want))

    def media_type(i, ex, st):
        # Mastodon ignores a Note's mediaType and sanitises content as HTML.
        return check_content(ex, st)

    def attachments(i, ex, st):
        return check_media(ex, st)

    def image_attachments(i, ex, st):
        return check_media(ex, st, sniffed=SNIFFED_KIND.get(("image_attachments", i)))

    def image_description(i, ex, st):
        return check_media(ex, st, ("description",))

    return {
        "attachments": attachments,
        "attributed_to": attributed_to,
        "content_warnings": content_warnings,
        "context": context,
        "hashtag_jsonld": hashtags,
        "hashtags": hashtags,
        "html_anchor": html_anchor,
        "html_bad": html_bad,
        "html_tags": html_tags,
        "html_tags_base": html_tags,
        "html_tags_extra": html_tags,
        "emoji": emoji,
        "media_type": media_type,
        "html_tags_article": html_tags_article,
        "html_tags_summary": html_summary,
        "image_attachments": image_attachments,
        "image_description": image_description,
        "in_reply_to": in_reply_to,
        "language": language,
        "mentions": mentions,
        "necessary_properties": necessary_properties,
        "object_types": object_types,
        "public_addressing": public_addressing,
        "quotes": quotes,
        "recommended_attachments": attachments,
        "url": url,
    }


# ------------------------------------------------------------ sending side


class AnswerRecorder:
    """The pasture's BovineActor, remembering how Skein answered the last
    POST (the sender itself only logs a refusal)."""

    def __init__(self, actor):
        self.actor = actor
        self.status = None

    async def get(self, *args, **kwargs):
        return await self.actor.get(*args, **kwargs)

    async def post(self, target, data):
        try:
            response = await self.actor.post(target, data)
        except aiohttp.ClientResponseError as e:
            self.status = e.status
            raise
        self.status = response.status
        return response


def with_port(example: dict, base: str) -> dict:
    text = json.dumps(example).replace(f"http://{HOST}/", f"{base}/")
    return json.loads(text)


def write_assets(directory: Path, base: str, actor_id: str):
    """The Notes the inputs reply to and quote (the pasture's own asset
    archive lives outside the registries this runs with)."""
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in (("note1", "One"), ("note2", "Two")):
        note = {
            "@context": "https://www.w3.org/ns/activitystreams",
            "type": "Note",
            "id": f"{base}/assets/{name}.jsonap",
            "to": ["as:Public"],
            "attributedTo": actor_id,
            "content": text,
            "published": "2024-01-06T13:11:45Z",
        }
        (directory / f"{name}.jsonap").write_text(json.dumps(note))


async def run(skein_url: str, account: str, port: int, data_dir: str) -> int:
    base = f"http://{HOST}:{port}"
    actor_id = f"{base}/actor"
    work = Path(tempfile.mkdtemp(prefix="pasture-inputs-"))
    write_assets(work / "assets", base, actor_id)

    provider = DataProvider.generate(with_possible_actors=False)
    app = Quart("pasture-inputs")
    app.register_blueprint(BlueprintForActors(actors=[provider.one_actor]).blueprint)
    app.register_blueprint(image_provider_blueprint, url_prefix="/images")
    app.register_blueprint(assets_blueprint_for_directory(str(work / "assets")))
    stop = asyncio.Event()
    server = asyncio.create_task(app.run_task(host="127.0.0.1", port=port, shutdown_trigger=stop.wait))

    # (group, number, example, object id, Skein's answer to the POST)
    sent: list[tuple[str, int, dict, str | None, int | None]] = []
    try:
        async with aiohttp.ClientSession() as session:
            for _ in range(100):
                try:
                    async with session.get(actor_id) as response:
                        if response.status == 200:
                            break
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.1)
            bovine_actor, actor_object = bovine_actor_for_actor_data(actor_id, provider.one_actor)
            await bovine_actor.init(session=session)
            recorder = AnswerRecorder(bovine_actor)
            sender = ActivitySender.for_actor(recorder, actor_object)
            sender.sleep_after_getting_inbox = False
            for group in sorted(available):
                for number, example in enumerate(available[group].examples, start=1):
                    example = with_port(example, base)
                    sender.init_create_note(lambda note, example=example: {**note, **example})
                    object_id = sender.note.get("id")
                    recorder.status = None
                    await sender.send(account)
                    sent.append((group, number, example, object_id, recorder.status))
    finally:
        stop.set()
        await server

    reader = SkeinReader(skein_url, data_dir)
    statuses = reader.statuses(actor_id)
    checks = group_checks(reader, actor_id, f"{base}/assets/note1.jsonap")

    failures = passed = allowed = 0
    per_group: dict[str, list[int]] = {}
    current = None
    for group, number, example, object_id, answer in sent:
        if group != current:
            current = group
            print(f"\n== {group} ({available[group].title})")
            print(f"{'#':>3}  {'example':<44} {'Skein':<48} verdict")
        status = statuses.get(object_id) if object_id else None
        outcome = checks[group](number, example, status)
        reason = ALLOWED.get((group, number)) or ALLOWED.get((group, None))
        counts = per_group.setdefault(group, [0, 0, 0])
        if outcome.ok and not (reason and (group, number) in ALLOWED):
            verdict = "ok"
            passed += 1
            counts[0] += 1
        elif outcome.ok:
            verdict = "FAIL: listed in ALLOWED but same as Mastodon now"
            failures += 1
            counts[2] += 1
        elif reason and outcome.sound:
            verdict = f"allowed: {reason}"
            allowed += 1
            counts[1] += 1
        else:
            verdict = f"FAIL: Mastodon shows {outcome.expected}"
            failures += 1
            counts[2] += 1
        shown = outcome.shown if answer == 202 else f"{outcome.shown} (POST answered {answer})"
        label = example.get("content") or example.get("type") or json.dumps(example.get("contentMap"))
        print(f"{number:>3}  {short(label, 44):<44} {short(shown, 48):<48} {verdict}")

    print(f"\n{'group':<26} {'as Mastodon':>11} {'allowed':>8} {'failed':>7}")
    for group, (same, differs, failed) in per_group.items():
        print(f"{group:<26} {same:>11} {differs:>8} {failed:>7}")
    print(f"\npasture inputs: {passed + allowed} passed, {failures} failed ({allowed} allowed differences)")
    return 1 if failures else 0


def main() -> int:
    # A refused POST is reported in the table; the sender's traceback is noise.
    logging.getLogger("fediverse_pasture").setLevel(logging.CRITICAL)
    skein_url, account, port, data_dir = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    return asyncio.run(run(skein_url, account, port, data_dir))


if __name__ == "__main__":
    sys.exit(main())
