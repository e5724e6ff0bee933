// Every example in conf/ parses with the outcome conf/EXPECTED records.
#include "config_test_util.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

using namespace proxyd;
using namespace proxyd::test;
namespace fs = std::filesystem;

namespace {

// The source tree: $SRC when set, else three levels above this file
// (tests/unit/proxyd/).
fs::path sourceDir() {
  if (const char* src = std::getenv("SRC")) return src;
  return fs::path(__FILE__).parent_path().parent_path().parent_path().parent_path();
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct Expectation {
  std::string file;
  bool ok = true;
  std::string firstError; // substring
};

std::vector<Expectation> readExpected(const fs::path& path) {
  std::vector<Expectation> out;
  std::istringstream in(slurp(path));
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream words(line);
    Expectation e;
    std::string verdict;
    words >> e.file >> verdict;
    e.ok = verdict == "ok";
    std::getline(words >> std::ws, e.firstError);
    out.push_back(e);
  }
  return out;
}

} // namespace

TEST_CASE("each conf/ example parses as conf/EXPECTED says", "[config][files]") {
  fs::path conf = sourceDir() / "conf";
  REQUIRE(fs::exists(conf / "EXPECTED"));
  auto expected = readExpected(conf / "EXPECTED");
  REQUIRE(expected.size() >= 8);
  for (const Expectation& e : expected) {
    INFO(e.file);
    REQUIRE(fs::exists(conf / e.file));
    auto o = parseConfig({ConfigFile{e.file, slurp(conf / e.file)}});
    INFO(joined(o.errors));
    if (e.ok) {
      CHECK(o.ok());
      CHECK(!dumpYaml(o.config).empty());
    } else {
      REQUIRE_FALSE(o.ok());
      CHECK(o.errors.front().find(e.firstError) != std::string::npos);
    }
  }
}

TEST_CASE("every .cfg in conf/ is listed in conf/EXPECTED", "[config][files]") {
  fs::path conf = sourceDir() / "conf";
  auto expected = readExpected(conf / "EXPECTED");
  for (const auto& entry : fs::directory_iterator(conf)) {
    if (entry.path().extension() != ".cfg") continue;
    std::string name = entry.path().filename().string();
    INFO(name);
    bool listed = false;
    for (const auto& e : expected)
      listed = listed || e.file == name;
    CHECK(listed);
  }
}

TEST_CASE("tests/data/config good and bad snippets", "[config][files]") {
  fs::path dir = sourceDir() / "tests" / "data" / "config";
  REQUIRE(fs::exists(dir));
  int seen = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    std::string name = entry.path().filename().string();
    if (entry.path().extension() != ".cfg") continue;
    INFO(name);
    auto o = parseConfig({ConfigFile{name, slurp(entry.path())}});
    INFO(joined(o.errors));
    ++seen;
    if (name.rfind("good-", 0) == 0) {
      CHECK(o.ok());
    } else {
      // bad-*.cfg: its first line is "# expect: SUBSTRING" of the first error
      std::string first = slurp(entry.path()).substr(0, slurp(entry.path()).find('\n'));
      std::string want = first.substr(first.find(':') + 2);
      REQUIRE_FALSE(o.ok());
      CHECK(o.errors.front().find(want) != std::string::npos);
    }
  }
  CHECK(seen > 0);
}
