-- get.lua: wrk script of the "get" scenario of tests/bench/run.sh (see common.lua).
dofile(os.getenv("HDF_BENCH_LUA") .. "/common.lua")

function request()
    return get_ticket()
end
