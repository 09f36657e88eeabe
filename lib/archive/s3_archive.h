// An archive in an S3 bucket under a prefix (specs/REPLICATION_OBJECT_STORE.md):
// Archive's operations as S3 requests. Exclusive publish is a PUT with
// If-None-Match: * (OBJ-5), checked once per run by a probe (OBJ-7).
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "archive/archive.h"
#include "common/fs.h"
#include "s3/s3_client.h"
#include "s3/s3_url.h"

namespace aero::archive {

class S3Archive final : public Archive {
 public:
  // `fs` (not owned) removes the staging copies; the staging directory is
  // made under $TMPDIR (or /tmp) and removed with the archive.
  static Result<std::unique_ptr<S3Archive>> Open(Fs& fs, const s3::S3Url& url, s3::S3Config config);
  ~S3Archive() override;

  const std::string& location() const override { return location_; }
  std::string KeySource() const override;
  Result<std::vector<ArchiveEntry>> List() override;
  Result<std::unique_ptr<ReadableFile>> OpenRead(const std::string& name) override;
  Status PublishExclusive(const std::string& temp_path, const std::string& name) override;
  Status Replace(const std::string& temp_path, const std::string& name) override;
  Status Remove(const std::string& name) override;
  Status MakeDurable() override { return Status(); }  // OBJ-11: an answered PUT is durable
  std::string PathOf(const std::string& name) const override { return client_->Url(url_.Key(name)); }
  std::string TempPath(const std::string& temp_name) const override { return staging_ + "/" + temp_name; }

  // OBJ-7: whether the store refuses a second conditional create (probed
  // once, at the first exclusive publish, or now).
  Result<bool> HonoursConditionalCreate();
  Status ClaimsAllowed() override;
  // OBJ-8: the multipart uploads under the prefix that were never completed
  // (key, upload id), and their abort.
  Result<std::vector<std::pair<std::string, std::string>>> ListUploads();
  Status AbortUpload(const std::string& key, const std::string& upload_id);
  // OBJ-14: every upload under the prefix with its `Initiated` (as the
  // store states it), page after page, and the `Date` of the store's last
  // answer: prune judges staleness by the store's clock alone.
  struct DatedUpload {
    std::string key, upload_id, initiated;
  };
  struct UploadListing {
    std::string date;  // the answer's Date header
    std::vector<DatedUpload> uploads;
  };
  Result<UploadListing> ListUploadsDated();
  s3::S3Client& client() { return *client_; }

 private:
  S3Archive(Fs& fs, s3::S3Url url, std::unique_ptr<s3::S3Client> client, std::string staging);
  Result<uint64_t> LocalSize(const std::string& path);
  Status PutExclusive(const std::string& temp_path, uint64_t size, const std::string& key, bool conditional);
  Status PutMultipart(const std::string& temp_path, uint64_t size, const std::string& key);
  Result<bool> Exists(const std::string& key);

  Fs& fs_;
  s3::S3Url url_;
  std::unique_ptr<s3::S3Client> client_;
  std::string staging_;
  std::string location_;
  std::mutex probe_mu_;
  std::optional<bool> conditional_ok_;
};

}  // namespace aero::archive
