-- common.lua: what the wrk scripts of tests/bench/run.sh share (loaded by each with dofile):
-- the Authorization header, per-thread ids and counters, the request bodies, and the count of
-- responses by status that done() prints for run.sh, which fails a scenario on any non-2xx.
-- Environment (set by run.sh): HDF_BENCH_TOKEN, HDF_BENCH_T0 and HDF_BENCH_T1 (seeded ticket ids),
-- HDF_BENCH_NCUST (seeded customers customer1..N@example.com), HDF_BENCH_TAG (unique per run),
-- HDF_BENCH_BODY (the HTML body of created tickets), HDF_BENCH_CURSOR (list_deep's cursor),
-- HDF_BENCH_THREADS (wrk -t).

local t0 = tonumber(os.getenv("HDF_BENCH_T0") or "1")
local t1 = tonumber(os.getenv("HDF_BENCH_T1") or "1")
local ncust = tonumber(os.getenv("HDF_BENCH_NCUST") or "1")
local tag = os.getenv("HDF_BENCH_TAG") or "wrk"
local nthreads = tonumber(os.getenv("HDF_BENCH_THREADS") or "1") -- wrk -t

wrk.headers["Authorization"] = "Bearer " .. (os.getenv("HDF_BENCH_TOKEN") or "")
wrk.headers["Content-Type"] = "application/json"

local function json_string(s)
    return '"' .. s:gsub('[%c"\\]', function(c)
        if c == '"' then return '\\"' elseif c == "\\" then return "\\\\" end
        return string.format("\\u%04x", c:byte())
    end) .. '"'
end

local body_json = json_string(os.getenv("HDF_BENCH_BODY") or "<p>Hello</p>")
local priorities = { "low", "normal", "high", "urgent" }

-- main state: one entry per thread, so that done() can add up their counts
local threads = {}

function setup(thread)
    thread:set("tid", #threads + 1)
    table.insert(threads, thread)
end

function init(args)
    statuses = {}
    counter = 0
    math.randomseed(os.time() * 100 + (tid or 0))
end

function response(status, headers, body)
    statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
    local total, bad, parts = {}, 0, {}
    for _, thread in ipairs(threads) do
        for status, n in pairs(thread:get("statuses") or {}) do
            total[status] = (total[status] or 0) + n
            if status < 200 or status > 299 then
                bad = bad + n
            end
        end
    end
    for status, n in pairs(total) do
        table.insert(parts, status .. "=" .. n)
    end
    table.sort(parts)
    io.write("bench: statuses: " .. table.concat(parts, " ") .. "\n")
    io.write("bench: non-2xx responses: " .. bad .. "\n")
end

function get_ticket()
    return wrk.format("GET", "/v1/tickets/" .. math.random(t0, t1))
end

-- a change every time: the subject carries this run's tag, the thread and its counter
-- PATCHes go to tickets no other request is patching at the time, since a lock wait past
-- HDF_LOCK_TIMEOUT_MS is a 409 (and lock waits are not what this measures): thread t takes ids
-- t0 + t - 1 + k * nthreads, k walking its share in a scrambled order that repeats only after all
function patch_ticket()
    counter = counter + 1
    local share = math.floor((t1 - t0 + 1) / nthreads)
    local stride = share % 104729 == 0 and 1 or 104729 -- a prime: coprime with share
    local id = t0 + (tid - 1) + nthreads * ((counter * stride) % share)
    local body = '{"subject":"Updated by wrk-' .. tag .. "-" .. tid .. "-" .. counter .. '","priority":"'
        .. priorities[math.random(1, 4)] .. '"}'
    return wrk.format("PATCH", "/v1/tickets/" .. id, nil, body)
end

-- half new customers (an email unique to this run, thread and request), half seeded ones
function create_ticket()
    counter = counter + 1
    local email
    if math.random(0, 1) == 1 then
        email = "wrk-" .. tag .. "-" .. tid .. "-" .. counter .. "@bench.example.com"
    else
        email = "customer" .. math.random(1, ncust) .. "@example.com"
    end
    local body = '{"subject":"Order ' .. counter .. " from thread " .. tid .. ' has not arrived",'
        .. '"customer":{"email":"' .. email .. '","name":"Bench Customer"},"body":' .. body_json
        .. ',"tags":["billing","shipping"]}'
    return wrk.format("POST", "/v1/tickets", nil, body)
end
