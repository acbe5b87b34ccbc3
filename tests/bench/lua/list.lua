-- list.lua: wrk script of the "list" scenario of tests/bench/run.sh: the first page of
-- GET /v1/tickets?limit=25 (see common.lua).
dofile(os.getenv("HDF_BENCH_LUA") .. "/common.lua")

wrk.method = "GET"
wrk.path = "/v1/tickets?limit=25"
