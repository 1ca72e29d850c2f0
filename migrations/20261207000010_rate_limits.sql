-- Rate-limit windows, shared by every process of the instance: so many hits
-- on a key per window (the API per token or address, sign-ins per address
-- and per account, uploads, sign-ups, archives). Unlogged: a window is worth
-- nothing after a crash, and a transaction that writes only this table waits
-- for no disk flush.

create unlogged table rate_limit_windows (
    -- The limit's name ("api", "sign_in", ...).
    name text not null,
    -- Whom it counts: a token's digest, an address, an account.
    key text not null,
    -- Hits in the window, refused ones included (capped one past the limit).
    hits integer not null,
    -- When the window ends; the next hit after that opens a new one.
    ends_at timestamptz not null,
    primary key (name, key)
);

create index rate_limit_windows_ends_at on rate_limit_windows (ends_at);
