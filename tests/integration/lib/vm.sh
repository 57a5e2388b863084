# SPDX-License-Identifier: Apache-2.0
# Sourced by the integration tests that drive a guest's shell: vmon runs in
# the background with stdin from a FIFO; the test waits for text in what the
# guest prints and types commands.  Needs $tmp (a scratch directory).
# Input sent before Linux opens a console is lost (opening the 8250 clears
# its FIFO, as on hardware): wait for the shell's prompt first.

# A guest that died must fail the test, not kill it: writes to its FIFO
# then fail with EPIPE instead of raising SIGPIPE.
trap '' PIPE

# vm_start NAME CMD...: runs CMD (vmon and its arguments) with stdout in
# $tmp/NAME.out and stderr in $tmp/NAME.err.  Sets VM_PID.
vm_start() {
	local name=$1
	shift
	: >"$tmp/$name.out"
	rm -f "$tmp/vm.in"
	mkfifo "$tmp/vm.in"
	"$@" <"$tmp/vm.in" >"$tmp/$name.out" 2>"$tmp/$name.err" &
	VM_PID=$!
	exec 3>"$tmp/vm.in"
}

# vm_wait FILE PATTERN [SECONDS]: 0 once FILE holds PATTERN (grep -E), 1 if
# vmon exited or the time ran out first.
vm_wait() {
	local file=$1 pat=$2 left=$((${3:-600} * 2))
	while ! tr -d '\r' <"$file" | grep -qE "$pat"; do
		kill -0 "$VM_PID" 2>/dev/null || return 1
		left=$((left - 1))
		[ "$left" -gt 0 ] || return 1
		sleep 0.5
	done
}

# vm_send TEXT: types TEXT and a newline.
vm_send() {
	printf '%s\n' "$1" >&3 2>/dev/null
}

# vm_finish: waits for vmon to exit; its status in $rc.
vm_finish() {
	wait "$VM_PID" 2>/dev/null
	rc=$?
	exec 3>&-
}

# vm_value FILE KEY: the first "KEY=value" line's value (after any prompts,
# which share the line when the terminal does not echo).
vm_value() {
	tr -d '\r' <"$1" | sed 's/^\(vmon# \)*//' | sed -n "s/^$2=//p" | head -1
}
