"""A loopback stand-in for the Hugging Face Hub's file endpoints, for tst_hub.

Serves the repositories of a manifest (JSON, argv[1]) on 127.0.0.1 only and prints its port.
It answers like the Hub does (huggingface_hub file_download.py, hf_api.py):
- GET  /api/models/{repo}/revision/{rev}   listing: sha (commit) and siblings (lfs.sha256)
- HEAD /{repo}/resolve/{rev}/{path}         X-Repo-Commit; LFS files: 302 to the CDN with
                                            X-Linked-Etag (sha256) and X-Linked-Size; small
                                            files: 200 with ETag (git blob sha1)
- GET  /{repo}/resolve/{rev}/{path}         small files
- GET  /cdn/{sha256}                        LFS content, served from http://localhost:PORT
                                            (another origin: no token may arrive there)
Range requests get 206; gated repositories answer 401 without a token and 403 with a wrong
one; unknown names 404. A file named in drop_once is cut off half way the first time; one
named in corrupt_once has a byte flipped the first time (its sha256 check must catch it).
GET /_log returns every request seen (method, path, host, auth present, range).
"""
import hashlib
import json
import os
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

manifest = json.load(open(sys.argv[1]))
repos = manifest["repos"]          # name -> {commit, refs{}, dir, gated}
token = manifest.get("token", "")
drop_once = set(manifest.get("drop_once", []))
corrupt_once = set(manifest.get("corrupt_once", []))
LFS_MIN = 1024                     # files at least this big are LFS files
log = []
lock = threading.Lock()
port = 0


def git_sha1(data):
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def files_of(repo):
    root = repos[repo]["dir"]
    out = []
    for d, _, names in os.walk(root):
        for n in names:
            full = os.path.join(d, n)
            out.append(os.path.relpath(full, root).replace(os.sep, "/"))
    return sorted(out)


def content(repo, path):
    with open(os.path.join(repos[repo]["dir"], path), "rb") as f:
        return f.read()


by_sha = {}
for name in repos:
    for p in files_of(name):
        data = content(name, p)
        if len(data) >= LFS_MIN:
            by_sha[hashlib.sha256(data).hexdigest()] = (name, p)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def record(self):
        with lock:
            log.append({"method": self.command, "path": self.path, "host": self.headers.get("Host", ""),
                        "auth": self.headers.get("Authorization") is not None,
                        "auth_ok": self.headers.get("Authorization") == "Bearer " + token if token else False,
                        "range": self.headers.get("Range", "")})

    def send(self, status, body=b"", headers=None):
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def error(self, status, message):
        self.send(status, json.dumps({"error": message}).encode(), {"X-Error-Message": message})

    def allowed(self, repo):
        if not repos[repo].get("gated"):
            return True
        auth = self.headers.get("Authorization")
        if auth is None:
            self.error(401, "Access to model %s is restricted. You must be authenticated." % repo)
            return False
        if auth != "Bearer " + token:
            self.error(403, "Access to model %s is restricted and you are not in the authorized list." % repo)
            return False
        return True

    def commit_of(self, repo, rev):
        info = repos[repo]
        if rev == info["commit"]:
            return rev
        return info.get("refs", {}).get(rev)

    def serve_bytes(self, data, extra=None, drop=False):
        rng = self.headers.get("Range")
        start = 0
        status = 200
        headers = dict(extra or {})
        if rng and rng.startswith("bytes="):
            start = int(rng[6:].split("-")[0])
            if start >= len(data):
                self.send(416, b"", {"Content-Range": "bytes */%d" % len(data)})
                return
            status = 206
            headers["Content-Range"] = "bytes %d-%d/%d" % (start, len(data) - 1, len(data))
        body = data[start:]
        if drop:
            self.send_response(status)
            for k, v in headers.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(2)
            return
        self.send(status, body, headers)

    def route(self):
        self.record()
        parsed = urllib.parse.urlparse(self.path)
        parts = [urllib.parse.unquote(p) for p in parsed.path.split("/") if p]
        if parts == ["_log"]:
            with lock:
                return self.send(200, json.dumps(log).encode())
        if len(parts) == 2 and parts[0] == "cdn":
            if parts[1] not in by_sha:
                return self.error(404, "no such object")
            repo, path = by_sha[parts[1]]
            drop = path in drop_once
            if drop:
                drop_once.discard(path)
            data = content(repo, path)
            if path in corrupt_once:
                corrupt_once.discard(path)
                data = data[:100] + bytes([data[100] ^ 0x5A]) + data[101:]
            return self.serve_bytes(data, drop=drop)
        if len(parts) >= 5 and parts[0] == "api" and parts[1] == "models" and parts[4] == "revision":
            repo = parts[2] + "/" + parts[3]
            rev = "/".join(parts[5:])
            if repo not in repos:
                return self.error(404, "Repository not found")
            if not self.allowed(repo):
                return
            commit = self.commit_of(repo, rev)
            if commit is None:
                return self.error(404, "Invalid rev id: %s" % rev)
            siblings = []
            for p in files_of(repo):
                data = content(repo, p)
                entry = {"rfilename": p, "size": len(data), "blobId": git_sha1(data)}
                if len(data) >= LFS_MIN:
                    entry["lfs"] = {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data), "pointerSize": 134}
                siblings.append(entry)
            return self.send(200, json.dumps({"id": repo, "sha": commit, "siblings": siblings,
                                              "gated": "manual" if repos[repo].get("gated") else False}).encode(),
                             {"Content-Type": "application/json"})
        if len(parts) >= 5 and parts[2] == "resolve":
            repo = parts[0] + "/" + parts[1]
            if repo not in repos:
                return self.error(404, "Repository not found")
            if not self.allowed(repo):
                return
            commit = self.commit_of(repo, parts[3])
            path = "/".join(parts[4:])
            if commit is None:
                return self.error(404, "Revision not found")
            if path not in files_of(repo):
                return self.error(404, "Entry not found")
            data = content(repo, path)
            headers = {"X-Repo-Commit": commit}
            if len(data) >= LFS_MIN:
                sha = hashlib.sha256(data).hexdigest()
                headers.update({"X-Linked-Etag": '"%s"' % sha, "X-Linked-Size": str(len(data)),
                                "ETag": '"%s"' % git_sha1(data),
                                "Location": "http://localhost:%d/cdn/%s" % (port, sha)})
                return self.send(302, b"", headers)
            headers["ETag"] = '"%s"' % git_sha1(data)
            return self.serve_bytes(data, headers)
        return self.error(404, "not found")

    def do_GET(self):
        self.route()

    def do_HEAD(self):
        self.route()


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
port = server.server_address[1]
print(port, flush=True)
server.serve_forever()
