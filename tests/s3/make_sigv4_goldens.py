#!/usr/bin/python3
"""Golden SigV4 signatures made by Debian's python3-botocore (OBJ-4).

Prints JSON: a list of cases, each the request's parts (as lib/s3/sigv4.h's
SignInput takes them) and botocore's Authorization header. Checked in as
tests/s3/sigv4_goldens.json; tests/s3/sigv4_test.cc signs each case with
our signer and compares. `--check FILE` regenerates and compares with FILE
(ctest s3.sigv4_goldens_botocore, skipped where botocore is absent).
Run with /usr/bin/python3: a python3 earlier on PATH may not see botocore.
"""
import datetime
import hashlib
import json
import sys
from unittest import mock

try:
    from botocore.auth import S3SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
except ImportError:
    print("SKIP s3.sigv4_goldens_botocore: python3-botocore is not installed (apt-get install python3-botocore)")
    sys.exit(77)

CASES = [
    # method, host, path (encoded), query, headers, payload, region, token
    ("GET", "127.0.0.1:7480", "/bucket", [("list-type", "2"), ("prefix", "arch/"), ("delimiter", "/")], [], b"", "us-east-1", ""),
    ("GET", "127.0.0.1:7480", "/bucket", [("list-type", "2"), ("continuation-token", "a b+c/=="), ("prefix", "p/x y/")], [], b"", "us-east-1", ""),
    ("PUT", "127.0.0.1:7480", "/bucket/arch/0000000000000001-0000000000000010.seg", [],
     [("If-None-Match", "*"), ("x-amz-meta-aerodb-claim", "0123456789abcdef0123456789abcdef")], b"segment bytes\n", "us-east-1", ""),
    ("PUT", "s3.eu-west-1.amazonaws.com", "/b/k%20with%20space/%C3%A9", [], [("Content-Type", "application/octet-stream")], b"x" * 1000, "eu-west-1", "SESSIONTOKEN/with+chars=="),
    ("HEAD", "localhost:9000", "/bucket/a/00000002.history", [], [], b"", "us-east-1", ""),
    ("DELETE", "localhost:9000", "/bucket/a/.aerodb-probe-x", [], [], b"", "us-east-1", ""),
    ("POST", "localhost:9000", "/bucket/big", [("uploads", "")], [], b"", "us-east-1", ""),
    ("PUT", "localhost:9000", "/bucket/big", [("uploadId", "2~AbC_dEf"), ("partNumber", "10")], [], b"\x00\x01\x02" * 100, "us-east-1", ""),
    ("GET", "localhost:9000", "/bucket/big", [], [("Range", "bytes=0-4194303"), ("If-Match", "\"etag-1\"")], b"", "us-east-1", ""),
]
ACCESS = "AKIDEXAMPLE0123"
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
DATE = datetime.datetime(2026, 12, 5, 18, 30, 45)


def sign(method, host, path, query, headers, payload, region, token):
    from urllib.parse import quote
    qs = "&".join(quote(k, safe="-_.~") + "=" + quote(v, safe="-_.~") for k, v in query)
    url = "http://" + host + path + ("?" + qs if qs else "")
    req = AWSRequest(method=method, url=url, data=payload)
    for k, v in headers:
        req.headers[k] = v
    req.headers["X-Amz-Content-SHA256"] = hashlib.sha256(payload).hexdigest()
    creds = Credentials(ACCESS, SECRET, token or None)
    auth = S3SigV4Auth(creds, "s3", region)
    with mock.patch("botocore.auth.datetime") as dt:
        dt.datetime.utcnow.return_value = DATE
        dt.datetime.now.return_value = DATE
        auth.add_auth(req)
    return req.headers["Authorization"], req.headers["X-Amz-Date"]


def main():
    out = []
    for c in CASES:
        authz, amz_date = sign(*c)
        method, host, path, query, headers, payload, region, token = c
        out.append({
            "method": method, "host": host, "path": path,
            "query": [list(q) for q in query], "headers": [list(h) for h in headers],
            "payload_sha256": hashlib.sha256(payload).hexdigest(),
            "region": region, "session_token": token, "amz_date": amz_date,
            "access_key_id": ACCESS, "secret_access_key": SECRET,
            "authorization": authz,
        })
    text = json.dumps(out, indent=1, sort_keys=True) + "\n"
    if len(sys.argv) == 3 and sys.argv[1] == "--check":
        with open(sys.argv[2]) as f:
            if f.read() != text:
                print("sigv4 goldens: botocore signs differently from " + sys.argv[2], file=sys.stderr)
                sys.exit(1)
        print("sigv4 goldens: botocore agrees with " + sys.argv[2] + " (%d cases)" % len(out))
        return
    sys.stdout.write(text)


if __name__ == "__main__":
    main()
