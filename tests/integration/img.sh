#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# vmon-img against Debian's qemu-img, both ways:
#  - images qemu-img (and qemu-io) write -- every cluster size, refcount
#    widths, v2 and v3, zlib and zstd compression, extended L2 entries,
#    internal snapshots, backing chains, preallocation -- convert with
#    vmon-img to raw byte for byte as qemu-img converts them;
#  - images vmon-img creates or changes (create, convert, -c, snapshots,
#    resize, commit, rebase) pass `qemu-img check` and `qemu-img compare`
#    against their raw source.
# Prints PASS/FAIL/SKIP lines for tests/run.sh; exits 1 on any FAIL.
set -u
cd "$(dirname "$0")/../.." || exit 1
IMG=${IMG:-build/vmon-img}
if ! command -v qemu-img >/dev/null || ! command -v qemu-io >/dev/null; then
	echo "SKIP img: qemu-utils not installed (scripts/deps.sh test)"; exit 0
fi
[ -x "$IMG" ] || { echo "FAIL img: $IMG not built"; exit 1; }
IMG=$(realpath "$IMG")
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
failed=0
ulimit -c 0
passes=0
pass() { echo "PASS $1"; passes=$((passes + 1)); }
fail() { echo "FAIL $1: $2"; failed=1; }
# Many checks are chains that print PASS at their end; one that stopped
# early printed nothing, so the passes are counted against this.
WANT_PASSES=105

# A raw source: random data, a run of a repeated byte, holes.
mk_src() {
	local f=$1 mb=$2
	truncate -s "${mb}M" "$f"
	head -c 1048576 /dev/urandom | dd of="$f" bs=1M seek=0 conv=notrunc status=none
	head -c 300000 /dev/urandom | dd of="$f" bs=1 seek=$((3 * 1048576 + 12345)) conv=notrunc status=none
	printf 'x%.0s' $(seq 1 5000) | dd of="$f" bs=1 seek=$((mb * 1048576 - 7000)) conv=notrunc status=none
	yes vmon | head -c 700000 | dd of="$f" bs=1 seek=$((5 * 1048576)) conv=notrunc status=none
}
mk_src "$t/src.raw" 8

# vmon-img reads what qemu made: converted to raw, byte-identical to qemu-img's own.
same_raw() {  # name image
	local name=$1 img=$2
	if ! qemu-img convert -O raw "$img" "$t/q.raw" 2>"$t/err"; then
		fail "$name" "qemu-img convert: $(head -1 "$t/err")"; return
	fi
	if ! "$IMG" convert -O raw "$img" "$t/v.raw" 2>"$t/err"; then
		fail "$name" "vmon-img convert: $(head -1 "$t/err")"; return
	fi
	if ! cmp -s "$t/q.raw" "$t/v.raw"; then
		fail "$name" "vmon-img's raw differs from qemu-img's"; return
	fi
	if ! "$IMG" check "$img" >"$t/out" 2>&1; then
		fail "$name" "vmon-img check: $(head -2 "$t/out" | tr '\n' ' ')"; return
	fi
	pass "$name"
}

# What vmon-img writes: qemu-img check clean, same content as the source.
qemu_ok() {  # name image source
	local name=$1 img=$2 src=$3 out
	if ! out=$(qemu-img check "$img" 2>&1); then
		fail "$name" "qemu-img check: $(echo "$out" | head -3 | tr '\n' ' ')"; return 1
	fi
	if ! out=$(qemu-img compare "$src" "$img" 2>&1); then
		fail "$name" "qemu-img compare: $out"; return 1
	fi
	return 0
}

# 1. qemu-img's images, read by vmon-img.
for cs in 512 1k 2k 4k 8k 16k 32k 64k 128k 256k 512k 1M 2M; do
	case $cs in 512|64k|2M) rbs="1 16 64" ;; *) rbs=16 ;; esac
	for rb in $rbs; do
		f=$t/q-$cs-$rb.qcow2
		qemu-img convert -O qcow2 -o cluster_size=$cs,refcount_bits=$rb "$t/src.raw" "$f"
		same_raw "read/cluster=$cs,refcount_bits=$rb" "$f"
	done
done
for rb in 2 4 8 32; do
	qemu-img convert -O qcow2 -o cluster_size=4096,refcount_bits=$rb "$t/src.raw" "$t/r$rb.qcow2"
	same_raw "read/refcount_bits=$rb" "$t/r$rb.qcow2"
