"""A Hugging Face Hub stand-in on 127.0.0.1: repos with real commits, the download and the upload protocol.

What ``huggingface_hub`` sends for ``hf_hub_download``, ``create_repo`` and ``upload_folder`` /
``create_commit`` (read from its source: ``file_download.py``, ``hf_api.py``, ``_commit_api.py``, ``lfs.py``):

- ``HEAD|GET /<repo>/resolve/<revision>/<path>`` — a file at a branch, tag or commit, with the headers the
  client reads (``X-Repo-Commit``, ``ETag``, ``Content-Length``); ``404`` + ``X-Error-Code`` otherwise;
- ``POST /api/repos/create`` — a new repo (``409`` if it exists, which ``exist_ok=True`` accepts);
- ``POST /api/validate-yaml`` — a README's metadata block must parse as a YAML mapping;
- ``POST /api/models/<repo>/preupload/<revision>`` — "lfs" for binary files, "regular" for text;
- ``POST /<repo>.git/info/lfs/objects/batch`` + ``PUT`` to the presigned address it returns — LFS "basic" transfer
  (the client's other path, Xet, needs Hugging Face's storage service: tests set ``HF_HUB_DISABLE_XET=1``);
- ``POST /api/models/<repo>/commit/<branch>`` — the NDJSON commit; answers the new commit's id;
- ``GET /api/models/<repo>/revision/<revision>`` — repo info at a revision (``sha``, ``siblings``).

Writes need ``Authorization: Bearer <token>`` when the hub has a ``token``. A repo folder ``ROOT/<owner>/<repo>/``
present at start is that repo's first commit on ``main``. Every request is recorded in ``requests``.
Run it by hand with ``python -m tests.support.loopback_hub ROOT [PORT]`` (from the repository root).
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
import sys
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

REPO = r"(?P<repo>[^/]+/[^/]+?)"
RESOLVE = re.compile(rf"^/{REPO}/resolve/(?P<revision>[^/]+)/(?P<filename>.+)$")
API_REPO = re.compile(rf"^/api/models/{REPO}/(?P<action>preupload|commit|revision)/(?P<revision>[^/]+)$")
LFS_BATCH = re.compile(rf"^/{REPO}\.git/info/lfs/objects/batch$")
LFS_UPLOAD = re.compile(r"^/lfs-upload/(?P<oid>[0-9a-f]{64})$")
COMMIT_ID = re.compile(r"[0-9a-f]{40}")


def git_blob_sha1(data: bytes) -> str:
    """The id git gives a file's bytes (what the Hub reports for files not stored in LFS)."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def is_binary(sample: bytes) -> bool:
    """The Hub stores binary files in LFS; a NUL byte or bytes that are not UTF-8 make a file binary."""
    try:
        sample.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return b"\0" in sample


@dataclass
class Commit:
    oid: str
    parent: str | None
    message: str
    files: dict[str, bytes]


@dataclass
class Repo:
    commits: dict[str, Commit] = field(default_factory=dict)
    refs: dict[str, str] = field(default_factory=dict)  # branch or tag → commit id

    def at(self, revision: str) -> Commit | None:
        oid = self.refs.get(revision, revision)
        return self.commits.get(oid)

    def commit(self, branch: str, message: str, files: dict[str, bytes], oid: str | None = None) -> Commit:
        parent = self.refs.get(branch)
        if oid is None:
            digest = hashlib.sha1(f"{parent}\n{message}\n".encode())
            for path in sorted(files):
                digest.update(f"{path} {hashlib.sha256(files[path]).hexdigest()}\n".encode())
            oid = digest.hexdigest()
        self.commits[oid] = Commit(oid, parent, message, dict(files))
        self.refs[branch] = oid
        return self.commits[oid]


