-- Nexmark q8 (monitor new users): the people who registered and opened an
-- auction in the same 10-second window. A window join of two windowed
-- aggregates (persons per window, sellers per window) on the window and the
-- person id.
--
-- Input: the built-in `nexmark` generator's `person` and `auction` streams,
-- bounded to the first 300000 events (6000 persons, 18000 auctions; 30 s of
-- event time at the default 10000 events/s). Sellers are drawn mostly from
-- the newest persons, so most new users sell within their first window.
--
-- Each window's rows are final: emitted once both watermarks pass its end,
-- and the window's join state is freed then.
--
-- Flink's Nexmark q8, with TUMBLE(person, date_time, …) for
-- TABLE(TUMBLE(TABLE person, DESCRIPTOR(dateTime), …)).
--
--   build/sluice -f examples/nexmark_q8.sql

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

SELECT P.id, P.name, P.starttime
FROM (
  SELECT id, name, window_start AS starttime, window_end AS endtime
  FROM TUMBLE(person, date_time, INTERVAL '10' SECOND)
  GROUP BY id, name, window_start, window_end
) P
JOIN (
  SELECT seller, window_start AS starttime, window_end AS endtime
  FROM TUMBLE(auction, date_time, INTERVAL '10' SECOND)
  GROUP BY seller, window_start, window_end
) A
ON P.id = A.seller AND P.starttime = A.starttime AND P.endtime = A.endtime;