done
qemu-img convert -O qcow2 -o compat=0.10 "$t/src.raw" "$t/v2.qcow2"
same_raw "read/compat=0.10" "$t/v2.qcow2"
for ct in zlib zstd; do
	for cs in 4096 65536 2M; do
		qemu-img convert -c -O qcow2 -o cluster_size=$cs,compression_type=$ct "$t/src.raw" "$t/c.qcow2"
		same_raw "read/compressed/$ct,cluster=$cs" "$t/c.qcow2"
	done
done
qemu-img convert -O qcow2 -o extended_l2=on,cluster_size=128k "$t/src.raw" "$t/x.qcow2"
qemu-io -c 'write -P 7 4096 4096' -c 'write -z 131072 8192' -c 'discard 1048576 65536' "$t/x.qcow2" >/dev/null
same_raw "read/extended_l2" "$t/x.qcow2"
for pa in metadata falloc full; do
	qemu-img create -q -f qcow2 -o preallocation=$pa "$t/p.qcow2" 4M
	qemu-io -c 'write -P 9 100000 200000' "$t/p.qcow2" >/dev/null
	same_raw "read/preallocation=$pa" "$t/p.qcow2"
done
# External data files, plain and raw (their names are relative to the
# working directory, as QEMU takes them).
cd "$t"
for raw in off on; do
	qemu-img create -q -f qcow2 -o data_file=df-$raw.raw,data_file_raw=$raw df-$raw.qcow2 8M
	qemu-io -c 'write -P 6 64k 300k' -c 'write -z 1M 64k' -c 'write -P 7 3M 5k' df-$raw.qcow2 >/dev/null
	same_raw "read/data_file_raw=$raw" df-$raw.qcow2
done
cd - >/dev/null
# Internal snapshots: the active layer and each snapshot.
qemu-img convert -O qcow2 "$t/src.raw" "$t/s.qcow2"
qemu-img snapshot -c one "$t/s.qcow2"
qemu-io -c 'write -P 1 0 1M' -c 'write -z 2M 1M' "$t/s.qcow2" >/dev/null
qemu-img snapshot -c two "$t/s.qcow2"
qemu-io -c 'write -P 2 512k 1M' -c 'discard 3M 512k' "$t/s.qcow2" >/dev/null
same_raw "read/snapshots/active" "$t/s.qcow2"
if "$IMG" snapshot -l "$t/s.qcow2" | grep -q ' two ' && "$IMG" info --output=json "$t/s.qcow2" | grep -q '"name": "one"'; then
	pass "snapshot/list"
else
	fail "snapshot/list" "snapshots one and two not listed"
fi
cp "$t/s.qcow2" "$t/s2.qcow2"
"$IMG" snapshot -a one "$t/s2.qcow2" && qemu-img check -q "$t/s2.qcow2" && "$IMG" convert -O raw "$t/s2.qcow2" "$t/s2.raw" &&
	cmp -s "$t/s2.raw" "$t/src.raw" && pass "snapshot/apply-qemu's" || fail "snapshot/apply-qemu's" "content or check"
# A backing chain written with qemu-io: raw <- qcow2 <- qcow2 (v2) <- qcow2.
qemu-img create -q -f qcow2 -b src.raw -F raw "$t/l1.qcow2"
qemu-io -c 'write -P 0x11 64k 256k' -c 'write -z 1M 64k' "$t/l1.qcow2" >/dev/null
qemu-img create -q -f qcow2 -o compat=0.10 -b l1.qcow2 -F qcow2 "$t/l2.qcow2"
qemu-io -c 'write -P 0x22 200k 100k' "$t/l2.qcow2" >/dev/null
qemu-img create -q -f qcow2 -b l2.qcow2 -F qcow2 "$t/l3.qcow2" 12M
qemu-io -c 'write -P 0x33 7M 2M' -c 'discard 0 64k' "$t/l3.qcow2" >/dev/null
same_raw "read/backing-chain" "$t/l3.qcow2"
"$IMG" info --backing-chain --output=json "$t/l3.qcow2" >"$t/chain.json" 2>&1 &&
	[ "$(grep -c '"filename"' "$t/chain.json")" = 4 ] && pass "info/backing-chain" ||
	fail "info/backing-chain" "$(head -2 "$t/chain.json")"
if "$IMG" map --output=json "$t/l3.qcow2" | python3 -c 'import json,sys; json.load(sys.stdin)' 2>/dev/null &&
   [ "$("$IMG" map --output=json "$t/l1.qcow2")" = "$(qemu-img map --output=json "$t/l1.qcow2")" ]; then
	pass "map/json"
else
	fail "map/json" "differs from qemu-img map"
