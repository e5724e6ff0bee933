#pragma once
// Helpers for ACL and rule tests: parse a request/response into an
// http1::Message that stays valid, compile ACLs and conditions from text.
#include "proxyd/acl.h"
#include "proxyd/http1.h"

#include <catch2/catch.hpp>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

namespace proxyd::test {

// Owns the parser whose buffer the message's views point into.
class Parsed {
public:
  explicit Parsed(const std::string& raw, http1::Kind kind = http1::Kind::Request)
      : parser_(std::make_unique<http1::Parser>(kind)) {
    auto r = parser_->parse(raw);
    INFO(raw);
    REQUIRE(r.event == http1::Event::Head);
  }
  const http1::Message& msg() const { return parser_->message(); }

private:
  std::unique_ptr<http1::Parser> parser_;
};

inline std::vector<std::string> split(const std::string& line) {
  std::istringstream in(line);
  std::vector<std::string> w;
  std::string s;
  while (in >> s)
    w.push_back(s);
  return w;
}

// "acl NAME ..." lines into a table; REQUIREs success.
inline AclTable acls(const std::vector<std::string>& lines) {
  AclTable t;
  for (const auto& l : lines) {
    AclError err;
    INFO(l);
    bool ok = parseAclLine(split(l), t, err);
    INFO(err.message);
    REQUIRE(ok);
  }
  return t;
}

inline Condition cond(const std::string& text, const AclTable& t = {}) {
  AclError err;
  auto c = parseCondition(split(text), 0, t, err);
  INFO(text);
  INFO(err.message);
  REQUIRE(c);
  return *c;
}

inline std::string condError(const std::string& text, const AclTable& t = {}) {
  AclError err;
  auto c = parseCondition(split(text), 0, t, err);
  REQUIRE_FALSE(c);
  return err.message;
}

inline std::string aclError(const std::string& line) {
  AclTable t;
  AclError err;
  REQUIRE_FALSE(parseAclLine(split(line), t, err));
  return err.message;
}

inline std::string get(const std::string& target, const std::string& headers = "Host: x\r\n") {
  return "GET " + target + " HTTP/1.1\r\n" + headers + "\r\n";
}

} // namespace proxyd::test
