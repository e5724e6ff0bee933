#pragma once
// keepalived 2.2's script security (keepalived/core/notify.c:
// check_script_secure(), check_security(), find_path()), as a pure decision
// over an injected view of the file system so that every rule is tested
// without root or real files.
//
// For one script (argv[0]) run as uid:gid it decides:
//   - a bare name is looked up in PATH (the first regular file executable by
//     uid:gid wins), with keepalived's warning "WARNING - script `true`
//     resolved by path search to `/usr/bin/true`. Please specify full path.";
//   - whether the file is executable by uid:gid (else disabled);
//   - when the script runs as root (uid or gid 0, or a setuid/setgid-root
//     file), whether any component of its path (each directory from "/", then
//     the file) is writable by someone other than root: owned by a non-root
//     user, or group-writable with a non-root group, or world-writable (a
//     directory with the sticky bit is safe, like /tmp). That is "Unsafe
//     permissions found for script 'P'" and SC_INSECURE; with
//     enable_script_security it is also SC_INHIBIT ("... - disabling.").
// The shell then acts as keepalived's check_vrrp_script_security(): an
// inhibited or missing vrrp_script is removed from every instance that
// tracks it (it no longer counts, neither for priority nor for FAULT), and an
// inhibited, missing or non-executable notify script is not run.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

namespace vrrpd {

// keepalived's SC_* flags.
enum ScriptFlag : unsigned {
  kScOk = 0,
  kScInsecure = 1u << 0,   // SC_INSECURE: writable by non-root along its path
  kScNotFound = 1u << 1,   // SC_NOTFOUND
  kScExecutable = 1u << 2, // SC_EXECUTABLE: executable by its user
  kScInhibit = 1u << 3,    // SC_INHIBIT: must not run
  kScSystem = 1u << 4,     // SC_SYSTEM: "</file" checks, nothing executed
  kScIsScript = 1u << 5,   // SC_ISSCRIPT: a real file will be executed
};

struct FileInfo {
  mode_t mode = 0; // st_mode, type bits included
  uid_t uid = 0;
  gid_t gid = 0;
};

// The file system as the check sees it. `lstat` does not follow a final
// symbolic link (keepalived's fstatat(AT_SYMLINK_NOFOLLOW)), `stat` does;
// both return nullopt when the path cannot be reached. `realpath` resolves
// "." / ".." / links (nullopt when it fails); `path` is $PATH.
struct FsView {
  std::function<std::optional<FileInfo>(const std::string&)> stat;
  std::function<std::optional<FileInfo>(const std::string&)> lstat;
  std::function<std::optional<std::string>(const std::string&)> realpath;
  std::string path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
};
// The real one (stat(2), lstat(2), realpath(3), getenv("PATH")).
FsView systemFs();

struct ScriptCheck {
  unsigned flags = 0;
  std::string path;              // argv[0] after the PATH search and realpath
  std::vector<std::string> logs; // keepalived's log lines, in order
  bool runnable() const {
    return !(flags & (kScInhibit | kScNotFound)) && (flags & (kScExecutable | kScSystem));
  }
};

// check_script_secure() for a script whose first word is `argv0`, run as
// uid:gid, with enable_script_security on or off.
ScriptCheck checkScriptSecure(const std::string& argv0, uid_t uid, gid_t gid, bool scriptSecurity,
                              const FsView& fs);

// keepalived's is_executable(): root needs any x bit; the owner the user x
// bit; the group the group x bit; anyone else the other x bit.
bool isExecutableBy(const FileInfo& f, uid_t uid, gid_t gid);

} // namespace vrrpd
