-- wrk script for bench/http/run: GETs of the URL given to wrk, or durable value writes (every
-- request changes the heart rate, cycling through 40..189, so each one is validated, written,
-- audited and committed), at full speed or at a fixed rate.
--
-- At a fixed rate (IOHEME_BENCH_RATE), well below saturation, the latency wrk reports is the
-- server's service time and not the queue in front of it (wrk at full speed on a small machine
-- measures mostly queueing). Each connection waits a random delay before each request, with
-- mean CONNS / RATE seconds, so the total rate is about RATE while latencies stay small against
-- the delay (wrk has no wrk2-style constant-throughput mode; this is its stand-in).
-- env: IOHEME_BENCH_RATE (requests/s in total; unset: full speed), IOHEME_BENCH_CONNS (wrk -c),
--      IOHEME_BENCH_TOKEN (bearer token, optional), IOHEME_BENCH_WRITE=1 (POST value changes,
--      as write.lua, instead of GETs of the URL given to wrk)
local rate = tonumber(os.getenv("IOHEME_BENCH_RATE") or "0")
local conns = tonumber(os.getenv("IOHEME_BENCH_CONNS") or "64")
local token = os.getenv("IOHEME_BENCH_TOKEN")
local is_write = os.getenv("IOHEME_BENCH_WRITE") == "1"
local record = os.getenv("IOHEME_BENCH_RECORD") or "IOH-001"
local mean_ms = rate > 0 and 1000 * conns / rate or 0
local counter = 0
function setup(thread)
    thread:set("offset", math.random(0, 149))
end
function init(args)
    math.randomseed(os.time() + (offset or 0))
end
if mean_ms > 0 then
    function delay()
        return math.floor(mean_ms * (0.5 + math.random()))
    end
end
function request()
    local headers = {}
    if token then headers["Authorization"] = "Bearer " .. token end
    if not is_write then
        return wrk.format("GET", nil, headers)
    end
    counter = counter + 1
    local hr = 40 + (counter + offset) % 150
    headers["Content-Type"] = "application/json"
    local body = '{"event":"t15min_arm_1","values":{"hd_status":"1","hd_hr":"' .. hr .. '"}}'
    return wrk.format("POST", "/api/v1/records/" .. record .. "/values", headers, body)
end
function response(status, headers, body)
    if status ~= 200 then
        io.stderr:write("request failed: " .. status .. " " .. body .. "\n")
    end
end
-- wrk --latency prints 50/75/90/99 %; the tail past that (p99.9, max) is printed here, in ms.
function done(summary, latency, requests)
    io.write(string.format("tail p99.9 %.2fms max %.2fms\n",
                           latency:percentile(99.9) / 1000, latency.max / 1000))
end
