//! The layering ARCHITECTURE.md promises, checked on the source: SQL only
//! in `src/db/`; `src/http/` reaches the store through services only (no
//! `crate::db`, no sqlx); `src/domain/` and `src/imaging.rs` free of axum
//! and sqlx; `src/service/` free of axum. Comments are not code: they are
//! left out before looking. There is no list of exceptions.

use std::fs;
use std::path::{Path, PathBuf};

/// Every `.rs` file under `dir`, sorted.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in fs::read_dir(&d).expect("the source tree is readable") {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

/// The source without its comments (line, doc and block comments), string
/// and character literals kept as they are, line breaks kept so that line
/// numbers still hold.
fn without_comments(source: &str) -> String {
    let chars: Vec<char> = source.chars().collect();
    let mut out = String::with_capacity(source.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut depth = 0;
            while i < chars.len() {
                if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    if chars[i] == '\n' {
                        out.push('\n');
                    }
                    i += 1;
                }
            }
        } else if c == 'r' && (next == Some('"') || next == Some('#')) && is_raw_start(&chars, i) {
            // r"..." or r#"..."#: up to the quote followed by as many hashes.
            let mut j = i + 1;
            let mut hashes = 0;
            while chars.get(j) == Some(&'#') {
                hashes += 1;
                j += 1;
            }
            j += 1;
            while j < chars.len() {
                if chars[j] == '"' && (0..hashes).all(|k| chars.get(j + 1 + k) == Some(&'#')) {
                    j += 1 + hashes;
                    break;
                }
                j += 1;
            }
            out.extend(&chars[i..j.min(chars.len())]);
            i = j;
        } else if c == '"' {
            let mut j = i + 1;
            while j < chars.len() && chars[j] != '"' {
                if chars[j] == '\\' {
                    j += 1;
                }
                j += 1;
            }
            out.extend(&chars[i..(j + 1).min(chars.len())]);
            i = j + 1;
        } else if c == '\'' && next == Some('\\') {
            // '\n', '\'', '\u{..}'
            let mut j = i + 2;
            while j < chars.len() && chars[j] != '\'' {
                j += 1;
            }
            out.extend(&chars[i..(j + 1).min(chars.len())]);
            i = j + 1;
        } else if c == '\'' && chars.get(i + 2) == Some(&'\'') {
            out.extend(&chars[i..i + 3]);
            i += 3;
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

/// Whether the `r` at `i` opens a raw string (not the end of a name).
fn is_raw_start(chars: &[char], i: usize) -> bool {
    let before = i.checked_sub(1).map(|b| chars[b]);
    !before.is_some_and(|b| b.is_alphanumeric() || b == '_')
        && matches!(chars[i + 1..].iter().find(|c| **c != '#'), Some('"'))
}

/// (file, line, text) of each line of the code under `dir` (comments left
/// out) that `bad` finds wrong.
fn offences(dir: &str, bad: impl Fn(&str) -> bool) -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut found = Vec::new();
    let path = root.join(dir);
    let files = if path.is_file() {
        vec![path]
    } else {
        rust_files(&path)
    };
    for file in files {
        let source = fs::read_to_string(&file).expect("a source file is UTF-8");
        for (n, line) in without_comments(&source).lines().enumerate() {
            if bad(line) {
                let shown = file.strip_prefix(root).unwrap_or(&file).display();
                found.push(format!("{shown}:{}: {}", n + 1, line.trim()));
            }
        }
    }
    found
}

/// Whether a line runs SQL or holds a statement: sqlx's query functions
/// and macros, or a string literal opening with lowercase SQL.
fn runs_sql(line: &str) -> bool {
    const CALLS: &[&str] = &[
        "sqlx::query",
        "sqlx::raw_sql",
        "sqlx::QueryBuilder",
        "sqlx::Executor",
        "query_as(",
        "query_as::<",
        "query_scalar(",
        "query_scalar::<",
        "query_as!",
        "query!",
        "query_scalar!",
    ];
    const STATEMENTS: &[&str] = &["\"select ", "\"insert into ", "\"delete from "];
    let imports_query = line.contains("use sqlx")
        && ["query", "raw_sql", "QueryBuilder", "Executor"]
            .iter()
            .any(|name| line.contains(name) && !line.contains("PgExecutor"));
    CALLS.iter().any(|c| line.contains(c))
        || STATEMENTS.iter().any(|s| line.contains(s))
        || updates(line)
        || imports_query
}

/// Whether a line holds `"update <table> set`.
fn updates(line: &str) -> bool {
    line.match_indices("\"update ").any(|(at, _)| {
        let mut words = line[at + 8..].split_whitespace();
        words
            .next()
            .is_some_and(|t| t.chars().all(|c| c.is_ascii_lowercase() || c == '_'))
            && words.next() == Some("set")
    })
}

#[test]
fn sql_is_written_only_in_the_db_module() {
    let mut found = Vec::new();
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    for entry in fs::read_dir(&src).expect("src/ is readable") {
        let path = entry.expect("a directory entry").path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        if name == "db" {
            continue;
        }
        found.extend(offences(&format!("src/{name}"), runs_sql));
    }
    assert!(
        found.is_empty(),
        "SQL outside src/db/ (move it into a db function):\n{}",
        found.join("\n")
    );
}

#[test]
fn handlers_reach_the_store_only_through_services() {
    let found = offences("src/http", |line| {
        line.contains("crate::db")
            || line.contains("super::db")
            || line.contains("sqlx")
            || line
                .match_indices("db::")
                .any(|(at, _)| !line[..at].ends_with(|c: char| c.is_alphanumeric() || c == '_'))
    });
    assert!(
        found.is_empty(),
        "src/http/ uses the db module or sqlx (call a service; its row types are \
         in service::types):\n{}",
        found.join("\n")
    );
}

#[test]
fn pure_modules_depend_on_neither_axum_nor_sqlx() {
    let mut found = offences("src/domain", |l| l.contains("axum") || l.contains("sqlx"));
    for module in ["src/imaging.rs", "src/transcode.rs"] {
        found.extend(offences(module, |l| {
            l.contains("axum") || l.contains("sqlx")
        }));
    }
    found.extend(offences("src/service", |l| l.contains("axum")));
    assert!(
        found.is_empty(),
        "domain and imaging use axum or sqlx, or a service uses axum:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_check_sees_through_comments_but_not_through_strings() {
    let code = "let a = 1; // sqlx::query(\"select 1\")\n/* crate::db */ let b = \"// not a comment\";\nlet c = r#\"select \"x\"\"#;";
    let stripped = without_comments(code);
    assert!(!stripped.contains("sqlx::query"));
    assert!(!stripped.contains("crate::db"));
    assert!(stripped.contains("\"// not a comment\""));
    assert_eq!(stripped.lines().count(), 3);
    assert!(runs_sql("    sqlx::query(\"select 1\")"));
    assert!(runs_sql("let q = \"select id from posts\";"));
    assert!(runs_sql("use sqlx::{query_as, PgPool};"));
    assert!(!runs_sql("use sqlx::{PgConnection, PgExecutor};"));
    assert!(!runs_sql("let selected = \"public\";"));
    assert!(runs_sql("\"update posts set x = 1\""));
    assert!(!runs_sql("\"update your profile\""));
}
