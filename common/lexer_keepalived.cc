#include "common/lexer_keepalived.h"

#include "common/file_read.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <glob.h>
#include <utility>

namespace common {

namespace {

bool isBlank(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

struct Token {
  enum Kind { Word, Open, Close } kind = Word;
  std::string text;
  int col = 0;      // 1-based
  size_t begin = 0; // byte offsets in the line, for KaNode::raw
  size_t end = 0;
};

// Splits one physical line (without '\n') into words and braces.
std::vector<Token> tokenizeLine(std::string_view line, const std::string& file, int lineNo) {
  auto fail = [&](size_t pos, const std::string& message) {
    throw ConfigError(SourceLoc{file, lineNo, static_cast<int>(pos) + 1}, message);
  };
  std::vector<Token> out;
  bool inWord = false;
  auto endWord = [&](size_t pos) {
    if (inWord) out.back().end = pos;
    inWord = false;
  };
  auto startWord = [&](size_t pos) {
    if (inWord) return;
    out.push_back(Token{Token::Word, "", static_cast<int>(pos) + 1, pos, pos});
    inWord = true;
  };
  size_t i = 0;
  while (i < line.size()) {
    const char c = line[i];
    if (c == '\0') fail(i, "NUL character is not allowed in a configuration line");
    if (c == '#' || c == '!') break;
    if (isBlank(c)) {
      endWord(i++);
      continue;
    }
    if (c == '{' || c == '}') {
      endWord(i);
      out.push_back(Token{c == '{' ? Token::Open : Token::Close, std::string(1, c),
                          static_cast<int>(i) + 1, i, i + 1});
      ++i;
      continue;
    }
    if (c == '"') {
      endWord(i);
      const size_t close = line.find('"', i + 1);
      if (close == std::string_view::npos)
        fail(i, "unterminated quote (expected a closing \" before the end of the line)");
      for (size_t k = i + 1; k < close; ++k)
        if (line[k] == '\0') fail(k, "NUL character is not allowed in a configuration line");
      out.push_back(Token{Token::Word, std::string(line.substr(i + 1, close - i - 1)),
                          static_cast<int>(i) + 1, i, close + 1});
      i = close + 1;
      continue;
    }
    startWord(i);
    if (c == '\\' && i + 1 < line.size()) {
      const char next = line[i + 1];
      if (next == '\0') fail(i + 1, "NUL character is not allowed in a configuration line");
      if (next == '#' || next == '!') {
        out.back().text += next;
      } else {
        out.back().text += c;
        out.back().text += next;
      }
      i += 2;
      continue;
    }
    out.back().text += c;
    ++i;
  }
  endWord(i);
  return out;
}

std::string dirOf(const std::string& file) {
  const size_t slash = file.rfind('/');
  if (slash == std::string::npos) return "";
  return file.substr(0, slash + 1);
}

std::string normalized(const std::string& path) {
  return std::filesystem::path(path).lexically_normal().string();
}

class Builder {
public:
  Builder(const FileReader& read, const GlobExpander& glob) : read_(read), glob_(glob) {}

  // Lexes `text` (the content of `file`) into nodes. `chain` is the list of
  // files including this one, outermost first.
  std::vector<KaNode> lexFile(std::string_view text, const std::string& file,
                              std::vector<std::string>& chain) {
    std::vector<KaNode> top;
    // Open blocks: the node owning each (nullptr for the top level is not
    // stored: levels_[0] is `top`).
    std::vector<std::vector<KaNode>*> levels{&top};
    std::vector<const KaNode*> owners;
    bool lastTakesBlock = false; // the last node ended a line and may take a '{'
    int lineNo = 0;
    size_t pos = 0;
    while (pos <= text.size()) {
      size_t eol = text.find('\n', pos);
      if (eol == std::string_view::npos) eol = text.size();
      ++lineNo;
      const std::string_view line = text.substr(pos, eol - pos);
      const std::vector<Token> tokens = tokenizeLine(line, file, lineNo);
      std::vector<const Token*> stmt;

      auto makeNode = [&](bool block) {
        KaNode n;
        n.keyword = stmt[0]->text;
        n.loc = SourceLoc{file, lineNo, stmt[0]->col};
        for (size_t k = 1; k < stmt.size(); ++k)
          n.args.push_back(stmt[k]->text);
        if (stmt.size() > 1)
          n.raw = std::string(line.substr(stmt[1]->begin, stmt.back()->end - stmt[1]->begin));
        n.block = block;
        stmt.clear();
        return n;
      };
      // Ends a statement that is not a block; returns true when the node may
      // still take a '{' from a later line.
      auto finish = [&]() {
        if (stmt.empty()) return false;
        if (stmt[0]->text == "include") {
          include(stmt, file, lineNo, chain, *levels.back());
          stmt.clear();
          return false;
        }
        levels.back()->push_back(makeNode(false));
        return true;
      };

      for (const Token& t : tokens) {
        if (t.kind == Token::Word) {
          stmt.push_back(&t);
          lastTakesBlock = false;
          continue;
        }
        if (t.kind == Token::Open) {
          KaNode* owner = nullptr;
          if (!stmt.empty()) {
            if (stmt[0]->text == "include")
              throw ConfigError(SourceLoc{file, lineNo, stmt[0]->col},
                                "include cannot open a block (expected include PATTERN)");
            levels.back()->push_back(makeNode(true));
            owner = &levels.back()->back();
          } else if (lastTakesBlock) {
            owner = &levels.back()->back();
            owner->block = true;
          } else {
            throw ConfigError(SourceLoc{file, lineNo, t.col},
                              "'{' without a keyword (expected 'keyword {')");
          }
          lastTakesBlock = false;
          owners.push_back(owner);
          levels.push_back(&owner->children);
          continue;
        }
        // '}'
        finish();
        lastTakesBlock = false;
        if (owners.empty())
          throw ConfigError(SourceLoc{file, lineNo, t.col}, "unexpected '}' (no block is open)");
        owners.pop_back();
        levels.pop_back();
      }
      if (finish()) lastTakesBlock = true;
      if (eol == text.size()) break;
      pos = eol + 1;
    }
    if (!owners.empty()) {
      const KaNode* open = owners.back();
      throw ConfigError(open->loc, "block '" + open->keyword +
                                       "' is not closed (expected '}' before the end of the file)");
    }
    return top;
  }

private:
  void include(const std::vector<const Token*>& stmt, const std::string& file, int lineNo,
               std::vector<std::string>& chain, std::vector<KaNode>& into) {
    const SourceLoc at{file, lineNo, stmt[0]->col};
    if (stmt.size() != 2)
      throw ConfigError(at, "include takes exactly one file pattern (expected include PATTERN)");
    const std::string& pattern = stmt[1]->text;
    const SourceLoc patAt{file, lineNo, stmt[1]->col};
    const std::string resolved =
        normalized(!pattern.empty() && pattern[0] == '/' ? pattern : dirOf(file) + pattern);
    const std::vector<std::string> paths = glob_(resolved);
    if (paths.empty())
      throw ConfigError(patAt, "include pattern '" + pattern + "' matched no files (looked for '" +
                                   resolved + "')");
    if (static_cast<int>(chain.size()) > kMaxIncludeDepth)
      throw ConfigError(at, "includes nested too deeply (more than " +
                                std::to_string(kMaxIncludeDepth) + " levels)");
    for (const std::string& path : paths) {
      const std::string norm = normalized(path);
      if (std::find(chain.begin(), chain.end(), norm) != chain.end()) {
        std::string loop;
        for (const auto& f : chain)
          loop += f + " -> ";
        throw ConfigError(patAt, "include loop: " + loop + norm);
      }
      const std::optional<std::string> text = read_(path);
      if (!text) throw ConfigError(patAt, "cannot read included file '" + path + "'");
      chain.push_back(norm);
      std::vector<KaNode> nodes = lexFile(*text, path, chain);
      chain.pop_back();
      for (auto& n : nodes)
        into.push_back(std::move(n));
    }
  }

  const FileReader& read_;
  const GlobExpander& glob_;
};

// Reads a whole configuration file (at most 16 MiB, never blocking); on
// failure returns nullopt and leaves errno set (EISDIR: a directory, EFBIG:
// too large).
std::optional<std::string> readFile(const std::string& path) {
  FileRead r = readRegularFile(path, 16u << 20);
  switch (r.status) {
  case ReadStatus::Ok: return std::move(r.data);
  case ReadStatus::Truncated: errno = EFBIG; return std::nullopt;
  case ReadStatus::NotRegular: errno = EISDIR; return std::nullopt;
  default: errno = r.err; return std::nullopt;
  }
}

} // namespace

std::vector<KaNode> lexKeepalived(std::string_view text, const std::string& file,
                                  const FileReader& read, const GlobExpander& glob) {
  Builder b(read, glob);
  std::vector<std::string> chain{normalized(file)};
  return b.lexFile(text, file, chain);
}

std::vector<std::string> globFiles(const std::string& pattern) {
  glob_t g{};
  std::vector<std::string> out;
  if (glob(pattern.c_str(), GLOB_MARK | GLOB_BRACE, nullptr, &g) == 0) {
    for (size_t i = 0; i < g.gl_pathc; ++i) {
      std::string p = g.gl_pathv[i];
      if (!p.empty() && p.back() != '/') out.push_back(std::move(p)); // skip directories
    }
  }
  globfree(&g);
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<KaNode> lexKeepalivedFile(const std::string& path) {
  const std::optional<std::string> text = readFile(path);
  if (!text)
    throw ConfigError(SourceLoc{path, 0, 0},
                      std::string("cannot read configuration file: ") + std::strerror(errno));
  return lexKeepalived(*text, path, readFile, globFiles);
}

// --- script words -----------------------------------------------------------------

namespace {

bool isHexDigit(char c) {
  return std::isxdigit(static_cast<unsigned char>(c)) != 0;
}
int hexDigit(char c) {
  return std::isdigit(static_cast<unsigned char>(c))
             ? c - '0'
             : std::tolower(static_cast<unsigned char>(c)) - 'a' + 10;
}

// Decodes the escape whose character follows the backslash at s[i]; advances i.
char decodeEscape(std::string_view s, size_t& i) {
  const char c = s[i];
  if (c == 'x' && i + 1 < s.size() && isHexDigit(s[i + 1])) {
    unsigned v = 0;
    ++i;
    while (i < s.size() && isHexDigit(s[i]))
      v = (v << 4) | static_cast<unsigned>(hexDigit(s[i++]));
    return static_cast<char>(v & 0xff);
  }
  if (c == 'c' && i + 1 < s.size()) {
    const char ctl = static_cast<char>(s[i + 1] & 0x1f);
    i += 2;
    return ctl;
  }
  if (c >= '0' && c <= '7') {
    unsigned v = 0;
    for (int k = 0; k < 3 && i < s.size() && s[i] >= '0' && s[i] <= '7'; ++k)
      v = (v << 3) | static_cast<unsigned>(s[i++] - '0');
    return static_cast<char>(v & 0xff);
  }
  ++i;
  switch (c) {
  case 'a':
    return '\a';
  case 'b':
    return '\b';
  case 'E':
    return 0x1b;
  case 'f':
    return '\f';
  case 'n':
    return '\n';
  case 'r':
    return '\r';
  case 't':
    return '\t';
  case 'v':
    return '\v';
  default:
    return c;
  }
}

} // namespace

Result<std::vector<std::string>> splitScriptWords(std::string_view s) {
  std::vector<std::string> words;
  size_t i = 0;
  while (true) {
    while (i < s.size() && isBlank(s[i]))
      ++i;
    if (i >= s.size()) break;
    std::string word;
    char quote = 0;
    while (i < s.size()) {
      const char c = s[i];
      if (c == '\\') {
        if (++i >= s.size())
          return err("missing character after '\\' at the end of '" + std::string(s) + "'");
        word += decodeEscape(s, i);
        continue;
      }
      if (quote) {
        if (c == quote)
          quote = 0;
        else
          word += c;
        ++i;
        continue;
      }
      if (c == '"' || c == '\'') {
        quote = c;
        ++i;
        continue;
      }
      if (isBlank(c)) break;
      word += c;
      ++i;
    }
    if (quote)
      return err("unterminated " + std::string(1, quote) + " quote in '" + std::string(s) +
                 "' (expected a closing " + std::string(1, quote) + ")");
    words.push_back(std::move(word));
  }
  return words;
}

} // namespace common
