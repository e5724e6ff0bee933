// keepalived's script security (check_script_secure) over a fake file
// system: PATH search, executability, and unsafe permissions along the path.
#include "vrrpd/script_security.h"

#include <catch2/catch.hpp>
#include <map>
#include <string>
#include <sys/stat.h>

using namespace vrrpd;

namespace {

struct FakeFs {
  std::map<std::string, FileInfo> files; // by path, as lstat sees them
  std::map<std::string, std::string> links;

  FakeFs() {
    dir("/", 0755);
    dir("/usr", 0755);
    dir("/usr/bin", 0755);
    dir("/etc", 0755);
    dir("/etc/keepalived", 0755);
    dir("/tmp", 01777);
  }
  void dir(const std::string& p, mode_t m, uid_t u = 0, gid_t g = 0) {
    files[p] = {static_cast<mode_t>(S_IFDIR | m), u, g};
  }
  void file(const std::string& p, mode_t m, uid_t u = 0, gid_t g = 0) {
    files[p] = {static_cast<mode_t>(S_IFREG | m), u, g};
  }
  FsView view(const std::string& path = "/usr/local/bin:/usr/bin") const {
    FsView v;
    v.lstat = [this](const std::string& p) -> std::optional<FileInfo> {
      if (links.count(p)) return FileInfo{S_IFLNK | 0777, 0, 0};
      auto it = files.find(p);
      if (it == files.end()) return std::nullopt;
      return it->second;
    };
    v.stat = [this](const std::string& p) -> std::optional<FileInfo> {
      auto l = links.find(p);
      auto it = files.find(l == links.end() ? p : l->second);
      if (it == files.end()) return std::nullopt;
      return it->second;
    };
    v.realpath = [this](const std::string& p) -> std::optional<std::string> {
      auto l = links.find(p);
      if (l != links.end()) return l->second;
      if (!files.count(p)) return std::nullopt;
      return p;
    };
    v.path = path;
    return v;
  }
};

bool has(const ScriptCheck& c, const std::string& line) {
  for (const auto& l : c.logs)
    if (l == line) return true;
  return false;
}

} // namespace

TEST_CASE("a root-owned script in root-owned directories is secure and runs", "[script_security]") {
  FakeFs fs;
  fs.file("/etc/keepalived/chk.sh", 0755);
  auto c = checkScriptSecure("/etc/keepalived/chk.sh", 0, 0, true, fs.view());
  CHECK(c.flags == (kScIsScript | kScExecutable));
  CHECK(c.runnable());
  CHECK(c.logs.empty());
}

TEST_CASE("a world-writable directory on the path disables a root script", "[script_security]") {
  FakeFs fs;
  fs.dir("/etc/keepalived/ww", 0777);
  fs.file("/etc/keepalived/ww/chk.sh", 0755);
  auto c = checkScriptSecure("/etc/keepalived/ww/chk.sh", 0, 0, true, fs.view());
  CHECK((c.flags & kScInsecure));
  CHECK((c.flags & kScInhibit));
  CHECK_FALSE(c.runnable());
  // keepalived 2.2.7 names the script, not the directory (seen in the lab)
  CHECK(has(c, "Unsafe permissions found for script '/etc/keepalived/ww/chk.sh' - disabling."));
}

TEST_CASE("without enable_script_security an unsafe script is reported but runs",
          "[script_security]") {
  FakeFs fs;
  fs.file("/etc/keepalived/chk.sh", 0757);
  auto c = checkScriptSecure("/etc/keepalived/chk.sh", 0, 0, false, fs.view());
  CHECK((c.flags & kScInsecure));
  CHECK_FALSE((c.flags & kScInhibit));
  CHECK(c.runnable());
  CHECK(has(c, "Unsafe permissions found for script '/etc/keepalived/chk.sh'."));
}

TEST_CASE("a script owned by a non-root user is unsafe to run as root", "[script_security]") {
  FakeFs fs;
  fs.file("/etc/keepalived/chk.sh", 0755, 1000, 1000);
  CHECK_FALSE(checkScriptSecure("/etc/keepalived/chk.sh", 0, 0, true, fs.view()).runnable());
}

TEST_CASE("group write by a non-root group is unsafe, by group root it is not",
          "[script_security]") {
  FakeFs fs;
  fs.file("/etc/keepalived/a.sh", 0775, 0, 50);
  fs.file("/etc/keepalived/b.sh", 0775, 0, 0);
  CHECK_FALSE(checkScriptSecure("/etc/keepalived/a.sh", 0, 0, true, fs.view()).runnable());
  CHECK(checkScriptSecure("/etc/keepalived/b.sh", 0, 0, true, fs.view()).runnable());
}

