-- The "which events may count at these keys" lookup: one row per (aggregate key, event) any
-- revision of the event ever mapped to, ordered by the aggregate key, so the events of the
-- ~10,000 keys a batch touches are found by the key's leading columns, not by a scan of the
-- partner's facts. Duplicates collapse; a row that no longer holds the winner only makes an
-- event a candidate (its winner decides where it counts). Day first: a month is one range.
CREATE TABLE IF NOT EXISTS fact_keys
(
    occurred_on Date,
    partner_id LowCardinality(String),
    region LowCardinality(String),
    kind LowCardinality(String),
    population_type LowCardinality(String),
    origin LowCardinality(String),
    indicator LowCardinality(String),
    event_id String
)
ENGINE = ReplacingMergeTree
ORDER BY (occurred_on, partner_id, region, kind, population_type, origin, indicator, event_id)
SETTINGS index_granularity = 128;
INSERT INTO fact_keys
SELECT DISTINCT occurred_on, partner_id, region, kind, population_type, origin, indicator,
    event_id
FROM facts;
