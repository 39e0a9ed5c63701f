#!/usr/bin/env python3
"""A minimal HTTP CONNECT proxy on loopback for the kubeconfig `proxy-url`
test: tunnels bytes to 127.0.0.1 targets only and logs each CONNECT line.

    connect_proxy.py PORTFILE LOGFILE
"""
import socket
import sys
import threading

PORTFILE, LOGFILE = sys.argv[1:3]


def pipe(a, b):
    try:
        while True:
            d = a.recv(65536)
            if not d:
                break
            b.sendall(d)
    except OSError:
        pass
    finally:
        for s in (a, b):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def handle(c):
    head = b""
    while b"\r\n\r\n" not in head and len(head) < 8192:
        d = c.recv(4096)
        if not d:
            c.close()
            return
        head += d
    line = head.split(b"\r\n", 1)[0].decode("latin-1")
    with open(LOGFILE, "a") as f:
        f.write(line + "\n")
    parts = line.split()
    if len(parts) < 2 or parts[0] != "CONNECT":
        c.sendall(b"HTTP/1.1 405 Method Not Allowed\r\n\r\n")
        c.close()
        return
    host, _, port = parts[1].rpartition(":")
    if host not in ("127.0.0.1", "localhost"):
        c.sendall(b"HTTP/1.1 403 Forbidden\r\n\r\n")
        c.close()
        return
    u = socket.create_connection(("127.0.0.1", int(port)))
    c.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
    threading.Thread(target=pipe, args=(c, u), daemon=True).start()
    pipe(u, c)


s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(16)
with open(PORTFILE, "w") as f:
    f.write(str(s.getsockname()[1]))
while True:
    conn, _ = s.accept()
    threading.Thread(target=handle, args=(conn,), daemon=True).start()
