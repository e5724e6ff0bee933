#pragma once
// Lexer for HAProxy's line dialect. Pure: no I/O beyond what the caller passes.
//
// A line is split into words on unquoted blanks (space, tab). Rules, as in
// HAProxy 2.6:
//  - '#' outside quotes starts a comment up to the end of the line.
//  - "double quotes" group a word and allow \ escapes and (not expanded here)
//    environment-variable text; 'single quotes' group a word verbatim.
//  - outside quotes, '\' escapes the next character (e.g. "\ " or "\#");
//    inside double quotes \" \\ \t \n \r are decoded; \xHH in both.
//  - '{' and '}' are ordinary words when blank-separated (anonymous ACLs are
//    handled by the ACL parser, not here).
//  - empty lines and comment-only lines produce no Line.
// Errors (unterminated quote, trailing backslash, bad \x escape, NUL byte)
// throw ConfigError with file:line:col.
#include "common/config_error.h"

#include <string>
#include <string_view>
#include <vector>

namespace common {

struct Word {
  std::string text; // decoded
  int col = 0;      // 1-based column of the word's first character
  bool quoted = false;
};

struct Line {
  SourceLoc loc; // col 0
  std::vector<Word> words;
  // loc with this word's column, for diagnostics.
  SourceLoc at(size_t word) const;
};

std::vector<Line> lexHaproxy(std::string_view text, const std::string& file);

} // namespace common
