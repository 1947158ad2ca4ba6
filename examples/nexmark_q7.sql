-- Nexmark q7 (highest bid): the bids of each 10-second window whose price is
-- the highest of that window. The bid stream is joined with its own windowed
-- aggregate (the maximum price per window) in the same TUMBLE windows.
--
-- Input: the built-in `nexmark` generator's `bid` stream, bounded to the bids
-- among the first 300000 events (276000 bids, 30 s of event time at the
-- default 10000 events/s: 3 windows).
--
-- Flink writes it as a join of the bids with (MAX(price), window_end AS
-- dateTime) ON the price, filtered by `B.dateTime BETWEEN B1.dateTime -
-- INTERVAL '10' SECOND AND B1.dateTime`, which Flink runs as an interval join.
-- sluice does not take an aggregate's window_end as an interval join's time
-- column, and plans that spelling as a regular join (state never freed) with
-- a filter above it; written as a window join, as here, each window's state
-- is freed when the watermark passes its end and the rows are final. The two
-- differ only for a bid made exactly at a window's end (Flink's BETWEEN
-- includes both edges; here a bid belongs to one window).
--
--   build/sluice -f examples/nexmark_q7.sql

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

SELECT B.auction, B.bidder, B.price, B.date_time, B.extra
FROM TUMBLE(bid, date_time, INTERVAL '10' SECOND) B
JOIN (
  SELECT window_start, window_end, MAX(price) AS maxprice
  FROM TUMBLE(bid, date_time, INTERVAL '10' SECOND)
  GROUP BY window_start, window_end
) B1
ON B.window_start = B1.window_start
   AND B.window_end = B1.window_end
   AND B.price = B1.maxprice;
