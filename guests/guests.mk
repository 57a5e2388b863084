# SPDX-License-Identifier: Apache-2.0
# Test guests, built from source: see guests/README.md.
GUEST_BIN :=
guests: $(GUEST_BIN)
