// Zero-copy hand-off to the worker threads (lib/common/byte_spans.h): the
// read buffer's blocks are never written once handed out, the writer and the
// digest chain given references see exactly the bytes they would have
// copied, and blocks are recycled, so memory stays flat.
#include <doctest/doctest.h>

#include <random>
#include <string>
#include <vector>

#include "common/background_writer.h"
#include "common/byte_spans.h"
#include "common/read_buffer.h"
#include "history/async_chain.h"
#include "support/test_util.h"

using namespace aero;

namespace {

std::string RandomBytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng());
  return s;
}

struct Held {
  ByteBlock block;
  const char* data;
  std::string want;
};

}  // namespace

TEST_CASE("read buffer: bytes in a handed-out block stay as they were while the rest is read") {
  const std::string data = RandomBytes(3 * ReadBuffer::kMaxChunk + 12345, 1);
  for (size_t stride : {size_t{0}, size_t{5000}}) {
    testing::StringFile file(data, "mem.log", stride);
    ReadBuffer in(&file);
    std::mt19937 rng(2);
    std::vector<Held> held;  // references kept, as a worker would keep them
    std::vector<const char*> blocks;
    size_t at = 0;
    while (at < data.size()) {
      const size_t n = std::min<size_t>(data.size() - at, 1 + rng() % 40000);  // "records"
      REQUIRE(in.Fill(n));
      REQUIRE(in.block());
      CHECK(std::string_view(in.data(), n) == std::string_view(data).substr(at, n));
      if (rng() % 3 == 0) held.push_back({in.block(), in.data(), data.substr(at, n)});
      if (blocks.empty() || blocks.back() != in.block().get()) blocks.push_back(in.block().get());
      in.Consume(n);
      at += n;
    }
    CHECK(!in.Fill(1));
    // A block is never moved or overwritten while a reference to it is held:
    // every held range still has the bytes it had when it was handed out.
    for (const Held& h : held) CHECK(std::string_view(h.data, h.want.size()) == h.want);
    CHECK(blocks.size() > 2);  // the test crossed blocks
  }
}

TEST_CASE("read buffer: a block grown for one large record is not kept for the small ones after it") {
  const size_t large = 4u << 20;
  const std::string data = RandomBytes(large + 40 * ReadBuffer::kMaxChunk, 3);
  testing::StringFile file(data, "mem.log");
  ReadBuffer in(&file);
  REQUIRE(in.Fill(large));
  CHECK(in.capacity() >= large);
  in.Consume(large);
  size_t at = large;
  while (at + 1000 <= data.size()) {
    REQUIRE(in.Fill(1000));
    CHECK(std::string_view(in.data(), 1000) == std::string_view(data).substr(at, 1000));
    in.Consume(1000);
    at += 1000;
  }
  CHECK(in.capacity() <= BlockPool::kMaxFreeBytes);  // a block the pool keeps: reused, not reallocated
}

TEST_CASE("block pool: a released block is reused, and at most kMaxFreeBytes wait") {
  auto pool = BlockPool::Make();
  size_t got = 0;
  const char* first = nullptr;
  {
    std::shared_ptr<char> a = pool->Acquire(4096, &got);
    CHECK(got == 4096);
    first = a.get();
  }
  std::shared_ptr<char> b = pool->Acquire(1000, &got);  // the released one fits
  CHECK(b.get() == first);
  CHECK(got == 4096);
  std::shared_ptr<char> c = pool->Acquire(8192, &got);  // bigger: a new one
  CHECK(c.get() != first);
  CHECK(got == 8192);
  CHECK(pool->FreeBytes() == 0);
  {
    std::vector<std::shared_ptr<char>> many;
    const size_t block = 256 * 1024;
    for (size_t i = 0; i < 3 * BlockPool::kMaxFreeBytes / block; ++i) many.push_back(pool->Acquire(block, &got));
  }  // all released: kMaxFreeBytes kept, the rest freed (ASan shows no leak)
  CHECK(pool->FreeBytes() == BlockPool::kMaxFreeBytes);
  std::shared_ptr<char> d = pool->Acquire(8192, &got);  // a kept block is reused
  CHECK(got == 256 * 1024);
  CHECK(pool->FreeBytes() == BlockPool::kMaxFreeBytes - got);
  std::shared_ptr<char> e = pool->Acquire(1u << 20, &got);  // bigger: the smaller kept ones are stale
  CHECK(pool->FreeBytes() == 0);
  {
    std::shared_ptr<char> large = pool->Acquire(BlockPool::kMaxFreeBytes + 1, &got);
  }  // a block grown for one large record is not kept
  CHECK(pool->FreeBytes() == 0);
  pool.reset();  // blocks may outlive their pool
  b.reset();
  c.reset();
}

