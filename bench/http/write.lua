-- wrk script: durable value writes through the API. Every request changes a value (the heart
-- rate cycles through 40..189), so each one is validated, written, audited and committed.
local counter = 0
local token = os.getenv("IOHEME_BENCH_TOKEN")
local record = os.getenv("IOHEME_BENCH_RECORD") or "IOH-001"
function setup(thread)
    thread:set("offset", math.random(0, 149))
end
function request()
    counter = counter + 1
    local hr = 40 + (counter + offset) % 150
    local body = '{"event":"t15min_arm_1","values":{"hd_status":"1","hd_hr":"' .. hr .. '"}}'
    return wrk.format("POST", "/api/v1/records/" .. record .. "/values",
        {["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. token}, body)
end
function response(status, headers, body)
    if status ~= 200 then
        io.stderr:write("write failed: " .. status .. " " .. body .. "\n")
    end
end
