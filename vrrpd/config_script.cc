// vrrp_script NAME { }, track_proxy NAME { } (ours) and
// vrrp_sync_group NAME { }.
#include "vrrpd/config_parse.h"

#include <array>

namespace vrrpd::cfg {
namespace {

// A block introduced by "keyword NAME {": reports and returns false unless
// the shape is right and the name is new in `names`.
template <class T>
bool namedBlock(const NodeRef& r, const std::vector<T>& existing, const std::string& what) {
  if (!r.n.block) {
    r.error("'" + r.kw() + "' expects a name and a { } block");
    return false;
  }
  if (r.nargs() != 1) {
    r.error(r.nargs() == 0 ? "'" + r.kw() + "' expects a name"
                           : "'" + r.kw() + "': unexpected argument '" + r.arg(1) + "'");
    return false;
  }
  for (const T& e : existing) {
    if (e.name == r.arg(0)) {
      r.error(what + " " + r.arg(0) + " already defined at " + e.loc.file + ":" +
              std::to_string(e.loc.line));
      return false;
    }
  }
  return true;
}

// "weight W [reverse]" values shared by vrrp_script and track_proxy.
void weightLine(const NodeRef& r, int& weight, bool& reverse) {
  if (!r.line(1, 2, "a weight in [-253, 253] [reverse]")) return;
  if (auto w = r.intArg(0, -kTrackWeightMax, kTrackWeightMax)) weight = *w;
  if (r.nargs() == 2) {
    if (r.arg(1) == "reverse")
      reverse = true;
    else
      r.error("'weight': unknown option '" + r.arg(1) + "' (expected 'reverse')");
  }
}

// rise / fall: keepalived corrects 0 to 1.
void countLine(const NodeRef& r, int& v) {
  if (!r.line(1, 1, "a count")) return;
  auto n = r.intArg(0, 0, 1000000);
  if (!n) return;
  if (*n == 0) {
    r.warn("'" + r.kw() + "' must be at least 1, setting to 1");
    n = 1;
  }
  v = *n;
}

// --- vrrp_script ---

void scScript(VrrpScript& s, const NodeRef& r) {
  if (auto c = r.commandArg(false)) s.script = *c;
}

// interval / timeout: whole seconds in keepalived 2.2; 0 is corrected to 1.
void wholeSeconds(const NodeRef& r, Micros& out) {
  if (!r.line(1, 1, "a number of seconds")) return;
  auto v = r.intArg(0, 0, 1000000);
  if (!v) return;
  if (*v == 0) {
    r.warn("'" + r.kw() + "' must be greater than 0, setting to 1");
    v = 1;
  }
  out = seconds(*v);
}

void scInterval(VrrpScript& s, const NodeRef& r) {
  wholeSeconds(r, s.interval);
}
void scTimeout(VrrpScript& s, const NodeRef& r) {
  wholeSeconds(r, s.timeout);
}
void scWeight(VrrpScript& s, const NodeRef& r) {
  weightLine(r, s.weight, s.weightReverse);
}
void scRise(VrrpScript& s, const NodeRef& r) {
  countLine(r, s.rise);
}
void scFall(VrrpScript& s, const NodeRef& r) {
  countLine(r, s.fall);
}
void scUser(VrrpScript& s, const NodeRef& r) {
  if (!r.line(1, 2, "a user name [group name]")) return;
  s.script.user = r.arg(0);
  s.script.group = r.nargs() == 2 ? r.arg(1) : "";
}
void scInitFail(VrrpScript& s, const NodeRef& r) {
  if (r.line(0, 0, "no argument")) s.initFail = true;
}

constexpr std::array<Keyword<VrrpScript>, 8> kScript = {{
    {"script", scScript},
    {"interval", scInterval},
    {"timeout", scTimeout},
    {"weight", scWeight},
    {"rise", scRise},
    {"fall", scFall},
    {"user", scUser},
    {"init_fail", scInitFail},
}};

// --- track_proxy (ours) ---

void tpSocket(TrackProxy& t, const NodeRef& r) {
  if (r.line(1, 1, "a unix socket path")) t.socket = r.arg(0);
}
void tpBackend(TrackProxy& t, const NodeRef& r) {
  if (r.line(1, 1, "a backend name")) t.backend = r.arg(0);
}
void tpWeight(TrackProxy& t, const NodeRef& r) {
  weightLine(r, t.weight, t.weightReverse);
}
void tpRise(TrackProxy& t, const NodeRef& r) {
  countLine(r, t.rise);
}
void tpFall(TrackProxy& t, const NodeRef& r) {
  countLine(r, t.fall);
}
void tpHeartbeat(TrackProxy& t, const NodeRef& r) {
  if (!r.line(1, 1, "a duration (seconds, or with a unit: 200ms)")) return;
  auto d = common::parseDuration(r.arg(0), seconds(1));
  if (!d || d->count() <= 0 || *d > std::chrono::hours(1)) {
    r.error("'heartbeat': invalid duration '" + r.arg(0) + "' (expected more than 0, at most 1h)");
    return;
  }
  t.heartbeat = *d;
}

void tpProxyUser(TrackProxy& t, const NodeRef& r) {
  if (r.line(1, 1, "a user name or uid")) t.proxyUser = r.arg(0);
}

constexpr std::array<Keyword<TrackProxy>, 7> kTrackProxy = {{
    {"socket", tpSocket},
    {"backend", tpBackend},
    {"weight", tpWeight},
    {"rise", tpRise},
    {"fall", tpFall},
    {"heartbeat", tpHeartbeat},
    {"proxy_user", tpProxyUser},
}};

// --- vrrp_sync_group ---

void sgGroup(SyncDraft& s, const NodeRef& r) {
  if (!r.block()) return;
  for (const common::KaNode& c : r.n.children) {
    s.g.members.push_back(c.keyword);
    for (const std::string& a : c.args)
      s.g.members.push_back(a);
  }
}

void notifyInto(ScriptCommand& dst, const NodeRef& r) {
  if (auto c = r.commandArg(true)) dst = *c;
}
void sgNotifyMaster(SyncDraft& s, const NodeRef& r) {
  notifyInto(s.g.notifyMaster, r);
}
void sgNotifyBackup(SyncDraft& s, const NodeRef& r) {
  notifyInto(s.g.notifyBackup, r);
}
void sgNotifyFault(SyncDraft& s, const NodeRef& r) {
  notifyInto(s.g.notifyFault, r);
}
void sgNotifyStop(SyncDraft& s, const NodeRef& r) {
  notifyInto(s.g.notifyStop, r);
}
void sgNotify(SyncDraft& s, const NodeRef& r) {
  notifyInto(s.g.notify, r);
}
void sgSmtpAlert(SyncDraft& s, const NodeRef& r) {
  if (!r.line(0, 1, "[on|off]")) return;
  if (auto b = r.boolArg(0)) s.smtpAlert = *b;
}

constexpr std::array<Keyword<SyncDraft>, 7> kSyncGroup = {{
    {"group", sgGroup},
    {"notify_master", sgNotifyMaster},
    {"notify_backup", sgNotifyBackup},
    {"notify_fault", sgNotifyFault},
    {"notify_stop", sgNotifyStop},
    {"notify", sgNotify},
    {"smtp_alert", sgSmtpAlert},
}};

} // namespace

void parseVrrpScript(Draft& d, const NodeRef& r) {
  if (!namedBlock(r, d.cfg.scripts, "vrrp_script")) return;
  VrrpScript s;
  s.name = r.arg(0);
  s.loc = r.n.loc;
  for (const common::KaNode& c : r.n.children)
    dispatch(kScript, s, NodeRef{c, r.diag});
  d.cfg.scripts.push_back(std::move(s));
}

void parseTrackProxy(Draft& d, const NodeRef& r) {
  if (!namedBlock(r, d.cfg.trackProxies, "track_proxy")) return;
  TrackProxy t;
  t.name = r.arg(0);
  t.loc = r.n.loc;
  for (const common::KaNode& c : r.n.children)
    dispatch(kTrackProxy, t, NodeRef{c, r.diag});
  d.cfg.trackProxies.push_back(std::move(t));
}

void parseSyncGroup(Draft& d, const NodeRef& r) {
  std::vector<SyncGroup> existing;
  for (const SyncDraft& g : d.groups)
    existing.push_back(g.g);
  if (!namedBlock(r, existing, "vrrp_sync_group")) return;
  SyncDraft s;
  s.g.name = r.arg(0);
  s.g.loc = r.n.loc;
  for (const common::KaNode& c : r.n.children)
    dispatch(kSyncGroup, s, NodeRef{c, r.diag});
  d.groups.push_back(std::move(s));
}

} // namespace vrrpd::cfg
