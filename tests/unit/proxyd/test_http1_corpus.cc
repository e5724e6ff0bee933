// proxyd/http1 against the corpus in tests/data/http: every file parsed
// whole, split in two at every byte and fed one byte at a time gives the same
// transcript, and the outcome tests/data/http/expected.txt records.
#include "http1_test_util.h"
#include "proxyd/http1.h"

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>

using namespace proxyd::http1;
using namespace proxyd::http1::test;
namespace fs = std::filesystem;

namespace {

fs::path corpusDir() {
  return fs::path(SRC_DIR) / "tests" / "data" / "http";
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

const std::map<std::string, Err>& errByName() {
  static const std::map<std::string, Err> m = {
#define E(x) {#x, Err::x}
      E(BareCr),
      E(BareLf),
      E(Nul),
      E(BadMethod),
      E(BadTarget),
      E(BadVersion),
      E(UnsupportedVersion),
      E(BadStatusLine),
      E(BadStartLine),
      E(UriTooLong),
      E(HeadTooLarge),
      E(TooManyHeaders),
      E(ObsFold),
      E(SpaceBeforeColon),
      E(BadHeaderName),
      E(MissingColon),
      E(BadHeaderValue),
      E(BadContentLength),
      E(ConflictingContentLength),
      E(TransferEncodingAndContentLength),
      E(TransferEncodingHttp10),
      E(BadTransferEncoding),
      E(UnknownTransferCoding),
      E(ChunkedNotLast),
      E(ChunkedTwice),
      E(NotChunkedLast),
      E(DuplicateHost),
      E(HostMismatch),
      E(UnexpectedSwitch),
      E(MissingWebSocketKey),
      E(MissingWebSocketAccept),
      E(BadChunkSize),
      E(ChunkSizeOverflow),
      E(BadChunkExtension),
      E(ChunkLineTooLong),
      E(BadChunkEnd),
      E(TrailerTooLarge),
      E(Truncated),
#undef E
  };
  return m;
}

struct Entry {
  std::string path;
  bool ok = true;
  int messages = 0;
  int status = 0;
  std::uint64_t offset = 0;
  Err err = Err::None;
};

std::vector<Entry> manifest() {
  std::vector<Entry> out;
  std::istringstream in(slurp(corpusDir() / "expected.txt"));
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream ls(line);
    Entry e;
    std::string what;
    ls >> e.path >> what;
    if (what == "ok") {
      ls >> e.messages;
    } else {
      e.ok = false;
      e.status = std::stoi(what);
      std::string name;
      ls >> e.offset >> name;
      const auto it = errByName().find(name);
      INFO(line);
      REQUIRE(it != errByName().end());
      e.err = it->second;
    }
    out.push_back(e);
  }
  return out;
}

RequestContext contextFor(const std::string& path) {
  const auto name = fs::path(path).filename().string();
  if (name.rfind("head_", 0) == 0) return {Method::Head, false};
  if (name.rfind("connect_", 0) == 0) return {Method::Connect, false};
  if (name.rfind("upgrade_", 0) == 0) return {Method::Get, true};
  return {};
}

} // namespace

TEST_CASE("every corpus file is listed in expected.txt and the reverse", "[http1]") {
  std::set<std::string> listed, present;
  for (const auto& e : manifest())
    listed.insert(e.path);
  for (const auto& f : fs::recursive_directory_iterator(corpusDir())) {
    if (!f.is_regular_file() || f.path().extension() != ".http") continue;
    present.insert(fs::relative(f.path(), corpusDir()).generic_string());
  }
  CHECK(listed == present);
  CHECK(present.size() >= 80);
}

TEST_CASE("corpus: each file gives the recorded outcome, however it is split", "[http1]") {
  int valid = 0, invalid = 0;
  for (const auto& e : manifest()) {
    INFO(e.path);
    const std::string data = slurp(corpusDir() / e.path);
    REQUIRE(!data.empty());
    const bool response = e.path.find("/response/") != std::string::npos;
    const Kind kind = response ? Kind::Response : Kind::Request;
    const Outcome o = everySplit(kind, data, response, contextFor(e.path));
    INFO(o.text());
    if (e.ok) {
      ++valid;
      CHECK_FALSE(o.failed);
      CHECK(o.messages == e.messages);
      // What goes on (heads as received, bodies re-encoded) is never longer
      // than the stream, means the same, and is its own re-encoding.
      CHECK(o.forwarded.size() <= data.size());
      const Outcome again = whole(kind, o.forwarded, response, contextFor(e.path));
      CHECK(again.text() == o.text());
      CHECK(again.forwarded == o.forwarded);
    } else {
      ++invalid;
      REQUIRE(o.failed);
      CHECK(describe(o.error.code) == std::string(describe(e.err)));
      CHECK(o.error.status == e.status);
      CHECK(o.error.offset == e.offset);
    }
  }
  CHECK(valid >= 25);
  CHECK(invalid >= 50);
}

// The property behind "a refused message never reaches the server": whatever
// two pieces a refused stream arrives in (everySplit: every split point, and
// one byte at a time), what the parser lets through before the error is
// exactly what it lets through for the bytes before the offending one --
// nothing of the bad line or field, nothing past the last validated byte.
// A message refused in its head lets nothing of itself through.
TEST_CASE("corpus: a refused stream forwards nothing past its last valid byte", "[http1]") {
  int checked = 0;
  for (const auto& e : manifest()) {
    if (e.ok) continue;
    INFO(e.path);
    const std::string data = slurp(corpusDir() / e.path);
    const bool response = e.path.find("/response/") != std::string::npos;
    const Kind kind = response ? Kind::Response : Kind::Request;
    const Outcome o = everySplit(kind, data, response, contextFor(e.path));
    REQUIRE(o.failed);
    REQUIRE(o.errorAt <= data.size());
    const Outcome valid = whole(kind, data.substr(0, o.errorAt), false, contextFor(e.path));
    INFO(o.text() << "--- the valid prefix:\n" << valid.text());
    REQUIRE_FALSE(valid.failed);
    CHECK(o.forwarded == valid.forwarded);
    const bool headRefused = o.events.size() < 2 || o.events[o.events.size() - 2] == "END";
    if (headRefused && o.messages == 0) CHECK(o.forwarded.empty());
    ++checked;
  }
  CHECK(checked >= 55);
}
