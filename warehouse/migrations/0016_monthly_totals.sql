-- Issue #14: the coarsest grain the dashboards read, for the panels that show no indicator
-- (the coordination overview, the scorecard's reported months): monthly_aggregates summed per
-- kind x month x partner x region x population type x origin, ~1/30 of its rows at 10 M
-- facts. Rewritten by the refresh for exactly the groups a batch touched, from
-- monthly_aggregates (ordered with this key as its prefix, 128-row granules: a group is one
-- short range). No SGBV row, as in monthly_aggregates.
CREATE TABLE IF NOT EXISTS monthly_totals
(
    kind LowCardinality(String),
    month Date,
    partner_id LowCardinality(String),
    region LowCardinality(String),
    population_type LowCardinality(String),
    origin LowCardinality(String),
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
ORDER BY (kind, month, partner_id, region, population_type, origin);
INSERT INTO monthly_totals
SELECT kind, month, partner_id, region, population_type, origin,
    sum(events), sum(female_0_4), sum(female_5_11), sum(female_12_17), sum(female_18_59),
    sum(female_60_plus), sum(male_0_4), sum(male_5_11), sum(male_12_17), sum(male_18_59),
    sum(male_60_plus), sum(quantity), sum(value_usd), sum(sessions), sum(hours), sum(cases),
    sum(curriculum_sessions), now64(6)
FROM monthly_aggregates FINAL
GROUP BY kind, month, partner_id, region, population_type, origin;
