// libFuzzer target: the input is /etc/keepalived/keepalived.conf for
// lexKeepalived(), with an in-memory file system so `include` lines resolve
// to a few fixed files (nested includes, a file that includes itself, a
// two-file loop, an unbalanced file, an unreadable one). ConfigError is the
// expected way to refuse input; any other exception, crash, hang, leak or
// sanitizer report is a bug. Every node's raw text also goes through
// splitScriptWords(), as vrrpd does for script and notify lines.
#include "common/lexer_keepalived.h"

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace {

const std::string kMain = "/etc/keepalived/keepalived.conf";

// Paths -> contents; nullptr content: listed by glob but unreadable.
const std::map<std::string, const char*>& files() {
  static const std::map<std::string, const char*> f = {
      {kMain, "" /* replaced by the input */},
      {"/etc/keepalived/global.conf",
       "global_defs {\n  router_id LVS_A # comment\n  enable_script_security\n}\n"},
      {"/etc/keepalived/conf.d/10-vi.conf",
       "vrrp_instance VI_1 {\n  state MASTER\n  interface eth0\n  virtual_router_id 51\n"
       "  virtual_ipaddress {\n    198.18.0.10/24 dev eth0\n  }\n}\n"},
      {"/etc/keepalived/conf.d/20-script.conf",
       "vrrp_script chk {\n  script \"/bin/killall -0 haproxy\"\n  interval 2\n}\n"
       "include ../global.conf\n"},
      {"/etc/keepalived/conf.d/30-nested.conf", "include ../conf.d/10-vi.conf\n"},
      {"/etc/keepalived/self.conf", "include self.conf\n"},
      {"/etc/keepalived/loop/a.conf", "include b.conf\n"},
      {"/etc/keepalived/loop/b.conf", "include a.conf\n"},
      {"/etc/keepalived/broken.conf", "vrrp_instance X {\n  state BACKUP\n"},
      {"/etc/keepalived/unreadable.conf", nullptr},
  };
  return f;
}

// Matches one [...] class at p (just after '['); returns false when unclosed.
bool matchClass(std::string_view pat, size_t& p, char c, bool& matched) {
  size_t i = p;
  bool negate = false;
  if (i < pat.size() && (pat[i] == '!' || pat[i] == '^')) {
    negate = true;
    ++i;
  }
  bool any = false;
  bool first = true;
  while (i < pat.size() && (first || pat[i] != ']')) {
    first = false;
    char lo = pat[i];
    char hi = lo;
    if (i + 2 < pat.size() && pat[i + 1] == '-' && pat[i + 2] != ']') {
      hi = pat[i + 2];
      i += 3;
    } else {
      ++i;
    }
    if (c >= lo && c <= hi) any = true;
  }
  if (i >= pat.size()) return false;
  p = i + 1;
  matched = any != negate;
  return true;
}

// Glob match with '*', '?' and '[...]', in O(len(pat) * len(str)): a test
// double for glob(3), not a copy of it ('*' may cross '/').
bool globMatch(std::string_view pat, std::string_view str) {
  size_t p = 0, s = 0;
  size_t starP = std::string_view::npos, starS = 0;
  while (s < str.size()) {
    if (p < pat.size() && pat[p] == '*') {
      starP = ++p;
      starS = s;
      continue;
    }
    if (p < pat.size()) {
      size_t next = p + 1;
      bool ok = false;
      if (pat[p] == '?') {
        ok = true;
      } else if (pat[p] == '[') {
        size_t q = p + 1;
        bool m = false;
        if (matchClass(pat, q, str[s], m)) {
          ok = m;
          next = q;
        } else {
          ok = str[s] == '[';
        }
      } else {
        ok = pat[p] == str[s];
      }
      if (ok) {
        p = next;
        ++s;
        continue;
      }
    }
    if (starP == std::string_view::npos) return false;
    p = starP;
    s = ++starS;
  }
  while (p < pat.size() && pat[p] == '*')
    ++p;
  return p == pat.size();
}

void walk(const std::vector<common::KaNode>& nodes) {
  for (const common::KaNode& n : nodes) {
    auto words = common::splitScriptWords(n.raw);
    (void)words.ok();
    walk(n.children);
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  const common::FileReader read = [&](const std::string& path) -> std::optional<std::string> {
    if (path == kMain) return input;
    const auto it = files().find(path);
    if (it == files().end() || it->second == nullptr) return std::nullopt;
    return std::string(it->second);
  };
  const common::GlobExpander glob = [](const std::string& pattern) {
    std::vector<std::string> out;
    for (const auto& [path, text] : files())
      if (globMatch(pattern, path)) out.push_back(path);
    return out; // std::map: already sorted
  };
  try {
    const std::vector<common::KaNode> nodes = common::lexKeepalived(input, kMain, read, glob);
    walk(nodes);
  } catch (const common::ConfigError& e) {
    (void)e.what(); // the diagnostic must be formattable
  }
  return 0;
}
