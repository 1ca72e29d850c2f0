//! What the timelines show, before and after the read path changes: a
//! seeded population (local and remote accounts, follows, every
//! visibility, replies, reposts, quotes, a hashtag, a mute, blocks both
//! ways, a domain block, keyword filters that hide and warn, deleted posts)
//! read by one viewer through the client API: home, public local and
//! federated (signed in and out), a hashtag, accounts' statuses,
//! notifications and threads' context, whole and in pages walked by
//! `max_id`. Each answer is written down by stable keys (the author and the
//! text of each post, never an id) and compared with the golden file
//! `tests/golden/timelines.json`, written by the read path as
//! it was before it was made fast. `SKEIN_WRITE_GOLDEN=1` writes the file
//! anew instead (only when a change of what is shown is meant).

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde_json::{Value, json};

use crate::harness::{Options, TestApp, insert_remote_actor};

const GOLDEN: &str = "tests/golden/timelines.json";

struct Seed<'a> {
    app: &'a TestApp,
    tokens: BTreeMap<&'static str, String>,
    ids: BTreeMap<&'static str, i64>,
}

impl Seed<'_> {
    fn token(&self, name: &str) -> &str {
        &self.tokens[name]
    }

    /// A moment later: each post is newer than the one before.
    fn tick(&self) {
        self.app.clock.advance(chrono::Duration::seconds(1));
    }

    async fn post(&self, who: &str, body: Value) -> String {
        self.tick();
        let (status, created) = self
            .app
            .api_post(self.token(who), "/api/v1/statuses", body)
            .await;
        assert_eq!(status, 200, "{who}: {created}");
        created["id"].as_str().unwrap().to_string()
    }

    async fn say(&self, who: &str, text: &str, visibility: &str) -> String {
        self.post(who, json!({"status": text, "visibility": visibility}))
            .await
    }

    async fn reply(&self, who: &str, text: &str, visibility: &str, to: &str) -> String {
        self.post(
            who,
            json!({"status": text, "visibility": visibility, "in_reply_to_id": to}),
        )
        .await
    }

    async fn act(&self, who: &str, path: &str) {
        self.tick();
        let (status, body) = self.app.api_post(self.token(who), path, json!({})).await;
        assert_eq!(status, 200, "{who} {path}: {body}");
    }

    /// A remote post, stored as the inbox stores one (the row, its tags);
    /// returns its id.
    async fn remote_post(
        &self,
        author: &str,
        text: &str,
        visibility: &str,
        reply_to: Option<&str>,
        tag: Option<&str>,
    ) -> String {
        self.tick();
        let now = skein::clock::Clock::now(&*self.app.clock);
        let author_id = self.ids[author];
        let parent: Option<i64> = reply_to.map(|id| id.parse().unwrap());
        let id: i64 = sqlx::query_scalar(
            "insert into posts (id, ap_id, author_id, url, content, visibility, published,
                                in_reply_to_id, in_reply_to_ap_id, language)
             select next_post_id($4), a.ap_id || '/statuses/' || md5($2), a.id,
                    a.ap_id || '/statuses/' || md5($2), '<p>' || $2 || '</p>', $3, $4,
                    $5, (select ap_id from posts where id = $5), 'en'
             from actors a where a.id = $1
             returning id",
        )
        .bind(author_id)
        .bind(text)
        .bind(visibility)
        .bind(now)
        .bind(parent)
        .fetch_one(&self.app.db)
        .await
        .unwrap();
        if let Some(parent) = parent {
            sqlx::query("update posts set replies_count = replies_count + 1 where id = $1")
                .bind(parent)
                .execute(&self.app.db)
                .await
                .unwrap();
        }
        if let Some(tag) = tag {
            sqlx::query("insert into post_tags (post_id, tag) values ($1, $2)")
                .bind(id)
                .bind(tag)
                .execute(&self.app.db)
                .await
                .unwrap();
        }
        id.to_string()
    }

    /// A notification from a remote account, as the inbox files one.
    async fn remote_notification(&self, from: &str, kind: &str, post: Option<&str>) {
        self.tick();
        sqlx::query(
            "insert into notifications (recipient_id, kind, from_actor_id, post_id, created_at)
             values ($1, $2, $3, $4, $5)",
        )
        .bind(self.ids["vera"])
        .bind(kind)
        .bind(self.ids[from])
        .bind(post.map(|p| p.parse::<i64>().unwrap()))
        .bind(skein::clock::Clock::now(&*self.app.clock))
        .execute(&self.app.db)
        .await
        .unwrap();
    }

    async fn remote_follow(&self, follower: &str, followee: &str) {
        sqlx::query(
            "insert into follows (follower_id, followee_id, state) values ($1, $2, 'accepted')",
        )
        .bind(self.ids[follower])
        .bind(self.ids[followee])
        .execute(&self.app.db)
        .await
        .unwrap();
    }
}

