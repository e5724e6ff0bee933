// proxyd: command line as HAProxy's (-f FILE|DIR repeatable, -c, -D, -p,
// -db, -q, -v), plus --dump. Parses and validates everything before it binds
// anything: an invalid configuration never opens a listener.
#include "common/log.h"
#include "common/loop.h"
#include "common/process.h"
#include "proxyd/config.h"
#include "proxyd/daemon.h"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <optional>
#include <csignal>
#include <sched.h>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <pwd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

namespace {

constexpr const char* kVersion = "proxyd 0.1 (HAProxy 2.6 configuration dialect, TCP and HTTP modes)";

struct Args {
  std::vector<std::string> files;
  bool check = false;
  bool daemon = false;
  bool foreground = false; // -db
  bool quiet = false;
  bool dump = false;
  std::string pidfile;
};

void usage() {
  std::fprintf(stderr,
               "Usage: proxyd -f <cfgfile|cfgdir> [-f ...] [-c] [-D] [-p <pidfile>] [-db] [-q] "
               "[--dump] [-v]\n"
               "  -f  configuration file or directory (*.cfg in lexical order); repeatable\n"
               "  -c  check the configuration and exit (0 valid, 1 invalid)\n"
               "  -D  run as a daemon\n"
               "  -p  write the pid to this file\n"
               "  -db stay in the foreground (overrides 'daemon')\n"
               "  -q  quiet: no warnings or notices on stderr\n"
               "  --dump  print the effective configuration as YAML and exit\n");
}

void alert(const std::string& msg) {
  std::fprintf(stderr, "%s\n", common::formatConsole(common::kAlert, getpid(), msg).c_str());
}
void warning(const std::string& msg) {
  std::fprintf(stderr, "%s\n", common::formatConsole(common::kWarning, getpid(), msg).c_str());
}

bool parseArgs(int argc, char** argv, Args& a) {
  for (int i = 1; i < argc; ++i) {
    std::string s = argv[i];
    auto need = [&](const char* what) -> const char* {
      if (i + 1 >= argc) {
        alert(std::string("option ") + s + " needs " + what);
        return nullptr;
      }
      return argv[++i];
    };
    if (s == "-f") {
      const char* v = need("a file or directory");
      if (!v) return false;
      a.files.push_back(v);
    } else if (s == "-c") {
      a.check = true;
    } else if (s == "-D") {
      a.daemon = true;
    } else if (s == "-db") {
      a.foreground = true;
    } else if (s == "-q") {
      a.quiet = true;
    } else if (s == "-p") {
      const char* v = need("a pid file");
      if (!v) return false;
      a.pidfile = v;
    } else if (s == "--dump") {
      a.dump = true;
    } else if (s == "-v" || s == "-vv" || s == "--version") {
      std::printf("%s\n", kVersion);
      std::exit(0);
    } else if (s == "-h" || s == "--help") {
      usage();
      std::exit(0);
    } else {
      alert("unsupported option '" + s + "'");
      usage();
      return false;
    }
  }
  if (a.files.empty()) {
    alert("No configuration file: use -f <file>");
    usage();
    return false;
  }
  return true;
}

// Reads -f arguments: a file, or every *.cfg of a directory in lexical order.
// False with `err` set when one cannot be read.
bool readFilesQuiet(const std::vector<std::string>& args, std::vector<proxyd::ConfigFile>& out,
                    std::string& err) {
  namespace fs = std::filesystem;
  for (const auto& a : args) {
    std::error_code ec;
    std::vector<std::string> paths;
    if (fs::is_directory(a, ec)) {
      for (const auto& e : fs::directory_iterator(a, ec))
        if (e.is_regular_file() && e.path().extension() == ".cfg") paths.push_back(e.path().string());
      std::sort(paths.begin(), paths.end());
    } else {
      paths.push_back(a);
    }
    for (const auto& p : paths) {
      std::ifstream in(p, std::ios::binary);
      if (!in) {
        err = "Could not open configuration file " + p + " : " + std::strerror(errno);
        return false;
      }
      std::ostringstream ss;
      ss << in.rdbuf();
      out.push_back({p, ss.str()});
    }
  }
  return true;
}

bool readFiles(const std::vector<std::string>& args, std::vector<proxyd::ConfigFile>& out) {
  std::string err;
  if (readFilesQuiet(args, out, err)) return true;
  alert(err);
  return false;
}

std::optional<std::string> envLookup(const std::string& name) {
  const char* v = std::getenv(name.c_str());
  if (!v) return std::nullopt;
  return std::string(v);
}

bool writeAll(int fd, const void* p, size_t n) {
  const char* c = static_cast<const char*>(p);
  while (n > 0) {
    ssize_t w = ::write(fd, c, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    c += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

bool readAll(int fd, void* p, size_t n) {
  char* c = static_cast<char*>(p);
  while (n > 0) {
    ssize_t r = ::read(fd, c, n);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    c += r;
    n -= static_cast<size_t>(r);
  }
  return true;
}

bool writeString(int fd, const std::string& s) {
  uint64_t n = s.size();
  return writeAll(fd, &n, sizeof n) && writeAll(fd, s.data(), s.size());
}

bool readString(int fd, std::string& s, uint64_t max = 64u << 20) {
  uint64_t n = 0;
  if (!readAll(fd, &n, sizeof n) || n > max) return false;
  s.resize(n);
  return readAll(fd, s.data(), n);
}

// With `chroot`, the configuration files are out of reach after start-up. A
// child forked before the chroot stays outside it and, on request, reads the
// -f files again and sends them over a socketpair (the only thing it does;
// it exits when proxyd closes its end or dies).
class ConfigReader {
public:
  ~ConfigReader() {
    if (fd_ >= 0) ::close(fd_);
    if (pid_ > 0) ::waitpid(pid_, nullptr, 0);
  }
  bool running() const { return fd_ >= 0; }
  common::Result<bool> start(const std::vector<std::string>& files) {
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
      return common::err(std::string("socketpair: ") + std::strerror(errno));
    pid_t pid = ::fork();
    if (pid < 0) {
      ::close(sv[0]);
      ::close(sv[1]);
      return common::err(std::string("fork: ") + std::strerror(errno));
    }
    if (pid == 0) {
      // Keep nothing of the proxy's: a listening socket held here would
      // outlive its frontend after a reload.
      int ch = ::dup2(sv[1], 3) < 0 ? sv[1] : 3;
      ::close_range(static_cast<unsigned>(ch) + 1, ~0U, 0);
      sv[1] = ch;
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      std::signal(SIGHUP, SIG_IGN);
      std::signal(SIGUSR1, SIG_IGN);
      std::signal(SIGUSR2, SIG_IGN);
      std::signal(SIGINT, SIG_IGN);
      char req;
      while (readAll(sv[1], &req, 1)) {
        std::vector<proxyd::ConfigFile> out;
        std::string err;
        bool ok = readFilesQuiet(files, out, err);
        uint64_t n = ok ? out.size() : 0;
        char status = ok ? 1 : 0;
        if (!writeAll(sv[1], &status, 1)) break;
        if (!ok) {
          if (!writeString(sv[1], err)) break;
          continue;
        }
        bool sent = writeAll(sv[1], &n, sizeof n);
        for (size_t i = 0; sent && i < out.size(); ++i)
          sent = writeString(sv[1], out[i].name) && writeString(sv[1], out[i].text);
        if (!sent) break;
      }
      ::_exit(0);
    }
    ::close(sv[1]);
    fd_ = sv[0];
    pid_ = pid;
    return true;
  }
  bool read(std::vector<proxyd::ConfigFile>& out, std::string& err) {
    char req = 'r', status = 0;
    if (!writeAll(fd_, &req, 1) || !readAll(fd_, &status, 1)) {
      err = "the configuration reader outside the chroot is gone";
      return false;
    }
    if (!status) {
      if (!readString(fd_, err)) err = "the configuration reader failed";
      return false;
    }
    uint64_t n = 0;
    if (!readAll(fd_, &n, sizeof n) || n > 100000) {
      err = "the configuration reader failed";
      return false;
    }
    for (uint64_t i = 0; i < n; ++i) {
      proxyd::ConfigFile f;
      if (!readString(fd_, f.name) || !readString(fd_, f.text)) {
        err = "the configuration reader failed";
        return false;
      }
      out.push_back(std::move(f));
    }
    return true;
  }

private:
  int fd_ = -1;
  pid_t pid_ = -1;
};

} // namespace

namespace {

// CPUs in the process's affinity mask (HAProxy 2.6's default nbthread),
// at most 64 (its thread limit).
int cpusBound() {
  cpu_set_t set;
  CPU_ZERO(&set);
  int n = sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : 1;
  return std::clamp(n, 1, 64);
}

} // namespace

int main(int argc, char** argv) {
  Args args;
  if (!parseArgs(argc, argv, args)) return 1;
  std::vector<proxyd::ConfigFile> files;
  if (!readFiles(args.files, files)) return 1;

  auto outcome = proxyd::parseConfig(files, envLookup);
  // No `nbthread`: one thread per CPU the process may run on, as HAProxy 2.6.
  if (outcome.config.global.nbthread <= 0) outcome.config.global.nbthread = cpusBound();
  if (!args.quiet || !outcome.ok())
    for (const auto& w : outcome.warnings) warning(w);
  for (const auto& e : outcome.errors) alert(e);
  if (!outcome.ok()) {
    alert("Fatal errors found in configuration.");
    return 1;
  }
  if (args.check) {
    if (!args.quiet) std::printf("Configuration file is valid\n");
    return 0;
  }
  if (args.dump) {
    std::fputs(proxyd::dumpYaml(outcome.config).c_str(), stdout);
    return 0;
  }

  proxyd::Config cfg = std::move(outcome.config);
  bool daemonize = (args.daemon || cfg.global.daemon) && !args.foreground;
  std::string pidfile = !args.pidfile.empty() ? args.pidfile : cfg.global.pidfile;

  std::signal(SIGPIPE, SIG_IGN);
  int wantFds = (cfg.global.maxconn > 0 ? cfg.global.maxconn : 0) * 2 + 200;
  common::raiseFdLimit(std::max(wantFds, 4096));

  // Daemonize before creating the loop (libevent's epoll fd must belong to
  // the process that runs it); the parent waits until the listeners are up.
  common::Daemonizer daemonizer;
  if (daemonize) {
    if (auto r = daemonizer.start(); !r) {
      alert("cannot daemonize: " + r.error());
      return 1;
    }
  }

  // From here on the ports and the admin socket become visible, and a
  // reload may be asked for at once (a test, systemd): hold the signals the
  // loop handles until their watchers exist (a slow start under a sanitizer
  // made SIGUSR2 kill proxyd in that window).
  common::SignalHold held({SIGTERM, SIGINT, SIGUSR1, SIGUSR2, SIGHUP});

  // Millisecond timers, as HAProxy's: no timerfd re-armed at every turn.
  common::Loop loop(common::Loop::defaultClock(), common::Loop::Timing::Coarse);
  proxyd::RunOptions runOpts{!daemonize, args.quiet};
  auto current = std::make_unique<proxyd::Daemon>(loop, std::move(cfg), runOpts);
  proxyd::Daemon& d = *current;
  auto bound = d.bindAll();
  if (!bound) {
    alert(bound.error());
    if (daemonize) daemonizer.failed(bound.error());
    return 1;
  }
  // The admin sockets are bound with the listeners, before the chroot and
  // the privileges drop (a unix socket path may be outside the chroot).
  if (auto a = d.openAdminSockets(); !a) {
    alert(a.error());
    if (daemonize) daemonizer.failed(a.error());
    return 1;
  }
  const auto& g = d.config().global;
  // Names are resolved before the chroot (whose /etc/passwd may not exist),
  // then privileges are dropped by number after it, as HAProxy does.
  std::string uid, gid;
  if (!g.user.empty() || !g.group.empty()) {
    if (!g.user.empty()) {
      auto u = common::lookupUser(g.user);
      if (!u) {
        alert(u.error());
        if (daemonize) daemonizer.failed(u.error());
        return 1;
      }
      uid = std::to_string(u.value());
    }
    std::string group = g.group;
    if (group.empty() && !g.user.empty())
      if (const passwd* pw = getpwnam(g.user.c_str())) group = std::to_string(pw->pw_gid);
    if (!group.empty()) {
      auto gr = common::lookupGroup(group);
      if (!gr) {
        alert(gr.error());
        if (daemonize) daemonizer.failed(gr.error());
        return 1;
      }
      gid = std::to_string(gr.value());
    }
  }
  if (!pidfile.empty()) {
    auto r = common::writePidfile(pidfile, getpid());
    if (!r) {
      alert("[" + std::string(argv[0]) + ".main()] Cannot create pidfile " + pidfile + ": " + r.error());
      if (daemonize) daemonizer.failed(r.error());
      return 1;
    }
  }
  // A reload re-reads the -f files: inside a chroot they are out of reach,
  // so a small reader process is left outside it first (as HAProxy's master
  // stays outside its workers' chroot).
  ConfigReader reader;
  if (!g.chroot.empty()) {
    if (auto r = reader.start(args.files); !r)
      warning("reload will not be possible: " + r.error());
  }
  if (!g.chroot.empty()) {
    auto r = common::enterChroot(g.chroot);
    if (!r) {
      alert("[" + std::string(argv[0]) + ".main()] Cannot chroot(" + g.chroot + "): " + r.error());
      if (daemonize) daemonizer.failed(r.error());
      return 1;
    }
  }
  if (!uid.empty() || !gid.empty()) {
    auto r = common::dropPrivileges(uid, gid);
    if (!r) {
      alert(r.error());
      if (daemonize) daemonizer.failed(r.error());
      return 1;
    }
  }

  d.start();
  // Reload (SIGUSR2 or SIGHUP, systemd's ExecReload): the files are read and
  // checked again; an invalid configuration is refused and the running one
  // kept. A valid one gets a new Daemon on the same loop: it shares the
  // listening sockets of unchanged addresses (no refused connection), takes
  // over the admin sockets with their open sessions (vrrpd's `watch health`
  // stays connected, so a reload is not a proxy failure), and the old
  // daemon stops accepting and lets its streams finish (soft stop).
  std::vector<std::unique_ptr<proxyd::Daemon>> draining;
  bool stopping = false;
  auto allDone = [&] {
    if (stopping && draining.empty()) loop.stop();
  };
  auto retire = [&](proxyd::Daemon* old) {
    old->setOnDrained([&, old] {
      loop.defer([&, old] {
        for (auto it = draining.begin(); it != draining.end(); ++it)
          if (it->get() == old) {
            draining.erase(it);
            break;
          }
        allDone();
      });
    });
  };
  current->setOnDrained([&] {
    stopping = true;
    allDone();
  });
  auto reload = [&](int sig) {
    if (stopping) return;
    std::string why = std::string("reload (") + (sig == SIGHUP ? "SIGHUP" : "SIGUSR2") + ")";
    std::vector<proxyd::ConfigFile> nfiles;
    std::string readErr;
    bool ok = reader.running() ? reader.read(nfiles, readErr) : readFilesQuiet(args.files, nfiles, readErr);
    if (!ok) {
      alert(why + " aborted: " + readErr + "; the running configuration is kept.");
      return;
    }
    auto o = proxyd::parseConfig(nfiles, envLookup);
    if (o.config.global.nbthread <= 0) o.config.global.nbthread = cpusBound();
    if (!args.quiet)
      for (const auto& w : o.warnings) warning(w);
    if (!o.ok()) {
      for (const auto& e : o.errors) alert(e);
      alert(why + " aborted: fatal errors in the configuration; the running configuration is kept.");
      return;
    }
    auto next = std::make_unique<proxyd::Daemon>(loop, std::move(o.config), runOpts);
    if (auto b = next->bindAll(current.get()); !b) {
      alert(why + " aborted: " + b.error() + "; the running configuration is kept.");
      return;
    }
    if (auto a = next->openAdminSockets(current.get()); !a) {
      alert(why + ": " + a.error() + "; the new configuration runs without that socket.");
    }
    std::unique_ptr<proxyd::Daemon> old = std::move(current);
    current = std::move(next);
    current->setOnDrained([&] {
      stopping = true;
      allDone();
    });
    old->stopChecks();
    proxyd::Daemon* raw = old.get();
    retire(raw);
    draining.push_back(std::move(old));
    current->start();
    raw->softStop(); // may report drained at once (deferred)
    if (!args.quiet)
      std::fprintf(stderr, "%s\n",
                   common::formatConsole(common::kNotice, getpid(),
                                         "Reloaded the configuration; " +
                                             std::to_string(raw->actconn()) +
                                             " connection(s) of the previous one are finishing.")
                       .c_str());
  };
  auto stopAll = [&] {
    stopping = true;
    for (auto& o : draining) {
      o->setOnDrained([] {});
      o->stop();
    }
    current->stop();
    loop.stop();
  };
  common::SignalWatcher term(loop, SIGTERM, [&](int) { stopAll(); });
  common::SignalWatcher intr(loop, SIGINT, [&](int) { stopAll(); });
  // SIGUSR1: soft stop, as HAProxy: stop accepting, let streams finish.
  common::SignalWatcher usr1(loop, SIGUSR1, [&](int) {
    for (auto& o : draining) o->softStop();
    current->softStop();
  });
  common::SignalWatcher usr2(loop, SIGUSR2, [&](int s) { reload(s); });
  common::SignalWatcher hup(loop, SIGHUP, [&](int s) { reload(s); });
  held.release(); // a signal that came meanwhile is handled on the loop
  if (daemonize) daemonizer.ready();
  loop.run();
  if (!pidfile.empty()) common::removePidfile(pidfile);
  return 0;
}
