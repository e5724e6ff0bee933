#pragma once
// Lexer/parser for keepalived's block dialect into a tree of nodes.
//
//   keyword arg arg ... [ { children... } ]
// - '#' and '!' outside quotes start a comment to the end of the line, even
//   in the middle of a word ("1#00" is "1"); "\#" and "\!" are literal.
//   Any other backslash is kept with the character after it.
// - "double quoted" strings make one word (keepalived keeps spaces inside);
//   there are no escapes inside, and a quote also ends an unquoted word
//   (a"b c" is "a" then "b c"). Single quotes are ordinary characters here;
//   script lines re-read `raw` with splitScriptWords().
// - '{' may end a line or stand on a later line; '}' closes a block and may
//   share a line with words before it ("192.168.1.1 }"), or after it.
// - Each non-block line is one node: first word keyword, the rest args.
//   Lines inside a block that is a list (virtual_ipaddress { ... }) are nodes
//   too: keyword is the first word (e.g. the address).
// - `include GLOB` (top level or anywhere) is replaced by the nodes of every
//   file matching GLOB, sorted, resolved relative to the directory of the
//   including file; a glob matching nothing is an error (keepalived only logs
//   it); each file must balance its own braces; an include loop or more than
//   kMaxIncludeDepth nested includes is an error.
// - keepalived's $NAME=value definitions, @system_id prefixes and ~SEQ are
//   not supported: such lines come out as ordinary nodes.
// Errors (unbalanced braces, unterminated quote, NUL byte, unreadable
// include) throw ConfigError with file:line:col.
#include "common/config_error.h"
#include "common/result.h"

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace common {

struct KaNode {
  std::string keyword;
  std::vector<std::string> args;
  SourceLoc loc; // of the keyword
  bool block = false; // followed by { ... }
  std::vector<KaNode> children;
  // The line's text after the keyword up to the end of the node's words, as
  // written (quotes and backslashes kept, comment dropped). keepalived re-reads
  // script lines (script, notify*) with quotes and escapes: see
  // splitScriptWords().
  std::string raw;
};

// Reads files for includes; returns nullopt when the file cannot be read.
using FileReader = std::function<std::optional<std::string>(const std::string& path)>;
// Expands a glob to sorted paths (default: glob(3)).
using GlobExpander = std::function<std::vector<std::string>(const std::string& pattern)>;

inline constexpr int kMaxIncludeDepth = 16;

std::vector<KaNode> lexKeepalived(std::string_view text, const std::string& file,
                                  const FileReader& read, const GlobExpander& glob);
// Reads `path` from disk and resolves includes with the real filesystem.
std::vector<KaNode> lexKeepalivedFile(const std::string& path);

// The default GlobExpander: glob(3) with braces, directories skipped, sorted.
std::vector<std::string> globFiles(const std::string& pattern);

// Splits a script command line as keepalived does for script and notify
// lines (alloc_strvec_quoted_escaped): blanks separate words; "..." and '...'
// group, anywhere in a word; '\' escapes in and out of quotes: \a \b \E \f
// \n \r \t \v, \xH... (hex), \cX (control), \0-\777 (octal), any other
// character stands for itself. Errors: unterminated quote, trailing '\'.
Result<std::vector<std::string>> splitScriptWords(std::string_view s);

} // namespace common
