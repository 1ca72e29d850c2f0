//! Paged OrderedCollections (followers, following, outbox). The collection
//! gives the total and links its first page; pages are keyset-paged with
//! `max_id`, newest first.

use serde_json::{Value, json};

use crate::federation::context;

/// Items per collection page.
pub const PAGE_SIZE: i64 = 40;

/// The collection document itself.
pub fn collection(id: &str, total: i64) -> Value {
    json!({
        "@context": context::activity_streams(),
        "id": id,
        "type": "OrderedCollection",
        "totalItems": total,
        "first": first_page_id(id),
    })
}

pub fn first_page_id(collection_id: &str) -> String {
    format!("{collection_id}?page=true")
}

fn page_id(collection_id: &str, max_id: Option<i64>) -> String {
    match max_id {
        Some(max_id) => format!("{collection_id}?page=true&max_id={max_id}"),
        None => first_page_id(collection_id),
    }
}

/// One page. `last_cursor` is the cursor of the page's last item when the
/// page is full, so that a next page may exist.
pub fn page(
    collection_id: &str,
    max_id: Option<i64>,
    total: i64,
    items: Vec<Value>,
    last_cursor: Option<i64>,
) -> Value {
    let mut page = json!({
        "@context": context::activity_streams(),
        "id": page_id(collection_id, max_id),
        "type": "OrderedCollectionPage",
        "partOf": collection_id,
        "totalItems": total,
        "orderedItems": items,
    });
    if let Some(cursor) = last_cursor {
        page["next"] = json!(page_id(collection_id, Some(cursor)));
    }
    page
}
