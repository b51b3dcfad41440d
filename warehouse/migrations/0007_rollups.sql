-- Monthly roll-ups, versioned. A version is one immutable snapshot of a month's totals:
-- its rows go into rollup_rows first, then its row here; a version without a row here does
-- not exist (a run killed in between leaves rows nobody reads). Readers use FINAL.
CREATE TABLE IF NOT EXISTS rollup_versions
(
    month Date,
    version UInt32,
    created_at DateTime64(3, 'UTC'),
    created_by LowCardinality(String),
    checksum String,
    row_count UInt32,
    events UInt64,
    persons UInt64,
    facts_through Nullable(DateTime64(3, 'UTC')),
    changes String,
    reconciliation String,
    differing_keys UInt32
)
ENGINE = ReplacingMergeTree(created_at)
ORDER BY (month, version);
-- The exact totals of each version: month x partner x region x kind x population type x
-- origin x indicator. checksum ties the rows to their version row, so rows of a run that died
-- before writing its version row can never be read as part of a later version.
CREATE TABLE IF NOT EXISTS rollup_rows
(
    month Date,
    version UInt32,
    checksum String,
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
    quantity Decimal(38, 6),
    units Array(LowCardinality(String)),
    value_usd Decimal(38, 6),
    sessions UInt64,
    hours Decimal(38, 6),
    cases UInt64
)
ENGINE = ReplacingMergeTree
ORDER BY (month, version, checksum, partner_id, region, kind, population_type, origin, indicator);
