#pragma once
// Reading the files a configuration names (errorfile, `return ... file`,
// ACL pattern files, keepalived includes): bounded and non-blocking, so that
// `errorfile 503 /dev/zero` or a FIFO is a clear error instead of exhausting
// memory or blocking the parser. Devices are read (HAProxy documents
// `errorfile ... /dev/null` for an empty answer); directories are refused.
#include <cstddef>
#include <string>

namespace common {

enum class ReadStatus { Ok, Truncated, OpenFailed, NotRegular, ReadFailed };

struct FileRead {
  ReadStatus status = ReadStatus::OpenFailed;
  std::string data; // at most `maxBytes` bytes
  int err = 0;      // errno for OpenFailed / ReadFailed
};

// Reads at most `maxBytes` bytes of the file at `path` (NotRegular: a directory). Truncated:
// the file is longer (data holds its first `maxBytes` bytes).
FileRead readRegularFile(const std::string& path, size_t maxBytes);

// A sentence for the failed statuses ("is not a regular file", strerror).
std::string describe(const FileRead& r);

} // namespace common
