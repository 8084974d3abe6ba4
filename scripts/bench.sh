#!/bin/sh
# Run the benchmarks of BUILD pinned to one core; each prints ratios
# against its peer measured in the same run.
set -eu
BUILD=${1:-build}
CORE=${BENCH_CORE:-1}
echo "== bench/parse: sipwall vs libosip2, pinned to core $CORE"
taskset -c "$CORE" "$BUILD/bench/bench_parse"
