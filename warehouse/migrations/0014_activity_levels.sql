-- Partner activity summed in levels, each rewritten only where a batch touched it and each
-- read through small granules, so a batch costs what it touched whatever the history holds:
-- key_totals (the events of each aggregate key, ordered by partner, kind, day and region)
-- -> activity_regions (per partner, kind, day, region) -> activity_days (per partner, kind,
-- day) -> partner_activity (per partner and kind, summed over its days).
CREATE TABLE IF NOT EXISTS key_totals
(
    partner_id LowCardinality(String),
    kind LowCardinality(String),
    day Date,
    region LowCardinality(String),
    population_type LowCardinality(String),
    origin LowCardinality(String),
    indicator LowCardinality(String),
    events UInt64,
    updated_at DateTime64(6, 'UTC')
)
ENGINE = ReplacingMergeTree(updated_at)
ORDER BY (partner_id, kind, day, region, population_type, origin, indicator)
SETTINGS index_granularity = 128;
CREATE TABLE IF NOT EXISTS activity_regions
(
    partner_id LowCardinality(String),
    kind LowCardinality(String),
    day Date,
    region LowCardinality(String),
    events UInt64,
    updated_at DateTime64(6, 'UTC')
)
ENGINE = ReplacingMergeTree(updated_at)
ORDER BY (partner_id, kind, day, region)
SETTINGS index_granularity = 128;
INSERT INTO key_totals
SELECT partner_id, kind, day, region, population_type, origin, indicator, events, updated_at
FROM daily_aggregates FINAL;
INSERT INTO activity_regions
SELECT partner_id, kind, day, region, sum(events), now64(6)
FROM daily_aggregates FINAL
GROUP BY partner_id, kind, day, region;
