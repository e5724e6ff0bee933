#include "common/lexer_haproxy.h"

#include <catch2/catch.hpp>
#include <map>
#include <string>
#include <vector>

using common::ConfigError;
using common::lexHaproxy;
using common::Line;

namespace {

std::vector<std::string> texts(const Line& line) {
  std::vector<std::string> out;
  for (const auto& w : line.words)
    out.push_back(w.text);
  return out;
}

// Words of a one-line config.
std::vector<std::string> words(std::string_view text) {
  auto lines = lexHaproxy(text, "t.cfg");
  REQUIRE(lines.size() == 1);
  return texts(lines[0]);
}

// The "file:line:col: message" of the error lexing `text` throws.
std::string errorOf(std::string_view text) {
  try {
    lexHaproxy(text, "t.cfg");
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "no error";
}

using V = std::vector<std::string>;

} // namespace

TEST_CASE("words are split on spaces and tabs", "[lexer_haproxy]") {
  CHECK(words("  bind  *:80\tssl   crt x.pem  ") == V{"bind", "*:80", "ssl", "crt", "x.pem"});
}

TEST_CASE("each word records its 1-based column and each line its number", "[lexer_haproxy]") {
  auto lines = lexHaproxy("global\n\n  maxconn   100\n", "h.cfg");
  REQUIRE(lines.size() == 2);
  CHECK(lines[0].loc.str() == "h.cfg:1");
  CHECK(lines[1].loc.line == 3);
  CHECK(lines[1].loc.col == 0);
  CHECK(lines[1].words[0].col == 3);
  CHECK(lines[1].words[1].col == 13);
  CHECK(lines[1].at(1).str() == "h.cfg:3:13");
  CHECK(lines[1].at(7).str() == "h.cfg:3"); // out of range: the line itself
}

TEST_CASE("empty and comment-only lines produce no line", "[lexer_haproxy]") {
  auto lines = lexHaproxy("\n   \n# comment\n   # indented comment\n\t\nfrontend fe\n", "t.cfg");
  REQUIRE(lines.size() == 1);
  CHECK(lines[0].loc.line == 6);
  CHECK(lexHaproxy("", "t.cfg").empty());
}

TEST_CASE("a last line without a newline is lexed", "[lexer_haproxy]") {
  auto lines = lexHaproxy("a\nb c", "t.cfg");
  REQUIRE(lines.size() == 2);
  CHECK(texts(lines[1]) == V{"b", "c"});
}

TEST_CASE("a comment starts at an unquoted '#', even inside a word", "[lexer_haproxy]") {
  CHECK(words("timeout client 5s # five seconds") == V{"timeout", "client", "5s"});
  CHECK(words("a#b c") == V{"a"});
  CHECK(words("\"a#b\" 'c#d'") == V{"a#b", "c#d"});
  CHECK(words("a\\#b") == V{"a#b"});
}

TEST_CASE("double quotes group a word and mark it quoted", "[lexer_haproxy]") {
  auto lines = lexHaproxy("errorfile 503 \"/etc/my errors/503.http\"", "t.cfg");
  REQUIRE(lines[0].words.size() == 3);
  CHECK(lines[0].words[2].text == "/etc/my errors/503.http");
  CHECK(lines[0].words[2].quoted);
  CHECK(lines[0].words[2].col == 15);
  CHECK_FALSE(lines[0].words[1].quoted);
}

TEST_CASE("quotes may open and close in the middle of a word", "[lexer_haproxy]") {
  CHECK(words("ab\"c d\"e f") == V{"abc de", "f"});
  CHECK(words("x'y z'\"w\"") == V{"xy zw"});
}

TEST_CASE("single quotes are verbatim: no escapes inside them", "[lexer_haproxy]") {
  CHECK(words("'x\\ty' 'a\\x41b' 'q\"q'") == V{"x\\ty", "a\\x41b", "q\"q"});
}

TEST_CASE("inside double quotes escapes are decoded", "[lexer_haproxy]") {
  CHECK(words("\"x\\ty\\n\\r\\\\\\\"\\'\"") == V{"x\ty\n\r\\\"'"});
  CHECK(words("\"a\\x41b\"") == V{"aAb"});
  CHECK(words("\"it's\"") == V{"it's"});
}

TEST_CASE("outside quotes a backslash escapes blanks, quotes, '#' and controls",
          "[lexer_haproxy]") {
  CHECK(words("a\\ b c") == V{"a b", "c"});
  CHECK(words("x\\ty") == V{"x\ty"});
  CHECK(words("x\\'y\\\"z") == V{"x'y\"z"});
  CHECK(words("\\x41\\x6a") == V{"Aj"});
}

TEST_CASE("a backslash before another character is kept, as HAProxy does", "[lexer_haproxy]") {
  CHECK(words("a\\1b") == V{"a\\1b"});
  CHECK(words("^/api\\.v1$") == V{"^/api\\.v1$"});
  CHECK(words("tail\\") == V{"tail\\"});
}

TEST_CASE("braces are ordinary characters", "[lexer_haproxy]") {
  CHECK(words("use_backend b if { path_beg /api } x}") ==
        V{"use_backend", "b", "if", "{", "path_beg", "/api", "}", "x}"});
}

TEST_CASE("an empty quoted word is a word except at the end of the line", "[lexer_haproxy]") {
  auto lines = lexHaproxy("set-header X \"\" y", "t.cfg");
  REQUIRE(lines[0].words.size() == 4);
  CHECK(lines[0].words[2].text.empty());
  CHECK(lines[0].words[2].quoted);
  CHECK(words("a \"\"") == V{"a"});
  CHECK(words("a \"\" # c") == V{"a", ""});
}

TEST_CASE("a line whose first word is empty is skipped", "[lexer_haproxy]") {
  CHECK(lexHaproxy("\"\" foo bar\n", "t.cfg").empty());
}

TEST_CASE("a carriage return ends the line", "[lexer_haproxy]") {
  auto lines = lexHaproxy("global\r\n  maxconn 10\r\nx\ry\n", "t.cfg");
  REQUIRE(lines.size() == 3);
  CHECK(texts(lines[1]) == V{"maxconn", "10"});
  CHECK(texts(lines[2]) == V{"x"});
}

TEST_CASE("without an environment, dollar signs are kept verbatim", "[lexer_haproxy]") {
  CHECK(words("\"$HOME\" \"\\$X\" ${Y}") == V{"$HOME", "\\$X", "${Y}"});
}

TEST_CASE("an unmatched double quote is an error at the opening quote", "[lexer_haproxy]") {
  CHECK(errorOf("ok\n  errorfile \"abc\n") ==
        "t.cfg:2:13: unmatched double quote (expected a closing \" before the end of the line)");
}

TEST_CASE("an unmatched single quote is an error at the opening quote", "[lexer_haproxy]") {
  CHECK(errorOf("a 'b\"c") ==
        "t.cfg:1:3: unmatched single quote (expected a closing ' before the end of the line)");
}

TEST_CASE("a bad hex escape is an error at the backslash", "[lexer_haproxy]") {
  CHECK(errorOf(".notice \"\\xZZ\"") == "t.cfg:1:10: truncated or invalid hexadecimal sequence "
                                        "(expected \\x followed by two hex digits)");
  CHECK(errorOf("a\\x4") == "t.cfg:1:2: truncated or invalid hexadecimal sequence (expected "
                            "\\x followed by two hex digits)");
}

TEST_CASE("a NUL byte is an error at its column", "[lexer_haproxy]") {
  using namespace std::string_literals;
  CHECK(errorOf("x\nab\0c"s) == "t.cfg:2:3: NUL character is not allowed in a configuration line");
}

TEST_CASE("more than 64 words is an error at the 65th word", "[lexer_haproxy]") {
  std::string line;
  for (int i = 0; i < 64; ++i)
    line += "w ";
  CHECK(lexHaproxy(line, "t.cfg")[0].words.size() == 64);
  line += "extra";
  CHECK(errorOf(line) == "t.cfg:1:129: too many words on this line (at most 64)");
}

TEST_CASE("ConfigError carries the location and the bare message", "[lexer_haproxy]") {
  try {
    lexHaproxy("\n\n 'x", "dir/h.cfg");
    FAIL("no error");
  } catch (const ConfigError& e) {
    CHECK(e.loc().file == "dir/h.cfg");
    CHECK(e.loc().line == 3);
    CHECK(e.loc().col == 2);
    CHECK(e.message().rfind("unmatched single quote", 0) == 0);
  }
}

// --- environment variables ---------------------------------------------------

namespace {

const common::EnvLookup kEnv = [](const std::string& name) -> std::optional<std::string> {
  static const std::map<std::string, std::string> vars = {
      {"HOME", "/root"}, {"PORT", "8080"}, {"LIST", "a  b c"}, {"EMPTY", ""}};
  auto it = vars.find(name);
  if (it == vars.end()) return std::nullopt;
  return it->second;
};

std::vector<std::string> envWords(std::string_view text) {
  auto lines = lexHaproxy(text, "e.cfg", kEnv);
  REQUIRE(lines.size() == 1);
  return texts(lines[0]);
}

std::string envErrorOf(std::string_view text) {
  try {
    lexHaproxy(text, "e.cfg", kEnv);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "no error";
}

} // namespace

TEST_CASE("variables expand inside double quotes only", "[lexer_haproxy]") {
  CHECK(envWords("bind \"*:${PORT}\" \"$HOME/x\" $HOME '$HOME'") ==
        V{"bind", "*:8080", "/root/x", "$HOME", "$HOME"});
}

TEST_CASE("an unset variable expands to nothing, or to its default", "[lexer_haproxy]") {
  CHECK(envWords("a \"x${NOPE}y\" \"${NOPE-def ault}\" \"${PORT-1}\"") ==
        V{"a", "xy", "def ault", "8080"});
}

TEST_CASE("an escaped dollar is literal when expanding", "[lexer_haproxy]") {
  CHECK(envWords("a \"\\$HOME\"") == V{"a", "$HOME"});
}

TEST_CASE("[*] splits a variable's value into words", "[lexer_haproxy]") {
  CHECK(envWords("x \"${LIST[*]}\" y") == V{"x", "a", "b", "c", "y"});
}

TEST_CASE(".FILE and .LINE pseudo-variables expand to the location", "[lexer_haproxy]") {
  auto lines = lexHaproxy("\nx \"${.FILE}:${.LINE}\"", "e.cfg", kEnv);
  CHECK(texts(lines[0]) == V{"x", "e.cfg:2"});
}

TEST_CASE("bad variable syntax is an error at its column", "[lexer_haproxy]") {
  CHECK(envErrorOf("a \"$1\"") == "e.cfg:1:5: forbidden first character in environment "
                                  "variable name (expected a letter, '_' or '.')");
  CHECK(envErrorOf("a \"${HOME\"") ==
        "e.cfg:1:5: unmatched brace in environment variable name (expected '}')");
  CHECK(envErrorOf("a \"${HOME-x\"") ==
        "e.cfg:1:5: unmatched brace in environment variable name (expected '}')");
  CHECK(envErrorOf("a \"${LIST[x]}\"") ==
        "e.cfg:1:10: truncated or invalid word expansion sequence (expected [*])");
  CHECK(envErrorOf("a \"${.SECTION}\"") ==
        "e.cfg:1:6: unsupported pseudo-variable '.SECTION' (expected .FILE or .LINE)");
}
