// formats/signature.md SIG-1 (the statement) and SIG-2 (the sidecar).
#include "sign/statement.h"

#include <algorithm>

#include <array>
#include <vector>

#include "history/history_file.h"
#include "segment/segment.h"
#include "sign/signature_format.h"

namespace aero::sign {

namespace {

constexpr std::array<std::string_view, 8> kKeys = {"", "kind", "name", "size", "sha256", "chain",
                                                   "epoch", "key"};
constexpr std::string_view kSignatureKey = "signature";

bool IsLowerHex(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

bool IsDecimal(std::string_view s) {
  if (s.empty() || s.size() > 20 || (s.size() > 1 && s[0] == '0')) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

std::optional<uint64_t> ParseDecimal(std::string_view s) {
  if (!IsDecimal(s)) return std::nullopt;
  uint64_t v = 0;
  for (char c : s) {
    const uint64_t d = static_cast<uint64_t>(c - '0');
    if (v > (UINT64_MAX - d) / 10) return std::nullopt;
    v = v * 10 + d;
  }
  return v;
}

bool NameByteOk(char c) {
  const auto u = static_cast<unsigned char>(c);
  return u > 0x20 && u < 0x7f && c != '/';
}

// The value a line of this key may hold, checked on a complete value
// (`partial` = false) or a prefix of one still arriving.
bool ValueOk(size_t line, std::string_view v, bool partial) {
  switch (line) {
    case 1: {  // kind
      for (std::string_view k : {kKindSegment, kKindSnapshot, kKindHistory}) {
        if (partial ? k.substr(0, v.size()) == v : k == v) return true;
      }
      return false;
    }
    case 2:  // name
      return partial ? v.size() <= kMaxNameBytes && std::all_of(v.begin(), v.end(), NameByteOk)
                     : IsStatementName(v);
    case 3:
    case 6:  // size, epoch
      if (!partial) return IsDecimal(v);
      return v.size() <= 20 && v.find_first_not_of("0123456789") == std::string_view::npos &&
             !(v.size() > 1 && v[0] == '0');
    case 4:
    case 5:  // sha256, chain
      return IsLowerHex(v) && (partial ? v.size() <= 64 : v.size() == 64);
    case 7:  // key
      return IsLowerHex(v) && (partial ? v.size() <= kKeyIdHexDigits : v.size() == kKeyIdHexDigits);
    case 8:  // signature
      return IsLowerHex(v) && (partial ? v.size() <= 2 * kSignatureBytes : v.size() == 2 * kSignatureBytes);
  }
  return false;
}

std::string_view KeyOf(size_t line) { return line == 8 ? kSignatureKey : kKeys[line]; }

// A complete line (without its '\n') as line number `i` (0..8); else why not.
std::string CheckLine(size_t i, std::string_view l) {
  if (i == 0) return l == kStatementDomain ? "" : "line 1 is not '" + std::string(kStatementDomain) + "'";
  const std::string_view key = KeyOf(i);
  if (l.size() < key.size() + 1 || l.substr(0, key.size()) != key || l[key.size()] != ' ') {
    return "line " + std::to_string(i + 1) + " is not '" + std::string(key) + " VALUE'";
  }
  if (!ValueOk(i, l.substr(key.size() + 1), false)) {
    return "line " + std::to_string(i + 1) + ": '" + std::string(key) + "' holds no valid value";
  }
  return "";
}

// A prefix of line `i` still arriving.
bool PartialLineOk(size_t i, std::string_view l) {
  if (i == 0) return kStatementDomain.substr(0, l.size()) == l;
  const std::string_view key = KeyOf(i);
  const std::string head = std::string(key) + " ";
  if (l.size() <= head.size()) return std::string_view(head).substr(0, l.size()) == l;
  return l.substr(0, head.size()) == head && ValueOk(i, l.substr(head.size()), true);
}

}  // namespace

bool IsStatementName(std::string_view name) {
  return !name.empty() && name.size() <= kMaxNameBytes && std::all_of(name.begin(), name.end(), NameByteOk);
}

std::string_view KindName(Kind k) {
  switch (k) {
    case Kind::kSegment: return kKindSegment;
    case Kind::kSnapshot: return kKindSnapshot;
    case Kind::kHistory: return kKindHistory;
  }
  return kKindSegment;
}

std::string EncodeStatement(const Statement& s) {
  std::string out;
  out.reserve(300);
  out.append(kStatementDomain).append("\n");
  out.append("kind ").append(KindName(s.kind)).append("\n");
  out.append("name ").append(s.name).append("\n");
  out.append("size ").append(std::to_string(s.size)).append("\n");
  out.append("sha256 ").append(ToHex(s.sha256)).append("\n");
  out.append("chain ").append(ToHex(s.chain)).append("\n");
  out.append("epoch ").append(std::to_string(s.epoch)).append("\n");
  out.append("key ").append(s.key_id).append("\n");
  return out;
}

Result<Statement> DecodeStatement(std::string_view bytes) {
  auto bad = [](const std::string& why) { return Status(Code::kDamage, "not a signed statement: " + why); };
  std::vector<std::string_view> lines;
  size_t pos = 0;
  while (pos < bytes.size()) {
    const size_t nl = bytes.find('\n', pos);
    if (nl == std::string_view::npos) return bad("the last line has no newline");
    lines.push_back(bytes.substr(pos, nl - pos));
    pos = nl + 1;
  }
  if (lines.size() != 8) return bad(std::to_string(lines.size()) + " lines, not 8");
  for (size_t i = 0; i < 8; ++i) {
    if (std::string why = CheckLine(i, lines[i]); !why.empty()) return bad(why);
  }
  auto value = [&](size_t i) { return lines[i].substr(KeyOf(i).size() + 1); };
  Statement s;
  const std::string_view kind = value(1);
  s.kind = kind == kKindSegment ? Kind::kSegment : kind == kKindSnapshot ? Kind::kSnapshot : Kind::kHistory;
  s.name = std::string(value(2));
  s.size = *ParseDecimal(value(3));
  (void)FromHex(value(4), s.sha256.data(), s.sha256.size());
  (void)FromHex(value(5), s.chain.data(), s.chain.size());
  const std::optional<uint64_t> epoch = ParseDecimal(value(6));
  if (!epoch || *epoch == 0 || *epoch > UINT32_MAX) return bad("epoch out of range");
  s.epoch = static_cast<uint32_t>(*epoch);
  s.key_id = std::string(value(7));
  // The name binds the kind (SIG-1).
  if (s.kind == Kind::kSegment) {
    const auto info = segment::ParseSegmentName(s.name);
    if (!info) return bad("a segment statement whose name is not a segment name");
    if (info->epoch != s.epoch) return bad("a segment statement whose name is of another epoch");
  } else if (s.kind == Kind::kHistory) {
    if (s.name != history::HistoryFileName(s.epoch)) {
      return bad("a history statement whose name is not " + history::HistoryFileName(s.epoch));
    }
  }
  return s;
}

std::string FirstDifference(const Statement& a, const Statement& b, bool ignore_key) {
  if (a.kind != b.kind) return "kind";
  if (a.name != b.name) return "name";
  if (a.size != b.size) return "size";
  if (a.sha256 != b.sha256) return "sha256";
  if (a.chain != b.chain) return "chain";
  if (a.epoch != b.epoch) return "epoch";
  if (!ignore_key && a.key_id != b.key_id) return "key";
  return "";
}

std::string SidecarName(std::string_view name) { return std::string(name) + std::string(kSidecarSuffix); }

DecodedSidecar DecodeSidecar(std::string_view bytes) {
  DecodedSidecar out;
  if (bytes.size() > kMaxSidecarBytes) {
    out.detail = "larger than " + std::to_string(kMaxSidecarBytes) + " bytes";
    return out;
  }
  if (!bytes.empty() && bytes.back() == '\0') {  // SIG-6, SEG-9: a complete sidecar ends in '\n'
    const size_t kept = bytes.find_last_not_of('\0') + 1;  // npos + 1 = 0: all NUL
    if (DecodeSidecar(bytes.substr(0, kept)).state != SidecarState::kInTransit) {
      out.detail = "NUL bytes after the end of the sidecar";  // padding, not a copy
      return out;
    }
    out.state = SidecarState::kInTransit;
    out.detail = "its last byte is NUL: a copy that preallocated the file has not written its end yet";
    return out;
  }
  size_t pos = 0, i = 0;
  while (pos < bytes.size()) {
    const size_t nl = bytes.find('\n', pos);
    if (i > 8) {
      out.detail = "bytes after the signature line";
      return out;
    }
    if (nl == std::string_view::npos) {  // a last line still arriving?
      if (PartialLineOk(i, bytes.substr(pos))) {
        out.state = SidecarState::kInTransit;
        out.detail = "the sidecar ends after " + std::to_string(bytes.size()) + " bytes, inside line " +
                     std::to_string(i + 1);
      } else {
        out.detail = "line " + std::to_string(i + 1) + " is not of the form";
      }
      return out;
    }
    if (std::string why = CheckLine(i, bytes.substr(pos, nl - pos)); !why.empty()) {
      out.detail = why;
      return out;
    }
    pos = nl + 1;
    ++i;
  }
  if (i < 9) {
    out.state = SidecarState::kInTransit;
    out.detail = "the sidecar ends after " + std::to_string(bytes.size()) + " bytes, " + std::to_string(i) +
                 " of 9 lines";
    return out;
  }
  const size_t sig_line = bytes.rfind(kSignatureKey);
  const std::string_view statement = bytes.substr(0, sig_line);
  Result<Statement> s = DecodeStatement(statement);
  if (!s.ok()) {
    out.detail = s.status().message();
    return out;
  }
  const std::string_view hex = bytes.substr(sig_line + kSignatureKey.size() + 1, 2 * kSignatureBytes);
  (void)FromHex(hex, out.sidecar.signature.data(), out.sidecar.signature.size());
  out.sidecar.statement = std::move(s).value();
  out.sidecar.statement_bytes = std::string(statement);
  out.state = SidecarState::kComplete;
  return out;
}

std::string EncodeSidecar(const Statement& s, const Signature& sig) {
  return EncodeStatement(s) + std::string(kSignatureKey) + " " + ToHex(sig) + "\n";
}

Result<std::string> SignStatement(const SigningKey& key, Statement s) {
  s.key_id = key.public_key().key_id();
  const std::string bytes = EncodeStatement(s);
  AERO_ASSIGN_OR_RETURN(Signature sig, key.Sign(bytes));
  return EncodeSidecar(s, sig);
}

}  // namespace aero::sign
