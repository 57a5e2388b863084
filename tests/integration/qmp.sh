#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# vmon's QMP control socket (--qmp, docs/qmp.md), live: build/guests/ticker.elf
# prints ticks on the serial port while real clients drive vmon, socat and
# tests/integration/qmp_client.py (Python, standard library only).  Per
# accelerator in ACCELS (default "kvm emu"), three runs:
#   session    socat's greeting and negotiation, binary noise through socat,
#              a second vmon on the same socket refused, then the Python
#              client's session (every command, stop/cont against the serial
#              output, events, bad input of many kinds, split and batched
#              input, floods, clients one after another, migrate), ending
#              in quit: status 0, SHUTDOWN host-qmp-quit, the socket removed;
#              then vmon run --restore of the migrate file goes on ticking
#   powerdown  system_powerdown: POWERDOWN, the guest powers off, status 0
#   reset      system_reset (RESET, SHUTDOWN) from a socket left stale by
#              an earlier process, then quit through socat
# and, once, the --qmp errors that end vmon with status 2 before any guest.
# Prints PASS/FAIL/SKIP lines for tests/run.sh; exits 1 on any FAIL.
set -u
cd "$(dirname "$0")/../.." || exit 1

VMON=${VMON:-build/vmon}
G=build/guests
ACCELS=${ACCELS:-kvm emu}
CLIENT=tests/integration/qmp_client.py
T=${RUN_TIMEOUT:-60}

tmp=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done     # timeout passes it on
	rm -rf "$tmp"
}
trap cleanup EXIT
failed=0
ulimit -c 0         # a crash must show in the status, not litter core files

pass() { echo "PASS $1"; }
fail() {
	echo "FAIL $1: $2"
	failed=1
}
check() {           # check LABEL WHY: PASS when WHY is empty
	if [ -z "$2" ]; then pass "$1"; else fail "$1" "$2"; fi
}

# start NAME ACCEL [ARGS...]: vmon runs ticker.elf with its QMP socket at
# $tmp/NAME.sock and serial output in $tmp/NAME.serial; PID is set.  Returns
# once the socket exists and the guest ticks, 1 if that does not happen.
start() {
	local name=$1 accel=$2 i
	shift 2
	: >"$tmp/$name.serial"
	timeout "$T" "$VMON" run -q --accel "$accel" --serial "file:$tmp/$name.serial" \
		--kernel $G/ticker.elf --cmdline seconds=$((T + 30)) \
		--qmp "unix:$tmp/$name.sock,server=on,wait=off" "$@" \
		</dev/null >"$tmp/$name.out" 2>"$tmp/$name.err" &
	PID=$!
	pids+=("$PID")
	for ((i = 0; i < 100; i++)); do
		[ -S "$tmp/$name.sock" ] && grep -q '^ticker: tick' "$tmp/$name.serial" && return 0
		kill -0 "$PID" 2>/dev/null || break
		sleep 0.1
	done
	return 1
}

# finish LABEL NAME: vmon must end by itself with status 0, quietly, taking
# its socket file with it.
finish() {
	local label=$1 name=$2 rc why=
	wait "$PID"
	rc=$?
	if [ "$rc" = 124 ]; then
		why="vmon still running after ${T}s"
	elif [ "$rc" != 0 ]; then
		why="vmon exit status $rc, expected 0"
	elif [ -e "$tmp/$name.sock" ]; then
		why="the socket file is still there"
	elif [ -s "$tmp/$name.err" ]; then
		why="stderr: $(head -n 1 "$tmp/$name.err")"
	fi
	check "$label" "$why"
}

# qmp_socat SOCKET: stdin to the socket, its output to stdout.
qmp_socat() {
	timeout 20 socat -t 5 - "UNIX-CONNECT:$1"
}

# Line N of FILE (CRs dropped).
line() { tr -d '\r' <"$2" | sed -n "$1p"; }

socat_negotiate() {
	local label=$1 sock=$2 out=$tmp/socat.out why=
	printf '%s\n' '{"execute":"qmp_capabilities"}' '{"execute":"query-status","id":"s1"}' |
		qmp_socat "$sock" >"$out"
	if ! line 1 "$out" | grep -q '^{"QMP": {"version": {"qemu": {.*"package": "vmon .*"capabilities": \[\]}}$'; then
		why="greeting: '$(line 1 "$out")'"
	elif [ "$(line 2 "$out")" != '{"return": {}}' ]; then
		why="qmp_capabilities: '$(line 2 "$out")'"
	elif ! line 3 "$out" | grep -q '^{"return": {"status": "running", .*"id": "s1"}$'; then
		why="query-status: '$(line 3 "$out")'"
	elif [ "$(grep -c . "$out")" != 3 ]; then
		why="$(grep -c . "$out") lines, expected 3"
	fi
	check "$label/socat-negotiate" "$why"
}