fi

# 2. vmon-img's images, checked by qemu-img.
for cs in 512 1k 2k 4k 8k 16k 32k 64k 128k 256k 512k 1M 2M; do
	case $cs in 512|64k|2M) rbs="1 16 64" ;; *) rbs=16 ;; esac
	for rb in $rbs; do
		f=$t/v-$cs-$rb.qcow2
		if "$IMG" convert -O qcow2 -o cluster_size=$cs,refcount_bits=$rb "$t/src.raw" "$f" 2>"$t/err"; then
			qemu_ok "write/cluster=$cs,refcount_bits=$rb" "$f" "$t/src.raw" && pass "write/cluster=$cs,refcount_bits=$rb"
		else
			fail "write/cluster=$cs,refcount_bits=$rb" "$(head -1 "$t/err")"
		fi
	done
done
for ct in zlib zstd; do
	"$IMG" convert -c -O qcow2 -o compression_type=$ct "$t/src.raw" "$t/vc.qcow2" &&
		qemu_ok "write/compressed/$ct" "$t/vc.qcow2" "$t/src.raw" && pass "write/compressed/$ct"
done
"$IMG" convert -O qcow2 -o compat=0.10 "$t/src.raw" "$t/vv2.qcow2" && qemu_ok write/compat=0.10 "$t/vv2.qcow2" "$t/src.raw" && pass write/compat=0.10
"$IMG" convert -O qcow2 -o extended_l2=on "$t/src.raw" "$t/vx.qcow2" && qemu_ok write/extended_l2 "$t/vx.qcow2" "$t/src.raw" && pass write/extended_l2
"$IMG" create -q -f qcow2 -o lazy_refcounts=on "$t/lz.qcow2" 8M && "$IMG" convert -n -O qcow2 "$t/src.raw" "$t/lz.qcow2" &&
	qemu_ok write/lazy_refcounts "$t/lz.qcow2" "$t/src.raw" && pass write/lazy_refcounts
for pa in metadata falloc full; do
	"$IMG" create -q -f qcow2 -o preallocation=$pa "$t/vp.qcow2" 8M && "$IMG" convert -n -O qcow2 "$t/src.raw" "$t/vp.qcow2" &&
		qemu_ok "write/preallocation=$pa" "$t/vp.qcow2" "$t/src.raw" && pass "write/preallocation=$pa"
done
cd "$t"
for raw in off on; do
	"$IMG" create -q -f qcow2 -o data_file=vdf-$raw.raw,data_file_raw=$raw vdf-$raw.qcow2 8M &&
		"$IMG" convert -n -O qcow2 src.raw vdf-$raw.qcow2 &&
		qemu_ok "write/data_file_raw=$raw" vdf-$raw.qcow2 src.raw &&
		{ [ $raw = off ] || cmp -s src.raw vdf-$raw.raw; } && pass "write/data_file_raw=$raw"
done
# Preallocated in a data file: each cluster at its guest offset, none refcounted.
for pa in metadata falloc full; do
	n="write/data_file,preallocation=$pa"
	if ! { "$IMG" create -q -f qcow2 -o data_file=vdp-$pa.raw,preallocation=$pa vdp-$pa.qcow2 8M &&
	       "$IMG" convert -n -O qcow2 src.raw vdp-$pa.qcow2; } 2>err; then
		fail "$n" "$(head -1 err)"
	elif qemu_ok "$n" vdp-$pa.qcow2 src.raw; then
		cmp -s src.raw vdp-$pa.raw && pass "$n" || fail "$n" "the data file is not the disk"
	fi
done
cd - >/dev/null
# Over a backing file: convert -B writes only the differences.
cp "$t/src.raw" "$t/mod.raw"
printf 'changed' | dd of="$t/mod.raw" bs=1 seek=2000000 conv=notrunc status=none
"$IMG" convert -O qcow2 -B src.raw -F raw "$t/mod.raw" "$t/diff.qcow2" && qemu_ok write/convert-B "$t/diff.qcow2" "$t/mod.raw" &&
	[ "$(stat -c %s "$t/diff.qcow2")" -lt 1048576 ] && pass write/convert-B
