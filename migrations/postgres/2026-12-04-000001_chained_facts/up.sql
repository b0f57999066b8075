-- The third kind of link in a village's hash chain, beside transactions and payment events: a fact that decides
-- where money may go or how much (a budget year's versions and lines, a user's role and village, a bank client's
-- access, the village's bank account and limits, the regency's treasury and cash limit, a closed fiscal year, a
-- statement line). `state` is the subject's canonical state as of the change; verification compares every subject's
-- stored rows with its latest fact.
CREATE TABLE chained_facts (
    id          TEXT PRIMARY KEY,
    village_id  TEXT NOT NULL REFERENCES villages(id),
    chain_seq   BIGINT NOT NULL,
    kind        TEXT NOT NULL,
    subject     TEXT NOT NULL,
    state       TEXT NOT NULL,
    actor       TEXT NOT NULL,
    at          TIMESTAMP NOT NULL,
    prev_hash   TEXT NOT NULL,
    hash        TEXT NOT NULL,
    UNIQUE (village_id, chain_seq)
);
CREATE INDEX chained_facts_subject ON chained_facts(village_id, kind, subject, chain_seq);
