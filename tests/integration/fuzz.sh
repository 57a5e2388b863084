#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Fuzzes the software CPU with random code pages for a bounded time
# (tests/fuzz/fuzz_emu_code.c).  Crash artefacts stay in build/fuzz/.
set -u
cd "$(dirname "$0")/../.."
name=fuzz/emu-code
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
mkdir -p "$out/crashes" "$out/corpus_emu_code"
if ! blog=$(tests/fuzz/build.sh 2>&1); then
	echo "FAIL $name: build failed: $(printf '%s\n' "$blog" | head -3 | tr '\n' ' ')"; exit 1
fi
# New inputs go to a scratch corpus under build/, the seeds stay read-only.
log=$out/fuzz_emu_code.log
rm -f "$out"/crashes/*
"$out/fuzz_emu_code" -max_total_time="${FUZZ_TIME:-30}" -max_len=4096 -rss_limit_mb=1024 \
	-timeout=20 -artifact_prefix="$out/crashes/" -print_final_stats=1 \
	"$out/corpus_emu_code" tests/fuzz/corpus_emu_code >"$log" 2>&1
rc=$?
crash=$(ls "$out"/crashes/ 2>/dev/null | head -1)
if [ $rc -ne 0 ] || [ -n "$crash" ]; then
	why=$(grep -m3 -E 'ERROR|invariant broken|runtime error|SUMMARY' "$log" | tr '\n' ' ')
	echo "FAIL $name: ${crash:+$out/crashes/$crash: }${why:-exit status $rc, see $log}"
	exit 1
fi
echo "$name: $(grep -m1 -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$') inputs, no crash"
echo "PASS $name"
