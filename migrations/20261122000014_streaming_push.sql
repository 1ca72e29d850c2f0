-- Web Push (https://docs.joinmastodon.org/methods/push/): one subscription
-- per OAuth token, and the queue of pushes, written in the transaction that
-- creates the notification and claimed by workers like `deliveries`.
--
-- Streaming needs no table: changes are announced with pg_notify inside the
-- transaction of the change (see ARCHITECTURE.md).

create table web_push_subscriptions (
    id bigint primary key default next_id(),
    token_id bigint not null references oauth_tokens (id) on delete cascade,
    -- The account notified (the token's user's actor).
    actor_id bigint not null references actors (id) on delete cascade,
    endpoint text not null,
    -- The user agent's P-256 public key and auth secret, base64url as sent.
    key_p256dh text not null,
    key_auth text not null,
    -- RFC 8291 (aes128gcm) when true, the legacy draft (aesgcm) otherwise.
    standard boolean not null default false,
    -- The notification types pushed (Mastodon's data[alerts]).
    alerts text[] not null default '{}',
    policy text not null default 'all' check (policy in ('all', 'followed', 'follower', 'none')),
    -- The subscribing token itself: Mastodon's push payload carries it
    -- (`access_token`) so that a client knows which of its accounts a push is
    -- for. The one place a usable token is stored; the row goes when the
    -- token is revoked.
    access_token text not null,
    created_at timestamptz not null,
    updated_at timestamptz not null,
    constraint web_push_subscriptions_token_key unique (token_id)
);

create index web_push_subscriptions_actor on web_push_subscriptions (actor_id);

create table push_deliveries (
    id bigint primary key default next_id(),
    subscription_id bigint not null references web_push_subscriptions (id) on delete cascade,
    notification_id bigint not null references notifications (id) on delete cascade,
    state text not null default 'pending' check (state in ('pending', 'delivered', 'failed')),
    attempts integer not null default 0,
    next_attempt_at timestamptz not null,
    locked_by integer,
    locked_until timestamptz,
    last_status integer,
    last_error text,
    created_at timestamptz not null,
    finished_at timestamptz,
    constraint push_deliveries_pair_key unique (subscription_id, notification_id)
);

create index push_deliveries_due on push_deliveries (next_attempt_at, id) where state = 'pending';
