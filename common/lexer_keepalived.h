#pragma once
// Lexer/parser for keepalived's block dialect into a tree of nodes.
//
//   keyword arg arg ... [ { children... } ]
// - '#' and '!' outside quotes start a comment to the end of the line.
// - "double quoted" strings make one word (keepalived keeps spaces inside).
// - '{' may end a line or stand on the next line; '}' closes a block and may
//   share a line with words before it ("192.168.1.1 }").
// - Each non-block line is one node: first word keyword, the rest args.
//   Lines inside a block that is a list (virtual_ipaddress { ... }) are nodes
//   too: keyword is the first word (e.g. the address).
// - `include GLOB` (top level or anywhere) is replaced by the nodes of every
//   file matching GLOB, sorted, resolved relative to the directory of the
//   including file; a glob matching nothing is an error; include depth is
//   limited (to catch loops).
// Errors (unbalanced braces, unterminated quote, unreadable include) throw
// ConfigError with file:line:col.
#include "common/config_error.h"

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace common {

struct KaNode {
  std::string keyword;
  std::vector<std::string> args;
  SourceLoc loc;       // of the keyword
  bool block = false;  // followed by { ... }
  std::vector<KaNode> children;
};

// Reads files for includes; returns nullopt when the file cannot be read.
using FileReader = std::function<std::optional<std::string>(const std::string& path)>;
// Expands a glob to sorted paths (default: glob(3)).
using GlobExpander = std::function<std::vector<std::string>(const std::string& pattern)>;

std::vector<KaNode> lexKeepalived(std::string_view text, const std::string& file,
                                  const FileReader& read, const GlobExpander& glob);
// Reads `path` from disk and resolves includes with the real filesystem.
std::vector<KaNode> lexKeepalivedFile(const std::string& path);

} // namespace common
