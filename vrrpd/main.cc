// vrrpd: the keepalived-compatible VRRP agent. A stub until its issue lands:
// it refuses to run rather than pretend to hold a virtual address.
#include <cstdio>
#include <cstring>

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "-v") || !std::strcmp(argv[i], "--version")) {
      std::puts("vrrpd 0.1 (not yet implemented)");
      return 0;
    }
  }
  std::fprintf(stderr, "vrrpd: not implemented yet; see the vrrpd issue\n");
  return 3; // keepalived's "cannot run"
}
