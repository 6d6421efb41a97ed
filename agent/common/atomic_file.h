// Replacing a small state file so that a crash at any point leaves either the
// old or the new content, never a torn file.
#pragma once

#include <string>

#include "common/result.h"

namespace bulkhead {

// Writes `data` to a temporary file next to `path`, fsyncs it, renames it over
// `path` and fsyncs the directory.
Status write_file_atomic(const std::string& path, const std::string& data, unsigned mode);

}  // namespace bulkhead
