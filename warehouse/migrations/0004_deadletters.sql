-- Every rejected message with its original bytes, where it came from and why.
CREATE TABLE IF NOT EXISTS deadletters
(
    topic LowCardinality(String),
    `partition` UInt32,
    `offset` UInt64,
    partner_id LowCardinality(String),
    codes Array(LowCardinality(String)),
    reasons String,
    raw String,
    published_at DateTime64(3, 'UTC'),
    received_at DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree
ORDER BY (topic, `partition`, `offset`);
