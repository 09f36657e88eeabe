#!/usr/bin/env python3
"""A small S3 server on loopback for the faults a real one will not make on
demand (specs/REPLICATION_OBJECT_STORE.md; used by tests/s3/s3_archive_test.cc).

One bucket, objects in memory. Every request's SigV4 signature and
x-amz-content-sha256 are checked as strictly as Ceph RGW does (wrong secret
or unsorted query: 403 SignatureDoesNotMatch; payload hash not the body's or
missing: 400 XAmzContentSHA256Mismatch). Supported: PUT (If-None-Match: *),
GET (Range, If-Match), HEAD, DELETE, ListObjectsV2 (max-keys pages), and
multipart (initiate, part, complete, abort, list uploads).

Faults, set by POST /__control with a JSON body (not signed; loopback only):
  fail: [status, ...]       the next requests (any) answer these, in order
  lose_puts: N              the next N object PUTs are stored, then the
                            connection is closed without an answer
  slow_ms: M                every answer waits M ms first
  ignore_if_none_match: b   conditional create is ignored (a store without it)
  page_size: N              ListObjectsV2 pages of at most N keys
  add_after_first_page: [k] keys created once a listing's first page is served
  remove_after_first_page: [k]
  age_uploads: S             the uploads begun so far are S seconds older
                            (their Initiated moves back; Date stays real)
  uploads_page_size: N      ListMultipartUploads pages of at most N uploads
  html_answers: N           the next N requests answer 200 with a web page
  oversize_answers: N       the next N requests answer 200 with 17 MiB
  loop_tokens: b            every listing is truncated, its continuation
                            token alternating between two values
GET /__stats gives counters: requests, by status, signature failures.
Usage: s3_mock.py --port-file FILE [--access KEY --secret SECRET --region R]
"""
import argparse
import hashlib
import hmac
import json
import os
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from xml.sax.saxutils import escape

BUCKET = "bucket"
LOCK = threading.RLock()
OBJECTS = {}   # key -> dict(body, meta, etag)
UPLOADS = {}   # upload id -> dict(key, parts{n: bytes}, meta)
CONTROL = {"fail": [], "lose_puts": 0, "slow_ms": 0, "ignore_if_none_match": False,
           "page_size": 1000, "add_after_first_page": [], "remove_after_first_page": [],
           "html_answers": 0, "oversize_answers": 0, "loop_tokens": False}
STATS = {"requests": 0, "status": {}, "bad_signature": 0, "bad_payload": 0, "methods": {}}
ARGS = None
NEXT_UPLOAD = [0]


def uri_encode(s, keep_slash):
    safe = "-_.~" + ("/" if keep_slash else "")
    return urllib.parse.quote(s, safe=safe)


