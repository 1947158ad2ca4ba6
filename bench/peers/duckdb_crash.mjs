// DuckDB peer for the seed's crash query (bench/peers.sh runs it).
//
//   node bench/peers/duckdb_crash.mjs FILE.jsonl ROWS THREADS[,THREADS…] REPEAT ANSWER.csv [WORKLOAD]
//
// For each thread count: a fresh in-memory database, `SET threads = N`, then
// the batch equivalent of the streaming query straight over the JSON-lines
// file with read_json. The timed region is one runAndReadAll(): it INCLUDES
// reading and parsing the JSON file (there is no table loaded beforehand —
// as sluice's number includes jansson decoding) and fetching the result rows
// into JS; it excludes starting node and opening the database. Best of REPEAT
// runs. Prints one JSON record per thread count on stdout; writes the answer
// (window_start,user_id,crashes, sorted) to ANSWER.csv. WORKLOAD names the
// records' workload (default `crash query, JSON file`).
import { DuckDBInstance } from '@duckdb/node-api';
import { writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

const [file, rowsArg, threadsArg, repeatArg, answerPath, workloadArg] = process.argv.slice(2);
if (!answerPath) {
  console.error('usage: duckdb_crash.mjs FILE ROWS THREADS[,…] REPEAT ANSWER.csv');
  process.exit(2);
}
const rows = Number(rowsArg);
const repeat = Math.max(1, Number(repeatArg));
const lit = file.replace(/'/g, "''");

// All six columns declared as in sluice's CREATE STREAM; DuckDB may skip
// decoding the ones the query does not read (projection pushdown).
const sql = `
SELECT strftime(time_bucket(INTERVAL 10 SECONDS, ts), '%Y-%m-%d %H:%M:%S') AS window_start,
       user_id, COUNT(*) AS crashes
FROM read_json('${lit}', format = 'newline_delimited',
               columns = {ts: 'TIMESTAMP', user_id: 'BIGINT', ip: 'VARCHAR',
                          level: 'VARCHAR', event: 'VARCHAR', msg: 'VARCHAR'})
WHERE level = 'CRITICAL' AND event = 'crash'
GROUP BY ALL
ORDER BY window_start, user_id`;

let answer = null;
for (const t of threadsArg.split(',').map(Number)) {
  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  await conn.run(`SET threads = ${t}`);
  let best = null;
  for (let i = 0; i < repeat; i++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const reader = await conn.runAndReadAll(sql);
    const out = reader.getRowsJS();
    const wall = (performance.now() - t0) / 1000;
    const c = process.cpuUsage(c0);
    const cpu = (c.user + c.system) / 1e6;
    if (!best || wall < best.wall) best = { wall, cpu };
    if (!answer) answer = out.map(r => `${r[0]},${r[1]},${r[2]}`);
  }
  const rss = process.resourceUsage().maxRSS * 1024; // whole node process, KB→B
  console.log(JSON.stringify({
    workload: workloadArg || 'crash query, JSON file', engine: 'duckdb', threads: t, rows,
    wall_s: best.wall, cpu_s: best.cpu, peak_rss_bytes: rss, runs: repeat,
    note: 'read_json + query + fetch; best of runs',
  }));
  conn.closeSync?.();
}
answer.sort();
writeFileSync(answerPath, answer.join('\n') + '\n');