/// The population; returns the posts the reads start from, by name.
async fn seed(seed: &mut Seed<'_>) -> BTreeMap<&'static str, String> {
    let app = seed.app;
    for name in ["vera", "lou", "max", "bea", "mo", "quin"] {
        app.create_user(name).await;
        seed.tokens.insert(name, app.token(name).await);
        seed.ids.insert(name, app.local(name).await.id);
    }
    for (name, host) in [
        ("r1", "friends.example"),
        ("r2", "friends.example"),
        ("r3", "spam.example"),
        ("r4", "friends.example"),
    ] {
        let id = insert_remote_actor(&app.db, host, name).await;
        seed.ids.insert(name, id);
    }
    let id = |name: &str| seed.ids[name];

    // vera follows lou, mo, quin (local) and r1, r4 (remote); max follows
    // vera and lou; r2 follows vera.
    for followee in ["lou", "mo", "quin"] {
        seed.act("vera", &format!("/api/v1/accounts/{}/follow", id(followee)))
            .await;
    }
    seed.act("max", &format!("/api/v1/accounts/{}/follow", id("lou")))
        .await;
    seed.remote_follow("vera", "r1").await;
    seed.remote_follow("vera", "r4").await;
    seed.remote_follow("r2", "vera").await;
    // r4 blocks vera.
    sqlx::query("insert into blocks (blocker_id, blocked_id) values ($1, $2)")
        .bind(id("r4"))
        .bind(id("vera"))
        .execute(&app.db)
        .await
        .unwrap();

    let mut posts = BTreeMap::new();
    let lou_public = seed.say("lou", "lou public one #skein", "public").await;
    let lou_unlisted = seed.say("lou", "lou unlisted", "unlisted").await;
    let lou_private = seed.say("lou", "lou followers only", "private").await;
    seed.say("lou", "lou direct to @vera", "direct").await;
    seed.say("lou", "lou direct to @max", "direct").await;
    let max_public = seed.say("max", "max public #skein", "public").await;
    seed.say("max", "max followers only", "private").await;
    seed.say("max", "max says hi to @vera", "public").await;
    let bea_public = seed.say("bea", "bea public #skein", "public").await;
    seed.say("bea", "bea says hi to @vera", "public").await;
    let mo_public = seed.say("mo", "mo public #skein", "public").await;
    seed.say("mo", "mo says hi to @vera", "public").await;
    seed.say("quin", "quin followers only", "private").await;
    let spoiler = seed
        .say("quin", "quin posts spoilers ahead", "public")
        .await;
    seed.say("quin", "quin says warnme please #skein", "public")
        .await;
    seed.say("vera", "vera unlisted thought", "unlisted").await;
    seed.say("vera", "vera followers only", "private").await;

    let r1_public = seed
        .remote_post("r1", "r1 public #skein", "public", None, Some("skein"))
        .await;
    seed.remote_post("r1", "r1 followers only", "private", None, None)
        .await;
    seed.remote_post("r2", "r2 public", "public", None, None)
        .await;
    seed.remote_post("r2", "r2 spoilers too", "public", None, None)
        .await;
    seed.remote_post("r3", "r3 spam #skein", "public", None, Some("skein"))
        .await;
    seed.remote_post("r4", "r4 public", "public", None, None)
        .await;

    // A thread from vera's post.
    let root = seed
        .say("vera", "vera starts a thread #skein", "public")
        .await;
    let lou_reply = seed.reply("lou", "lou replies", "public", &root).await;
    seed.reply("max", "max replies", "public", &root).await;
    seed.reply("bea", "bea replies", "public", &root).await;
    seed.reply("mo", "mo replies", "public", &root).await;
    seed.reply("quin", "quin replies to followers", "private", &root)
        .await;
    seed.reply("quin", "quin replies with spoilers", "public", &root)
        .await;
    let deeper = seed
        .reply("lou", "lou goes deeper", "unlisted", &lou_reply)
        .await;
    seed.reply("max", "max answers lou", "public", &deeper)
        .await;
    seed.remote_post("r1", "r1 replies", "public", Some(&root), None)
        .await;
    seed.remote_post("r3", "r3 replies", "public", Some(&root), None)
        .await;
    let gone_reply = seed
        .reply("lou", "lou replies then thinks better", "public", &root)
        .await;

    // Reposts.
    seed.act("lou", &format!("/api/v1/statuses/{max_public}/reblog"))
        .await;
    seed.act("mo", &format!("/api/v1/statuses/{lou_public}/reblog"))
        .await;
    seed.act("max", &format!("/api/v1/statuses/{root}/reblog"))
        .await;
    seed.act("lou", &format!("/api/v1/statuses/{bea_public}/reblog"))
        .await;
    seed.act("lou", &format!("/api/v1/statuses/{spoiler}/reblog"))
        .await;
    seed.act("quin", &format!("/api/v1/statuses/{mo_public}/reblog"))
        .await;

    // Quotes: of a public post, of one deleted afterwards, of a
    // followers-only post its quoter may see.
    seed.post(
        "max",
        json!({"status": "max quotes lou", "quoted_status_id": lou_public}),
    )
    .await;
    seed.post(
        "max",
        json!({"status": "max quotes what lou takes back", "quoted_status_id": lou_unlisted}),
    )
    .await;
    seed.post(
        "lou",
        json!({"status": "lou quotes r1", "quoted_status_id": r1_public}),
    )
    .await;
    seed.post(
        "quin",
        json!({"status": "quin quotes the spoiler", "quoted_status_id": spoiler}),
    )
    .await;
    let _ = lou_private;

    // Likes and a follow, for vera's notifications.
    for who in ["lou", "max", "mo", "bea"] {
        seed.act(who, &format!("/api/v1/statuses/{root}/favourite"))
            .await;
    }
    seed.act("max", &format!("/api/v1/accounts/{}/follow", id("vera")))
        .await;
    seed.act("quin", &format!("/api/v1/statuses/{root}/reblog"))
        .await;
    seed.remote_notification("r1", "favourite", Some(&root))
        .await;
    seed.remote_notification("r3", "favourite", Some(&root))
        .await;
    seed.remote_notification("r2", "follow", None).await;
    seed.remote_notification("r4", "follow", None).await;

    // Deleted posts.
    for (who, post) in [("lou", &lou_unlisted), ("lou", &gone_reply)] {
        seed.tick();
        let (status, body) = seed
            .app
            .api_delete(seed.token(who), &format!("/api/v1/statuses/{post}"))
            .await;
        assert_eq!(status, 200, "{body}");
    }
    let gone = seed.say("max", "max deletes this #skein", "public").await;
    let (status, body) = app
        .api_delete(seed.token("max"), &format!("/api/v1/statuses/{gone}"))
        .await;
    assert_eq!(status, 200, "{body}");

    // vera's own rules: a mute, a block, a domain block, two filters.
    seed.act("vera", &format!("/api/v1/accounts/{}/mute", id("mo")))
        .await;
    seed.act("vera", &format!("/api/v1/accounts/{}/block", id("bea")))
        .await;
    let (status, body) = app
        .api_post(
            seed.token("vera"),
            "/api/v1/domain_blocks",
            json!({"domain": "spam.example"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    for (title, word, action) in [
        ("Spoilers", "spoilers", "hide"),
        ("Warned", "warnme", "warn"),
    ] {
        let (status, body) = app
            .api_post(
                seed.token("vera"),
                "/api/v2/filters",
                json!({
                    "title": title,
                    "context": ["home", "public", "thread", "account", "notifications"],
                    "filter_action": action,
                    "keywords_attributes": [{"keyword": word}],
                }),
            )
            .await;
        assert_eq!(status, 200, "{body}");
    }

    posts.insert("root", root);
    posts.insert("deeper", deeper);
    posts.insert("spoiler", spoiler);
    posts
}

/// A status by stable keys: its author, its text (tags stripped, the
/// instance's address made fixed), what it reposts or quotes, which
/// filters matched it.
fn status_key(app: &TestApp, s: &Value) -> Value {
    if !s["reblog"].is_null() {
        return json!({
            "repost_by": s["account"]["acct"],
            "of": status_key(app, &s["reblog"]),
            "filtered": filtered(s),
        });
    }
    let mut key = json!({
        "by": s["account"]["acct"],
        "text": text(app, s["content"].as_str().unwrap_or_default()),
        "visibility": s["visibility"],
        "reply": !s["in_reply_to_id"].is_null(),
        "filtered": filtered(s),
    });
    if !s["quote"].is_null() {
        key["quote"] = json!({
            "state": s["quote"]["state"],
            "of": if s["quote"]["quoted_status"].is_null() {
                Value::Null
            } else {
                status_key(app, &s["quote"]["quoted_status"])
            },
        });
    }
    key
}

fn filtered(s: &Value) -> Value {
    let results = s["filtered"].as_array().cloned().unwrap_or_default();
    results
        .iter()
        .map(|r| {
            json!([
                r["filter"]["title"],
                r["filter"]["filter_action"],
                r["keyword_matches"]
            ])
        })
        .collect()
}

/// HTML as text: tags dropped, this run's address (its port) and post ids
/// made fixed.
fn text(app: &TestApp, html: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    let out = out.replace(&app.domain, "alpha.test");
    // Post ids (in links to posts) come from the clock: written as `ID`.
    let mut fixed = String::new();
    let mut digits = String::new();
    for c in out.chars().chain(std::iter::once(' ')) {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        if digits.len() >= 12 {
            fixed.push_str("ID");
        } else {
            fixed.push_str(&digits);
        }
        digits.clear();
        fixed.push(c);
    }
    fixed.pop();
    fixed
}

fn notification_key(app: &TestApp, n: &Value) -> Value {
    json!({
        "type": n["type"],
        "from": n["account"]["acct"],
        "status": if n["status"].is_null() { Value::Null } else { status_key(app, &n["status"]) },
    })
}

async fn get(app: &TestApp, token: Option<&str>, path: &str) -> Value {
    let (status, _, body) = app.api(reqwest::Method::GET, path, token, None).await;
    assert_eq!(status, 200, "{path}: {body}");
    body
}

/// A timeline whole (40 at once), and walked three at a time by `max_id`
/// for three pages.
async fn pages(
    app: &TestApp,
    token: Option<&str>,
    path: &str,
    key: fn(&TestApp, &Value) -> Value,
) -> Value {
    let sep = if path.contains('?') { '&' } else { '?' };
    let whole = get(app, token, &format!("{path}{sep}limit=40")).await;
    let mut walked = Vec::new();
    let mut max_id: Option<String> = None;
    for _ in 0..3 {
        let page_path = match &max_id {
            None => format!("{path}{sep}limit=3"),
            Some(id) => format!("{path}{sep}limit=3&max_id={id}"),
        };
        let page = get(app, token, &page_path).await;
        let items = page.as_array().unwrap();
        walked.push(Value::Array(items.iter().map(|s| key(app, s)).collect()));
        match items.last() {
            Some(last) => max_id = Some(last["id"].as_str().unwrap().to_string()),
            None => break,
        }
    }
    json!({
        "whole": whole.as_array().unwrap().iter().map(|s| key(app, s)).collect::<Vec<_>>(),
        "pages": walked,
    })
}

#[tokio::test]
async fn timelines_show_what_they_showed_before_the_read_path_was_made_fast() {
    let app = TestApp::spawn_with(Options::named("alpha")).await;
    let mut s = Seed {
        app: &app,
        tokens: BTreeMap::new(),
        ids: BTreeMap::new(),
    };
    let posts = seed(&mut s).await;
    let vera = Some(s.token("vera"));
    let mut got = serde_json::Map::new();
    let mut cases: Vec<(String, Option<&str>, String)> = [
        ("home", vera, "/api/v1/timelines/home".into()),
        (
            "public local",
            vera,
            "/api/v1/timelines/public?local=true".into(),
        ),
        ("public federated", vera, "/api/v1/timelines/public".into()),
        (
            "public remote",
            vera,
            "/api/v1/timelines/public?remote=true".into(),
        ),
        (
            "public, signed out",
            None,
            "/api/v1/timelines/public".into(),
        ),
        ("hashtag", vera, "/api/v1/timelines/tag/skein".into()),
        (
            "hashtag, signed out",
            None,
            "/api/v1/timelines/tag/skein".into(),
        ),
    ]
    .into_iter()
    .map(|(name, token, path)| (name.to_string(), token, path))
    .collect();
    for name in ["lou", "max", "quin", "vera", "r1", "bea", "mo"] {
        let id = s.ids[name];
        cases.push((
            format!("account {name}"),
            vera,
            format!("/api/v1/accounts/{id}/statuses"),
        ));
    }
    let lou = s.ids["lou"];
    cases.push((
        "account lou, no replies".into(),
        vera,
        format!("/api/v1/accounts/{lou}/statuses?exclude_replies=true"),
    ));
    cases.push((
        "account lou, signed out".into(),
        None,
        format!("/api/v1/accounts/{lou}/statuses"),
    ));
    for (name, token, path) in &cases {
        got.insert(name.clone(), pages(&app, *token, path, status_key).await);
    }
    got.insert(
        "notifications".into(),
        pages(&app, vera, "/api/v1/notifications", notification_key).await,
    );
    for (name, token) in [("vera", vera), ("signed out", None)] {
        for post in ["root", "deeper", "spoiler"] {
            let context = get(
                &app,
                token,
                &format!("/api/v1/statuses/{}/context", posts[post]),
            )
            .await;
            let keys = |list: &Value| -> Value {
                list.as_array()
                    .unwrap()
                    .iter()
                    .map(|s| status_key(&app, s))
                    .collect()
            };
            got.insert(
                format!("context of {post}, {name}"),
                json!({
                    "ancestors": keys(&context["ancestors"]),
                    "descendants": keys(&context["descendants"]),
                }),
            );
        }
    }
    let got = Value::Object(got);
    sanity(&got);

    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(GOLDEN);
    let text = serde_json::to_string_pretty(&got).unwrap() + "\n";
    if std::env::var("SKEIN_WRITE_GOLDEN").is_ok_and(|v| v == "1") {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &text).unwrap();
        return;
    }
    let golden: Value = serde_json::from_str(
        &std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{GOLDEN}: {e}")),
    )
    .unwrap();
    // Case by case, so that a difference names its case.
    let golden = golden.as_object().unwrap();
    assert_eq!(
        got.as_object().unwrap().keys().collect::<Vec<_>>(),
        golden.keys().collect::<Vec<_>>()
    );
    for (case, expected) in golden {
        assert_eq!(
            &got[case],
            expected,
            "{case}: got\n{}",
            serde_json::to_string_pretty(&got[case]).unwrap()
        );
    }
}

/// What the seeded rules must do, whatever the golden file says: the
/// hidden filter hides, the warning filter marks, the mute, the blocks and
/// the domain block leave their accounts out of the home and public
/// timelines, followers-only posts reach followers only.
fn sanity(got: &Value) {
    let flat = |case: &str| serde_json::to_string(&got[case]["whole"]).unwrap();
    let home = flat("home");
    assert!(home.contains("lou public one"), "{home}");
    assert!(home.contains("lou followers only"), "{home}");
    assert!(home.contains("r1 followers only"), "{home}");
    assert!(home.contains("warnme"), "{home}");
    assert!(
        home.contains("\"Warned\""),
        "the warning filter marks: {home}"
    );
    let shown = |case: &str| -> Vec<String> {
        got[case]["whole"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                let proper = if s["of"].is_null() { s } else { &s["of"] };
                proper["text"].as_str().unwrap().to_string()
            })
            .collect()
    };
    assert!(
        !shown("home").iter().any(|t| t.contains("spoilers ahead")),
        "the hide filter hides, reposted too: {home}"
    );
    assert!(!home.contains("mo public"), "the mute: {home}");
    assert!(!home.contains("max followers only"), "{home}");
    assert!(
        !shown("home").iter().any(|t| t.contains("bea public")),
        "a followed account's repost of a blocked account's post: {home}"
    );
    let public = flat("public federated");
    for absent in [
        "bea public",
        "r3 spam",
        "r4 public",
        "mo public",
        "lou followers only",
        "max deletes",
    ] {
        assert!(!public.contains(absent), "{absent}: {public}");
    }
    assert!(public.contains("r2 public"), "{public}");
    let signed_out = flat("public, signed out");
    assert!(signed_out.contains("bea public"), "{signed_out}");
    assert!(signed_out.contains("quin posts spoilers"), "{signed_out}");
    let local = flat("public local");
    assert!(!local.contains("r2 public"), "{local}");
    let notifications = flat("notifications");
    assert!(notifications.contains("\"follow\""), "{notifications}");
    let context = serde_json::to_string(&got["context of root, vera"]).unwrap();
    assert!(context.contains("lou goes deeper"), "{context}");
    assert!(!context.contains("bea replies"), "{context}");
    assert!(!context.contains("thinks better"), "{context}");
}
