-- Partner activity from bounded pieces. activity_days: the events counted per partner, kind
-- and day (the sum of that day's daily aggregates), rewritten for the cells a batch touched;
-- partner_activity sums a partner's days. activity_marks: the latest report and arrival of
-- any revision per partner, kind and month, merged with max (duplicates, retries and two
-- writers all give the same max); marked_at says when a month last changed, which is what
-- the incremental reconciliation looks at.
CREATE TABLE IF NOT EXISTS activity_days
(
    partner_id LowCardinality(String),
    kind LowCardinality(String),
    day Date,
    events UInt64,
    updated_at DateTime64(6, 'UTC')
)
ENGINE = ReplacingMergeTree(updated_at)
ORDER BY (partner_id, kind, day);
CREATE TABLE IF NOT EXISTS activity_marks
(
    partner_id LowCardinality(String),
    kind LowCardinality(String),
    month Date,
    last_reported_at SimpleAggregateFunction(max, DateTime64(3, 'UTC')),
    last_ingested_at SimpleAggregateFunction(max, DateTime64(3, 'UTC')),
    marked_at SimpleAggregateFunction(max, DateTime64(6, 'UTC'))
)
ENGINE = AggregatingMergeTree
ORDER BY (partner_id, kind, month);
INSERT INTO activity_days
SELECT partner_id, kind, day, sum(events), now64(6)
FROM daily_aggregates FINAL
GROUP BY partner_id, kind, day;
INSERT INTO activity_marks
SELECT partner_id, kind, toStartOfMonth(occurred_on), max(reported_at), max(ingested_at),
    now64(6)
FROM facts
GROUP BY partner_id, kind, toStartOfMonth(occurred_on);
