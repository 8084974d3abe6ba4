#!/bin/sh
# Run the benchmarks of BUILD pinned to one core; each prints ratios
# against its peer measured in the same run.
#   BENCH_CORE       the core of the measured program (default 1)
#   BENCH_SIPP_CORE  the core of the load generator (default 0)
#   BENCH_ONLY       parse | register | calls | media (default: all)
set -eu
BUILD=${1:-build}
CORE=${BENCH_CORE:-1}
SIPP_CORE=${BENCH_SIPP_CORE:-0}
ONLY=${BENCH_ONLY:-}
PYTHON=${PYTHON:-/usr/bin/python3}

if [ -z "$ONLY" ] || [ "$ONLY" = parse ]; then
	echo "== bench/parse: sipwall vs libosip2, pinned to core $CORE"
	taskset -c "$CORE" "$BUILD/bench/bench_parse"
fi
if [ -z "$ONLY" ] || [ "$ONLY" = register ]; then
	# At most about five minutes: 10 s steps, bounded by --budget.
	"$PYTHON" bench/register/register.py --build "$BUILD" \
	    --server-core "$CORE" --sipp-core "$SIPP_CORE"
fi
if [ -z "$ONLY" ] || [ "$ONLY" = calls ]; then
	# At most about six minutes: 8 s and 40 s steps, bounded by --budget.
	"$PYTHON" bench/calls/calls.py --build "$BUILD" \
	    --server-core "$CORE" --sipp-core "$SIPP_CORE"
fi
if [ -z "$ONLY" ] || [ "$ONLY" = media ]; then
	# At most about ten minutes: 4 s steps, bounded by --budget.
	"$PYTHON" bench/media/media.py --build "$BUILD" \
	    --relay-core "$CORE" --gen-core "$SIPP_CORE"
fi
