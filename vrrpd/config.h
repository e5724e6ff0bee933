#pragma once
// vrrpd's configuration: keepalived 2.2's VRRP keywords (global_defs,
// vrrp_script, vrrp_instance, vrrp_sync_group) plus our track_proxy.
//
// parseConfig() reads a KaNode tree (common/lexer_keepalived.h) into Config,
// then completes it the way keepalived's vrrp_complete_instance() does:
// defaults resolved (a MASTER without priority is 255, global GARP settings
// copied into instances, accept mode from strict mode, ...), corrections
// applied with a warning (auth_pass truncated to 8, nopreempt cleared for an
// initial MASTER, advert_int rounded, ...), references checked (track_script
// names, sync group members). After parseConfig() every field holds its
// effective value: the daemon and --dump read it as is.
//
// Diagnostics are "file:line: message" strings. keepalived keeps running
// after most configuration problems, using a default; we split them:
//   errors    the file is refused (unknown keyword, value out of range,
//             missing virtual_router_id, unknown track_script, ...);
//   warnings  keepalived's corrections, applied as keepalived applies them.
// `vrrpd -t` exits as `keepalived -t` (see testExitCode()).
#include "common/config_error.h"
#include "common/lexer_keepalived.h"
#include "common/values.h"

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace vrrpd {

using common::Micros;
using std::chrono::seconds;

inline constexpr int kPrioOwner = 255;   // address owner
inline constexpr int kPrioDefault = 100; // keepalived's VRRP_PRIO_DFL
inline constexpr size_t kAuthPassMax = 8;
inline constexpr int kTrackWeightMax = 253;

enum class InitialState { Backup, Master };
enum class AuthType { None, Pass, Ah };

// A script or notify command line: `raw` as written (keepalived re-reads it
// with quotes and escapes), `argv` its words (common::splitScriptWords), and
// the optional "username [groupname]" that follows the command on notify
// lines or comes from vrrp_script's `user`.
struct ScriptCommand {
  std::string raw;
  std::vector<std::string> argv;
  std::string user;  // empty: the global script user
  std::string group; // empty: the user's group
  common::SourceLoc loc;
  bool empty() const { return argv.empty(); }
};

struct GlobalDefs {
  std::string routerId; // empty: the local host name (resolved at run time)
  // Mail: accepted for compatibility; vrrpd sends no mail.
  std::vector<std::string> notificationEmail;
  std::string notificationEmailFrom;
  std::string smtpServer; // host or address; empty when unset
  uint16_t smtpPort = 25;
  Micros smtpConnectTimeout = seconds(30);
  bool smtpAlert = false;

  int vrrpVersion = 2;
  common::IpAddr mcastGroup4; // 224.0.0.18 after parsing
  Micros garpMasterDelay = seconds(5);
  int garpMasterRepeat = 5;
  Micros garpMasterRefresh{0}; // 0: no refresh
  int garpMasterRefreshRepeat = 1;
  // vrrp_garp_lower_prio_repeat/_delay; unset: the garp_master values above
  std::optional<int> garpLowerPrioRepeat;
  std::optional<Micros> garpLowerPrioDelay;
  Micros garpInterval{0};
  Micros gnaInterval{0};
  bool vrrpStrict = false;
  bool checkUnicastSrc = false;
  bool skipCheckAdvAddr = false;

  bool enableScriptSecurity = false;
  std::string scriptUser; // empty: keepalived_script if it exists, else root
  std::string scriptGroup;
};

struct VrrpScript {
  std::string name;
  common::SourceLoc loc;
  ScriptCommand script;
  Micros interval = seconds(1);
  Micros timeout{0}; // after parsing: `interval` when not set, as keepalived
  int weight = 0;    // -253..253; 0: failure means FAULT
  bool weightReverse = false;
  int rise = 1;
  int fall = 1;
  bool initFail = false;
};

// Ours: follows proxyd's admin socket (see docs/architecture.md).
struct TrackProxy {
  std::string name;
  common::SourceLoc loc;
  std::string socket;  // path of proxyd's admin socket (required)
  std::string backend; // empty: proxyd's own liveness only
  int weight = 0;      // as vrrp_script: 0 = FAULT on failure
  bool weightReverse = false;
  int rise = 1;
  int fall = 1;
  Micros heartbeat = seconds(1); // silence longer than this counts as failure
  // Who may be at the other end besides root (and vrrpd's own user): the
  // user proxyd runs as when its socket is not root's (proxy_trust.h).
  std::string proxyUser;            // as written; empty: root only
  std::optional<unsigned> proxyUid; // resolved (a name or a number)
};

struct TrackScriptRef {
  std::string name;
  common::SourceLoc loc;
  int weight = 0; // resolved: the instance's override, else the script's
  bool weightReverse = false;
};

struct TrackInterfaceRef {
  std::string name;
  common::SourceLoc loc;
  int weight = 0;
  bool weightReverse = false;
};

struct TrackProxyRef {
  std::string name;
  common::SourceLoc loc;
  int weight = 0; // resolved as TrackScriptRef
  bool weightReverse = false;
};

// One line of virtual_ipaddress { }: IP[/MASK] [brd IP|+|-] [dev IF]
// [scope S] [label L] [no_track].
struct VirtualIp {
  common::Cidr addr; // prefix 32 when no mask is written
  common::SourceLoc loc;
  std::optional<common::IpAddr> broadcast;
  bool broadcastAuto = false; // "brd +": computed from the prefix
  std::string dev;            // resolved: the instance's interface when not given
  std::string scope = "global";
  std::string label;
  bool noTrack = false;
};

struct VrrpInstance {
  std::string name;
  common::SourceLoc loc;
  InitialState state = InitialState::Backup;
  std::string interface;
  int vrid = 0;
  int priority = kPrioDefault;
  Micros advertInt = seconds(1);
  int version = 2;
  AuthType authType = AuthType::None;
  std::string authPass; // at most 8 bytes
  std::vector<VirtualIp> vips;
  std::vector<VirtualIp> excludedVips;
  std::optional<common::IpAddr> mcastSrcIp;
  std::optional<common::IpAddr> unicastSrcIp;
  std::vector<common::IpAddr> unicastPeers;
  std::vector<TrackScriptRef> trackScripts;
  std::vector<TrackInterfaceRef> trackInterfaces;
  std::vector<TrackProxyRef> trackProxies;
  bool nopreempt = false;
  Micros preemptDelay{0};
  Micros garpMasterDelay = seconds(5);
  int garpMasterRepeat = 5;
  Micros garpMasterRefresh{0};
  int garpMasterRefreshRepeat = 1;
  // garp_lower_prio_repeat/_delay: GARPs when a lower priority advert
  // arrives while MASTER (keepalived: the global values, 0 in strict mode)
  int garpLowerPrioRepeat = 5;
  Micros garpLowerPrioDelay = seconds(5);
  ScriptCommand notifyMaster, notifyBackup, notifyFault, notifyStop, notify;
  bool smtpAlert = false;
  bool accept = true;
  bool dontTrackPrimary = false;
  bool strict = false;
  bool checkUnicastSrc = false;
  bool skipCheckAdvAddr = false;
  bool oldUnicastChecksum = false;
  std::string syncGroup; // the vrrp_sync_group this instance belongs to
};

struct SyncGroup {
  std::string name;
  common::SourceLoc loc;
  std::vector<std::string> members;
  ScriptCommand notifyMaster, notifyBackup, notifyFault, notifyStop, notify;
  bool smtpAlert = false;
};

struct Config {
  GlobalDefs global;
  std::vector<VrrpScript> scripts;
  std::vector<TrackProxy> trackProxies;
  std::vector<VrrpInstance> instances;
  std::vector<SyncGroup> syncGroups;

  const VrrpScript* findScript(const std::string& name) const;
  const TrackProxy* findTrackProxy(const std::string& name) const;
  const VrrpInstance* findInstance(const std::string& name) const;
};

// Looks a user up: its uid, or nullopt when it does not exist. Injected so
// tests do not depend on the host's /etc/passwd.
using UserLookup = std::function<std::optional<unsigned>(const std::string& name)>;
// getpwnam(3).
std::optional<unsigned> systemUserLookup(const std::string& name);

struct ParseOptions {
  UserLookup lookupUser = systemUserLookup;
};

struct ParseOutcome {
  Config config;
  std::vector<std::string> errors;   // "file:line: message"
  std::vector<std::string> warnings; // "file:line: warning: message"
  std::vector<std::string> messages; // both, in the order they were found
  // Scripts would run as root without enable_script_security (keepalived's
  // "SECURITY VIOLATION"); the message is among the warnings.
  bool securityViolation = false;
  bool ok() const { return errors.empty(); }
};

// Parses a lexed tree. Never throws; every problem is reported.
ParseOutcome parseConfig(const std::vector<common::KaNode>& nodes, const ParseOptions& opt = {});
// Lexes then parses `path` (includes from the file system). A lexer error
// (unbalanced brace, include matching nothing, ...) is one error.
ParseOutcome parseConfigFile(const std::string& path, const ParseOptions& opt = {});
// The same from text, with includes read through `read` / `glob`.
ParseOutcome parseConfigText(const std::string& text, const std::string& file,
                             const ParseOptions& opt = {}, const common::FileReader& read = nullptr,
                             const common::GlobExpander& glob = nullptr);

// keepalived's exit codes for `-t`, as its manual (keepalived(8), "Exit
// status") documents them. (Debian's keepalived 2.2.7 binary returns one more
// than documented for the last two, 5 and 6; we follow the manual, which is
// also what the project's issue specifies.)
inline constexpr int kExitOk = 0;
inline constexpr int kExitUsage = 1;          // bad command line
inline constexpr int kExitFatal = 3;          // cannot run: file missing, or errors vrrpd refuses
inline constexpr int kExitConfigTest = 4;     // -t: corrections; vrrpd runs after applying them
inline constexpr int kExitConfigSecurity = 5; // -t: scripts configured without script security
// 3 when there is an error (the file cannot run), else 5 when
// securityViolation, else 4 when there is a warning (a correction), else 0.
int testExitCode(const ParseOutcome& o);

// The effective configuration as YAML (`vrrpd --dump`).
std::string dumpYaml(const Config& cfg);

const char* stateName(InitialState s);
const char* authName(AuthType a);

} // namespace vrrpd
