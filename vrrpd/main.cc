// vrrpd: the keepalived-compatible VRRP agent. The command line is
// keepalived's (the VRRP-relevant options), plus --dump:
//   -f/--use-file FILE   configuration (default /etc/keepalived/keepalived.conf)
//   -t/--config-test[=LOG_FILE]  check the configuration; exit as keepalived -t
//   --dump               print the effective configuration as YAML
//   -n -l -D -p -r -P    daemon options: don't fork, log to the console,
//                        log detail, pidfiles, VRRP only (always)
//   -v, -h
// Diagnostics are "FILE:LINE: message" on stderr (or LOG_FILE with -t=).
#include "vrrpd/config.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <csignal>
#include <getopt.h>
#include <unistd.h>

#include "common/loop.h"
#include "common/process.h"
#include "vrrpd/daemon.h"
#include <string>
#include <unistd.h>

namespace {

constexpr const char* kVersion = "vrrpd 0.1 (keepalived 2.2 configuration dialect, VRRP only)";
constexpr const char* kDefaultConfig = "/etc/keepalived/keepalived.conf";

struct Args {
  std::string file = kDefaultConfig;
  bool configTest = false;
  std::string testLog; // -t=LOG_FILE
  bool dump = false;
  bool dontFork = false;
  bool logConsole = false;
  bool logDetail = false;
  bool vrrpOnly = false;
  std::string pidfile;
  std::string vrrpPidfile;
};

void usage(FILE* out) {
  std::fprintf(out,
               "Usage: vrrpd [OPTION...]\n"
               "  -f, --use-file=FILE      Use the specified configuration file\n"
               "                           default '%s'\n"
               "  -P, --vrrp               Only run with VRRP subsystem (always the case)\n"
               "  -l, --log-console        Log messages to local console\n"
               "  -D, --log-detail         Detailed log messages\n"
               "  -n, --dont-fork          Don't fork the daemon process\n"
               "  -p, --pid=FILE           Use specified pidfile for parent process\n"
               "  -r, --vrrp_pid=FILE      Use specified pidfile for VRRP child process\n"
               "  -t, --config-test[=LOG_FILE]\n"
               "                           Check the configuration, output to stderr by default;\n"
               "                           exit 0 clean, 3 errors (cannot run), 4 corrections,\n"
               "                           5 scripts without enable_script_security\n"
               "      --dump               Print the effective configuration as YAML\n"
               "  -v, --version            Display the version number\n"
               "  -h, --help               Display this help message\n",
               kDefaultConfig);
}

// Parses argv as keepalived's getopt_long does; returns an exit code to
// leave with, or -1 to go on.
int parseArgs(int argc, char** argv, Args& a) {
  enum { kDump = 1000 };
  static const option longOpts[] = {
      {"use-file", required_argument, nullptr, 'f'},
      {"vrrp", no_argument, nullptr, 'P'},
      {"log-console", no_argument, nullptr, 'l'},
      {"log-detail", no_argument, nullptr, 'D'},
      {"dont-fork", no_argument, nullptr, 'n'},
      {"pid", required_argument, nullptr, 'p'},
      {"vrrp_pid", required_argument, nullptr, 'r'},
      {"config-test", optional_argument, nullptr, 't'},
      {"dump", no_argument, nullptr, kDump},
      {"version", no_argument, nullptr, 'v'},
      {"help", no_argument, nullptr, 'h'},
      {nullptr, 0, nullptr, 0},
  };
  opterr = 0;
  int c;
  while ((c = getopt_long(argc, argv, ":f:PlDnp:r:tvh", longOpts, nullptr)) != -1) {
    switch (c) {
    case 'f':
      a.file = optarg;
      break;
    case 'P':
      a.vrrpOnly = true;
      break;
    case 'l':
      a.logConsole = true;
      break;
    case 'D':
      a.logDetail = true;
      break;
    case 'n':
      a.dontFork = true;
      break;
    case 'p':
      a.pidfile = optarg;
      break;
    case 'r':
      a.vrrpPidfile = optarg;
      break;
    case 't':
      a.configTest = true;
      if (optarg) a.testLog = optarg;
      break;
    case kDump:
      a.dump = true;
      break;
    case 'v':
      std::printf("%s\n", kVersion);
      return 0;
    case 'h':
      usage(stdout);
      return 0;
    case ':':
      std::fprintf(stderr, "vrrpd: option '%s' needs an argument\n", argv[optind - 1]);
      usage(stderr);
      return vrrpd::kExitUsage;
    default:
      std::fprintf(stderr, "vrrpd: unknown option '%s'\n", argv[optind - 1]);
      usage(stderr);
      return vrrpd::kExitUsage;
    }
  }
  if (optind < argc) {
    std::string extra;
    for (int i = optind; i < argc; ++i)
      extra += std::string(" ") + argv[i];
    std::fprintf(stderr, "vrrpd: unexpected argument(s):%s\n", extra.c_str());
    return vrrpd::kExitUsage;
  }
  if (a.file.empty()) {
    std::fprintf(stderr, "vrrpd: -f needs a file name\n");
    return vrrpd::kExitUsage;
  }
  return -1;
}

void report(FILE* out, const vrrpd::ParseOutcome& o) {
  for (const std::string& m : o.messages)
    std::fprintf(out, "%s\n", m.c_str());
}

// -t and --dump. keepalived -t exits 0 for a missing file (it only logs);
// vrrpd refuses it with 3, "cannot run".
int checkOrDump(const Args& a) {
  FILE* out = stderr;
  if (!a.testLog.empty()) {
    out = std::fopen(a.testLog.c_str(), "w");
    if (!out) {
      std::fprintf(stderr, "vrrpd: cannot open log file '%s': %s\n", a.testLog.c_str(),
                   std::strerror(errno));
      return vrrpd::kExitFatal;
    }
  }
  int rc = vrrpd::kExitOk;
  if (access(a.file.c_str(), R_OK) != 0) {
    std::fprintf(out, "vrrpd: cannot read configuration file '%s': %s\n", a.file.c_str(),
                 std::strerror(errno));
    rc = vrrpd::kExitFatal;
  } else {
    vrrpd::ParseOutcome o = vrrpd::parseConfigFile(a.file);
    report(out, o);
    if (a.dump) {
      if (o.ok()) std::fputs(vrrpd::dumpYaml(o.config).c_str(), stdout);
      rc = o.ok() ? vrrpd::kExitOk : vrrpd::kExitFatal;
    }
    if (a.configTest) rc = vrrpd::testExitCode(o);
  }
  if (out != stderr) std::fclose(out);
  return rc;
}



// Runs the daemon: parse (errors refuse to start), detach unless -n, open
// the sockets and netlink, then serve until TERM/INT. HUP reloads the file
// (Daemon::reload), USR1 writes /tmp/keepalived.data, USR2
// /tmp/keepalived.stats, as keepalived.
int run(const Args& a) {
  if (access(a.file.c_str(), R_OK) != 0) {
    std::fprintf(stderr, "vrrpd: cannot read configuration file '%s': %s\n", a.file.c_str(),
                 std::strerror(errno));
    return vrrpd::kExitFatal;
  }
  vrrpd::ParseOutcome o = vrrpd::parseConfigFile(a.file);
  report(stderr, o);
  if (!o.ok()) {
    std::fprintf(stderr, "vrrpd: configuration errors, not starting\n");
    return vrrpd::kExitFatal;
  }
  // The file is re-read from the same place after the daemon's chdir("/").
  std::string file = a.file;
  if (!file.empty() && file[0] != '/') {
    char cwd[4096];
    if (getcwd(cwd, sizeof cwd)) file = std::string(cwd) + "/" + file;
  }
  std::signal(SIGPIPE, SIG_IGN);
  common::Daemonizer daemonizer;
  if (!a.dontFork) {
    if (auto r = daemonizer.start(); !r) {
      std::fprintf(stderr, "vrrpd: cannot daemonize: %s\n", r.error().c_str());
      return vrrpd::kExitFatal;
    }
  }
  // The pidfile and the VRRP sockets are visible before the signal watchers
  // exist: hold the signals they handle so that an early HUP or TERM is
  // handled on the loop instead of killing vrrpd.
  common::SignalHold held({SIGTERM, SIGINT, SIGUSR1, SIGUSR2, SIGHUP});
  common::Loop loop;
  vrrpd::RunOptions opts;
  opts.logConsole = a.logConsole;
  opts.logDetail = a.logDetail;
  vrrpd::Daemon d(loop, std::move(o.config), opts);
  auto opened = d.open();
  if (!opened) {
    std::fprintf(stderr, "vrrpd: %s\n", opened.error().c_str());
    if (!a.dontFork) daemonizer.failed(opened.error());
    return vrrpd::kExitFatal;
  }
  for (const std::string& pf : {a.pidfile, a.vrrpPidfile}) {
    if (pf.empty()) continue;
    if (auto r = common::writePidfile(pf, getpid()); !r) {
      std::fprintf(stderr, "vrrpd: cannot write pidfile %s: %s\n", pf.c_str(), r.error().c_str());
      if (!a.dontFork) daemonizer.failed(r.error());
      return vrrpd::kExitFatal;
    }
  }
  common::SignalWatcher term(loop, SIGTERM, [&](int) { d.stop(); });
  common::SignalWatcher intr(loop, SIGINT, [&](int) { d.stop(); });
  common::SignalWatcher usr1(loop, SIGUSR1, [&](int) { d.writeData(); });
  common::SignalWatcher usr2(loop, SIGUSR2, [&](int) { d.writeStats(); });
  common::SignalWatcher hup(loop, SIGHUP, [&d, file](int) { d.reload(file); });
  d.start();
  held.release(); // a signal that came meanwhile is handled on the loop
  if (!a.dontFork) daemonizer.ready();
  loop.run();
  for (const std::string& pf : {a.pidfile, a.vrrpPidfile})
    if (!pf.empty()) common::removePidfile(pf);
  return vrrpd::kExitOk;
}

} // namespace

int main(int argc, char** argv) {
  Args a;
  if (int rc = parseArgs(argc, argv, a); rc >= 0) return rc;
  if (a.configTest || a.dump) return checkOrDump(a);
  return run(a);
}
