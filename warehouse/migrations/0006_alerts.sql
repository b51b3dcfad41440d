-- Signals for coordinators: the same beneficiaries assisted by several partners in one month
-- and category, and partners gone silent. alert_id is deterministic, so re-raising replaces.
CREATE TABLE IF NOT EXISTS alerts
(
    alert_id String,
    alert_type LowCardinality(String),
    raised_at DateTime64(3, 'UTC'),
    month Date,
    category String,
    partners Array(String),
    overlap UInt32,
    details String
)
ENGINE = ReplacingMergeTree(raised_at)
ORDER BY alert_id;
