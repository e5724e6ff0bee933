#pragma once
// ACLs and conditions, as HAProxy 2.6 (configuration.txt section 7). Pure:
// parsing turns config words into compiled objects; evaluation reads a
// SampleContext and never does I/O.
//
//   acl NAME FETCH [-i] [-m MATCH] [-n] [--] VALUE...
//   use_backend B if|unless COND       http-request deny if|unless COND
//
// A condition is a disjunction (`or`, `||`) of conjunctions (juxtaposed
// terms); a term is `[!]NAME` or `[!]{ FETCH [flags] VALUE... }` (an
// anonymous ACL). Several `acl` lines with one name are ORed, and - as in
// HAProxy - a condition sees lines added to an ACL after the condition was
// parsed (it shares the ACL object).
//
// Evaluation follows HAProxy's: a fetch that finds nothing makes its ACL
// false (so `!acl` true); a multi-valued fetch (hdr(), with comma-separated
// values) matches when any value matches any pattern.
#include "common/config_error.h"
#include "common/values.h"
#include "proxyd/http1.h"

#include <map>
#include <memory>
#include <optional>
#include <regex.h>
#include <string>
#include <string_view>
#include <vector>

namespace proxyd {

// A compiled regular expression: POSIX extended syntax as glibc implements
// it (HAProxy's non-PCRE build uses the same library), plus `\d`/`\D` for
// digits as PCRE writes them. glibc's matcher does not recurse per input
// byte, so a long header cannot exhaust the stack (std::regex can).
class Regex {
public:
  // nullptr and `err` set ("regex '([' is invalid (error=...)") on failure.
  static std::shared_ptr<const Regex> compile(const std::string& re, bool icase, std::string& err);
  ~Regex();
  Regex(const Regex&) = delete;
  Regex& operator=(const Regex&) = delete;

  // True when the expression matches somewhere in s.
  bool search(std::string_view s) const;
  // Same, filling groups[0..9] with (offset, length) of each group (npos
  // offset when a group did not take part).
  bool search(std::string_view s, std::vector<std::pair<std::size_t, std::size_t>>& groups) const;
  const std::string& text() const { return text_; }

private:
  Regex() = default;
  regex_t re_{};
  bool compiled_ = false;
  std::string text_;
};

// What a fetch reads. `req` is null where there is no HTTP request (tcp
// mode): every HTTP fetch then finds nothing.
struct SampleContext {
  const http1::Message* req = nullptr;
  common::SockAddr src; // the client
  common::SockAddr dst; // the local address the client connected to
  bool ssl = false;     // the client connection is TLS (ssl_fc)
  // The response, in http-response rules (status, res.hdr...); else null.
  const http1::Message* res = nullptr;
};

// One compiled `FETCH [flags] VALUES` expression (an ACL line). Opaque.
struct AclExpr;

// A named ACL: the expressions of all its lines, ORed.
class Acl {
public:
  explicit Acl(std::string name) : name_(std::move(name)) {}
  ~Acl();
  Acl(const Acl&) = delete;
  Acl& operator=(const Acl&) = delete;

  const std::string& name() const { return name_; }
  bool eval(const SampleContext& ctx) const;
  void add(std::shared_ptr<const AclExpr> expr) { exprs_.push_back(std::move(expr)); }
  // True when some expression needs the HTTP request (an HTTP fetch).
  bool usesHttp() const;
  // False when every expression uses fetches that find nothing in that
  // context (request fetches in http-response rules, response fetches in
  // http-request rules and use_backend): the ACL can never match there.
  bool usableIn(bool response) const;
  // The fetch keyword of the first expression (for diagnostics).
  std::string firstKeyword() const;

private:
  std::string name_;
  std::vector<std::shared_ptr<const AclExpr>> exprs_;
};

// A compiled if/unless condition. Self-contained: it holds the ACLs it uses.
class Condition {
public:
  struct Term {
    std::shared_ptr<const Acl> acl;
    bool negate = false;
  };
  Condition() = default; // "if" with no term: never true, as HAProxy
  Condition(bool unless, std::vector<std::vector<Term>> anyOf)
      : unless_(unless), anyOf_(std::move(anyOf)) {}

  bool eval(const SampleContext& ctx) const;
  bool unless() const { return unless_; }
  const std::vector<std::vector<Term>>& anyOf() const { return anyOf_; }
  bool usesHttp() const;
  // The condition as written, normalised ("if url_static", "unless !a or b"),
  // anonymous ACLs shown as "{...}" - for --dump and logs.
  std::string str() const;

private:
  bool unless_ = false;
  // OR of ANDs. Empty: false (before unless is applied), as HAProxy.
  std::vector<std::vector<Term>> anyOf_;
};

// The ACLs declared so far in one proxy section, by name.
using AclTable = std::map<std::string, std::shared_ptr<Acl>, std::less<>>;

// An error from parsing words; `word` is the index of the offending word in
// the vector given (for the column), or the first word when unknown.
struct AclError {
  size_t word = 0;
  std::string message;
};

// Parses `acl NAME FETCH ...` given words[0] == "acl". Adds the line to the
// table (creating or extending NAME). Returns false and fills err on error
// (the table is unchanged). `warning`, when given, receives HAProxy's
// warning for an expression without patterns ("" when none).
bool parseAclLine(const std::vector<std::string>& words, AclTable& table, AclError& err,
                  std::string* warning = nullptr);

// Parses a condition starting at words[first], which must be "if" or
// "unless", through the end of `words`. ACL names are looked up in `table`,
// then among HAProxy's predefined ACLs (TRUE, FALSE, METH_GET, HTTP_1.1,
// LOCALHOST, ...). Returns nullopt and fills err on error.
std::optional<Condition> parseCondition(const std::vector<std::string>& words, size_t first,
                                        const AclTable& table, AclError& err);

// True when words[i] starts a condition ("if" or "unless").
bool isConditionWord(std::string_view w);

} // namespace proxyd
