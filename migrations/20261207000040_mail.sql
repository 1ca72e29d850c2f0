-- E-mail: confirmed addresses, single-use tokens sent by e-mail, and the
-- durable queue of messages to send.

-- When the account's e-mail address was confirmed; null while a sign-up
-- waits for its confirmation link (only when SMTP is configured). Every
-- existing account keeps signing in; new ones are confirmed unless the
-- sign-up clears it.
alter table users add column confirmed_at timestamptz;
update users set confirmed_at = created_at;
alter table users alter column confirmed_at set default now();

-- Tokens mailed to a user: a sign-up's confirmation link, a password
-- reset. Only the SHA-256 digest of the token is kept; it is used once.
create table email_tokens (
    id bigint primary key default next_id(),
    user_id bigint not null references users (id) on delete cascade,
    purpose text not null check (purpose in ('confirmation', 'password_reset')),
    digest bytea not null,
    created_at timestamptz not null,
    expires_at timestamptz not null,
    used_at timestamptz,
    constraint email_tokens_digest_key unique (digest)
);
create index email_tokens_user on email_tokens (user_id, purpose);

-- Messages to send, written in the transaction of the event that causes
-- them; the worker role sends them, retrying with backoff.
create table mail_outbox (
    id bigint primary key default next_id(),
    recipient text not null,
    subject text not null,
    text_body text not null,
    html_body text not null,
    attempts integer not null default 0,
    created_at timestamptz not null,
    next_attempt_at timestamptz not null,
    sent_at timestamptz,
    failed_at timestamptz,
    last_error text
);
create index mail_outbox_due on mail_outbox (next_attempt_at)
    where sent_at is null and failed_at is null;
