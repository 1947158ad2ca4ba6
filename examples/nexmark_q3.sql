-- Nexmark q3 (local item suggestion): who is selling in Oregon, Idaho or
-- California in category 10, and for which auctions? A regular (unwindowed)
-- equi-join of auctions with their sellers, filtered on both sides.
--
-- Input: the built-in `nexmark` generator's `auction` and `person` streams,
-- bounded to the first 300000 events (18000 auctions, 6000 persons; 30 s of
-- event time at the default 10000 events/s, from 2015-07-15 00:00:00 UTC).
-- The generator only names sellers that already exist, so every auction
-- finds its seller.
--
-- The join has no time bound: its state keeps every row of both sides, so
-- sluice warns at plan time; on an unbounded stream SET state.ttl bounds it
-- (a seller then only matches auctions within the TTL of its registration).
-- Its output is a changelog (EMIT CHANGES); for an inner join only +I rows.
--
-- Flink's Nexmark q3, unchanged.
--
--   build/sluice -f examples/nexmark_q3.sql

CREATE STREAM person (
  id             BIGINT,
  name           VARCHAR,
  email_address  VARCHAR,
  credit_card    VARCHAR,
  city           VARCHAR,
  state          VARCHAR,
  date_time      TIMESTAMP(3),
  extra          VARCHAR,
  WATERMARK FOR date_time AS date_time - INTERVAL '4' SECOND
) WITH (connector = 'nexmark', table = 'person', count = '300000', seed = '1');

CREATE STREAM auction (
  id           BIGINT,
  item_name    VARCHAR,
  description  VARCHAR,
  initial_bid  BIGINT,
  reserve      BIGINT,
  date_time    TIMESTAMP(3),
  expires      TIMESTAMP(3),
  seller       BIGINT,
  category     BIGINT,
  extra        VARCHAR,
  WATERMARK FOR date_time AS date_time - INTERVAL '4' SECOND
) WITH (connector = 'nexmark', table = 'auction', count = '300000', seed = '1');

-- SET state.ttl = '1 hour';   -- bound the join's state on an unbounded run

SELECT P.name, P.city, P.state, A.id
FROM auction AS A INNER JOIN person AS P ON A.seller = P.id
WHERE A.category = 10 AND (P.state = 'OR' OR P.state = 'ID' OR P.state = 'CA');
