// Drives two running Skein instances with masto.js (npm `masto`), as a
// Mastodon app written in JavaScript would, and checks every step on both
// sides. scripts/e2e-masto.sh starts the instances (scripts/e2e/instances.sh)
// and installs the pinned masto.js (scripts/e2e/masto/package-lock.json).
//
// alice (alpha) signs in through the OAuth page (the authorization-code
// flow, filling the sign-in and consent forms as a browser does), then with
// the password grant; she posts with an image, which beta resolves; she
// follows bob (beta) and his post reaches her user stream (WebSocket); her
// poll gets bob's vote across instances; bob and carol favourite her post
// (one group in alice's grouped notifications) and bob replies (a mention);
// dave follows a hashtag and bob's post with it reaches dave's home; five
// alpha accounts make a hashtag and a post trend, which carol (alpha's
// admin) approves through the admin API; alice finds her post by a word.
//
// usage: node masto.mjs --alpha URL --beta URL --alice-password PW
//          --alice-email ADDR --bob-token T --carol-token T --dave-token T
//          --erin-token T --frank-token T --alpha-db PSQL_ARGS
//          [--skip password_grant,search,streaming]
// (write --name=VALUE: a token or psql's arguments may start with '-')
// Exit status 0 when every step that ran passed; a failure names its step.
//
// The trends refresh runs every five minutes in alpha's timed work; the run
// makes it due now in alpha's database (--alpha-db) instead of waiting.

import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createRequire } from "node:module";
import { parseArgs } from "node:util";
import { deflateSync } from "node:zlib";

// masto.js as installed by `npm ci` in scripts/e2e/masto/ (the pinned version).
const { createOAuthAPIClient, createRestAPIClient, createStreamingAPIClient } =
  createRequire(new URL("./masto/package.json", import.meta.url))("masto");

// Steps that need an API a given Skein may not have yet; --skip names them.
// password_grant: POST /oauth/token with grant_type=password.
// search: GET /api/v2/search?type=statuses (full-text search).
const SKIPPABLE = new Set(["password_grant", "search", "streaming"]);
const SCOPES = "read write follow push";
const REDIRECT_URI = "http://localhost/callback";
const OOB = "urn:ietf:wg:oauth:2.0:oob";
// How long federation (a delivery from one instance to the other) may take, ms.
const FEDERATION_TIMEOUT = 60_000;
// How long alpha's timed work (it looks every 15 s) may take to run work made due.
const TIMED_WORK_TIMEOUT = 60_000;
// How long one HTTP request may take, ms.
const REQUEST_TIMEOUT = 30_000;
// The whole run stops with a failure after this long, whatever hangs.
const RUN_TIMEOUT = 300_000;

class Failed extends Error {}

function check(condition, message) {
  if (!condition) throw new Failed(message);
}

// What a probe saw when it is not done yet, for the failure message.
class Pending {
  constructor(seen) {
    this.seen = seen;
  }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Calls probe() until it resolves to something truthy (not Pending); fails
// after timeout ms saying what was awaited and what was last seen.
async function waitUntil(what, probe, timeout = FEDERATION_TIMEOUT, interval = 200) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    let found = await probe();
    if (found instanceof Pending) {
      last = found.seen;
      found = undefined;
    }
    if (found) return found;
    if (Date.now() > deadline) {
      throw new Failed(`${what}: still not so after ${timeout / 1000} s (last seen: ${JSON.stringify(last)})`);
    }
    await sleep(interval);
  }
}

// Runs named steps in order, logs each, skips those needing a --skip feature.
class Steps {
  constructor(skip) {
    this.skip = skip;
    this.number = 0;
    this.ran = 0;
    this.skipped = 0;
  }

  async run(title, body, needs) {
    this.number += 1;
    const n = String(this.number).padStart(2);
    if (needs && this.skip.has(needs)) {
      console.log(`e2e-masto: [${n}] ${title} ... skipped (--skip ${needs})`);
      this.skipped += 1;
      return undefined;
    }
    process.stdout.write(`e2e-masto: [${n}] ${title} ... `);
    const started = Date.now();
    try {
      const result = await body();
      console.log(`ok (${((Date.now() - started) / 1000).toFixed(1)} s)`);
      this.ran += 1;
      return result;
    } catch (e) {
      console.log("FAILED");
      if (!(e instanceof Failed)) console.error(e);
      const what = e instanceof Failed ? e.message : `${e?.constructor?.name}: ${e?.message}${describe(e)}`;
      throw new Failed(`step ${this.number} (${title}): ${what}`);
    }
  }
}

