-- patch.lua: wrk script of the "patch" scenario of tests/bench/run.sh (see common.lua).
dofile(os.getenv("HDF_BENCH_LUA") .. "/common.lua")

function request()
    return patch_ticket()
end
