//! Local usernames: what a new account may be called.

/// The longest local username, as in Mastodon.
pub const MAX_LEN: usize = 30;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UsernameError {
    #[error("a username must not be empty")]
    Empty,
    #[error("a username has at most {MAX_LEN} characters")]
    TooLong,
    #[error("a username may only contain letters a-z, digits and underscores")]
    BadCharacter,
}

/// A valid local username: 1 to 30 of `[A-Za-z0-9_]`. Case is kept for
/// display; uniqueness ignores it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Username(String);

impl Username {
    pub fn parse(raw: &str) -> Result<Username, UsernameError> {
        if raw.is_empty() {
            return Err(UsernameError::Empty);
        }
        if raw.chars().count() > MAX_LEN {
            return Err(UsernameError::TooLong);
        }
        if !raw.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(UsernameError::BadCharacter);
        }
        Ok(Username(raw.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Username {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_letters_digits_and_underscores() {
        for ok in ["alice", "Bob_2", "_", &"a".repeat(30)] {
            assert_eq!(Username::parse(ok).expect("valid").as_str(), ok);
        }
    }

    #[test]
    fn refuses_empty_long_and_odd_names() {
        assert_eq!(Username::parse(""), Err(UsernameError::Empty));
        assert_eq!(
            Username::parse(&"a".repeat(31)),
            Err(UsernameError::TooLong)
        );
        for bad in ["al ice", "a.b", "a-b", "ä", "a@b", "../x"] {
            assert_eq!(
                Username::parse(bad),
                Err(UsernameError::BadCharacter),
                "{bad}"
            );
        }
    }
}
