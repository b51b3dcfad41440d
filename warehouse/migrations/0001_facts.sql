-- One row per accepted event revision. The idempotency key is (partner_id, event_id, revision):
-- a partner can never overwrite another partner's event, and writing a revision twice leaves
-- one row after merges. Readers de-duplicate with FINAL or argMax over (revision, ingested_at).
CREATE TABLE IF NOT EXISTS facts
(
    event_id String,
    revision UInt32,
    status LowCardinality(String),
    partner_id LowCardinality(String),
    kind LowCardinality(String),
    occurred_on Date,
    reported_at DateTime64(3, 'UTC'),
    region LowCardinality(String),
    population_type LowCardinality(String),
    origin LowCardinality(String),
    indicator LowCardinality(String),
    female_0_4 UInt32,
    female_5_11 UInt32,
    female_12_17 UInt32,
    female_18_59 UInt32,
    female_60_plus UInt32,
    male_0_4 UInt32,
    male_5_11 UInt32,
    male_12_17 UInt32,
    male_18_59 UInt32,
    male_60_plus UInt32,
    quantity Float64,
    unit LowCardinality(String),
    value_usd Float64,
    sessions UInt32,
    hours Float64,
    cases UInt32,
    services Array(LowCardinality(String)),
    ref_count UInt32,
    payload String,
    topic LowCardinality(String),
    `partition` UInt32,
    `offset` UInt64,
    published_at DateTime64(3, 'UTC'),
    ingested_at DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(ingested_at)
ORDER BY (partner_id, event_id, revision);