def sign_check(h):
    """None when the signature and payload hash are right, else (status, code)."""
    authz = h.headers.get("Authorization", "")
    if not authz.startswith("AWS4-HMAC-SHA256 "):
        return 403, "AccessDenied"
    parts = dict(p.strip().split("=", 1) for p in authz[len("AWS4-HMAC-SHA256 "):].split(","))
    cred = parts.get("Credential", "").split("/")
    signed = parts.get("SignedHeaders", "").split(";")
    if len(cred) != 5 or cred[0] != ARGS.access or cred[2] != ARGS.region or cred[3] != "s3":
        return 403, "InvalidAccessKeyId"
    for must in ("host", "x-amz-content-sha256", "x-amz-date"):
        if must not in signed:
            return 403, "SignatureDoesNotMatch"
    if signed != sorted(signed):
        return 403, "SignatureDoesNotMatch"
    payload_hash = h.headers.get("x-amz-content-sha256")
    if payload_hash is None or payload_hash != hashlib.sha256(h.body).hexdigest():
        return 400, "XAmzContentSHA256Mismatch"
    raw_path, _, raw_query = h.path.partition("?")
    # The query as sent must already be in canonical order (RGW: 403 otherwise).
    pairs = [urllib.parse.unquote(p.partition("=")[0]) for p in raw_query.split("&")] if raw_query else []
    q = []
    for p in raw_query.split("&") if raw_query else []:
        k, _, v = p.partition("=")
        q.append((uri_encode(urllib.parse.unquote(k), False), uri_encode(urllib.parse.unquote(v), False)))
    if [k for k, _ in q] != sorted(k for k, _ in q):
        return 403, "SignatureDoesNotMatch"
    del pairs
    canonical_query = "&".join(k + "=" + v for k, v in sorted(q))
    canonical_headers = "".join(k + ":" + " ".join(h.headers.get(k, "").split()) + "\n" for k in signed)
    creq = "\n".join([h.command, uri_encode(urllib.parse.unquote(raw_path), True), canonical_query,
                      canonical_headers, ";".join(signed), payload_hash])
    amz_date = h.headers.get("x-amz-date", "")
    scope = "/".join(cred[1:])
    sts = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(creq.encode()).hexdigest()])
    k = ("AWS4" + ARGS.secret).encode()
    for part in (cred[1], cred[2], cred[3], "aws4_request"):
        k = hmac.new(k, part.encode(), hashlib.sha256).digest()
    sig = hmac.new(k, sts.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(sig, parts.get("Signature", "")):
        return 403, "SignatureDoesNotMatch"
    return None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def answer(self, status, body=b"", headers=None, code=None):
        if code:
            body = ("<?xml version=\"1.0\"?><Error><Code>%s</Code></Error>" % code).encode()
        with LOCK:
            STATS["status"][str(status)] = STATS["status"].get(str(status), 0) + 1
        slow = CONTROL["slow_ms"]
        if slow:
            time.sleep(slow / 1000.0)
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)) if self.command != "HEAD" or status != 200
                         else (headers or {}).get("Content-Length", "0"))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def handle_any(self):
        n = int(self.headers.get("Content-Length", "0") or 0)
        self.body = self.rfile.read(n) if n else b""
        raw_path, _, raw_query = self.path.partition("?")
        if raw_path == "/__control":
            with LOCK:
                ctl = json.loads(self.body or b"{}")
                age = ctl.pop("age_uploads", 0)
                for u in UPLOADS.values():
                    u["initiated"] -= age
                CONTROL.update(ctl)
            return self.answer(200, b"ok")
        if raw_path == "/__stats":
            with LOCK:
                return self.answer(200, json.dumps(STATS).encode())
        if raw_path == "/__reset":
            with LOCK:
                OBJECTS.clear(); UPLOADS.clear()
                CONTROL.update({"fail": [], "lose_puts": 0, "slow_ms": 0, "ignore_if_none_match": False,
                                "page_size": 1000, "uploads_page_size": 1000, "add_after_first_page": [], "remove_after_first_page": [],
                                "html_answers": 0, "oversize_answers": 0, "loop_tokens": False})
                STATS.update({"requests": 0, "status": {}, "bad_signature": 0, "bad_payload": 0, "methods": {}})
            return self.answer(200, b"ok")
        with LOCK:
            STATS["requests"] += 1
            STATS["methods"][self.command] = STATS["methods"].get(self.command, 0) + 1
        bad = sign_check(self)
        if bad:
            with LOCK:
                STATS["bad_payload" if bad[0] == 400 else "bad_signature"] += 1
            return self.answer(bad[0], code=bad[1])
        with LOCK:
            fail = CONTROL["fail"].pop(0) if CONTROL["fail"] else None
        if fail:
            return self.answer(fail, code="InjectedFault")
        with LOCK:
            html = CONTROL["html_answers"] > 0
            if html:
                CONTROL["html_answers"] -= 1
            big = not html and CONTROL["oversize_answers"] > 0
            if big:
                CONTROL["oversize_answers"] -= 1
        if html:
            return self.answer(200, b"<html><body>a web console</body></html>")
        if big:
            return self.answer(200, b"x" * (17 << 20))
        path = urllib.parse.unquote(raw_path)
        query = dict(urllib.parse.parse_qsl(raw_query, keep_blank_values=True))
        if not path.startswith("/" + BUCKET):
            return self.answer(404, code="NoSuchBucket")
        key = path[len(BUCKET) + 2:]
        if not key:
            if "uploads" in query:
                return self.list_uploads(query)
            return self.list(query)
        if self.command == "PUT" and "uploadId" in query:
            return self.put_part(key, query)
        if self.command == "PUT":
            return self.put(key)
        if self.command == "POST" and "uploads" in query:
            return self.initiate(key)
        if self.command == "POST" and "uploadId" in query:
            return self.complete(key, query)
        if self.command == "DELETE" and "uploadId" in query:
            with LOCK:
                UPLOADS.pop(query["uploadId"], None)
            return self.answer(204)
        if self.command in ("GET", "HEAD"):
            return self.get(key)
        if self.command == "DELETE":
            with LOCK:
                OBJECTS.pop(key, None)
            return self.answer(204)
        return self.answer(405, code="MethodNotAllowed")

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = handle_any

    def meta(self):
        return {k.lower(): v for k, v in self.headers.items() if k.lower().startswith("x-amz-meta-")}

    def put(self, key):
        with LOCK:
            if (self.headers.get("If-None-Match") == "*" and key in OBJECTS
                    and not CONTROL["ignore_if_none_match"]):
                lose = False
                exists = True
            else:
                exists = False
                etag = '"%s"' % hashlib.md5(self.body).hexdigest()
                OBJECTS[key] = {"body": self.body, "meta": self.meta(), "etag": etag}
                lose = CONTROL["lose_puts"] > 0
                if lose:
                    CONTROL["lose_puts"] -= 1
        if exists:
            return self.answer(412, code="PreconditionFailed")
        if lose:
            self.close_connection = True
            self.connection.shutdown(2)
            return
        return self.answer(200, headers={"ETag": etag})

    def get(self, key):
        with LOCK:
            o = OBJECTS.get(key)
        if o is None:
            return self.answer(404, code="NoSuchKey")
        if self.headers.get("If-Match") and self.headers.get("If-Match") != o["etag"]:
            return self.answer(412, code="PreconditionFailed")
        headers = {"ETag": o["etag"]}
        headers.update(o["meta"])
        body = o["body"]
        rng = self.headers.get("Range")
        if self.command == "HEAD":
            headers["Content-Length"] = str(len(body))
            return self.answer(200, headers=headers)
        if rng:
            a, _, b = rng[len("bytes="):].partition("-")
            a, b = int(a), min(int(b), len(body) - 1)
            headers["Content-Range"] = "bytes %d-%d/%d" % (a, b, len(body))
            with LOCK:
                STATS["ranges"] = STATS.get("ranges", 0) + 1
            return self.answer(206, body[a:b + 1], headers)
        return self.answer(200, body, headers)

    def list(self, query):
        prefix = query.get("prefix", "")
        delim = query.get("delimiter", "")
        after = query.get("continuation-token", "")
        page = int(query.get("max-keys", CONTROL["page_size"]))
        page = min(page, CONTROL["page_size"])
        with LOCK:
            names = sorted(k for k in OBJECTS if k.startswith(prefix))
        items = []
        for k in names:
            rest = k[len(prefix):]
            if delim and delim in rest:
                item = ("p", prefix + rest[:rest.index(delim) + 1])
            else:
                item = ("k", k)
            if item not in items:
                items.append(item)
        if CONTROL["loop_tokens"]:
            token = "B" if after == "A" else "A"
            return self.answer(200, ("<?xml version=\"1.0\"?><ListBucketResult><Name>%s</Name><IsTruncated>true</IsTruncated>"
                                     "<NextContinuationToken>%s</NextContinuationToken></ListBucketResult>" % (BUCKET, token)).encode())
        items = [i for i in items if i[1] > after]
        shown, more = items[:page], len(items) > page
        out = ["<?xml version=\"1.0\"?><ListBucketResult><Name>%s</Name><Prefix>%s</Prefix>" % (BUCKET, escape(prefix))]
        for kind, name in shown:
            if kind == "k":
                out.append("<Contents><Key>%s</Key><Size>%d</Size></Contents>" % (escape(name), len(OBJECTS.get(name, {}).get("body", b""))))
            else:
                out.append("<CommonPrefixes><Prefix>%s</Prefix></CommonPrefixes>" % escape(name))
        out.append("<IsTruncated>%s</IsTruncated>" % ("true" if more else "false"))
        if more:
            out.append("<NextContinuationToken>%s</NextContinuationToken>" % escape(shown[-1][1]))
        out.append("</ListBucketResult>")
        if not after:
            with LOCK:
                for k in CONTROL["add_after_first_page"]:
                    OBJECTS[k] = {"body": b"added", "meta": {}, "etag": '"x"'}
                for k in CONTROL["remove_after_first_page"]:
                    OBJECTS.pop(k, None)
                CONTROL["add_after_first_page"] = []
                CONTROL["remove_after_first_page"] = []
        return self.answer(200, "".join(out).encode())

    def initiate(self, key):
        with LOCK:
            NEXT_UPLOAD[0] += 1
            uid = "up-%d" % NEXT_UPLOAD[0]
            UPLOADS[uid] = {"key": key, "parts": {}, "meta": self.meta(), "initiated": time.time()}
        return self.answer(200, ("<InitiateMultipartUploadResult><Key>%s</Key><UploadId>%s</UploadId>"
                                 "</InitiateMultipartUploadResult>" % (escape(key), uid)).encode())

    def put_part(self, key, query):
        with LOCK:
            u = UPLOADS.get(query["uploadId"])
            if u is None or u["key"] != key:
                return self.answer(404, code="NoSuchUpload")
            u["parts"][int(query["partNumber"])] = self.body
            STATS["parts"] = STATS.get("parts", 0) + 1
            STATS["max_part"] = max(STATS.get("max_part", 0), len(self.body))
        return self.answer(200, headers={"ETag": '"%s"' % hashlib.md5(self.body).hexdigest()})

    def complete(self, key, query):
        with LOCK:
            u = UPLOADS.pop(query["uploadId"], None)
            if u is None:
                return self.answer(404, code="NoSuchUpload")
            body = b"".join(u["parts"][n] for n in sorted(u["parts"]))
            OBJECTS[key] = {"body": body, "meta": u["meta"], "etag": '"mp-%s"' % hashlib.md5(body).hexdigest()}
        return self.answer(200, b"<CompleteMultipartUploadResult></CompleteMultipartUploadResult>")

    def list_uploads(self, query):
        # ListMultipartUploads: by key then upload id, pages of uploads_page_size
        # (max-uploads), resumed after key-marker / upload-id-marker.
        prefix = query.get("prefix", "")
        km, um = query.get("key-marker", ""), query.get("upload-id-marker", "")
        page = min(int(query.get("max-uploads", 1000)), CONTROL.get("uploads_page_size", 1000))
        with LOCK:
            ups = sorted((u["key"], uid, u["initiated"]) for uid, u in UPLOADS.items() if u["key"].startswith(prefix))
        if km:
            ups = [u for u in ups if (u[0], u[1]) > (km, um)]
        shown, more = ups[:page], len(ups) > page
        out = ["<ListMultipartUploadsResult>"]
        for k, u, t in shown:
            stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + ".000Z"
            out.append("<Upload><Key>%s</Key><UploadId>%s</UploadId><Initiated>%s</Initiated></Upload>"
                       % (escape(k), u, stamp))
        out.append("<IsTruncated>%s</IsTruncated>" % ("true" if more else "false"))
        if more:
            out.append("<NextKeyMarker>%s</NextKeyMarker><NextUploadIdMarker>%s</NextUploadIdMarker>"
                       % (escape(shown[-1][0]), shown[-1][1]))
        out.append("</ListMultipartUploadsResult>")
        with LOCK:
            STATS["upload_pages"] = STATS.get("upload_pages", 0) + 1
        return self.answer(200, "".join(out).encode())


def main():
    global ARGS
    p = argparse.ArgumentParser()
    p.add_argument("--port-file", required=True)
    p.add_argument("--access", default="AKIDMOCK")
    p.add_argument("--secret", default="mock-secret/key+1")
    p.add_argument("--region", default="us-east-1")
    ARGS = p.parse_args()
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    tmp = ARGS.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(srv.server_address[1]))
    os.rename(tmp, ARGS.port_file)
    srv.serve_forever()


if __name__ == "__main__":
    main()
