#!/usr/bin/env python3
"""Loopback RFC 3161 TSA: an HTTP front for OpenSSL's own `openssl ts -reply`.

usage: server.py DIR      (DIR made by setup.sh)
Listens on 127.0.0.1 on a free port (or $KC_TSA_PORT), writes the port to DIR/port, and
answers POSTs of application/timestamp-query with the DER reply.
"""
import http.server
import os
import subprocess
import sys
import tempfile

DIR = os.path.abspath(sys.argv[1])
MAX_QUERY = 64 * 1024


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, fmt, *args):
        with open(os.path.join(DIR, "server.log"), "a") as f:
            f.write(fmt % args + "\n")

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        if self.headers.get("Content-Type") != "application/timestamp-query" or n <= 0 or n > MAX_QUERY:
            self.send_error(400, "expected an application/timestamp-query body")
            return
        body = self.rfile.read(n)
        with tempfile.NamedTemporaryFile(dir=DIR, suffix=".tsq") as q:
            q.write(body)
            q.flush()
            p = subprocess.run(["openssl", "ts", "-reply", "-config", os.path.join(DIR, "ts.cnf"),
                                "-queryfile", q.name, "-chain", os.path.join(DIR, "ca.pem")],
                               capture_output=True)
        if p.returncode != 0:
            self.send_error(500, "openssl ts -reply failed")
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/timestamp-reply")
        self.send_header("Content-Length", str(len(p.stdout)))
        self.end_headers()
        self.wfile.write(p.stdout)


srv = http.server.HTTPServer(("127.0.0.1", int(os.environ.get("KC_TSA_PORT", "0"))), Handler)
with open(os.path.join(DIR, "port.tmp"), "w") as f:
    f.write(str(srv.server_address[1]))
os.rename(os.path.join(DIR, "port.tmp"), os.path.join(DIR, "port"))
srv.serve_forever()
