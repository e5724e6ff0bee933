#pragma once
// track_proxy's trust in the process at the other end of the socket, pure:
// the decisions over an injected view of the file system (FsView, as the
// script security check) and the peer's credentials, so every rule is tested
// without root. The shell (proxy_tracker.cc) asks before connect() and again
// with SO_PEERCRED after it.
//
// Trusted: root, vrrpd's own user, and the track_proxy block's `proxy_user`
// (uids; for groups, gid 0, vrrpd's group and proxy_user's primary group).
// Anything else could impersonate proxyd, e.g. bind a socket at the path
// while proxyd is down, and make vrrpd take the VIP (docs/vrrpd-config.md).
#include "vrrpd/script_security.h"

#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

namespace vrrpd {

struct TrustedIds {
  std::vector<uid_t> uids;
  std::vector<gid_t> gids;
  bool uid(uid_t u) const;
  bool gid(gid_t g) const;
  std::string describe() const; // "root, uid 998" (for the log)
};

// Checks the socket at `path` (after realpath) and every directory above it:
//   - the socket must be owned by a trusted uid and not writable by others
//     (mode o+w lets any local user drive proxyd, and so the failover);
//   - each directory must be owned by a trusted uid, and if it is writable by
//     others (or by an untrusted group) it must be sticky (as /tmp), else
//     someone could replace the socket.
// Returns the reason for refusing, or nullopt (also when the path does not
// resolve: connect() then reports the missing socket itself).
std::optional<std::string> checkProxySocket(const std::string& path, const TrustedIds& ids,
                                            const FsView& fs);

// The peer's uid from SO_PEERCRED (its credentials when it listen()ed).
std::optional<std::string> checkProxyPeer(uid_t peerUid, pid_t peerPid, const TrustedIds& ids);

} // namespace vrrpd
