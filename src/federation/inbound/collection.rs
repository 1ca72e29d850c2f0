//! Collections as other servers serve them, read for the one use Skein has
//! of walking one: a post's `replies` (a `Collection` or
//! `OrderedCollection`, its items inline or in pages reached by `first`
//! and `next`, each item an id or an object with one).

use serde_json::Value;

use super::wire::{self, id_of};

/// The id of the replies collection a post names, if any.
pub fn replies_of(post: &Value) -> Option<String> {
    post.get("replies").and_then(id_of).map(String::from)
}

/// What one document of a collection gives: the ids of its items and where
/// to read on (an embedded first page is read at once).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Page {
    pub items: Vec<String>,
    pub next: Option<String>,
}

fn item_ids(document: &Value) -> Vec<String> {
    let mut found = wire::ids(document.get("orderedItems"));
    found.extend(wire::ids(document.get("items")));
    found
}

impl Page {
    /// Reads a collection or one of its pages. A collection's `first`
    /// (a link, or a page inline whose items are read and whose `next` is
    /// followed) comes before a page's own `next`.
    pub fn parse(document: &Value) -> Page {
        let mut items = item_ids(document);
        let mut next = None;
        match document.get("first") {
            Some(Value::String(link)) => next = Some(link.clone()),
            Some(first @ Value::Object(_)) => {
                items.extend(item_ids(first));
                next = first.get("next").and_then(id_of).map(String::from);
            }
            _ => {}
        }
        if next.is_none() {
            next = document.get("next").and_then(id_of).map(String::from);
        }
        Page { items, next }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn mastodon_replies_have_an_embedded_first_page() {
        let note = json!({
            "id": "https://m.example/users/a/statuses/1",
            "replies": {
                "id": "https://m.example/users/a/statuses/1/replies",
                "type": "Collection",
                "first": {
                    "type": "CollectionPage",
                    "next": "https://m.example/users/a/statuses/1/replies?page=true",
                    "items": ["https://m.example/users/a/statuses/2"]
                }
            }
        });
        assert_eq!(
            replies_of(&note).as_deref(),
            Some("https://m.example/users/a/statuses/1/replies")
        );
        let page = Page::parse(&note["replies"]);
        assert_eq!(page.items, vec!["https://m.example/users/a/statuses/2"]);
        assert_eq!(
            page.next.as_deref(),
            Some("https://m.example/users/a/statuses/1/replies?page=true")
        );
    }

    #[test]
    fn ordered_items_inline_and_objects_by_id() {
        let collection = json!({
            "type": "OrderedCollection",
            "orderedItems": ["https://s.example/1", {"id": "https://s.example/2", "type": "Note"}]
        });
        let page = Page::parse(&collection);
        assert_eq!(
            page.items,
            vec!["https://s.example/1", "https://s.example/2"]
        );
        assert_eq!(page.next, None);
    }
}
