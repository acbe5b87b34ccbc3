-- create.lua: wrk script of the "create" scenario of tests/bench/run.sh (see common.lua).
dofile(os.getenv("HDF_BENCH_LUA") .. "/common.lua")

function request()
    return create_ticket()
end
