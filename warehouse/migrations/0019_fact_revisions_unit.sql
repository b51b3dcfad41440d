-- Roll-ups read a month's winners from fact_revisions (found through fact_keys, day first)
-- instead of scanning facts by day; a roll-up row lists the units its quantity was reported
-- in, so the event lookup table carries each revision's unit too (written by write_facts).
ALTER TABLE fact_revisions ADD COLUMN IF NOT EXISTS unit LowCardinality(String) DEFAULT '' AFTER quantity;
-- Revisions written before: each copy with a unit in facts written again with it (matched
-- on the whole sorting key, every other column as it is, whichever migrations added them),
-- replacing the copy without one, and merged now, so that no reader meets both.
-- Safe to run twice: the copies collapse again.
INSERT INTO fact_revisions
SELECT r.* REPLACE (f.unit AS unit)
FROM fact_revisions AS r
INNER JOIN (
    SELECT DISTINCT partner_id, event_id, revision, ingested_at, `offset`, unit
    FROM facts WHERE unit != ''
) AS f USING (partner_id, event_id, revision, ingested_at, `offset`);
OPTIMIZE TABLE fact_revisions FINAL;
