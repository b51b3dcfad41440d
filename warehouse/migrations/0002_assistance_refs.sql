-- One row per beneficiary ref of an assistance event revision: the input of the
-- duplicate-assistance signal. Refs are keyed hashes and never leave the warehouse.
CREATE TABLE IF NOT EXISTS assistance_refs
(
    partner_id LowCardinality(String),
    event_id String,
    revision UInt32,
    month Date,
    category LowCardinality(String),
    ref String,
    ingested_at DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(ingested_at)
ORDER BY (month, category, ref, partner_id, event_id, revision);
