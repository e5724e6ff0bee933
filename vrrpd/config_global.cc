// global_defs { }: the keywords vrrpd uses, plus the mail settings that are
// accepted for compatibility (vrrpd sends no mail).
#include "vrrpd/config_parse.h"

#include <array>

namespace vrrpd::cfg {
namespace {

using G = Draft;

void routerId(G& d, const NodeRef& r) {
  if (r.line(1, 1, "a name")) d.cfg.global.routerId = r.arg(0);
}

void notificationEmail(G& d, const NodeRef& r) {
  if (!r.block()) return;
  for (const common::KaNode& c : r.n.children) {
    d.cfg.global.notificationEmail.push_back(c.keyword);
    for (const std::string& a : c.args)
      d.cfg.global.notificationEmail.push_back(a);
  }
}

void emailFrom(G& d, const NodeRef& r) {
  if (r.line(1, 1, "an address")) d.cfg.global.notificationEmailFrom = r.arg(0);
}

void smtpServer(G& d, const NodeRef& r) {
  if (!r.line(1, 2, "a host [port]")) return;
  d.cfg.global.smtpServer = r.arg(0);
  if (r.nargs() == 2) {
    if (auto p = r.intArg(1, 1, 65535)) d.cfg.global.smtpPort = static_cast<uint16_t>(*p);
  }
}

void smtpConnectTimeout(G& d, const NodeRef& r) {
  if (!r.line(1, 1, "a number of seconds")) return;
  auto v = r.intArg(0, 0, 1000000);
  if (!v) return;
  if (*v == 0) {
    r.warn("smtp_connect_timeout must be greater than 0, setting to 1");
    v = 1;
  }
  d.cfg.global.smtpConnectTimeout = seconds(*v);
}

void smtpAlert(G& d, const NodeRef& r) {
  if (!r.line(0, 1, "[on|off]")) return;
  if (auto b = r.boolArg(0)) d.cfg.global.smtpAlert = *b;
}

void smtpAlertVrrp(G& d, const NodeRef& r) {
  if (!r.line(0, 1, "[on|off]")) return;
  if (auto b = r.boolArg(0)) d.smtpAlertVrrp = *b;
}

void vrrpVersion(G& d, const NodeRef& r) {
  if (!r.line(1, 1, "2 or 3")) return;
  if (auto v = r.intArg(0, 2, 3)) d.cfg.global.vrrpVersion = *v;
}

void mcastGroup4(G& d, const NodeRef& r) {
  if (!r.line(1, 1, "an IPv4 multicast address")) return;
  auto ip = r.ipArg(0);
  if (!ip) return;
  const uint8_t first =
      ip->family == AF_INET ? static_cast<uint8_t>(ntohl(ip->v4.s_addr) >> 24) : 0;
  if (first < 224 || first > 239) {
    r.error("vrrp_mcast_group4 " + r.arg(0) + " is not an IPv4 multicast address");
    return;
  }
  d.cfg.global.mcastGroup4 = *ip;
  d.mcastGroupSet = true;
}

void garpMasterDelay(G& d, const NodeRef& r) {
  if (!r.line(1, 1, "a number of seconds")) return;
  if (auto v = r.intArg(0, 0, 86400)) d.cfg.global.garpMasterDelay = seconds(*v);
}

void garpMasterRepeat(G& d, const NodeRef& r) {
  if (!r.line(1, 1, "a count")) return;
  if (auto v = r.intArg(0, 0, 1000)) d.cfg.global.garpMasterRepeat = *v;
}

void garpLowerPrioDelay(G& d, const NodeRef& r) {
  if (!r.line(1, 1, "a number of seconds")) return;
  if (auto v = r.intArg(0, 0, 86400)) d.cfg.global.garpLowerPrioDelay = seconds(*v);
}

void garpLowerPrioRepeat(G& d, const NodeRef& r) {
  if (!r.line(1, 1, "a count")) return;
  if (auto v = r.intArg(0, 0, 1000)) d.cfg.global.garpLowerPrioRepeat = *v;
}

void garpMasterRefresh(G& d, const NodeRef& r) {
  if (!r.line(1, 1, "a number of seconds")) return;
  if (auto v = r.intArg(0, 0, 86400)) d.cfg.global.garpMasterRefresh = seconds(*v);
}

void garpMasterRefreshRepeat(G& d, const NodeRef& r) {
  if (!r.line(1, 1, "a count")) return;
  if (auto v = r.intArg(0, 0, 1000)) d.cfg.global.garpMasterRefreshRepeat = *v;
}

void garpInterval(G& d, const NodeRef& r) {
  if (!r.line(1, 1, "a number of seconds")) return;
  if (auto v = r.secondsArg(0, Micros(0), seconds(1000))) d.cfg.global.garpInterval = *v;
}

void gnaInterval(G& d, const NodeRef& r) {
  if (!r.line(1, 1, "a number of seconds")) return;
  if (auto v = r.secondsArg(0, Micros(0), seconds(1000))) d.cfg.global.gnaInterval = *v;
}

void vrrpStrict(G& d, const NodeRef& r) {
  if (r.line(0, 0, "no argument")) d.cfg.global.vrrpStrict = true;
}

void checkUnicastSrc(G& d, const NodeRef& r) {
  if (r.line(0, 0, "no argument")) d.cfg.global.checkUnicastSrc = true;
}

void skipCheckAdvAddr(G& d, const NodeRef& r) {
  if (!r.line(0, 1, "[on|off]")) return;
  if (auto b = r.boolArg(0)) d.cfg.global.skipCheckAdvAddr = *b;
}

void enableScriptSecurity(G& d, const NodeRef& r) {
  if (r.line(0, 0, "no argument")) d.cfg.global.enableScriptSecurity = true;
}

void scriptUser(G& d, const NodeRef& r) {
  if (!r.line(1, 2, "a user name [group name]")) return;
  d.cfg.global.scriptUser = r.arg(0);
  d.scriptUserLoc = r.n.loc;
  if (r.nargs() == 2) d.cfg.global.scriptGroup = r.arg(1);
}

constexpr std::array<Keyword<G>, 22> kGlobal = {{
    {"router_id", routerId},
    {"notification_email", notificationEmail},
    {"notification_email_from", emailFrom},
    {"smtp_server", smtpServer},
    {"smtp_connect_timeout", smtpConnectTimeout},
    {"smtp_alert", smtpAlert},
    {"smtp_alert_vrrp", smtpAlertVrrp},
    {"vrrp_version", vrrpVersion},
    {"vrrp_mcast_group4", mcastGroup4},
    {"vrrp_garp_master_delay", garpMasterDelay},
    {"vrrp_garp_master_repeat", garpMasterRepeat},
    {"vrrp_garp_master_refresh", garpMasterRefresh},
    {"vrrp_garp_master_refresh_repeat", garpMasterRefreshRepeat},
    {"vrrp_garp_lower_prio_delay", garpLowerPrioDelay},
    {"vrrp_garp_lower_prio_repeat", garpLowerPrioRepeat},
    {"vrrp_garp_interval", garpInterval},
    {"vrrp_gna_interval", gnaInterval},
    {"vrrp_strict", vrrpStrict},
    {"vrrp_check_unicast_src", checkUnicastSrc},
    {"vrrp_skip_check_adv_addr", skipCheckAdvAddr},
    {"enable_script_security", enableScriptSecurity},
    {"script_user", scriptUser},
}};

} // namespace

void parseGlobalDefs(Draft& d, const NodeRef& r) {
  if (!r.block()) return;
  for (const common::KaNode& c : r.n.children)
    dispatch(kGlobal, d, NodeRef{c, r.diag});
}

} // namespace vrrpd::cfg
