#pragma once
// Helpers shared by the proxyd config tests.
#include "proxyd/config.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

namespace proxyd::test {

inline ParseOutcome parse(const std::string& text, const std::string& file = "t.cfg") {
  return parseConfig({ConfigFile{file, text}});
}

// True when some message contains `needle`.
inline bool has(const std::vector<std::string>& msgs, const std::string& needle) {
  for (const auto& m : msgs) {
    if (m.find(needle) != std::string::npos) return true;
  }
  return false;
}

// All messages, one a line, for failure output.
inline std::string joined(const std::vector<std::string>& msgs) {
  std::string out;
  for (const auto& m : msgs)
    out += m + "\n";
  return out;
}

// A defaults section with every timeout HAProxy wants, so tests that are not
// about timeouts see no warning.
inline const char* kTimeouts = "defaults\n"
                               "  mode tcp\n"
                               "  timeout connect 5s\n"
                               "  timeout client 30s\n"
                               "  timeout server 30s\n";

inline const ProxyConfig& proxy(const ParseOutcome& o, const std::string& name, unsigned cap) {
  int i = o.config.find(name, cap);
  REQUIRE(i >= 0);
  return o.config.proxies[i];
}

} // namespace proxyd::test