# Snapshots made by vmon-img, read back by qemu-img.
"$IMG" convert -O qcow2 "$t/src.raw" "$t/vs.qcow2"
"$IMG" snapshot -c base "$t/vs.qcow2"
qemu-io -c 'write -P 5 0 2M' "$t/vs.qcow2" >/dev/null
"$IMG" snapshot -c after "$t/vs.qcow2"
if qemu_ok snapshot/create "$t/vs.qcow2" "$t/vs.qcow2" && qemu-img snapshot -l "$t/vs.qcow2" | grep -q after; then
	qemu-img convert -O raw -l base "$t/vs.qcow2" "$t/b.raw" && cmp -s "$t/b.raw" "$t/src.raw" &&
		pass snapshot/create || fail snapshot/create "qemu-img reads the snapshot differently"
fi
"$IMG" snapshot -a base "$t/vs.qcow2" && qemu_ok snapshot/apply "$t/vs.qcow2" "$t/src.raw" && pass snapshot/apply
"$IMG" snapshot -d after "$t/vs.qcow2" && "$IMG" snapshot -d base "$t/vs.qcow2" && qemu_ok snapshot/delete "$t/vs.qcow2" "$t/src.raw" &&
	[ -z "$(qemu-img snapshot -l "$t/vs.qcow2")" ] && pass snapshot/delete
# Resize: grow, and shrink.
"$IMG" convert -O qcow2 "$t/src.raw" "$t/rs.qcow2"
"$IMG" resize -q "$t/rs.qcow2" +3M && cp "$t/src.raw" "$t/rs.raw" && truncate -s 11M "$t/rs.raw" &&
	qemu_ok resize/grow "$t/rs.qcow2" "$t/rs.raw" && pass resize/grow
"$IMG" resize -q --shrink "$t/rs.qcow2" 6M && truncate -s 6M "$t/rs.raw" && qemu_ok resize/shrink "$t/rs.qcow2" "$t/rs.raw" &&
	[ "$(qemu-img info --output=json "$t/rs.qcow2" | grep -o '"virtual-size": [0-9]*')" = '"virtual-size": 6291456' ] && pass resize/shrink
if "$IMG" resize "$t/rs.qcow2" 1M 2>"$t/err"; then fail resize/refuse "shrank without --shrink"
else [ "$(wc -l <"$t/err")" = 1 ] && pass resize/refuse || fail resize/refuse "not one line"; fi
# Commit and rebase.
qemu-img create -q -f qcow2 -b src.raw -F raw "$t/base.qcow2" && qemu-img convert -O qcow2 "$t/src.raw" "$t/base.qcow2"
qemu-img create -q -f qcow2 -b base.qcow2 -F qcow2 "$t/top.qcow2"
qemu-io -c 'write -P 0x44 1M 1M' -c 'write -z 6M 64k' "$t/top.qcow2" >/dev/null
qemu-img convert -O raw "$t/top.qcow2" "$t/top.raw"
"$IMG" commit -q "$t/top.qcow2" && qemu_ok commit "$t/base.qcow2" "$t/top.raw" && qemu_ok commit/top "$t/top.qcow2" "$t/top.raw" && pass commit
qemu-img create -q -f qcow2 -b base.qcow2 -F qcow2 "$t/rb.qcow2"
qemu-io -c 'write -P 0x55 3M 100k' "$t/rb.qcow2" >/dev/null
qemu-img convert -O raw "$t/rb.qcow2" "$t/rb.raw"
"$IMG" rebase -b src.raw -F raw "$t/rb.qcow2" && qemu_ok rebase "$t/rb.qcow2" "$t/rb.raw" &&
	qemu-img info "$t/rb.qcow2" | grep -q 'backing file: src.raw' && pass rebase
"$IMG" rebase -b "" "$t/rb.qcow2" && qemu_ok rebase/none "$t/rb.qcow2" "$t/rb.raw" && pass rebase/none
# Persistent bitmaps: listed as qemu-img lists them, kept consistent through
# vmon-img's writes, the enabled one marking exactly what changed (read back
# through qemu-nbd, where dirty areas show as "data": false).
qemu-img convert -O qcow2 "$t/src.raw" "$t/bm.qcow2"
qemu-img bitmap --add "$t/bm.qcow2" tracked && qemu-img bitmap --add --disable "$t/bm.qcow2" frozen
"$IMG" convert -n -O qcow2 "$t/mod.raw" "$t/bm.qcow2" && qemu_ok bitmaps/kept "$t/bm.qcow2" "$t/mod.raw" &&
	! qemu-img info "$t/bm.qcow2" | grep -q 'in-use' && pass bitmaps/kept
