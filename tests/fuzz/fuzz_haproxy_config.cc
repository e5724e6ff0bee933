// libFuzzer target: the input is one haproxy.cfg file. parseConfig() must
// turn anything into diagnostics (it catches the lexer's ConfigError itself,
// so no exception may escape), and a configuration that parses must dump.
// Any crash, hang, leak, sanitizer report or escaping exception is a bug.
#include "proxyd/config.h"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::vector<proxyd::ConfigFile> files{
      {"fuzz.cfg", std::string(reinterpret_cast<const char*>(data), size)}};
  const proxyd::ParseOutcome out = proxyd::parseConfig(files);
  if (out.ok()) {
    const std::string yaml = proxyd::dumpYaml(out.config);
    if (yaml.empty()) {
      std::fprintf(stderr, "dumpYaml returned nothing for a valid configuration\n");
      std::abort();
    }
  }
  return 0;
}
