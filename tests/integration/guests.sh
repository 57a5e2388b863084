#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Runs every test guest (build/guests/, `make guests`) under build/vmon and
# checks its serial output and vmon's exit status.  One table of
# (guest, expected status, expected output, args), run once per entry of
# ACCELS (default "kvm emu": KVM and the software CPU).  Two extra runners
# check the guests themselves against QEMU: ACCELS="qemu-tcg" or "qemu-kvm".
# Prints PASS/FAIL/SKIP lines for tests/run.sh; exits 1 on any FAIL.
set -u
cd "$(dirname "$0")/../.."

VMON=${VMON:-build/vmon}
G=build/guests
ACCELS=${ACCELS:-kvm emu}
RUN_TIMEOUT=${RUN_TIMEOUT:-30}
QEMU=${QEMU:-qemu-system-x86_64}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failed=0

printf 'MODULE-DATA-1234 and the rest of the module\n' >"$tmp/mod.txt"
printf 'hello, world\nabcq' >"$tmp/echo-in.txt"

# ---- the table --------------------------------------------------------
# row NAME STATUS PATTERNS QEMU_PATTERNS STDIN -- VMON-ARGS...
#   STATUS: vmon's exit status (33 = debug-exit GUEST_PASS, 0 = power off,
#   3 = triple fault).  PATTERNS: extended regexps separated by ';;', each
#   must match a line of the serial output.  QEMU_PATTERNS: the same for the
#   QEMU runners, '=' when identical.  STDIN: file fed to --serial stdio,
#   '-' for none (serial then goes to a file).
NAMES=() STATUS=() PATS=() QPATS=() STDINS=() ARGS=() SKIP_ON=() SKIP_WHY=()
row() {
	NAMES+=("$1") STATUS+=("$2") PATS+=("$3") QPATS+=("$4") STDINS+=("$5")
	SKIP_ON+=("") SKIP_WHY+=("")
	shift 6
	local IFS=$'\x1f'
	ARGS+=("$*")
}
# skip_on ACCEL REASON: the last row cannot run under ACCEL on this host.
skip_on() {
	local last=$((${#NAMES[@]} - 1))
	SKIP_ON[$last]=$1 SKIP_WHY[$last]=$2
}

row realmode 33 '^realmode: ok$' = - -- --flat --kernel $G/realmode.bin
row protmode 33 "^protmode: cmdline '(.* )?hello world';;^protmode: 2 modules;;^protmode: module 0 .* begins \"MODULE-DATA-1234\";;^protmode: module 1 .* begins \"MODULE-DATA-1234\";;^protmode: mmap base=0x100000 .*type=1$;;^protmode: ok$" = - \
	-- --kernel $G/protmode.elf --cmdline 'hello world' --initrd "$tmp/mod.txt,$tmp/mod.txt" --mem 128M
row protmode-aout 33 '^protmode: ok$' = - -- --kernel $G/protmode-aout.bin --mem 64M
row longmode 33 '^longmode: ok cr0=0x8' = - -- --kernel $G/longmode.elf
row usermode 33 '^usermode: 1000 syscalls and a page fault from ring 3$;;^usermode: ok$' = - \
	-- --kernel $G/usermode.elf
for n in 1 2 4; do
	p="^smp: fw_cfg says $n cpus, the MADT lists $n$;;^smp: $n cpus online$;;^cpu 0: apic id 0 \\(bsp\\)$"
	for ((i = 1; i < n; i++)); do p+=";;^cpu $i: apic id $i$"; done
	row smp-$n 33 "$p" = - -- --kernel $G/smp.elf --cpus $n
done
row smp-nmi 33 '^smp: 2 cpus online$;;^smp: 50 NMIs, none inside a MOV SS shadow$' = - \
	-- --kernel $G/smp.elf --cpus 2 --cmdline nmi
skip_on qemu-tcg "QEMU TCG delivers NMIs inside a MOV SS shadow (hardware and KVM hold them)"
row uart-echo-pic 33 '^HELLO, WORLD$;;^ABC$;;^uart-echo: bye after 17 bytes in [1-9][0-9]* interrupts$' = "$tmp/echo-in.txt" \
	-- --kernel $G/uart-echo.elf
row uart-echo-ioapic 33 '^HELLO, WORLD$;;^ABC$;;^uart-echo: bye after 17 bytes in [1-9][0-9]* interrupts$' = "$tmp/echo-in.txt" \
	-- --kernel $G/uart-echo.elf --cmdline ioapic
# QEMU's multiboot path leaves the fw_cfg command line empty; vmon fills it.
row fwcfg 33 "^fwcfg: io: signature QEMU id 0x[0-9a-f]*[2367] \\(dma\\)$;;^fwcfg: io: cpus 3$;;^fwcfg: io: ram 192 MiB$;;^fwcfg: io: cmdline size [0-9]+ 'fw cfg test'$;;^fwcfg: dma: cpus 3$;;^fwcfg: [0-9]+ files$;;^fwcfg: ok$" \
	"^fwcfg: io: cpus 3$;;^fwcfg: io: ram 192 MiB$;;^fwcfg: ok$" - \
	-- --kernel $G/fwcfg.elf --cpus 3 --mem 192M --cmdline 'fw cfg test'
row acpi 0 '^acpi: table (RSDT|XSDT) ;;^acpi: table FACP ;;^acpi: table APIC ;;^acpi: table DSDT ;;^acpi: madt cpus 2 ioapic 0xfec00000$;;^acpi: pm1a_cnt 0x604 ;;^acpi: powering off$' = - \
	-- --kernel $G/acpi.elf --cpus 2
row timer-pic 33 '^timer: [0-9]+ ticks via pic$;;^timer: [0-9]+ ticks after cr4 \|= 0x100000$;;^timer: ok$' = - \
	-- --kernel $G/timer.elf --cmdline cr4=0x100000
row timer-ioapic 33 '^timer: [0-9]+ ticks via ioapic$;;^timer: ok$' = - \
	-- --kernel $G/timer.elf --cmdline ioapic
row timer-busy 33 '^timer: [0-9]+ ticks via ioapic, busy$;;^timer: ok$' = - \
	-- --kernel $G/timer.elf --cmdline 'ioapic busy'
row portbench 33 '^exit cycles: user=[0-9]+$;;^exit cycles: kernel=[0-9]+$;;^portbench: ok$' = - \
	-- --kernel $G/portbench.elf --cmdline n=1000
# The checksum is the loop's result, the same on every CPU (QEMU TCG too).
row emubench 33 '^emubench: n=100000 insns=2000000 checksum=7d3f2ccdd132ad05$;;^emubench: ok$' = - \
	-- --kernel $G/emubench.elf --cmdline n=100000
row tasks-gates 33 '^tasks: same-level call gate: cs=0x8, return cs 0x8 on the stack$;;^tasks: ring 3 -> 0 call gate: cs=0x8 ss=0x10 esp=esp0-24$;;^tasks: frame eip=set cs=0x1b params 0x2222 0x1111 ss=0x23 esp=before-params$;;^tasks: back in ring 3 with cs=0x1b after retf 8$;;^tasks: ring 3 fault: vector 13 error 0x58$;;^tasks: ring 3 fault: vector 11 error 0x60$;;^tasks: ok$' = - \
	-- --kernel $G/tasks.elf --cmdline only=gates
[ -e /sys/module/kvm_pvm ] &&
	skip_on kvm "kvm_pvm runs ring 3 natively and raises #UD for a far CALL through a call gate"
row tasks-switch 33 '^tasks: call tss: A ran 1 times, its NT=1 TR=0x30 link=0x28; back: TR=0x28 NT=0 TS=1 A type 0x9$;;^tasks: call task gate: A ran 2 times, its NT=1 TR=0x30 link=0x28; back: TR=0x28 NT=0 TS=1 A type 0x9$;;^tasks: jmp tss: A ran 3 times, its NT=0 TR=0x30 link=0x0; back: TR=0x28 NT=0 TS=1 A type 0x9$;;^tasks: jmp to the busy current task: #GP error 0x28$;;^tasks: int through a task gate: B ran 1 times, NT=1 link=0x28$;;^tasks: #GP through a task gate: C ran 1 times, error 0x1000, ds still 0x10$;;^tasks: ok$' = - \
	-- --kernel $G/tasks.elf --cmdline only=tasks
row sysarch-v86 33 '^v86: 8086 code at IOPL 0 writes COM1 through the I/O bitmap$;;^sysarch: v86 frame on the ring 0 stack: esp0-40, ss:sp=0x3000:0xfffe es=0x4100 ds=0x4000 fs=0x5000 gs=0x6000$;;^sysarch: v86 #GP\(0x0\) at 0x2000:0x6 cli, VM=1 in the frame, VM=0 IF=0 now$;;^sysarch: v86 #GP\(0x0\) at 0x2000:0x7 sti, VM=1 in the frame, VM=0 IF=0 now$;;^sysarch: v86 #GP\(0x0\) at 0x2000:0x8 pushf, VM=1 in the frame, VM=0 IF=0 now$;;^sysarch: v86 #GP\(0x0\) at 0x2000:0x9 popf, VM=1 in the frame, VM=0 IF=0 now$;;^sysarch: v86 #GP\(0x0\) at 0x2000:0xa int n, VM=1 in the frame, VM=0 IF=0 now$;;^sysarch: v86 int 0x3 from 0x2000:0xd ax=0xa, ds at entry 0x0, VM=1 IOPL=0 in the frame$;;^sysarch: v86 #GP\(0x0\) at 0x2000:0xf out imm8, VM=1 in the frame, VM=0 IF=0 now$;;^sysarch: v86 #GP\(0x0\) at 0x2000:0x15 in dx, VM=1 in the frame, VM=0 IF=0 now$;;^sysarch: v86 #GP\(0x0\) at 0x2000:0x19 in dx, VM=1 in the frame, VM=0 IF=0 now$;;^v86: 8086 code at IOPL 0 done$;;^sysarch: v86 #GP\(0x0\) at 0x2000:0x20 hlt, VM=1 in the frame, VM=0 IF=0 now$;;^sysarch: back from IOPL 0, eflags 0x2$;;^v86: 8086 code at IOPL 3$;;^sysarch: v86 int 0x30 from 0x2000:0x40 ax=0x1234, ds at entry 0x0, VM=1 IOPL=3 in the frame$;;^sysarch: v86 #GP\(0x0\) at 0x2000:0x59 out imm8, VM=1 in the frame, VM=0 IF=0 now$;;^v86: 8086 code at IOPL 3 done$;;^sysarch: v86 #GP\(0x0\) at 0x2000:0x61 hlt, VM=1 in the frame, VM=0 IF=0 now$;;^sysarch: IOPL 3 flags: after cli 0x3046, after sti 0x3246, after popf of 0 0x3002$;;^sysarch: IOPL 3 int 0x30 returned ax=0x5678 ds=0x4000 sp=0xfffe; iret in v86: 0xaaaa$;;^sysarch: ok$' = - \
	-- --kernel $G/sysarch.elf --cmdline only=v86
[ -e /sys/module/kvm_pvm ] &&
	skip_on kvm "kvm_pvm does not run virtual-8086 mode (its interrupt frames from there lack GS/FS/DS/ES)"
row sysarch-tss16 33 '^sysarch: call tss16: A ran 1 times, its NT=1 TR=0x30 link=0x28; back: TR=0x28 NT=0 A type 0x1$;;^sysarch: call tss16: TSS A saved ip=0x15 flags=0x2 ax=0xbeef bx=0x1111 sp=0x1000 cs=0x38 ss=0x48 ds=0x40 es=0x40$;;^sysarch: call task gate: A ran 2 times, its NT=1 TR=0x30 link=0x28; back: TR=0x28 NT=0 A type 0x1$;;^sysarch: call task gate: TSS A saved ip=0x15 flags=0x2 ax=0xbeef bx=0x1111 sp=0x1000 cs=0x38 ss=0x48 ds=0x40 es=0x40$;;^sysarch: int task gate: A ran 3 times, its NT=1 TR=0x30 link=0x28; back: TR=0x28 NT=0 A type 0x1$;;^sysarch: int task gate: TSS A saved ip=0x15 flags=0x6 ax=0xbeef bx=0x1111 sp=0x1000 cs=0x38 ss=0x48 ds=0x40 es=0x40$;;^sysarch: #GP through a task gate to a 16-bit TSS: B ran 1 times, error 0x1000, sp before the pop 0xffe, ds still 0x10$;;^sysarch: ok$' = - \
	-- --kernel $G/sysarch.elf --cmdline only=tss16
row sysarch64-gates 33 '^sysarch64: same-level 64-bit call gate: cs=0x8, frame cs=0x8 rip=after the call, rsp=caller-16$;;^sysarch64: ring 3 -> 0 64-bit call gate: cs=0x8 ss=0x0 rsp=rsp0-32$;;^sysarch64: frame rip=after the call cs=0x23 rsp=from the caller ss=0x1b$;;^sysarch64: back in ring 3 with cs=0x23, rsp restored after lretq$;;^sysarch64: ok$' = - \
	-- --kernel $G/sysarch64.elf
[ -e /sys/module/kvm_pvm ] &&
	skip_on kvm "kvm_pvm runs ring 3 natively and raises #UD for a far CALL through a call gate"
row triple 3 '^triple: faulting now$' = - -- --kernel $G/triple.elf

# ---- runners ----------------------------------------------------------
# Pipes FILE to a guest: the first line at once, the rest after a pause, so
# some input arrives while the guest sleeps in hlt and must wake it.
feed() {
	sed -n 1p "$1"
	sleep 0.5
	sed 1d "$1"
}

# run_vmon ACCEL STDIN OUT ARGS...: serial output into OUT; prints the status.
run_vmon() {
	local accel=$1 in=$2 out=$3
	shift 3
	if [ "$in" = - ]; then
		timeout "$RUN_TIMEOUT" "$VMON" run -q --accel "$accel" --serial "file:$out" "$@" \
			</dev/null >/dev/null 2>"$out.err"
	else
		feed "$in" | timeout "$RUN_TIMEOUT" "$VMON" run -q --accel "$accel" \
			--serial stdio "$@" >"$out" 2>"$out.err"
	fi
	echo $?
}

# The same run under QEMU, which implements the same ports: translate the args.
run_qemu() {
	local accel=${1#qemu-} in=$2 out=$3 q=() flat=0 kernel=
	shift 3
	# TCG's default CPU (qemu64) lacks what vmon's CPUID model has, SMEP
	# among them, and QEMU 7.2 spins on a MOV to CR4 that sets it.
	[ "$accel" = tcg ] && q+=(-cpu max)
	while [ $# -gt 0 ]; do
		case $1 in
		--flat) flat=1 ;;
		--kernel) kernel=$2; shift ;;
		--cmdline) q+=(-append "$2"); shift ;;
		--initrd) q+=(-initrd "$2"); shift ;;
		--mem) q+=(-m "$2"); shift ;;
		--cpus) q+=(-smp "$2"); shift ;;
		esac
		shift
	done
	if [ "$flat" = 1 ]; then
		q+=(-drive "file=$kernel,format=raw,if=floppy")
	else
		q+=(-kernel "$kernel")
	fi
	if [ "$in" = - ]; then
		q+=(-serial "file:$out")
		in=/dev/null
	else
		q+=(-serial stdio)
	fi
	feed "$in" | timeout "$RUN_TIMEOUT" "$QEMU" -accel "$accel" -M pc -display none \
		-no-reboot -device isa-debug-exit,iobase=0xf4,iosize=4 "${q[@]}" \
		>"$out.stdout" 2>"$out.err"
	local rc=$?
	[ -s "$out.stdout" ] && cat "$out.stdout" >>"$out"
	# QEMU has no "triple fault" status: with -no-reboot it exits 0.
	echo $rc
}

