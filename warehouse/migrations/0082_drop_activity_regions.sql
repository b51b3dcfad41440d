-- Issue #14: partner activity's days are summed straight from key_totals (ordered by partner,
-- kind, day: a day cell is one short range), no longer through activity_regions (per partner,
-- kind, day and region). The level cost a statement per batch and a range per region cell;
-- at 2,000,000 facts the two statements took 1.1-1.4 s for ~8,000 day cells, the one 0.53-0.58 s
-- (docs/warehouse.md). Nothing else reads the table.
DROP TABLE IF EXISTS activity_regions;
