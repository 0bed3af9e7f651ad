-- SPDX-License-Identifier: Apache-2.0
-- post.lua: the wrk script of bench/bench-ingest. POSTs a ~100-byte JSON message, one token
-- per request in round robin (each thread starts at its own offset), counts the answers by
-- status and prints one machine-readable "bench:" line in done().
--
--   wrk ... -s post.lua URL -- TOKENS_FILE PATH_PREFIX [ID_LOG_PREFIX]
--
-- TOKENS_FILE holds one token a line; each request goes to PATH_PREFIX .. TOKEN (an empty
-- prefix and whole paths in the file serve a load spread over channels). The requests are
-- formatted once in init(): wrk shares the CPU with the server under test, so the Lua side
-- must cost next to nothing per request.
--
-- bench/bench-delivery adds two things. With ID_LOG_PREFIX, each thread appends a line
-- "X-MESSAGE-ID UNIX-SECONDS" (the wall clock, microseconds) per 2xx to ID_LOG_PREFIX .. N,
-- N the thread's number: the moment the call was acknowledged, to compare with the time the
-- receiver logged its delivery. With BENCH_DELAY_MS in the environment, each connection waits
-- that long before each request (wrk's delay()): a load below saturation, whose latencies are
-- the delivery's own rather than those of a queue in front of it.

local threads = {}

local pace_ms = tonumber(os.getenv("BENCH_DELAY_MS") or "")
if pace_ms then
	-- wrk looks for delay() when it loads the script, before init(): define it only here.
	function delay()
		return pace_ms
	end
end

function setup(thread)
	thread:set("thread_no", #threads)
	table.insert(threads, thread)
end

local function read_tokens(file)
	local list = {}
	local f = assert(io.open(file, "r"))
	for line in f:lines() do
		if line ~= "" then
			table.insert(list, line)
		end
	end
	f:close()
	assert(#list > 0, "no token in " .. file)
	return list
end

-- The id log: a line a 2xx, written at once (line-buffered), since wrk never closes a
-- thread's Lua state, so that a buffer left unflushed at the end would lose the last ids.
local id_log
local ffi

local function open_id_log(path)
	ffi = require("ffi")
	ffi.cdef([[
		struct bench_timespec { long tv_sec; long tv_nsec; };
		int clock_gettime(int clk, struct bench_timespec *ts);
	]])
	id_log = assert(io.open(path, "a"))
	id_log:setvbuf("line")
end

local function log_id(headers)
	local id = headers["X-Message-Id"] or headers["x-message-id"]
	if not id then
		return
	end
	local ts = ffi.new("struct bench_timespec")
	ffi.C.clock_gettime(0, ts) -- CLOCK_REALTIME, the clock of nginx's $msec
	id_log:write(string.format("%s %d.%06d\n", id, tonumber(ts.tv_sec),
		math.floor(tonumber(ts.tv_nsec) / 1000)))
end

local requests = {}
local next_request = 1

function init(args)
	local tokens = read_tokens(args[1])
	local prefix = args[2]
	-- 100 bytes exactly: a typical chat notification, not a toy one-word body.
	local body = '{"text":"deploy #' .. string.format("%04d", thread_no or 0) ..
		' of hookgate finished in 93 s: 42 tests passed, 0 failed, artifacts uploaded."}'
	wrk.method = "POST"
	wrk.body = body
	wrk.headers["Content-Type"] = "application/json"
	for i = 1, #tokens do
		requests[i] = wrk.format(nil, prefix .. tokens[i])
	end
	next_request = ((thread_no or 0) * 7) % #requests + 1
	status_counts = {}
	ok_count = 0
	other_count = 0
	if args[3] then
		open_id_log(args[3] .. (thread_no or 0))
	end
end

function request()
	local r = requests[next_request]
	next_request = next_request % #requests + 1
	return r
end

function response(status, headers)
	if status >= 200 and status < 300 then
		ok_count = ok_count + 1
		if id_log then
			log_id(headers)
		end
	else
		other_count = other_count + 1
		status_counts[status] = (status_counts[status] or 0) + 1
	end
end

function done(summary, latency)
	local ok, other, counts = 0, 0, {}
	for _, thread in ipairs(threads) do
		ok = ok + thread:get("ok_count")
		other = other + thread:get("other_count")
		for status, n in pairs(thread:get("status_counts")) do
			counts[status] = (counts[status] or 0) + n
		end
	end
	local codes = {}
	for status, n in pairs(counts) do
		table.insert(codes, status .. "x" .. n)
	end
	table.sort(codes)
	local e = summary.errors
	io.write(string.format("bench: requests=%d duration_us=%d ok=%d non2xx=%d " ..
		"socket_errors=%d timeouts=%d p50_us=%d p99_us=%d max_us=%d codes=%s\n",
		summary.requests, summary.duration, ok, other,
		e.connect + e.read + e.write, e.timeout,
		latency:percentile(50), latency:percentile(99), latency.max,
		#codes > 0 and table.concat(codes, ",") or "-"))
end
