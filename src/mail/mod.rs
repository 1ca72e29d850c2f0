//! E-mail out: the SMTP transport built from `[smtp]` (lettre over tokio,
//! TLS by rustls) and the messages Skein sends (`messages`: every string,
//! by locale). Queueing and retries are `service::mail`'s; this module only
//! renders and sends one message.

pub mod messages;

use std::time::Duration;

use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::config::{Config, SmtpSecurity};

/// The longest one conversation with the SMTP server may take.
const TIMEOUT: Duration = Duration::from_secs(30);

/// Why a message was not sent.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// The server refused it for good (a 5xx answer) or it cannot be
    /// written (a bad address): trying again will not help.
    #[error("{0}")]
    Permanent(String),
    /// The server is unreachable, busy or answered 4xx: try again later.
    #[error("{0}")]
    Transient(String),
}

/// One message, ready to send.
#[derive(Debug, Clone)]
pub struct Outgoing<'a> {
    pub to: &'a str,
    pub subject: &'a str,
    pub text: &'a str,
    pub html: &'a str,
}

/// The SMTP server of `[smtp]`, or None when no host is set.
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl Mailer {
    pub fn from_config(config: &Config) -> Result<Option<Mailer>, SendError> {
        let smtp = &config.smtp;
        if !smtp.enabled() {
            return Ok(None);
        }
        let host = smtp.host.trim();
        let builder = match smtp.security {
            SmtpSecurity::Starttls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(host),
            SmtpSecurity::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(host),
            SmtpSecurity::None => Ok(AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(
                host,
            )),
        }
        .map_err(|e| SendError::Permanent(format!("smtp.host: {e}")))?;
        let mut builder = builder.port(smtp.port).timeout(Some(TIMEOUT));
        if !smtp.ca_file.as_os_str().is_empty() && smtp.security != SmtpSecurity::None {
            let pem = std::fs::read(&smtp.ca_file).map_err(|e| {
                SendError::Transient(format!("smtp.ca_file {}: {e}", smtp.ca_file.display()))
            })?;
            let ca = Certificate::from_pem(&pem)
                .map_err(|e| SendError::Transient(format!("smtp.ca_file: {e}")))?;
            let parameters = TlsParameters::builder(host.to_string())
                .add_root_certificate(ca)
                .build_rustls()
                .map_err(|e| SendError::Transient(format!("smtp.ca_file: {e}")))?;
            builder = builder.tls(match smtp.security {
                SmtpSecurity::Tls => Tls::Wrapper(parameters),
                _ => Tls::Required(parameters),
            });
        }
        if !smtp.username.is_empty() {
            builder = builder.credentials(Credentials::new(
                smtp.username.clone(),
                smtp.password.clone(),
            ));
        }
        let address = smtp
            .from_address(&config.domain)
            .parse()
            .map_err(|e| SendError::Permanent(format!("smtp.from_address: {e}")))?;
        let name = match smtp.from_name.trim() {
            "" => config.instance.name.clone(),
            given => given.to_string(),
        };
        Ok(Some(Mailer {
            transport: builder.build(),
            from: Mailbox::new(Some(name), address),
        }))
    }

    /// Sends one message as multipart/alternative (plain text and HTML).
    pub async fn send(&self, mail: &Outgoing<'_>) -> Result<(), SendError> {
        let to: Mailbox = mail
            .to
            .parse()
            .map_err(|e| SendError::Permanent(format!("the address {:?}: {e}", mail.to)))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(mail.subject)
            .multipart(MultiPart::alternative_plain_html(
                mail.text.to_string(),
                mail.html.to_string(),
            ))
            .map_err(|e| SendError::Permanent(format!("the message cannot be written: {e}")))?;
        match self.transport.send(message).await {
            Ok(_) => Ok(()),
            Err(e) if e.is_permanent() => Err(SendError::Permanent(e.to_string())),
            Err(e) => Err(SendError::Transient(e.to_string())),
        }
    }
}
