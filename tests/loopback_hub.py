"""A Hugging Face Hub stand-in on 127.0.0.1: the resolve protocol over a folder of repos.

``ROOT/<owner>/<repo>/<filename>`` is served at ``/<owner>/<repo>/resolve/<revision>/<filename>`` for any
revision, with the headers ``huggingface_hub`` reads (``X-Repo-Commit``, ``ETag``, ``Content-Length``)
and ``404`` + ``X-Error-Code`` for what is not there. Every request is recorded in ``requests``.
Run it by hand with ``python tests/loopback_hub.py ROOT [PORT]``.
"""
from __future__ import annotations

import hashlib
import re
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

RESOLVE = re.compile(r"^/(?P<repo>[^/]+/[^/]+)/resolve/(?P<revision>[^/]+)/(?P<filename>[^?]+)")


class LoopbackHub:
    """Serve ``root`` until :meth:`close`; ``endpoint`` is what ``HF_ENDPOINT`` should be."""

    def __init__(self, root: Path, port: int = 0) -> None:
        self.root = Path(root)
        self.requests: list[tuple[str, str]] = []
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def do_HEAD(self) -> None:
                self._resolve(send_body=False)

            def do_GET(self) -> None:
                self._resolve(send_body=True)

            def _resolve(self, send_body: bool) -> None:
                hub.requests.append((self.command, self.path))
                match = RESOLVE.match(self.path)
                if not match:
                    return self._error(404, "RepoNotFound", "not a resolve URL")
                repo_dir = hub.root / match["repo"]
                if not repo_dir.is_dir():
                    return self._error(404, "RepoNotFound", f"Repository {match['repo']} not found")
                path = repo_dir / match["filename"]
                if not path.is_file():
                    return self._error(404, "EntryNotFound", f"{match['filename']} not found", match)
                data = path.read_bytes()
                self.send_response(200)
                self._repo_headers(match)
                self.send_header("ETag", f'"{hashlib.sha256(data).hexdigest()}"')
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Content-Type", "application/octet-stream")
                self.end_headers()
                if send_body:
                    self.wfile.write(data)

            def _repo_headers(self, match) -> None:
                commit = hashlib.sha1(f"{match['repo']}@{match['revision']}".encode()).hexdigest()
                self.send_header("X-Repo-Commit", commit)

            def _error(self, status: int, code: str, message: str, match=None) -> None:
                body = f'{{"error": "{message}"}}'.encode()
                self.send_response(status)
                if match is not None:
                    self._repo_headers(match)
                self.send_header("X-Error-Code", code)
                self.send_header("X-Error-Message", message)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            def log_message(self, *args) -> None:  # keep test output clean
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.endpoint = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def downloads(self) -> int:
        """GET requests received (HEAD requests, which huggingface_hub sends to check metadata, excluded)."""
        return sum(1 for method, _ in self.requests if method == "GET")

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


if __name__ == "__main__":
    hub = LoopbackHub(Path(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 0)
    print(f"serving {hub.root} at {hub.endpoint}", flush=True)
    hub.thread.join()
