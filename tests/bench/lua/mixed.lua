-- mixed.lua: wrk script of the "mixed" scenario of tests/bench/run.sh: 70% composite GETs, 20%
-- PATCHes, 10% creates, drawn per request (see common.lua; pgbench runs the same weights).
dofile(os.getenv("HDF_BENCH_LUA") .. "/common.lua")

function request()
    local r = math.random()
    if r < 0.7 then
        return get_ticket()
    elseif r < 0.9 then
        return patch_ticket()
    end
    return create_ticket()
end
