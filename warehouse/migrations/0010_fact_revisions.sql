-- The "where was this event, and what does it count" lookup: a narrow copy of every fact
-- revision (the aggregate key, the winner order, the measures), ordered by (partner_id,
-- event_id) with small granules, so that finding the revisions of 5,000 events reads about
-- 5,000 granules of 64 rows instead of every 8,192-row granule of facts. Readers pick the
-- winner with argMax over (revision, ingested_at, offset), as in facts. Unlike facts, a
-- revision written again with other content keeps both rows (the sorting key includes the
-- write): its earlier key must still be refreshed after facts' merges have dropped it.
-- Written by warehouse.facts.write_facts beside facts; a new measure column is added here too.
CREATE TABLE IF NOT EXISTS fact_revisions
(
    partner_id LowCardinality(String),
    event_id String,
    revision UInt32,
    ingested_at DateTime64(3, 'UTC'),
    `offset` UInt64,
    status LowCardinality(String),
    occurred_on Date,
    reported_at DateTime64(3, 'UTC'),
    region LowCardinality(String),
    kind LowCardinality(String),
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
    value_usd Float64,
    sessions UInt32,
    hours Float64,
    cases UInt32
)
ENGINE = ReplacingMergeTree
ORDER BY (partner_id, event_id, revision, ingested_at, `offset`)
SETTINGS index_granularity = 64;
-- Facts written before this table existed.
INSERT INTO fact_revisions
SELECT partner_id, event_id, revision, ingested_at, `offset`, status, occurred_on, reported_at,
    region, kind, population_type, origin, indicator,
    female_0_4, female_5_11, female_12_17, female_18_59, female_60_plus,
    male_0_4, male_5_11, male_12_17, male_18_59, male_60_plus,
    quantity, value_usd, sessions, hours, cases
FROM facts;