# check LABEL OUT STATUS WANT PATTERNS: prints PASS or FAIL for one run.
check() {
	local label=$1 out=$2 rc=$3 want=$4 pats=$5 pat why=
	if [ "$rc" = 124 ]; then
		why="timed out after ${RUN_TIMEOUT}s"
	elif [ "$rc" != "$want" ]; then
		why="exit status $rc, expected $want"
	else
		while IFS= read -r pat; do
			[ -z "$pat" ] && continue
			if ! grep -qE -- "$pat" "$out" 2>/dev/null; then
				why="no output line matches '$pat'"
				break
			fi
		done <<<"${pats//;;/$'\n'}"
	fi
	if [ -z "$why" ]; then
		echo "PASS $label"
		return
	fi
	echo "FAIL $label: $why"
	{ tail -n 5 "$out"; head -n 3 "$out.err"; } 2>/dev/null | sed 's/^/    /'
	failed=1
}

# Why ACCEL cannot be tested here, or nothing when it can.
skip_reason() {
	local accel=$1 rc
	case $accel in
	qemu-*)
		command -v "$QEMU" >/dev/null || { echo "$QEMU not installed"; return; }
		if [ "$accel" = qemu-kvm ] && ! { [ -r /dev/kvm ] && [ -w /dev/kvm ]; }; then
			echo "/dev/kvm cannot be opened"
		fi
		return ;;
	esac
	[ -x "$VMON" ] || { echo "$VMON not built"; return; }
	if [ "$accel" = kvm ] && ! { [ -r /dev/kvm ] && [ -w /dev/kvm ]; }; then
		echo "/dev/kvm cannot be opened for reading and writing"
		return
	fi
	# Probe: a configuration error (status 2) means the accelerator is unavailable.
	rc=$(run_vmon "$accel" - "$tmp/probe" --flat --kernel $G/realmode.bin)
	if [ "$rc" = 2 ]; then
		echo "vmon --accel $accel unavailable: $(head -n 1 "$tmp/probe.err" | sed 's/^vmon: //')"
	fi
}