qemu-img create -q -f qcow2 "$t/bmb.qcow2" 16M && qemu-img bitmap --add "$t/bmb.qcow2" b0
qemu-img create -q -f qcow2 -b bmb.qcow2 -F qcow2 "$t/bmt.qcow2"
qemu-io -c 'write 1M 64k' -c 'write 5000000 10' "$t/bmt.qcow2" >/dev/null
"$IMG" commit -q "$t/bmt.qcow2"
if command -v qemu-nbd >/dev/null; then
	qemu-nbd -r -k "$t/nbd.sock" -B b0 -f qcow2 "$t/bmb.qcow2" & nbd=$!
	for _ in 1 2 3 4 5 6 7 8 9 10; do [ -S "$t/nbd.sock" ] && break; sleep 0.2; done
	dirty=$(qemu-img map --output=json --image-opts \
		driver=nbd,server.type=unix,server.path="$t/nbd.sock",x-dirty-bitmap=qemu:dirty-bitmap:b0 2>&1 |
		grep '"data": false' | grep -o '"start": [0-9]*, "length": [0-9]*' | tr '\n' ' ')
	kill $nbd 2>/dev/null; wait $nbd 2>/dev/null
	want='"start": 1048576, "length": 65536 "start": 4980736, "length": 65536 '
	[ "$dirty" = "$want" ] && qemu-img check -q "$t/bmb.qcow2" && pass bitmaps/track ||
		fail bitmaps/track "dirty areas: $dirty"
fi
# compare, check and info agree with qemu-img.
"$IMG" compare -q "$t/src.raw" "$t/vs.qcow2"; a=$?
"$IMG" compare -q "$t/src.raw" "$t/rb.qcow2"; b=$?
[ "$a$b" = 01 ] && pass compare/status || fail compare/status "statuses $a $b, expected 0 1"
"$IMG" check "$t/src.raw" >/dev/null 2>&1; [ $? = 63 ] && pass check/raw-status || fail check/raw-status "not 63"
cd "$t"
for f in "$t/l3.qcow2" "$t/vc.qcow2" "$t/s.qcow2" "$t/bm.qcow2" "$t/vv2.qcow2" "$t/x.qcow2" df-on.qcow2; do
	a=$("$IMG" check --output=json "$f" | grep -v '"filename"' | tr -d ',' | sort); b=$(qemu-img check --output=json "$f" | grep -v '"filename"' | tr -d ',' | sort)
	[ "$a" = "$b" ] || { fail check/json "$(basename "$f"): $(echo "$a" | tr '\n' ' ') vs $(echo "$b" | tr '\n' ' ')"; continue; }
	a=$("$IMG" info --output=json "$f" | grep -v -e actual-size -e date | tr -d ',' | sort); b=$(qemu-img info --output=json "$f" | grep -v -e actual-size -e date | tr -d ',' | sort)
	[ "$a" = "$b" ] || { fail info/json "$(basename "$f"): $(diff <(echo "$a") <(echo "$b") | head -3 | tr '\n' ' ')"; continue; }
	pass "check+info/json-like-qemu/$(basename "$f")"
done
cd - >/dev/null
# One-line errors and qemu-img's exit statuses.
one_line() {  # name want-status cmd...
	local name=$1 want=$2; shift 2
	"$@" >/dev/null 2>"$t/err" </dev/null; local rc=$?
	if [ $rc != "$want" ]; then fail "cli/$name" "status $rc, want $want"
	elif [ "$(wc -l <"$t/err")" != 1 ] || ! grep -q '^vmon-img: ' "$t/err"; then fail "cli/$name" "stderr: $(head -3 "$t/err" | tr '\n' '|')"
	else pass "cli/$name"; fi
}
one_line missing-file 1 "$IMG" info "$t/nonexistent.qcow2"
one_line unknown-command 1 "$IMG" frobnicate x
one_line bad-option 1 "$IMG" info --bogus "$t/vs.qcow2"
one_line no-size 1 "$IMG" create -f qcow2 "$t/nosize.qcow2"
one_line backing-without-format 1 "$IMG" create -f qcow2 -b src.raw "$t/nofmt.qcow2"
one_line bad-cluster-size 1 "$IMG" create -f qcow2 -o cluster_size=1000 "$t/bad.qcow2" 1M
one_line unknown-format 1 "$IMG" create -f vdi "$t/bad.vdi" 1M
one_line no-such-snapshot 1 "$IMG" snapshot -d nosuch "$t/vs.qcow2"
one_line compare-missing 2 "$IMG" compare "$t/src.raw" "$t/nonexistent.raw"
one_line map-compressed 1 "$IMG" map "$t/vc.qcow2"
[ $passes = $WANT_PASSES ] ||
	fail img/complete "$passes checks passed, $WANT_PASSES expected: one ended without a verdict"
exit $failed
