"""The plumbing the local fakes of provider APIs share: a threaded HTTP server on a free loopback
port that hands every request to the fake's `_handle(handler, method)`."""
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class LocalHTTPFake:
    """Subclasses implement `_handle(handler, method)` and set `name` (for the thread)."""

    name = "fake"
    server: ThreadingHTTPServer | None = None
    thread: threading.Thread | None = None

    def start(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):
                fake._handle(self, "GET")

            def do_POST(self):
                fake._handle(self, "POST")

            def do_DELETE(self):
                fake._handle(self, "DELETE")

            def log_message(self, *args):  # keep pytest output clean
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, name=self.name, daemon=True)
        self.thread.start()
        return self

    def stop(self):
        if self.server:
            self.server.shutdown()
            self.server.server_close()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"
