//! Every e-mail Skein sends, in one place: what it says, by locale, and how
//! it is rendered as plain text and as HTML. A locale is a [`Strings`]
//! table; adding one is adding a table and a [`Locale`] variant. Values put
//! into the strings (names, comments, links) are escaped in the HTML part.

use crate::domain::text::escape;

/// The languages messages are written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Locale {
    #[default]
    En,
}

impl Locale {
    /// The locale for a language tag (`en`, `en-GB`), English when Skein
    /// has no messages in that language.
    pub fn from_tag(tag: &str) -> Locale {
        let language = tag.split(['-', '_']).next().unwrap_or_default();
        match language.to_ascii_lowercase().as_str() {
            "en" => Locale::En,
            _ => Locale::default(),
        }
    }

    fn strings(self) -> &'static Strings {
        match self {
            Locale::En => &EN,
        }
    }
}

/// What a moderator did to an account, as its owner is told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Moderated {
    Suspended,
    Unsuspended,
    Silenced,
    Unsilenced,
    Disabled,
    Enabled,
    Warned,
    Sensitized,
}

/// One message with what it names.
#[derive(Debug, Clone)]
pub enum Mail<'a> {
    /// A sign-up's link to confirm its address.
    Confirmation { username: &'a str, link: &'a str },
    /// A link to choose a new password.
    PasswordReset { username: &'a str, link: &'a str },
    /// To staff: a report was filed.
    NewReport {
        reporter: &'a str,
        target: &'a str,
        comment: &'a str,
        link: &'a str,
    },
    /// To staff: a sign-up waits for approval.
    SignUpPending {
        username: &'a str,
        email: &'a str,
        reason: &'a str,
        link: &'a str,
    },
    /// To a user: their sign-up was approved.
    Approved { username: &'a str, link: &'a str },
    /// To a user: a moderator acted on their account.
    Moderated {
        username: &'a str,
        action: Moderated,
        note: &'a str,
    },
}

/// A message ready for the queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// The strings of one locale. `{name}` marks where a value goes.
pub struct Strings {
    pub greeting: &'static str,
    pub confirmation_subject: &'static str,
    pub confirmation_body: &'static str,
    pub confirmation_link: &'static str,
    pub confirmation_ignore: &'static str,
    pub reset_subject: &'static str,
    pub reset_body: &'static str,
    pub reset_link: &'static str,
    pub reset_ignore: &'static str,
    pub report_subject: &'static str,
    pub report_body: &'static str,
    pub report_comment: &'static str,
    pub report_link: &'static str,
    pub pending_subject: &'static str,
    pub pending_body: &'static str,
    pub pending_reason: &'static str,
    pub pending_link: &'static str,
    pub approved_subject: &'static str,
    pub approved_body: &'static str,
    pub approved_link: &'static str,
    pub moderated_subject: &'static str,
    pub moderated_note: &'static str,
    pub suspended: &'static str,
    pub unsuspended: &'static str,
    pub silenced: &'static str,
    pub unsilenced: &'static str,
    pub disabled: &'static str,
    pub enabled: &'static str,
    pub warned: &'static str,
    pub sensitized: &'static str,
    pub footer: &'static str,
}

