-- The instance's rules, as admins write them: shown on the about page and at
-- sign-up, served to apps (`/api/v1/instance/rules`), and named by reports
-- of the "violation" category.

create table instance_rules (
    id bigint primary key default next_id(),
    -- Rules are shown in ascending position; admins move them up and down.
    position integer not null,
    text text not null,
    -- A longer explanation shown under the rule.
    hint text not null default '',
    created_at timestamptz not null,
    updated_at timestamptz not null,
    -- A removed rule stays, so that the reports that named it still show
    -- what it said.
    deleted_at timestamptz
);

create index instance_rules_live on instance_rules (position, id) where deleted_at is null;

-- The rules a report says were broken (category "violation").
alter table reports add column rule_ids bigint[] not null default '{}';
