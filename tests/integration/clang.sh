#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The house rule that C is gcc and clang clean with -Wall -Wextra -Werror:
# make test builds with gcc, and this checks every host C file (src/,
# tests/unit/, tests/diff/, tests/tools/, tests/fuzz/) with clang, front end
# only (-fsyntax-only, where those warnings come from), with the Makefile's
# warning flags.  One PASS, or a FAIL naming each file clang refuses.
set -u
cd "$(dirname "$0")/../.."
CLANG=${CLANG:-clang}
if ! command -v "$CLANG" >/dev/null 2>&1; then
	echo "SKIP clang: clang not installed (scripts/deps.sh test)"; exit 0
fi
warn=$(sed -n 's/^WARN *:= *//p' Makefile)
[ -n "$warn" ] || { echo "FAIL clang: no WARN flags in the Makefile"; exit 1; }
failed=0 n=0
for f in $(git ls-files 'src/*.c' 'tests/unit/*.c' 'tests/diff/*.c' 'tests/tools/*.c' 'tests/fuzz/*.c'); do
	n=$((n + 1))
	# shellcheck disable=SC2086  # $warn is a list of flags
	if ! out=$("$CLANG" -std=gnu11 $warn -D_GNU_SOURCE -Isrc -Itests/unit -Itests/diff \
		-fsyntax-only "$f" 2>&1); then
		echo "FAIL clang/$f: $(echo "$out" | grep -m1 'error')"
		failed=1
	fi
done
[ $failed = 0 ] && echo "PASS clang/syntax: $n files clean with $warn"
exit $failed