TEST_CASE("a sticky world-writable directory such as /tmp is safe", "[script_security]") {
  FakeFs fs;
  fs.file("/tmp/chk.sh", 0755);
  CHECK(checkScriptSecure("/tmp/chk.sh", 0, 0, true, fs.view()).flags ==
        (kScIsScript | kScExecutable));
}

TEST_CASE("a script run by an unprivileged user needs no path protection", "[script_security]") {
  FakeFs fs;
  fs.dir("/etc/keepalived/ww", 0777);
  fs.file("/etc/keepalived/ww/chk.sh", 0755);
  auto c = checkScriptSecure("/etc/keepalived/ww/chk.sh", 65534, 65534, true, fs.view());
  CHECK(c.runnable());
  CHECK_FALSE((c.flags & kScInsecure));
}

TEST_CASE("a setuid-root script needs protection even for another user", "[script_security]") {
  FakeFs fs;
  fs.dir("/etc/keepalived/ww", 0777);
  fs.file("/etc/keepalived/ww/chk.sh", 04755);
  CHECK_FALSE(checkScriptSecure("/etc/keepalived/ww/chk.sh", 65534, 65534, true, fs.view()).runnable());
}

TEST_CASE("a bare name is resolved by PATH search with keepalived's warning", "[script_security]") {
  FakeFs fs;
  fs.file("/usr/bin/killall", 0755);
  auto c = checkScriptSecure("killall", 0, 0, true, fs.view());
  CHECK(c.path == "/usr/bin/killall");
  CHECK(c.runnable());
  CHECK(has(c, "WARNING - script `killall` resolved by path search to `/usr/bin/killall`. "
               "Please specify full path."));
}

TEST_CASE("PATH search skips files the user may not execute", "[script_security]") {
  FakeFs fs;
  fs.dir("/usr/local/bin", 0755);
  fs.file("/usr/local/bin/chk", 0700, 0, 0);
  fs.file("/usr/bin/chk", 0755);
  auto c = checkScriptSecure("chk", 65534, 65534, true, fs.view());
  CHECK(c.path == "/usr/bin/chk");
}

TEST_CASE("a name not in PATH is not found", "[script_security]") {
  FakeFs fs;
  auto c = checkScriptSecure("nosuch", 0, 0, true, fs.view());
  CHECK(c.flags == kScNotFound);
  CHECK(has(c, "Cannot find script nosuch in path - disabling"));
  fs.file("/usr/bin/private", 0700, 0, 0);
  auto d = checkScriptSecure("private", 65534, 65534, true, fs.view());
  CHECK(has(d, "Permissions failure for script private in path - disabling"));
}

TEST_CASE("a missing or non-executable script is disabled", "[script_security]") {
  FakeFs fs;
  CHECK(checkScriptSecure("/etc/keepalived/none.sh", 0, 0, true, fs.view()).flags == kScNotFound);
  fs.file("/etc/keepalived/noexec.sh", 0644);
  auto c = checkScriptSecure("/etc/keepalived/noexec.sh", 0, 0, true, fs.view());
  CHECK_FALSE(c.runnable());
  CHECK(has(c, "WARNING - script '/etc/keepalived/noexec.sh' is not executable for uid:gid 0:0 - "
               "disabling."));
}

TEST_CASE("a symbolic link is checked and so is the file it points to", "[script_security]") {
  FakeFs fs;
  fs.dir("/etc/keepalived/ww", 0777);
  fs.file("/etc/keepalived/ww/real.sh", 0755);
  fs.links["/etc/keepalived/chk.sh"] = "/etc/keepalived/ww/real.sh";
  auto c = checkScriptSecure("/etc/keepalived/chk.sh", 0, 0, true, fs.view());
  CHECK(c.path == "/etc/keepalived/chk.sh"); // the name is kept
  CHECK_FALSE(c.runnable());
}

TEST_CASE("'</file' checks run nothing", "[script_security]") {
  FakeFs fs;
  CHECK(checkScriptSecure("</etc/hostname", 0, 0, true, fs.view()).flags == kScSystem);
}

TEST_CASE("executability follows keepalived's is_executable", "[script_security]") {
  FileInfo f{S_IFREG | 0710, 10, 20};
  CHECK(isExecutableBy(f, 0, 0));    // root: any x bit
  CHECK(isExecutableBy(f, 10, 99));  // owner: user x
  CHECK(isExecutableBy(f, 11, 20));  // group: group x
  CHECK_FALSE(isExecutableBy(f, 11, 21));
}
