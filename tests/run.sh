#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Runs every unit test binary (plain and sanitized) and every integration
# test script.  Each prints lines "PASS name", "FAIL name: why" or
# "SKIP name: why"; this counts them and ends with "N passed, N failed, N skipped".
set -u
cd "$(dirname "$0")/.."
log=build/tests/results.txt
mkdir -p build/tests
: >"$log"

run_one() {
	local label=$1; shift
	local out rc
	out=$("$@" 2>&1); rc=$?
	printf '%s\n' "$out" | grep -E '^(PASS|FAIL|SKIP) ' | sed "s|^\([A-Z]*\) |\1 $label: |" >>"$log"
	if [ $rc -ne 0 ] && ! printf '%s\n' "$out" | grep -q '^FAIL '; then
		echo "FAIL $label: exited with status $rc" >>"$log"
	fi
	if [ $rc -ne 0 ]; then
		printf '%s\n' "$out" | grep -v -E '^(PASS|SKIP) ' | tail -20 | sed "s|^|  $label: |"
	fi
}

for t in build/tests/test_*; do
	[ -x "$t" ] && run_one "$(basename "$t")" "$t"
done
for t in build/tests/san/test_*; do
	[ -x "$t" ] && run_one "san/$(basename "$t")" "$t"
done
for t in tests/integration/*.sh; do
	[ -x "$t" ] && run_one "$(basename "$t" .sh)" "$t"
done

grep -E '^(FAIL|SKIP) ' "$log" || true
p=$(grep -c '^PASS ' "$log"); f=$(grep -c '^FAIL ' "$log"); s=$(grep -c '^SKIP ' "$log")
echo "$p passed, $f failed, $s skipped"
[ "$f" -eq 0 ]
