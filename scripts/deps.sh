#!/bin/sh
# Install the Debian 12 packages sipwall needs to build, run and test;
# with --bench, also the peers the benchmarks run against (Kamailio,
# SIPp), which nothing else needs.
# Idempotent: asks dpkg what is missing and installs only that, so a
# machine that has everything never touches the network.
set -eu

BUILD="meson ninja-build pkg-config gcc clang libclang-rt-14-dev make"
LIBS="libuv1-dev libssl-dev libyaml-dev libjansson-dev libsqlite3-dev libsrtp2-dev libmicrohttpd-dev libcurl4-openssl-dev"
TEST="libcmocka-dev python3 python3-pytest python3-jsonschema sip-tester sipsak sipvicious baresip valgrind openssl tshark iproute2 nftables fail2ban chromium"
BENCH="libosip2-dev"
# Benchmark peers (bench/register, calls, media): only with --bench.
PEERS="kamailio kamailio-sqlite-modules kamailio-extra-modules sip-tester sqlite3 rtpengine-daemon"

want="$BUILD $LIBS $TEST $BENCH"
case "${1:-}" in
--bench)	want="$want $PEERS" ;;
"")		;;
*)		echo "usage: scripts/deps.sh [--bench]" >&2; exit 2 ;;
esac

missing=""
for p in $want; do
	status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case "$status" in
	*"install ok installed"*) ;;
	*) missing="$missing $p" ;;
	esac
done

[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing packages:$missing" >&2
	echo "deps: run as root (or: sudo apt-get install$missing)" >&2
	exit 1
fi
echo "deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
