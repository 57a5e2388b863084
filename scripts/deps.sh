#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Installs the Debian packages that building and testing vmon need, when missing.
# Usage: scripts/deps.sh [build|test|bench]   (default: test, which includes build)
set -eu

build_pkgs=(gcc make binutils libc6-dev liblz4-dev liblzma-dev zlib1g-dev libzstd-dev libbz2-dev liburing-dev libjansson-dev)
test_pkgs=(clang libclang-rt-14-dev qemu-utils socat python3)
bench_pkgs=(qemu-system-x86 time fio iperf3)

case "${1:-test}" in
build) want=("${build_pkgs[@]}") ;;
test)  want=("${build_pkgs[@]}" "${test_pkgs[@]}") ;;
bench) want=("${build_pkgs[@]}" "${bench_pkgs[@]}") ;;
*) echo "usage: $0 [build|test|bench]" >&2; exit 2 ;;
esac

missing=()
for p in "${want[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "deps: installing ${missing[*]}" >&2
sudo=
[ "$(id -u)" -eq 0 ] || sudo=sudo
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
