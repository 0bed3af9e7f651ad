-- post.lua: the wrk script of bench/bench-ingest. POSTs a ~100-byte JSON message, one token
-- per request in round robin (each thread starts at its own offset), counts the answers by
-- status and prints one machine-readable "bench:" line in done().
--
--   wrk ... -s post.lua URL -- TOKENS_FILE PATH_PREFIX
--
-- TOKENS_FILE holds one token a line; each request goes to PATH_PREFIX .. TOKEN. The requests
-- are formatted once in init(): wrk shares the CPU with the server under test, so the Lua side
-- must cost next to nothing per request.

local threads = {}

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
end

function request()
	local r = requests[next_request]
	next_request = next_request % #requests + 1
	return r
end

function response(status)
	if status >= 200 and status < 300 then
		ok_count = ok_count + 1
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
