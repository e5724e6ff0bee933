#include "common/file_read.h"

#include <catch2/catch.hpp>

#include <cstdio>
#include <fstream>
#include <string>
#include <unistd.h>

using namespace common;

TEST_CASE("readRegularFile reads small files whole and bounds endless ones", "[file]") {
  char path[] = "/tmp/proxyd-file-read-XXXXXX";
  int fd = mkstemp(path);
  REQUIRE(fd >= 0);
  ::close(fd);
  {
    std::ofstream out(path, std::ios::binary);
    out << "HTTP/1.0 503 x\r\n\r\n";
  }
  FileRead r = readRegularFile(path, 100);
  CHECK(r.status == ReadStatus::Ok);
  CHECK(r.data == "HTTP/1.0 503 x\r\n\r\n");
  r = readRegularFile(path, 4);
  CHECK(r.status == ReadStatus::Truncated);
  CHECK(r.data == "HTTP");
  std::remove(path);

  // An endless device stops at the bound instead of exhausting memory.
  r = readRegularFile("/dev/zero", 16384);
  CHECK(r.status == ReadStatus::Truncated);
  CHECK(r.data.size() == 16384);
  // /dev/null is an empty file (HAProxy's documented empty errorfile).
  r = readRegularFile("/dev/null", 16384);
  CHECK(r.status == ReadStatus::Ok);
  CHECK(r.data.empty());
  r = readRegularFile("/", 16384);
  CHECK(r.status == ReadStatus::NotRegular);
  CHECK(describe(r) == "is a directory");
  r = readRegularFile("/nonexistent/proxyd-test", 16384);
  CHECK(r.status == ReadStatus::OpenFailed);
  CHECK(describe(r) == "No such file or directory");
}