// A masto.js HTTP error's status and body, when it is one.
function describe(e) {
  return e?.statusCode ? ` (HTTP ${e.statusCode}${e.description ? `: ${e.description}` : ""})` : "";
}

// --- a browser: cookies kept, forms filled in and submitted -----------------

function decodeEntities(text) {
  return text
    .replace(/&quot;/g, '"')
    .replace(/&#x27;|&#39;/g, "'")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&amp;/g, "&");
}

function attributes(tag) {
  const found = {};
  for (const m of tag.matchAll(/([a-zA-Z_:-]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+)))?/g)) {
    found[m[1].toLowerCase()] = decodeEntities(m[2] ?? m[3] ?? m[4] ?? "");
  }
  return found;
}

// The forms of a page: their fields (as a browser would submit them) and
// their submit buttons.
function forms(html) {
  const found = [];
  for (const m of html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/gi)) {
    const a = attributes(m[1]);
    const form = { action: a.action ?? "", method: (a.method ?? "get").toLowerCase(), fields: [], buttons: [] };
    for (const t of m[2].matchAll(/<(input|button)\b([^>]*)>/gi)) {
      const kind = t[1].toLowerCase();
      const b = attributes(t[2]);
      if (!b.name) continue;
      const type = (b.type ?? (kind === "button" ? "submit" : "text")).toLowerCase();
      if (type === "submit") form.buttons.push([b.name, b.value ?? ""]);
      else if (kind === "input" && type !== "button") form.fields.push([b.name, b.value ?? ""]);
    }
    found.push(form);
  }
  return found;
}

class Browser {
  constructor() {
    this.cookies = new Map();
  }

  async request(url, init = {}) {
    const headers = { "User-Agent": "Mozilla/5.0 (X11; Linux x86_64) skein-e2e-masto", ...(init.headers ?? {}) };
    if (this.cookies.size) headers.Cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; ");
    const response = await fetch(url, { ...init, headers, redirect: "manual", signal: AbortSignal.timeout(REQUEST_TIMEOUT) });
    for (const cookie of response.headers.getSetCookie()) {
      const [pair] = cookie.split(";");
      const eq = pair.indexOf("=");
      this.cookies.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim());
    }
    const text = await response.text();
    return { url, status: response.status, headers: response.headers, text };
  }

  get(url) {
    return this.request(url);
  }

  submit(page, form, values, button) {
    const data = new URLSearchParams(form.fields);
    for (const [k, v] of Object.entries(values)) data.set(k, v);
    if (button) {
      check(form.buttons.some(([k, v]) => k === button[0] && v === button[1]),
        `the form on ${page.url} has no button ${button}, only ${JSON.stringify(form.buttons)}`);
      data.set(button[0], button[1]);
    }
    check(form.method === "post", `the form on ${page.url} is sent with ${form.method}, not post`);
    return this.request(new URL(form.action, page.url).href, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: data.toString(),
    });
  }
}

function onlyForm(page, what) {
  const found = forms(page.text);
  check(found.length === 1, `${what}: expected one form on ${page.url}, found ${found.length}`);
  return found[0];
}

function crc32(bytes) {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = (crc >>> 1) ^ (0xedb88320 & -(crc & 1));
  }
  return (crc ^ 0xffffffff) >>> 0;
}

