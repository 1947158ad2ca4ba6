-- Nexmark q5 (hot items): in every 10-second window (sliding every 2
-- seconds), the auctions with the most bids. A window join of two aggregates
-- over the same HOP windows: the bid count per auction, and the largest of
-- those counts per window (an aggregate of an aggregate), matched on the
-- window and `num >= maxn`.
--
-- Input: the built-in `nexmark` generator's `bid` stream, bounded to the bids
-- among the first 300000 events (276000 bids, 30 s of event time at the
-- default 10000 events/s). Event time never goes back; the 4 s watermark
-- delay (as Flink's Nexmark DDL) covers the skew between parallel tasks.
--
-- Each window's rows are final: emitted once the watermark passes its end,
-- and the join state of a window is freed then.
--
-- Flink's Nexmark q5, with `HOP(bid, date_time, …)` for
-- `TABLE(HOP(TABLE bid, DESCRIPTOR(dateTime), …))` (both spellings are
-- accepted) and the generator's column name date_time.
--
--   build/sluice -f examples/nexmark_q5.sql

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

SELECT AuctionBids.auction, AuctionBids.num
FROM (
  SELECT auction, COUNT(*) AS num, window_start AS starttime, window_end AS endtime
  FROM HOP(bid, date_time, INTERVAL '2' SECOND, INTERVAL '10' SECOND)
  GROUP BY auction, window_start, window_end
) AS AuctionBids
JOIN (
  SELECT MAX(CountBids.num) AS maxn, CountBids.starttime, CountBids.endtime
  FROM (
    SELECT COUNT(*) AS num, window_start AS starttime, window_end AS endtime
    FROM HOP(bid, date_time, INTERVAL '2' SECOND, INTERVAL '10' SECOND)
    GROUP BY auction, window_start, window_end
  ) AS CountBids
  GROUP BY CountBids.starttime, CountBids.endtime
) AS MaxBids
ON AuctionBids.starttime = MaxBids.starttime
   AND AuctionBids.endtime = MaxBids.endtime
   AND AuctionBids.num >= MaxBids.maxn;
