"""An HTTP proxy of the tests' own between the daemon and moto's S3 server
that misbehaves as S3 does now and then, on a seeded schedule:

- `slowdown`: 503 SlowDown, without passing the request on;
- `error_after`: the request is done by the store, then answered 500;
- `reset_after`: the request is done by the store, then the connection is
  cut without an answer;
- `truncate`: the store's answer is cut half-way through its body;
- `delay`: the request is done by the store, and its answer held back
  `delay` seconds (past the daemon's `--store-timeout`).

Faults hit only while `active` is set; every request and its fate is kept
in `log`.
"""

import http.client
import random
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

FAULTS = ("slowdown", "error_after", "reset_after", "truncate", "delay")

SLOW_DOWN = (b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code>'
             b'<Message>Please reduce your request rate.</Message></Error>')
INTERNAL = (b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>InternalError</Code>'
            b'<Message>We encountered an internal error. Please try again.</Message></Error>')


class FaultProxy:
    def __init__(self, upstream_port, seed, rate=0.2, faults=FAULTS, delay=1.5):
        self.upstream_port, self.delay = upstream_port, delay
        self.random = random.Random(seed)
        self.rate, self.faults = rate, faults
        self.active = threading.Event()
        self.lock = threading.Lock()
        self.log = []
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_any(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                fault = proxy.choose(self.command, self.path)
                if fault == "slowdown":
                    return self.answer(503, SLOW_DOWN)
                upstream = http.client.HTTPConnection("127.0.0.1", proxy.upstream_port, timeout=60)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("connection",)}
                upstream.request(self.command, self.path, body=body, headers=headers)
                response = upstream.getresponse()
                data = response.read()
                upstream.close()
                if fault == "error_after":
                    return self.answer(500, INTERNAL)
                if fault == "delay":
                    time.sleep(proxy.delay)
                if fault == "reset_after":
                    self.close_connection = True
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                    return
                self.send_response(response.status)
                for key, value in response.getheaders():
                    if key.lower() not in ("connection", "transfer-encoding", "content-length"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if fault == "truncate" and len(data) > 1:
                    self.wfile.write(data[: len(data) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                    return
                self.wfile.write(data)

            def answer(self, status, body):
                self.send_response(status)
                self.send_header("Content-Type", "application/xml")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = do_any

        class Server(ThreadingHTTPServer):
            def handle_error(self, request, client_address):
                pass  # a client that gave up on a delayed answer

        self.server = Server(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def choose(self, method, path):
        with self.lock:
            fault = None
            if self.active.is_set() and self.random.random() < self.rate:
                fault = self.random.choice(self.faults)
                # A truncated answer needs a body to cut: GETs have one.
                if fault == "truncate" and method != "GET":
                    fault = "error_after"
            self.log.append((method, path, fault))
            return fault

    def faults_done(self):
        return sum(1 for *_, f in self.log if f)

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
