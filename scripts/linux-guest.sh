#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Fetches Debian's current cloud kernel and busybox-static and builds a gzip
# cpio initramfs for them, under build/linux/:
#   vmlinuz          the kernel (bzImage), as Debian ships it
#   initramfs.cpio.gz busybox, /init from guests/linux/, the kernel's virtio and pvpanic
#                    modules, mke2fs (as mkfs.ext4) and its libraries from the host
#   version          the kernel release (uname -r)
# LINUX_GUEST_TOOLS adds more host programs (with their libraries), and
# LINUX_OUT builds elsewhere: bench/virtio makes a variant with fio and iperf3.
# The kernel version is resolved at run time; inputs unchanged -> nothing is redone.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
out=${LINUX_OUT:-$top/build/linux}
tools="mke2fs ${LINUX_GUEST_TOOLS:-}"
mkdir -p "$out/dl"

need=()
for p in cpio gzip busybox-static e2fsprogs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
	echo "linux-guest: installing ${need[*]}" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq && apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# The package the metapackage points at today: linux-image-<abi>-cloud-amd64.
pkg=$(apt-cache depends linux-image-cloud-amd64 2>/dev/null |
	awk '/Depends: linux-image-[0-9]/ { print $2; exit }')
if [ -z "$pkg" ]; then
	apt-get update -qq
	pkg=$(apt-cache depends linux-image-cloud-amd64 | awk '/Depends: linux-image-[0-9]/ { print $2; exit }')
fi
[ -n "$pkg" ] || { echo "linux-guest: cannot resolve linux-image-cloud-amd64" >&2; exit 1; }
release=${pkg#linux-image-}

stamp="$pkg $tools $(sha256sum "$top/guests/linux/init" "$top/guests/linux/profile" "$0" | sha256sum | cut -c1-16)"
if [ -f "$out/stamp" ] && [ "$(cat "$out/stamp")" = "$stamp" ] &&
   [ -f "$out/vmlinuz" ] && [ -f "$out/initramfs.cpio.gz" ]; then
	exit 0
fi

cd "$out/dl"
ls ${pkg}_*.deb >/dev/null 2>&1 || apt-get download "$pkg" 2>/dev/null
rm -rf kernel && mkdir kernel && dpkg-deb -x ${pkg}_*.deb kernel
cp "kernel/boot/vmlinuz-$release" "$out/vmlinuz"

root=$out/root
rm -rf "$root"
mkdir -p "$root"/{bin,sbin,etc,proc,sys,dev,tmp,root,lib/modules}
cp /bin/busybox "$root/bin/busybox"
ln -s busybox "$root/bin/sh"
install -m 755 "$top/guests/linux/init" "$root/init"
cp "$top/guests/linux/profile" "$root/etc/profile"
# The virtio drivers, pvpanic (ACPI QEMU0001: a panic ends vmon) and what they
# need: the rest of the kernel's modules stay out.
kmods=kernel/lib/modules/$release
mkdir -p "$root/lib/modules/$release"
(cd "$kmods" && find kernel -name '*.ko*' \( -path '*virtio*' -o -name 'ext4.ko*' -o -name 'jbd2.ko*' \
	-o -name 'mbcache.ko*' -o -name 'crc16.ko*' -o -name 'crc32c_generic.ko*' -o -name 'libcrc32c.ko*' \
	-o -name 'net_failover.ko*' -o -name 'failover.ko*' -o -name 'rng-core.ko*' \
	-o -name 'pvpanic.ko*' -o -name 'pvpanic-mmio.ko*' \) -print0 |
	cpio -0 -pdm --quiet "$root/lib/modules/$release")
cp "$kmods"/modules.order "$kmods"/modules.builtin* "$root/lib/modules/$release/" 2>/dev/null || true
/bin/busybox depmod -b "$root" "$release"

# Host programs the tests need, with the shared libraries ldd names.
for t in $tools; do
	bin=$(command -v "$t" || true)
	[ -n "$bin" ] || { echo "linux-guest: $t not found on the host" >&2; exit 1; }
	for f in "$bin" $(ldd "$bin" | grep -o '/[^ ]*'); do
		mkdir -p "$root$(dirname "$f")"
		cp -L "$f" "$root$f"
	done
	ln -sf "$bin" "$root/bin/$(basename "$bin")"
done
ln -sf "$(command -v mke2fs)" "$root/bin/mkfs.ext4"

(cd "$root" && find . -print0 | cpio -0 -o -H newc --quiet | gzip -9 -n) >"$out/initramfs.cpio.gz.tmp"
mv "$out/initramfs.cpio.gz.tmp" "$out/initramfs.cpio.gz"
echo "$release" >"$out/version"
echo "$stamp" >"$out/stamp"
echo "linux-guest: $release, initramfs $(du -h "$out/initramfs.cpio.gz" | cut -f1)" >&2