# Random bytes, then "\x01" alone on a line (no JSON has it outside a string,
# so whatever the noise left open ends there), then one real command: every
# reply before the last must be an error, the last a status.
socat_noise() {
	local label=$1 sock=$2 out=$tmp/noise.out n bad
	{
		echo '{"execute":"qmp_capabilities"}'
		head -c 262144 /dev/urandom
		printf '\n\001\n{"execute":"query-status","id":"after-noise"}\n'
	} | qmp_socat "$sock" >"$out"
	n=$(tr -d '\r' <"$out" | sed '1,2d;$d' | grep -c .)
	bad=$(tr -d '\r' <"$out" | sed '1,2d;$d' | grep -vc '^{"error": {"class": "GenericError", ')
	if ! tr -d '\r' <"$out" | tail -n 1 | grep -q '"status": "running".*"id": "after-noise"'; then
		fail "$label/socat-noise" "last reply '$(tr -d '\r' <"$out" | tail -n 1 | head -c 200)'"
	elif [ "$n" = 0 ] || [ "$bad" != 0 ]; then
		fail "$label/socat-noise" "$n replies to the noise, $bad of them not GenericError"
	else
		pass "$label/socat-noise"
	fi
}

# A second vmon on a socket that is being served must refuse, not steal it.
socket_in_use() {
	local label=$1 sock=$2 rc
	timeout 10 "$VMON" run --accel emu --serial none --kernel $G/ticker.elf \
		--qmp "unix:$sock" </dev/null >/dev/null 2>"$tmp/busy.err"
	rc=$?
	if [ "$rc" = 2 ] && grep -q 'another process' "$tmp/busy.err" && [ -S "$sock" ]; then
		pass "$label/socket-in-use"
	else
		fail "$label/socket-in-use" "status $rc, stderr '$(head -n 1 "$tmp/busy.err")'"
	fi
}

make_disks() {
	qemu-img create -q -f raw "$tmp/raw.img" 1M &&
		qemu-img create -q -f qcow2 "$tmp/base.qcow2" 16M &&
		qemu-img create -q -f qcow2 -b "$tmp/base.qcow2" -F qcow2 "$tmp/top.qcow2"
}

run_session() {
	local accel=$1 sock=$tmp/$1-session.sock
	if ! start "$accel-session" "$accel" --cpus 2 --disk "$tmp/raw.img" \
		--disk "$tmp/top.qcow2,readonly=on"; then
		fail "$accel/session" "vmon did not start: $(head -n 1 "$tmp/$accel-session.err")"
		return
	fi
	socat_negotiate "$accel" "$sock"
	socat_noise "$accel" "$sock"
	socket_in_use "$accel" "$sock"
	python3 $CLIENT session "$accel" "$sock" "$tmp/$accel-session.serial" "$PID" 2 "$accel" \
		"$tmp/$accel.snap" "$tmp/raw.img:raw:rw:1048576:0" \
		"$tmp/top.qcow2:qcow2:ro:16777216:1" || failed=1
	finish "$accel/session-exit" "$accel-session"
}

# The session's migrate file: vmon run --restore continues the guest (its
# ticks resume where the snapshot left them) and quits through QMP.
run_restore() {
	local accel=$1 name=$1-restore out=$tmp/restore-quit.out i
	if [ ! -s "$tmp/$accel.snap" ]; then
		fail "$accel/restore" "the session left no snapshot"
		return
	fi
	: >"$tmp/$name.serial"
	timeout "$T" "$VMON" run -q --restore "$tmp/$accel.snap" --serial "file:$tmp/$name.serial" \
		--qmp "unix:$tmp/$name.sock" </dev/null >"$tmp/$name.out" 2>"$tmp/$name.err" &
	PID=$!
	pids+=("$PID")
	for ((i = 0; i < 100; i++)); do
		[ -S "$tmp/$name.sock" ] && grep -q 'tick' "$tmp/$name.serial" && break
		sleep 0.1
	done
	printf '%s\n' '{"execute":"qmp_capabilities"}' '{"execute":"query-status"}' \
		'{"execute":"quit"}' | qmp_socat "$tmp/$name.sock" >"$out"
	if grep -q '^ticker: tick' "$tmp/$name.serial" && ! grep -q '^ticker: running' "$tmp/$name.serial" &&
		line 3 "$out" | grep -q '"status": "running"'; then
		pass "$accel/restore"
	else
		fail "$accel/restore" "serial '$(head -c 80 "$tmp/$name.serial")', status '$(line 3 "$out")', stderr '$(head -n 1 "$tmp/$name.err")'"
	fi
	finish "$accel/restore-exit" "$name"
}

run_powerdown() {
	local accel=$1
	if ! start "$accel-pd" "$accel"; then
		fail "$accel/powerdown" "vmon did not start: $(head -n 1 "$tmp/$accel-pd.err")"
		return
	fi
	python3 $CLIENT powerdown "$accel" "$tmp/$accel-pd.sock" "$tmp/$accel-pd.serial" || failed=1
	finish "$accel/powerdown-exit" "$accel-pd"
	if grep -q '^ticker: power button$' "$tmp/$accel-pd.serial"; then
		pass "$accel/powerdown-guest"
	else
		fail "$accel/powerdown-guest" "the guest never saw the power button"
	fi
}

