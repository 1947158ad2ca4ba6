-- Nexmark q4 (average price for a category): the average winning bid — the
-- highest bid made while the auction was open — of the auctions of each
-- category.
--
-- Input: the built-in `nexmark` generator's `auction` and `bid` streams,
-- bounded to the first 300000 events (18000 auctions, 276000 bids; 30 s of
-- event time at the default 10000 events/s).
--
-- Flink writes the join as `FROM auction A, bid B WHERE A.id = B.auction AND
-- B.dateTime BETWEEN A.dateTime AND A.expires`. sluice needs the equality in
-- an ON clause, and a bound on the time difference made of constants to run
-- it as an interval join (state kept only while a match is possible): the
-- generator's auctions close within 1 ms + 2 × (the event time of 1666
-- events) ≈ 0.33 s of opening at the default rate, so
-- `BETWEEN A.date_time AND A.date_time + INTERVAL '1' SECOND` loses no bid,
-- and `B.date_time <= A.expires` keeps Flink's exact condition. (Written
-- `ON … AND B.date_time BETWEEN A.date_time AND A.expires`, the same query
-- plans as a regular join whose state is never freed.)
--
-- The two aggregates have no window: they emit changes (the inner one a new
-- maximum per auction as bids arrive, the outer one the new average per
-- category); the last value of each category is the batch answer.
--
--   build/sluice -f examples/nexmark_q4.sql

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

CREATE STREAM bid (
  auction    BIGINT,
  bidder     BIGINT,
  price      BIGINT,
  channel    VARCHAR,
  url        VARCHAR,
  date_time  TIMESTAMP(3),
  extra      VARCHAR,
  WATERMARK FOR date_time AS date_time - INTERVAL '4' SECOND
) WITH (connector = 'nexmark', table = 'bid', count = '300000', seed = '1');

SELECT Q.category, AVG(Q.final) AS avg_final
FROM (
  SELECT MAX(B.price) AS final, A.category
  FROM auction A JOIN bid B
    ON A.id = B.auction
   AND B.date_time BETWEEN A.date_time AND A.date_time + INTERVAL '1' SECOND
  WHERE B.date_time <= A.expires
  GROUP BY A.id, A.category
) Q
GROUP BY Q.category;