TEST_CASE("byte spans: contiguous bytes of one block make one span, unowned bytes are copied") {
  auto pool = BlockPool::Make();
  size_t got = 0;
  std::shared_ptr<char> mem = pool->Acquire(100, &got);
  for (int i = 0; i < 100; ++i) mem.get()[i] = static_cast<char>(i);
  const ByteBlock block = mem;
  ByteSpans s;
  CHECK(s.Add(std::string_view(block.get(), 10), &block, 64) == 10);
  CHECK(s.Add(std::string_view(block.get() + 10, 30), &block, 64) == 30);
  REQUIRE(s.spans.size() == 1);
  CHECK(s.spans[0].size == 40);
  CHECK(block.use_count() == 3);  // mem, block, one span: one reference per block run
  CHECK(s.Add(std::string_view(block.get() + 50, 5), &block, 64) == 5);  // not contiguous
  CHECK(s.spans.size() == 2);
  const std::string loose(100, 'x');
  CHECK(s.Add(loose, nullptr, 64) == 64);  // copied, up to the limit
  CHECK(s.copy == std::string(64, 'x'));
  CHECK(s.size == 109);
  CHECK(s.Full(64));
  s.Clear();
  CHECK(block.use_count() == 2);  // the spans' references are dropped
  CHECK(s.size == 0);
}

TEST_CASE("byte spans: a hold cleared at each write set's end keeps one reference to its block, not a new one per set") {
  auto pool = BlockPool::Make();
  size_t got = 0;
  std::shared_ptr<char> mem = pool->Acquire(100, &got);
  const ByteBlock block = mem;
  std::shared_ptr<char> other_mem = pool->Acquire(100, &got);
  const ByteBlock other = other_mem;
  ByteSpans held;
  for (int set = 0; set < 5; ++set) {
    REQUIRE(held.Add(std::string_view(block.get() + 10 * set, 10), &block, 64) == 10);
    CHECK(block.use_count() == 3);  // mem, block, and the hold's one reference
    CHECK(held.spans[0].data == block.get() + 10 * set);
    held.ClearKeepingLast();
    CHECK(held.size == 0);
    CHECK(held.spans.empty());
    CHECK(block.use_count() == 3);  // kept for the next set, not dropped and taken again
  }
  // Bytes of another block: the kept reference is not theirs.
  REQUIRE(held.Add(std::string_view(other.get(), 10), &other, 64) == 10);
  CHECK(held.spans[0].owner.get() == other.get());
  CHECK(other.use_count() == 3);
  held.ClearKeepingLast();  // now keeps `other`, and lets `block` go
  CHECK(block.use_count() == 2);
  CHECK(other.use_count() == 3);
  held.Clear();  // a plain Clear keeps nothing
  CHECK(other.use_count() == 2);
}

TEST_CASE("background writer: referenced and copied bytes reach the sink in order, and after the first error the rest is dropped") {
  const std::string data = RandomBytes(5 * BackgroundWriter::kChunkBytes + 777, 3);
  testing::StringFile file(data);
  ReadBuffer in(&file);
  std::string written;  // the worker's until Finish()
  std::mt19937 rng(4);
  {
    BackgroundWriter w([&](std::string_view b) {
      written.append(b);
      return Status::Ok();
    });
    for (size_t at = 0; at < data.size();) {
      const size_t n = std::min<size_t>(data.size() - at, 1 + rng() % 30000);
      REQUIRE(in.Fill(n));
      const ByteBlock& owner = in.block();
      w.Write(std::string_view(in.data(), n), rng() % 4 == 0 ? nullptr : &owner);
      in.Consume(n);
      at += n;
    }
    REQUIRE(w.Finish().ok());
  }
  CHECK(written == data);

  int calls = 0;
  BackgroundWriter failing([&](std::string_view) {
    ++calls;
    return calls == 2 ? Status(Code::kIo, "disk full") : Status::Ok();
  });
  const std::string big(BackgroundWriter::kChunkBytes, 'y');
  for (int i = 0; i < 6; ++i) failing.Write(big);
  const Status s = failing.Finish();
  CHECK(s.code() == Code::kIo);
  CHECK(calls == 2);
}

TEST_CASE("HIST-2 the chain given block references equals the chain given copies") {
  const std::string data = RandomBytes(4 * history::AsyncDigestChain::kChunkBytes + 999, 5);
  const history::Digest start = history::SeedDigest(history::SystemId{});
  history::AsyncDigestChain by_ref(start), by_copy(start);
  testing::StringFile file(data, "mem.log", 3000);
  ReadBuffer in(&file);
  std::mt19937 rng(6);
  uint64_t commit = 0;
  for (size_t at = 0; at < data.size();) {
    const size_t n = std::min<size_t>(data.size() - at, 1 + rng() % 20000);
    REQUIRE(in.Fill(n));
    const std::string_view rec(in.data(), n);
    const ByteBlock& owner = in.block();
    by_ref.Update(rec, rng() % 5 == 0 ? nullptr : &owner);
    by_copy.Update(rec);
    if (rng() % 3 == 0) {
      ++commit;
      by_ref.EndWriteSet(commit);
      by_copy.EndWriteSet(commit);
      if (commit % 4 == 0) {
        by_ref.Keep(commit);
        by_copy.Keep(commit);
      }
    }
    in.Consume(n);
    at += n;
  }
  REQUIRE(commit > 8);
  CHECK(by_ref.Finish() == by_copy.Finish());
  for (uint64_t c = 4; c <= commit; c += 4) {
    REQUIRE(by_ref.Get(c).has_value());
    CHECK(*by_ref.Get(c) == *by_copy.Get(c));
  }
}