# A socket file left behind by a process that is gone.
stale_socket() {
	python3 -c 'import socket, sys; s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' "$1"
}

run_reset() {
	local accel=$1 sock=$tmp/$1-reset.sock out=$tmp/quit.out
	stale_socket "$sock"
	if ! start "$accel-reset" "$accel"; then
		fail "$accel/stale-socket" "vmon did not start: $(head -n 1 "$tmp/$accel-reset.err")"
		return
	fi
	pass "$accel/stale-socket"
	python3 $CLIENT reset "$accel" "$sock" || failed=1
	finish "$accel/reset-exit" "$accel-reset"

	start "$accel-quit" "$accel" || { fail "$accel/socat-quit" "vmon did not start"; return; }
	printf '%s\n' '{"execute":"qmp_capabilities"}' '{"execute":"quit"}' |
		qmp_socat "$tmp/$accel-quit.sock" >"$out"
	# QEMU's order: the SHUTDOWN that quit causes, then quit's reply.
	if line 3 "$out" | grep -q '"event": "SHUTDOWN", "data": {"guest": false, "reason": "host-qmp-quit"}}$' &&
		[ "$(line 4 "$out")" = '{"return": {}}' ]; then
		pass "$accel/socat-quit"
	else
		fail "$accel/socat-quit" "replies '$(tr -d '\r' <"$out" | sed 1d | tr '\n' ' ')'"
	fi
	finish "$accel/socat-quit-exit" "$accel-quit"
}

# usage NAME WORD ARGS...: vmon --qmp ARGS must end with status 2 and one
# stderr line mentioning WORD, before any guest runs.
usage() {
	local name=$1 word=$2 rc
	shift 2
	timeout 10 "$VMON" run --accel emu --serial none --kernel $G/ticker.elf "$@" \
		</dev/null >/dev/null 2>"$tmp/usage.err"
	rc=$?
	if [ "$rc" = 2 ] && [ "$(wc -l <"$tmp/usage.err")" = 1 ] &&
		grep -q "^vmon: .*$word" "$tmp/usage.err"; then
		pass "option/$name"
	else
		fail "option/$name" "status $rc, stderr '$(head -n 2 "$tmp/usage.err" | tr '\n' ' ')'"
	fi
}

option_errors() {
	: >"$tmp/regular"
	usage not-a-socket "not a socket" --qmp "unix:$tmp/regular"
	[ -f "$tmp/regular" ] || fail option/not-a-socket-kept "vmon removed the regular file"
	usage no-directory "No such file" --qmp "unix:$tmp/no/such/dir/q.sock"
	usage tcp "unix:PATH" --qmp tcp:127.0.0.1:4444,server,nowait
	usage wait-on "wait=on" --qmp "unix:$tmp/w.sock,server=on,wait=on"
	usage bad-disk "no-such.img" --qmp "unix:$tmp/d.sock" --disk "$tmp/no-such.img"
	[ ! -e "$tmp/d.sock" ] || fail option/bad-disk-no-socket "the socket file was left behind"
}

# Why ACCEL cannot be tested here, or nothing when it can.
skip_reason() {
	local accel=$1 rc
	if [ "$accel" = kvm ] && ! { [ -r /dev/kvm ] && [ -w /dev/kvm ]; }; then
		echo "/dev/kvm cannot be opened for reading and writing"
		return
	fi
	timeout 20 "$VMON" run -q --accel "$accel" --serial none --kernel $G/ticker.elf \
		--cmdline seconds=0 </dev/null >/dev/null 2>"$tmp/probe.err"
	rc=$?
	if [ "$rc" = 2 ]; then
		echo "vmon --accel $accel unavailable: $(head -n 1 "$tmp/probe.err" | sed 's/^vmon: //')"
	fi
}

if [ ! -x "$VMON" ] || [ ! -e $G/ticker.elf ]; then
	echo "FAIL qmp: $VMON or $G/ticker.elf not built (run 'make all guests')"
	exit 1
fi
for tool in socat python3 qemu-img; do
	if ! command -v $tool >/dev/null; then
		echo "SKIP qmp: $tool not installed (scripts/deps.sh test installs it)"
		exit 0
	fi
done
make_disks || { echo "FAIL qmp: qemu-img could not create the test disks"; exit 1; }

option_errors
for accel in $ACCELS; do
	reason=$(skip_reason "$accel")
	if [ -n "$reason" ]; then
		echo "SKIP $accel/qmp: $reason"
		continue
	fi
	run_session "$accel"
	run_restore "$accel"
	run_powerdown "$accel"
	run_reset "$accel"
done
exit $failed
