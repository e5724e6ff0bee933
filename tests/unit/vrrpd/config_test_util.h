#pragma once
// Helpers shared by the vrrpd config tests.
#include "vrrpd/config.h"

#include <catch2/catch.hpp>
#include <map>
#include <string>
#include <vector>

namespace vrrpd::test {

// A host where only root (0) and nobody (65534) exist: no keepalived_script.
inline std::optional<unsigned> fakeUsers(const std::string& name) {
  static const std::map<std::string, unsigned> users = {{"root", 0}, {"nobody", 65534}};
  auto it = users.find(name);
  if (it == users.end()) return std::nullopt;
  return it->second;
}

inline ParseOptions opts() {
  ParseOptions o;
  o.lookupUser = fakeUsers;
  return o;
}

inline ParseOutcome parse(const std::string& text, const std::string& file = "k.conf") {
  return parseConfigText(text, file, opts());
}

// True when some message contains `needle`.
inline bool has(const std::vector<std::string>& msgs, const std::string& needle) {
  for (const auto& m : msgs)
    if (m.find(needle) != std::string::npos) return true;
  return false;
}

inline std::string joined(const std::vector<std::string>& msgs) {
  std::string out;
  for (const auto& m : msgs)
    out += m + "\n";
  return out;
}

// global_defs that keep script security quiet.
inline const char* kSecure = "global_defs {\n  enable_script_security\n  script_user nobody\n}\n";

// A minimal valid instance body opening (no closing brace).
inline std::string instance(const std::string& name = "VI_1", int vrid = 51) {
  return "vrrp_instance " + name + " {\n  interface eth0\n  virtual_router_id " +
         std::to_string(vrid) + "\n  virtual_ipaddress {\n    198.18.0.222\n  }\n";
}

} // namespace vrrpd::test
