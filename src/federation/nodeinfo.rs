//! NodeInfo 2.0 and 2.1 (https://nodeinfo.diaspora.software/): what software
//! runs here and how much it is used. The discovery document also links the
//! instance actor (FEP-2677).

use serde_json::{Value, json};

use crate::db::stats::Usage;

pub const SCHEMA_20: &str = "http://nodeinfo.diaspora.software/ns/schema/2.0";
pub const SCHEMA_21: &str = "http://nodeinfo.diaspora.software/ns/schema/2.1";
/// FEP-2677: the link relation of the application actor.
pub const REL_APPLICATION_ACTOR: &str = "https://www.w3.org/ns/activitystreams#Application";

/// The software name: must match `^[a-z0-9-]+$`.
pub const SOFTWARE: &str = "skein";
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

pub fn content_type(version: &str) -> String {
    format!("application/json; profile=\"http://nodeinfo.diaspora.software/ns/schema/{version}#\"")
}

/// `/.well-known/nodeinfo`.
pub fn discovery(nodeinfo_20: &str, nodeinfo_21: &str, instance_actor: &str) -> Value {
    json!({
        "links": [
            { "rel": SCHEMA_20, "href": nodeinfo_20 },
            { "rel": SCHEMA_21, "href": nodeinfo_21 },
            { "rel": REL_APPLICATION_ACTOR, "href": instance_actor },
        ]
    })
}

/// What the instance says about itself.
pub struct Metadata<'a> {
    pub node_name: &'a str,
    pub node_description: &'a str,
    pub open_registrations: bool,
    pub approval_required: bool,
}

/// The NodeInfo document of `version` "2.0" or "2.1".
pub fn document(version: &str, usage: &Usage, meta: &Metadata<'_>) -> Value {
    let software = json!({ "name": SOFTWARE, "version": VERSION });
    json!({
        "version": version,
        "software": software,
        "protocols": ["activitypub"],
        "services": { "inbound": [], "outbound": [] },
        "openRegistrations": meta.open_registrations,
        "usage": {
            "users": {
                "total": usage.users_total,
                "activeMonth": usage.users_active_month,
                "activeHalfyear": usage.users_active_halfyear,
            },
            "localPosts": usage.local_posts,
        },
        "metadata": {
            "nodeName": meta.node_name,
            "nodeDescription": meta.node_description,
            "approvalRequired": meta.approval_required,
        },
    })
}
