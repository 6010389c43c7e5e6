-- The differential corpus: every statement runs over psql against a TimeFusion silo (as an admin) and against a
-- throwaway PostgreSQL 15, on the same rows; the outputs (psql's aligned text, and SQLSTATEs for errors) must be
-- identical. One statement per line. A statement after "-- differs: <reason>" is an expected, reasoned difference:
-- the test checks that it still differs (so the list stays honest) instead of comparing it.
-- Tables declare project_id and timestamp, as a TimeFusion table needs; TimeFusion appends its date partition column.
CREATE TABLE diff_ev (project_id text NOT NULL, timestamp timestamptz NOT NULL, service text, level text, duration_ms float8, status int, attributes jsonb, tags text[]);
INSERT INTO diff_ev VALUES ('default', '2024-01-01 10:00:00+00', 'api', 'info', 12.5, 200, '{"http":{"method":"GET","route":"/a"},"user":"u1","n":3}', ARRAY['x','y']);
INSERT INTO diff_ev VALUES ('default', '2024-01-01 10:05:00+00', 'api', 'error', 250, 500, '{"http":{"method":"POST","route":"/b"},"user":"u2","n":1.5}', ARRAY['y']);
INSERT INTO diff_ev VALUES ('default', '2024-01-01 11:00:00+00', 'db', 'info', 3.25, 200, '{"db":{"system":"postgresql"},"list":[1,2,3],"flag":true}', ARRAY['db']);
INSERT INTO diff_ev VALUES ('other', '2024-01-02 09:30:00+00', 'api', 'warn', 80, 404, '{"http":{"method":"GET","route":"/c"},"user":"u1"}', ARRAY[]::text[]);
INSERT INTO diff_ev VALUES ('other', '2024-01-02 12:00:00+00', 'worker', 'info', NULL, NULL, NULL, NULL);
INSERT INTO diff_ev (project_id, timestamp, service, level) VALUES ('default', '2024-01-03 00:00:00+00', 'worker', 'debug');
INSERT INTO diff_ev VALUES ('other', '2024-01-03 08:00:00+00', 'api', 'info', 40, 200, '{"http":{"method":"GET","route":"/a"},"user":"u3","n":2}', ARRAY['x']), ('default', '2024-01-03 09:00:00+00', 'db', 'error', 999.5, 500, '{"db":{"system":"mysql"},"list":[],"flag":false}', ARRAY['db','slow']);
-- Plain reads
SELECT count(*) FROM diff_ev;
SELECT project_id, count(*) FROM diff_ev GROUP BY project_id ORDER BY project_id;
SELECT service, level FROM diff_ev ORDER BY timestamp;
SELECT timestamp, service FROM diff_ev WHERE timestamp >= '2024-01-02' ORDER BY timestamp;
SELECT service, count(*) AS n, sum(duration_ms) AS total FROM diff_ev GROUP BY service ORDER BY service;
SELECT service, avg(duration_ms) FROM diff_ev GROUP BY service ORDER BY 1;
SELECT min(duration_ms), max(duration_ms) FROM diff_ev;
SELECT level, count(*) FROM diff_ev GROUP BY level HAVING count(*) > 1 ORDER BY level;
SELECT DISTINCT service FROM diff_ev ORDER BY service;
SELECT count(DISTINCT service) FROM diff_ev;
SELECT service, duration_ms FROM diff_ev WHERE duration_ms IS NULL ORDER BY timestamp;
SELECT service FROM diff_ev WHERE status IN (404, 500) ORDER BY timestamp;
SELECT service FROM diff_ev WHERE status NOT IN (200) ORDER BY timestamp;
SELECT service FROM diff_ev WHERE service LIKE 'w%' ORDER BY timestamp;
SELECT service FROM diff_ev WHERE service ILIKE 'API' ORDER BY timestamp LIMIT 2;
SELECT service, status FROM diff_ev WHERE status BETWEEN 200 AND 404 ORDER BY timestamp OFFSET 1 LIMIT 3;
SELECT service, duration_ms FROM diff_ev ORDER BY duration_ms DESC NULLS LAST LIMIT 3;
SELECT service, duration_ms FROM diff_ev ORDER BY duration_ms NULLS FIRST, timestamp LIMIT 3;
SELECT level, CASE WHEN status >= 500 THEN 'bad' WHEN status >= 400 THEN 'meh' ELSE 'ok' END AS verdict FROM diff_ev ORDER BY timestamp;
SELECT service FROM diff_ev WHERE project_id = 'other' ORDER BY timestamp;
SELECT count(*) FROM diff_ev WHERE project_id = 'default' AND level = 'info';
SELECT count(*) FROM diff_ev WHERE level = 'info' OR status = 500;
SELECT count(*) FROM diff_ev WHERE NOT (level = 'info');
SELECT s, c FROM (SELECT service AS s, count(*) AS c FROM diff_ev GROUP BY service) t WHERE c > 1 ORDER BY s;
WITH busy AS (SELECT service, count(*) AS c FROM diff_ev GROUP BY service) SELECT service FROM busy WHERE c >= 2 ORDER BY service;
SELECT service FROM diff_ev WHERE project_id = 'default' UNION SELECT service FROM diff_ev WHERE project_id = 'other' ORDER BY 1;
SELECT service FROM diff_ev WHERE project_id = 'default' UNION ALL SELECT service FROM diff_ev WHERE project_id = 'other' ORDER BY 1;
SELECT service FROM diff_ev WHERE project_id = 'default' INTERSECT SELECT service FROM diff_ev WHERE project_id = 'other' ORDER BY 1;
SELECT service FROM diff_ev WHERE project_id = 'default' EXCEPT SELECT service FROM diff_ev WHERE project_id = 'other' ORDER BY 1;
SELECT count(*) FROM diff_ev WHERE service IN (SELECT service FROM diff_ev WHERE level = 'error');
SELECT service, timestamp, row_number() OVER (PARTITION BY service ORDER BY timestamp) AS rn FROM diff_ev ORDER BY service, rn;
SELECT service, lag(level) OVER (ORDER BY timestamp) FROM diff_ev ORDER BY timestamp;
SELECT service, sum(status) OVER (PARTITION BY service) FROM diff_ev ORDER BY timestamp;
SELECT date_trunc('day', timestamp) AS day, count(*) FROM diff_ev GROUP BY 1 ORDER BY 1;
SELECT date_trunc('hour', timestamp) AS h, count(*) FROM diff_ev WHERE timestamp < '2024-01-02' GROUP BY 1 ORDER BY 1;
SELECT extract(hour FROM timestamp) AS h FROM diff_ev ORDER BY timestamp;
SELECT timestamp + interval '1 day' FROM diff_ev ORDER BY timestamp LIMIT 2;
SELECT timestamp::date FROM diff_ev ORDER BY timestamp LIMIT 3;
SELECT a.service, b.level FROM diff_ev a JOIN diff_ev b ON a.status = b.status AND a.timestamp < b.timestamp ORDER BY a.timestamp, b.timestamp;
SELECT a.service, b.service FROM diff_ev a LEFT JOIN diff_ev b ON a.status = b.status AND b.level = 'warn' ORDER BY a.timestamp;
SELECT count(*) FROM diff_ev a CROSS JOIN (VALUES (1), (2)) v(x);
SELECT service FROM diff_ev WHERE EXISTS (SELECT 1 FROM diff_ev b WHERE b.level = 'warn' AND b.service = diff_ev.service) ORDER BY timestamp;
SELECT tags FROM diff_ev ORDER BY timestamp;
SELECT tags[1] FROM diff_ev ORDER BY timestamp;
-- differs: array_length of an empty array is 0 in DuckDB, NULL in PostgreSQL
SELECT array_length(tags, 1) FROM diff_ev ORDER BY timestamp;
SELECT array_length(tags, 1) FROM diff_ev WHERE array_length(tags, 1) > 0 ORDER BY timestamp;
SELECT service FROM diff_ev WHERE 'x' = ANY(tags) ORDER BY timestamp;
SELECT count(*) FROM diff_ev WHERE tags @> ARRAY['db'];
-- Regular expressions
SELECT service FROM diff_ev WHERE service ~ '^a' ORDER BY timestamp;
SELECT service FROM diff_ev WHERE service ~* '^W' ORDER BY timestamp;
SELECT service FROM diff_ev WHERE service !~ 'p' ORDER BY timestamp;
SELECT service FROM diff_ev WHERE level !~* 'INFO|DEBUG' ORDER BY timestamp;
SELECT 'abc' ~ 'b';
SELECT 'abc' ~ '^b';
SELECT 'ABC' ~* 'b';
SELECT 'ABC' !~* 'b';
SELECT 'abc' !~ 'z';
SELECT 'abc' ~ 'a.c' AS full_match;
SELECT regexp_replace('hello world', 'o', '0');
SELECT regexp_replace('hello world', 'o', '0', 'g');
SELECT regexp_replace(service, '^(.)', 'X') FROM diff_ev ORDER BY timestamp LIMIT 3;
SELECT substring('hello world' from 'w.*');
SELECT substring('hello world' from 'o (w.)');
SELECT substring('hello world' from 'zz');
SELECT substring('hello world' from 2 for 3);
SELECT substring('hello world', 7);
SELECT substring(service from '^.') FROM diff_ev ORDER BY timestamp LIMIT 3;
-- JSON
SELECT attributes->>'user' FROM diff_ev ORDER BY timestamp;
SELECT attributes->'http'->>'method' AS method FROM diff_ev ORDER BY timestamp;
SELECT attributes#>>'{http,route}' FROM diff_ev ORDER BY timestamp;
SELECT attributes #>> '{list,1}' FROM diff_ev WHERE service = 'db' ORDER BY timestamp;
SELECT count(*) FROM diff_ev WHERE attributes ? 'user';
SELECT count(*) FROM diff_ev WHERE attributes ? 'db';
SELECT count(*) FROM diff_ev WHERE attributes @> '{"user":"u1"}';
SELECT count(*) FROM diff_ev WHERE attributes @> '{"http":{"method":"GET"}}';
SELECT jsonb_extract_path_text(attributes, 'http', 'route') FROM diff_ev ORDER BY timestamp;
SELECT jsonb_typeof(attributes) FROM diff_ev ORDER BY timestamp;
SELECT jsonb_typeof(attributes->'list') FROM diff_ev ORDER BY timestamp;
SELECT attributes->'http'->>'method' AS m, count(*) FROM diff_ev GROUP BY 1 ORDER BY 1 NULLS LAST;
-- differs: jsonb text formatting (->> of an object), as below
SELECT '{"a":{"b":"c"}}'::jsonb ->> 'a';
SELECT '{"a":{"b":"c"}}'::jsonb -> 'a' ->> 'b';
SELECT '{"a":{"b":[1,2]}}'::jsonb #>> '{a,b,1}';
SELECT '{"a":1}'::jsonb ? 'a';
SELECT '{"a":1}'::jsonb ? 'b';
SELECT '{"a":1,"b":2}'::jsonb @> '{"a":1}';
SELECT '{"a":1}'::jsonb @> '{"a":2}';
SELECT jsonb_extract_path_text('{"a":{"b":"x"}}'::jsonb, 'a', 'b');
SELECT jsonb_typeof('{"a":1}'::jsonb) AS o, jsonb_typeof('[1]'::jsonb) AS a, jsonb_typeof('1'::jsonb) AS n, jsonb_typeof('"s"'::jsonb) AS s, jsonb_typeof('true'::jsonb) AS b, jsonb_typeof('null'::jsonb) AS z;
SELECT * FROM jsonb_array_elements_text('["a","b","c"]'::jsonb);
SELECT value FROM jsonb_array_elements_text('["x","y"]'::jsonb) ORDER BY value DESC;
SELECT key FROM jsonb_each('{"a":1,"b":"x"}'::jsonb) ORDER BY key;
SELECT key, value FROM jsonb_each_text('{"a":"1","b":"x"}'::jsonb) ORDER BY key;
SELECT count(*) FROM jsonb_array_elements('[1,2,3]'::jsonb);
-- differs: jsonb text formatting: PostgreSQL prints {"b": "c"} (a space after ':' and ','), DuckDB's JSON {"b":"c"}
SELECT '{"a":{"b":"c"}}'::jsonb -> 'a';
-- differs: jsonb text formatting, as above
SELECT attributes->'http' FROM diff_ev ORDER BY timestamp;
-- differs: jsonb text formatting, as above
SELECT jsonb_extract_path('{"a":{"b":[1, 2]}}'::jsonb, 'a', 'b');
-- Time
SELECT * FROM generate_series('2024-01-01 00:00:00+00'::timestamptz, '2024-01-01 03:00:00+00'::timestamptz, interval '1 hour');
SELECT date_bin('15 minutes', timestamptz '2024-01-01 10:07:00+00', timestamptz '2000-01-01 00:00:00+00');
SELECT date_bin('1 hour', timestamp, timestamptz '2024-01-01 00:30:00+00') AS b, count(*) FROM diff_ev GROUP BY 1 ORDER BY 1;
SELECT to_timestamp(1700000000);
SELECT to_timestamp(0);
SELECT make_interval(days => 1, hours => 2);
SELECT make_interval(mins => 90);
SELECT timestamptz '2024-01-01 10:00:00+00' + make_interval(hours => 3);
SELECT date_trunc('minute', timestamptz '2024-01-01 10:07:42+00');
SELECT timestamptz '2024-03-01 00:00:00+00' - timestamptz '2024-02-01 00:00:00+00';
-- differs: extract returns numeric in PostgreSQL 14+ (1704067200.000000, named extract), a double named date_part in DuckDB
SELECT extract(epoch FROM timestamptz '2024-01-01 00:00:00+00');
SELECT extract(epoch FROM timestamptz '2024-01-01 00:00:00+00')::bigint AS epoch;
SELECT date '2024-01-31' + 1;
SELECT interval '90 minutes';
-- Aggregates
SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY duration_ms) FROM diff_ev;
SELECT percentile_disc(0.9) WITHIN GROUP (ORDER BY status) FROM diff_ev;
SELECT service, percentile_disc(0.5) WITHIN GROUP (ORDER BY duration_ms) FROM diff_ev GROUP BY service ORDER BY service;
SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY duration_ms) FROM diff_ev;
SELECT count(*) FILTER (WHERE level = 'info') AS infos, count(*) FILTER (WHERE status >= 500) AS errors FROM diff_ev;
SELECT service, count(*) FILTER (WHERE status = 200) FROM diff_ev GROUP BY service ORDER BY service;
SELECT string_agg(service, ',' ORDER BY timestamp) FROM diff_ev;
SELECT level, string_agg(DISTINCT service, '|' ORDER BY service) FROM diff_ev GROUP BY level ORDER BY level;
SELECT array_agg(status ORDER BY timestamp) FROM diff_ev WHERE status IS NOT NULL;
SELECT service, array_agg(level ORDER BY level) FROM diff_ev GROUP BY service ORDER BY service;
SELECT bool_and(status = 200), bool_or(status = 500) FROM diff_ev;
SELECT stddev_samp(status) > 0 FROM diff_ev;
SELECT count(*) FROM diff_ev WHERE duration_ms > (SELECT avg(duration_ms) FROM diff_ev);
-- Scalars
SELECT COALESCE(NULL, 2), NULLIF(1, 1), GREATEST(1, 5, 3), LEAST(4, 2);
SELECT NULLIF(1, 2);
-- differs: a name PostgreSQL repeats in one result (nullif, nullif) is DuckDB's distinct name after the first: fan-out merges address columns by name
SELECT NULLIF(1, 1), NULLIF(1, 2);
SELECT COALESCE(duration_ms, -1) FROM diff_ev ORDER BY timestamp;
SELECT GREATEST(status, 300) FROM diff_ev ORDER BY timestamp;
SELECT NULLIF(level, 'info') FROM diff_ev ORDER BY timestamp;
SELECT upper(service), lower('ABC'), length(service) FROM diff_ev ORDER BY timestamp LIMIT 2;
SELECT service || '-' || level FROM diff_ev ORDER BY timestamp LIMIT 3;
SELECT concat('a', NULL, 'b'), concat_ws('/', 'x', 'y');
SELECT replace('a.b.c', '.', '/'), split_part('a/b/c', '/', 2), position('c' in 'abc');
SELECT left('hello', 2), right('hello', 3), lpad('7', 3, '0'), rpad('a', 3, '-');
SELECT trim('  x  '), ltrim('xxa', 'x'), rtrim('axx', 'x');
SELECT abs(-3), round(2.567, 2), ceil(1.2), floor(-1.2), mod(7, 3);
-- differs: DuckDB's / divides integers into a double (3.5) where PostgreSQL truncates (3)
SELECT 7 / 2;
-- differs: numeric division: PostgreSQL prints numeric's scale (3.5000000000000000), DuckDB a double
SELECT 7.0 / 2;
SELECT 7 % 3;
SELECT 2 ^ 10;
SELECT power(2, 3), sqrt(16), ln(1), exp(0);
SELECT CAST('42' AS int) + 1;
SELECT '3.5'::float8 * 2;
SELECT 10::text || 'x';
SELECT true AND NULL;
SELECT false OR NULL;
SELECT NOT true;
SELECT 1 = 1;
SELECT 1 <> 2;
SELECT 'a' < 'b';
SELECT NULL IS NULL;
SELECT 1 IS DISTINCT FROM NULL;
SELECT md5('abc');
SELECT CASE WHEN 1 > 2 THEN 'x' END;
SELECT ARRAY[1, 2, 3];
SELECT ARRAY['a', 'b'];
SELECT 1 AS a, 'x' AS b;
-- differs: an untyped NULL is text in PostgreSQL and an integer in DuckDB (psql right-aligns it)
SELECT NULL AS c;
-- differs: VALUES names its columns col0, col1 in DuckDB, column1, column2 in PostgreSQL
VALUES (1, 'one'), (2, 'two');
SELECT * FROM (VALUES (1, 'one'), (2, 'two')) v(n, word) ORDER BY n;
-- DML
UPDATE diff_ev SET level = 'notice' WHERE project_id = 'default' AND service = 'worker';
SELECT service, level FROM diff_ev WHERE service = 'worker' ORDER BY timestamp;
UPDATE diff_ev SET duration_ms = duration_ms * 2 WHERE project_id = 'other' AND duration_ms IS NOT NULL;
SELECT sum(duration_ms) FROM diff_ev;
DELETE FROM diff_ev WHERE project_id = 'other' AND level = 'warn';
SELECT count(*) FROM diff_ev;
DELETE FROM diff_ev WHERE project_id = 'default' AND timestamp < '2024-01-01 10:01:00+00';
SELECT count(*), min(timestamp) FROM diff_ev WHERE project_id = 'default';
INSERT INTO diff_ev (project_id, timestamp, service, level, status) VALUES ('default', '2024-01-04 00:00:00+00', 'api', 'info', 201);
SELECT service, status FROM diff_ev WHERE timestamp >= '2024-01-04' ORDER BY timestamp;
-- Transaction blocks: UPDATE and DELETE apply at COMMIT, in statement order with the block's INSERTs
BEGIN;
INSERT INTO diff_ev (project_id, timestamp, service, level, status) VALUES ('default', '2024-01-04 01:00:00+00', 'tx', 'info', 1);
UPDATE diff_ev SET status = 301 WHERE project_id = 'default' AND status = 201;
DELETE FROM diff_ev WHERE project_id = 'default' AND service = 'worker';
COMMIT;
SELECT service, level, status FROM diff_ev WHERE timestamp >= '2024-01-03' ORDER BY timestamp;
BEGIN;
INSERT INTO diff_ev (project_id, timestamp, service, level, status) VALUES ('default', '2024-01-04 02:00:00+00', 'tx', 'info', 2);
-- differs: an UPDATE or DELETE inside a block counts the committed rows it matches, not the block's own INSERTs (held until COMMIT)
UPDATE diff_ev SET level = 'held' WHERE service = 'tx';
INSERT INTO diff_ev (project_id, timestamp, service, level, status) VALUES ('default', '2024-01-04 03:00:00+00', 'tx', 'info', 3);
END;
SELECT service, level, status FROM diff_ev WHERE service = 'tx' ORDER BY timestamp;
START TRANSACTION;
UPDATE diff_ev SET level = 'gone' WHERE project_id = 'default';
DELETE FROM diff_ev WHERE project_id = 'other';
ROLLBACK;
SELECT level, count(*) FROM diff_ev GROUP BY level ORDER BY level;
BEGIN;
UPDATE diff_ev SET no_such_column = 1;
DELETE FROM diff_ev;
ROLLBACK;
SELECT count(*) FROM diff_ev;
-- Untyped parameters in arithmetic take the other operand's type (EXECUTE's '5' is text, as node-postgres sends every parameter)
PREPARE tf_arith AS SELECT status + $1 AS s, duration_ms * $2 AS d, $3 - status AS m FROM diff_ev WHERE status IS NOT NULL ORDER BY timestamp LIMIT 3;
EXECUTE tf_arith('5', '2', '1000');
EXECUTE tf_arith(10, 0.5, -1);
DEALLOCATE tf_arith;
PREPARE tf_upd AS UPDATE diff_ev SET status = status + $1 WHERE service = $2;
EXECUTE tf_upd('1000', 'tx');
SELECT service, status FROM diff_ev WHERE service = 'tx' ORDER BY timestamp;
DEALLOCATE tf_upd;
-- A block writing two tables with UPDATE and DELETE on each: every table's part commits as one WAL transaction
CREATE TABLE diff_tx (project_id text NOT NULL, timestamp timestamptz NOT NULL, name text, n int);
INSERT INTO diff_tx VALUES ('default', '2024-01-05 00:00:00+00', 'a', 1), ('default', '2024-01-05 00:00:01+00', 'b', 2), ('default', '2024-01-05 00:00:02+00', 'c', 3);
BEGIN;
INSERT INTO diff_ev (project_id, timestamp, service, level, status) VALUES ('default', '2024-01-05 00:00:00+00', 'tx2', 'info', 7);
UPDATE diff_tx SET n = n * 10 WHERE name = 'a';
DELETE FROM diff_tx WHERE name = 'b';
INSERT INTO diff_tx VALUES ('default', '2024-01-05 00:00:03+00', 'd', 4);
UPDATE diff_ev SET level = 'tx-done' WHERE service = 'tx';
INSERT INTO diff_tx VALUES ('default', '2024-01-05 00:00:04+00', 'e', 5);
COMMIT;
SELECT name, n FROM diff_tx ORDER BY name;
SELECT service, level, status FROM diff_ev WHERE service LIKE 'tx%' ORDER BY timestamp;
BEGIN;
DELETE FROM diff_tx WHERE name = 'c';
INSERT INTO diff_ev (project_id, timestamp, service, level, status) VALUES ('default', '2024-01-05 00:00:05+00', 'tx3', 'info', 8);
ROLLBACK;
SELECT name, n FROM diff_tx ORDER BY name;
SELECT count(*) FROM diff_ev WHERE service = 'tx3';
DROP TABLE diff_tx;
-- DDL
CREATE TABLE diff_m (project_id text NOT NULL, timestamp timestamptz NOT NULL, name text, value float8);
INSERT INTO diff_m VALUES ('default', '2024-01-01 00:00:00+00', 'x', 1), ('default', '2024-01-01 00:01:00+00', 'y', 2);
SELECT name, value FROM diff_m ORDER BY name;
CREATE TABLE IF NOT EXISTS diff_m (project_id text NOT NULL, timestamp timestamptz NOT NULL, other text);
TRUNCATE diff_m;
SELECT count(*) FROM diff_m;
INSERT INTO diff_m VALUES ('default', '2024-01-02 00:00:00+00', 'z', 3);
SELECT name FROM diff_m;
DROP TABLE diff_m;
DROP TABLE IF EXISTS diff_m;
CREATE TABLE diff_m (project_id text NOT NULL, timestamp timestamptz NOT NULL, name text, value float8);
SELECT count(*) FROM diff_m;
DROP TABLE diff_m;
CREATE TABLE diff_r (project_id text NOT NULL, timestamp timestamptz NOT NULL, a text);
INSERT INTO diff_r VALUES ('default', '2024-01-01 00:00:00+00', 'before');
ALTER TABLE diff_r ADD COLUMN extra text;
ALTER TABLE diff_r ADD COLUMN IF NOT EXISTS extra text;
ALTER TABLE diff_r ADD COLUMN extra text;
ALTER TABLE diff_r ADD COLUMN n bigint NULL;
INSERT INTO diff_r (project_id, timestamp, a, extra, n) VALUES ('default', '2024-01-02 00:00:00+00', 'after', 'x', 2);
SELECT a, extra, n FROM diff_r ORDER BY timestamp;
SELECT count(*) FROM diff_r WHERE extra IS NULL;
-- differs: an added column must be nullable in TimeFusion (rows already stored have no value): 0A000
ALTER TABLE diff_r ADD COLUMN m bigint NOT NULL;
-- differs: TimeFusion cannot change a column's type: 0A000
ALTER TABLE diff_r ALTER COLUMN a TYPE varchar(10);
-- differs: TimeFusion cannot drop a column: 0A000
ALTER TABLE diff_r DROP COLUMN extra;
-- differs: TimeFusion cannot rename a table (its WAL and Delta files are keyed by the name): 0A000
ALTER TABLE diff_r RENAME TO diff_r2;
DROP TABLE IF EXISTS diff_r, diff_r2;
-- differs: SELECT * shows TimeFusion's date partition column after the declared ones
SELECT * FROM diff_ev ORDER BY timestamp LIMIT 1;
-- Errors (SQLSTATEs compared)
SELECT * FROM no_such_table;
SELECT no_such_column FROM diff_ev;
SELECT no_such_function(1);
SELECT 1 +* 2;
SELEC 1;
SELECT count(*) FROM diff_ev GROUP BY;
SELECT service, count(*) FROM diff_ev;
SELECT 'abc'::int;
SELECT * FROM diff_ev WHERE status = 'abc';
DROP TABLE no_such_table;
TRUNCATE no_such_table;
INSERT INTO no_such_table VALUES (1);
INSERT INTO diff_ev (no_such_column) VALUES (1);
CREATE TABLE diff_ev (project_id text NOT NULL, timestamp timestamptz NOT NULL, other text);
SELECT '{"a":1}'::jsonb #> 'nope';
SELECT 1 / 0;
SELECT 1 % 0;
SELECT mod(7, 0);
SELECT 1.5 / 0;
SELECT 1.5 % 0;
SELECT 1::float8 / 0;
SELECT 0::float8 / 0::float8;
SELECT 10 / (5 - 5);
SELECT (10 / 0) / 2;
SELECT count(*) / 0 FROM diff_ev;
SELECT duration_ms / 0 FROM diff_ev WHERE duration_ms IS NOT NULL;
SELECT status % 0 FROM diff_ev WHERE status IS NOT NULL;
SELECT count(*) FROM diff_ev WHERE status / 0 > 1;
-- differs: time_bucket is TimeFusion's (and TimescaleDB's), not PostgreSQL's
SELECT time_bucket(interval '1 hour', timestamptz '2024-01-01 10:30:00+00');
-- The session TimeZone: timestamptz results are printed in it
SET TimeZone = 'Europe/Berlin';
SELECT timestamp FROM diff_ev ORDER BY timestamp LIMIT 2;
SELECT timestamptz '2024-07-01 12:00:00+00';
SELECT timestamp::text FROM diff_ev ORDER BY timestamp LIMIT 1;
SELECT service || ' at ' || timestamp FROM diff_ev WHERE project_id = 'default' ORDER BY timestamp LIMIT 2;
SELECT CAST(timestamp AS text) AS t, timestamp FROM diff_ev WHERE timestamp >= '2024-01-02 10:00' ORDER BY timestamp;
SELECT count(*) FROM diff_ev WHERE timestamp < '2024-01-02';
SELECT min(timestamp)::text, max(timestamp)::varchar FROM diff_ev;
SELECT project_id, max(timestamp)::text FROM diff_ev GROUP BY project_id ORDER BY project_id;
SELECT date_trunc('day', timestamp)::text AS d, count(*) FROM diff_ev GROUP BY 1 ORDER BY 1;
SELECT timestamptz '2024-01-02 03:04:05.123456+00'::text, timestamptz '2024-07-01 00:00:00.5+00'::text AS summer;
SELECT CASE WHEN true THEN 1 END::text, '5'::text::int, status::text FROM diff_ev WHERE status = 404;
SET TIME ZONE 'Asia/Kolkata';
SELECT timestamp::text FROM diff_ev WHERE project_id = 'other' ORDER BY timestamp;
-- Text without an offset meets timestamptz in the session TimeZone (INSERT, predicates of SELECT, UPDATE, DELETE); ISO forms without seconds
INSERT INTO diff_ev (project_id, timestamp, service, level) VALUES ('default', '2024-01-05 10:00:00', 'tzins', 'a'), ('default', '2024-01-05 11:00', 'tzins', 'b');
INSERT INTO diff_ev (project_id, timestamp, service, level) VALUES ('default', '2024-01-05 12:00+00', 'tzins', 'c'), ('default', '2024-01-05T13:00Z', 'tzins', 'd'), ('default', '2024-01-05 14:00+05:30', 'tzins', 'e'), ('default', '2024-01-05 15:00-08', 'tzins', 'f');
INSERT INTO diff_ev (project_id, timestamp, service, level) VALUES ('default', '2024-01-05 16:00:00', 'tzins', upper('g'));
SELECT level, timestamp FROM diff_ev WHERE service = 'tzins' ORDER BY timestamp;
SELECT level FROM diff_ev WHERE timestamp = '2024-01-05 10:00' ORDER BY level;
SELECT count(*) FROM diff_ev WHERE timestamp BETWEEN '2024-01-05 10:00' AND '2024-01-05T13:00Z';
SELECT level FROM diff_ev WHERE timestamp IN ('2024-01-05 11:00', '2024-01-05 12:00+00') ORDER BY level;
UPDATE diff_ev SET level = 'upd' WHERE service = 'tzins' AND timestamp <= '2024-01-05 11:00';
DELETE FROM diff_ev WHERE service = 'tzins' AND timestamp > '2024-01-05 16:00';
DELETE FROM diff_ev WHERE service = 'tzins' AND timestamp < '2024-01-05 13:00+00' AND level = 'upd';
SELECT level, timestamp FROM diff_ev WHERE service = 'tzins' ORDER BY timestamp;
SELECT '2024-01-01 10:00+00'::timestamptz;
SELECT timestamptz '2024-01-01 10:00-08';
SELECT CAST('2024-01-01T10:00+05:30' AS timestamptz);
SELECT '2024-01-01 10:00'::timestamptz;
DELETE FROM diff_ev WHERE service = 'tzins';
SET TimeZone = 'America/New_York';
SELECT 'x' || timestamp, timestamp FROM diff_ev WHERE service = 'db' ORDER BY timestamp;
SET TimeZone = 'UTC';
SELECT timestamp::text FROM diff_ev ORDER BY timestamp LIMIT 1;
-- What a driver sends when a pooled connection that holds prepared statements is reused (Npgsql's reset): each a no-op here.
DISCARD PLANS;
DISCARD SEQUENCES;
DISCARD TEMP;
DISCARD TEMPORARY;
UNLISTEN *;
UNLISTEN some_channel;
SET SESSION AUTHORIZATION DEFAULT;
RESET SESSION AUTHORIZATION;
SELECT pg_advisory_unlock_all();
SELECT pg_client_encoding();
