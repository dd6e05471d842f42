# MicroTaskHub — the two commands a newcomer needs are `make run` and `make test`.
.PHONY: run test build fuzz bench bench-profile bench-runner k8s-check clean-local

run:            ## build, start a local database and the app; prints URL and login
	scripts/run.sh

test:           ## install what the tests need, build, run every suite
	scripts/test.sh

build:          ## the three components (.wasm) and the runner
	scripts/build.sh

fuzz:           ## Schemathesis against docs/openapi.json (MTH_TEST_HOST=runner|spin; part of make test)
	tests/fuzz/run.sh

bench:          ## API benchmark, under Spin (if found) and the runner (see docs/benchmarks.md)
	scripts/bench.sh

bench-profile:  ## instructions per request under Spin, by part (callgrind; see docs/benchmarks.md)
	BENCH_PROFILE=$${BENCH_PROFILE:-200} scripts/bench.sh

bench-runner:   ## runner benchmark (see docs/benchmarks.md)
	scripts/bench-runner.sh

k8s-check:      ## offline validation of k8s/
	scripts/check-k8s.sh

clean-local:    ## delete the local database and secrets (.local/)
	rm -rf .local
