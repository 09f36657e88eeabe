// `aerodb-repl snapshot export`: a node's state at one commit boundary as a
// verified archive (specs/REPLICATION_SNAPSHOT_TRANSFER.md SNAP-2..SNAP-5, SNAP-13, SNAP-14).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "common/fs.h"
#include "common/status.h"
#include "crypto/encrypted_file.h"
#include "sign/ed25519.h"
#include "snapshot/archive_format.h"

namespace aero::repl {

struct ExportOptions {
  std::string data_dir;
  std::string output;  // a file path, or s3://BUCKET/PREFIX/NAME (OBJ-20)
  bool zstd = true;
  int level = 3;  // zstd level (SNAP-4: fixed per run, so output is deterministic)
  // For an AeroDB directory without replication/: the system id to seed the
  // history digest with (HIST-4; all zero when unset).
  std::optional<std::string> system_id_hex;
  // ENC-12 (optional): write the archive in an encryption envelope
  // (formats/encrypted-file.md) with this key (--encryption-key).
  const crypto::EncryptionKey* encryption = nullptr;
  // SIG-20 (optional): publish NAME.sig, signed with this key, before NAME
  // (--signing-key).
  const sign::SigningKey* signing = nullptr;
  // SNAP-9: the most files an archive holds, the reader's bound (lower only
  // in tests: a tree at the bound is 100,000 files).
  uint64_t max_members = snapshot::kMaxMembers;
};

struct ExportReport {
  std::string output;
  uint64_t base_commit = 0;
  uint64_t boundary_commit = 0;
  std::string boundary_digest;
  uint64_t members = 0;
  uint64_t data_bytes = 0;     // member bytes, uncompressed
  uint64_t archive_bytes = 0;  // the file written
};

// `progress` (optional) is called with (bytes done, bytes total) while writing.
Status ExportSnapshot(Fs& fs, const ExportOptions& options, ExportReport* report,
                      const std::function<void(uint64_t, uint64_t)>& progress = {});

}  // namespace aero::repl
