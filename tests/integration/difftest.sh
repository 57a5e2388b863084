#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The software CPU against KVM (tests/diff, docs/emu.md "Differential
# testing"): every exhaustive flag case and a bounded number of random
# sequences from a fixed seed.  Skipped when /dev/kvm cannot be used.
# DIFFTEST_CASES and DIFFTEST_SEED change the random part.
set -u
cd "$(dirname "$0")/../.."
name=difftest
bin=build/difftest
log=build/tests/difftest.log
if [ ! -x "$bin" ]; then
	echo "FAIL $name: $bin not built (make build/difftest)"; exit 1
fi
mkdir -p build/tests
timeout 300 "$bin" --seed "${DIFFTEST_SEED:-1}" --cases "${DIFFTEST_CASES:-3000}" >"$log" 2>&1
rc=$?
case $rc in
0)
	grep -E '^(exhaustive|random|difftest):' "$log"
	echo "PASS $name" ;;
77)
	echo "SKIP $name: $(sed -n 's/^difftest: no reference: //p' "$log" | head -1)" ;;
124)
	echo "FAIL $name: timed out, see $log" ;;
*)
	grep -E '^(exhaustive|random|difftest):' "$log"
	echo "FAIL $name: $(grep -c '^DIFFERENCE' "$log") reduced differences (status $rc), see $log" ;;
esac
[ "$rc" -eq 0 ] || [ "$rc" -eq 77 ]
