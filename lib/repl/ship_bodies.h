// LOG-30: the records ship-wal's scan read and checked, routed to the temp
// file of the segment they belong to, so that a plain segment's body is the
// bytes the scan checked and the log is read once.
//
// The scan hands over each record (OnRecord) before it knows where its write
// set goes; at the write set's end the Shipper says (Skip, CloseCut, Begin,
// Join). Until then the write set's records are held, as references to the
// scan's read blocks, up to `hold_bytes`. A write set larger than that goes
// to a new body as soon as it is known to start a segment; otherwise the
// segments it touches get no body (or one short of their range) and are
// copied from the log instead (SEG-6: the same bytes). Memory: `hold_bytes` plus each body's
// writer queue, whatever the write sets' sizes.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "common/background_writer.h"
#include "common/byte_spans.h"
#include "common/fs.h"
#include "segment/segment_writer.h"
#include "wal/record_reader.h"

namespace aero::repl {

// One segment's body as the scan hands it over: WAL bytes [start, start +
// fed) appended to a temp file on a worker thread.
class StreamedBody {
 public:
  // Null when the temp file cannot be opened: the segment is copied instead
  // (the copy meets the same fault, and reports it).
  static std::shared_ptr<StreamedBody> Open(Fs& fs, const std::string& tmp, uint64_t start);

  // WAL bytes at `offset`: a piece that does not continue the body where
  // it ends breaks it (Take then refuses it).
  void Feed(uint64_t offset, std::string_view bytes, const ByteBlock* owner);
  void Feed(uint64_t offset, const ByteSpans& spans);

  // Waits for the writer. The file, if it holds exactly WAL bytes [start,
  // end), fed contiguously; null if it does not (the segment is copied instead; the file is
  // removed); the writer's error if appending failed.
  Result<std::unique_ptr<segment::StreamedSegment>> Take(uint64_t start, uint64_t end);

 private:
  StreamedBody(std::unique_ptr<segment::StreamedSegment> seg, uint64_t start);
  std::unique_ptr<segment::StreamedSegment> seg_;
  uint64_t start_, fed_ = 0;
  bool broken_ = false;  // a piece was fed out of place
  BackgroundWriter writer_;  // last: stopped first
};

class BodyRouter {
 public:
  // `temp_path(first_commit)`: where the body of the segment starting at
  // that commit is written.
  BodyRouter(Fs& fs, std::function<std::string(uint64_t)> temp_path, uint64_t max_segment_bytes,
             uint64_t hold_bytes)
      : fs_(fs), temp_path_(std::move(temp_path)), max_(max_segment_bytes), hold_(hold_bytes) {}

  // The next record starts a write set to ship: records before are passed over.
  void Arm() { armed_ = true; }

  // The open segment as the scan's write sets built it so far.
  struct OpenCut {
    bool empty = true;
    uint64_t start = 0;  // WAL offset of its first byte
  };
  // Each record the scan read, in order. `next_commit`: the CommitId the
  // write set in progress must have (REC-9), naming a body opened early.
  void OnRecord(const wal::Record& rec, const OpenCut& cut, uint64_t next_commit);

  // At the end of each write set, where it went:
  void Skip();  // shipped before: its records are dropped
  // The open segment closes before this write set: its body (null: copied).
  std::shared_ptr<StreamedBody> CloseCut();
  void Begin(uint64_t start, uint64_t commit);  // this write set starts a segment
  void Join();                                  // it joins the open segment
  // The scan ended: the open segment's body (null: copied).
  std::shared_ptr<StreamedBody> TakeOpen() { return std::move(open_); }

 private:
  enum class Route { kHold, kNext, kDrop };
  void EndWriteSet();

  Fs& fs_;
  std::function<std::string(uint64_t)> temp_path_;
  uint64_t max_, hold_;
  bool armed_ = false;
  std::shared_ptr<StreamedBody> open_;  // the open segment's body
  // The write set in progress.
  Route route_ = Route::kHold;
  ByteSpans held_;
  uint64_t held_start_ = 0;
  std::shared_ptr<StreamedBody> next_;  // Route::kNext: the body it starts
};

}  // namespace aero::repl
