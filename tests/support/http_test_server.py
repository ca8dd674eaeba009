"""Local HTTP server for the http_request tests: 127.0.0.1, ephemeral port.

Prints the port on the first stdout line, then serves until killed. Routes:
  GET  /hello           text
  POST /echo            JSON: the request's JSON body, method and headers
  GET  /slow            answers after 5 s (timeout tests)
  GET  /big             2 MiB body
  GET  /bin             binary bytes (not UTF-8)
  GET  /status/<code>   empty body with that status
  GET  /redirect-meta   302 to http://169.254.169.254/latest/meta-data/
  GET  /redirect-local  302 to /hello
"""

from __future__ import annotations

import json
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

BIG_SIZE = 2 * 1024 * 1024
BINARY = bytes(range(256)) * 4


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the test output is for the tests."""

    def reply(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def redirect(self, location: str) -> None:
        self.send_response(302)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self) -> None:
        if self.path == "/hello":
            self.reply(
                200, b"hello from the test server\n", "text/plain; charset=utf-8"
            )
        elif self.path == "/slow":
            time.sleep(5)
            self.reply(200, b"finally\n", "text/plain")
        elif self.path == "/big":
            self.reply(200, b"x" * BIG_SIZE, "text/plain")
        elif self.path == "/bin":
            self.reply(200, BINARY, "application/octet-stream")
        elif self.path.startswith("/status/"):
            self.reply(int(self.path.split("/")[2]), b"", "text/plain")
        elif self.path == "/redirect-meta":
            self.redirect("http://169.254.169.254/latest/meta-data/")
        elif self.path == "/redirect-local":
            self.redirect("/hello")
        else:
            self.reply(404, b"not found\n", "text/plain")

    def do_HEAD(self) -> None:
        self.do_GET()

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        raw = self.rfile.read(length)
        if self.path != "/echo":
            self.reply(404, b"not found\n", "text/plain")
            return
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode("utf-8", "replace")
        answer = {
            "method": self.command,
            "json": body,
            "headers": {k.lower(): v for k, v in self.headers.items()},
        }
        self.reply(200, json.dumps(answer).encode(), "application/json")

    do_PUT = do_POST


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        """Clients hang up on purpose here (size caps, timeouts): no tracebacks."""


def main() -> int:
    server = QuietServer(("127.0.0.1", 0), Handler)
    sys.stdout.write(f"{server.server_address[1]}\n")
    sys.stdout.flush()
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
