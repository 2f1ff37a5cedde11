-- pgbench script of bench/read: the statement rosterd prepares for
-- GET /api/hris/v1/employees?page_size=100&cursor=… (gateway/gw_hris.c list_sql), at the keyset
-- position of a random page. pgbench can only draw integers, so bench/read stores the position
-- after which each page starts, (modified_at, id) of every 100th row, in bench_positions(n, …);
-- n = 0 is (-infinity, nil UUID), the first page. The two scalar subqueries are InitPlans that
-- run once per execution (two primary-key probes of a 1000-row table) and become the row
-- comparison's parameters, so the scan is the same index range scan rosterd gets.
-- Variables: -D acct=<linked account UUID> -D npos=<highest n>.
\set n random(0, :npos)
SELECT t.id, t.remote_id, t.created_at, t.modified_at, t.normalized, t.remote_was_deleted, NULL::text, t.modified_at FROM employees t WHERE t.linked_account_id = :acct::uuid AND NOT t.remote_was_deleted AND (t.modified_at, t.id) > ((SELECT p.modified_at FROM bench_positions p WHERE p.n = :n), (SELECT p.id FROM bench_positions p WHERE p.n = :n)) ORDER BY t.modified_at ASC, t.id ASC LIMIT 101;