// A small valid RGB PNG, made with Node's zlib.
function gradientPng(width = 32, height = 24) {
  const rows = [];
  for (let y = 0; y < height; y++) {
    rows.push(0);
    for (let x = 0; x < width; x++) rows.push((x * 255 / width) | 0, (y * 255 / height) | 0, 90);
  }
  const chunk = (kind, data) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(kind, "latin1"), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([length, body, crc]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", header),
    chunk("IDAT", deflateSync(Buffer.from(rows))),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}

function htmlText(content) {
  return decodeEntities((content ?? "").replace(/<[^>]*>/g, ""));
}

function psql(dbArgs, sql) {
  const args = [...dbArgs.split(/\s+/).filter(Boolean), "-v", "ON_ERROR_STOP=1", "-qAtc", sql];
  try {
    return execFileSync("psql", args, { encoding: "utf8", timeout: REQUEST_TIMEOUT }).trim();
  } catch (e) {
    throw new Failed(`psql failed: ${e.stderr ?? e.message}`);
  }
}

async function main() {
  const { values: args } = parseArgs({
    options: {
      alpha: { type: "string" },
      beta: { type: "string" },
      "alice-password": { type: "string" },
      "alice-email": { type: "string" },
      "bob-token": { type: "string" },
      "carol-token": { type: "string" },
      "dave-token": { type: "string" },
      "erin-token": { type: "string" },
      "frank-token": { type: "string" },
      "alpha-db": { type: "string" },
      skip: { type: "string", default: "" },
    },
  });
  for (const name of ["alpha", "beta", "alice-password", "alice-email", "bob-token", "carol-token",
    "dave-token", "erin-token", "frank-token", "alpha-db"]) {
    if (!args[name]) throw new Failed(`--${name} is required`);
  }
  const skip = new Set(args.skip.split(",").map((s) => s.trim()).filter(Boolean));
  const unknown = [...skip].filter((s) => !SKIPPABLE.has(s));
  if (unknown.length) throw new Failed(`--skip knows ${[...SKIPPABLE].join(", ")}, not ${unknown.join(", ")}`);

  const alphaHost = new URL(args.alpha).host;
  const betaHost = new URL(args.beta).host;
  const aliceAcct = `alice@${alphaHost}`;
  const bobAcct = `bob@${betaHost}`;
  const client = (url, accessToken) =>
    createRestAPIClient({ url, accessToken, timeout: REQUEST_TIMEOUT, mediaTimeout: REQUEST_TIMEOUT });
  const bob = client(args.beta, args["bob-token"]);
  const [carol, dave, erin, frank] = ["carol-token", "dave-token", "erin-token", "frank-token"].map(
    (name) => client(args.alpha, args[name]),
  );
  const steps = new Steps(skip);
  const started = Date.now();
  const s = {}; // what the steps found, for the later ones
  let alice;

  // --- alice signs in: the authorization-code flow, then the password grant

  await steps.run("register an app on alpha (POST /api/v1/apps)", async () => {
    const app = await client(args.alpha).v1.apps.create({
      clientName: "Skein e2e (masto.js)",
      redirectUris: `${REDIRECT_URI}\n${OOB}`,
      scopes: SCOPES,
      website: "https://example.org/skein-e2e",
    });
    check(app.clientId && app.clientSecret, "POST /api/v1/apps gave no client_id or client_secret");
    s.app = app;
  });

  await steps.run("sign alice in: sign-in form, consent, code, token (authorization code)", async () => {
    const state = randomBytes(12).toString("base64url");
    const url = `${args.alpha}/oauth/authorize?${new URLSearchParams({
      response_type: "code", client_id: s.app.clientId, redirect_uri: REDIRECT_URI, scope: SCOPES, state,
    })}`;
    const browser = new Browser();
    const page = await browser.get(url);
    check(page.status === 200, `GET ${url} answered ${page.status}: ${page.text.slice(0, 300)}`);
    const form = onlyForm(page, "the sign-in page");
    const fields = Object.fromEntries(form.fields);
    check(fields.step === "sign_in" && fields.csrf_token, `the sign-in form has ${JSON.stringify(Object.keys(fields))}`);
    const signedIn = await browser.submit(page, form, { login: "alice", password: args["alice-password"] });
    check([302, 303].includes(signedIn.status), `signing in answered ${signedIn.status}: ${signedIn.text.slice(0, 300)}`);
    const consentUrl = new URL(signedIn.headers.get("location"), url).href;
    const consent = await browser.get(consentUrl);
    check(consent.status === 200 && consent.text.includes("@alice"), `the consent page answered ${consent.status}`);
    const approved = await browser.submit(consent, onlyForm(consent, "the consent page"), {}, ["step", "approve"]);
    check([302, 303].includes(approved.status), `approving answered ${approved.status}`);
    const location = new URL(approved.headers.get("location"));
    check(`${location.origin}${location.pathname}` === REDIRECT_URI, `approving redirected to ${location}`);
    check(location.searchParams.get("state") === state, `the redirect carried state ${location.searchParams.get("state")}`);
    const code = location.searchParams.get("code");
    check(code, `the redirect carried no code: ${location}`);
    const token = await createOAuthAPIClient({ url: args.alpha, timeout: REQUEST_TIMEOUT }).token.create({
      grantType: "authorization_code",
      clientId: s.app.clientId,
      clientSecret: s.app.clientSecret,
      redirectUri: REDIRECT_URI,
      code,
      scope: SCOPES,
    });
    check(token.accessToken && token.tokenType.toLowerCase() === "bearer", `POST /oauth/token answered ${JSON.stringify(token)}`);
    alice = client(args.alpha, token.accessToken);
    s.aliceToken = token.accessToken;
    const me = await alice.v1.accounts.verifyCredentials();
    check(me.acct === "alice", `the token is for ${me.acct}, not alice`);
    s.aliceId = me.id;
  });

  await steps.run("sign alice in with her e-mail address and password (grant_type=password)", async () => {
    const oauth = createOAuthAPIClient({ url: args.alpha, timeout: REQUEST_TIMEOUT });
    const grant = (password) => oauth.token.create({
      grantType: "password",
      clientId: s.app.clientId,
      clientSecret: s.app.clientSecret,
      redirectUri: OOB,
      username: args["alice-email"],
      password,
      scope: "read write",
    });
    try {
      await grant("not alice's password");
      throw new Failed("a wrong password got a token");
    } catch (e) {
      if (e instanceof Failed) throw e;
      check(e.statusCode === 400 && e.message === "invalid_grant",
        `a wrong password answered ${e.statusCode} ${e.message}, not 400 invalid_grant`);
    }
    const token = await grant(args["alice-password"]);
    check(token.scope === "read write", `the token's scope is ${token.scope}`);
    const me = await client(args.alpha, token.accessToken).v1.accounts.verifyCredentials();
    check(me.acct === "alice", `the password grant's token is for ${me.acct}, not alice`);
  }, "password_grant");

  // --- a post with an image ------------------------------------------------

  await steps.run("upload an image (POST /api/v2/media) and post with it", async () => {
    const media = await alice.v2.media.create({
      file: new Blob([gradientPng()], { type: "image/png" }),
      description: "A green gradient",
    });
    check(media.type === "image" && media.url, `the upload answered type ${media.type}, url ${media.url}`);
    const status = await alice.v1.statuses.create({
      status: "A heron, posted from masto.js #skeine2e",
      mediaIds: [media.id],
      visibility: "public",
    });
    check(status.mediaAttachments.length === 1 && status.mediaAttachments[0].id === media.id,
      `the status carries ${JSON.stringify(status.mediaAttachments.map((m) => m.id))}`);
    s.imagePost = status;
  });

  await steps.run("beta resolves the post by URL and shows the image", async () => {
    const found = await bob.v2.search.list({ q: s.imagePost.uri, resolve: true });
    check(found.statuses.length === 1, `beta resolved ${found.statuses.length} statuses`);
    const [attachment] = found.statuses[0].mediaAttachments;
    check(attachment?.type === "image" && attachment.description === "A green gradient",
      `beta shows the attachments ${JSON.stringify(found.statuses[0].mediaAttachments)}`);
    s.imagePostOnBeta = found.statuses[0];
  });

  // --- follow bob; his post arrives on alice's WebSocket stream -------------

  await steps.run(`follow @${bobAcct} (search-resolve, then follow; beta accepts)`, async () => {
    const found = await alice.v2.search.list({ q: `@${bobAcct}`, resolve: true, type: "accounts" });
    const bobOnAlpha = found.accounts.find((a) => a.acct === bobAcct);
    check(bobOnAlpha, `searching @${bobAcct} found ${found.accounts.map((a) => a.acct)}`);
    await alice.v1.accounts.$select(bobOnAlpha.id).follow();
    await waitUntil("alice's relationship with bob says following", async () => {
      const [r] = await alice.v1.accounts.relationships.fetch({ id: [bobOnAlpha.id] });
      return r.following || new Pending(r);
    });
    s.bobOnAlpha = bobOnAlpha;
  });

  await steps.run("bob posts; an update arrives on alice's user stream (WebSocket)", async () => {
    const instance = await alice.v2.instance.fetch();
    const streamingApiUrl = instance.configuration.urls.streaming;
    check(streamingApiUrl?.startsWith("ws"), `the instance's streaming URL is ${streamingApiUrl}`);
    const streaming = createStreamingAPIClient({ streamingApiUrl, accessToken: s.aliceToken, retry: false });
    const updates = [];
    const subscription = streaming.user.subscribe();
    const reading = (async () => {
      for await (const event of subscription) {
        if (event.event === "update") updates.push(event.payload);
      }
    })().catch((e) => updates.push({ error: e }));
    try {
      // The subscription is a message sent once the socket is open: alice
      // posts until one of her own posts arrives on it (Mastodon streams a
      // user's own posts), which says the subscription is live.
      const own = [];
      await waitUntil("one of alice's own posts on her stream", async () => {
        if (updates.some((u) => own.includes(u.uri))) return true;
        if (own.length < 10) {
          const status = await alice.v1.statuses.create({ status: "Checking my stream from masto.js", visibility: "public" });
          own.push(status.uri);
        }
        return new Pending(`${updates.length} updates, ${own.length} posts`);
      }, 10_000, 500);
      const status = await bob.v1.statuses.create({ status: "A post from beta for masto.js", visibility: "public" });
      const event = await waitUntil("bob's post on alice's stream", () => updates.find((u) => u.uri === status.uri)
        || new Pending(`${updates.length} other updates`));
      check(event.account.acct === bobAcct, `the update is by ${event.account.acct}`);
    } finally {
      subscription.unsubscribe();
      streaming.close();
      await Promise.race([reading, sleep(1000)]);
    }
  }, "streaming");

  // --- a poll, and bob's vote from beta --------------------------------------

  await steps.run("alice posts a poll; bob votes on beta; alpha counts the vote", async () => {
    const status = await alice.v1.statuses.create({
      status: "Herons or kingfishers?",
      poll: { options: ["herons", "kingfishers"], expiresIn: 3600 },
      visibility: "public",
    });
    check(status.poll?.options.length === 2, `the status's poll is ${JSON.stringify(status.poll)}`);
    const found = await waitUntil("beta resolves the poll", async () => {
      const r = await bob.v2.search.list({ q: status.uri, resolve: true });
      return r.statuses[0]?.poll ? r.statuses[0] : new Pending(r.statuses.length);
    });
    const poll = await bob.v1.polls.$select(found.poll.id).votes.create({ choices: [1] });
    check(poll.voted === true && JSON.stringify(poll.ownVotes) === "[1]", `voting answered ${JSON.stringify(poll)}`);
    const counted = await waitUntil("alpha counts bob's vote", async () => {
      const p = await alice.v1.polls.$select(status.poll.id).fetch();
      return p.votesCount === 1 ? p : new Pending(p.votesCount);
    });
    check(counted.options[1].votesCount === 1 && counted.options[0].votesCount === 0,
      `alpha counts ${JSON.stringify(counted.options)}`);
  });

  // --- grouped notifications -------------------------------------------------

  await steps.run("bob and carol favourite alice's post, bob replies: alice's grouped notifications", async () => {
    await bob.v1.statuses.$select(s.imagePostOnBeta.id).favourite();
    await carol.v1.statuses.$select(s.imagePost.id).favourite();
    await bob.v1.statuses.create({
      status: `@${aliceAcct} A fine heron`, inReplyToId: s.imagePostOnBeta.id, visibility: "public",
    });
    const carolAcct = "carol";
    const found = await waitUntil("a group of two favourites and a mention in GET /api/v2/notifications", async () => {
      const results = await alice.v2.notifications.list({ expandAccounts: "full" });
      const favourites = results.notificationGroups.filter(
        (g) => g.type === "favourite" && g.statusId === s.imagePost.id);
      const mention = results.notificationGroups.find((g) => g.type === "mention");
      if (favourites.length !== 1 || favourites[0].notificationsCount !== 2 || !mention) {
        return new Pending(results.notificationGroups.map((g) => `${g.type}:${g.notificationsCount}`));
      }
      return { results, group: favourites[0], mention };
    });
    const accounts = new Map(found.results.accounts.map((a) => [a.id, a.acct]));
    const sampled = new Set(found.group.sampleAccountIds.map((id) => accounts.get(id)));
    check(sampled.size === 2 && sampled.has(bobAcct) && sampled.has(carolAcct),
      `the group's sample accounts are ${[...sampled]}`);
    check(found.results.statuses.some((x) => x.id === s.imagePost.id), "the results lack alice's post");
    const mentioned = found.results.statuses.find((x) => x.id === found.mention.statusId);
    check(mentioned && htmlText(mentioned.content).includes("A fine heron"), "the mention's status is not bob's reply");
    const one = await alice.v2.notifications.$select(found.group.groupKey).fetch();
    check(one.notificationGroups.length === 1 && one.notificationGroups[0].groupKey === found.group.groupKey,
      `GET /api/v2/notifications/${found.group.groupKey} answered ${JSON.stringify(one.notificationGroups)}`);
  });

  // --- a followed hashtag ------------------------------------------------------

  await steps.run("dave follows #SkeinMasto; bob's post with it reaches dave's home", async () => {
    const tag = await dave.v1.tags.$select("SkeinMasto").follow();
    check(tag.following === true, `following the hashtag answered ${JSON.stringify(tag)}`);
    const followed = (await dave.v1.followedTags.list()).map((t) => t.name.toLowerCase());
    check(JSON.stringify(followed) === '["skeinmasto"]', `dave's followed hashtags are ${followed}`);
    const status = await bob.v1.statuses.create({ status: "Something for #SkeinMasto followers", visibility: "public" });
    const arrived = await waitUntil("bob's #SkeinMasto post on dave's home timeline", async () =>
      (await dave.v1.timelines.home.list()).find((x) => x.uri === status.uri));
    check(arrived.account.acct === bobAcct, `it arrived by ${arrived.account.acct}`);
    await dave.v1.tags.$select("skeinmasto").unfollow();
    check((await dave.v1.followedTags.list()).length === 0, "dave still follows the hashtag");
  });

  // --- trends, reviewed by alpha's admin --------------------------------------

  const trendTag = "skeinmastotrend";
  await steps.run(`five alpha accounts post #${trendTag} and favourite and reblog alice's post`, async () => {
    const post = await alice.v1.statuses.create({ status: `Worth trending #${trendTag}`, visibility: "public" });
    for (const who of [carol, dave, erin, frank]) {
      await who.v1.statuses.create({ status: `Along with it #${trendTag}`, visibility: "public" });
      await who.v1.statuses.$select(post.id).favourite();
      await who.v1.statuses.$select(post.id).reblog();
    }
    const counts = await alice.v1.statuses.$select(post.id).fetch();
    check(counts.favouritesCount === 4 && counts.reblogsCount === 4,
      `alice's post counts ${counts.favouritesCount} favourites, ${counts.reblogsCount} reblogs`);
    s.trendPost = post;
  });

  await steps.run("the trends refresh scores them; carol (admin) approves; they trend", async () => {
    psql(args["alpha-db"], "update timed_work set next_run_at = now() where name = 'trends'");
    const tag = await waitUntil(`#${trendTag} among the admin API's trending hashtags`, async () => {
      const tags = await carol.v1.admin.trends.tags.list();
      return tags.find((t) => t.name.toLowerCase() === trendTag) || new Pending(tags.map((t) => t.name));
    }, TIMED_WORK_TIMEOUT);
    check(tag.requiresReview === true, `the hashtag's requiresReview is ${tag.requiresReview}`);
    const candidates = (await carol.v1.admin.trends.statuses.list()).map((x) => x.id);
    check(candidates.includes(s.trendPost.id), `the admin API's trending posts are ${candidates}`);
    const before = (await alice.v1.trends.tags.list()).map((t) => t.name.toLowerCase());
    check(!before.includes(trendTag), "the hashtag trends before review");
    const approved = await carol.v1.admin.trends.tags.$select(tag.id).approve();
    check(approved.trendable === true && approved.requiresReview === false, `approving answered ${JSON.stringify(approved)}`);
    await carol.v1.admin.trends.statuses.$select(s.trendPost.id).approve();
    const shown = (await alice.v1.trends.tags.list()).find((t) => t.name.toLowerCase() === trendTag);
    check(shown, "the approved hashtag is not among GET /api/v1/trends/tags");
    check(Number(shown.history[0].accounts) === 5, `today's history is ${JSON.stringify(shown.history[0])}`);
    const posts = (await alice.v1.trends.statuses.list()).map((x) => x.id);
    check(posts.includes(s.trendPost.id), `GET /api/v1/trends/statuses lists ${posts}`);
  });

  // --- full-text search of one's own posts ---------------------------------------

  await steps.run("alice finds her post by a word (GET /api/v2/search?type=statuses)", async () => {
    const found = await alice.v2.search.list({ q: "heron", type: "statuses" });
    const uris = found.statuses.map((x) => x.uri);
    check(uris.includes(s.imagePost.uri), `searching "heron" found ${uris}`);
    check(found.accounts.length === 0 && found.hashtags.length === 0, "type=statuses answered accounts or hashtags");
  }, "search");

  const skipped = steps.skipped ? `, ${steps.skipped} skipped` : "";
  console.log(`e2e-masto: ${steps.ran} steps passed${skipped} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

const timer = setTimeout(() => {
  console.error(`e2e-masto: the run took longer than ${RUN_TIMEOUT / 1000} s`);
  process.exit(1);
}, RUN_TIMEOUT);

try {
  await main();
  clearTimeout(timer);
  process.exit(0);
} catch (e) {
  console.error(`e2e-masto: ${e instanceof Failed ? e.message : e?.stack ?? e}`);
  process.exit(1);
}
