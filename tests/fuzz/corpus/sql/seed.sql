SELECT window_start, user_id, COUNT(*) FROM TUMBLE(logs, ts, INTERVAL '10' SECOND) GROUP BY window_start, window_end, user_id;
