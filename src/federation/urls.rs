//! The URLs of this instance's ActivityPub objects and pages, built from the
//! configured scheme and domain. Every id Skein mints comes from here.

use url::Url;

#[derive(Debug, Clone)]
pub struct Urls {
    base: Url,
}

impl Urls {
    /// `base` is the public base URL, e.g. `https://social.example/`.
    pub fn new(base: Url) -> Urls {
        Urls { base }
    }

    fn join(&self, path: &str) -> String {
        let mut url = self.base.clone();
        url.set_path(path);
        url.to_string()
    }

    pub fn base(&self) -> &Url {
        &self.base
    }

    /// The host and port as they appear in handles and ids.
    pub fn domain(&self) -> String {
        match self.base.port() {
            Some(port) => format!("{}:{port}", self.base.host_str().unwrap_or_default()),
            None => self.base.host_str().unwrap_or_default().to_string(),
        }
    }

    pub fn root(&self) -> String {
        self.base.to_string()
    }

    /// The root without its trailing slash, to put a path after.
    pub fn origin(&self) -> String {
        self.base.to_string().trim_end_matches('/').to_string()
    }

    pub fn actor(&self, username: &str) -> String {
        self.join(&format!("/users/{username}"))
    }

    pub fn inbox(&self, username: &str) -> String {
        self.join(&format!("/users/{username}/inbox"))
    }

    pub fn outbox(&self, username: &str) -> String {
        self.join(&format!("/users/{username}/outbox"))
    }

    pub fn followers(&self, username: &str) -> String {
        self.join(&format!("/users/{username}/followers"))
    }

    /// The partial followers collection of FEP-8fcf.
    pub fn followers_synchronization(&self, username: &str) -> String {
        self.join(&format!("/users/{username}/followers_synchronization"))
    }

    pub fn following(&self, username: &str) -> String {
        self.join(&format!("/users/{username}/following"))
    }

    pub fn featured(&self, username: &str) -> String {
        self.join(&format!("/users/{username}/collections/featured"))
    }

    pub fn profile_page(&self, username: &str) -> String {
        self.join(&format!("/@{username}"))
    }

    pub fn shared_inbox(&self) -> String {
        self.join("/inbox")
    }

    pub fn instance_actor(&self) -> String {
        self.join("/actor")
    }

    pub fn instance_inbox(&self) -> String {
        self.join("/actor/inbox")
    }

    pub fn instance_outbox(&self) -> String {
        self.join("/actor/outbox")
    }

    pub fn post(&self, username: &str, id: i64) -> String {
        self.join(&format!("/users/{username}/statuses/{id}"))
    }

    /// A local author's approval of a quote of one of its posts.
    pub fn quote_authorization(&self, username: &str, id: i64) -> String {
        self.join(&format!("/users/{username}/quote_authorizations/{id}"))
    }

    /// A local author's approval of a reply to one of its posts
    /// (GoToSocial's ReplyAuthorization).
    pub fn reply_authorization(&self, username: &str, id: i64) -> String {
        self.join(&format!("/users/{username}/reply_authorizations/{id}"))
    }

    /// The Accept that carried a reply approval (what older GoToSocial
    /// versions name in `approvedBy`).
    pub fn reply_approval(&self, username: &str, id: i64) -> String {
        self.join(&format!("/users/{username}/reply_approvals/{id}"))
    }

    /// The page of a post, as people share it.
    pub fn post_page(&self, username: &str, id: i64) -> String {
        self.join(&format!("/@{username}/{id}"))
    }

    /// An uploaded file (an image or its preview), by its stored name.
    pub fn media(&self, name: &str) -> String {
        self.join(&format!("/media/{name}"))
    }

    /// One of this instance's custom emoji as an ActivityPub `Emoji`
    /// object (Mastodon's `/emojis/ID`).
    pub fn emoji(&self, id: i64) -> String {
        self.join(&format!("/emojis/{id}"))
    }

    /// A cached remote file whose copy was pruned: Skein downloads it again
    /// when this is asked for (`/media_proxy/TOKEN`, `.../small` for the
    /// preview).
    pub fn media_proxy(&self, token: &str, small: bool) -> String {
        if small {
            self.join(&format!("/media_proxy/{token}/small"))
        } else {
            self.join(&format!("/media_proxy/{token}"))
        }
    }

    /// The page of a hashtag.
    pub fn tag(&self, tag: &str) -> String {
        let mut url = self.base.clone();
        url.path_segments_mut()
            .map(|mut s| {
                s.clear().push("tags").push(tag);
            })
            .ok();
        url.to_string()
    }

    pub fn webfinger_template(&self) -> String {
        format!("{}?resource={{uri}}", self.join("/.well-known/webfinger"))
    }

    pub fn authorize_interaction_template(&self) -> String {
        format!("{}?uri={{uri}}", self.join("/authorize_interaction"))
    }

    pub fn nodeinfo(&self, version: &str) -> String {
        self.join(&format!("/nodeinfo/{version}"))
    }
}

/// The key id Skein gives an actor's only key.
pub fn main_key_id(actor_id: &str) -> String {
    format!("{actor_id}#main-key")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_carry_the_port_of_the_domain() {
        let urls = Urls::new(Url::parse("http://alpha.test:4000/").expect("url"));
        assert_eq!(urls.domain(), "alpha.test:4000");
        assert_eq!(urls.actor("alice"), "http://alpha.test:4000/users/alice");
        assert_eq!(
            urls.webfinger_template(),
            "http://alpha.test:4000/.well-known/webfinger?resource={uri}"
        );
        assert_eq!(
            main_key_id(&urls.actor("a")),
            "http://alpha.test:4000/users/a#main-key"
        );
    }
}
