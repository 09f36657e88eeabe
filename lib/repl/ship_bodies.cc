#include "repl/ship_bodies.h"

#include "common/log.h"

namespace aero::repl {

StreamedBody::StreamedBody(std::unique_ptr<segment::StreamedSegment> seg, uint64_t start)
    : seg_(std::move(seg)),
      start_(start),
      writer_([this](std::string_view b) { return seg_->Append(b); }) {}

std::shared_ptr<StreamedBody> StreamedBody::Open(Fs& fs, const std::string& tmp, uint64_t start) {
  Result<std::unique_ptr<segment::StreamedSegment>> seg = segment::StreamedSegment::Open(fs, tmp);
  if (!seg.ok()) {  // OPS-5: the copy that follows meets the same fault and reports it
    log::Lib().debug("{}: copied instead of streamed ({})", tmp, seg.status().message());
    return nullptr;
  }
  return std::shared_ptr<StreamedBody>(new StreamedBody(std::move(*seg), start));
}

void StreamedBody::Feed(uint64_t offset, std::string_view bytes, const ByteBlock* owner) {
  if (offset != start_ + fed_) broken_ = true;
  writer_.Write(bytes, owner);
  fed_ += bytes.size();
}

void StreamedBody::Feed(uint64_t offset, const ByteSpans& spans) {
  for (const ByteSpans::Span& s : spans.spans) {
    Feed(offset, std::string_view(s.data, s.size), s.owner ? &s.owner : nullptr);
    offset += s.size;
  }
}

Result<std::unique_ptr<segment::StreamedSegment>> StreamedBody::Take(uint64_t start, uint64_t end) {
  const Status written = writer_.Finish();
  if (!written.ok()) {
    seg_->Abandon();
    return written;
  }
  // LOG-30: exactly the bytes the segment describes, or a copy instead.
  if (broken_ || start != start_ || end - start != fed_) {
    seg_->Abandon();
    return std::unique_ptr<segment::StreamedSegment>();
  }
  return std::move(seg_);
}

void BodyRouter::OnRecord(const wal::Record& rec, const OpenCut& cut, uint64_t next_commit) {
  if (!armed_) return;
  switch (route_) {
    case Route::kDrop: return;
    case Route::kNext: next_->Feed(rec.offset, rec.bytes, rec.owner); return;
    case Route::kHold: break;
  }
  if (held_.size == 0) held_start_ = rec.offset;
  size_t took = 0;
  if (held_.size + rec.bytes.size() <= hold_) took = held_.Add(rec.bytes, rec.owner, hold_);
  if (took == rec.bytes.size()) return;
  // The write set passed hold_ before its end: decide now where it goes.
  const uint64_t reached = rec.offset + rec.bytes.size();
  if (cut.empty || reached - cut.start > max_) {  // it starts the next segment, whatever follows
    next_ = StreamedBody::Open(fs_, temp_path_(next_commit), held_start_);
  }
  if (next_) {
    next_->Feed(held_start_, held_);
    next_->Feed(rec.offset + took, rec.bytes.substr(took), rec.owner);
    route_ = Route::kNext;
  } else {  // it may join the open segment or start the next: both are copied
    route_ = Route::kDrop;
  }
  held_.Clear();
}

void BodyRouter::EndWriteSet() {
  held_.ClearKeepingLast();  // the next write set is most likely in the same block
  route_ = Route::kHold;
  next_.reset();  // a body opened for a write set that started no segment is removed
}

void BodyRouter::Skip() { EndWriteSet(); }

std::shared_ptr<StreamedBody> BodyRouter::CloseCut() { return std::move(open_); }

void BodyRouter::Begin(uint64_t start, uint64_t commit) {
  switch (route_) {
    case Route::kHold:
      open_ = StreamedBody::Open(fs_, temp_path_(commit), start);
      if (open_) open_->Feed(held_start_, held_);
      break;
    case Route::kNext: open_ = std::move(next_); break;
    case Route::kDrop: open_.reset(); break;
  }
  EndWriteSet();
}

void BodyRouter::Join() {
  // Held: its records go to the open body. Otherwise they are not in it:
  // the segment is copied, and its body file is removed now rather than
  // written on to the end (Take would find it short of the range anyway).
  if (route_ == Route::kHold) {
    if (open_) open_->Feed(held_start_, held_);
  } else {
    open_.reset();
  }
  EndWriteSet();
}

}  // namespace aero::repl
