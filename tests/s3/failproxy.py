#!/usr/bin/env python3
"""A loopback HTTP proxy in front of the S3 test server that refuses the
uploads a test names, to make a step of an S3 operation fail for real.

    failproxy.py UPSTREAM_URL SUFFIX PORTFILE

Every request is forwarded to UPSTREAM_URL unchanged (the Host header
too, so the SigV4 signature still verifies), except a PUT whose path ends
in SUFFIX: that one is answered 503 SlowDown without reaching the server.
With SUFFIX written "after:SUFFIX" the PUT does reach the server (the
object is stored) and the client is answered 500 InternalError anyway:
an answer lost after the write, as a timeout or a proxy's error.
The port it listens on (127.0.0.1, chosen by the system) is written to
PORTFILE.  Stopped by SIGTERM."""
import http.client
import http.server
import sys
import urllib.parse

UP = urllib.parse.urlsplit(sys.argv[1])
SUFFIX = sys.argv[2]
AFTER = SUFFIX.startswith("after:")
if AFTER:
    SUFFIX = SUFFIX[len("after:"):]


class Proxy(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def _any(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else None
        hit = self.command == "PUT" and urllib.parse.urlsplit(self.path).path.endswith(SUFFIX)
        if hit and not AFTER:
            msg = (b"<?xml version=\"1.0\"?><Error><Code>SlowDown</Code>"
                   b"<Message>refused by tests/s3/failproxy.py</Message></Error>")
            self.send_response(503)
            self.send_header("Content-Length", str(len(msg)))
            self.end_headers()
            self.wfile.write(msg)
            return
        c = http.client.HTTPConnection(UP.hostname, UP.port, timeout=60)
        hdrs = {k: v for k, v in self.headers.items() if k.lower() != "expect"}
        c.request(self.command, self.path, body=body, headers=hdrs)
        r = c.getresponse()
        data = r.read()
        if hit and AFTER and r.status == 200:
            msg = (b"<?xml version=\"1.0\"?><Error><Code>InternalError</Code>"
                   b"<Message>stored, then refused by tests/s3/failproxy.py</Message></Error>")
            self.send_response(500)
            self.send_header("Content-Length", str(len(msg)))
            self.end_headers()
            self.wfile.write(msg)
            c.close()
            return
        self.send_response(r.status)
        for k, v in r.getheaders():
            if k.lower() not in ("transfer-encoding", "content-length", "connection"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
        c.close()

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _any


s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Proxy)
with open(sys.argv[3], "w") as f:
    f.write(str(s.server_address[1]))
s.serve_forever()
