#pragma once
// Lexer for HAProxy's line dialect. Pure: no I/O beyond what the caller passes.
//
// A line is split into words on unquoted blanks (isspace). Rules, as in
// HAProxy 2.6 (src/tools.c parse_line, src/cfgparse.c readcfgfile):
//  - '#' outside quotes starts a comment up to the end of the line, even in
//    the middle of a word ("a#b" is "a").
//  - "double quotes" and 'single quotes' group text into a word and may open
//    and close anywhere in it (ab"c d"e is one word "abc de"). Single quotes
//    are verbatim; no escape works inside them.
//  - outside single quotes '\' escapes: "\ " "\\" "\#" "\'" "\"" give the
//    character, \t \n \r give the control character, \xHH a byte; any other
//    "\c" (and a trailing '\') is kept as is, backslash included.
//  - environment variables: only with the EnvLookup overload, and only inside
//    double quotes: $NAME, ${NAME}, ${NAME-default}, ${NAME[*]} (split into
//    words on spaces), ${.FILE}, ${.LINE}; "\$" is a literal '$'. Without an
//    EnvLookup, '$' and "\$" are kept verbatim.
//  - '{' and '}' are ordinary characters (anonymous ACLs are handled by the ACL
//    parser, not here).
//  - a '\r' ends the line's text (CRLF files work).
//  - an empty quoted word ("") is a word, except at the end of a line, where
//    HAProxy drops it; a line whose first word is empty is skipped.
//  - empty lines and comment-only lines produce no Line.
// Errors (unmatched quote: column of the opening quote; bad \x escape:
// column of the '\'; NUL byte; more than 64 words; bad variable syntax)
// throw ConfigError with file:line:col.
#include "common/config_error.h"

#include <functional>
#include <optional>
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

// HAProxy refuses lines with more words than this.
inline constexpr size_t kMaxHaproxyWords = 64;

// Looks up an environment variable; nullopt when unset (expands to "").
using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;

// Lexes without expanding environment variables.
std::vector<Line> lexHaproxy(std::string_view text, const std::string& file);
// Lexes and expands variables inside double quotes through `env`.
std::vector<Line> lexHaproxy(std::string_view text, const std::string& file, const EnvLookup& env);

} // namespace common
