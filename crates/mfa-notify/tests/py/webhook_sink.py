"""An HTTP webhook sink on 127.0.0.1 for the mfa-notify tests (stdlib only).

Records every POST as one JSON line in --record (path, Authorization and
Content-Type headers, body) and answers --status after sleeping --sleep
seconds. --tls CERT KEY serves HTTPS. Prints "READY" once it listens.
"""
import argparse
import http.server
import json
import ssl
import sys
import threading
import time


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--record", required=True)
    p.add_argument("--status", type=int, default=200)
    p.add_argument("--sleep", type=float, default=0.0)
    p.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"))
    a = p.parse_args()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            n = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(n).decode("utf-8", "replace")
            entry = {
                "path": self.path,
                "authorization": self.headers.get("Authorization"),
                "content_type": self.headers.get("Content-Type"),
                "body": body,
            }
            with open(a.record, "a") as f:
                f.write(json.dumps(entry) + "\n")
            time.sleep(a.sleep)
            try:
                self.send_response(a.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")
            except OSError:
                pass  # the client gave up (timeout test)

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", a.port), Handler)
    if a.tls:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(*a.tls)
        httpd.socket = ctx.wrap_socket(httpd.socket, server_side=True)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    print("READY", flush=True)
    sys.stdin.read()
    httpd.shutdown()


if __name__ == "__main__":
    main()
