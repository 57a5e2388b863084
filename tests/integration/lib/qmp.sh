# SPDX-License-Identifier: Apache-2.0
# Sourced by tests that drive vmon through its QMP socket.

# qmp SOCKET JSON: connects, negotiates, sends one command and prints its
# reply (the "return" or "error" object) on one line; events are skipped.
# Waits up to QMP_WAIT seconds (default 20) for the socket to appear.
qmp() {
	python3 - "$1" "$2" "${QMP_WAIT:-20}" <<'EOF'
import json, os, socket, sys, time
path, cmd, wait = sys.argv[1], sys.argv[2], float(sys.argv[3])
end = time.time() + wait
while not os.path.exists(path) and time.time() < end:
    time.sleep(0.1)
s = socket.socket(socket.AF_UNIX)
s.settimeout(600)
s.connect(path)
f = s.makefile("rw")
def reply():
    while True:
        line = f.readline()
        if not line:
            sys.exit("qmp: connection closed")
        msg = json.loads(line)
        if "return" in msg or "error" in msg:
            return msg
json.loads(f.readline())                      # greeting
f.write('{"execute": "qmp_capabilities"}\n'); f.flush()
reply()
f.write(cmd + "\n"); f.flush()
print(json.dumps(reply(), sort_keys=True))
EOF
}
