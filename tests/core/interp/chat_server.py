"""A loopback chat-completions server (OpenAI's /v1/chat/completions shape) with scripted
judges, for tst_interp. Listens on 127.0.0.1 only and prints its port.

The request's "model" picks the judge:
- oracle (and any other name): explains a feature as the word it sees marked <<...>> most often; as a judge it
               knows that word: detection says 1 when a text contains it, fuzzing when every
               marked token is it, simulation gives 10 on it and 0 elsewhere (with logprobs),
               intervention answers A;
- always-yes*: explains like the oracle, answers 1 to everything;
- inverted*:   explains like the oracle, answers the opposite of the oracle.

POST /_faults {"rules": [{"contains": TEXT, "status": 500|429|"timeout"|"malformed",
"times": N, "retry_after": "1"}]} injects faults into requests whose messages contain TEXT
(each rule fires N times, then the request is answered normally). GET /_log returns what was
seen: per request the model, whether an Authorization header came, and whether it matched
the expected key (argv[1], may be empty), and the time it arrived; GET /_reset clears it.
"""
import json
import re
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

expected_key = sys.argv[1] if len(sys.argv) > 1 else ""
lock = threading.Lock()
rules = []
log = []
in_flight = 0
max_in_flight = 0


def marked(text):
    """The marked words: a pair of marks may hold a run of tokens ("<< cat cat>>")."""
    return [w for run in re.findall(r"<<(.*?)>>", text) for w in run.split()]


def explanation_word(messages):
    user = messages[-1]["content"]
    m = re.search(r'Explanation: the word "(.*?)"', user)
    return m.group(1) if m else None


def texts_of(user):
    return [m.group(1) for m in re.finditer(r"^Text \d+: (.*)$", user, re.M)]


def oracle_label(kind, word, text):
    if kind == "detection":
        return 1 if re.search(r"(^|[^A-Za-z])" + re.escape(word) + r"($|[^A-Za-z])", text) else 0
    marks = [m.strip() for m in marked(text)]
    return 1 if marks and all(m == word for m in marks) else 0


def answer(model, messages):
    """(text, logprobs content or None)"""
    system = messages[0]["content"] if messages and messages[0]["role"] == "system" else ""
    user = messages[-1]["content"]
    if "[EXPLANATION]:" in system:
        words = [w.strip() for w in marked(user)]
        top = max(set(words), key=words.count) if words else "nothing"
        return 'These texts share one word.\n[EXPLANATION]: the word "%s"' % top, None
    word = explanation_word(messages) or ""
    if "Continuation A:" in user:
        return "A", None
    if user.find("Tokens:\n") >= 0:
        lines = [l for l in user.split("Tokens:\n", 1)[1].split("\n") if l.strip()]
        levels = []
        for l in lines:
            tok = l.split(". ", 1)[1] if ". " in l else l
            levels.append(10 if tok.strip() == word else 0)
        content = []
        for i, v in enumerate(levels):
            alts = [{"token": str(v), "logprob": -0.01}, {"token": str(10 - v), "logprob": -5.0}]
            content.append({"token": str(v), "logprob": -0.01, "top_logprobs": alts})
            content.append({"token": "\n", "logprob": 0.0, "top_logprobs": []})
        return "\n".join(str(v) for v in levels), content
    kind = "fuzzing" if "<<" in user.split("\n\n", 1)[-1] else "detection"
    labels = [oracle_label(kind, word, t) for t in texts_of(user)]
    if model.startswith("always-yes"):
        labels = [1] * len(labels)
    elif model.startswith("inverted"):
        labels = [1 - v for v in labels]
    return "[" + ", ".join(str(v) for v in labels) + "]", None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def send(self, status, body, headers=()):
        data = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        global max_in_flight
        if self.path == "/_reset":
            with lock:
                log.clear()
                max_in_flight = 0
            self.send(200, "{}")
        elif self.path == "/_log":
            with lock:
                self.send(200, json.dumps({"requests": log, "max_in_flight": max_in_flight}))
        else:
            self.send(404, '{"error": "not found"}')

    def do_POST(self):
        global in_flight, max_in_flight
        length = int(self.headers.get("Content-Length", "0"))
        body = json.loads(self.rfile.read(length) or b"{}")
        if self.path == "/_faults":
            with lock:
                rules[:] = body.get("rules", [])
            self.send(200, "{}")
            return
        if self.path != "/v1/chat/completions":
            self.send(404, '{"error": {"message": "no such route"}}')
            return
        auth = self.headers.get("Authorization")
        messages = body.get("messages", [])
        flat = "\n".join(m.get("content", "") for m in messages)
        system = messages[0].get("content", "") if messages else ""
        explainer = "[EXPLANATION]:" in system
        with lock:
            log.append({"model": body.get("model"), "auth": auth is not None,
                        "auth_ok": auth == "Bearer " + expected_key if expected_key else None,
                        "logprobs": bool(body.get("logprobs")), "at": time.time(),
                        "explainer": explainer,
                        "marks": sorted(set(m.strip() for m in marked(messages[-1]["content"])))
                        if explainer and messages else []})
            fault = None
            for r in rules:
                if r.get("times", 0) > 0 and r["contains"] in flat:
                    r["times"] -= 1
                    fault = r
                    break
            in_flight += 1
            max_in_flight = max(max_in_flight, in_flight)
        try:
            if fault is not None:
                kind = fault["status"]
                if kind == "timeout":
                    time.sleep(float(fault.get("seconds", 3)))
                    self.send(200, '{"choices": []}')
                    return
                if kind == "malformed":
                    self.send(200, '{"choices": [ {"message": ')
                    return
                headers = [("Retry-After", fault["retry_after"])] if "retry_after" in fault else []
                self.send(int(kind), json.dumps({"error": {"message": "injected %s" % kind}}),
                          headers)
                return
            time.sleep(float(self.server.latency))
            text, logprobs = answer(body.get("model"), messages)
            choice = {"index": 0, "message": {"role": "assistant", "content": text},
                      "finish_reason": "stop"}
            if logprobs is not None and body.get("logprobs"):
                choice["logprobs"] = {"content": logprobs}
            reply = {"id": "x", "object": "chat.completion", "model": body.get("model"),
                     "choices": [choice],
                     "usage": {"prompt_tokens": len(flat) // 4,
                               "completion_tokens": max(1, len(text) // 4)}}
            self.send(200, json.dumps(reply))
        finally:
            with lock:
                in_flight -= 1


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
server.daemon_threads = True
server.latency = float(sys.argv[2]) if len(sys.argv) > 2 else 0.0
# argv[2]: seconds each answer takes (a realistic server's latency, for the benchmark).
print(server.server_address[1], flush=True)
server.serve_forever()
