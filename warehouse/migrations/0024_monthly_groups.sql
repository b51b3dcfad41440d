-- Issue #14: a month grain between monthly_aggregates and monthly_totals, for the panels that
-- show only an indicator's first part (the audience of a training, the activity of income
-- generation): monthly_aggregates summed per kind x month x partner x region x population
-- type x origin x indicator_group (the indicator up to its first '.'). Protection training's
-- 112 indicators are 14 audiences x 8 topics, so its audience panels read ~1/6 of the rows.
-- Rewritten by the refresh for exactly the groups a batch touched, from monthly_aggregates
-- (ordered with this key's first six columns as its prefix: a group is one short range);
-- monthly_totals is then recomputed from this table. No SGBV row, as in monthly_aggregates.
CREATE TABLE IF NOT EXISTS monthly_groups
(
    kind LowCardinality(String),
    month Date,
    partner_id LowCardinality(String),
    region LowCardinality(String),
    population_type LowCardinality(String),
    origin LowCardinality(String),
    indicator_group LowCardinality(String),
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
ORDER BY (kind, month, partner_id, region, population_type, origin, indicator_group)
SETTINGS index_granularity = 128;
INSERT INTO monthly_groups
SELECT kind, month, partner_id, region, population_type, origin,
    substringIndex(indicator, '.', 1) AS indicator_group,
    sum(events), sum(female_0_4), sum(female_5_11), sum(female_12_17), sum(female_18_59),
    sum(female_60_plus), sum(male_0_4), sum(male_5_11), sum(male_12_17), sum(male_18_59),
    sum(male_60_plus), sum(quantity), sum(value_usd), sum(sessions), sum(hours), sum(cases),
    sum(curriculum_sessions), now64(6)
FROM monthly_aggregates FINAL
GROUP BY kind, month, partner_id, region, population_type, origin, indicator_group;
