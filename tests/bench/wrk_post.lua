-- wrk_post.lua: single submissions for tests/bench/bench.py.
-- Each request POSTs one assessment with a person id no other request of
-- the run uses (the run's prefix from the command line, the thread's
-- number, a counter), on keep-alive connections.  The same script drives
-- cdhtd and the bare evhttp server.  done() prints one line
-- "JSON {...}" with the counts bench.py checks.
local threads = {}
local nthreads = 0

function setup(thread)
	nthreads = nthreads + 1
	thread:set("tid", nthreads)
	table.insert(threads, thread)
end

local groups = {"farmer", "worker", "official", "business", "manager"}
local digital = {"none", "skilled", "proficient"}
local prefix = "x"
local n = 0

local headers = {}

function init(args)
	prefix = (args[1] or "w") .. tid .. "-"
	-- wrk.format replaces wrk.headers (the -H options) by its argument
	for k, v in pairs(wrk.headers) do
		headers[k] = v
	end
	headers["Content-Type"] = "application/json"
end

function request()
	n = n + 1
	local s = {}
	for k = 1, 10 do
		s[k] = 8 + (n + k) % 3
	end
	local body = string.format(
		'{"year":2026,"person_id":"%s%d","group":"%s",' ..
		'"population":"adult","scores":[%s],"digital":"%s"}',
		prefix, n, groups[n % 5 + 1], table.concat(s, ","),
		digital[n % 3 + 1])
	return wrk.format("POST", nil, headers, body)
end

function done(summary, latency, requests)
	local e = summary.errors
	io.write(string.format(
		'JSON {"requests":%d,"duration_us":%d,"status_errors":%d,' ..
		'"socket_errors":%d,"p50_ms":%.3f,"p99_ms":%.3f}\n',
		summary.requests, summary.duration, e.status,
		e.connect + e.read + e.write + e.timeout,
		latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
