// proxyd: command line as HAProxy's (-f FILE|DIR repeatable, -c, -D, -p,
// -db, -q, -v), plus --dump. Parses and validates everything before it binds
// anything: an invalid configuration never opens a listener.
#include "common/log.h"
#include "common/loop.h"
#include "common/process.h"
#include "proxyd/config.h"
#include "proxyd/daemon.h"

#include <algorithm>
#include <cstdlib>
#include <optional>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <pwd.h>
#include <unistd.h>
#include <vector>

namespace {

constexpr const char* kVersion = "proxyd 0.1 (HAProxy 2.6 configuration dialect, TCP mode)";

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
bool readFiles(const std::vector<std::string>& args, std::vector<proxyd::ConfigFile>& out) {
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
        alert("Could not open configuration file " + p + " : " + std::strerror(errno));
        return false;
      }
      std::ostringstream ss;
      ss << in.rdbuf();
      out.push_back({p, ss.str()});
    }
  }
  return true;
}

} // namespace

int main(int argc, char** argv) {
  Args args;
  if (!parseArgs(argc, argv, args)) return 1;
  std::vector<proxyd::ConfigFile> files;
  if (!readFiles(args.files, files)) return 1;

  auto outcome = proxyd::parseConfig(files, [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    if (!v) return std::nullopt;
    return std::string(v);
  });
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
  if (cfg.global.nbthread > 1 && !args.quiet)
    warning("nbthread " + std::to_string(cfg.global.nbthread) +
            ": this proxyd runs one event loop; the setting is recorded but not used yet");

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

  common::Loop loop;
  proxyd::Daemon d(loop, std::move(cfg), {!daemonize, args.quiet});
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
  bool softStop = false;
  common::SignalWatcher term(loop, SIGTERM, [&](int) { d.stop(); });
  common::SignalWatcher intr(loop, SIGINT, [&](int) { d.stop(); });
  // SIGUSR1: soft stop, as HAProxy: stop accepting, let streams finish.
  common::SignalWatcher usr1(loop, SIGUSR1, [&](int) {
    softStop = true;
    d.softStop();
  });
  if (daemonize) daemonizer.ready();
  loop.run();
  if (!pidfile.empty()) common::removePidfile(pidfile);
  (void)softStop;
  return 0;
}