class LoopbackHub:
    """Serve until :meth:`close`; ``endpoint`` is what ``HF_ENDPOINT`` should be."""

    def __init__(self, root: Path | None = None, port: int = 0, token: str | None = None) -> None:
        self.repos: dict[str, Repo] = {}
        self.lfs: dict[str, bytes] = {}  # sha256 → bytes uploaded through the LFS transfer
        self.token = token
        self.secret = os.urandom(16)
        self.requests: list[tuple[str, str]] = []
        self.lock = threading.Lock()
        if root is not None:
            for repo_dir in sorted(p for p in Path(root).glob("*/*") if p.is_dir()):
                files = {f.relative_to(repo_dir).as_posix(): f.read_bytes() for f in repo_dir.rglob("*") if f.is_file()}
                self.seed(repo_dir.relative_to(root).as_posix(), files)
        self.server = ThreadingHTTPServer(("127.0.0.1", port), self._handler())
        self.endpoint = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def seed(self, repo_id: str, files: dict[str, bytes], revision: str = "main") -> str:
        """Put ``files`` in ``repo_id`` as a commit reachable as ``revision``: a branch or tag name, or the commit id
        itself (a 40-hex revision, as a manifest pinned by commit names it). Returns the commit id."""
        repo = self.repos.setdefault(repo_id, Repo())
        pinned = revision if COMMIT_ID.fullmatch(revision) else None
        commit = repo.commit("main", "seed", files, oid=pinned)
        if pinned is None:
            repo.refs[revision] = commit.oid
        return commit.oid

    def signature(self, oid: str) -> str:
        """What a presigned upload address for ``oid`` carries (an HMAC of it, keyed by this hub's secret)."""
        return hmac.new(self.secret, oid.encode(), hashlib.sha256).hexdigest()

    def downloads(self) -> int:
        """GET requests for files (HEAD requests, which huggingface_hub sends to check metadata, excluded)."""
        return sum(1 for method, path in self.requests if method == "GET" and RESOLVE.match(urlsplit(path).path))

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        hub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_HEAD(self) -> None:
                self._route()

            def do_GET(self) -> None:
                self._route()

            def do_POST(self) -> None:
                self._route()

            def do_PUT(self) -> None:
                self._route()

            def _route(self) -> None:
                path = unquote(urlsplit(self.path).path)
                with hub.lock:
                    hub.requests.append((self.command, self.path))
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                # LFS uploads go to a presigned address (as the Hub's storage): the signature, not the token.
                writes = self.command == "POST" and path != "/api/validate-yaml"
                if writes and hub.token and self.headers.get("Authorization") != f"Bearer {hub.token}":
                    return self._json(401, {"error": "Invalid credentials in Authorization header"}, "Unauthorized")
                with hub.lock:
                    if self.command in ("GET", "HEAD") and (match := RESOLVE.match(path)):
                        return self._resolve(match)
                    if self.command == "POST" and path == "/api/repos/create":
                        return self._create_repo(json.loads(body))
                    if self.command == "POST" and path == "/api/validate-yaml":
                        return self._validate_yaml(json.loads(body))
                    if (match := API_REPO.match(path)) and (self.command, match["action"]) in (
                            ("POST", "preupload"), ("POST", "commit"), ("GET", "revision")):
                        return getattr(self, f"_{match['action']}")(match, body)
                    if self.command == "POST" and (match := LFS_BATCH.match(path)):
                        return self._lfs_batch(match, json.loads(body))
                    if self.command == "PUT" and (match := LFS_UPLOAD.match(path)):
                        return self._lfs_upload(match["oid"], parse_qs(urlsplit(self.path).query), body)
                return self._json(404, {"error": f"{self.command} {path}: not served by the loopback Hub"}, "NotFound")

            def _repo(self, match) -> Repo | None:
                repo = hub.repos.get(match["repo"])
                if repo is None:
                    self._json(404, {"error": f"Repository {match['repo']} not found"}, "RepoNotFound")
                return repo

            def _commit_at(self, match) -> Commit | None:
                repo = self._repo(match)
                if repo is None:
                    return None
                commit = repo.at(match["revision"])
                if commit is None:
                    self._json(404, {"error": f"Invalid rev id: {match['revision']}"}, "RevisionNotFound")
                return commit

            def _resolve(self, match) -> None:
                commit = self._commit_at(match)
                if commit is None:
                    return
                data = commit.files.get(match["filename"])
                if data is None:
                    return self._json(404, {"error": f"{match['filename']} not found"}, "EntryNotFound",
                                      {"X-Repo-Commit": commit.oid})
                self._send(200, data, "application/octet-stream",
                           {"X-Repo-Commit": commit.oid, "ETag": f'"{hashlib.sha256(data).hexdigest()}"'})

            def _create_repo(self, payload: dict) -> None:
                repo_id = f"{payload['organization']}/{payload['name']}"
                if repo_id in hub.repos:
                    return self._json(409, {"error": "You already created this model repo", "url": self._url(repo_id)})
                # Like the Hub: a new repo starts with one commit holding .gitattributes.
                hub.repos[repo_id] = Repo()
                hub.repos[repo_id].commit("main", "initial commit", {".gitattributes": b"*.safetensors filter=lfs\n"})
                self._json(200, {"url": self._url(repo_id), "name": repo_id})

            def _validate_yaml(self, payload: dict) -> None:
                import yaml

                content = payload["content"]
                errors = []
                if content.startswith("---\n"):
                    try:
                        metadata = yaml.safe_load(content[4:content.index("\n---", 3)])
                        if not isinstance(metadata, dict):
                            errors.append({"message": "metadata is not a YAML mapping"})
                    except (ValueError, yaml.YAMLError) as error:
                        errors.append({"message": f"invalid YAML: {error}"})
                self._json(400 if errors else 200, {"errors": errors, "warnings": []})

            def _preupload(self, match, body: bytes) -> None:
                commit = self._commit_at(match)
                if commit is None:
                    return
                files = []
                for entry in json.loads(body)["files"]:
                    lfs = is_binary(base64.b64decode(entry["sample"]))
                    existing = commit.files.get(entry["path"])
                    oid = None if existing is None else (
                        hashlib.sha256(existing).hexdigest() if lfs else git_blob_sha1(existing))
                    files.append({"path": entry["path"], "uploadMode": "lfs" if lfs else "regular",
                                  "shouldIgnore": False, "oid": oid})
                self._json(200, {"files": files, "commitOid": commit.oid})

            def _lfs_batch(self, match, payload: dict) -> None:
                if self._repo(match) is None:
                    return
                objects = []
                for item in payload["objects"]:
                    entry = {"oid": item["oid"], "size": item["size"], "authenticated": True}
                    if item["oid"] not in hub.lfs:  # already stored: no actions, the client skips the upload
                        entry["actions"] = {"upload": {"href": f"{hub.endpoint}/lfs-upload/{item['oid']}?"
                                                               f"X-Amz-Signature={hub.signature(item['oid'])}"}}
                    objects.append(entry)
                self._json(200, {"transfer": "basic", "objects": objects}, content_type="application/vnd.git-lfs+json")

            def _lfs_upload(self, oid: str, query: dict[str, list[str]], body: bytes) -> None:
                if query.get("X-Amz-Signature") != [hub.signature(oid)]:
                    return self._json(403, {"error": "bad or missing signature"}, "SignatureDoesNotMatch")
                if hashlib.sha256(body).hexdigest() != oid:
                    return self._json(400, {"error": "uploaded bytes do not match the announced sha256"})
                hub.lfs[oid] = body
                self._json(200, {})

            def _commit(self, match, body: bytes) -> None:
                commit = self._commit_at(match)
                if commit is None:
                    return
                branch = match["revision"]
                if branch not in hub.repos[match["repo"]].refs:
                    return self._json(400, {"error": f"cannot commit to {branch}: not a branch"})
                files = dict(commit.files)
                message = ""
                for line in body.splitlines():
                    item = json.loads(line)
                    value = item["value"]
                    if item["key"] == "header":
                        message = value["summary"]
                    elif item["key"] == "file":
                        files[value["path"]] = base64.b64decode(value["content"])
                    elif item["key"] == "lfsFile":
                        if value["oid"] not in hub.lfs:
                            return self._json(422, {"error": f"LFS object {value['oid']} was never uploaded"})
                        files[value["path"]] = hub.lfs[value["oid"]]
                    elif item["key"] == "deletedFile":
                        files.pop(value["path"], None)
                    else:
                        return self._json(400, {"error": f"unsupported commit operation {item['key']}"})
                new = hub.repos[match["repo"]].commit(branch, message, files)
                self._json(200, {"commitUrl": f"{self._url(match['repo'])}/commit/{new.oid}", "commitOid": new.oid,
                                 "pullRequestUrl": None, "success": True})

            def _revision(self, match, body: bytes) -> None:
                commit = self._commit_at(match)
                if commit is not None:
                    self._json(200, {"id": match["repo"], "modelId": match["repo"], "sha": commit.oid, "private": False,
                                     "siblings": [{"rfilename": path} for path in sorted(commit.files)]})

            def _url(self, repo_id: str) -> str:
                return f"{hub.endpoint}/{repo_id}"

            def _json(self, status: int, payload: dict, error_code: str | None = None,
                      headers: dict[str, str] | None = None, content_type: str = "application/json") -> None:
                headers = dict(headers or {})
                if error_code:
                    headers.update({"X-Error-Code": error_code, "X-Error-Message": payload.get("error", "")})
                self._send(status, json.dumps(payload).encode(), content_type, headers)

            def _send(self, status: int, body: bytes, content_type: str, headers: dict[str, str]) -> None:
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            def log_message(self, *args) -> None:  # keep test output clean
                pass

        return Handler


if __name__ == "__main__":
    hub = LoopbackHub(Path(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 0)
    print(f"serving {', '.join(sorted(hub.repos)) or 'no repos'} at {hub.endpoint}", flush=True)
    hub.thread.join()
