# An independent reader of formats/encrypted-file.md, written from the spec
# with Debian's python3-cryptography (not OpenSSL's EVP through our code):
#   decrypt_envelope.py KEYFILE FILE  -> the plaintext on stdout, exit 0
# Exit 1 with a message when any check of the spec fails.
import hashlib
import struct
import sys
import zlib

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


def die(msg):
    sys.stderr.write(msg + "\n")
    sys.exit(1)


key = open(sys.argv[1], "rb").read()
data = open(sys.argv[2], "rb").read()
if len(key) != 32:
    die("key is not 32 bytes")
h = data[:96]
if h[:8] != b"AEROENC\n":
    die("bad magic")
version, header_size, alg, shift, flags = struct.unpack_from("<HHBBH", h, 8)
key_id, salt = h[16:32], h[32:64]
(size,) = struct.unpack_from("<Q", h, 64)
(crc,) = struct.unpack_from("<I", h, 92)
if crc != zlib.crc32(h[:92]):
    die("header crc")
if (version, header_size, shift, flags) != (2, 96, 16, 0) or h[72:92] != bytes(20):
    die("header fields")
if key_id != hashlib.sha256(b"aerodb-repl key id v1" + key).digest()[:16]:
    die("key id")
file_key = HKDF(algorithm=hashes.SHA256(), length=32, salt=salt,
                info=b"aerodb-repl encrypted-file v1" + bytes([alg])).derive(key)
aead = {1: AESGCM, 2: ChaCha20Poly1305}[alg](file_key)
n = (size + 65535) // 65536
if len(data) != 96 + size + 16 * n + 16:
    die("size")
out = bytearray()
pos = 96
for i in range(n + 1):
    final = i == n
    length = 0 if final else min(65536, size - i * 65536)
    nonce = i.to_bytes(11, "big") + (b"\x01" if final else b"\x00")
    chunk = aead.decrypt(nonce, data[pos:pos + length + 16], h)
    pos += length + 16
    if final:
        if chunk != b"":
            die("final chunk not empty")
    else:
        out += chunk
sys.stdout.buffer.write(out)
