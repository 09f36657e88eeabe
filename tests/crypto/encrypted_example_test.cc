// The worked example of formats/encrypted-file.md (ENC-1..ENC-4), read from
// the document itself: the dump was made from the spec alone with Debian's
// python3-cryptography, so our reader, our header encoding, our key id and
// our HKDF must all agree with it, and the document cannot drift from the
// code unnoticed.
#include <doctest/doctest.h>

#include <fstream>
#include <sstream>
#include <string>

#include "common/sha256.h"
#include "crypto/encrypted_file.h"
#include "crypto/key_store.h"
#include "support/string_file.h"

using namespace aero;
using namespace aero::crypto;
using namespace aero::testing;

namespace {

std::string ExampleFormatText() {
  std::ifstream in(std::string(AERODB_SOURCE_DIR) + "/formats/encrypted-file.md");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The first backquoted token after `label` in the document.
std::string ExampleValueAfter(const std::string& doc, const std::string& label) {
  const size_t at = doc.find(label);
  REQUIRE_MESSAGE(at != std::string::npos, "the example names '" << label << "'");
  const size_t open = doc.find('`', at + label.size());
  const size_t close = doc.find('`', open + 1);
  REQUIRE((open != std::string::npos && close != std::string::npos));
  return doc.substr(open + 1, close - open - 1);
}

// The bytes of the dump between the example's markers ("OFFSET: hh hh ...").
std::string ExampleDumpBytes(const std::string& doc) {
  const size_t begin = doc.find("<!-- enc-example begin -->");
  const size_t end = doc.find("<!-- enc-example end -->");
  REQUIRE((begin != std::string::npos && end != std::string::npos && begin < end));
  std::istringstream lines(doc.substr(begin, end - begin));
  std::string line, bytes;
  uint64_t expect_offset = 0;
  while (std::getline(lines, line)) {
    const size_t colon = line.find(": ");
    if (colon != 4) continue;
    CHECK(std::stoull(line.substr(0, 4), nullptr, 16) == expect_offset);
    std::istringstream hex(line.substr(colon + 2));
    std::string b;
    while (hex >> b) {
      uint8_t v = 0;
      REQUIRE(FromHex(b, &v, 1));
      bytes.push_back(static_cast<char>(v));
      ++expect_offset;
    }
  }
  return bytes;
}

MasterKey ExampleMasterKey() {
  MasterKey k;
  for (size_t i = 0; i < k.bytes.size(); ++i) k.bytes[i] = static_cast<uint8_t>(i);
  k.id = KeyIdOf(k.bytes);
  k.path = "example.key";
  return k;
}

}  // namespace

TEST_CASE("ENC-1 ENC-2 ENC-3 ENC-4 the format's worked example decrypts through our reader, and our header, key id and file key are the example's") {
  const std::string doc = ExampleFormatText();
  REQUIRE(!doc.empty());
  const std::string file = ExampleDumpBytes(doc);
  REQUIRE(file.size() == 142);
  const MasterKey key = ExampleMasterKey();

  // ENC-2: the key id.
  CHECK(KeyIdHex(key.id) == ExampleValueAfter(doc, "its key id (ENC-2):"));

  // ENC-1: the header decodes to the example's fields, and our encoding of
  // those fields is the example's 96 bytes (CRC included).
  EncHeader h;
  REQUIRE(DecodeEncHeader(std::string_view(file).substr(0, kEncHeaderBytes), &h).empty());
  CHECK(h.algorithm == Algorithm::kAes256Gcm);
  CHECK(h.key_id == key.id);
  CHECK(h.plaintext_size == 14);
  for (size_t i = 0; i < h.salt.size(); ++i) CHECK(h.salt[i] == 0x20 + i);
  CHECK(EncodeEncHeader(h) == file.substr(0, kEncHeaderBytes));

  // ENC-3: the file key.
  auto fk = DeriveFileKey(key, h);
  REQUIRE(fk.ok());
  CHECK(ToHex(*fk) == ExampleValueAfter(doc, "info = the 29-byte label then `01`):"));

  // ENC-4, ENC-8: the chunks verify, the plaintext is the example's, and
  // the final chunk is the tag of an empty plaintext (142 bytes in all).
  KeyStore keys;
  keys.Add(key);
  auto view = OpenDecrypting(std::make_unique<StringFile>(file, "example.enc"), &keys);
  REQUIRE(EnvelopeStatus(*view, "example").ok());
  std::string plain(64, '\0');
  auto got = view->Read(plain.data(), plain.size());
  REQUIRE(got.ok());
  plain.resize(*got);
  CHECK(plain == "hello, aerodb\n");
  CHECK(file.size() == EncryptedSize(14));
  CHECK(file.size() == 142);
  StringFile raw(file, "example.enc");
  CHECK(CheckEnvelope(raw, &keys).state == Verdict::kValid);

  // And the example is not accepted by accident: one flipped bit in each
  // chunk (and in the header, its CRC fixed or not) is refused.
  for (size_t at : {size_t{20}, size_t{0x60}, size_t{0x7e}, size_t{141}}) {
    std::string bad = file;
    bad[at] = static_cast<char>(bad[at] ^ 0x01);
    StringFile f(bad, "example.enc");
    CAPTURE(at);
    CHECK(CheckEnvelope(f, &keys).state == Verdict::kCorrupt);
  }
}
