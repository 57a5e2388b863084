#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Runs the libFuzzer targets for a bounded time each: the software CPU on
# random code pages (tests/fuzz/fuzz_emu_code.c) and the virtqueue parser
# (tests/fuzz/fuzz_virtq.c), and the block layer on image files
# (tests/fuzz/fuzz_qcow2.c).  Crash artefacts stay in build/fuzz/.
set -u
cd "$(dirname "$0")/../.."
name=fuzz
out=build/fuzz
if ! command -v "${CLANG:-clang}" >/dev/null 2>&1; then
	echo "SKIP $name: clang not installed"; exit 0
fi
probe=$(mktemp -d)
trap 'rm -rf "$probe"' EXIT
echo 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n){(void)d;(void)n;return 0;}' >"$probe/p.c"
if ! "${CLANG:-clang}" -fsanitize=fuzzer "$probe/p.c" -o "$probe/p" >/dev/null 2>&1; then
	echo "SKIP $name: clang cannot link -fsanitize=fuzzer (libFuzzer runtime missing: libclang-rt-14-dev)"
	exit 0
fi
mkdir -p "$out/crashes"
if ! blog=$(tests/fuzz/build.sh 2>&1); then
	echo "FAIL $name: build failed: $(printf '%s\n' "$blog" | head -3 | tr '\n' ' ')"; exit 1
fi

# run_target NAME TARGET SECONDS MAX_LEN: new inputs go to a scratch corpus
# under build/, the seeds in tests/fuzz/corpus_TARGET stay read-only.  A
# fixed seed (FUZZ_SEED) makes a run repeatable: a slower machine explores a
# prefix of what a faster one does, and a failure seen once is seen again.
run_target() {
	local name=fuzz/$1 target=$2 secs=$3 max_len=$4 log=$out/$2.log rc crash why
	local seed=tests/fuzz/corpus_${target#fuzz_}
	mkdir -p "$out/corpus_${target#fuzz_}"
	rm -f "$out"/crashes/*
	"$out/$target" -seed="${FUZZ_SEED:-1}" -max_total_time="$secs" -max_len="$max_len" -rss_limit_mb=1024 \
		-timeout=20 -artifact_prefix="$out/crashes/" -print_final_stats=1 \
		"$out/corpus_${target#fuzz_}" "$seed" >"$log" 2>&1
	rc=$?
	crash=$(ls "$out"/crashes/ 2>/dev/null | head -1)
	if [ $rc -ne 0 ] || [ -n "$crash" ]; then
		why=$(grep -m3 -E 'ERROR|invariant broken|runtime error|SUMMARY' "$log" | tr '\n' ' ')
		echo "FAIL $name: ${crash:+$out/crashes/$crash: }${why:-exit status $rc, see $log}"
		failed=1
		return
	fi
	echo "$name: $(grep -m1 -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$') inputs, no crash"
	echo "PASS $name"
}

failed=0
run_target emu-code fuzz_emu_code "${FUZZ_TIME:-30}" 4096
run_target virtq fuzz_virtq "${FUZZ_TIME_VIRTQ:-20}" 32768
ASAN_OPTIONS=${ASAN_OPTIONS:-quarantine_size_mb=16:allocator_release_to_os_interval_ms=200} run_target qcow2 fuzz_qcow2 "${FUZZ_TIME_QCOW2:-20}" 65536
exit $failed
