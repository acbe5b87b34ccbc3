-- list_deep.lua: wrk script of the "list_deep" scenario of tests/bench/run.sh: page 2,000 of
-- GET /v1/tickets?limit=25, by the cursor run.sh computed and checked (see common.lua).
dofile(os.getenv("HDF_BENCH_LUA") .. "/common.lua")

wrk.method = "GET"
wrk.path = "/v1/tickets?limit=25&cursor=" .. (os.getenv("HDF_BENCH_CURSOR") or "")
