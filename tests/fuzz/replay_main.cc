// A stand-in for libFuzzer's driver, so every fuzz target runs under ctest with
// g++: it feeds the seed corpus, then seeded random mutations of it, to
// LLVMFuzzerTestOneInput. Not coverage-guided; it replays the corpus and shakes
// the parsers a little on every test run.
//
//   <target>_fuzz [--seed=N] [--mutations=N] <corpus dir or file>...
//
// The seed is printed first; $P2P_FUZZ_SEED or --seed replays a run. If a
// target aborts, the input is written to ./fuzz-crash-<seed> first.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "core/rng.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

namespace core = p2p::core;
using Input = std::vector<std::uint8_t>;

// What a crash handler may read: set before each run.
const Input* g_current = nullptr;
char g_crash_path[64];

void on_abort(int sig) {
  // Only async-signal-safe calls here.
  if (g_current != nullptr) {
    int fd = open(g_crash_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
      ssize_t ignored = write(fd, g_current->data(), g_current->size());
      (void)ignored;
      close(fd);
      static const char kMsg[] = "replay: crashing input saved to ";
      ignored = write(2, kMsg, sizeof kMsg - 1);
      ignored = write(2, g_crash_path, std::strlen(g_crash_path));
      ignored = write(2, "\n", 1);
    }
  }
  std::signal(sig, SIG_DFL);
  std::raise(sig);
}

void run(const Input& in) {
  g_current = &in;
  // An exact-size heap copy, so a sanitizer sees any read past the end.
  Input copy(in);
  LLVMFuzzerTestOneInput(copy.data(), copy.size());
  g_current = nullptr;
}

// Fragments that matter to the wire parsers: bencode structure, query syntax,
// percent escapes, multipart delimiters, numbers at the edges; BEP 15's
// protocol id and actions, BEP 41 option headers (binary, hence the sizes).
// clang-format off
const std::string_view kTokens[] = {
    "i",  "e",  "l",  "d",         "0:",         "i-0e",       "i0e",       "-",
    "%",  "%0", "%zz", "%00",      "%FF",        "&",          "=",         "+",
    "info_hash=",    "peer_id=",   "port=",      "left=",      "event=",    "numwant=-1",
    "ip=",           "key=",       "compact=0",  "\r\n",       "\r\n\r\n",  "--",
    "\"",            ";",          "boundary=",  "filename=",  "name=",     "Content-Disposition: ",
    "18446744073709551616",        "65536",      "4294967296", "99999999999999999999:",
    {"\x00\x00\x04\x17\x27\x10\x19\x80", 8},    {"\x00\x00\x00\x01", 4},  {"\x00\x00\x00\x02", 4},
    {"\x00\x00\x00\x03", 4},    {"\xff\xff\xff\xff", 4},  {"\x02\xff", 2},  {"\x01\x01\x00", 3},
};
// clang-format on

std::size_t pick(core::Rng& rng, std::size_t n) { return n == 0 ? 0 : rng.below(n); }

