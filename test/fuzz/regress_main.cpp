// Replays every file of a corpus directory through LLVMFuzzerTestOneInput: the regression
// half of each fuzz target, built with any compiler and run in the 'fuzz-regress' suite.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <system_error>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
    return 2;
  }
  const std::filesystem::path dir = argv[1];
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    std::fprintf(stderr, "%s: not a directory\n", argv[1]);
    return 1;
  }
  std::size_t ran = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    if (!entry.is_regular_file()) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    // Exactly-sized buffer, so that sanitizers catch a read past the input.
    const std::vector<std::uint8_t> bytes{std::istreambuf_iterator<char>(in),
                                          std::istreambuf_iterator<char>()};
    const auto* data = bytes.empty() ? nullptr : bytes.data();
    LLVMFuzzerTestOneInput(data, bytes.size());
    ++ran;
  }
  if (ec) {
    std::fprintf(stderr, "%s: %s\n", argv[1], ec.message().c_str());
    return 1;
  }
  std::printf("%zu inputs ran from %s\n", ran, argv[1]);
  if (ran == 0) {
    std::fprintf(stderr, "%s: empty corpus\n", argv[1]);
    return 1;
  }
  return 0;
}
