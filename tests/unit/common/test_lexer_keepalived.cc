#include "common/lexer_keepalived.h"

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fnmatch.h>
#include <fstream>
#include <map>
#include <unistd.h>

using common::ConfigError;
using common::KaNode;
using common::lexKeepalived;

namespace {

using V = std::vector<std::string>;

// An in-memory file system for includes.
struct FakeFs {
  std::map<std::string, std::string> files;
  std::vector<std::string> globbed; // patterns asked for, in order

  common::FileReader reader() {
    return [this](const std::string& path) -> std::optional<std::string> {
      auto it = files.find(path);
      if (it == files.end()) return std::nullopt;
      return it->second;
    };
  }
  common::GlobExpander globber() {
    return [this](const std::string& pattern) {
      globbed.push_back(pattern);
      std::vector<std::string> out;
      for (const auto& [path, text] : files)
        if (fnmatch(pattern.c_str(), path.c_str(), FNM_PATHNAME) == 0) out.push_back(path);
      return out; // std::map iterates in sorted order
    };
  }
  std::vector<KaNode> lex(const std::string& path) {
    return lexKeepalived(files.at(path), path, reader(), globber());
  }
};

std::vector<KaNode> lex(std::string_view text) {
  FakeFs fs;
  return lexKeepalived(text, "k.conf", fs.reader(), fs.globber());
}

std::string errorOf(std::string_view text) {
  try {
    lex(text);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "no error";
}

std::string fsErrorOf(FakeFs& fs, const std::string& path) {
  try {
    fs.lex(path);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "no error";
}

std::vector<std::string> keywords(const std::vector<KaNode>& nodes) {
  std::vector<std::string> out;
  for (const auto& n : nodes)
    out.push_back(n.keyword);
  return out;
}

} // namespace

TEST_CASE("a line is a node: first word keyword, the rest args", "[lexer_keepalived]") {
  auto nodes = lex("  router_id   LVS_DEVEL  extra\n");
  REQUIRE(nodes.size() == 1);
  CHECK(nodes[0].keyword == "router_id");
  CHECK(nodes[0].args == V{"LVS_DEVEL", "extra"});
  CHECK_FALSE(nodes[0].block);
  CHECK(nodes[0].loc.str() == "k.conf:1:3");
  CHECK(nodes[0].raw == "LVS_DEVEL  extra");
}

TEST_CASE("blocks nest and record where each keyword is", "[lexer_keepalived]") {
  auto nodes = lex("global_defs {\n  router_id A\n}\n"
                   "vrrp_instance VI_1 {\n"
                   "    state MASTER\n"
                   "    virtual_ipaddress {\n"
                   "        192.168.1.10/24 dev eth0\n"
                   "        192.168.1.11/24\n"
                   "    }\n"
                   "    track_script {\n      chk\n    }\n"
                   "}\n");
  REQUIRE(keywords(nodes) == V{"global_defs", "vrrp_instance"});
  const KaNode& vi = nodes[1];
  CHECK(vi.block);
  CHECK(vi.args == V{"VI_1"});
  REQUIRE(keywords(vi.children) == V{"state", "virtual_ipaddress", "track_script"});
  const KaNode& vips = vi.children[1];
  CHECK(vips.block);
  CHECK(vips.args.empty());
  REQUIRE(vips.children.size() == 2);
  CHECK(vips.children[0].keyword == "192.168.1.10/24");
  CHECK(vips.children[0].args == V{"dev", "eth0"});
  CHECK(vips.children[1].loc.str() == "k.conf:8:9");
  CHECK(vi.children[2].children[0].keyword == "chk");
}

TEST_CASE("an opening brace may stand on a later line", "[lexer_keepalived]") {
  auto nodes = lex("vrrp_instance VI_1\n\n# comment\n{\n  state BACKUP\n}\n");
  REQUIRE(nodes.size() == 1);
  CHECK(nodes[0].block);
  CHECK(nodes[0].args == V{"VI_1"});
  CHECK(keywords(nodes[0].children) == V{"state"});
}

TEST_CASE("a closing brace may follow words on the same line", "[lexer_keepalived]") {
  auto nodes = lex("virtual_ipaddress {\n  192.168.1.1/24 }\nnext_kw 1\n");
  REQUIRE(keywords(nodes) == V{"virtual_ipaddress", "next_kw"});
  CHECK(keywords(nodes[0].children) == V{"192.168.1.1/24"});
}

TEST_CASE("a whole block may sit on one line", "[lexer_keepalived]") {
  auto nodes = lex("global_defs { router_id R1 } vrrp_script chk{script x}\n");
  REQUIRE(keywords(nodes) == V{"global_defs", "vrrp_script"});
  CHECK(nodes[0].children[0].args == V{"R1"});
  CHECK(nodes[1].args == V{"chk"});
  CHECK(nodes[1].children[0].keyword == "script");
  CHECK(nodes[1].children[0].args == V{"x"});
  CHECK(nodes[1].children[0].loc.col == 46);
}

TEST_CASE("words may follow a closing brace on its line", "[lexer_keepalived]") {
  auto nodes = lex("a {\n  b\n} c d\n");
  REQUIRE(keywords(nodes) == V{"a", "c"});
  CHECK(nodes[1].args == V{"d"});
}

TEST_CASE("an empty block is a block without children", "[lexer_keepalived]") {
  auto nodes = lex("track_interface {\n}\n");
  REQUIRE(nodes.size() == 1);
  CHECK(nodes[0].block);
  CHECK(nodes[0].children.empty());
}

TEST_CASE("'#' and '!' start comments, even inside a word", "[lexer_keepalived]") {
  auto nodes = lex("# full line\n! bang line\n  priority 1#00\nstate MASTER ! trailing\n"
                   "   \t\nadvert_int 1 # x { not a block\n");
  REQUIRE(keywords(nodes) == V{"priority", "state", "advert_int"});
  CHECK(nodes[0].args == V{"1"});
  CHECK(nodes[1].args == V{"MASTER"});
  CHECK_FALSE(nodes[2].block);
}

TEST_CASE("an escaped '#' or '!' is literal, other backslashes are kept", "[lexer_keepalived]") {
  auto nodes = lex("auth_pass a\\#b\\!c d\\e\n");
  CHECK(nodes[0].args == V{"a#b!c", "d\\e"});
}

TEST_CASE("double-quoted strings are one word, comment characters included", "[lexer_keepalived]") {
  auto nodes = lex("script \"/usr/bin/killall -0 haproxy # !\"  # comment\n");
  REQUIRE(nodes.size() == 1);
  CHECK(nodes[0].args == V{"/usr/bin/killall -0 haproxy # !"});
  CHECK(nodes[0].raw == "\"/usr/bin/killall -0 haproxy # !\"");
}

TEST_CASE("a quote ends an unquoted word and braces in quotes are text", "[lexer_keepalived]") {
  auto nodes = lex("x a\"b c\"d \"{ }\" \"\"\n");
  CHECK(nodes[0].args == V{"a", "b c", "d", "{ }", ""});
}

TEST_CASE("single quotes are ordinary characters in the block dialect", "[lexer_keepalived]") {
  auto nodes = lex("notify_master '/bin/echo hi'\n");
  CHECK(nodes[0].args == V{"'/bin/echo", "hi'"});
  CHECK(nodes[0].raw == "'/bin/echo hi'");
}

TEST_CASE("CRLF line ends are accepted", "[lexer_keepalived]") {
  auto nodes = lex("a {\r\n  b 1\r\n}\r\n");
  REQUIRE(nodes.size() == 1);
  CHECK(nodes[0].children[0].args == V{"1"});
}

TEST_CASE("an unterminated quote is an error at the quote", "[lexer_keepalived]") {
  CHECK(errorOf("a\n  script \"/bin/true\n") ==
        "k.conf:2:10: unterminated quote (expected a closing \" before the end of the line)");
}

TEST_CASE("an extra closing brace is an error at the brace", "[lexer_keepalived]") {
  CHECK(errorOf("a {\n}\n  }\n") == "k.conf:3:3: unexpected '}' (no block is open)");
}

TEST_CASE("a block left open is an error at its keyword", "[lexer_keepalived]") {
  CHECK(errorOf("vrrp_instance VI_1 {\n  virtual_ipaddress {\n    1.2.3.4\n  }\n") ==
        "k.conf:1:1: block 'vrrp_instance' is not closed (expected '}' before the end of the "
        "file)");
}

TEST_CASE("an opening brace without a keyword is an error", "[lexer_keepalived]") {
  CHECK(errorOf("{\n}\n") == "k.conf:1:1: '{' without a keyword (expected 'keyword {')");
  CHECK(errorOf("a { }\n  {\n") == "k.conf:2:3: '{' without a keyword (expected 'keyword {')");
  CHECK(errorOf("a {\n  b }\n{\n") == "k.conf:3:1: '{' without a keyword (expected 'keyword {')");
}

TEST_CASE("a NUL byte in a keepalived file is an error at its column", "[lexer_keepalived]") {
  using namespace std::string_literals;
  CHECK(errorOf("ab\0c"s) == "k.conf:1:3: NUL character is not allowed in a configuration line");
  CHECK(errorOf("a \"b\0\""s) ==
        "k.conf:1:5: NUL character is not allowed in a configuration line");
}

// --- includes ------------------------------------------------------------------------

TEST_CASE("include is replaced by the nodes of the matching files, sorted", "[lexer_keepalived]") {
  FakeFs fs;
  fs.files["/etc/keepalived/keepalived.conf"] = "global_defs {\n}\ninclude conf.d/*.conf\nlast 1\n";
  fs.files["/etc/keepalived/conf.d/20-b.conf"] = "b_kw 2\n";
  fs.files["/etc/keepalived/conf.d/10-a.conf"] = "a_kw 1\n";
  fs.files["/etc/keepalived/conf.d/notes.txt"] = "ignored\n";
  auto nodes = fs.lex("/etc/keepalived/keepalived.conf");
  CHECK(keywords(nodes) == V{"global_defs", "a_kw", "b_kw", "last"});
  CHECK(fs.globbed == V{"/etc/keepalived/conf.d/*.conf"});
  CHECK(nodes[1].loc.str() == "/etc/keepalived/conf.d/10-a.conf:1:1");
}

TEST_CASE("include works inside a block and nests relative to each file", "[lexer_keepalived]") {
  FakeFs fs;
  fs.files["/k/main.conf"] = "vrrp_instance VI_1 {\n  include vi/*.conf\n}\n";
  fs.files["/k/vi/ips.conf"] = "virtual_ipaddress {\n  include more/x.conf\n}\n";
  fs.files["/k/vi/more/x.conf"] = "10.0.0.1/24\n";
  auto nodes = fs.lex("/k/main.conf");
  REQUIRE(nodes.size() == 1);
  REQUIRE(keywords(nodes[0].children) == V{"virtual_ipaddress"});
  CHECK(keywords(nodes[0].children[0].children) == V{"10.0.0.1/24"});
  CHECK(fs.globbed == V{"/k/vi/*.conf", "/k/vi/more/x.conf"});
}

TEST_CASE("an absolute include pattern is used as is", "[lexer_keepalived]") {
  FakeFs fs;
  fs.files["/a/main.conf"] = "include /b/x.conf\n";
  fs.files["/b/x.conf"] = "x 1\n";
  CHECK(keywords(fs.lex("/a/main.conf")) == V{"x"});
}

TEST_CASE("an include from a file without a directory is relative to it", "[lexer_keepalived]") {
  FakeFs fs;
  fs.files["main.conf"] = "include other.conf\n";
  fs.files["other.conf"] = "o 1\n";
  CHECK(keywords(fs.lex("main.conf")) == V{"o"});
}

TEST_CASE("an include glob matching nothing is an error at the pattern", "[lexer_keepalived]") {
  FakeFs fs;
  fs.files["/k/main.conf"] = "a 1\n  include  nope/*.conf\n";
  CHECK(fsErrorOf(fs, "/k/main.conf") ==
        "/k/main.conf:2:12: include pattern 'nope/*.conf' matched no files (looked for "
        "'/k/nope/*.conf')");
}

TEST_CASE("an include loop is an error", "[lexer_keepalived]") {
  FakeFs fs;
  fs.files["/k/a.conf"] = "include b.conf\n";
  fs.files["/k/b.conf"] = "x 1\ninclude ./a.conf\n";
  CHECK(fsErrorOf(fs, "/k/a.conf") ==
        "/k/b.conf:2:9: include loop: /k/a.conf -> /k/b.conf -> /k/a.conf");
}

TEST_CASE("a file including itself is an include loop", "[lexer_keepalived]") {
  FakeFs fs;
  fs.files["/k/a.conf"] = "include *.conf\n";
  CHECK(fsErrorOf(fs, "/k/a.conf") == "/k/a.conf:1:9: include loop: /k/a.conf -> /k/a.conf");
}

TEST_CASE("includes nested too deeply are an error", "[lexer_keepalived]") {
  FakeFs fs;
  for (int i = 0; i <= common::kMaxIncludeDepth + 1; ++i)
    fs.files["/k/f" + std::to_string(i) + ".conf"] =
        "include f" + std::to_string(i + 1) + ".conf\n";
  fs.files["/k/f" + std::to_string(common::kMaxIncludeDepth + 2) + ".conf"] = "end 1\n";
  CHECK(fsErrorOf(fs, "/k/f0.conf") ==
        "/k/f16.conf:1:1: includes nested too deeply (more than 16 levels)");
}

TEST_CASE("an unreadable included file is an error", "[lexer_keepalived]") {
  FakeFs fs;
  fs.files["/k/main.conf"] = "include x.conf\n";
  auto glob = [](const std::string&) { return std::vector<std::string>{"/k/x.conf"}; };
  try {
    lexKeepalived(fs.files["/k/main.conf"], "/k/main.conf", fs.reader(), glob);
    FAIL("no error");
  } catch (const ConfigError& e) {
    CHECK(std::string(e.what()) == "/k/main.conf:1:9: cannot read included file '/k/x.conf'");
  }
}

TEST_CASE("include needs exactly one pattern and cannot open a block", "[lexer_keepalived]") {
  CHECK(errorOf("include\n") ==
        "k.conf:1:1: include takes exactly one file pattern (expected include PATTERN)");
  CHECK(errorOf("include a b\n") ==
        "k.conf:1:1: include takes exactly one file pattern (expected include PATTERN)");
  CHECK(errorOf("include a {\n}\n") ==
        "k.conf:1:1: include cannot open a block (expected include PATTERN)");
  CHECK(errorOf("x 1\ninclude /nonexistent/none\n{\n}\n").find("matched no files") !=
        std::string::npos);
}

TEST_CASE("an included file must balance its own braces", "[lexer_keepalived]") {
  FakeFs fs;
  fs.files["/k/main.conf"] = "a {\n  include part.conf\n";
  fs.files["/k/part.conf"] = "}\n";
  CHECK(fsErrorOf(fs, "/k/main.conf") == "/k/part.conf:1:1: unexpected '}' (no block is open)");
}

TEST_CASE("errors inside an included file name that file", "[lexer_keepalived]") {
  FakeFs fs;
  fs.files["/k/main.conf"] = "include sub.conf\n";
  fs.files["/k/sub.conf"] = "\n\n  bad \"quote\n";
  CHECK(fsErrorOf(fs, "/k/main.conf") ==
        "/k/sub.conf:3:7: unterminated quote (expected a closing \" before the end of the line)");
}

TEST_CASE("real files: includes resolve relative to the including file", "[lexer_keepalived]") {
  char tmpl[] = "/tmp/ka_lex_XXXXXX";
  REQUIRE(mkdtemp(tmpl) != nullptr);
  const std::filesystem::path dir = tmpl;
  std::filesystem::create_directories(dir / "conf.d" / "skipped_dir.conf");
  std::ofstream(dir / "keepalived.conf") << "global_defs {\n  router_id R\n}\n"
                                            "include conf.d/*.conf\n";
  std::ofstream(dir / "conf.d" / "b.conf") << "vrrp_instance VI_2 {\n  priority 50\n}\n";
  std::ofstream(dir / "conf.d" / "a.conf") << "vrrp_instance VI_1 {\n  priority 100\n}\n";

  // Run from elsewhere: resolution must not depend on the working directory.
  auto nodes = common::lexKeepalivedFile((dir / "keepalived.conf").string());
  REQUIRE(keywords(nodes) == V{"global_defs", "vrrp_instance", "vrrp_instance"});
  CHECK(nodes[1].args == V{"VI_1"});
  CHECK(nodes[2].args == V{"VI_2"});
  CHECK(nodes[2].loc.file == (dir / "conf.d" / "b.conf").string());

  try {
    common::lexKeepalivedFile((dir / "missing.conf").string());
    FAIL("no error");
  } catch (const ConfigError& e) {
    CHECK(std::string(e.what()) ==
          (dir / "missing.conf").string() +
              ": cannot read configuration file: No such file or directory");
  }
  std::filesystem::remove_all(dir);
}

TEST_CASE("globFiles lists matching files sorted and skips directories", "[lexer_keepalived]") {
  char tmpl[] = "/tmp/ka_glob_XXXXXX";
  REQUIRE(mkdtemp(tmpl) != nullptr);
  const std::filesystem::path dir = tmpl;
  std::filesystem::create_directories(dir / "d.conf");
  std::ofstream(dir / "z.conf") << "";
  std::ofstream(dir / "a.conf") << "";
  std::ofstream(dir / "m.txt") << "";
  CHECK(common::globFiles((dir / "*.conf").string()) ==
        V{(dir / "a.conf").string(), (dir / "z.conf").string()});
  CHECK(common::globFiles((dir / "{m.txt,a.conf}").string()).size() == 2);
  CHECK(common::globFiles((dir / "none*").string()).empty());
  std::filesystem::remove_all(dir);
}

// --- script words ---------------------------------------------------------------------

TEST_CASE("script words split on blanks and group with either quote", "[lexer_keepalived]") {
  CHECK(*common::splitScriptWords("/usr/bin/killall -0 haproxy") ==
        V{"/usr/bin/killall", "-0", "haproxy"});
  CHECK(*common::splitScriptWords("  '/bin/my script' \"a b\"c  ''") ==
        V{"/bin/my script", "a bc", ""});
  CHECK(common::splitScriptWords("   ")->empty());
}

TEST_CASE("script words decode keepalived's escapes", "[lexer_keepalived]") {
  CHECK(*common::splitScriptWords("a\\ b \\\"q\\\" \\x41\\101\\t\\cA '\\n'") ==
        V{"a b", "\"q\"", "AA\t\x01", "\n"});
  CHECK(*common::splitScriptWords("\\E\\a\\b\\f\\r\\v\\z") == V{"\x1b\a\b\f\r\vz"});
}

TEST_CASE("bad script words are errors naming the problem", "[lexer_keepalived]") {
  CHECK(common::splitScriptWords("echo 'oops").error() ==
        "unterminated ' quote in 'echo 'oops' (expected a closing ')");
  CHECK(common::splitScriptWords("echo \"oops").error() ==
        "unterminated \" quote in 'echo \"oops' (expected a closing \")");
  CHECK(common::splitScriptWords("echo x\\").error() ==
        "missing character after '\\' at the end of 'echo x\\'");
}