const EN: Strings = Strings {
    greeting: "Hello {username},",
    confirmation_subject: "Confirm your e-mail address on {instance}",
    confirmation_body: "Thanks for signing up on {instance}. Follow this link within 24 hours to confirm your e-mail address; you can sign in once it is confirmed.",
    confirmation_link: "Confirm my e-mail address",
    confirmation_ignore: "If you did not sign up, ignore this message: the account will not be usable.",
    reset_subject: "Reset your password on {instance}",
    reset_body: "Someone, hopefully you, asked to reset the password of your account on {instance}. Follow this link within an hour to choose a new one; it works once.",
    reset_link: "Choose a new password",
    reset_ignore: "If you did not ask for this, ignore this message: your password stays as it is.",
    report_subject: "New report on {instance}: {target}",
    report_body: "{reporter} reported {target}.",
    report_comment: "Their comment:",
    report_link: "Open the reports",
    pending_subject: "New sign-up waiting for approval on {instance}: {username}",
    pending_body: "{username} ({email}) signed up on {instance} and waits for a moderator's approval.",
    pending_reason: "Why they want to join:",
    pending_link: "Review sign-ups",
    approved_subject: "Your account on {instance} is approved",
    approved_body: "A moderator approved your account on {instance}. Welcome! You can sign in now.",
    approved_link: "Sign in",
    moderated_subject: "Your account on {instance}",
    moderated_note: "The moderators' note:",
    suspended: "The moderators of {instance} suspended your account: you cannot sign in, and your profile and posts are hidden.",
    unsuspended: "The moderators of {instance} lifted the suspension of your account.",
    silenced: "The moderators of {instance} limited your account: your posts are only shown to your followers.",
    unsilenced: "The moderators of {instance} lifted the limit on your account.",
    disabled: "The moderators of {instance} froze your account: you cannot sign in.",
    enabled: "The moderators of {instance} unfroze your account: you can sign in again.",
    warned: "The moderators of {instance} sent you a warning about your account.",
    sensitized: "The moderators of {instance} marked the media of your posts as sensitive: they are shown behind a warning, now and in what you post next.",
    footer: "This message was sent by {instance} ({domain}).",
};

/// Fills `{name}` places with values.
fn fill(template: &str, values: &[(&str, &str)]) -> String {
    let mut out = template.to_string();
    for (name, value) in values {
        out = out.replace(&format!("{{{name}}}"), value);
    }
    out
}

/// A message's parts before rendering: paragraphs, a quoted text with its
/// caption, a link with its label, closing paragraphs.
#[derive(Default)]
struct Parts {
    subject: String,
    paragraphs: Vec<String>,
    quote: Option<(String, String)>,
    link: Option<(String, String)>,
    closing: Vec<String>,
}

impl Mail<'_> {
    /// The message in `locale`, from the instance `instance` at `domain`.
    pub fn render(&self, locale: Locale, instance: &str, domain: &str) -> Rendered {
        let s = locale.strings();
        let base = [("instance", instance), ("domain", domain)];
        let with = |template: &str, more: &[(&str, &str)]| {
            let mut values = base.to_vec();
            values.extend_from_slice(more);
            fill(template, &values)
        };
        let quote = |caption: &str, text: &str| {
            let text = text.trim();
            (!text.is_empty()).then(|| (caption.to_string(), text.to_string()))
        };
        let parts = match *self {
            Mail::Confirmation { username, link } => Parts {
                subject: with(s.confirmation_subject, &[]),
                paragraphs: vec![
                    with(s.greeting, &[("username", username)]),
                    with(s.confirmation_body, &[]),
                ],
                link: Some((s.confirmation_link.into(), link.into())),
                closing: vec![with(s.confirmation_ignore, &[])],
                ..Parts::default()
            },
            Mail::PasswordReset { username, link } => Parts {
                subject: with(s.reset_subject, &[]),
                paragraphs: vec![
                    with(s.greeting, &[("username", username)]),
                    with(s.reset_body, &[]),
                ],
                link: Some((s.reset_link.into(), link.into())),
                closing: vec![with(s.reset_ignore, &[])],
                ..Parts::default()
            },
            Mail::NewReport {
                reporter,
                target,
                comment,
                link,
            } => {
                let names = [("reporter", reporter), ("target", target)];
                Parts {
                    subject: with(s.report_subject, &names),
                    paragraphs: vec![with(s.report_body, &names)],
                    quote: quote(s.report_comment, comment),
                    link: Some((s.report_link.into(), link.into())),
                    ..Parts::default()
                }
            }
            Mail::SignUpPending {
                username,
                email,
                reason,
                link,
            } => {
                let names = [("username", username), ("email", email)];
                Parts {
                    subject: with(s.pending_subject, &names),
                    paragraphs: vec![with(s.pending_body, &names)],
                    quote: quote(s.pending_reason, reason),
                    link: Some((s.pending_link.into(), link.into())),
                    ..Parts::default()
                }
            }
            Mail::Approved { username, link } => Parts {
                subject: with(s.approved_subject, &[]),
                paragraphs: vec![
                    with(s.greeting, &[("username", username)]),
                    with(s.approved_body, &[]),
                ],
                link: Some((s.approved_link.into(), link.into())),
                ..Parts::default()
            },
            Mail::Moderated {
                username,
                action,
                note,
            } => {
                let what = match action {
                    Moderated::Suspended => s.suspended,
                    Moderated::Unsuspended => s.unsuspended,
                    Moderated::Silenced => s.silenced,
                    Moderated::Unsilenced => s.unsilenced,
                    Moderated::Disabled => s.disabled,
                    Moderated::Enabled => s.enabled,
                    Moderated::Warned => s.warned,
                    Moderated::Sensitized => s.sensitized,
                };
                Parts {
                    subject: with(s.moderated_subject, &[]),
                    paragraphs: vec![with(s.greeting, &[("username", username)]), with(what, &[])],
                    quote: quote(s.moderated_note, note),
                    ..Parts::default()
                }
            }
        };
        parts.render(&with(s.footer, &[]))
    }
}

