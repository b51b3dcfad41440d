-- Per partner and kind: how much it has reported and when it was last heard from.
CREATE TABLE IF NOT EXISTS partner_activity
(
    partner_id LowCardinality(String),
    kind LowCardinality(String),
    events UInt64,
    last_occurred_on Date,
    last_reported_at DateTime64(3, 'UTC'),
    last_ingested_at DateTime64(3, 'UTC'),
    updated_at DateTime64(6, 'UTC')
)
ENGINE = ReplacingMergeTree(updated_at)
ORDER BY (partner_id, kind);
