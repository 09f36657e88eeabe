// Replays every file of a corpus directory through the fuzz target, so the
// corpus (every input that ever crashed the fuzzer, plus seeds) runs as a
// normal test under the regular build and its sanitizers. With MIN_VALID, a
// target that counts the inputs it found valid (FuzzReplayValidInputs) must
// have found at least that many: seeds that went stale fail the replay.
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);
extern "C" __attribute__((weak)) uint64_t FuzzReplayValidInputs();

int main(int argc, char** argv) {
  if (argc != 2 && argc != 3) {
    std::fprintf(stderr, "usage: %s CORPUS_DIR [MIN_VALID]\n", argv[0]);
    return 2;
  }
  int n = 0;
  for (const auto& e : std::filesystem::directory_iterator(argv[1])) {
    if (!e.is_regular_file()) continue;
    std::ifstream in(e.path(), std::ios::binary);
    std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
    ++n;
  }
  std::printf("replayed %d corpus inputs\n", n);
  if (argc == 3) {
    const unsigned long long want = std::stoull(argv[2]);
    const unsigned long long valid = FuzzReplayValidInputs ? FuzzReplayValidInputs() : 0;
    std::printf("%llu of them valid (at least %llu expected)\n", valid, want);
    if (valid < want) return 1;
  }
  return n > 0 ? 0 : 1;
}
