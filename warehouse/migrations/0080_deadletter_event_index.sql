-- Bulk messages (schemas/bulk.py) carry many events under one offset, each dead-lettered on
-- its own: a dead letter is identified by its message's place and the event's index in the
-- array (-1: a single-event message, or a bulk message refused as a whole). ClickHouse lets a
-- sorting key grow only by a column added in the same statement and without a default, so
-- rows stored before this migration read 0; every one of them came from a single-event
-- message (the worker writes -1 for those from now on).
ALTER TABLE deadletters
    ADD COLUMN IF NOT EXISTS event_index Int32 AFTER `offset`,
    MODIFY ORDER BY (topic, `partition`, `offset`, event_index);
