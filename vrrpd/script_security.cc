#include "vrrpd/script_security.h"

#include <climits>
#include <cstdlib>
#include <sys/stat.h>

namespace vrrpd {

namespace {

std::optional<FileInfo> toInfo(int rc, const struct stat& st) {
  if (rc != 0) return std::nullopt;
  return FileInfo{st.st_mode, st.st_uid, st.st_gid};
}

// find_path(): glibc's execvp search, keeping the first regular file that
// uid:gid may execute. Returns the path, or nullopt with `denied` set when a
// file was found but none was executable.
std::optional<std::string> searchPath(const std::string& file, uid_t uid, gid_t gid,
                                      const FsView& fs, bool& denied) {
  denied = false;
  size_t start = 0;
  for (;;) {
    size_t colon = fs.path.find(':', start);
    std::string dir = fs.path.substr(start, colon == std::string::npos ? std::string::npos
                                                                       : colon - start);
    std::string candidate = dir.empty() ? file : dir + "/" + file;
    if (auto st = fs.stat(candidate)) {
      if (S_ISREG(st->mode) && isExecutableBy(*st, uid, gid)) return candidate;
      denied = true;
    }
    if (colon == std::string::npos) break;
    start = colon + 1;
  }
  return std::nullopt;
}

// check_security(): every component of `file`, from "/", must be safe from
// non-root writers.
unsigned checkPath(const std::string& file, bool scriptSecurity, const FsView& fs,
                   std::vector<std::string>& logs) {
  size_t pos = 0;
  for (;;) {
    size_t slash = file.find('/', pos);
    bool last = slash == std::string::npos;
    std::string part = last ? file : file.substr(0, slash == 0 ? 1 : slash);
    auto st = fs.lstat(part);
    if (!st) {
      logs.push_back("check_script_secure could not find script '" + file + "' - disabling");
      return kScNotFound;
    }
    bool typeOk = last ? (S_ISREG(st->mode) || S_ISLNK(st->mode)) : S_ISDIR(st->mode);
    if (!typeOk) {
      logs.push_back("Wrong file type found in script path '" + file + "'.");
      return kScInhibit;
    }
    bool stickyDir = S_ISDIR(st->mode) && (st->mode & S_ISVTX);
    bool checkWrite = (S_ISDIR(st->mode) && !stickyDir) || S_ISREG(st->mode);
    bool writable = (st->gid != 0 && (st->mode & S_IWGRP)) || (st->mode & S_IWOTH);
    if (st->uid != 0 || (checkWrite && writable)) {
      logs.push_back("Unsafe permissions found for script '" + file + "'" +
                     (scriptSecurity ? " - disabling" : "") + ".");
      return kScInsecure | (scriptSecurity ? kScInhibit : 0u);
    }
    if (last) return 0;
    pos = slash + 1;
  }
}

std::string baseName(const std::string& p) {
  size_t s = p.rfind('/');
  return s == std::string::npos ? p : p.substr(s + 1);
}

} // namespace

FsView systemFs() {
  FsView fs;
  fs.stat = [](const std::string& p) {
    struct stat st{};
    return toInfo(::stat(p.c_str(), &st), st);
  };
  fs.lstat = [](const std::string& p) {
    struct stat st{};
    return toInfo(::lstat(p.c_str(), &st), st);
  };
  fs.realpath = [](const std::string& p) -> std::optional<std::string> {
    char buf[PATH_MAX];
    if (!::realpath(p.c_str(), buf)) return std::nullopt;
    return std::string(buf);
  };
  if (const char* env = std::getenv("PATH")) fs.path = env;
  return fs;
}

bool isExecutableBy(const FileInfo& f, uid_t uid, gid_t gid) {
  if (uid == 0) return f.mode & (S_IXUSR | S_IXGRP | S_IXOTH);
  if (uid == f.uid) return f.mode & S_IXUSR;
  if (gid == f.gid) return f.mode & S_IXGRP;
  return f.mode & S_IXOTH;
}

ScriptCheck checkScriptSecure(const std::string& argv0, uid_t uid, gid_t gid, bool scriptSecurity,
                              const FsView& fs) {
  ScriptCheck c;
  c.path = argv0;
  if (argv0.empty()) {
    c.flags = kScNotFound;
    return c;
  }
  // "</file": keepalived only checks that the file can be opened.
  if (argv0[0] == '<') {
    size_t i = argv0.find_first_not_of(" \t", 1);
    if (i != std::string::npos && argv0[i] == '/') {
      c.flags = kScSystem;
      return c;
    }
  }
  if (argv0.find('/') == std::string::npos) {
    bool denied = false;
    auto found = searchPath(argv0, uid, gid, fs, denied);
    if (!found) {
      c.logs.push_back(denied ? "Permissions failure for script " + argv0 + " in path - disabling"
                              : "Cannot find script " + argv0 + " in path - disabling");
      c.flags = kScNotFound;
      return c;
    }
    c.logs.push_back("WARNING - script `" + argv0 + "` resolved by path search to `" + *found +
                     "`. Please specify full path.");
    c.path = *found;
  }
  auto resolved = fs.realpath(c.path);
  if (!resolved) {
    c.logs.push_back("Script " + c.path + " cannot be accessed - No such file or directory");
    c.flags = kScNotFound;
    return c;
  }
  // A link to a file of another name: keep the name (some programs act on
  // it) in the resolved directory, and check the real file as well.
  std::string realFile;
  if (*resolved != c.path) {
    if (baseName(*resolved) != baseName(c.path)) {
      std::string dir = c.path.substr(0, c.path.rfind('/'));
      auto rdir = fs.realpath(dir.empty() ? "/" : dir);
      realFile = *resolved;
      c.path = (rdir ? *rdir : dir) + "/" + baseName(c.path);
    } else {
      c.path = *resolved;
    }
  }
  auto st = fs.stat(realFile.empty() ? c.path : realFile);
  if (!st) {
    c.logs.push_back("Unable to access script `" + c.path + "` - disabling");
    c.flags = kScNotFound;
    return c;
  }
  c.flags = kScIsScript;
  bool protect = false;
  if (isExecutableBy(*st, uid, gid)) {
    c.flags |= kScExecutable;
    protect = uid == 0 || gid == 0 ||
              (st->uid == 0 && (st->mode & S_IXUSR) && (st->mode & S_ISUID)) ||
              (st->gid == 0 && (st->mode & S_IXGRP) && (st->mode & S_ISGID));
  } else {
    c.logs.push_back("WARNING - script '" + c.path + "' is not executable for uid:gid " +
                     std::to_string(uid) + ":" + std::to_string(gid) + " - disabling.");
  }
  if (!protect) return c;
  c.flags |= checkPath(c.path, scriptSecurity, fs, c.logs);
  if (!realFile.empty()) c.flags |= checkPath(realFile, scriptSecurity, fs, c.logs);
  return c;
}

} // namespace vrrpd
