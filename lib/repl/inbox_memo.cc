#include "repl/inbox_memo.h"

#include <nlohmann/json.hpp>

#include "common/escape.h"
#include "common/file_util.h"
#include "common/json_fields.h"
#include "history/digest.h"
#include "node/layout.h"
#include "node/shipped_position.h"

namespace aero::repl {

namespace {
constexpr int kMemoFormat = 2;  // 1: a SHA-256 of the sorted identities (read as no memo)
constexpr uint64_t kMaxMemoBytes = 64 * 1024;
}  // namespace

std::string InboxMemoPath(const std::string& data_dir, const std::string& inbox_real) {
  return JoinPath(JoinPath(data_dir, node::kInboxMemoDir), node::DirectoryKey(inbox_real) + ".json");
}

std::string FileIdentity(const std::string& name, const FileInfo& info) {
  return name + "\t" + std::to_string(info.size) + "\t" + std::to_string(info.device) + ":" +
         std::to_string(info.inode) + "\t" + std::to_string(info.mtime_ns);
}

Sha256Digest IdentityDigest(const std::string& name, const FileInfo& info) {
  return Sha256::Of(FileIdentity(name, info));
}

void MemoSum::AddToSum(const Sha256Digest& d) {  // LOG-28: sum_ += d, modulo 2^256
  unsigned carry = 0;
  for (size_t i = sum_.size(); i-- > 0;) {
    const unsigned v = static_cast<unsigned>(sum_[i]) + static_cast<unsigned>(d[i]) + carry;
    sum_[i] = static_cast<uint8_t>(v & 0xff);
    carry = v >> 8;
  }
}

void MemoSum::Add(const Sha256Digest& identity_digest) {
  AddToSum(identity_digest);
  ++count_;
}

void MemoSum::Add(const MemoSum& other) {
  AddToSum(other.sum_);
  count_ += other.count_;
}

std::optional<InboxMemo> LoadInboxMemo(Fs& fs, const std::string& path,
                                       const std::string& inbox_real) {
  Result<std::string> text = ReadSmallFile(fs, path, kMaxMemoBytes);
  if (!text.ok()) return std::nullopt;
  const nlohmann::json j = nlohmann::json::parse(*text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return std::nullopt;
  const std::optional<uint64_t> format = json_fields::Unsigned(j, "format");
  const std::optional<uint64_t> applied = json_fields::Unsigned(j, "applied");
  const std::optional<uint64_t> names = json_fields::Unsigned(j, "names");
  const std::string* inbox = json_fields::String(j, "inbox");
  const std::string* sha = json_fields::String(j, "names_sum256");
  if (!format || *format != kMemoFormat || !applied || !names || !inbox || *inbox != Utf8Escaped(inbox_real) ||
      !sha) {
    return std::nullopt;
  }
  Result<history::Digest> digest = history::ParseDigest(*sha);
  if (!digest.ok()) return std::nullopt;
  return InboxMemo{*applied, *names, *digest};
}

Status SaveInboxMemo(Fs& fs, const std::string& data_dir, const std::string& path,
                     const std::string& inbox_real, const InboxMemo& memo) {
  AERO_RETURN_IF_ERROR(fs.MakeDir(JoinPath(data_dir, node::kInboxMemoDir)));
  const nlohmann::json j = {{"format", kMemoFormat},
                            {"inbox", Utf8Escaped(inbox_real)},  // UTF-8 whatever the path's bytes
                            {"applied", memo.applied},
                            {"names", memo.names},
                            {"names_sum256", ToHex(memo.names_sum)}};
  return WriteFileAtomically(fs, path, json_fields::Dump(j, 2) + "\n");
}

}  // namespace aero::repl
