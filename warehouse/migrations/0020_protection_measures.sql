-- Issue #18: protection training and RSD casework. Their numbers mostly fit the existing
-- measures (sessions, hours, cases, the ten cells); one is new: the sessions of a protection
-- training that are part of a university's or school's curriculum. It joins every table that
-- carries measures, next to cases, with 0 for every row written before.
ALTER TABLE facts ADD COLUMN IF NOT EXISTS curriculum_sessions UInt32 DEFAULT 0 AFTER cases;
ALTER TABLE daily_aggregates ADD COLUMN IF NOT EXISTS curriculum_sessions UInt64 DEFAULT 0 AFTER cases;
ALTER TABLE rollup_rows ADD COLUMN IF NOT EXISTS curriculum_sessions UInt64 DEFAULT 0 AFTER cases;