void mutate(Input& in, const std::vector<Input>& corpus, core::Rng& rng) {
  constexpr std::size_t kMaxSize = 64 * 1024;
  switch (rng.below(9)) {
    case 0:  // flip a bit
      if (!in.empty()) in[pick(rng, in.size())] ^= static_cast<std::uint8_t>(1u << rng.below(8));
      break;
    case 1:  // overwrite a byte
      if (!in.empty()) in[pick(rng, in.size())] = static_cast<std::uint8_t>(rng.next());
      break;
    case 2:  // insert a byte
      in.insert(in.begin() + static_cast<std::ptrdiff_t>(pick(rng, in.size() + 1)),
                static_cast<std::uint8_t>(rng.next()));
      break;
    case 3: {  // erase a range
      if (in.empty()) break;
      std::size_t at = pick(rng, in.size());
      std::size_t n = 1 + pick(rng, std::min<std::size_t>(in.size() - at, 16));
      in.erase(in.begin() + static_cast<std::ptrdiff_t>(at),
               in.begin() + static_cast<std::ptrdiff_t>(at + n));
      break;
    }
    case 4: {  // duplicate a range somewhere
      if (in.empty()) break;
      std::size_t at = pick(rng, in.size());
      std::size_t n = 1 + pick(rng, std::min<std::size_t>(in.size() - at, 64));
      Input chunk(in.begin() + static_cast<std::ptrdiff_t>(at),
                  in.begin() + static_cast<std::ptrdiff_t>(at + n));
      in.insert(in.begin() + static_cast<std::ptrdiff_t>(pick(rng, in.size() + 1)), chunk.begin(),
                chunk.end());
      break;
    }
    case 5:
    case 6: {  // insert a token
      std::string_view t = kTokens[pick(rng, std::size(kTokens))];
      in.insert(in.begin() + static_cast<std::ptrdiff_t>(pick(rng, in.size() + 1)), t.begin(),
                t.end());
      break;
    }
    case 7: {  // splice: our head, another input's tail
      const Input& other = corpus[pick(rng, corpus.size())];
      std::size_t keep = pick(rng, in.size() + 1);
      std::size_t from = pick(rng, other.size() + 1);
      in.resize(keep);
      in.insert(in.end(), other.begin() + static_cast<std::ptrdiff_t>(from), other.end());
      break;
    }
    default:  // truncate
      in.resize(pick(rng, in.size() + 1));
      break;
  }
  if (in.size() > kMaxSize) in.resize(kMaxSize);
}

bool read_file(const std::filesystem::path& path, Input& out) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return false;
  out.assign(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  std::uint64_t seed = std::random_device()() | std::uint64_t{std::random_device()()} << 32;
  if (const char* env = std::getenv("P2P_FUZZ_SEED")) seed = std::strtoull(env, nullptr, 10);
  long mutations = 20000;
  std::vector<std::filesystem::path> paths;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg.starts_with("--seed=")) {
      seed = std::strtoull(argv[i] + 7, nullptr, 10);
    } else if (arg.starts_with("--mutations=")) {
      mutations = std::strtol(argv[i] + 12, nullptr, 10);
    } else {
      paths.emplace_back(arg);
    }
  }
  std::printf("replay: seed %llu (rerun with --seed=%llu)\n", static_cast<unsigned long long>(seed),
              static_cast<unsigned long long>(seed));
  std::snprintf(g_crash_path, sizeof g_crash_path, "fuzz-crash-%llu",
                static_cast<unsigned long long>(seed));
  std::signal(SIGABRT, on_abort);
  std::signal(SIGSEGV, on_abort);

  // Corpus files in name order, so a run depends only on the seed.
  std::vector<std::filesystem::path> files;
  for (const auto& p : paths) {
    if (std::filesystem::is_directory(p)) {
      for (const auto& e : std::filesystem::recursive_directory_iterator(p)) {
        if (e.is_regular_file()) files.push_back(e.path());
      }
    } else {
      files.push_back(p);
    }
  }
  std::sort(files.begin(), files.end());
  std::vector<Input> corpus;
  for (const auto& f : files) {
    Input in;
    if (!read_file(f, in)) {
      std::fprintf(stderr, "replay: cannot read %s\n", f.c_str());
      return 2;
    }
    corpus.push_back(std::move(in));
  }
  if (corpus.empty()) {
    std::fprintf(stderr, "replay: no corpus inputs given\n");
    return 2;
  }

  for (const Input& in : corpus) run(in);
  core::Rng rng(seed);
  for (long i = 0; i < mutations; ++i) {
    Input in = corpus[pick(rng, corpus.size())];
    for (std::uint64_t n = 1 + rng.below(4); n > 0; --n) mutate(in, corpus, rng);
    run(in);
  }
  std::printf("replay: %zu corpus inputs and %ld mutations passed\n", corpus.size(), mutations);
  return 0;
}
