-- Issue #14: a month grain for the dashboards. monthly_aggregates holds the daily aggregates
-- summed per month x partner x region x kind x population type x origin x indicator (a
-- year is ~10x fewer rows than at the day grain); month_days is its access path: the same
-- daily rows ordered by a hash of their month key, so that the refresh recomputes a month
-- row from its (at most 31) daily rows in one short range. Both are rewritten by the refresh
-- for exactly the month keys a batch touched, from the daily rows as they are, never by a
-- delta. Neither holds an SGBV row: SGBV figures leave only through the disclosure engine.
-- The backfill below reads every measure of daily_aggregates, including the one 0020 adds:
-- on a new warehouse this file runs before 0020, on an older one after it, so the column is
-- added here with 0020's own statement (a no-op when it exists; 0020 then finds it).
ALTER TABLE daily_aggregates ADD COLUMN IF NOT EXISTS curriculum_sessions UInt64 DEFAULT 0 AFTER cases;
CREATE TABLE IF NOT EXISTS month_days
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
    curriculum_sessions UInt64,
    updated_at DateTime64(6, 'UTC'),
    month_hash UInt64 MATERIALIZED cityHash64(toString(toStartOfMonth(day)),
        toString(partner_id), toString(region), toString(kind), toString(population_type),
        toString(origin), toString(indicator))
)
ENGINE = ReplacingMergeTree(updated_at)
PRIMARY KEY month_hash
ORDER BY (month_hash, day, partner_id, region, kind, population_type, origin, indicator)
SETTINGS index_granularity = 64;
CREATE TABLE IF NOT EXISTS monthly_aggregates
(
    month Date,
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
    curriculum_sessions UInt64,
    updated_at DateTime64(6, 'UTC')
)
ENGINE = ReplacingMergeTree(updated_at)
ORDER BY (kind, month, partner_id, region, population_type, origin, indicator)
SETTINGS index_granularity = 128;
INSERT INTO month_days (day, partner_id, region, kind, population_type, origin, indicator,
    events, female_0_4, female_5_11, female_12_17, female_18_59, female_60_plus, male_0_4,
    male_5_11, male_12_17, male_18_59, male_60_plus, quantity, value_usd, sessions, hours,
    cases, curriculum_sessions, updated_at)
SELECT day, partner_id, region, kind, population_type, origin, indicator, events,
    female_0_4, female_5_11, female_12_17, female_18_59, female_60_plus, male_0_4, male_5_11,
    male_12_17, male_18_59, male_60_plus, quantity, value_usd, sessions, hours, cases,
    curriculum_sessions, updated_at
FROM daily_aggregates FINAL
WHERE kind != 'sgbv';
INSERT INTO monthly_aggregates
SELECT toStartOfMonth(day), partner_id, region, kind, population_type, origin, indicator,
    sum(events), sum(female_0_4), sum(female_5_11), sum(female_12_17), sum(female_18_59),
    sum(female_60_plus), sum(male_0_4), sum(male_5_11), sum(male_12_17), sum(male_18_59),
    sum(male_60_plus), sum(quantity), sum(value_usd), sum(sessions), sum(hours), sum(cases),
    sum(curriculum_sessions), now64(6)
FROM daily_aggregates FINAL
WHERE kind != 'sgbv'
GROUP BY toStartOfMonth(day), partner_id, region, kind, population_type, origin, indicator;
