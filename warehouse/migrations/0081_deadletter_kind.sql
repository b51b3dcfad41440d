-- A dead letter is SGBV data when its topic is an SGBV topic, and also when an SGBV event was
-- sent to another topic (or to none the hub knows): its bytes name the kind. The worker files
-- every new dead letter under `kind` (disclosure.rules.deadletter_kind: 'sgbv' when the topic
-- or the bytes name SGBV anywhere, else the topic's kind), so the same `kind != 'sgbv'` filter
-- hides it from every output and from the dashboard user, as it hides SGBV facts. Rows stored
-- before this migration take the default: 'sgbv' when the topic or the bytes as written name
-- it (the worker's rule also reads JSON escapes), else ''. Broad on purpose: a dead letter
-- filed as SGBV only drops out of counts; one missed would be an SGBV record in the open.
ALTER TABLE deadletters
    ADD COLUMN IF NOT EXISTS kind LowCardinality(String)
        DEFAULT if(positionCaseInsensitive(topic, 'sgbv') > 0
                   OR positionCaseInsensitive(raw, 'sgbv') > 0, 'sgbv', '')
        AFTER topic;
