-- The incremental reconciliation's record: per month, when it was last checked, the marks it
-- covered (activity_marks.marked_at up to which the month was seen), and what it found.
CREATE TABLE IF NOT EXISTS reconciliations
(
    month Date,
    checked_at DateTime64(6, 'UTC'),
    marks_through DateTime64(6, 'UTC'),
    totals UInt32,
    differing UInt32
)
ENGINE = ReplacingMergeTree(checked_at)
ORDER BY month;
