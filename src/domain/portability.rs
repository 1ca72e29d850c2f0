//! Mastodon's export and import formats for a user's relations: which
//! lists exist, their CSV headers, writing rows and reading an uploaded
//! file (with or without the header, as Mastodon accepts both). Pure: no
//! I/O.

/// What an import or a CSV export holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListKind {
    Following,
    Blocks,
    Mutes,
    DomainBlocks,
}

impl ListKind {
    pub const ALL: [ListKind; 4] = [
        ListKind::Following,
        ListKind::Blocks,
        ListKind::Mutes,
        ListKind::DomainBlocks,
    ];

    /// The name Mastodon's import form and Skein's rows use.
    pub fn as_str(self) -> &'static str {
        match self {
            ListKind::Following => "following",
            ListKind::Blocks => "blocking",
            ListKind::Mutes => "muting",
            ListKind::DomainBlocks => "domain_blocking",
        }
    }

    pub fn parse(s: &str) -> Option<ListKind> {
        ListKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// The file name Mastodon's export gives.
    pub fn file_name(self) -> &'static str {
        match self {
            ListKind::Following => "following_accounts.csv",
            ListKind::Blocks => "blocked_accounts.csv",
            ListKind::Mutes => "muted_accounts.csv",
            ListKind::DomainBlocks => "blocked_domains.csv",
        }
    }

    pub fn by_file_name(name: &str) -> Option<ListKind> {
        ListKind::ALL.into_iter().find(|k| k.file_name() == name)
    }

    /// The header row; Mastodon writes none for blocks and domain blocks.
    pub fn header(self) -> Option<&'static [&'static str]> {
        match self {
            ListKind::Following => Some(&[
                "Account address",
                "Show boosts",
                "Notify on new posts",
                "Languages",
            ]),
            ListKind::Mutes => Some(&["Account address", "Hide notifications"]),
            ListKind::Blocks | ListKind::DomainBlocks => None,
        }
    }
}

/// Merge adds to what is there; overwrite also removes what the file does
/// not list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Merge,
    Overwrite,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Merge => "merge",
            Mode::Overwrite => "overwrite",
        }
    }

    pub fn parse(s: &str) -> Option<Mode> {
        match s {
            "merge" => Some(Mode::Merge),
            "overwrite" => Some(Mode::Overwrite),
            _ => None,
        }
    }
}

/// One line of an import: an account address (`user@host`) or a domain;
/// for mutes whether notifications are hidden too; for follows whether
/// reposts show, whether new posts notify, and which languages to show
/// (empty: all).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Entry {
    pub target: String,
    #[serde(default = "yes")]
    pub hide_notifications: bool,
    #[serde(default = "yes")]
    pub show_reblogs: bool,
    #[serde(default)]
    pub notify: bool,
    #[serde(default)]
    pub languages: Vec<String>,
}

fn yes() -> bool {
    true
}

/// A CSV field, quoted when it must be (RFC 4180).
fn field(value: &str) -> String {
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value.to_string()
    }
}

/// One CSV line, ending in a newline.
pub fn row(fields: &[&str]) -> String {
    let mut line = fields
        .iter()
        .map(|f| field(f))
        .collect::<Vec<_>>()
        .join(",");
    line.push('\n');
    line
}

/// Splits CSV text into rows of fields (RFC 4180 quoting; blank lines
/// skipped).
pub fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.trim_start_matches('\u{feff}').chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut field)),
            (false, '\r') => {}
            (false, '\n') => {
                row.push(std::mem::take(&mut field));
                if row.iter().any(|f| !f.trim().is_empty()) {
                    rows.push(std::mem::take(&mut row));
                } else {
                    row.clear();
                }
            }
            (false, c) => field.push(c),
        }
    }
    row.push(field);
    if row.iter().any(|f| !f.trim().is_empty()) {
        rows.push(row);
    }
    rows
}

/// The entries of an uploaded file of `kind`: its header (if any) skipped,
/// duplicates dropped, leading `@` removed from addresses.
pub fn entries(kind: ListKind, text: &str) -> Result<Vec<Entry>, String> {
    let mut entries: Vec<Entry> = Vec::new();
    for (n, fields) in parse_csv(text).into_iter().enumerate() {
        let first = fields[0].trim();
        if n == 0
            && kind
                .header()
                .is_some_and(|h| first.eq_ignore_ascii_case(h[0]))
        {
            continue;
        }
        let target = first.trim_start_matches('@').to_lowercase();
        if target.is_empty() {
            continue;
        }
        let looks_right = match kind {
            ListKind::DomainBlocks => {
                !target.contains('@') && !target.contains(char::is_whitespace)
            }
            _ => target.split('@').count() == 2 && !target.contains(char::is_whitespace),
        };
        if !looks_right {
            return Err(format!(
                "line {}: `{first}` is not {}",
                n + 1,
                if kind == ListKind::DomainBlocks {
                    "a domain"
                } else {
                    "an account address (user@host)"
                }
            ));
        }
        let flag = |i: usize, default: bool| {
            fields
                .get(i)
                .map(|v| v.trim())
                .filter(|v| !v.is_empty())
                .map_or(default, |v| {
                    if default {
                        !v.eq_ignore_ascii_case("false")
                    } else {
                        v.eq_ignore_ascii_case("true")
                    }
                })
        };
        let following = kind == ListKind::Following;
        let hide_notifications = kind != ListKind::Mutes || flag(1, true);
        let languages = match fields.get(3) {
            Some(list) if following => list
                .split(',')
                .map(|l| l.trim().to_string())
                .filter(|l| !l.is_empty())
                .collect(),
            _ => Vec::new(),
        };
        if !entries.iter().any(|e| e.target == target) {
            entries.push(Entry {
                target,
                hide_notifications,
                show_reblogs: !following || flag(1, true),
                notify: following && flag(2, false),
                languages,
            });
        }
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_following_export_reads_back_without_its_header() {
        let mut text = row(ListKind::Following.header().unwrap());
        text.push_str(&row(&["bob@example.com", "true", "false", ""]));
        text.push_str(&row(&["@Carol@Other.example", "true", "false", "en,de"]));
        text.push_str(&row(&["dan@example.com", "false", "true", ""]));
        let read = entries(ListKind::Following, &text).unwrap();
        let targets: Vec<&str> = read.iter().map(|e| e.target.as_str()).collect();
        assert_eq!(
            targets,
            ["bob@example.com", "carol@other.example", "dan@example.com"]
        );
        assert_eq!(read[1].languages, ["en", "de"]);
        assert!(read[0].show_reblogs && !read[0].notify && read[0].languages.is_empty());
        assert!(!read[2].show_reblogs && read[2].notify);
    }

    #[test]
    fn quoted_fields_keep_their_commas_and_quotes() {
        let line = row(&["a,b", "say \"hi\""]);
        assert_eq!(line, "\"a,b\",\"say \"\"hi\"\"\"\n");
        assert_eq!(parse_csv(&line), vec![vec!["a,b", "say \"hi\""]]);
    }

    #[test]
    fn mutes_keep_whether_notifications_are_hidden() {
        let text = "Account address,Hide notifications\na@x.example,false\nb@x.example,true\n";
        let read = entries(ListKind::Mutes, text).unwrap();
        assert!(!read[0].hide_notifications);
        assert!(read[1].hide_notifications);
    }

    #[test]
    fn a_line_that_is_not_an_address_is_refused_with_its_number() {
        let err = entries(ListKind::Blocks, "a@x.example\nnonsense\n").unwrap_err();
        assert!(err.starts_with("line 2"), "{err}");
    }
}
