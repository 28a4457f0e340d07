"""A GitHub stand-in on 127.0.0.1, serving a git repository's commits: what Torch Hub and zoo's mirror ask of GitHub.

What ``torch.hub.load("OWNER/NAME", ...)`` sends (read from ``torch/hub.py``: ``_parse_repo_info``,
``_validate_not_a_forked_repo``, ``_git_archive_link``) and what ``raw.githubusercontent.com`` answers:

- ``GET /OWNER/NAME/tree/main/`` — 200 when the repo has a ``main`` branch (Torch Hub's default-branch probe);
- ``GET /repos/OWNER/NAME/branches|tags?per_page=100&page=N`` — the API's lists (page 2 is empty);
- ``GET /OWNER/NAME/zipball/REF`` — ``git archive --format=zip`` of REF (``export-ignore`` applied), with the
  ``OWNER-NAME-SHORTSHA/`` top folder GitHub gives it;
- ``GET /OWNER/NAME/REV/PATH`` — a file at a commit, as ``raw.githubusercontent.com`` serves it.

The commits come from a local git repository; ``branches`` maps branch names to commit ids (the working tree's
uncommitted state can be offered as a commit made with ``git stash create``). ``raw`` says how raw files are served:
``"files"`` as they are, ``"corrupt"`` with a byte flipped (a mirror serving wrong bytes), ``"silent"`` never (the
connection is accepted and nothing is sent until the server closes), ``"endless"`` as a body without a length that
never ends. Every request is recorded in ``requests``.
"""
from __future__ import annotations

import json
import re
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

# Python that sends Torch Hub's requests to github.com and api.github.com to ``endpoint`` instead (put before the code
# under test, in its interpreter): a user's torch.hub.load("org/zoo", ...) exactly, with this server as GitHub.
TORCH_HUB_TO_LOOPBACK = """
import urllib.request, torch.hub

def _to_loopback(url, *args, **kwargs):
    request = url if isinstance(url, urllib.request.Request) else urllib.request.Request(url)
    for host in ("https://api.github.com", "https://github.com"):
        if request.full_url.startswith(host):
            request.full_url = {endpoint!r} + request.full_url[len(host):]
    return urllib.request.urlopen(request, *args, **kwargs)

torch.hub.urlopen = _to_loopback
"""

OWNER_NAME = r"/(?P<owner>[^/]+)/(?P<name>[^/]+)"
TREE = re.compile(rf"^{OWNER_NAME}/tree/(?P<ref>[^/]+)/?$")
API_LIST = re.compile(rf"^/repos{OWNER_NAME}/(?P<kind>branches|tags)$")
ZIPBALL = re.compile(rf"^{OWNER_NAME}/zipball/(?P<ref>.+)$")
RAW = re.compile(rf"^{OWNER_NAME}/(?P<rev>[0-9a-f]{{40}})/(?P<path>.+)$")


class LoopbackGitHub:
    def __init__(self, git_dir: Path, repo: str, branches: dict[str, str]) -> None:
        self.git_dir = git_dir
        self.repo = repo
        self.branches = dict(branches)
        self.raw = "files"
        self._closing = threading.Event()
        self.requests: list[tuple[str, str]] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        self.endpoint = f"http://127.0.0.1:{self._server.server_address[1]}"

    def close(self) -> None:
        self._closing.set()  # (a silent or endless answer in progress ends)
        self._server.shutdown()
        self._server.server_close()

    def git(self, *args: str) -> bytes | None:
        run = subprocess.run(["git", *args], cwd=self.git_dir, capture_output=True)
        return run.stdout if run.returncode == 0 else None

    def _commit_of(self, ref: str) -> str | None:
        oid = self.branches.get(ref, ref)
        return oid if self.git("cat-file", "-e", f"{oid}^{{commit}}") is not None else None

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        github = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                path = urlsplit(self.path).path
                github.requests.append(("GET", path))
                match = re.match(r"^/(?P<owner>[^/]+)/(?P<name>[^/]+)", path.removeprefix("/repos"))
                if not match or f"{match['owner']}/{match['name']}" != github.repo:
                    return self._send(404, b"Not Found")
                if m := TREE.match(path):
                    return self._send(200 if m["ref"] in github.branches else 404, b"")
                if m := API_LIST.match(path):
                    page = 1 if "page=1" in self.path.split("?")[-1].split("&") else 2
                    refs = github.branches if m["kind"] == "branches" else {}
                    items = [{"name": n, "commit": {"sha": oid}} for n, oid in refs.items()] if page == 1 else []
                    return self._send(200, json.dumps(items).encode(), "application/json")
                if m := ZIPBALL.match(path):
                    oid = github._commit_of(m["ref"])
                    if oid is None:
                        return self._send(404, b"Not Found")
                    prefix = f"{m['owner']}-{m['name']}-{oid[:7]}/"
                    return self._send(200, github.git("archive", "--format=zip", f"--prefix={prefix}", oid),
                                      "application/zip")
                if m := RAW.match(path):
                    data = github.git("show", f"{m['rev']}:{m['path']}")
                    if data is None:
                        return self._send(404, b"404: Not Found")
                    if github.raw == "silent":
                        github._closing.wait()
                        return None
                    if github.raw == "endless":
                        return self._send_endless()
                    if github.raw == "corrupt":
                        data = bytes([data[0] ^ 1]) + data[1:]
                    return self._send(200, data, "application/octet-stream")
                return self._send(404, b"Not Found")

            def _send(self, status: int, body: bytes, content_type: str = "text/plain") -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _send_endless(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                self.end_headers()  # no Content-Length: the body ends when the connection does
                self.close_connection = True
                try:
                    while not github._closing.is_set():
                        self.wfile.write(b"\0" * 65536)
                except OSError:  # the client hung up
                    pass

            def log_message(self, *args) -> None:  # keep test output clean
                pass

        return Handler
