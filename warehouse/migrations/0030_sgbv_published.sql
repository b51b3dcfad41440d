-- The SGBV figures the disclosure-control engine published for each roll-up version: every
-- figure of its grain (disclosure/grain.py), value NULL where withheld. Nothing in this table
-- is unsuppressed; it is what every SGBV output reads. `grain_table` names the engine's table
-- (total, region, activity, region_activity, incident, cell, activity_cell, population).
CREATE TABLE IF NOT EXISTS sgbv_published
(
    month Date,
    version UInt32,
    threshold UInt16,
    grain_table LowCardinality(String),
    measure LowCardinality(String),
    region LowCardinality(String),
    activity LowCardinality(String),
    incident LowCardinality(String),
    population_type LowCardinality(String),
    cell LowCardinality(String),
    value Nullable(UInt64),
    written_at DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(written_at)
ORDER BY (month, version, grain_table, measure, region, activity, incident, population_type, cell);

-- What the SGBV dashboard's ClickHouse user may read, and all it may read: the published
-- figures of each month's latest roll-up version. SQL SECURITY DEFINER: the view reads its
-- tables with its creator's rights (the writer that runs migrations), so the SGBV user needs
-- a grant on this view only (deploy/clickhouse/users.d/partnerhub.xml).
CREATE VIEW IF NOT EXISTS sgbv_figures SQL SECURITY DEFINER AS
SELECT p.month AS month, p.grain_table AS grain_table, p.measure AS measure, p.region AS region,
    p.activity AS activity, p.incident AS incident, p.population_type AS population_type,
    p.cell AS cell, p.value AS value, p.threshold AS threshold
FROM sgbv_published AS p FINAL
WHERE (p.month, p.version) IN (
    SELECT month, max(version) FROM sgbv_published GROUP BY month
);
