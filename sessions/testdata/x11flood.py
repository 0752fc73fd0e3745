# x11flood opens N connections to $DISPLAY (sshd's X11 proxy, so perch's
# forwarder) and then, by MODE: "stall" sends nothing on them and holds them
# for HOLD seconds; "forged" sends a setup request with a forged cookie on
# each. It prints "open N" once all are connected, then runs xdpyinfo as a
# user's own program would and prints "xdpyinfo ok" or "xdpyinfo failed".
import os, socket, struct, subprocess, sys, time

mode, n, hold = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
num = int(os.environ["DISPLAY"].split(":")[1].split(".")[0])
socks = []
for _ in range(n):
    s = socket.create_connection(("localhost", 6000 + num))
    if mode == "forged":
        name, data = b"MIT-MAGIC-COOKIE-1", os.urandom(16)
        s.sendall(struct.pack("<BxHHHHxx", ord("l"), 11, 0, len(name), len(data)) + name + b"\0\0" + data)
    socks.append(s)
print("open", len(socks), flush=True)
r = subprocess.run(["xdpyinfo"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
print("xdpyinfo ok" if r.returncode == 0 else "xdpyinfo failed: " + r.stderr.decode().strip(), flush=True)
time.sleep(hold)
