-- Nexmark q1 (currency conversion): every bid with its price converted from
-- dollars to euros.
--
-- Input: the built-in `nexmark` generator (Person/Auction/Bid events of the
-- Nexmark benchmark, 1 : 3 : 46), here its `bid` stream, bounded to the bids
-- among the first 1000 events (920 bids) so the query ends on its own.
-- Event time starts at 2015-07-15 00:00:00 UTC and advances 100 µs per event
-- (10000 events/s of event time, the generator's default without `rate`).
--
--   build/sluice -f examples/nexmark_q1.sql

CREATE STREAM bid (
  auction    BIGINT,
  bidder     BIGINT,
  price      BIGINT,
  channel    VARCHAR,
  url        VARCHAR,
  date_time  TIMESTAMP(3),
  extra      VARCHAR
) WITH (
  connector = 'nexmark',
  table = 'bid',
  count = '1000',     -- events (all types); remove for an unbounded stream
  seed = '1'
);

SELECT auction, bidder, 0.908 * price AS price, date_time
FROM bid;
