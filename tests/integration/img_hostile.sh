#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Hand-made hostile qcow2 images: each must give vmon-img a clear one-line
# error (or, for damage the check reports, a check status of 2), never a
# crash, a hang, or a write outside the image.
# Prints PASS/FAIL/SKIP lines for tests/run.sh; exits 1 on any FAIL.
set -u
cd "$(dirname "$0")/../.." || exit 1
IMG=${IMG:-build/vmon-img}
command -v python3 >/dev/null || { echo "SKIP img-hostile: python3 not installed"; exit 0; }
[ -x "$IMG" ] || { echo "FAIL img-hostile: $IMG not built"; exit 1; }
IMG=$(realpath "$IMG")
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
failed=0
ulimit -c 0

# A good small image to start from: 64 KiB clusters, some data.
"$IMG" create -q -f qcow2 "$t/good.qcow2" 4M
truncate -s 4M "$t/d.raw"; printf 'data' | dd of="$t/d.raw" bs=1 seek=70000 conv=notrunc status=none
"$IMG" convert -n -O qcow2 "$t/d.raw" "$t/good.qcow2"

# patch NAME OFFSET STRUCT VALUE: a copy of good.qcow2 with bytes changed.
patch() {
	cp "$t/good.qcow2" "$t/$1.qcow2"
	python3 - "$t/$1.qcow2" "$2" "$3" "$4" <<'PY'
import struct, sys
f = open(sys.argv[1], 'r+b'); off = int(sys.argv[2], 0); fmt = sys.argv[3]; v = eval(sys.argv[4])
f.seek(off); f.write(struct.pack('>' + fmt, v))
PY
}
# Offsets of the tables in good.qcow2.
read -r L1 RT < <(python3 -c '
import struct,sys; h=open(sys.argv[1],"rb").read(104)
print(struct.unpack(">Q",h[40:48])[0], struct.unpack(">Q",h[48:56])[0])' "$t/good.qcow2")
L2=$(python3 -c 'import struct,sys; f=open(sys.argv[1],"rb"); f.seek(int(sys.argv[2])); print(struct.unpack(">Q",f.read(8))[0] & 0xfffffffffe00)' "$t/good.qcow2" "$L1")

# expect_error NAME REGEX CMD...: exit 1, one stderr line matching REGEX, within 10 s.
expect_error() {
	local name=$1 re=$2; shift 2
	timeout 10 "$@" >/dev/null 2>"$t/err"; local rc=$?
	local before=$(md5sum <"$t/$name.qcow2" 2>/dev/null)
	if [ $rc = 124 ]; then echo "FAIL hostile/$name: hung"; failed=1
	elif [ $rc -ge 128 ]; then echo "FAIL hostile/$name: crashed (status $rc)"; failed=1
	elif [ $rc = 0 ]; then echo "FAIL hostile/$name: accepted"; failed=1
	elif [ "$(wc -l <"$t/err")" != 1 ] || ! grep -qiE "$re" "$t/err"; then
		echo "FAIL hostile/$name: error not one clear line: $(head -2 "$t/err" | tr '\n' '|')"; failed=1
	else echo "PASS hostile/$name"; fi
}
# expect_check NAME: opens, but check reports corruption (status 2), quickly.
expect_check() {
	local name=$1
	timeout 10 "$IMG" check "$t/$name.qcow2" >"$t/out" 2>&1; local rc=$?
	timeout 10 "$IMG" convert -O raw "$t/$name.qcow2" "$t/o.raw" >/dev/null 2>&1; local rc2=$?
	if [ $rc = 2 ] && [ $rc2 -lt 124 ]; then echo "PASS hostile/$name"
	else echo "FAIL hostile/$name: check status $rc (want 2), convert status $rc2"; failed=1; fi
}

patch huge-l1 36 I 0xffffffff
expect_error huge-l1 'L1 table too large' "$IMG" info "$t/huge-l1.qcow2"
patch l1-small 36 I 0
expect_error l1-small 'L1 table is too small' "$IMG" info "$t/l1-small.qcow2"
patch cluster-bits 20 I 40
expect_error cluster-bits 'cluster size' "$IMG" info "$t/cluster-bits.qcow2"
patch header-length 100 I 0xfffffff8
expect_error header-length 'header length' "$IMG" info "$t/header-length.qcow2"
patch backing-size 16 I 0x7fffffff; python3 -c 'import sys; f=open(sys.argv[1],"r+b"); f.seek(8); f.write((200).to_bytes(8,"big"))' "$t/backing-size.qcow2"
expect_error backing-size 'backing file name' "$IMG" info "$t/backing-size.qcow2"
patch ext-length 116 I 0x7ffffff0
expect_error ext-length 'extension' "$IMG" info "$t/ext-length.qcow2"
patch refcount-order 96 I 7
expect_error refcount-order 'refcount' "$IMG" info "$t/refcount-order.qcow2"
patch rt-huge 56 I 0xffffffff
expect_error rt-huge 'refcount table' "$IMG" info "$t/rt-huge.qcow2"
patch snapshots 60 I 0x7fffffff
expect_error snapshots 'snapshot' "$IMG" info "$t/snapshots.qcow2"
patch unknown-feature 72 Q 0x100
expect_error unknown-feature 'Unsupported qcow2 feature' "$IMG" info "$t/unknown-feature.qcow2"
patch encrypted 32 I 1
expect_error encrypted 'encrypted' "$IMG" info "$t/encrypted.qcow2"
patch unaligned-l1 40 Q $((L1 + 8))
expect_error unaligned-l1 'aligned' "$IMG" info "$t/unaligned-l1.qcow2"
# Data cluster and L2 table past the end of the file.
patch data-past-end "$L2" Q "(1 << 63) | (1 << 40)"
expect_check data-past-end
patch l2-past-end "$L1" Q "(1 << 63) | (1 << 41)"
expect_check l2-past-end
# Metadata overlaps: the L2 table is the refcount table; a data cluster is the L1 table.
patch l2-is-rt "$L1" Q "(1 << 63) | $RT"
expect_check l2-is-rt
patch data-is-l1 "$L2" Q "(1 << 63) | $L1"
expect_check data-is-l1
cp "$t/data-is-l1.qcow2" "$t/w.qcow2"
before=$(python3 -c 'import sys; f=open(sys.argv[1],"rb"); f.seek(int(sys.argv[2])); print(f.read(65536).hex()[:64])' "$t/w.qcow2" "$L1")
truncate -s 4M "$t/d0.raw"; printf 'overwrite' | dd of="$t/d0.raw" conv=notrunc status=none
"$IMG" convert -n -O qcow2 "$t/d0.raw" "$t/w.qcow2" >/dev/null 2>"$t/err"; rc=$?
after=$(python3 -c 'import sys; f=open(sys.argv[1],"rb"); f.seek(int(sys.argv[2])); print(f.read(65536).hex()[:64])' "$t/w.qcow2" "$L1")
if [ $rc = 1 ] && [ "$before" = "$after" ] && grep -q 'corrupt' "$t/err" && "$IMG" info "$t/w.qcow2" | grep -q 'corrupt: true'; then
	echo "PASS hostile/write-over-metadata-refused"
else
	echo "FAIL hostile/write-over-metadata-refused: status $rc, L1 $([ "$before" = "$after" ] && echo kept || echo overwritten): $(head -1 "$t/err")"; failed=1
fi
# Refcount overflow: a 1-bit refcount image cannot take a snapshot.
"$IMG" create -q -f qcow2 -o refcount_bits=1 "$t/rc1.qcow2" 4M && "$IMG" convert -n -O qcow2 "$t/d.raw" "$t/rc1.qcow2" 2>/dev/null
cp "$t/rc1.qcow2" "$t/overflow.qcow2"
expect_error overflow 'snapshot' "$IMG" snapshot -c s "$t/overflow.qcow2"
qemu-img check -q "$t/overflow.qcow2" 2>/dev/null && echo "PASS hostile/overflow-left-consistent" ||
	{ command -v qemu-img >/dev/null && { echo "FAIL hostile/overflow-left-consistent"; failed=1; }; }
# Backing loops: itself, and a two-image cycle.
"$IMG" create -q -f qcow2 -b self.qcow2 -F qcow2 "$t/self.qcow2" 1M
expect_error self 'loop' "$IMG" info "$t/self.qcow2"
"$IMG" create -q -f qcow2 -b b.qcow2 -F qcow2 "$t/a.qcow2" 1M
"$IMG" create -q -f qcow2 -b a.qcow2 -F qcow2 "$t/b.qcow2" 1M
cp "$t/a.qcow2" "$t/cycle.qcow2"
expect_error cycle 'loop' "$IMG" info "$t/a.qcow2"
# A truncated image.
head -c 100 "$t/good.qcow2" >"$t/truncated.qcow2"
expect_error truncated 'L1|refcount|invalid' "$IMG" info "$t/truncated.qcow2"
exit $failed
