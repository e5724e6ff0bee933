// parseConfig(): the top level of keepalived.conf, the shared diagnostic and
// value helpers, and the entry points. Block keywords live in
// config_global.cc, config_script.cc and config_instance.cc; defaults and
// corrections in config_complete.cc.
#include "vrrpd/config.h"
#include "vrrpd/config_parse.h"

#include <array>
#include <pwd.h>

namespace vrrpd {

const VrrpScript* Config::findScript(const std::string& name) const {
  for (const VrrpScript& s : scripts)
    if (s.name == name) return &s;
  return nullptr;
}

const TrackProxy* Config::findTrackProxy(const std::string& name) const {
  for (const TrackProxy& t : trackProxies)
    if (t.name == name) return &t;
  return nullptr;
}

const VrrpInstance* Config::findInstance(const std::string& name) const {
  for (const VrrpInstance& v : instances)
    if (v.name == name) return &v;
  return nullptr;
}

std::optional<unsigned> systemUserLookup(const std::string& name) {
  const passwd* pw = getpwnam(name.c_str());
  if (!pw) return std::nullopt;
  return static_cast<unsigned>(pw->pw_uid);
}

const char* stateName(InitialState s) {
  return s == InitialState::Master ? "MASTER" : "BACKUP";
}

const char* authName(AuthType a) {
  switch (a) {
  case AuthType::None:
    return "none";
  case AuthType::Pass:
    return "PASS";
  case AuthType::Ah:
    return "AH";
  }
  return "?";
}

int testExitCode(const ParseOutcome& o) {
  // A file vrrpd refuses cannot run at all: that outranks the rest.
  if (!o.errors.empty()) return kExitFatal;
  if (o.securityViolation) return kExitConfigSecurity;
  if (!o.warnings.empty()) return kExitConfigTest;
  return kExitOk;
}

namespace cfg {

namespace {

std::string lineStr(const common::SourceLoc& loc) {
  common::SourceLoc l = loc;
  l.col = 0;
  return l.str();
}

bool isDecimal(const std::string& s) {
  bool digit = false, dot = false;
  for (char c : s) {
    if (c >= '0' && c <= '9') {
      digit = true;
    } else if (c == '.' && !dot) {
      dot = true;
    } else {
      return false;
    }
  }
  return digit;
}

std::string secStr(Micros d) {
  const auto us = d.count();
  std::string s = std::to_string(us / 1000000);
  if (us % 1000000) {
    std::string frac = std::to_string(1000000 + us % 1000000).substr(1);
    while (!frac.empty() && frac.back() == '0')
      frac.pop_back();
    s += "." + frac;
  }
  return s;
}

} // namespace

void Diag::error(const common::SourceLoc& loc, const std::string& msg) {
  out.errors.push_back(lineStr(loc) + ": " + msg);
  out.messages.push_back(out.errors.back());
}

void Diag::warn(const common::SourceLoc& loc, const std::string& msg) {
  out.warnings.push_back(lineStr(loc) + ": warning: " + msg);
  out.messages.push_back(out.warnings.back());
}

void NodeRef::unsupported(const std::string& suffix) const {
  error("unsupported keyword '" + kw() + "'" + suffix);
}

bool NodeRef::line(size_t lo, size_t hi, const std::string& what) const {
  if (n.block) {
    error("'" + kw() + "' takes no { } block");
    return false;
  }
  if (nargs() < lo) {
    error("'" + kw() + "' expects " + what);
    return false;
  }
  if (nargs() > hi) {
    error("'" + kw() + "': unexpected argument '" + arg(hi) + "'");
    return false;
  }
  return true;
}

bool NodeRef::block(size_t maxArgs) const {
  if (!n.block) {
    error("'" + kw() + "' expects a { } block");
    return false;
  }
  if (nargs() > maxArgs) {
    error("'" + kw() + "': unexpected argument '" + arg(maxArgs) + "'");
    return false;
  }
  return true;
}

std::optional<int> NodeRef::intArg(size_t i, int lo, int hi) const {
  auto v = common::parseInt(arg(i), lo, hi);
  if (!v) {
    error("'" + kw() + "': invalid value '" + arg(i) + "' (expected an integer in [" +
          std::to_string(lo) + ", " + std::to_string(hi) + "])");
    return std::nullopt;
  }
  return static_cast<int>(*v);
}

std::optional<Micros> NodeRef::secondsArg(size_t i, Micros lo, Micros hi) const {
  const std::string range = "[" + secStr(lo) + ", " + secStr(hi) + "]";
  auto d = isDecimal(arg(i)) ? common::parseDuration(arg(i), seconds(1))
                             : common::Result<Micros>(common::err("not a number"));
  if (!d || *d < lo || *d > hi) {
    error("'" + kw() + "': invalid value '" + arg(i) + "' (expected seconds in " + range + ")");
    return std::nullopt;
  }
  return *d;
}

std::optional<common::IpAddr> NodeRef::ipArg(size_t i) const {
  auto ip = common::parseIp(arg(i));
  if (!ip) {
    error("'" + kw() + "': invalid IP address '" + arg(i) + "'");
    return std::nullopt;
  }
  return *ip;
}

std::optional<bool> NodeRef::boolArg(size_t i) const {
  if (i >= nargs()) return true;
  const std::string& s = arg(i);
  if (s == "on" || s == "true" || s == "yes") return true;
  if (s == "off" || s == "false" || s == "no") return false;
  error("'" + kw() + "': invalid boolean '" + s + "' (expected on|off|true|false|yes|no)");
  return std::nullopt;
}

std::optional<ScriptCommand> NodeRef::commandArg(bool withUser) const {
  if (!line(1, withUser ? 3 : SIZE_MAX, "a command")) return std::nullopt;
  auto words = common::splitScriptWords(n.raw);
  if (!words || words->empty()) {
    error("'" + kw() + "': " + (words ? std::string("empty command") : words.error()));
    return std::nullopt;
  }
  ScriptCommand c;
  c.raw = n.raw;
  c.loc = n.loc;
  std::vector<std::string> argv = *words;
  if (withUser || argv.size() == 1) {
    // The command is one (usually quoted) word: split it again.
    auto inner = common::splitScriptWords(argv[0]);
    if (!inner || inner->empty()) {
      error("'" + kw() + "': " + (inner ? std::string("empty command") : inner.error()));
      return std::nullopt;
    }
    if (withUser) {
      if (argv.size() > 3) {
        error("'" + kw() + "': unexpected argument '" + argv[3] +
              "' (expected \"COMMAND\" [username [groupname]]: quote a command with arguments)");
        return std::nullopt;
      }
      if (argv.size() > 1) c.user = argv[1];
      if (argv.size() > 2) c.group = argv[2];
    }
    argv = *inner;
  }
  c.argv = std::move(argv);
  return c;
}

} // namespace cfg

namespace {

using cfg::Draft;
using cfg::NodeRef;

void refuseIpvs(Draft&, const NodeRef& r) {
  r.error(r.kw() + " is not supported (IPVS is not available)");
}

constexpr std::array<cfg::Keyword<Draft>, 7> kTopLevel = {{
    {"global_defs", cfg::parseGlobalDefs},
    {"vrrp_script", cfg::parseVrrpScript},
    {"track_proxy", cfg::parseTrackProxy},
    {"vrrp_instance", cfg::parseVrrpInstance},
    {"vrrp_sync_group", cfg::parseSyncGroup},
    {"virtual_server", refuseIpvs},
    {"virtual_server_group", refuseIpvs},
}};

} // namespace

ParseOutcome parseConfig(const std::vector<common::KaNode>& nodes, const ParseOptions& opt) {
  ParseOutcome out;
  cfg::Diag diag{out};
  Draft d;
  for (const common::KaNode& n : nodes)
    cfg::dispatch(kTopLevel, d, NodeRef{n, diag});
  cfg::complete(d, diag, opt);
  return out;
}

namespace {

ParseOutcome lexFailure(const common::ConfigError& e) {
  ParseOutcome out;
  out.errors.push_back(e.what());
  out.messages = out.errors;
  return out;
}

} // namespace

ParseOutcome parseConfigFile(const std::string& path, const ParseOptions& opt) {
  std::vector<common::KaNode> nodes;
  try {
    nodes = common::lexKeepalivedFile(path);
  } catch (const common::ConfigError& e) {
    return lexFailure(e);
  }
  return parseConfig(nodes, opt);
}

ParseOutcome parseConfigText(const std::string& text, const std::string& file,
                             const ParseOptions& opt, const common::FileReader& read,
                             const common::GlobExpander& glob) {
  std::vector<common::KaNode> nodes;
  try {
    common::FileReader r =
        read ? read : [](const std::string&) -> std::optional<std::string> { return std::nullopt; };
    common::GlobExpander g = glob ? glob : common::GlobExpander(common::globFiles);
    nodes = common::lexKeepalived(text, file, r, g);
  } catch (const common::ConfigError& e) {
    return lexFailure(e);
  }
  return parseConfig(nodes, opt);
}

} // namespace vrrpd
