-- The "which events may count at these keys" lookup: one row per (aggregate key, event) any
-- revision of the event ever mapped to, indexed by the day and a hash of the whole key, so
-- the events of the ~10,000 keys a batch touches are found by comparing two numbers per
-- row in ~10,000 small granules, not by a scan of the partner's facts. Duplicates collapse;
-- a row that no longer holds the winner (or a hash collision) only makes an event a
-- candidate: its winner decides where it counts. Day first: a month is one range.
CREATE TABLE IF NOT EXISTS fact_keys
(
    occurred_on Date,
    partner_id LowCardinality(String),
    region LowCardinality(String),
    kind LowCardinality(String),
    population_type LowCardinality(String),
    origin LowCardinality(String),
    indicator LowCardinality(String),
    event_id String,
    key_hash UInt64 MATERIALIZED cityHash64(toString(occurred_on), toString(partner_id),
        toString(region), toString(kind), toString(population_type), toString(origin),
        toString(indicator))
)
ENGINE = ReplacingMergeTree
PRIMARY KEY (occurred_on, key_hash)
ORDER BY (occurred_on, key_hash, partner_id, event_id, region, kind, population_type, origin,
    indicator)
SETTINGS index_granularity = 64;
INSERT INTO fact_keys
SELECT occurred_on, partner_id, region, kind, population_type, origin, indicator, event_id
FROM facts;
