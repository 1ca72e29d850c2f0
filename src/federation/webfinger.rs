//! WebFinger (RFC 7033) documents: the JRD for a local account or the
//! instance actor, and host-meta (RFC 6415) pointing at WebFinger.

use serde::{Deserialize, Serialize};

/// Link relations Skein writes.
pub const REL_SELF: &str = "self";
pub const REL_PROFILE_PAGE: &str = "http://webfinger.net/rel/profile-page";
pub const REL_SUBSCRIBE: &str = "http://ostatus.org/schema/1.0/subscribe";
/// FEP-d556: the server's own actor, found with `resource=https://host/`.
pub const REL_SERVICE_ACTOR: &str = "https://www.w3.org/ns/activitystreams#Service";
pub const AS_TYPE_PROPERTY: &str = "https://www.w3.org/ns/activitystreams#type";

/// The media type of JRD documents.
pub const JRD_CONTENT_TYPE: &str = "application/jrd+json; charset=utf-8";

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Jrd {
    pub subject: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    pub links: Vec<Link>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Link {
    pub rel: String,
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub href: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub properties: Option<serde_json::Map<String, serde_json::Value>>,
}

const AP_TYPE: &str = "application/activity+json";

/// The JRD of a local Person.
pub fn person(subject: String, actor: &str, profile_page: &str, subscribe: String) -> Jrd {
    Jrd {
        subject,
        aliases: vec![profile_page.to_string(), actor.to_string()],
        links: vec![
            Link {
                rel: REL_PROFILE_PAGE.into(),
                kind: Some("text/html".into()),
                href: Some(profile_page.into()),
                ..Link::default()
            },
            Link {
                rel: REL_SELF.into(),
                kind: Some(AP_TYPE.into()),
                href: Some(actor.into()),
                ..Link::default()
            },
            Link {
                rel: REL_SUBSCRIBE.into(),
                template: Some(subscribe),
                ..Link::default()
            },
        ],
    }
}

/// The JRD of the instance actor, for `acct:domain@domain` and (FEP-d556)
/// for the server's own URL as the subject.
pub fn instance_actor(subject: String, actor: &str) -> Jrd {
    let mut properties = serde_json::Map::new();
    properties.insert(AS_TYPE_PROPERTY.into(), "Application".into());
    Jrd {
        subject,
        aliases: vec![actor.to_string()],
        links: vec![
            Link {
                rel: REL_SELF.into(),
                kind: Some(AP_TYPE.into()),
                href: Some(actor.into()),
                properties: Some(properties),
                ..Link::default()
            },
            Link {
                rel: REL_SERVICE_ACTOR.into(),
                kind: Some(AP_TYPE.into()),
                href: Some(actor.into()),
                ..Link::default()
            },
        ],
    }
}

/// host-meta as XRD.
pub fn host_meta_xrd(webfinger_template: &str) -> String {
    let template = webfinger_template
        .replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;");
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <XRD xmlns=\"http://docs.oasis-open.org/ns/xri/xrd-1.0\">\n  \
         <Link rel=\"lrdd\" template=\"{template}\"/>\n\
         </XRD>\n"
    )
}

/// host-meta as JRD.
pub fn host_meta_json(webfinger_template: &str) -> serde_json::Value {
    serde_json::json!({
        "links": [{ "rel": "lrdd", "template": webfinger_template }]
    })
}
