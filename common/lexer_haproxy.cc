#include "common/lexer_haproxy.h"

#include <cctype>
#include <utility>

namespace common {

SourceLoc Line::at(size_t word) const {
  SourceLoc l = loc;
  if (word < words.size()) l.col = words[word].col;
  return l;
}

namespace {

bool isBlank(char c) {
  return std::isspace(static_cast<unsigned char>(c)) != 0;
}
bool isHex(char c) {
  return std::isxdigit(static_cast<unsigned char>(c)) != 0;
}
int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  return std::tolower(static_cast<unsigned char>(c)) - 'a' + 10;
}

// Splits one line (without its '\n') into words. `env` is null when variables
// are not expanded (HAProxy's parse_line without PARSE_OPT_ENV).
class LineLexer {
public:
  LineLexer(std::string_view text, SourceLoc loc, const EnvLookup* env)
      : text_(text), loc_(std::move(loc)), env_(env) {}

  std::vector<Word> run() {
    // HAProxy skips leading blanks before parsing the line.
    while (i_ < text_.size() && isBlank(text_[i_]))
      ++i_;
    while (i_ < text_.size()) {
      const char c = text_[i_];
      if (c == '\0') fail(i_, "NUL character is not allowed in a configuration line");
      if (c == '\r') break; // end of line, as in HAProxy
      if (c == '#' && !squote_ && !dquote_) break;
      if (c == '"' && !squote_) {
        toggleQuote(dquote_);
        continue;
      }
      if (c == '\'' && !dquote_) {
        toggleQuote(squote_);
        continue;
      }
      if (c == '\\' && !squote_) {
        escape();
        continue;
      }
      if (isBlank(c) && !squote_ && !dquote_) {
        separator();
        continue;
      }
      if (c == '$' && env_ && dquote_) {
        variable();
        continue;
      }
      begin();
      cur_.text += c;
      ++i_;
    }
    if (squote_ || dquote_)
      fail(quotePos_, std::string("unmatched ") + (dquote_ ? "double" : "single") +
                          " quote (expected a closing " + (dquote_ ? "\"" : "'") +
                          " before the end of the line)");
    // A trailing empty word (e.g. a final "") is dropped, as HAProxy does.
    if (started_ && !cur_.text.empty()) words_.push_back(std::move(cur_));
    if (words_.size() > kMaxHaproxyWords)
      throw ConfigError(SourceLoc{loc_.file, loc_.line, words_[kMaxHaproxyWords].col},
                        "too many words on this line (at most " + std::to_string(kMaxHaproxyWords) +
                            ")");
    if (!words_.empty() && words_[0].text.empty()) words_.clear(); // HAProxy skips it
    return std::move(words_);
  }

private:
  [[noreturn]] void fail(size_t pos, const std::string& message) const {
    throw ConfigError(SourceLoc{loc_.file, loc_.line, static_cast<int>(pos) + 1}, message);
  }

  // Marks the start of a word at the current position if none is open.
  void begin() {
    if (started_) return;
    started_ = true;
    cur_.col = static_cast<int>(i_) + 1;
  }

  void endWord() {
    words_.push_back(std::move(cur_));
    cur_ = Word{};
    started_ = false;
  }

  void toggleQuote(bool& flag) {
    begin();
    cur_.quoted = true;
    if (!flag) quotePos_ = i_;
    flag = !flag;
    ++i_;
  }

  void separator() {
    endWord();
    while (i_ < text_.size() && isBlank(text_[i_]))
      ++i_;
  }