if [ ! -e $G/realmode.bin ] || [ ! -e $G/triple.elf ]; then
	echo "FAIL guests: $G not built (run 'make guests')"
	exit 1
fi

for accel in $ACCELS; do
	reason=$(skip_reason "$accel")
	for i in "${!NAMES[@]}"; do
		label="$accel/${NAMES[$i]}"
		if [ -n "$reason" ]; then
			echo "SKIP $label: $reason"
			continue
		fi
		if [ "${SKIP_ON[$i]}" = "$accel" ]; then
			echo "SKIP $label: ${SKIP_WHY[$i]}"
			continue
		fi
		IFS=$'\x1f' read -r -a args <<<"${ARGS[$i]}"
		out="$tmp/$accel-${NAMES[$i]}.out"
		: >"$out"
		want=${STATUS[$i]} pats=${PATS[$i]}
		case $accel in
		qemu-*)
			rc=$(run_qemu "$accel" "${STDINS[$i]}" "$out" "${args[@]}")
			[ "$want" = 3 ] && want=0
			[ "${QPATS[$i]}" != = ] && pats=${QPATS[$i]}
			;;
		*)
			rc=$(run_vmon "$accel" "${STDINS[$i]}" "$out" "${args[@]}")
			;;
		esac
		check "$label" "$out" "$rc" "$want" "$pats"
	done
done
exit $failed
