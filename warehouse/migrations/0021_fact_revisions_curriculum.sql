-- Issue #18 meets #14: the event lookup table (0010) carries every measure of facts, so the
-- curriculum sessions of 0020 join it too, with 0 for rows written before.
ALTER TABLE fact_revisions ADD COLUMN IF NOT EXISTS curriculum_sessions UInt32 DEFAULT 0 AFTER cases;
