#!/bin/sh
# Run every libFuzzer target in BUILD for FUZZ_SECS seconds each, two at
# a time (the machine has two cores), on a scratch copy of its corpus so
# the tree stays unchanged.  Any finding fails; its input is kept in
# tests/fuzz/artifacts/ to become a corpus file and a unit test.
set -eu
BUILD=${1:-build-asan}
SECS=${FUZZ_SECS:-60}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
ART="$ROOT/tests/fuzz/artifacts"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$ART"

run_one() {
	t=$1
	bin="$BUILD/tests/fuzz/fuzz_$t"
	[ -x "$bin" ] || { echo "fuzz: $bin missing (build with -Dfuzz=true)"; return 1; }
	mkdir -p "$WORK/$t"
	[ -d "$ROOT/tests/fuzz/corpus/$t" ] && cp -r "$ROOT/tests/fuzz/corpus/$t/." "$WORK/$t/"
	dict=""
	[ -f "$ROOT/tests/fuzz/dict/$t.dict" ] && dict="-dict=$ROOT/tests/fuzz/dict/$t.dict"
	# shellcheck disable=SC2086
	if "$bin" "$WORK/$t" $dict -max_total_time="$SECS" -max_len=65536 \
	    -timeout=10 -rss_limit_mb=2048 -artifact_prefix="$ART/$t-" \
	    -print_final_stats=1 >"$WORK/$t.log" 2>&1; then
		echo "fuzz: $t ok: $(grep -E 'stat::number_of_executed_units' "$WORK/$t.log" | awk '{print $2}') runs in ${SECS}s"
	else
		echo "fuzz: $t FAILED"; tail -40 "$WORK/$t.log"; return 1
	fi
}

targets=""
for f in "$BUILD"/tests/fuzz/fuzz_*; do
	[ -f "$f" ] && [ -x "$f" ] && targets="$targets ${f##*/fuzz_}"
done
rc=0
set -- $targets
while [ $# -gt 0 ]; do
	a=$1; shift
	if [ $# -gt 0 ]; then
		b=$1; shift
		run_one "$a" & pa=$!
		run_one "$b" & pb=$!
		wait $pa || rc=1
		wait $pb || rc=1
	else
		run_one "$a" || rc=1
	fi
done
exit $rc
