#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Crash safety of the qcow2 write path: writers (tests/img/crashwriter.c on
# the block layer, and vmon-img convert) are killed with SIGKILL at random
# instants, many rounds, and every image must pass `qemu-img check` with at
# most leaked clusters, never a corruption; then `vmon-img check -r leaks`
# reclaims the leaks, and qemu-img agrees.  With lazy_refcounts the image is
# left dirty by design: it must check clean after `qemu-img check -r all`,
# and open (repaired) in vmon-img.
# Prints PASS/FAIL/SKIP lines for tests/run.sh; exits 1 on any FAIL.
set -u
cd "$(dirname "$0")/../.." || exit 1
IMG=${IMG:-build/vmon-img}
ROUNDS=${CRASH_ROUNDS:-8}
if ! command -v qemu-img >/dev/null; then
	echo "SKIP img-crash: qemu-utils not installed (scripts/deps.sh test)"; exit 0
fi
[ -x "$IMG" ] && [ -f build/libvmon.a ] || { echo "FAIL img-crash: build/vmon-img or build/libvmon.a not built"; exit 1; }
W=build/tests/img_crashwriter
mkdir -p build/tests
if [ ! -x "$W" ] || [ "$W" -ot tests/img/crashwriter.c ] || [ "$W" -ot build/libvmon.a ]; then
	${CC:-cc} -std=gnu11 -D_GNU_SOURCE -O2 -Isrc -o "$W" tests/img/crashwriter.c build/libvmon.a \
		-pthread -luring -llz4 -llzma -lz -lzstd -lbz2 || { echo "FAIL img-crash: cannot build the writer"; exit 1; }
fi
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
failed=0
ulimit -c 0
RANDOM=${CRASH_SEED:-$$}

# check NAME IMAGE LAZY: qemu-img check must find no corruption.
check() {
	local name=$1 img=$2 lazy=$3 out rc
	if [ "$lazy" = 1 ]; then
		out=$(qemu-img check -r all "$img" 2>&1); rc=$?
		[ $rc = 0 ] || { echo "FAIL $name: after check -r all, status $rc: $(echo "$out" | grep -m2 -E 'ERROR|error' | tr '\n' ' ')"; return 1; }
		return 0
	fi
	out=$(qemu-img check "$img" 2>&1); rc=$?
	if [ $rc != 0 ] && [ $rc != 3 ]; then
		cp "$img" "build/tests/crash-$name.qcow2" 2>/dev/null
		echo "FAIL $name: qemu-img check status $rc: $(echo "$out" | grep -m3 -E 'ERROR|rror' | tr '\n' ' ') (image kept in build/tests/crash-$name.qcow2)"
		return 1
	fi
	return 0
}

run_writer() {  # name image lazy
	local name=$1 img=$2 lazy=$3 i leaks=0
	for i in $(seq 1 "$ROUNDS"); do
		"$W" "$img" $RANDOM 2>"$t/werr" &
		local pid=$!
		sleep "0.$((RANDOM % 25 + 2))"
		kill -9 $pid 2>/dev/null
		wait $pid 2>/dev/null
		if [ -s "$t/werr" ]; then echo "FAIL $name: round $i: writer failed: $(head -1 "$t/werr")"; failed=1; return; fi
		check "$name" "$img" "$lazy" || { failed=1; return; }
		qemu-img check "$img" >/dev/null 2>&1 || leaks=$((leaks + 1))
		# The next round starts from whatever the crash left (leaks and all).
	done
	"$IMG" convert -O raw "$img" "$t/out.raw" 2>"$t/err" || { echo "FAIL $name: vmon-img cannot read it back: $(head -1 "$t/err")"; failed=1; return; }
	# vmon-img's repair of what the kills left, to qemu-img's satisfaction.
	if [ "$lazy" = 0 ]; then
		"$IMG" check -q -r leaks "$img"; local rc=$?
		if [ $rc != 0 ] || ! qemu-img check -q "$img"; then
			echo "FAIL $name: vmon-img check -r leaks (status $rc) left qemu-img unhappy"; failed=1; return
		fi
		"$IMG" convert -O raw "$img" "$t/out2.raw" && cmp -s "$t/out.raw" "$t/out2.raw" ||
			{ echo "FAIL $name: the repair changed the content"; failed=1; return; }
	fi
	echo "$name: $ROUNDS kills, $leaks left leaks"
	echo "PASS $name"
}

