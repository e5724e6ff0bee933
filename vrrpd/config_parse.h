#pragma once
// Internals shared by the config_*.cc files that make up parseConfig(). Not
// part of the model's contract (that is config.h).
//
// Each block (global_defs, vrrp_script, track_proxy, vrrp_instance,
// vrrp_sync_group) owns a keyword registry: a table of small functions, each
// reading one node into a draft. Diagnostics go to a Diag so parsing goes on
// after an error. complete() then resolves defaults and applies keepalived's
// corrections (config_complete.cc).
#include "vrrpd/config.h"

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vrrpd::cfg {

// "file:line: message" (the column is dropped: the project's form for vrrpd).
struct Diag {
  ParseOutcome& out;
  void error(const common::SourceLoc& loc, const std::string& msg);
  void warn(const common::SourceLoc& loc, const std::string& msg);
};

// A node being read, with helpers that report in the node's name.
struct NodeRef {
  const common::KaNode& n;
  Diag& diag;
  const std::string& kw() const { return n.keyword; }
  size_t nargs() const { return n.args.size(); }
  const std::string& arg(size_t i) const { return n.args[i]; }
  void error(const std::string& msg) const { diag.error(n.loc, msg); }
  void warn(const std::string& msg) const { diag.warn(n.loc, msg); }
  // "unsupported keyword 'kw'" (+ suffix): the project's one form for it.
  void unsupported(const std::string& suffix = "") const;
  // Checks the shape: a plain line with between lo and hi arguments.
  bool line(size_t lo, size_t hi, const std::string& what) const;
  // A block: `{ ... }` required; `maxArgs` words allowed before it.
  bool block(size_t maxArgs = 0) const;
  // Argument i as an integer in [lo, hi] / decimal seconds in [lo, hi] / an
  // address; nullopt after reporting.
  std::optional<int> intArg(size_t i, int lo, int hi) const;
  std::optional<Micros> secondsArg(size_t i, Micros lo, Micros hi) const;
  std::optional<common::IpAddr> ipArg(size_t i) const;
  // A keepalived <BOOL> (on|off|true|false|yes|no) at i; true when absent.
  std::optional<bool> boolArg(size_t i) const;
  // The script command of a script / notify line: `raw` re-split; trailing
  // "[username [groupname]]" taken when `withUser`.
  std::optional<ScriptCommand> commandArg(bool withUser) const;
};

template <class Ctx> using KeywordFn = void (*)(Ctx&, const NodeRef&);
template <class Ctx> struct Keyword {
  std::string_view name;
  KeywordFn<Ctx> fn;
};
// Runs the table entry for r's keyword, or reports it unsupported.
template <class Ctx, size_t N>
void dispatch(const std::array<Keyword<Ctx>, N>& table, Ctx& ctx, const NodeRef& r) {
  for (const Keyword<Ctx>& k : table) {
    if (k.name == r.kw()) {
      k.fn(ctx, r);
      return;
    }
  }
  r.unsupported();
}

// --- drafts: the model plus what was written explicitly ---
struct TrackDraft {
  std::optional<int> weight;
  bool reverse = false;
};

struct InstanceDraft {
  VrrpInstance vi;
  bool stateSet = false;
  std::optional<int> priority;
  std::optional<int> version;
  std::optional<Micros> advertInt;
  std::optional<bool> accept;
  std::optional<bool> strict;
  std::optional<bool> smtpAlert;
  std::optional<bool> skipCheckAdvAddr;
  std::optional<Micros> garpMasterDelay, garpMasterRefresh, garpLowerPrioDelay;
  std::optional<int> garpMasterRepeat, garpMasterRefreshRepeat, garpLowerPrioRepeat;
  bool vipWritten = false;               // virtual_ipaddress had lines (maybe refused)
  bool unicastKeyword = false;           // unicast_src_ip written (peers or not)
  std::vector<TrackDraft> scriptWeights; // parallel to vi.trackScripts
  std::vector<TrackDraft> proxyWeights;  // parallel to vi.trackProxies
};

struct SyncDraft {
  SyncGroup g;
  std::optional<bool> smtpAlert;
};

struct Draft {
  Config cfg; // global, scripts and track proxies are filled in place
  std::vector<InstanceDraft> instances;
  std::vector<SyncDraft> groups;
  std::optional<bool> smtpAlertVrrp; // global smtp_alert_vrrp
  bool mcastGroupSet = false;
  common::SourceLoc scriptUserLoc;
  bool securityViolation = false;
};

// --- block parsers (one registry each) ---
void parseGlobalDefs(Draft& d, const NodeRef& r);   // config_global.cc
void parseVrrpScript(Draft& d, const NodeRef& r);   // config_script.cc
void parseTrackProxy(Draft& d, const NodeRef& r);   // config_script.cc
void parseSyncGroup(Draft& d, const NodeRef& r);    // config_script.cc
void parseVrrpInstance(Draft& d, const NodeRef& r); // config_instance.cc

// Completion: defaults, corrections, references, script security.
void complete(Draft& d, Diag& diag, const ParseOptions& opt); // config_complete.cc

} // namespace vrrpd::cfg
