-- Totals per day x partner x region x kind x population type x origin x indicator, rewritten
-- by refresh_aggregates for exactly the keys a sink batch touched. Read with FINAL.
CREATE TABLE IF NOT EXISTS daily_aggregates
(
    day Date,
    partner_id LowCardinality(String),
    region LowCardinality(String),
    kind LowCardinality(String),
    population_type LowCardinality(String),
    origin LowCardinality(String),
    indicator LowCardinality(String),
    events UInt64,
    female_0_4 UInt64,
    female_5_11 UInt64,
    female_12_17 UInt64,
    female_18_59 UInt64,
    female_60_plus UInt64,
    male_0_4 UInt64,
    male_5_11 UInt64,
    male_12_17 UInt64,
    male_18_59 UInt64,
    male_60_plus UInt64,
    quantity Float64,
    value_usd Float64,
    sessions UInt64,
    hours Float64,
    cases UInt64,
    updated_at DateTime64(6, 'UTC')
)
ENGINE = ReplacingMergeTree(updated_at)
ORDER BY (day, partner_id, region, kind, population_type, origin, indicator);
