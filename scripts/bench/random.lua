-- wrk script: each request is a random line of $BENCH_PATHS with a random key of $BENCH_KEYS.
local paths, keys = {}, {}
for l in io.lines(os.getenv("BENCH_PATHS")) do paths[#paths + 1] = l end
for l in io.lines(os.getenv("BENCH_KEYS")) do keys[#keys + 1] = l end

function setup(thread)
	thread:set("seed", math.random(1, 1000000))
end

function init(args)
	math.randomseed(seed or os.time())
end

function request()
	return wrk.format("GET", paths[math.random(#paths)], { ["X-API-Key"] = keys[math.random(#keys)] })
end
