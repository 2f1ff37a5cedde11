-- wrk script of bench/read: every request asks for the page of a random cursor among the real
-- cursors bench/read collected (one per line in $BENCH_URLS, each a path with its query), with
-- the API key and account token of the benchmark's linked account.
-- done() prints one parseable line:
--   WRK_RESULT requests=N duration_s=S rps=R mean_ms=… p50_ms=… p90_ms=… p99_ms=… max_ms=…
--              non2xx=N socket_errors=N bytes=N

local paths = {}
local threads = 0

function setup(thread)
    threads = threads + 1
    thread:set("thread_index", threads)
end

local function need(name)
    local value = os.getenv(name)
    if not value or value == "" then
        error("bench/read.lua: " .. name .. " is not set")
    end
    return value
end

function init(args)
    for line in io.lines(need("BENCH_URLS")) do
        if line ~= "" then
            paths[#paths + 1] = line
        end
    end
    if #paths == 0 then
        error("bench/read.lua: no URLs in " .. need("BENCH_URLS"))
    end
    wrk.headers["Authorization"] = "Bearer " .. need("BENCH_API_KEY")
    wrk.headers["X-Account-Token"] = need("BENCH_ACCOUNT_TOKEN")
    math.randomseed(os.time() * 1000 + (thread_index or 0))
end

function request()
    return wrk.format("GET", paths[math.random(#paths)])
end

function done(summary, latency, requests)
    local seconds = summary.duration / 1e6
    local e = summary.errors
    io.write(string.format(
        "WRK_RESULT requests=%d duration_s=%.3f rps=%.1f mean_ms=%.3f p50_ms=%.3f p90_ms=%.3f " ..
        "p99_ms=%.3f max_ms=%.3f non2xx=%d socket_errors=%d bytes=%d\n",
        summary.requests, seconds, summary.requests / seconds, latency.mean / 1000,
        latency:percentile(50) / 1000, latency:percentile(90) / 1000,
        latency:percentile(99) / 1000, latency.max / 1000, e.status,
        e.connect + e.read + e.write + e.timeout, summary.bytes))
end
