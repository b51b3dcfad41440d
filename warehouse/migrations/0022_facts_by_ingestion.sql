-- Issue #14: the pipeline-health panels read facts by when they were written (`ingested_at`,
-- default range: the last 6 hours), but `facts` is ordered by event, and merges mix every
-- day's rows into every granule: a skip index on `ingested_at` cannot prune them, and each
-- panel read all 10 M rows of a year. A projection keeps the few columns those panels read
-- ordered by `ingested_at`; ClickHouse maintains it on every insert and picks it for a query
-- filtered on `ingested_at` (6 hours of a 10 M-fact year: 10 ms, not 250-600 ms). On a
-- ReplacingMergeTree a projection needs a rule for merges: 'rebuild' builds it again from the
-- merged (de-duplicated) rows. A second, aggregating projection counts facts per partner, kind
-- and day written, for the scorecard's arrivals over a period of whole days (a year: 10 ms).
ALTER TABLE facts MODIFY SETTING deduplicate_merge_projection_mode = 'rebuild';
ALTER TABLE facts ADD PROJECTION IF NOT EXISTS by_ingestion
    (SELECT partner_id, kind, occurred_on, reported_at, published_at, ingested_at ORDER BY ingested_at);
ALTER TABLE facts MATERIALIZE PROJECTION by_ingestion SETTINGS mutations_sync = 2;
ALTER TABLE facts ADD PROJECTION IF NOT EXISTS arrivals_by_day
    (SELECT partner_id, kind, toDate(ingested_at), count() GROUP BY partner_id, kind, toDate(ingested_at));
ALTER TABLE facts MATERIALIZE PROJECTION arrivals_by_day SETTINGS mutations_sync = 2;