truncate -s 16M "$t/base.raw"
head -c 4M /dev/urandom | dd of="$t/base.raw" conv=notrunc status=none
"$IMG" create -q -f qcow2 "$t/a.qcow2" 16M
run_writer crash/writer "$t/a.qcow2" 0
"$IMG" create -q -f qcow2 -o cluster_size=4096,refcount_bits=2 -b base.raw -F raw "$t/b.qcow2"
run_writer crash/writer-backing-4k-rb2 "$t/b.qcow2" 0
"$IMG" create -q -f qcow2 -o cluster_size=512,refcount_bits=64,compat=0.10 "$t/c.qcow2" 16M 2>/dev/null ||
	"$IMG" create -q -f qcow2 -o cluster_size=512 "$t/c.qcow2" 16M
run_writer crash/writer-512 "$t/c.qcow2" 0
"$IMG" create -q -f qcow2 -o lazy_refcounts=on,compression_type=zstd "$t/d.qcow2" 16M
run_writer crash/writer-lazy "$t/d.qcow2" 1
"$IMG" create -q -f qcow2 -o extended_l2=on,cluster_size=32k -b base.raw -F raw "$t/e.qcow2"
run_writer crash/writer-extended-l2 "$t/e.qcow2" 0

# vmon-img convert killed part way.
truncate -s 96M "$t/big.raw"
head -c 40M /dev/urandom | dd of="$t/big.raw" bs=1M seek=10 conv=notrunc status=none
ok=1
for i in $(seq 1 "$ROUNDS"); do
	c=""; [ $((i % 3)) = 0 ] && c=-c
	rm -f "$t/conv.qcow2"
	"$IMG" convert $c -O qcow2 -o cluster_size=$((4096 << (i % 4))) "$t/big.raw" "$t/conv.qcow2" 2>/dev/null &
	pid=$!
	sleep "0.$((RANDOM % 40 + 5))"
	kill -9 $pid 2>/dev/null
	wait $pid 2>/dev/null
	[ -f "$t/conv.qcow2" ] || continue
	check crash/convert "$t/conv.qcow2" 0 || { ok=0; failed=1; break; }
done
[ $ok = 1 ] && echo "PASS crash/convert"

# vmon-img commit killed part way: the base (written) and the top (emptied
# afterwards) must both stay consistent.
ok=1
for i in $(seq 1 "$ROUNDS"); do
	rm -f "$t/cbase.qcow2" "$t/ctop.qcow2"
	"$IMG" convert -O qcow2 -o cluster_size=$((4096 << (i % 3))) "$t/big.raw" "$t/cbase.qcow2"
	"$IMG" create -q -f qcow2 -b cbase.qcow2 -F qcow2 "$t/ctop.qcow2"
	"$IMG" convert -n -O qcow2 "$t/base.raw" "$t/ctop.qcow2" 2>/dev/null
	"$IMG" commit -q "$t/ctop.qcow2" 2>/dev/null &
	pid=$!
	sleep "0.0$((RANDOM % 9 + 1))"
	kill -9 $pid 2>/dev/null
	wait $pid 2>/dev/null
	check crash/commit "$t/cbase.qcow2" 0 && check crash/commit "$t/ctop.qcow2" 0 || { ok=0; failed=1; break; }
done
[ $ok = 1 ] && echo "PASS crash/commit"
exit $failed