  // At a backslash outside single quotes.
  void escape() {
    begin();
    const char next = i_ + 1 < text_.size() ? text_[i_ + 1] : '\0';
    switch (next) {
    case ' ':
    case '\\':
    case '#':
    case '"':
    case '\'':
      cur_.text += next;
      i_ += 2;
      return;
    case 't':
      cur_.text += '\t';
      i_ += 2;
      return;
    case 'n':
      cur_.text += '\n';
      i_ += 2;
      return;
    case 'r':
      cur_.text += '\r';
      i_ += 2;
      return;
    case '$':
      if (env_ && dquote_) {
        cur_.text += '$';
        i_ += 2;
        return;
      }
      break;
    case 'x':
      if (i_ + 3 < text_.size() && isHex(text_[i_ + 2]) && isHex(text_[i_ + 3])) {
        cur_.text += static_cast<char>(hexValue(text_[i_ + 2]) * 16 + hexValue(text_[i_ + 3]));
        i_ += 4;
        return;
      }
      fail(i_, "truncated or invalid hexadecimal sequence (expected \\x followed by two hex "
               "digits)");
    default:
      break;
    }
    // Not an escape sequence: the backslash is kept, the next character is
    // processed normally.
    cur_.text += '\\';
    ++i_;
  }

  // At a '$' inside double quotes, with variable expansion on.
  void variable() {
    begin();
    ++i_;
    size_t bracePos = std::string::npos;
    if (i_ < text_.size() && text_[i_] == '{') bracePos = i_++;
    const char first = i_ < text_.size() ? text_[i_] : '\0';
    if (!std::isalpha(static_cast<unsigned char>(first)) && first != '_' && first != '.')
      fail(i_, "forbidden first character in environment variable name (expected a letter, "
               "'_' or '.')");
    const size_t nameStart = i_;
    if (first == '.') ++i_;
    while (i_ < text_.size() &&
           (std::isalnum(static_cast<unsigned char>(text_[i_])) || text_[i_] == '_'))
      ++i_;
    const std::string name(text_.substr(nameStart, i_ - nameStart));
    std::optional<std::string> value;
    if (name == ".LINE")
      value = std::to_string(loc_.line);
    else if (name == ".FILE")
      value = loc_.file;
    else if (name[0] == '.')
      fail(nameStart, "unsupported pseudo-variable '" + name + "' (expected .FILE or .LINE)");
    else
      value = (*env_)(name);

    bool wordExpand = false;
    if (bracePos != std::string::npos && i_ < text_.size() && text_[i_] == '[') {
      if (text_.substr(i_, 3) != "[*]")
        fail(i_, "truncated or invalid word expansion sequence (expected [*])");
      wordExpand = true;
      i_ += 3;
    }
    if (bracePos != std::string::npos) {
      if (i_ < text_.size() && text_[i_] == '-') {
        const size_t close = text_.find('}', i_);
        if (close == std::string_view::npos) unmatchedBrace(bracePos);
        if (!value) value = std::string(text_.substr(i_ + 1, close - i_ - 1));
        i_ = close;
      } else if (i_ >= text_.size() || text_[i_] != '}') {
        unmatchedBrace(bracePos);
      }
      ++i_; // the '}'
    }
    if (!value) return;
    for (size_t k = 0; k < value->size();) {
      const char c = (*value)[k];
      if (wordExpand && isBlank(c)) {
        endWord();
        begin();
        while (k < value->size() && isBlank((*value)[k]))
          ++k;
        continue;
      }
      cur_.text += c;
      ++k;
    }
  }

  [[noreturn]] void unmatchedBrace(size_t pos) const {
    fail(pos, "unmatched brace in environment variable name (expected '}')");
  }

  std::string_view text_;
  SourceLoc loc_;
  const EnvLookup* env_;
  size_t i_ = 0;
  bool squote_ = false;
  bool dquote_ = false;
  size_t quotePos_ = 0;
  bool started_ = false;
  Word cur_;
  std::vector<Word> words_;
};

std::vector<Line> lexAll(std::string_view text, const std::string& file, const EnvLookup* env) {
  std::vector<Line> lines;
  int lineNo = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    ++lineNo;
    Line line;
    line.loc = SourceLoc{file, lineNo, 0};
    line.words = LineLexer(text.substr(pos, end - pos), line.loc, env).run();
    if (!line.words.empty()) lines.push_back(std::move(line));
    pos = end + 1;
  }
  return lines;
}

} // namespace

std::vector<Line> lexHaproxy(std::string_view text, const std::string& file) {
  return lexAll(text, file, nullptr);
}

std::vector<Line> lexHaproxy(std::string_view text, const std::string& file, const EnvLookup& env) {
  return lexAll(text, file, &env);
}

} // namespace common