impl Parts {
    fn render(self, footer: &str) -> Rendered {
        let mut text = Vec::new();
        let mut html = Vec::new();
        for p in &self.paragraphs {
            text.push(p.clone());
            html.push(format!("<p>{}</p>", escape(p)));
        }
        if let Some((caption, quoted)) = &self.quote {
            let indented: Vec<String> = quoted.lines().map(|l| format!("> {l}")).collect();
            text.push(format!("{caption}\n{}", indented.join("\n")));
            let lines: Vec<String> = quoted.lines().map(escape).collect();
            html.push(format!(
                "<p>{}</p>\n<blockquote>{}</blockquote>",
                escape(caption),
                lines.join("<br>")
            ));
        }
        if let Some((label, url)) = &self.link {
            text.push(format!("{label}:\n{url}"));
            html.push(format!(
                "<p><a href=\"{}\">{}</a></p>",
                escape(url),
                escape(label)
            ));
        }
        for p in &self.closing {
            text.push(p.clone());
            html.push(format!("<p>{}</p>", escape(p)));
        }
        text.push(format!("-- \n{footer}"));
        html.push(format!("<hr>\n<p><small>{}</small></p>", escape(footer)));
        Rendered {
            subject: self.subject.replace(['\r', '\n'], " "),
            text: text.join("\n\n") + "\n",
            html: format!(
                "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{}</title></head>\n<body>\n{}\n</body></html>\n",
                escape(&self.subject),
                html.join("\n")
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_has_its_link_in_both_parts_and_escapes_values_in_html() {
        let mail = Mail::NewReport {
            reporter: "<alice>",
            target: "bob@remote.example",
            comment: "spam & more\nsecond line",
            link: "https://skein.example/admin/reports?a=1&b=2",
        };
        let r = mail.render(Locale::En, "Skein", "skein.example");
        assert_eq!(r.subject, "New report on Skein: bob@remote.example");
        assert!(r.text.contains("<alice> reported bob@remote.example."));
        assert!(r.text.contains("> spam & more\n> second line"));
        assert!(
            r.text
                .contains("Open the reports:\nhttps://skein.example/admin/reports?a=1&b=2")
        );
        assert!(r.html.contains("&lt;alice&gt; reported"));
        assert!(r.html.contains("spam &amp; more<br>second line"));
        assert!(
            r.html
                .contains("href=\"https://skein.example/admin/reports?a=1&amp;b=2\"")
        );
        assert!(
            r.text
                .ends_with("This message was sent by Skein (skein.example).\n")
        );
    }

    #[test]
    fn an_unknown_language_falls_back_to_english() {
        assert_eq!(Locale::from_tag("xx-YY"), Locale::En);
        let r = Mail::Approved {
            username: "carol",
            link: "https://s.example/auth/sign_in",
        }
        .render(Locale::from_tag("xx"), "S", "s.example");
        assert!(r.text.starts_with("Hello carol,"));
    }
}
